"""/pause through the Slack adapter against the strict fake: a break set, shown (no modal for
the bare command), seen by another member without its reason, and ended."""

from __future__ import annotations

from datetime import date

from tests.slack.helpers import ANA, BEN, COMMUNITY, member, post_signed, reply_json, slash


async def test_pause_on_slack(http_adapter, fake, http, ids, repo):
    async def send(text: str, user: str = ANA, name: str = "ana", command: str = "pause"):
        form = slash(fake, ids, command, text, user=user, name=name)
        payload = await reply_json(await post_signed(http, http_adapter, form))
        await http_adapter.idle()
        return payload

    none = await send("")
    assert none["response_type"] == "ephemeral" and "not on a break" in none["text"]
    assert fake.calls_to("views.open") == []  # nothing required: no form

    set_ = await send('until:friday reason:"a week by the sea"')
    assert set_["response_type"] == "ephemeral"
    assert "You're paused until Fri" in set_["text"] and "a week by the sea" in set_["text"]
    (saved,) = await repo.pauses(COMMUNITY, member(ANA), date(2000, 1, 1))
    assert saved.reason == "a week by the sea"

    theirs = await send(f"<@{ANA}>", user=BEN, name="ben", command="stats")
    assert "On a break until Fri" in str(theirs) and "sea" not in str(theirs)

    bad = await send("until:someday")
    assert bad["response_type"] == "ephemeral" and "couldn't read `until:someday`" in bad["text"]

    off = await send("off")
    assert "Welcome back" in off["text"]
    assert "not on a break" in (await send(""))["text"]

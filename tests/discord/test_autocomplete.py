"""Autocomplete of IANA zones for /timezone (and /checkin zone)."""

from __future__ import annotations

from tests.discord.helpers import ANA, first_response
from tests.fakes.discord import FakeDiscord


async def complete(fake: FakeDiscord, typed: str, command: str = "timezone") -> list[dict]:
    payload = fake.autocomplete(command, "zone", typed, user_id=ANA)
    await fake.push(payload)
    call = await first_response(fake, payload)
    assert call.json["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    choices = call.json["data"]["choices"]
    assert len(choices) <= 25
    assert all(c["name"] == c["value"] for c in choices)
    return [c["value"] for c in choices]


async def test_zone_prefix(bot, fake: FakeDiscord):
    zones = await complete(fake, "Europe/Ber")
    assert zones[0] == "Europe/Berlin"
    assert all(z.lower().startswith("europe/ber") for z in zones)


async def test_city_name_in_any_case_with_spaces(bot, fake: FakeDiscord):
    assert (await complete(fake, "berlin"))[0] == "Europe/Berlin"
    assert (await complete(fake, "new york"))[0] == "America/New_York"


async def test_nothing_typed_offers_common_zones(bot, fake: FakeDiscord):
    zones = await complete(fake, "")
    assert "UTC" in zones and "Europe/London" in zones


async def test_many_matches_are_capped_and_nonsense_matches_nothing(bot, fake: FakeDiscord):
    assert len(await complete(fake, "America/")) == 25
    assert await complete(fake, "Atlantis/Nowhere") == []


async def test_checkin_zone_completes_too(bot, fake: FakeDiscord):
    assert (await complete(fake, "tokyo", command="checkin"))[0] == "Asia/Tokyo"

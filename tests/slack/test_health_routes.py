"""The health endpoints beside ``/slack/events`` in HTTP mode (unsigned, outside the guard),
while Slack's path demands its signature as before; and the adapter's readiness in both modes."""

from __future__ import annotations

from adapters.health import Health, database_check
from adapters.slack.app import SlackAdapter
from tests.slack.helpers import post_signed, reply_json, settings_for, slash


async def test_http_mode_serves_the_health_routes_unsigned_and_still_guards_slack(
        app, repo, fake, http, ids, sleeps):
    health = Health({"database": database_check(repo.ping)})
    adapter = SlackAdapter(app, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           sleep=sleeps, routes=health.routes)
    health.checks["slack"] = adapter.readiness
    assert await adapter.readiness() == "not listening for Slack's requests"
    await adapter.start()
    base = f"http://127.0.0.1:{adapter.http_port}"
    try:
        assert await adapter.readiness() is None
        async with http.get(f"{base}/healthz") as alive:
            assert alive.status == 200 and await alive.json() == {"status": "alive"}
        async with http.get(f"{base}/readyz") as ready:
            assert ready.status == 200
            assert (await ready.json())["checks"] == {"database": "ok", "slack": "ok"}
        form = slash(fake, ids, "rejected", "asked for a raise")
        async with http.post(f"{base}/slack/events", data=form) as unsigned:
            assert unsigned.status == 401  # the guard, as before
        async with http.post(f"{base}/slack/events", data=form,
                             headers={"X-Slack-Request-Timestamp": "1",
                                      "X-Slack-Signature": "v0=" + "0" * 64}) as forged:
            assert forged.status == 401
        payload = await reply_json(await post_signed(http, adapter, form))
        assert "asked for a raise" in payload["text"]
        async with http.post(f"{base}/healthz") as wrong:
            assert wrong.status == 405  # GET and HEAD only
    finally:
        await adapter.stop()
    assert await adapter.readiness() == "not listening for Slack's requests"


async def test_without_routes_http_mode_serves_only_slack(http_adapter, http):
    async with http.get(f"http://127.0.0.1:{http_adapter.http_port}/healthz") as response:
        assert response.status == 404


async def test_socket_mode_is_ready_while_its_websocket_is_up(app, fake, sleeps):
    adapter = SlackAdapter(app, settings_for(fake, "socket"), sleep=sleeps)
    assert await adapter.readiness() == "not connected to Slack"
    await adapter.start()
    try:
        await fake.wait_for_socket()
        assert await adapter.readiness() is None
    finally:
        await adapter.stop()
    assert await adapter.readiness() == "not connected to Slack"

"""The Discord adapter's readiness (``/readyz``): ready once the gateway said READY, not
before it starts nor after it stops."""

from __future__ import annotations


async def test_ready_while_the_gateway_is_connected(start_bot):
    adapter = await start_bot()
    assert await adapter.readiness() is None
    await adapter.stop()
    assert await adapter.readiness() == "not connected to Discord"

"""Where the bot is installed and the OAuth states on the way there, kept in the bot's own
database so that every process sees every install.

An installation is the platform's record as an opaque JSON-able dict, keyed by platform,
enterprise and team (an empty string for "none"). A state is issued with an expiry on the
repository's clock and consumed once: a second use, or a use after it expired, is refused.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from storage.db import Store, Tx
from storage.rows import ts


class InstallStore(Store):
    """Installations and OAuth states."""

    async def save_installation(self, platform: str, enterprise_id: str | None,
                                team_id: str | None, data: dict[str, Any],
                                at: datetime) -> None:
        """Records (or replaces) the installation of ``platform`` in that enterprise/team."""
        body = json.dumps(data, sort_keys=True)

        def unit(c: Tx) -> None:
            c.execute(
                "INSERT INTO installations (platform, enterprise_id, team_id, data, installed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, enterprise_id, team_id) "
                "DO UPDATE SET data = excluded.data, installed_at = excluded.installed_at",
                (platform, enterprise_id or "", team_id or "", body, ts(at)))
        await self._write(unit)

    async def find_installation(self, platform: str, enterprise_id: str | None,
                                team_id: str | None) -> dict[str, Any] | None:
        """The record saved for that enterprise/team, or None when the bot isn't installed."""
        def unit(c: Tx) -> str | None:
            row = c.execute(
                "SELECT data FROM installations WHERE platform = ? AND enterprise_id = ? "
                "AND team_id = ?", (platform, enterprise_id or "", team_id or "")).fetchone()
            return row[0] if row else None
        found = await self._read(unit)
        return json.loads(found) if found is not None else None

    async def delete_installation(self, platform: str, enterprise_id: str | None,
                                  team_id: str | None) -> bool:
        """Forgets that installation (its tokens with it); True when there was one."""
        def unit(c: Tx) -> bool:
            return c.execute(
                "DELETE FROM installations WHERE platform = ? AND enterprise_id = ? "
                "AND team_id = ?", (platform, enterprise_id or "", team_id or "")).rowcount > 0
        return bool(await self._write(unit))

    async def issue_state(self, state: str, at: datetime, ttl: timedelta) -> None:
        """Records a fresh OAuth state, good for ``ttl`` from now on the repository's clock
        (expired ones are cleared on the way)."""
        def unit(c: Tx) -> None:
            now = c.now(at)
            c.execute("DELETE FROM oauth_states WHERE expires_at <= ?", (ts(now),))
            c.execute("INSERT INTO oauth_states (state, expires_at) VALUES (?, ?)",
                      (state, ts(now + ttl)))
        await self._write(unit)

    async def consume_state(self, state: str, at: datetime) -> bool:
        """True once for a state issued and not yet expired; it can't be used again."""
        def unit(c: Tx) -> bool:
            row = c.execute("DELETE FROM oauth_states WHERE state = ? RETURNING expires_at",
                            (state,)).fetchone()
            return row is not None and row[0] > ts(c.now(at))
        return bool(await self._write(unit))

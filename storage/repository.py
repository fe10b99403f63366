"""The core's Repository, whole: its parts by concern, on whichever backend runs the units
(``storage.sqlite.SqliteRepository``, ``storage.postgres.PostgresRepository``)."""

from __future__ import annotations

from storage.attempts import AttemptStore
from storage.commitments import CommitmentStore
from storage.dares import DareStore
from storage.db import Tx
from storage.edits import EditStore
from storage.gateway import GatewayStore
from storage.installs import InstallStore
from storage.members import MemberStore
from storage.outbox import OutboxStore
from storage.pauses import PauseStore
from storage.privacy import PrivacyStore
from storage.reminds import RemindStore
from storage.schedules import ScheduleStore
from storage.seasons import SeasonStore


class Repository(AttemptStore, CommitmentStore, MemberStore, ScheduleStore, PrivacyStore,
                 OutboxStore, InstallStore, GatewayStore, PauseStore,
                 SeasonStore, DareStore, RemindStore, EditStore):
    """Every statement of the repository; a subclass says how a unit runs."""

    async def ping(self) -> None:
        """One real round trip through the backend (its thread, or a pooled connection)."""
        await self._read(_select_one)

    async def close(self) -> None:
        """Let the writes in flight finish, then close the database."""
        raise NotImplementedError


def _select_one(c: Tx) -> None:
    c.execute("SELECT 1").fetchone()

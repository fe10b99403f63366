"""/edit: a member's latest attempts, a page at a time, and changing one of them with every
count that depends on it kept in step (totals by outcome, the boards' no's, areas, the goal),
the change to its public posts queued in the same transaction."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Attempt,
    EditResult,
    EditStatus,
    EntryEdit,
    EntryPage,
    NewPost,
    News,
    Outcome,
    PostKind,
)
from storage import outbox as queue  # it reads edits from here: imported as a module
from storage.attempts import check_goal, once
from storage.counters import add_area, bump, celebrated, totals
from storage.db import Store, Tx
from storage.rows import attempt_row, ts

# How long the change may take to reach an entry's posts (a platform down for longer: the
# post keeps its old words, recorded as missed).
EDIT_WINDOW = timedelta(hours=24)
OPTIONAL = ("who", "lesson", "area", "fear")
T = TypeVar("T")


def edit_subject(attempt_id: int, at: datetime, channel_id: str) -> str:
    """The outbox subject of one edit's change to one channel's posts of an entry."""
    return f"{attempt_id}@{ts(at)}@{channel_id}"


def edited_attempt_id(subject: str) -> int:
    return int(subject.partition("@")[0])


def edited(c: Tx, subjects: list[str]) -> dict[tuple[str, str], News]:
    """What each claimed EDIT post shows, by (community, subject): the attempt as it is now,
    its member's name and its cheers. One undone (or forgotten) since is left out, and so is
    any later attempt that took its id (SQLite hands out a deleted top id again): that one was
    logged after the edit, or (at the same clock reading) was never edited."""
    found: dict[tuple[str, str], News] = {}
    wanted: dict[int, list[str]] = {}
    for subject in subjects:
        wanted.setdefault(edited_attempt_id(subject), []).append(subject)
    ids = list(wanted)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for r in c.execute(
                "SELECT a.*, m.display_name, (SELECT count(*) FROM cheers h WHERE "
                "h.attempt_id = a.id) AS cheer_count FROM attempts a JOIN members m ON "
                "m.community_id = a.community_id AND m.member_id = a.member_id "
                f"WHERE a.id IN ({','.join('?' * len(chunk))})", chunk):
            for subject in wanted[r["id"]]:
                # Logged by then, and edited: a later attempt that took the id at the very
                # instant (one clock reading for all) has never been edited.
                if r["created_at"] <= subject.split("@")[1] and r["edited_at"] is not None:
                    found[(r["community_id"], subject)] = News(attempt_row(r), r["display_name"],
                                                               r["cheer_count"])
    return found


def pick(c: Tx, community: str, member: str, attempt_id: int | None, position: int
         ) -> Attempt | None:
    """The member's attempt by id, or the ``position``-th latest (1: the latest)."""
    if attempt_id is not None:
        row = c.execute("SELECT * FROM attempts WHERE id = ? AND community_id = ? AND "
                        "member_id = ?", (attempt_id, community, member)).fetchone()
    else:
        row = c.execute("SELECT * FROM attempts WHERE community_id = ? AND member_id = ? "
                        "ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?",
                        (community, member, position - 1)).fetchone()
    return None if row is None else attempt_row(row)


def changed(old: Attempt, edit: EntryEdit) -> Attempt:
    """The attempt with the edit applied: each field given set, each one cleared emptied."""
    def value(given: T | None, name: str, current: T | None) -> T | None:
        return given if given is not None else None if name in edit.clear else current
    return replace(
        old, ask=edit.ask or old.ask, outcome=edit.outcome or old.outcome,
        private=old.private if edit.private is None else edit.private,
        who=value(edit.who, "who", old.who), lesson=value(edit.lesson, "lesson", old.lesson),
        area=value(edit.area, "area", old.area), fear=value(edit.fear, "fear", old.fear))


def on_post(a: Attempt) -> tuple[object, ...]:
    """What a channel's post of the attempt shows of it: its outcome, and its text unless
    private."""
    return a.outcome, a.private, None if a.private else a.ask


def apply_edit(c: Tx, community: CommunityRef, member: MemberRef, old: Attempt,
               edit: EntryEdit, at: datetime) -> EditResult:
    k, m = community.key, member.key
    new = changed(old, edit)
    if new == old:
        return EditResult(EditStatus.UNCHANGED, old, old, totals(c, k, m))
    row = c.execute("SELECT local_day, resolved_at FROM attempts WHERE id = ?",
                    (old.id,)).fetchone()
    resolved = row["resolved_at"]
    if new.outcome != old.outcome:
        resolved = None if new.outcome == Outcome.PENDING else (resolved or ts(at))
    c.execute("UPDATE attempts SET ask = ?, outcome = ?, who = ?, lesson = ?, area = ?, "
              "fear = ?, private = ?, resolved_at = ?, edited_at = ? WHERE id = ?",
              (new.ask, new.outcome, new.who, new.lesson, new.area, new.fear, int(new.private),
               resolved, ts(at), old.id))
    best = celebrated(c, k, m)
    goal = None
    if new.outcome != old.outcome:
        moved: Counter[str] = Counter({old.outcome: -1})
        moved[new.outcome] += 1
        bump(c, k, m, row["local_day"], 0, moved)
        if new.outcome == Outcome.REJECTED:
            goal = check_goal(c, k, m, at)
    if new.area != old.area:
        add_area(c, k, m, old.area, -1)
        add_area(c, k, m, new.area, 1)
    queued = 0
    if on_post(new) != on_post(old) and old.channel_id:
        # Its channel: where it was celebrated, or for a kept promise where the promise was
        # made, its news told there (``CommitmentStore.resolve_commitment``).
        queued = sum(queue.enqueue(c, [NewPost(
            community, PostKind.EDIT, edit_subject(old.id, at, old.channel_id), old.channel_id,
            at, at + EDIT_WINDOW)], at))
    return EditResult(EditStatus.DONE, old, replace(new, edited_at=at), totals(c, k, m), best,
                      goal, queued)


SHOWN = ("ask", "outcome", "who", "lesson", "area", "fear", "private")  # what a reply tells


def result_json(r: EditResult) -> list[object]:
    """What a retried request answers from: the status, the posts queued, and the entry as
    it was before (so the retry's reply names the same changes)."""
    before = {f: getattr(r.before, f) for f in SHOWN} if r.before is not None else None
    return [r.status, r.posts_queued, before]


def retried(first: list[Any], now: Attempt | None, c: Tx, community: str, member: str
            ) -> EditResult:
    """A retry's answer: the status and the change as the first time, the entry as it is now."""
    status, queued, fields = EditStatus(first[0]), int(first[1]), first[2]
    before = now
    if now is not None and isinstance(fields, dict):
        values = {f: fields[f] for f in SHOWN if f in fields}
        values["outcome"] = Outcome(values.get("outcome", now.outcome))
        before = replace(now, **values)
    return EditResult(status, before, now, totals(c, community, member), posts_queued=queued)


class EditStore(Store):
    """The /edit half of the repository."""

    async def entry_page(self, community: CommunityRef, member: MemberRef, limit: int,
                         offset: int) -> EntryPage:
        def unit(c: Tx) -> EntryPage:
            total = totals(c, community.key, member.key).attempts
            rows = c.execute("SELECT * FROM attempts WHERE community_id = ? AND member_id = ? "
                             "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                             (community.key, member.key, limit, offset)).fetchall()
            return EntryPage(tuple(attempt_row(r) for r in rows), total, offset)
        return await self._read(unit)

    async def entry(self, community: CommunityRef, member: MemberRef, attempt_id: int | None,
                    position: int = 1) -> Attempt | None:
        return await self._read(lambda c: pick(c, community.key, member.key, attempt_id,
                                               position))

    async def edit_attempt(self, community: CommunityRef, member: MemberRef,
                           attempt_id: int | None, position: int, edit: EntryEdit,
                           at: datetime, request_id: str | None = None) -> EditResult:
        """Change the member's attempt (by id, else the ``position``-th latest) in one
        transaction. A retried request (same id) changes nothing more."""
        def change(c: Tx) -> EditResult:
            old = pick(c, community.key, member.key, attempt_id, position)
            if old is None:
                return EditResult(EditStatus.NOT_FOUND)
            return apply_edit(c, community, member, old, edit, at)

        def answer(c: Tx) -> EditResult:
            # The first time the result itself; a retry the first one's JSON (a list).
            got: object = once(c, community, member, "edit", request_id, at,
                               lambda: change(c), result_json, lambda j: j)
            if isinstance(got, EditResult):
                return got
            now = pick(c, community.key, member.key, attempt_id, position)  # a retry
            assert isinstance(got, list)
            return retried(got, now, c, community.key, member.key)
        return await self._write(answer)

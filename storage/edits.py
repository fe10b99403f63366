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
    EDITABLE,
    Attempt,
    EditResult,
    EditStatus,
    EntryEdit,
    EntryPage,
    News,
    Outcome,
    Totals,
)
from storage.attempts import check_goal, member_lock, once, reopen_goal
from storage.counters import add_area, bump, celebrated, totals
from storage.db import Store, Tx
from storage.rows import attempt_row, ts

# How long the change may take to reach an entry's posts (a platform down for longer: the
# post keeps its old words, recorded as missed).
EDIT_WINDOW = timedelta(hours=24)
T = TypeVar("T")


def edit_subject(attempt_id: int, channel_id: str) -> str:
    """The outbox subject of the change to one channel's posts of an entry: one row per post,
    so no two tries of it are ever in flight at once (an older view landing last)."""
    return f"{attempt_id}@{channel_id}"


# An edit queues its post's change, or arms it again: a row sent or missed goes due; one due
# takes the new edit's time (its try shows the entry as it is then); one held by a try under
# way takes it too, and ``storage.outbox.finish`` runs it once more (that try may show the
# entry as it was).
REARM = """INSERT INTO outbox (community_id, kind, subject, target, due_at, deadline, state,
    next_try_at, created_at) VALUES (?, 'edit', ?, ?, ?, ?, 'due', ?, ?)
    ON CONFLICT (community_id, kind, subject) DO UPDATE SET
    due_at = excluded.due_at, deadline = excluded.deadline,
    state = CASE WHEN outbox.state IN ('sent', 'missed') THEN 'due' ELSE outbox.state END,
    next_try_at = CASE WHEN outbox.state IN ('sent', 'missed') THEN excluded.next_try_at
        ELSE outbox.next_try_at END,
    tries = CASE WHEN outbox.state IN ('sent', 'missed') THEN 0 ELSE outbox.tries END,
    reason = CASE WHEN outbox.state IN ('sent', 'missed') THEN NULL ELSE outbox.reason END,
    finished_at = CASE WHEN outbox.state IN ('sent', 'missed') THEN NULL
        ELSE outbox.finished_at END"""


def edited(c: Tx, community: str, subject: str, edited_at: datetime) -> News | None:
    """What an EDIT post shows: the attempt as it is now, its member's name and its cheers.
    None when it was undone (or forgotten) since, or when a later attempt took its id (SQLite
    hands out a deleted top id again): one logged after the edit, or never edited."""
    r = c.execute("SELECT a.*, m.display_name, (SELECT count(*) FROM cheers h WHERE "
                  "h.attempt_id = a.id) AS cheer_count FROM attempts a JOIN members m ON "
                  "m.community_id = a.community_id AND m.member_id = a.member_id "
                  "WHERE a.id = ? AND a.community_id = ?",
                  (int(subject.partition("@")[0]), community)).fetchone()
    if r is None or r["edited_at"] is None or r["created_at"] > ts(edited_at):
        return None
    return News(attempt_row(r), r["display_name"], r["cheer_count"])


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
    row = c.execute("SELECT local_day, resolved_at, resolved_in FROM attempts WHERE id = ?",
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
        elif old.outcome == Outcome.REJECTED:
            reopen_goal(c, k, m)
    if new.area != old.area:
        add_area(c, k, m, old.area, -1)
        add_area(c, k, m, new.area, 1)
    queued = 0
    if on_post(new) != on_post(old):
        # Its channels: where it was celebrated (for a kept promise, where the promise was
        # made: its news told there, ``CommitmentStore.resolve_commitment``), and where it was
        # heard back, if elsewhere.
        stamp = ts(at)
        for channel in dict.fromkeys(ch for ch in (old.channel_id, row["resolved_in"]) if ch):
            c.execute(REARM, (k, edit_subject(old.id, channel), channel, stamp,
                              ts(at + EDIT_WINDOW), stamp, stamp))
            queued += 1
    return EditResult(EditStatus.DONE, old, replace(new, edited_at=at), totals(c, k, m), best,
                      goal, queued)




def result_json(r: EditResult) -> list[object]:
    """What a retried request answers from: the status, the posts queued, the entry (its id,
    and as it was before), the counts celebrated before and the goal reached, so that the
    retry's reply is the first one's."""
    before = {f: getattr(r.before, f) for f in EDITABLE} if r.before is not None else None
    shown = r.celebrated
    return [r.status, r.posts_queued, before, r.before.id if r.before else None,
            [shown.attempts, shown.rejected, shown.accepted] if shown else None, r.goal_reached]


def retried(first: list[Any], c: Tx, community: str, member: str) -> EditResult:
    """A retry's answer: the first one's, with the entry and the totals as they are now."""
    status, queued, fields, attempt_id, shown, goal = [*first, None, None, None][:6]
    now = pick(c, community, member, attempt_id, 1) if attempt_id is not None else None
    before = now
    if now is not None and isinstance(fields, dict):
        values = {f: fields[f] for f in EDITABLE if f in fields}
        values["outcome"] = Outcome(values.get("outcome", now.outcome))
        before = replace(now, **values)
    return EditResult(EditStatus(status), before, now, totals(c, community, member),
                      Totals(*shown) if shown else None, goal, int(queued))


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

    async def edited_entry(self, community: CommunityRef, subject: str,
                           edited_at: datetime) -> News | None:
        return await self._read(lambda c: edited(c, community.key, subject, edited_at))

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
            c.lock(member_lock(community.key, member.key))  # one move of the counts at a time
            old = pick(c, community.key, member.key, attempt_id, position)
            if old is None:
                return EditResult(EditStatus.NOT_FOUND)
            if edit.seen is not None and edit.seen != old.version:
                return EditResult(EditStatus.STALE, old, old)
            return apply_edit(c, community, member, old, edit, at)

        def answer(c: Tx) -> EditResult:
            # The first time the result itself; a retry the first one's JSON (a list).
            got: object = once(c, community, member, "edit", request_id, at,
                               lambda: change(c), result_json, lambda j: j)
            if isinstance(got, EditResult):
                return got
            assert isinstance(got, list)  # a retry
            return retried(got, c, community.key, member.key)
        return await self._write(answer)

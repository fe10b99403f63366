-- Editing entries (/edit).
--
-- attempts.channel_id: the channel an ask was logged in (where its celebration was posted),
-- so that an edit can reach that post. Asks logged before this migration have none.
-- attempts.resolved_in: where a pending ask was resolved from /asks, when that is another
-- channel and the celebration of hearing back was posted there.
-- attempts.edited_at: when the member last changed the entry.
ALTER TABLE attempts ADD COLUMN channel_id TEXT COLLATE "C";
ALTER TABLE attempts ADD COLUMN resolved_in TEXT COLLATE "C";
ALTER TABLE attempts ADD COLUMN edited_at TEXT COLLATE "C";

-- members.best_*: the highest count of each kind a member's celebrations have shown, so that a
-- milestone is celebrated once: not again after an /undo or an /edit took the count down and
-- a later ask brought it back. Existing members have had theirs celebrated up to now.
ALTER TABLE members ADD COLUMN best_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN best_rejections INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN best_accepted INTEGER NOT NULL DEFAULT 0;
UPDATE members SET best_attempts = attempts_count, best_rejections = rejections_count,
    best_accepted = accepted_count;

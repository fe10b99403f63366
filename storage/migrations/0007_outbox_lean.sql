-- Fewer indexes to keep up on every queued, claimed and finished post: the expiry check walks
-- the due posts through outbox_ready (they are the waiting work, never the history), and a
-- community's latest check-in is found through the unique key (its subject is the local date).
DROP INDEX outbox_expiring;
DROP INDEX outbox_by_community;

-- A minute's check-ins read each community's open promises: by community first, so the read
-- costs what that community has, not what every community has.
CREATE INDEX commitments_by_community_due ON commitments (community_id, status, due_at);

-- Posts the bot stopped in the middle of (copied from the old claims) may have gone out:
-- say so, as the outbox now does for its own.
UPDATE outbox SET sent_since = due_at
WHERE state = 'missed' AND sent_since IS NULL
  AND reason = 'the bot stopped while posting it, so it may have gone out';

-- The outbox: one row per scheduled post (a community's check-in or recap on a local date, a
-- promise's follow-up DM), with its state machine: due -> claimed (a lease held by an owner)
-- -> sending -> sent, or missed with the reason. Leases lapse, so a process that dies mid-post
-- leaves its work to whichever process (itself, restarted) claims it next.
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY,
    community_id   TEXT NOT NULL,
    kind           TEXT NOT NULL,     -- checkin | recap | followup
    subject        TEXT NOT NULL,     -- 'YYYY-MM-DD' (local) for check-ins and recaps, the commitment id of a follow-up
    target         TEXT NOT NULL,     -- channel id, or the member id of a DM
    due_at         TEXT NOT NULL,
    deadline       TEXT NOT NULL,     -- it may go out until then, missed after
    state          TEXT NOT NULL,     -- due | claimed | sending | sent | missed
    owner          TEXT,              -- the process holding the lease
    lease_until    TEXT,
    next_try_at    TEXT NOT NULL,
    tries          INTEGER NOT NULL DEFAULT 0,
    try_at         TEXT,              -- when the latest try began
    sent_since     TEXT,              -- the earliest try that may have reached the platform
    reason         TEXT,              -- why the last try failed, or why it was missed
    message_id     TEXT,
    created_at     TEXT NOT NULL,
    finished_at    TEXT,
    UNIQUE (community_id, kind, subject)
);
-- Partial indexes: a post is in them only while it waits or is held, so the sent ones (nearly
-- all of them, in time) cost the claims nothing.
CREATE INDEX outbox_ready ON outbox (next_try_at) WHERE state = 'due';
CREATE INDEX outbox_expiring ON outbox (deadline) WHERE state = 'due';
CREATE INDEX outbox_held ON outbox (lease_until) WHERE state IN ('claimed', 'sending');
CREATE INDEX outbox_by_community ON outbox (community_id, kind, due_at);

-- What the claims said, kept as history: posted ones are sent; failed, skipped and ones left
-- claimed by a crash are missed (a crashed claim may have gone out: nobody can tell now).
INSERT INTO outbox (community_id, kind, subject, target, due_at, deadline, state, next_try_at,
                    tries, reason, created_at, finished_at)
SELECT community_id, kind, local_date, '', claimed_at, claimed_at,
       CASE status WHEN 'posted' THEN 'sent' ELSE 'missed' END, claimed_at,
       CASE status WHEN 'skipped' THEN 0 ELSE 1 END,
       CASE status
           WHEN 'posted' THEN NULL
           WHEN 'failed' THEN 'the platform refused it'
           WHEN 'skipped' THEN 'the bot was offline past the grace window'
           ELSE 'the bot stopped while posting it, so it may have gone out' END,
       claimed_at, COALESCE(finished_at, claimed_at)
FROM claims;

DROP TABLE claims;

-- Personal nudges (/remind): a member's own time and days for a DM asking whether they have
-- made today's ask, sent through the outbox only on days they haven't logged one yet.
--
-- remind_time: their local time of day, 'HH:MM'. days: the cron day list ('mon,wed,fri').
-- next_at: the next moment a nudge is due (UTC), moved on each time one is queued: what the
-- scheduler's tick reads every minute, along reminds_due.
-- queued_day and queued_from: the local day of the latest nudge queued and the moment it
-- began (UTC): an ask logged since then means no nudge is sent for it.
CREATE TABLE reminds (
    community_id   TEXT COLLATE "C" NOT NULL,
    member_id      TEXT COLLATE "C" NOT NULL,
    remind_time    TEXT COLLATE "C" NOT NULL,
    days           TEXT COLLATE "C" NOT NULL,
    next_at        TEXT COLLATE "C" NOT NULL,
    queued_day     TEXT COLLATE "C",
    queued_from    TEXT COLLATE "C",
    created_at     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (community_id, member_id)
);
CREATE INDEX reminds_due ON reminds (next_at);

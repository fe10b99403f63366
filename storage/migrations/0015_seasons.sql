-- Seasons: a stretch of asks an admin names and ends (by command, or at the end of its last
-- day in its zone), with champions read from the attempts made in it. At most one runs in a
-- community at a time (the partial unique index). The end of a season and its post in the
-- outbox are written in one transaction.
CREATE TABLE seasons (
    id             INTEGER PRIMARY KEY,
    community_id   TEXT NOT NULL,
    name           TEXT NOT NULL,
    end_date       TEXT NOT NULL,     -- its last day, 'YYYY-MM-DD' in its zone
    timezone       TEXT NOT NULL,     -- the community's zone when it started
    started_at     TEXT NOT NULL,
    ends_at        TEXT NOT NULL,     -- the end of its last day in its zone (UTC)
    ended_at       TEXT,              -- NULL while it runs
    channel_id     TEXT               -- where /season start ran
);
CREATE UNIQUE INDEX seasons_running ON seasons (community_id) WHERE ended_at IS NULL;
-- What the scheduler's tick reads every minute: only running seasons are in it.
CREATE INDEX seasons_due ON seasons (ends_at) WHERE ended_at IS NULL;
CREATE INDEX seasons_by_community ON seasons (community_id, started_at);

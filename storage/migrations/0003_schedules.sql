-- Check-in schedules, one per community, and claims that make each scheduled post happen once.

CREATE TABLE schedules (
    community_id   TEXT PRIMARY KEY,
    channel_id     TEXT NOT NULL,
    timezone       TEXT NOT NULL,
    local_time     TEXT NOT NULL,   -- 'HH:MM', in ``timezone``
    days           TEXT NOT NULL,   -- cron day_of_week, canonical: 'mon,wed,fri'
    recap_day      TEXT,            -- 'monday'..'sunday', NULL: no weekly recap
    enabled        INTEGER NOT NULL DEFAULT 1,
    updated_at     TEXT NOT NULL
);
CREATE INDEX schedules_by_update ON schedules (updated_at);

-- One row per scheduled occurrence (community + kind + local date). Inserting it is the claim:
-- whoever inserts first posts; a restart, a double fire or a second process finds it taken.
CREATE TABLE claims (
    community_id   TEXT NOT NULL,
    kind           TEXT NOT NULL,   -- checkin | recap
    local_date     TEXT NOT NULL,   -- 'YYYY-MM-DD' in the schedule's zone
    status         TEXT NOT NULL,   -- claimed | posted | failed | skipped
    claimed_at     TEXT NOT NULL,
    finished_at    TEXT,
    PRIMARY KEY (community_id, kind, local_date)
);

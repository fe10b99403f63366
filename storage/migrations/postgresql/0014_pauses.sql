-- Breaks (/pause): the days a member is away. Paused days hold their streaks, and promises
-- due while they are away are asked about once the break is over.
--
-- first_day and last_day: the member's own local days, both paused ('YYYY-MM-DD').
-- started_at and ends_at: the moments it runs between (UTC). ends_at is the start of the day
-- after last_day, or the moment the member ended it early with /pause off.
-- reason: the member's own note, shown to nobody else.
CREATE TABLE pauses (
    community_id   TEXT COLLATE "C" NOT NULL,
    member_id      TEXT COLLATE "C" NOT NULL,
    first_day      TEXT COLLATE "C" NOT NULL,
    last_day       TEXT COLLATE "C" NOT NULL,
    reason         TEXT COLLATE "C",
    started_at     TEXT COLLATE "C" NOT NULL,
    ends_at        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (community_id, member_id, first_day)
);

-- Streaks, goals, fair play and a leaderboard that stays fast at a million attempts.

-- Each attempt remembers the community-local day it was logged on (for period leaderboards).
ALTER TABLE attempts ADD COLUMN local_day TEXT;
UPDATE attempts SET local_day = substr(created_at, 1, 10);
CREATE INDEX attempts_by_member_time ON attempts (community_id, member_id, created_at);

-- Maintained aggregates: all-time counts per member, and per member per week and month.
ALTER TABLE members ADD COLUMN attempts_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN rejections_count INTEGER NOT NULL DEFAULT 0;
UPDATE members SET
    attempts_count = (SELECT COUNT(*) FROM attempts a
                      WHERE a.community_id = members.community_id AND a.member_id = members.member_id),
    rejections_count = (SELECT COUNT(*) FROM attempts a
                        WHERE a.community_id = members.community_id AND a.member_id = members.member_id
                        AND a.outcome = 'rejected');
CREATE INDEX members_by_attempts ON members (community_id, attempts_count DESC);
CREATE INDEX members_by_rejections ON members (community_id, rejections_count DESC);

-- Per member per week ('W' + the Monday) and per month ('M' + YYYY-MM), in community-local
-- days; indexed by count so a period's leaderboard walks the index like the all-time one.
CREATE TABLE member_periods (
    community_id   TEXT NOT NULL,
    period         TEXT NOT NULL,   -- 'W2026-11-23' or 'M2026-11'
    member_id      TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    rejections     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, period, member_id)
);
CREATE INDEX member_periods_by_attempts ON member_periods (community_id, period, attempts DESC);
CREATE INDEX member_periods_by_rejections ON member_periods (community_id, period, rejections DESC);
INSERT INTO member_periods (community_id, period, member_id, attempts, rejections)
    SELECT community_id, 'M' || substr(local_day, 1, 7), member_id, COUNT(*),
           SUM(CASE WHEN outcome = 'rejected' THEN 1 ELSE 0 END)
    FROM attempts GROUP BY community_id, substr(local_day, 1, 7), member_id;
INSERT INTO member_periods (community_id, period, member_id, attempts, rejections)
    SELECT community_id, 'W' || date(local_day, '-' || ((CAST(strftime('%w', local_day) AS INTEGER) + 6) % 7) || ' days'),
           member_id, COUNT(*), SUM(CASE WHEN outcome = 'rejected' THEN 1 ELSE 0 END)
    FROM attempts
    GROUP BY community_id, date(local_day, '-' || ((CAST(strftime('%w', local_day) AS INTEGER) + 6) % 7) || ' days'), member_id;

CREATE TABLE goals (
    community_id   TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    target         INTEGER NOT NULL CHECK (target > 0),
    by_date        TEXT,            -- 'YYYY-MM-DD', optional
    set_at         TEXT NOT NULL,
    reached_at     TEXT,
    PRIMARY KEY (community_id, member_id)
);

-- What a member's commands read, kept in step with their attempts, so that no command reads a
-- member's whole history: /rejected and /stats cost the same for a member with ten thousand
-- entries as for one with ten.
--
-- members: the count of each outcome beside the all-time total and no's (pending ones turn
-- into no's or yeses when resolved).
ALTER TABLE members ADD COLUMN accepted_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN pending_count INTEGER NOT NULL DEFAULT 0;
UPDATE members SET
    accepted_count = (SELECT COUNT(*) FROM attempts a WHERE a.community_id = members.community_id
                      AND a.member_id = members.member_id AND a.outcome = 'accepted'),
    pending_count = (SELECT COUNT(*) FROM attempts a WHERE a.community_id = members.community_id
                     AND a.member_id = members.member_id AND a.outcome = 'pending');

-- attempts.member_day: the day the attempt was made on in the member's own zone at the time
-- (a day asked on stays that day, whatever zone the member moves to later). Existing attempts
-- get their community day here, the member's day for everyone without a zone of their own,
-- and those of members with a zone of their own are put on their days in it just after, in
-- Python (storage/migrate.py, AFTER).
ALTER TABLE attempts ADD COLUMN member_day TEXT;
UPDATE attempts SET member_day = local_day;

-- member_days: how many attempts a member made on each of their days (the streaks, the stats
-- card's weeks, today's and this week's counts): at most one row a day.
CREATE TABLE member_days (
    community_id   TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    day            TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    PRIMARY KEY (community_id, member_id, day)
);
INSERT INTO member_days (community_id, member_id, day, attempts)
    SELECT community_id, member_id, member_day, COUNT(*) FROM attempts
    WHERE member_day IS NOT NULL GROUP BY community_id, member_id, member_day;

-- member_areas: attempts per area, for /stats's top areas.
CREATE TABLE member_areas (
    community_id   TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    area           TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    PRIMARY KEY (community_id, member_id, area)
);
INSERT INTO member_areas (community_id, member_id, area, attempts)
    SELECT community_id, member_id, area, COUNT(*) FROM attempts
    WHERE area IS NOT NULL GROUP BY community_id, member_id, area;

-- cheers.owner_id: whose attempt was cheered, so that the cheers a member received are
-- counted off an index of their own.
ALTER TABLE cheers ADD COLUMN owner_id TEXT;
UPDATE cheers SET owner_id = (SELECT member_id FROM attempts a WHERE a.id = cheers.attempt_id);
CREATE INDEX cheers_by_owner ON cheers (community_id, owner_id);

-- A member's no's since a date (a goal's progress) off one range of an index: the time added
-- to the old index by member and outcome.
DROP INDEX attempts_by_member;
CREATE INDEX attempts_by_member_outcome ON attempts (community_id, member_id, outcome, created_at);

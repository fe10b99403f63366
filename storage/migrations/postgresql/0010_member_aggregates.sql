-- The same as 0010_member_aggregates.sql (see there why), with text compared byte by byte as
-- SQLite does.
ALTER TABLE members ADD COLUMN accepted_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN pending_count INTEGER NOT NULL DEFAULT 0;
UPDATE members m SET accepted_count = a.accepted, pending_count = a.pending FROM (
    SELECT community_id, member_id,
           SUM(CASE WHEN outcome = 'accepted' THEN 1 ELSE 0 END) AS accepted,
           SUM(CASE WHEN outcome = 'pending' THEN 1 ELSE 0 END) AS pending
    FROM attempts GROUP BY community_id, member_id) a
WHERE m.community_id = a.community_id AND m.member_id = a.member_id;

ALTER TABLE attempts ADD COLUMN member_day TEXT COLLATE "C";
UPDATE attempts SET member_day = local_day;

CREATE TABLE member_days (
    community_id   TEXT COLLATE "C" NOT NULL,
    member_id      TEXT COLLATE "C" NOT NULL,
    day            TEXT COLLATE "C" NOT NULL,
    attempts       INTEGER NOT NULL,
    PRIMARY KEY (community_id, member_id, day)
);
INSERT INTO member_days (community_id, member_id, day, attempts)
    SELECT community_id, member_id, member_day, COUNT(*) FROM attempts
    WHERE member_day IS NOT NULL GROUP BY community_id, member_id, member_day;

CREATE TABLE member_areas (
    community_id   TEXT COLLATE "C" NOT NULL,
    member_id      TEXT COLLATE "C" NOT NULL,
    area           TEXT COLLATE "C" NOT NULL,
    attempts       INTEGER NOT NULL,
    PRIMARY KEY (community_id, member_id, area)
);
INSERT INTO member_areas (community_id, member_id, area, attempts)
    SELECT community_id, member_id, area, COUNT(*) FROM attempts
    WHERE area IS NOT NULL GROUP BY community_id, member_id, area;

ALTER TABLE cheers ADD COLUMN owner_id TEXT COLLATE "C";
UPDATE cheers SET owner_id = a.member_id FROM attempts a WHERE a.id = cheers.attempt_id;
CREATE INDEX cheers_by_owner ON cheers (community_id, owner_id);

DROP INDEX attempts_by_member;
CREATE INDEX attempts_by_member_outcome ON attempts (community_id, member_id, outcome, created_at);

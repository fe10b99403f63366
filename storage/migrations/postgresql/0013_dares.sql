-- Dares (/dare): each community's own dares, each member's last dare, and today's dare in
-- the check-in.
--
-- dares: the dares a community's admins added to the deck. number: its number in /dare list,
-- kept when others are removed. folded: the text as compared for duplicates (case and spacing
-- folded, the end's punctuation dropped).
CREATE TABLE dares (
    community_id   TEXT COLLATE "C" NOT NULL,
    number         INTEGER NOT NULL,
    text           TEXT COLLATE "C" NOT NULL,
    folded         TEXT COLLATE "C" NOT NULL,
    area           TEXT COLLATE "C" NOT NULL,
    level          TEXT COLLATE "C" NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (community_id, number)
);
CREATE UNIQUE INDEX dares_by_text ON dares (community_id, folded);

-- member_dares: the last dare each member was given (never the same one twice in a row).
-- seq counts the member's dares: the "I'll do it" button names it, so that pressing twice
-- makes one promise.
CREATE TABLE member_dares (
    community_id   TEXT COLLATE "C" NOT NULL,
    member_id      TEXT COLLATE "C" NOT NULL,
    seq            INTEGER NOT NULL,
    text           TEXT COLLATE "C" NOT NULL,
    drawn_at       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (community_id, member_id)
);

-- schedules.dare: 1 when the daily check-in carries today's dare (/checkin set dare:on).
ALTER TABLE schedules ADD COLUMN dare INTEGER NOT NULL DEFAULT 0;

-- Who's Next: the first schema. Timestamps are UTC ISO-8601 text ('YYYY-MM-DDTHH:MM:SS.ffffffZ'),
-- ids are text carrying their platform ('slack:T123', 'discord:456').

CREATE TABLE members (
    community_id   TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    timezone       TEXT,
    reminders      INTEGER NOT NULL DEFAULT 1,
    -- rejections ever logged, never decremented: varies the reflection prompts
    rejection_seq  INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (community_id, member_id)
);
CREATE INDEX members_by_name ON members (community_id, display_name);

CREATE TABLE attempts (
    id             INTEGER PRIMARY KEY,
    community_id   TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('rejected', 'accepted', 'pending')),
    ask            TEXT NOT NULL,
    who            TEXT,
    area           TEXT,
    fear           INTEGER CHECK (fear IS NULL OR fear BETWEEN 0 AND 10),
    lesson         TEXT,
    private        INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    resolved_at    TEXT,
    commitment_id  INTEGER,
    request_id     TEXT UNIQUE,
    FOREIGN KEY (community_id, member_id) REFERENCES members (community_id, member_id)
);
CREATE INDEX attempts_by_member ON attempts (community_id, member_id, outcome);
CREATE INDEX attempts_by_time ON attempts (community_id, created_at);

CREATE TABLE commitments (
    id             INTEGER PRIMARY KEY,
    community_id   TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    ask            TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'skipped')),
    closed_at      TEXT,
    followed_up_at TEXT,
    request_id     TEXT UNIQUE,
    FOREIGN KEY (community_id, member_id) REFERENCES members (community_id, member_id)
);
CREATE INDEX commitments_by_member ON commitments (community_id, member_id, status);
CREATE INDEX commitments_by_due ON commitments (status, due_at);

CREATE TABLE cheers (
    attempt_id     INTEGER NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    community_id   TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (attempt_id, member_id)
);
CREATE INDEX cheers_by_member ON cheers (community_id, member_id);

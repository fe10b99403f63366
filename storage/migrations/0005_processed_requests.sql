-- Answers to requests that are not idempotent by themselves (/undo, a Cheer press), kept a day
-- by the platform's request id, so a retried request gets the same answer and changes nothing.
CREATE TABLE processed_requests (
    key            TEXT PRIMARY KEY,  -- community key / kind / the platform's request id
    community_id   TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    result         TEXT NOT NULL,     -- JSON
    created_at     TEXT NOT NULL
);
CREATE INDEX processed_requests_by_time ON processed_requests (created_at);
CREATE INDEX processed_requests_by_member ON processed_requests (community_id, member_id);

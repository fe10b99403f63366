-- A small key-value table for adapter settings that must survive restarts (for example the
-- hash of the Discord command catalogue last synced, so restarts never re-sync needlessly).

CREATE TABLE kv (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

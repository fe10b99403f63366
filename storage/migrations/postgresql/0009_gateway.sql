-- The same tables as 0009_gateway.sql, with text compared byte by byte as SQLite does.
CREATE TABLE identify_slots (
    bucket     TEXT COLLATE "C" PRIMARY KEY,
    slot_at    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE sync_claims (
    key          TEXT COLLATE "C" PRIMARY KEY,
    digest       TEXT COLLATE "C" NOT NULL,
    owner        TEXT COLLATE "C" NOT NULL,
    lease_until  TEXT COLLATE "C" NOT NULL
);

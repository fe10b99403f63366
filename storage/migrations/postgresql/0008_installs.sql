-- The same tables as 0008_installs.sql, with text compared byte by byte as SQLite does.
CREATE TABLE installations (
    platform       TEXT COLLATE "C" NOT NULL,
    enterprise_id  TEXT COLLATE "C" NOT NULL,
    team_id        TEXT COLLATE "C" NOT NULL,
    data           TEXT COLLATE "C" NOT NULL,
    installed_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (platform, enterprise_id, team_id)
);

CREATE TABLE oauth_states (
    state          TEXT COLLATE "C" PRIMARY KEY,
    expires_at     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at);

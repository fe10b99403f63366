-- Where the bot is installed (a Slack workspace, by its enterprise and team), so that every
-- process sees every install: the platform's installation record as JSON, opaque to storage.
-- An empty string stands for no enterprise (or no team, for an org-wide install).
CREATE TABLE installations (
    platform       TEXT NOT NULL,
    enterprise_id  TEXT NOT NULL,
    team_id        TEXT NOT NULL,
    data           TEXT NOT NULL,
    installed_at   TEXT NOT NULL,
    PRIMARY KEY (platform, enterprise_id, team_id)
);

-- The OAuth states handed out on the way to an install: each is used once, before it expires.
CREATE TABLE oauth_states (
    state          TEXT PRIMARY KEY,
    expires_at     TEXT NOT NULL
);
CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at);

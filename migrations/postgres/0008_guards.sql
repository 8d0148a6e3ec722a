-- Fixed-window counters every instance shares (messages, imports, Garmin logins, API calls, LLM
-- tokens): one row per bucket and window, purged once the window has ended.
CREATE TABLE rate_windows (
    bucket        TEXT NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    window_end    TIMESTAMPTZ NOT NULL,
    hits          BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_windows_end ON rate_windows(window_end);

-- HTTP API keys made by the operator: a name and the SHA-256 of the secret (shown once).
CREATE TABLE api_keys (
    name           TEXT PRIMARY KEY,
    secret_sha256  TEXT NOT NULL UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ
);

-- The coaching agent's memory and guard rails.
-- Running summary of a conversation: the messages up to `summary_upto` are folded into `summary`.
ALTER TABLE conversations ADD COLUMN summary_upto INTEGER;

-- How the runner says they feel (the coach's `log_feeling` tool): part of their data.
CREATE TABLE wellness_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    feeling     TEXT NOT NULL,
    note        TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX wellness_log_user ON wellness_log(user_id, id);

-- LLM tokens spent per runner and UTC day: the daily budget holds across instances.
CREATE TABLE llm_usage (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day      TEXT NOT NULL,
    tokens   INTEGER NOT NULL,
    calls    INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);

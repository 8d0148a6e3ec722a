-- When a runner last wrote to the coach (any platform; updated at most once a day), and the
-- warning sent before an inactive runner's data is erased (RUNCOACH_RETAIN_INACTIVE_MONTHS, off by
-- default; docs/privacy.md).
ALTER TABLE users ADD COLUMN last_seen_at TEXT;

CREATE TABLE inactivity_notices (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    warned_at  TEXT NOT NULL,
    erase_on   TEXT NOT NULL
);

-- Sessions pushed to a runner's Garmin Connect calendar: which Garmin workout (and calendar
-- entry) holds the session of each day, and a fingerprint of what was sent, so a second push
-- creates nothing twice and a changed session updates its workout.
CREATE TABLE garmin_workouts (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_date  TEXT NOT NULL,
    workout_id    TEXT NOT NULL,
    schedule_id   TEXT,
    fingerprint   TEXT NOT NULL,
    pushed_at     TEXT NOT NULL,
    PRIMARY KEY (user_id, session_date)
);

-- A runner's choice to push after every plan change (/watch auto on).
CREATE TABLE watch_settings (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    auto_push   INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL
);

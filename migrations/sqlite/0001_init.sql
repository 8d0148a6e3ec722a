-- runcoach schema, SQLite backend. Timestamps are RFC 3339 text (sqlx's chrono encoding),
-- JSON columns are text. Every table holding a runner's data carries user_id so that export and
-- erase can reach it directly.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    display_name  TEXT,
    language      TEXT NOT NULL DEFAULT 'en',
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    units         TEXT NOT NULL DEFAULT 'metric',
    birth_year    INTEGER,
    sex           TEXT,
    weight_kg     REAL,
    height_cm     REAL,
    resting_hr    INTEGER,
    max_hr        INTEGER,
    vma_kmh       REAL,
    vo2max        REAL,
    hr_zones      TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE identities (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    platform          TEXT NOT NULL,
    platform_user_id  TEXT NOT NULL,
    username          TEXT,
    created_at        TEXT NOT NULL,
    UNIQUE (platform, platform_user_id)
);
CREATE INDEX identities_user ON identities(user_id);

CREATE TABLE link_codes (
    code        TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  TEXT NOT NULL
);

CREATE TABLE credentials (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    secret      BLOB NOT NULL,
    meta        TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, provider)
);

CREATE TABLE activities (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source             TEXT NOT NULL,
    external_id        TEXT,
    sport              TEXT NOT NULL,
    name               TEXT,
    start_time         TEXT NOT NULL,
    utc_offset_s       INTEGER NOT NULL DEFAULT 0,
    duration_s         REAL NOT NULL,
    moving_s           REAL,
    distance_m         REAL,
    elevation_gain_m   REAL,
    elevation_loss_m   REAL,
    avg_hr             REAL,
    max_hr             REAL,
    avg_cadence        REAL,
    max_cadence        REAL,
    avg_speed_mps      REAL,
    max_speed_mps      REAL,
    calories           REAL,
    training_load      REAL,
    aerobic_te         REAL,
    anaerobic_te       REAL,
    vo2max             REAL,
    hr_zones_s         TEXT,
    best_efforts       TEXT,
    device             TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (user_id, source, external_id)
);
CREATE INDEX activities_user_start ON activities(user_id, start_time);

CREATE TABLE laps (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id  INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    lap_index    INTEGER NOT NULL,
    start_time   TEXT NOT NULL,
    duration_s   REAL NOT NULL,
    distance_m   REAL,
    avg_hr       REAL,
    max_hr       REAL,
    avg_cadence  REAL,
    avg_speed_mps REAL,
    intensity    TEXT,
    UNIQUE (activity_id, lap_index)
);
CREATE INDEX laps_user ON laps(user_id);

-- One row per activity: the whole time series, column-packed (see store::samples).
CREATE TABLE samples (
    activity_id  INTEGER PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    format       INTEGER NOT NULL,
    point_count  INTEGER NOT NULL,
    data         BLOB NOT NULL
);
CREATE INDEX samples_user ON samples(user_id);

CREATE TABLE goals (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    target_date    TEXT,
    target_time_s  REAL,
    note           TEXT,
    status         TEXT NOT NULL DEFAULT 'active',
    created_at     TEXT NOT NULL
);
CREATE INDEX goals_user ON goals(user_id);

CREATE TABLE plans (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    goal_id            INTEGER REFERENCES goals(id) ON DELETE SET NULL,
    goal               TEXT NOT NULL,
    level              TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'active',
    start_date         TEXT NOT NULL,
    end_date           TEXT NOT NULL,
    race_date          TEXT,
    sessions_per_week  INTEGER NOT NULL,
    vdot               REAL,
    request            TEXT NOT NULL,
    plan               TEXT NOT NULL,
    created_at         TEXT NOT NULL
);
CREATE INDEX plans_user ON plans(user_id, status);

CREATE TABLE planned_workouts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id         INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    week_index      INTEGER NOT NULL,
    date            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    duration_min    REAL NOT NULL,
    distance_km     REAL,
    pace_min_s      REAL,
    pace_max_s      REAL,
    hr_zone         INTEGER,
    description_fr  TEXT NOT NULL,
    description_en  TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'planned'
                    CHECK (status IN ('planned', 'done', 'skipped', 'moved')),
    moved_to        TEXT,
    activity_id     INTEGER REFERENCES activities(id) ON DELETE SET NULL
);
CREATE INDEX planned_workouts_user_date ON planned_workouts(user_id, date);

CREATE TABLE conversations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    summary     TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (user_id, platform, chat_id)
);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content          TEXT NOT NULL,
    rating           INTEGER,
    created_at       TEXT NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
CREATE INDEX messages_user ON messages(user_id);

CREATE TABLE dialogue_states (
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id, user_id)
);
CREATE INDEX dialogue_states_user ON dialogue_states(user_id);

-- What to push where: a runner's weekly summary (user_id set) or a club digest (user_id null).
CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    platform     TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    guild_id     TEXT,
    cron         TEXT NOT NULL,
    timezone     TEXT NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    paused_reason TEXT,
    last_run_at  TEXT,
    next_run_at  TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (kind, platform, chat_id)
);
CREATE INDEX schedules_user ON schedules(user_id);

CREATE TABLE club_members (
    guild_id          TEXT NOT NULL,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    leaderboard_opt_in INTEGER NOT NULL DEFAULT 0,
    joined_at         TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX club_members_user ON club_members(user_id);

-- Outbox and job queue: dedupe_key makes enqueueing the same work twice a no-op.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    dedupe_key    TEXT NOT NULL UNIQUE,
    user_id       INTEGER REFERENCES users(id) ON DELETE CASCADE,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'done', 'failed', 'paused')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_at        TEXT NOT NULL,
    locked_by     TEXT,
    locked_until  TEXT,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs(status, run_at);
CREATE INDEX jobs_user ON jobs(user_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX audit_log_user ON audit_log(user_id);

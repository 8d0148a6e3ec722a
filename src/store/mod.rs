//! The shared session store: one trait, one backend module per database (atuin's layout).
//!
//! Both backends run the same SQL text (written in the dialect SQLite and PostgreSQL share, see
//! `sql.rs`); each backend module owns its connection set-up, its migrations and the few statements
//! that differ (job claiming, schema introspection, JSON export).

mod postgres;
mod sql;
mod sqlite;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use crate::domain::activity::{NewActivity, NewLap};
pub use crate::domain::samples::{self, SampleSeries, SamplesError};
pub use postgres::{PostgresStore, create_database};
pub use sqlite::SqliteStore;

use crate::domain::{Location, Platform, PlatformIdentity, Profile, TimeZoneName, Units, User, UserId};
use crate::error::ErrorCode;
use crate::i18n::Lang;
use crate::message::ChatKey;

/// Tables that hold a runner's data, each with a `user_id` column: export reads them, erase empties
/// them, link merges them. A store test checks this list against the live schema.
pub const USER_TABLES: &[&str] = &[
    "identities",
    "inactivity_notices",
    "link_codes",
    "credentials",
    "activities",
    "laps",
    "samples",
    "goals",
    "plans",
    "planned_workouts",
    "conversations",
    "messages",
    "dialogue_states",
    "schedules",
    "club_members",
    "jobs",
    "audit_log",
    "wellness_log",
    "llm_usage",
    "garmin_workouts",
    "watch_settings",
];

/// Tables that hold no runner's data (no `user_id`): export, erase and link leave them alone.
/// `rate_windows` holds counters keyed by a runner's id for at most a day (gone when the window
/// ends); `api_keys` belongs to the operator; `weather_forecasts` is keyed by a ~1 km area.
pub const GLOBAL_TABLES: &[&str] =
    &["kb_embeddings", "provider_pauses", "rate_windows", "api_keys", "weather_forecasts"];

/// Why a store call failed. A failure the database reported keeps sqlx's error as its source
/// (`std::error::Error::source`), so logs show the whole chain; the message alone is what a
/// variant prints.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(#[source] DbDetail),
    #[error("database busy: {0}")]
    Busy(#[source] DbDetail),
    /// The disk (or the database's quota) is full: nothing was written.
    #[error("database storage full: {0}")]
    Full(#[source] DbDetail),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(#[source] DbDetail),
    #[error("data dir: {0}")]
    DataDir(String),
    #[error("migration failed: {0}")]
    Migrate(#[source] DbDetail),
    #[error("stored data is invalid: {0}")]
    Corrupt(#[source] DbDetail),
    /// A value could not be encoded for storage (not the database's doing).
    #[error("cannot encode for storage: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("database error: {0}")]
    Other(#[source] DbDetail),
}

/// What the database (or the store's own check) said, with the error it came from when there is
/// one.
#[derive(Debug)]
pub struct DbDetail {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DbDetail {
    /// A message from the store itself (a check, a limit), with no error underneath.
    #[must_use]
    pub fn message(message: impl Into<String>) -> Self {
        DbDetail { message: message.into(), source: None }
    }

    /// `message`, caused by `source`.
    pub fn from_error(message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        DbDetail { message: message.into(), source: Some(Box::new(source)) }
    }

    /// An error's own message, keeping the error as the cause.
    pub fn caused_by(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        DbDetail { message: source.to_string(), source: Some(Box::new(source)) }
    }
}

impl std::fmt::Display for DbDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbDetail {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<String> for DbDetail {
    fn from(message: String) -> Self {
        DbDetail::message(message)
    }
}

impl From<&str> for DbDetail {
    fn from(message: &str) -> Self {
        DbDetail::message(message)
    }
}

impl StoreError {
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Unavailable(_) | StoreError::DataDir(_) | StoreError::Migrate(_) => ErrorCode::StoreUnavailable,
            StoreError::Busy(_) => ErrorCode::StoreBusy,
            StoreError::Full(_) => ErrorCode::StoreFull,
            StoreError::NotFound => ErrorCode::UserNotFound,
            StoreError::Conflict(_) | StoreError::Corrupt(_) | StoreError::Encode(_) | StoreError::Other(_) => {
                ErrorCode::Internal
            }
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let (kind, message): (fn(DbDetail) -> StoreError, String) = match &e {
            sqlx::Error::RowNotFound => return StoreError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                (StoreError::Unavailable, e.to_string())
            }
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED (and extended codes), 8 read-only, 13 full.
                // PostgreSQL: 57P01-03 admin shutdown / cannot connect now, 40001 serialization,
                // 53100 disk full, 53xxx other resources.
                let busy = matches!(code.as_ref(), "5" | "6" | "517" | "262" | "40001" | "40P01" | "55P03");
                let full = matches!(code.as_ref(), "13" | "53100");
                // SQLite's SQLITE_IOERR family (10 and its extended codes): the disk failed a read or write.
                let io_error = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
                    && code.parse::<i32>().is_ok_and(|c| c & 0xff == 10);
                let down = io_error
                    || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "8" | "14")
                    || code.starts_with("08")
                    || code.starts_with("53");
                let kind: fn(DbDetail) -> StoreError = if busy {
                    StoreError::Busy
                } else if full {
                    StoreError::Full
                } else if down {
                    StoreError::Unavailable
                } else if db.is_unique_violation() {
                    StoreError::Conflict
                } else {
                    StoreError::Other
                };
                (kind, db.message().to_owned())
            }
            sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => (StoreError::Corrupt, e.to_string()),
            sqlx::Error::Migrate(m) => (StoreError::Migrate, m.to_string()),
            _ => (StoreError::Other, e.to_string()),
        };
        kind(DbDetail::from_error(message, e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Activities per transaction in [`ActivityStore::insert_activities`]: one commit for a few
/// hundred rows instead of one each, and a short hold on SQLite's write lock.
pub const INSERT_BATCH: usize = 200;

/// Profile changes: `Some(v)` sets a field; fields left `None` are kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileUpdate {
    pub profile: Profile,
    pub timezone: Option<TimeZoneName>,
    pub units: Option<Units>,
}

/// A linked platform identity as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdentityRecord {
    pub platform: Platform,
    pub platform_user_id: String,
    pub username: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The outcome of resolving a platform identity.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub user: User,
    pub created: bool,
}

/// What redeeming a link code did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkOutcome {
    /// The runner that remains (the one who issued the code).
    pub kept: UserId,
    /// The runner whose identities and data moved into `kept`, now deleted.
    pub merged: UserId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("unknown link code")]
    Invalid,
    #[error("expired link code")]
    Expired,
    #[error("already the same runner")]
    SameUser,
}

/// A stored activity (summary columns; laps and samples are read separately).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActivityRecord {
    pub id: i64,
    pub source: String,
    pub external_id: Option<String>,
    pub sport: crate::science::ActivityKind,
    pub name: Option<String>,
    pub start_time: DateTime<Utc>,
    pub utc_offset_s: i32,
    pub duration_s: f64,
    pub moving_s: Option<f64>,
    pub distance_m: Option<f64>,
    pub elevation_gain_m: Option<f64>,
    pub avg_hr: Option<f64>,
    pub max_hr: Option<f64>,
    pub avg_cadence: Option<f64>,
    pub training_load: Option<f64>,
    pub vo2max: Option<f64>,
    pub hr_zones_s: Option<Vec<f64>>,
    pub best_efforts: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted(i64),
    /// Already stored (same source and external id, or same start, duration and distance).
    Duplicate(i64),
}

/// A goal to store: what it aims at and by when, as the runner set it (checked by `goal::new`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewGoal {
    pub spec: crate::goal::GoalSpec,
    pub note: Option<String>,
}

/// A goal's state, as the `goals.status` column holds it. Past goals are kept (the history).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoalStatus {
    Active,
    /// Its deadline passed.
    Expired,
    /// The runner took it off their list.
    Removed,
}

impl GoalStatus {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            GoalStatus::Active => "active",
            GoalStatus::Expired => "expired",
            GoalStatus::Removed => "removed",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<GoalStatus> {
        [GoalStatus::Active, GoalStatus::Expired, GoalStatus::Removed].into_iter().find(|g| g.as_str() == s)
    }
}

/// A stored goal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GoalRecord {
    pub id: i64,
    pub spec: crate::goal::GoalSpec,
    pub status: GoalStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewPlannedWorkout {
    pub week_index: i32,
    pub date: NaiveDate,
    pub kind: String,
    pub duration_min: f64,
    pub distance_km: Option<f64>,
    pub pace_min_s: Option<f64>,
    pub pace_max_s: Option<f64>,
    pub hr_zone: Option<i32>,
    pub description_fr: String,
    pub description_en: String,
    #[serde(default)]
    pub status: WorkoutRowStatus,
}

/// A planned workout's state, as the `planned_workouts.status` column holds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkoutRowStatus {
    #[default]
    Planned,
    Done,
    Skipped,
    Moved,
}

impl WorkoutRowStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WorkoutRowStatus::Planned => "planned",
            WorkoutRowStatus::Done => "done",
            WorkoutRowStatus::Skipped => "skipped",
            WorkoutRowStatus::Moved => "moved",
        }
    }
}

/// The runner's active plan as stored: its id and the plan document.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredPlan {
    pub id: i64,
    pub plan: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// One line of `/plans`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanSummary {
    pub id: i64,
    pub goal: crate::plan::Goal,
    pub level: crate::plan::Level,
    pub status: PlanStatus,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub race_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    /// The race goal it was made for.
    pub goal_id: Option<i64>,
}

/// A stored plan's state, as the `plans.status` column holds it: one active plan per runner, the
/// ones it replaced archived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanStatus {
    Active,
    Archived,
}

impl PlanStatus {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Active => "active",
            PlanStatus::Archived => "archived",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<PlanStatus> {
        [PlanStatus::Active, PlanStatus::Archived].into_iter().find(|p| p.as_str() == s)
    }
}

/// A plan to store: its summary columns, the request and plan as JSON, and its dated workouts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewPlan {
    pub goal: crate::plan::Goal,
    pub level: crate::plan::Level,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub race_date: Option<NaiveDate>,
    pub sessions_per_week: i32,
    pub vdot: Option<f64>,
    pub request: serde_json::Value,
    pub plan: serde_json::Value,
    pub workouts: Vec<NewPlannedWorkout>,
    /// The runner's race goal this plan is made for (ignored unless it is theirs).
    #[serde(default)]
    pub goal_id: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    System,
    Tool,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
            Role::Tool => "tool",
        }
    }

    fn parse(s: &str) -> Role {
        match s {
            "user" => Role::User,
            "system" => Role::System,
            "tool" => Role::Tool,
            _ => Role::Assistant,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredMessage {
    pub id: i64,
    pub role: Role,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

/// What a schedule sends (also the kind of the jobs it enqueues).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// A runner's weekly summary, in their private chat.
    WeeklySummary,
    /// A club channel's weekly digest.
    ClubDigest,
    /// The end of a runner's day: sessions nobody ran are marked missed (the runner is told).
    PlanDay,
    /// A runner's Garmin Connect sync in the background (new runs announced in their chat).
    GarminSync,
    /// A one-off job, never a schedule: a runner told that another account was linked to theirs.
    LinkNotice,
    /// A runner's morning reminder: today's session with its weather and the watch button.
    MorningReminder,
    /// A runner's plan kept in step with their Garmin calendar (`/watch auto on`).
    GarminPush,
    /// A one-off job, never a schedule: an inactive runner told when their data goes.
    InactivityNotice,
}

impl ScheduleKind {
    pub const ALL: [ScheduleKind; 8] = [
        ScheduleKind::WeeklySummary,
        ScheduleKind::ClubDigest,
        ScheduleKind::PlanDay,
        ScheduleKind::GarminSync,
        ScheduleKind::LinkNotice,
        ScheduleKind::MorningReminder,
        ScheduleKind::GarminPush,
        ScheduleKind::InactivityNotice,
    ];

    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ScheduleKind::WeeklySummary => "weekly_summary",
            ScheduleKind::ClubDigest => "club_digest",
            ScheduleKind::PlanDay => "plan_day",
            ScheduleKind::GarminSync => "garmin_sync",
            ScheduleKind::LinkNotice => "link_notice",
            ScheduleKind::MorningReminder => "morning_reminder",
            ScheduleKind::GarminPush => "garmin_push",
            ScheduleKind::InactivityNotice => "inactivity_notice",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<ScheduleKind> {
        ScheduleKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for ScheduleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's kind is open (the jobs table is every worker's outbox); a schedule's is one of these.
impl From<ScheduleKind> for String {
    fn from(kind: ScheduleKind) -> String {
        kind.as_str().to_owned()
    }
}

/// Why a schedule is paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PausedReason {
    /// The platform says the bot may no longer write there.
    Blocked,
    /// The runner (or a club admin) turned it off.
    Off,
    /// The stored expression or time zone no longer parses.
    Invalid,
    /// The expression will never fire again.
    Ended,
    /// The third-party connection it uses expired or was revoked: the runner must reconnect.
    Reconnect,
}

impl PausedReason {
    pub const ALL: [PausedReason; 5] =
        [PausedReason::Blocked, PausedReason::Off, PausedReason::Invalid, PausedReason::Ended, PausedReason::Reconnect];

    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            PausedReason::Blocked => "blocked",
            PausedReason::Off => "off",
            PausedReason::Invalid => "invalid",
            PausedReason::Ended => "ended",
            PausedReason::Reconnect => "reconnect",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<PausedReason> {
        PausedReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewSchedule {
    pub user_id: Option<UserId>,
    pub kind: ScheduleKind,
    pub chat: ChatKey,
    pub guild_id: Option<String>,
    pub cron: String,
    pub timezone: String,
    /// The messages' language when not the runner's (a club digest); `None`: the runner's, or English.
    #[serde(default)]
    pub lang: Option<Lang>,
}

/// A stored schedule (a runner's weekly summary, a club digest).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScheduleRecord {
    pub id: i64,
    pub user_id: Option<UserId>,
    pub kind: ScheduleKind,
    pub chat: ChatKey,
    pub guild_id: Option<String>,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
    pub paused_reason: Option<PausedReason>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub lang: Option<Lang>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub kind: String,
    pub dedupe_key: String,
    pub user_id: Option<UserId>,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub user_id: Option<UserId>,
    pub payload: serde_json::Value,
    pub attempts: i32,
}

/// Runners, their platform identities, and the codes that link two identities into one runner.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Finds the runner behind a platform identity, creating both on first contact.
    async fn resolve_identity(
        &self,
        identity: &PlatformIdentity,
        username: Option<&str>,
        default_lang: Lang,
    ) -> StoreResult<Resolved>;
    async fn find_user(&self, identity: &PlatformIdentity) -> StoreResult<Option<User>>;
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    async fn set_language(&self, id: UserId, lang: Lang) -> StoreResult<()>;
    async fn update_profile(&self, id: UserId, update: &ProfileUpdate) -> StoreResult<User>;
    /// Sets (or with `None` forgets) where the runner runs.
    async fn set_location(&self, id: UserId, location: Option<&Location>) -> StoreResult<()>;
    async fn identities(&self, id: UserId) -> StoreResult<Vec<IdentityRecord>>;
    async fn create_link_code(&self, id: UserId, code: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Who issued `code`, if it is live (nothing is claimed: for the confirmation step).
    async fn peek_link_code(&self, code: &str, now: DateTime<Utc>) -> StoreResult<Result<UserId, LinkError>>;
    /// Merges the redeemer into the runner who issued `code`, in one transaction; the code is
    /// claimed atomically, so it links once.
    async fn redeem_link_code(
        &self,
        code: &str,
        redeemer: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<LinkOutcome, LinkError>>;
}

/// Runs and other activities, with their laps and samples.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    async fn insert_activity(&self, id: UserId, activity: &NewActivity) -> StoreResult<InsertOutcome>;
    /// Many activities (an activity list, a Garmin export) in transactions of [`INSERT_BATCH`]:
    /// one outcome per activity, in order (an invalid one is refused alone). A failure of the
    /// store stops at the batch it was in; the batches before are committed, each activity whole.
    async fn insert_activities(
        &self,
        id: UserId,
        activities: &[&NewActivity],
    ) -> StoreResult<Vec<StoreResult<InsertOutcome>>>;
    /// The stored activity `activity` would be a duplicate of (the check `insert_activity` makes),
    /// without writing: lets a caller skip costly work for activities it already has.
    async fn duplicate_activity(&self, id: UserId, activity: &NewActivity) -> StoreResult<Option<i64>>;
    async fn activities(&self, id: UserId, since: Option<DateTime<Utc>>) -> StoreResult<Vec<ActivityRecord>>;
    async fn activity_samples(&self, id: UserId, activity_id: i64) -> StoreResult<Option<SampleSeries>>;
    /// The runner's `limit` latest activities, newest first.
    async fn recent_activities(&self, id: UserId, limit: i64) -> StoreResult<Vec<ActivityRecord>>;
    /// One of the runner's activities; `None` when it does not exist or is another runner's.
    async fn activity(&self, id: UserId, activity_id: i64) -> StoreResult<Option<ActivityRecord>>;
    /// An activity's laps in order (none for another runner's).
    async fn activity_laps(&self, id: UserId, activity_id: i64) -> StoreResult<Vec<NewLap>>;
}

/// Goals and training plans (one active plan per runner).
#[async_trait]
pub trait PlanStore: Send + Sync {
    async fn insert_goal(&self, id: UserId, goal: &NewGoal) -> StoreResult<i64>;
    /// The runner's goals, newest first (a row this version cannot read is left out).
    async fn goals(&self, id: UserId) -> StoreResult<Vec<GoalRecord>>;
    /// Sets a goal's status; false when the runner has no such goal.
    async fn set_goal_status(&self, id: UserId, goal_id: i64, status: GoalStatus) -> StoreResult<bool>;
    /// Stores a plan as the runner's active one (archiving the previous active plan).
    async fn save_plan(&self, id: UserId, plan: &NewPlan) -> StoreResult<i64>;
    async fn active_plan(&self, id: UserId) -> StoreResult<Option<StoredPlan>>;
    /// Archives the runner's active plan `plan_id` (`/plan cancel`); false when it is not theirs
    /// or not active.
    async fn archive_plan(&self, id: UserId, plan_id: i64) -> StoreResult<bool>;
    /// Every plan of a runner, newest first.
    async fn plans(&self, id: UserId) -> StoreResult<Vec<PlanSummary>>;
    /// Replaces a plan's document and workouts (a done or skipped session).
    async fn update_plan(&self, id: UserId, plan_id: i64, plan: &NewPlan) -> StoreResult<()>;
    /// [`PlanStore::update_plan`] for an automatic adaptation, keeping `as_it_was` (the plan
    /// without it) so the runner can choose it instead; it replaces any kept before.
    async fn adapt_plan(
        &self,
        id: UserId,
        plan_id: i64,
        plan: &NewPlan,
        as_it_was: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Takes the plan kept by the last adaptation of `plan_id`, with the adaptation's time: once.
    async fn take_plan_as_it_was(
        &self,
        id: UserId,
        plan_id: i64,
    ) -> StoreResult<Option<(serde_json::Value, DateTime<Utc>)>>;
}

/// What was said: messages, ratings, the running summary of a conversation, wellness notes,
/// LLM usage, and the state of a multi-step dialogue.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    async fn append_message(&self, id: UserId, chat: &ChatKey, role: Role, content: &str) -> StoreResult<i64>;
    async fn recent_messages(&self, id: UserId, chat: &ChatKey, limit: i64) -> StoreResult<Vec<StoredMessage>>;
    /// The runner's latest messages across all their private chats, oldest first.
    async fn recent_conversation(&self, id: UserId, limit: i64) -> StoreResult<Vec<StoredMessage>>;
    /// 👍 (1) or 👎 (-1) on one of the coach's answers to this runner; false if it is not theirs.
    async fn rate_message(&self, id: UserId, message_id: i64, rating: i16) -> StoreResult<bool>;
    async fn message_rating(&self, id: UserId, message_id: i64) -> StoreResult<Option<i16>>;
    /// The running summary of older turns and the last message id it covers.
    async fn conversation_summary(&self, id: UserId) -> StoreResult<Option<(String, i64)>>;
    async fn set_conversation_summary(&self, id: UserId, chat: &ChatKey, summary: &str, upto: i64) -> StoreResult<()>;
    async fn log_wellness(&self, id: UserId, feeling: &str, note: Option<&str>) -> StoreResult<i64>;
    /// Adds one LLM call's tokens to the runner's day (UTC `YYYY-MM-DD`); returns the day's total.
    async fn add_llm_usage(&self, id: UserId, day: &str, tokens: i64) -> StoreResult<i64>;
    async fn llm_usage(&self, id: UserId, day: &str) -> StoreResult<i64>;
    async fn dialogue_state(&self, id: UserId, chat: &ChatKey) -> StoreResult<Option<serde_json::Value>>;
    async fn set_dialogue_state(
        &self,
        id: UserId,
        chat: &ChatKey,
        state: Option<&serde_json::Value>,
    ) -> StoreResult<()>;
}

/// Schedules (weekly summaries, club digests) and the jobs they become (the outbox).
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    async fn upsert_schedule(&self, schedule: &NewSchedule) -> StoreResult<i64>;
    /// The schedule of `kind` for `chat`, if any.
    async fn schedule(&self, kind: ScheduleKind, chat: &ChatKey) -> StoreResult<Option<ScheduleRecord>>;
    /// Enabled schedules due at `now` (or whose next run was never computed), oldest first.
    async fn due_schedules(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<ScheduleRecord>>;
    /// Stores the next due time, and the time of the run just made when `ran_at` is given.
    async fn mark_schedule_run(
        &self,
        id: i64,
        ran_at: Option<DateTime<Utc>>,
        next_run_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    /// Disables a schedule with a reason (`blocked`, `off`…); returns whether one was enabled.
    /// `upsert_schedule` enables it again.
    async fn pause_schedule(&self, kind: ScheduleKind, chat: &ChatKey, reason: PausedReason) -> StoreResult<bool>;
    // Jobs (outbox).
    /// Enqueues a job; returns false when a job with the same dedupe key already exists.
    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<bool>;
    /// Claims up to `limit` due jobs for `worker` until `lease_until`; an expired lease is claimable again.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedJob>>;
    async fn complete_job(&self, job_id: i64, worker: &str) -> StoreResult<bool>;
    async fn fail_job(
        &self,
        job_id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;

    /// Jobs pending or running (the delivery queue's depth).
    async fn queue_depth(&self) -> StoreResult<i64>;

    /// Every instance stops calling `provider` until `until` (a later pause wins over an earlier one).
    async fn pause_provider(&self, provider: &str, until: DateTime<Utc>, reason: &str) -> StoreResult<()>;
    /// Until when `provider` is paused, if it is paused at `now`.
    async fn provider_paused_until(&self, provider: &str, now: DateTime<Utc>) -> StoreResult<Option<DateTime<Utc>>>;
}

/// An HTTP API key as the operator sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiKeyRecord {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What every instance must agree on to protect the service: fixed-window counters for the
/// limits, and the operator's API keys.
#[async_trait]
pub trait GuardStore: Send + Sync {
    /// Adds `cost` to `bucket`'s window starting at `window_start`; the window's total after it.
    async fn count_hits(
        &self,
        bucket: &str,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
        cost: i64,
    ) -> StoreResult<i64>;
    /// The window's total so far (0 when nothing was counted).
    async fn window_hits(&self, bucket: &str, window_start: DateTime<Utc>) -> StoreResult<i64>;
    /// Deletes the windows that ended before `now`; how many.
    async fn purge_windows(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Stores a new key; false when the name is taken.
    async fn insert_api_key(&self, name: &str, secret_sha256: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// The name of the live key whose secret hashes to `secret_sha256`.
    async fn api_key_named(&self, secret_sha256: &str) -> StoreResult<Option<String>>;
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes a live key; false when there is none by that name.
    async fn revoke_api_key(&self, name: &str, at: DateTime<Utc>) -> StoreResult<bool>;
}

/// Rows older than these go (docs/privacy.md, "Retention").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionCutoffs {
    /// Conversation messages (and conversations left without any).
    pub messages_before: DateTime<Utc>,
    /// Finished jobs (done or failed).
    pub jobs_before: DateTime<Utc>,
    pub audit_before: DateTime<Utc>,
    pub llm_usage_before: NaiveDate,
    /// Link codes that expired.
    pub link_codes_before: DateTime<Utc>,
    /// Dialogues abandoned midway (a wizard never finished).
    pub dialogue_states_before: DateTime<Utc>,
}

/// Rows past their keeping time, per table (deleted, or counted on a dry run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RetentionCounts {
    pub messages: u64,
    pub conversations: u64,
    pub jobs: u64,
    pub audit_log: u64,
    pub llm_usage: u64,
    pub link_codes: u64,
    pub dialogue_states: u64,
}

impl RetentionCounts {
    #[must_use]
    pub fn total(&self) -> u64 {
        self.messages
            + self.conversations
            + self.jobs
            + self.audit_log
            + self.llm_usage
            + self.link_codes
            + self.dialogue_states
    }
}

/// One runner as the operator sees them: who, where, since when, how much — no contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunnerOverview {
    pub id: UserId,
    pub display_name: Option<String>,
    /// `platform:id` for each platform identity.
    pub identities: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Their last message.
    pub last_seen: Option<DateTime<Utc>>,
    pub activities: i64,
    pub plans: i64,
    pub messages: i64,
    pub garmin_connected: bool,
}

/// A job in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobOverview {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub user_id: Option<UserId>,
    pub attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// How the service is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub runners: i64,
    /// Runners who wrote in the last 1, 7 and 30 days.
    pub active_1d: i64,
    pub active_7d: i64,
    pub active_30d: i64,
    pub messages_per_day: Vec<(String, i64)>,
    pub llm_tokens_per_day: Vec<(String, i64)>,
    /// Activities stored in the period, by source (imports, Garmin syncs).
    pub activities_by_source: Vec<(String, i64)>,
}

/// What `runcoach admin` reads and steers.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Runners whose name or identity contains `search` (all without one), by id.
    async fn admin_users(&self, search: Option<&str>, limit: i64) -> StoreResult<Vec<RunnerOverview>>;
    async fn admin_user(&self, id: UserId) -> StoreResult<RunnerOverview>;
    /// The newest jobs, of one status (`pending`, `running`, `done`, `failed`, `paused`) or all.
    async fn admin_jobs(&self, status: Option<&str>, limit: i64) -> StoreResult<Vec<JobOverview>>;
    /// A failed or paused job runs again from its first attempt; false when it is neither.
    async fn retry_job(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    /// A pending or paused job is given up; false when it is neither.
    async fn cancel_job(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn all_schedules(&self, limit: i64) -> StoreResult<Vec<ScheduleRecord>>;
    /// Active runners, messages and LLM tokens per day and activities by source over `days`.
    async fn usage(&self, now: DateTime<Utc>, days: i64) -> StoreResult<Usage>;
}

/// Deleting what is past its keeping time, in one transaction.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Deletes (or with `dry_run` only counts) the rows older than `cutoffs`.
    async fn apply_retention(&self, cutoffs: &RetentionCutoffs, dry_run: bool) -> StoreResult<RetentionCounts>;
    /// Notes that the runner wrote at `now` (one write a day at most).
    async fn touch_user(&self, id: UserId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Runners last seen (never seen: created) before `before`, with that time.
    async fn inactive_runners(&self, before: DateTime<Utc>) -> StoreResult<Vec<(UserId, DateTime<Utc>)>>;
    /// The inactivity warnings sent: runner, when, the day their data goes.
    async fn inactivity_notices(&self) -> StoreResult<Vec<(UserId, DateTime<Utc>, NaiveDate)>>;
    /// Records (`Some`) or clears (`None`) a runner's inactivity warning.
    async fn set_inactivity_notice(&self, id: UserId, notice: Option<(DateTime<Utc>, NaiveDate)>) -> StoreResult<()>;
}

/// Weather forecasts cached per area and hour, shared by every instance.
#[async_trait]
pub trait WeatherStore: Send + Sync {
    /// The forecast fetched for `area` in the hour starting at `hour`.
    async fn cached_forecast(&self, area: &str, hour: DateTime<Utc>) -> StoreResult<Option<String>>;
    /// Keeps a forecast (a second instance storing the same hour changes nothing).
    async fn cache_forecast(&self, area: &str, hour: DateTime<Utc>, payload: &str) -> StoreResult<()>;
    /// Deletes forecasts fetched before `before`; how many.
    async fn purge_forecasts(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// Running clubs (Discord servers) and their members.
#[async_trait]
pub trait ClubStore: Send + Sync {
    async fn club_members(&self, guild_id: &str) -> StoreResult<Vec<(UserId, bool)>>;
    async fn join_club(&self, id: UserId, guild_id: &str, leaderboard_opt_in: bool) -> StoreResult<()>;
    /// Removes a runner from a club; returns whether they were a member.
    async fn leave_club(&self, id: UserId, guild_id: &str) -> StoreResult<bool>;
}

/// Sealed third-party credentials (Garmin tokens) and what their sync has walked.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    async fn put_credential(&self, id: UserId, provider: &str, sealed: &[u8]) -> StoreResult<()>;
    /// The sealed secret stored for `provider`, if any.
    async fn get_credential(&self, id: UserId, provider: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Forgets the secret for `provider`; returns whether one was stored.
    async fn delete_credential(&self, id: UserId, provider: &str) -> StoreResult<bool>;
    /// Whether a sync with `provider` walked the runner's whole history to its end (kept with
    /// the credential: a new login walks it again, deduplicated).
    async fn history_synced(&self, id: UserId, provider: &str) -> StoreResult<bool>;
    /// Records that the whole history was walked; nothing happens without a stored credential.
    async fn mark_history_synced(&self, id: UserId, provider: &str) -> StoreResult<()>;
    /// The sessions pushed to Garmin on days `from..=to`, by day.
    async fn pushed_workouts(&self, id: UserId, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<PushedWorkout>>;
    /// Records (or replaces) the Garmin workout holding the session of `pushed.date`.
    async fn record_pushed_workout(&self, id: UserId, pushed: &PushedWorkout) -> StoreResult<()>;
    /// Forgets the Garmin workout of `date` (deleted on Garmin).
    async fn forget_pushed_workout(&self, id: UserId, date: NaiveDate) -> StoreResult<()>;
    async fn watch_auto_push(&self, id: UserId) -> StoreResult<bool>;
    async fn set_watch_auto_push(&self, id: UserId, on: bool) -> StoreResult<()>;
}

/// A session pushed to Garmin Connect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedWorkout {
    pub date: NaiveDate,
    pub workout_id: String,
    /// The calendar entry (absent if Garmin gave none).
    pub schedule_id: Option<String>,
    /// What was sent, hashed: a session whose fingerprint changed is updated on Garmin.
    pub fingerprint: String,
    pub pushed_at: DateTime<Utc>,
}

/// The knowledge base's embedding cache (global, keyed by model and chunk content hash).
#[async_trait]
pub trait EmbeddingStore: Send + Sync {
    /// The cached vectors among `hashes` for `model`, as `(hash, vector)`; missing ones are absent.
    async fn cached_embeddings(&self, model: &str, hashes: &[String]) -> StoreResult<Vec<(String, Vec<f32>)>>;
    /// Stores (or replaces) vectors for `model`, in one transaction.
    async fn put_embeddings(&self, model: &str, items: &[(String, Vec<f32>)]) -> StoreResult<()>;
}

/// The store every part of the core talks to: one trait per aggregate, and what spans them all
/// (health, audit, export and erase walk every table). Each backend implements every trait.
#[async_trait]
pub trait Store:
    UserStore
    + ActivityStore
    + PlanStore
    + ConversationStore
    + ScheduleStore
    + ClubStore
    + CredentialStore
    + EmbeddingStore
    + GuardStore
    + WeatherStore
    + RetentionStore
    + AdminStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> StoreResult<()>;

    async fn audit(&self, id: Option<UserId>, actor: &str, action: &str, detail: &serde_json::Value)
    -> StoreResult<()>;
    /// Everything stored about a runner, as one JSON document.
    async fn export_user(&self, id: UserId) -> StoreResult<serde_json::Value>;
    /// Deletes every row of a runner, in one transaction.
    async fn erase_user(&self, id: UserId) -> StoreResult<()>;
    /// Rows per table that still reference `id` (used by erase checks and `/status`).
    async fn count_user_rows(&self, id: UserId) -> StoreResult<Vec<(String, i64)>>;
    /// The names of the application's tables in the live schema.
    async fn table_names(&self) -> StoreResult<Vec<String>>;
}

/// Opens the store named by `database_url` (PostgreSQL when it starts with `postgres`), else the
/// SQLite file under `data_dir`, and applies pending migrations.
pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> StoreResult<Arc<dyn Store>> {
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PostgresStore::connect(url).await?))
        }
        Some(url) if url.starts_with("sqlite:") => Ok(Arc::new(SqliteStore::connect_url(url).await?)),
        Some(other) => Err(StoreError::Unavailable(DbDetail::message(format!(
            "unsupported DATABASE_URL scheme in {:?} (use postgres:// or sqlite:)",
            other.split(':').next().unwrap_or_default()
        )))),
        None => Ok(Arc::new(SqliteStore::open_in(data_dir).await?)),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_database_failure_keeps_sqlx_as_its_cause() {
        let e = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
        assert_eq!(e.code(), ErrorCode::StoreUnavailable);
        let detail = e.source().expect("the detail");
        let cause = detail.source().expect("sqlx's error under it");
        assert!(matches!(cause.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::PoolTimedOut)), "{cause:?}");
    }

    #[test]
    fn an_encoding_failure_is_not_a_database_failure() {
        let bad = serde_json::from_str::<serde_json::Value>("{").expect_err("not JSON");
        let e = StoreError::from(bad);
        assert!(matches!(e, StoreError::Encode(_)));
        assert_eq!(e.code(), ErrorCode::Internal);
        assert!(e.to_string().starts_with("cannot encode for storage"), "{e}");
    }
}

//! SQLite backend: the embedded default. One file under the data dir, WAL journal, created on
//! first run; writers take the lock up front (`BEGIN IMMEDIATE`) so concurrent writers wait
//! instead of failing mid-transaction.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::sql;
// The aggregate traits, for the calls one aggregate's statements make to another's.
use super::DbDetail;
use super::{
    ActivityRecord, ChatKey, ClaimedJob, IdentityRecord, InsertOutcome, LinkError, LinkOutcome, NewActivity, NewGoal,
    NewJob, NewPlan, NewSchedule, ProfileUpdate, Resolved, Role, SampleSeries, StoreError, StoreResult, StoredMessage,
    USER_TABLES,
};
use super::{ActivityStore, UserStore};
use crate::domain::{Location, PlatformIdentity, UnknownPlatform, User, UserId};
use crate::i18n::Lang;

/// Columns holding JSON text, exported as nested JSON rather than strings.
const JSON_COLUMNS: &[&str] =
    &["hr_zones", "hr_zones_s", "best_efforts", "request", "plan", "state", "payload", "detail", "meta"];
/// Columns never exported: sealed secrets and packed blobs (samples are exported decoded).
const HIDDEN_COLUMNS: &[&str] = &["secret", "data"];

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) `runcoach.db` in `data_dir`.
    pub async fn open_in(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::DataDir(format!("cannot create data dir {}: {e}", data_dir.display())))?;
        let options = SqliteConnectOptions::new().filename(data_dir.join("runcoach.db"));
        Self::open(options).await
    }

    /// Opens a `sqlite:` URL (`sqlite::memory:` or `sqlite:///path/file.db`).
    pub async fn connect_url(url: &str) -> StoreResult<Self> {
        let options =
            SqliteConnectOptions::from_str(url).map_err(|e| StoreError::Unavailable(DbDetail::caused_by(e)))?;
        Self::open(options).await
    }

    async fn open(options: SqliteConnectOptions) -> StoreResult<Self> {
        let in_memory = options.get_filename().to_string_lossy().contains(":memory:")
            || options.get_filename().as_os_str().is_empty();
        let dir = options.get_filename().parent().map(Path::to_path_buf);
        match Self::open_pool(options, in_memory).await {
            // Opening writes (the WAL, its index, migrations): on a full disk SQLite only says
            // "disk I/O error", which would send the operator looking for a broken disk.
            Err(e) if !in_memory && dir.as_deref().is_some_and(no_space_left) => {
                Err(StoreError::Full(DbDetail::from_error(
                    format!(
                        "no space left on the device holding {}: {e}",
                        dir.as_deref().map(Path::display).map(|d| d.to_string()).unwrap_or_default()
                    ),
                    e,
                )))
            }
            opened => opened,
        }
    }

    async fn open_pool(options: SqliteConnectOptions, in_memory: bool) -> StoreResult<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(if in_memory { SqliteJournalMode::Memory } else { SqliteJournalMode::Wal })
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists per connection: keep exactly one.
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
            .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(1800)) })
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(DbDetail::caused_by(e)))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn list_tables(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every row of `table` for a runner as JSON objects, whatever columns later migrations add.
    async fn export_rows(&self, table: &str, user_id: i64) -> StoreResult<Vec<Value>> {
        let columns: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{table}')")))
                .fetch_all(&self.pool)
                .await?;
        let fields: Vec<String> =
            columns
                .iter()
                .filter(|c| !HIDDEN_COLUMNS.contains(&c.as_str()))
                .map(|c| {
                    if JSON_COLUMNS.contains(&c.as_str()) { format!("'{c}', json({c})") } else { format!("'{c}', {c}") }
                })
                .collect();
        let sql = format!(
            "SELECT COALESCE(json_group_array(json_object({})), '[]') FROM (SELECT * FROM {table} WHERE user_id = $1 ORDER BY rowid)",
            fields.join(", ")
        );
        let text: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_one(&self.pool).await?;
        match serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(DbDetail::caused_by(e)))? {
            Value::Array(rows) => Ok(rows),
            other => Err(StoreError::Corrupt(format!("export of {table} gave {other}").into())),
        }
    }
}

sql::impl_store!(
    SqliteStore,
    Sqlite,
    backend = "sqlite",
    // One statement is atomic in SQLite: no other writer can claim the same rows.
    claim = "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs \
               WHERE (status = 'pending' AND run_at <= $3) OR (status = 'running' AND locked_until < $3) \
               ORDER BY run_at, id LIMIT $4) \
             RETURNING id, kind, dedupe_key, user_id, payload, attempts"
);

/// Less than 1 MiB free for unprivileged writers where `dir` lives: too little to open the store.
fn no_space_left(dir: &Path) -> bool {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    rustix::fs::statvfs(dir).is_ok_and(|s| s.f_bavail.saturating_mul(s.f_frsize) < 1 << 20)
}

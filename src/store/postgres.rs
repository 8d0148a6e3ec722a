//! PostgreSQL backend: several runcoach instances share one database. Jobs are claimed with
//! `FOR UPDATE SKIP LOCKED`, so two workers never take the same job.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row, Transaction};

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

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Unavailable(DbDetail::caused_by(e)))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .idle_timeout(Some(Duration::from_secs(600)))
            .connect_with(options)
            .await?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        // sqlx takes an advisory lock, so instances starting together migrate once.
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(DbDetail::caused_by(e)))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    async fn list_tables(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name NOT LIKE '\\_sqlx%' ORDER BY table_name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every row of `table` for a runner as JSON objects, whatever columns later migrations add.
    async fn export_rows(&self, table: &str, user_id: i64) -> StoreResult<Vec<Value>> {
        // Sealed secrets and packed blobs stay out (samples are exported decoded).
        let sql = format!(
            "SELECT COALESCE(json_agg(to_jsonb(t) - 'secret' - 'data' ORDER BY t.ctid), '[]'::json) \
             FROM (SELECT *, ctid FROM {table} WHERE user_id = $1) t"
        );
        let value: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_one(&self.pool).await?;
        match value {
            Value::Array(rows) => Ok(rows
                .into_iter()
                .map(|mut r| {
                    if let Some(o) = r.as_object_mut() {
                        o.remove("ctid");
                    }
                    r
                })
                .collect()),
            other => Err(StoreError::Corrupt(format!("export of {table} gave {other}").into())),
        }
    }
}

sql::impl_store!(
    PostgresStore,
    Postgres,
    backend = "postgres",
    claim = "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs \
               WHERE (status = 'pending' AND run_at <= $3) OR (status = 'running' AND locked_until < $3) \
               ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, dedupe_key, user_id, payload, attempts"
);

/// Creates an empty database next to the one `admin_url` names and returns its URL. Used by the
/// test suites (a fresh database per test) and by operators provisioning a new instance.
pub async fn create_database(admin_url: &str, name: &str) -> StoreResult<String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Other(format!("invalid database name {name:?}").into()));
    }
    let options = PgConnectOptions::from_str(admin_url).map_err(|e| StoreError::Unavailable(DbDetail::caused_by(e)))?;
    let pool = PgPoolOptions::new().max_connections(1).connect_with(options).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await?;
    pool.close().await;
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    Ok(format!("{prefix}/{name}"))
}

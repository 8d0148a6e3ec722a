//! What an operator reads and steers (`runcoach admin`): `impl AdminStore` for each backend, from
//! the SQL both accept. Message contents never leave here: counts and dates only.

macro_rules! impl_admin {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::AdminStore for $ty {
            #[tracing::instrument(skip_all)]
            async fn admin_users(&self, search: Option<&str>, limit: i64) -> StoreResult<Vec<$crate::store::RunnerOverview>> {
                let pattern = search.map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
                let rows: Vec<(i64, Option<String>, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT u.id, u.display_name, u.created_at FROM users u \
                     WHERE $1 IS NULL OR LOWER(COALESCE(u.display_name, '')) LIKE $1 \
                        OR EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id \
                                   AND LOWER(i.platform || ':' || i.platform_user_id || ' ' || COALESCE(i.username, '')) LIKE $1) \
                     ORDER BY u.id LIMIT $2",
                )
                .bind(pattern)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for (id, display_name, created_at) in rows {
                    out.push(self.runner_overview(id, display_name, created_at).await?);
                }
                Ok(out)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn admin_user(&self, id: UserId) -> StoreResult<$crate::store::RunnerOverview> {
                let (display_name, created_at): (Option<String>, DateTime<Utc>) =
                    sqlx::query_as("SELECT display_name, created_at FROM users WHERE id = $1")
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                self.runner_overview(id.0, display_name, created_at).await
            }

            #[tracing::instrument(skip_all)]
            async fn admin_jobs(&self, status: Option<&str>, limit: i64) -> StoreResult<Vec<$crate::store::JobOverview>> {
                let rows: Vec<(i64, String, String, Option<i64>, i32, DateTime<Utc>, Option<String>, DateTime<Utc>)> =
                    sqlx::query_as(
                        "SELECT id, kind, status, user_id, attempts, run_at, last_error, updated_at FROM jobs \
                         WHERE $1 IS NULL OR status = $1 ORDER BY id DESC LIMIT $2",
                    )
                    .bind(status)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, kind, status, user_id, attempts, run_at, last_error, updated_at)| $crate::store::JobOverview {
                        id,
                        kind,
                        status,
                        user_id: user_id.map(UserId),
                        attempts,
                        run_at,
                        last_error,
                        updated_at,
                    })
                    .collect())
            }

            #[tracing::instrument(skip_all, fields(job = id))]
            async fn retry_job(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $2, locked_by = NULL, \
                     locked_until = NULL, updated_at = $2 WHERE id = $1 AND status IN ('failed', 'paused')",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(done > 0)
            }

            #[tracing::instrument(skip_all, fields(job = id))]
            async fn cancel_job(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE jobs SET status = 'failed', last_error = 'cancelled by the operator', locked_by = NULL, \
                     locked_until = NULL, updated_at = $2 WHERE id = $1 AND status IN ('pending', 'paused')",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(done > 0)
            }

            #[tracing::instrument(skip_all)]
            async fn all_schedules(&self, limit: i64) -> StoreResult<Vec<$crate::store::ScheduleRecord>> {
                let sql = sqlx::AssertSqlSafe(format!("SELECT {} FROM schedules ORDER BY id LIMIT $1", sql::SCHEDULE_COLS));
                let rows = sqlx::query(sql).bind(limit).fetch_all(&self.pool).await?;
                rows.iter().map(schedule_row).collect()
            }

            #[tracing::instrument(skip_all)]
            async fn usage(&self, now: DateTime<Utc>, days: i64) -> StoreResult<$crate::store::Usage> {
                let active = |d: i64| {
                    sqlx::query_scalar::<_, i64>("SELECT COUNT(DISTINCT user_id) FROM messages WHERE created_at >= $1")
                        .bind(now - chrono::Duration::days(d))
                        .fetch_one(&self.pool)
                };
                let since = now - chrono::Duration::days(days);
                let day_of = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
                let mut messages: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
                let stamps: Vec<DateTime<Utc>> = sqlx::query_scalar("SELECT created_at FROM messages WHERE created_at >= $1")
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await?;
                for t in stamps {
                    *messages.entry(day_of(t)).or_default() += 1;
                }
                let tokens: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT day, SUM(tokens) FROM llm_usage WHERE day >= $1 GROUP BY day ORDER BY day",
                )
                .bind(day_of(since))
                .fetch_all(&self.pool)
                .await?;
                let sources: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT source, COUNT(*) FROM activities WHERE created_at >= $1 GROUP BY source ORDER BY source",
                )
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                Ok($crate::store::Usage {
                    active_1d: active(1).await?,
                    active_7d: active(7).await?,
                    active_30d: active(30).await?,
                    runners: sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?,
                    messages_per_day: messages.into_iter().collect(),
                    llm_tokens_per_day: tokens,
                    activities_by_source: sources,
                })
            }
        }

        impl $ty {
            async fn runner_overview(
                &self,
                id: i64,
                display_name: Option<String>,
                created_at: DateTime<Utc>,
            ) -> StoreResult<$crate::store::RunnerOverview> {
                let identities: Vec<(String, String)> =
                    sqlx::query_as("SELECT platform, platform_user_id FROM identities WHERE user_id = $1 ORDER BY id")
                        .bind(id)
                        .fetch_all(&self.pool)
                        .await?;
                let count = |table: &'static str| {
                    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1"));
                    sqlx::query_scalar::<_, i64>(sql).bind(id).fetch_one(&self.pool)
                };
                let last_seen: Option<DateTime<Utc>> =
                    sqlx::query_scalar("SELECT MAX(created_at) FROM messages WHERE user_id = $1")
                        .bind(id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::store::RunnerOverview {
                    id: UserId(id),
                    display_name,
                    identities: identities.into_iter().map(|(p, u)| format!("{p}:{u}")).collect(),
                    created_at,
                    last_seen,
                    activities: count("activities").await?,
                    plans: count("plans").await?,
                    messages: count("messages").await?,
                    garmin_connected: count("credentials").await? > 0,
                })
            }
        }
    };
}

pub(crate) use impl_admin;

//! Schedules and jobs (the outbox): `impl ScheduleStore` for each backend, from the SQL both accept.

macro_rules! impl_schedules {
    ($ty:ty, $db:ty, claim = $claim:expr) => {

        fn schedule_row(r: &<$db as sqlx::Database>::Row) -> StoreResult<$crate::store::ScheduleRecord> {
            <sql::ScheduleRow as sqlx::FromRow<_>>::from_row(r)?.into_record()
        }

        #[async_trait::async_trait]
        impl $crate::store::ScheduleStore for $ty {
            #[tracing::instrument(skip_all, fields(kind = %s.kind))]
            async fn upsert_schedule(&self, s: &NewSchedule) -> StoreResult<i64> {
                // RETURNING committed explicitly (see update_profile).
                let mut tx = self.begin_write().await?;
                let value = sqlx::query_scalar(
                    "INSERT INTO schedules (user_id, kind, platform, chat_id, guild_id, cron, timezone, enabled, created_at, lang) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (kind, platform, chat_id) DO UPDATE SET user_id = excluded.user_id, \
                       guild_id = excluded.guild_id, cron = excluded.cron, timezone = excluded.timezone, \
                       enabled = excluded.enabled, paused_reason = NULL, lang = excluded.lang \
                     RETURNING id",
                )
                .bind(s.user_id.map(|u| u.0))
                .bind(s.kind.as_str())
                .bind(s.chat.platform.as_str())
                .bind(&s.chat.chat_id)
                .bind(&s.guild_id)
                .bind(&s.cron)
                .bind(&s.timezone)
                .bind(true)
                .bind(Utc::now())
                .bind(s.lang.map(Lang::code))
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(value)
            }

            #[tracing::instrument(skip_all, fields(kind = %kind))]
            async fn schedule(&self, kind: $crate::store::ScheduleKind, chat: &ChatKey) -> StoreResult<Option<$crate::store::ScheduleRecord>> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM schedules WHERE kind = $1 AND platform = $2 AND chat_id = $3",
                    sql::SCHEDULE_COLS
                ));
                let row = sqlx::query(sql)
                    .bind(kind.as_str())
                    .bind(chat.platform.as_str())
                    .bind(&chat.chat_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(schedule_row).transpose()
            }

            #[tracing::instrument(skip_all)]
            async fn due_schedules(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<$crate::store::ScheduleRecord>> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM schedules WHERE enabled = $2 AND (next_run_at IS NULL OR next_run_at <= $1) \
                     ORDER BY COALESCE(next_run_at, $1), id LIMIT $3",
                    sql::SCHEDULE_COLS
                ));
                let rows = sqlx::query(sql).bind(now).bind(true).bind(limit).fetch_all(&self.pool).await?;
                rows.iter().map(schedule_row).collect()
            }

            #[tracing::instrument(skip_all)]
            async fn mark_schedule_run(
                &self,
                id: i64,
                ran_at: Option<DateTime<Utc>>,
                next_run_at: Option<DateTime<Utc>>,
            ) -> StoreResult<()> {
                sqlx::query("UPDATE schedules SET last_run_at = COALESCE($2, last_run_at), next_run_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(ran_at)
                    .bind(next_run_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(kind = %kind))]
            async fn pause_schedule(
                &self,
                kind: $crate::store::ScheduleKind,
                chat: &ChatKey,
                reason: $crate::store::PausedReason,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE schedules SET enabled = $4, paused_reason = $5 \
                     WHERE kind = $1 AND platform = $2 AND chat_id = $3 AND enabled = $6",
                )
                .bind(kind.as_str())
                .bind(chat.platform.as_str())
                .bind(&chat.chat_id)
                .bind(false)
                .bind(reason.as_str())
                .bind(true)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            #[tracing::instrument(skip_all, fields(kind = %job.kind))]
            async fn enqueue_job(&self, job: &NewJob) -> StoreResult<bool> {
                let now = Utc::now();
                let done = sqlx::query(
                    "INSERT INTO jobs (kind, dedupe_key, user_id, payload, run_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(&job.kind)
                .bind(&job.dedupe_key)
                .bind(job.user_id.map(|u| u.0))
                .bind(&job.payload)
                .bind(job.run_at)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(worker = %worker))]
            async fn claim_jobs(
                &self,
                worker: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                limit: i64,
            ) -> StoreResult<Vec<ClaimedJob>> {
                let rows = sqlx::query($claim)
                    .bind(worker)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(ClaimedJob {
                            id: r.try_get("id")?,
                            kind: r.try_get("kind")?,
                            dedupe_key: r.try_get("dedupe_key")?,
                            user_id: r.try_get::<Option<i64>, _>("user_id")?.map(UserId),
                            payload: r.try_get("payload")?,
                            attempts: r.try_get("attempts")?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip_all)]
            async fn complete_job(&self, job_id: i64, worker: &str) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, updated_at = $3 \
                     WHERE id = $1 AND locked_by = $2 AND status = 'running'",
                )
                .bind(job_id)
                .bind(worker)
                .bind(Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all)]
            async fn fail_job(&self, job_id: i64, worker: &str, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE jobs SET status = $4, \
                       run_at = COALESCE($5, run_at), last_error = $3, locked_by = NULL, locked_until = NULL, \
                       updated_at = $6 \
                     WHERE id = $1 AND locked_by = $2",
                )
                .bind(job_id)
                .bind(worker)
                .bind(error.chars().take(2000).collect::<String>())
                .bind(if retry_at.is_some() { "pending" } else { "failed" })
                .bind(retry_at)
                .bind(Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn queue_depth(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running')")
                    .fetch_one(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(provider, %until))]
            async fn pause_provider(&self, provider: &str, until: DateTime<Utc>, reason: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO provider_pauses (provider, until, reason) VALUES ($1, $2, $3) \
                     ON CONFLICT (provider) DO UPDATE SET until = excluded.until, reason = excluded.reason \
                     WHERE provider_pauses.until < excluded.until",
                )
                .bind(provider)
                .bind(until)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(provider))]
            async fn provider_paused_until(
                &self,
                provider: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<Option<DateTime<Utc>>> {
                let until: Option<DateTime<Utc>> =
                    sqlx::query_scalar("SELECT until FROM provider_pauses WHERE provider = $1")
                        .bind(provider)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(until.filter(|u| *u > now))
            }
        }
    };
}

pub(crate) use impl_schedules;

//! Sealed credentials and sync progress: `impl CredentialStore` for each backend, from the SQL both accept.

macro_rules! impl_credentials {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::CredentialStore for $ty {
            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn put_credential(&self, id: UserId, provider: &str, sealed: &[u8]) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO credentials (user_id, provider, secret, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id, provider) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at",
                )
                .bind(id.0)
                .bind(provider)
                .bind(sealed)
                .bind(Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn get_credential(&self, id: UserId, provider: &str) -> StoreResult<Option<Vec<u8>>> {
                let sealed: Option<Vec<u8>> =
                    sqlx::query_scalar("SELECT secret FROM credentials WHERE user_id = $1 AND provider = $2")
                        .bind(id.0)
                        .bind(provider)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(sealed)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn delete_credential(&self, id: UserId, provider: &str) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM credentials WHERE user_id = $1 AND provider = $2")
                    .bind(id.0)
                    .bind(provider)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn history_synced(&self, id: UserId, provider: &str) -> StoreResult<bool> {
                let meta: Option<Option<serde_json::Value>> =
                    sqlx::query_scalar("SELECT meta FROM credentials WHERE user_id = $1 AND provider = $2")
                        .bind(id.0)
                        .bind(provider)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(meta.flatten().is_some_and(|m| m.get("history_synced") == Some(&serde_json::Value::Bool(true))))
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn mark_history_synced(&self, id: UserId, provider: &str) -> StoreResult<()> {
                sqlx::query("UPDATE credentials SET meta = $3 WHERE user_id = $1 AND provider = $2")
                    .bind(id.0)
                    .bind(provider)
                    .bind(serde_json::json!({ "history_synced": true }))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn pushed_workouts(
                &self,
                id: UserId,
                from: chrono::NaiveDate,
                to: chrono::NaiveDate,
            ) -> StoreResult<Vec<$crate::store::PushedWorkout>> {
                let rows: Vec<(chrono::NaiveDate, String, Option<String>, String, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT session_date, workout_id, schedule_id, fingerprint, pushed_at FROM garmin_workouts \
                     WHERE user_id = $1 AND session_date >= $2 AND session_date <= $3 ORDER BY session_date",
                )
                .bind(id.0)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(date, workout_id, schedule_id, fingerprint, pushed_at)| $crate::store::PushedWorkout {
                        date,
                        workout_id,
                        schedule_id,
                        fingerprint,
                        pushed_at,
                    })
                    .collect())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn record_pushed_workout(&self, id: UserId, p: &$crate::store::PushedWorkout) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO garmin_workouts (user_id, session_date, workout_id, schedule_id, fingerprint, pushed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, session_date) DO UPDATE SET \
                     workout_id = excluded.workout_id, schedule_id = excluded.schedule_id, \
                     fingerprint = excluded.fingerprint, pushed_at = excluded.pushed_at",
                )
                .bind(id.0)
                .bind(p.date)
                .bind(&p.workout_id)
                .bind(&p.schedule_id)
                .bind(&p.fingerprint)
                .bind(p.pushed_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn forget_pushed_workout(&self, id: UserId, date: chrono::NaiveDate) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM garmin_workouts WHERE user_id = $1 AND session_date = $2")
                    .bind(id.0)
                    .bind(date)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn watch_auto_push(&self, id: UserId) -> StoreResult<bool> {
                let on: Option<bool> = sqlx::query_scalar("SELECT auto_push FROM watch_settings WHERE user_id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(on.unwrap_or(false))
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn set_watch_auto_push(&self, id: UserId, on: bool) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO watch_settings (user_id, auto_push, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET auto_push = excluded.auto_push, updated_at = excluded.updated_at",
                )
                .bind(id.0)
                .bind(on)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_credentials;

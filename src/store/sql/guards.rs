//! Shared limits and API keys: `impl GuardStore` for each backend, from the SQL both accept.

macro_rules! impl_guards {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::GuardStore for $ty {
            #[tracing::instrument(skip_all, fields(bucket))]
            async fn count_hits(
                &self,
                bucket: &str,
                window_start: DateTime<Utc>,
                window_end: DateTime<Utc>,
                cost: i64,
            ) -> StoreResult<i64> {
                // RETURNING committed explicitly (see update_profile).
                let mut tx = self.begin_write().await?;
                let hits: i64 = sqlx::query_scalar(
                    "INSERT INTO rate_windows (bucket, window_start, window_end, hits) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_windows.hits + excluded.hits \
                     RETURNING hits",
                )
                .bind(bucket)
                .bind(window_start)
                .bind(window_end)
                .bind(cost)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(hits)
            }

            #[tracing::instrument(skip_all, fields(bucket))]
            async fn window_hits(&self, bucket: &str, window_start: DateTime<Utc>) -> StoreResult<i64> {
                let hits: Option<i64> =
                    sqlx::query_scalar("SELECT hits FROM rate_windows WHERE bucket = $1 AND window_start = $2")
                        .bind(bucket)
                        .bind(window_start)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(hits.unwrap_or(0))
            }

            #[tracing::instrument(skip_all)]
            async fn purge_windows(&self, now: DateTime<Utc>) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM rate_windows WHERE window_end < $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(done)
            }

            #[tracing::instrument(skip_all, fields(name))]
            async fn insert_api_key(&self, name: &str, secret_sha256: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "INSERT INTO api_keys (name, secret_sha256, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(secret_sha256)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(done > 0)
            }

            #[tracing::instrument(skip_all)]
            async fn api_key_named(&self, secret_sha256: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT name FROM api_keys WHERE secret_sha256 = $1 AND revoked_at IS NULL")
                    .bind(secret_sha256)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn api_keys(&self) -> StoreResult<Vec<$crate::store::ApiKeyRecord>> {
                let rows = sqlx::query("SELECT name, created_at, revoked_at FROM api_keys ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok($crate::store::ApiKeyRecord {
                            name: r.try_get("name")?,
                            created_at: r.try_get("created_at")?,
                            revoked_at: r.try_get("revoked_at")?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip_all, fields(name))]
            async fn revoke_api_key(&self, name: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL")
                    .bind(name)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(done > 0)
            }
        }
    };
}

pub(crate) use impl_guards;

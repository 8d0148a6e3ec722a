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
        }
    };
}

pub(crate) use impl_credentials;

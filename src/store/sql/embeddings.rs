//! The knowledge base's embedding cache: `impl EmbeddingStore` for each backend, from the SQL both accept.

macro_rules! impl_embeddings {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::EmbeddingStore for $ty {
            #[tracing::instrument(skip_all, fields(model = %model, n = hashes.len()))]
            async fn cached_embeddings(&self, model: &str, hashes: &[String]) -> StoreResult<Vec<(String, Vec<f32>)>> {
                let mut out = Vec::with_capacity(hashes.len());
                // Bounded IN lists keep well under both databases' bind-parameter limits.
                for batch in hashes.chunks(500) {
                    let marks: Vec<String> = (0..batch.len()).map(|i| format!("${}", i + 2)).collect();
                    let sql = sqlx::AssertSqlSafe(format!(
                        "SELECT content_hash, dims, vector FROM kb_embeddings WHERE model = $1 AND content_hash IN ({})",
                        marks.join(", ")
                    ));
                    let mut query = sqlx::query(sql).bind(model);
                    for hash in batch {
                        query = query.bind(hash);
                    }
                    for row in query.fetch_all(&self.pool).await? {
                        let dims: i32 = row.try_get("dims")?;
                        let bytes: Vec<u8> = row.try_get("vector")?;
                        // A row that doesn't decode is left out: it gets re-embedded and replaced.
                        if let Some(vector) = sql::decode_vector(&bytes, dims) {
                            out.push((row.try_get("content_hash")?, vector));
                        }
                    }
                }
                Ok(out)
            }

            #[tracing::instrument(skip_all, fields(model = %model, n = items.len()))]
            async fn put_embeddings(&self, model: &str, items: &[(String, Vec<f32>)]) -> StoreResult<()> {
                let now = Utc::now();
                let mut tx = self.begin_write().await?;
                for (hash, vector) in items {
                    let dims = i32::try_from(vector.len()).map_err(|e| StoreError::Conflict($crate::store::DbDetail::caused_by(e)))?;
                    sqlx::query(
                        "INSERT INTO kb_embeddings (model, content_hash, dims, vector, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model, content_hash) \
                         DO UPDATE SET dims = excluded.dims, vector = excluded.vector, created_at = excluded.created_at",
                    )
                    .bind(model)
                    .bind(hash)
                    .bind(dims)
                    .bind(sql::encode_vector(vector))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_embeddings;

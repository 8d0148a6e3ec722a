//! What is past its keeping time: `impl RetentionStore` for each backend, from the SQL both accept.

macro_rules! impl_retention {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::RetentionStore for $ty {
            #[tracing::instrument(skip_all, fields(dry_run))]
            async fn apply_retention(
                &self,
                c: &$crate::store::RetentionCutoffs,
                dry_run: bool,
            ) -> StoreResult<$crate::store::RetentionCounts> {
                // (table, condition, cutoff): the condition's $1 is the cutoff.
                enum Cut {
                    At(DateTime<Utc>),
                    Day(String),
                }
                let rules: [(&str, &str, Cut); 7] = [
                    ("messages", "created_at < $1", Cut::At(c.messages_before)),
                    // A conversation goes with its last message (its running summary with it).
                    (
                        "conversations",
                        "updated_at < $1 AND NOT EXISTS (SELECT 1 FROM messages m \
                         WHERE m.conversation_id = conversations.id AND m.created_at >= $1)",
                        Cut::At(c.messages_before),
                    ),
                    ("jobs", "status IN ('done', 'failed') AND updated_at < $1", Cut::At(c.jobs_before)),
                    ("audit_log", "created_at < $1", Cut::At(c.audit_before)),
                    ("llm_usage", "day < $1", Cut::Day(c.llm_usage_before.format("%Y-%m-%d").to_string())),
                    ("link_codes", "expires_at < $1", Cut::At(c.link_codes_before)),
                    ("dialogue_states", "updated_at < $1", Cut::At(c.dialogue_states_before)),
                ];
                let mut tx = self.begin_write().await?;
                let mut counts = Vec::with_capacity(rules.len());
                for (table, condition, cut) in &rules {
                    let verb = if dry_run { "SELECT COUNT(*) FROM" } else { "DELETE FROM" };
                    let sql = sqlx::AssertSqlSafe(format!("{verb} {table} WHERE {condition}"));
                    let n = if dry_run {
                        let q = sqlx::query_scalar::<_, i64>(sql);
                        let q = match cut {
                            Cut::At(t) => q.bind(*t),
                            Cut::Day(d) => q.bind(d.clone()),
                        };
                        u64::try_from(q.fetch_one(&mut *tx).await?).unwrap_or(0)
                    } else {
                        let q = sqlx::query(sql);
                        let q = match cut {
                            Cut::At(t) => q.bind(*t),
                            Cut::Day(d) => q.bind(d.clone()),
                        };
                        q.execute(&mut *tx).await?.rows_affected()
                    };
                    counts.push(n);
                }
                if dry_run {
                    tx.rollback().await?;
                } else {
                    tx.commit().await?;
                }
                let at = |i: usize| counts.get(i).copied().unwrap_or(0);
                Ok($crate::store::RetentionCounts {
                    messages: at(0),
                    conversations: at(1),
                    jobs: at(2),
                    audit_log: at(3),
                    llm_usage: at(4),
                    link_codes: at(5),
                    dialogue_states: at(6),
                })
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn touch_user(&self, id: UserId, now: DateTime<Utc>) -> StoreResult<()> {
                // At most one write a day per runner: the day is all inactivity needs.
                sqlx::query(
                    "UPDATE users SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)",
                )
                .bind(id.0)
                .bind(now)
                .bind(now - chrono::Duration::days(1))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn inactive_runners(&self, before: DateTime<Utc>) -> StoreResult<Vec<(UserId, DateTime<Utc>)>> {
                let rows: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT id, COALESCE(last_seen_at, created_at) FROM users \
                     WHERE COALESCE(last_seen_at, created_at) < $1 ORDER BY id",
                )
                .bind(before)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(id, at)| (UserId(id), at)).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn inactivity_notices(&self) -> StoreResult<Vec<(UserId, DateTime<Utc>, chrono::NaiveDate)>> {
                let rows: Vec<(i64, DateTime<Utc>, chrono::NaiveDate)> =
                    sqlx::query_as("SELECT user_id, warned_at, erase_on FROM inactivity_notices ORDER BY user_id")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(id, at, on)| (UserId(id), at, on)).collect())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn set_inactivity_notice(
                &self,
                id: UserId,
                notice: Option<(DateTime<Utc>, chrono::NaiveDate)>,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM inactivity_notices WHERE user_id = $1").bind(id.0).execute(&mut *tx).await?;
                if let Some((warned_at, erase_on)) = notice {
                    sqlx::query("INSERT INTO inactivity_notices (user_id, warned_at, erase_on) VALUES ($1, $2, $3)")
                        .bind(id.0)
                        .bind(warned_at)
                        .bind(erase_on)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_retention;

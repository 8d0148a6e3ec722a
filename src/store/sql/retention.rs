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
        }
    };
}

pub(crate) use impl_retention;

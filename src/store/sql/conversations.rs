//! Messages, ratings, conversation summaries, wellness, LLM usage, dialogue state: `impl ConversationStore` for each backend, from the SQL both accept.

macro_rules! impl_conversations {
    ($ty:ty, $db:ty) => {
        /// Message rows read newest first (`ORDER BY id DESC LIMIT n`), returned oldest first.
        fn messages_oldest_first(rows: &[<$db as sqlx::Database>::Row]) -> StoreResult<Vec<StoredMessage>> {
            let mut out = rows
                .iter()
                .map(|r| Ok(<sql::MessageRow as sqlx::FromRow<_>>::from_row(r)?.into()))
                .collect::<StoreResult<Vec<StoredMessage>>>()?;
            out.reverse();
            Ok(out)
        }
        #[async_trait::async_trait]
        impl $crate::store::ConversationStore for $ty {
            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn append_message(&self, id: UserId, chat: &ChatKey, role: Role, content: &str) -> StoreResult<i64> {
                let now = Utc::now();
                let mut tx = self.begin_write().await?;
                let conversation: i64 = sqlx::query_scalar(
                    "INSERT INTO conversations (user_id, platform, chat_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $4) \
                     ON CONFLICT (user_id, platform, chat_id) DO UPDATE SET updated_at = excluded.updated_at \
                     RETURNING id",
                )
                .bind(id.0)
                .bind(chat.platform.as_str())
                .bind(&chat.chat_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let message: i64 = sqlx::query_scalar(
                    "INSERT INTO messages (conversation_id, user_id, role, content, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(conversation)
                .bind(id.0)
                .bind(role.as_str())
                .bind(content)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(message)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn recent_messages(&self, id: UserId, chat: &ChatKey, limit: i64) -> StoreResult<Vec<StoredMessage>> {
                let rows = sqlx::query(
                    "SELECT m.id, m.role, m.content, m.created_at FROM messages m \
                     JOIN conversations c ON c.id = m.conversation_id \
                     WHERE c.user_id = $1 AND c.platform = $2 AND c.chat_id = $3 \
                     ORDER BY m.id DESC LIMIT $4",
                )
                .bind(id.0)
                .bind(chat.platform.as_str())
                .bind(&chat.chat_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                messages_oldest_first(&rows)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn recent_conversation(&self, id: UserId, limit: i64) -> StoreResult<Vec<StoredMessage>> {
                // Every private chat of the runner, Telegram and Discord alike: one conversation.
                let rows = sqlx::query(
                    "SELECT id, role, content, created_at FROM messages WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(id.0)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                messages_oldest_first(&rows)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn rate_message(&self, id: UserId, message_id: i64, rating: i16) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE messages SET rating = $3 WHERE id = $2 AND user_id = $1 AND role = 'assistant'",
                )
                .bind(id.0)
                .bind(message_id)
                .bind(i32::from(rating))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn message_rating(&self, id: UserId, message_id: i64) -> StoreResult<Option<i16>> {
                let rating: Option<Option<i32>> =
                    sqlx::query_scalar("SELECT rating FROM messages WHERE id = $2 AND user_id = $1")
                        .bind(id.0)
                        .bind(message_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(rating.flatten().and_then(|r| i16::try_from(r).ok()))
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn conversation_summary(&self, id: UserId) -> StoreResult<Option<(String, i64)>> {
                let row = sqlx::query(
                    "SELECT summary, summary_upto FROM conversations \
                     WHERE user_id = $1 AND summary IS NOT NULL AND summary_upto IS NOT NULL \
                     ORDER BY summary_upto DESC LIMIT 1",
                )
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(r) => Ok(Some((r.try_get("summary")?, r.try_get("summary_upto")?))),
                    None => Ok(None),
                }
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn set_conversation_summary(
                &self,
                id: UserId,
                chat: &ChatKey,
                summary: &str,
                upto: i64,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE conversations SET summary = $4, summary_upto = $5 \
                     WHERE user_id = $1 AND platform = $2 AND chat_id = $3",
                )
                .bind(id.0)
                .bind(chat.platform.as_str())
                .bind(&chat.chat_id)
                .bind(summary)
                .bind(upto)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn log_wellness(&self, id: UserId, feeling: &str, note: Option<&str>) -> StoreResult<i64> {
                // RETURNING committed explicitly (see update_profile).
                let mut tx = self.begin_write().await?;
                let value = sqlx::query_scalar(
                    "INSERT INTO wellness_log (user_id, feeling, note, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(id.0)
                .bind(feeling)
                .bind(note)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(value)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn add_llm_usage(&self, id: UserId, day: &str, tokens: i64) -> StoreResult<i64> {
                // RETURNING committed explicitly (see update_profile).
                let mut tx = self.begin_write().await?;
                let value = sqlx::query_scalar(
                    "INSERT INTO llm_usage (user_id, day, tokens, calls) VALUES ($1, $2, $3, 1) \
                     ON CONFLICT (user_id, day) DO UPDATE SET tokens = llm_usage.tokens + excluded.tokens, \
                     calls = llm_usage.calls + 1 RETURNING tokens",
                )
                .bind(id.0)
                .bind(day)
                .bind(tokens)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(value)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn llm_usage(&self, id: UserId, day: &str) -> StoreResult<i64> {
                let tokens: Option<i64> = sqlx::query_scalar("SELECT tokens FROM llm_usage WHERE user_id = $1 AND day = $2")
                    .bind(id.0)
                    .bind(day)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(tokens.unwrap_or(0))
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn dialogue_state(&self, id: UserId, chat: &ChatKey) -> StoreResult<Option<serde_json::Value>> {
                Ok(sqlx::query_scalar(
                    "SELECT state FROM dialogue_states WHERE platform = $1 AND chat_id = $2 AND user_id = $3",
                )
                .bind(chat.platform.as_str())
                .bind(&chat.chat_id)
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn set_dialogue_state(
                &self,
                id: UserId,
                chat: &ChatKey,
                state: Option<&serde_json::Value>,
            ) -> StoreResult<()> {
                match state {
                    Some(state) => {
                        sqlx::query(
                            "INSERT INTO dialogue_states (platform, chat_id, user_id, state, updated_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, chat_id, user_id) \
                             DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                        )
                        .bind(chat.platform.as_str())
                        .bind(&chat.chat_id)
                        .bind(id.0)
                        .bind(state)
                        .bind(Utc::now())
                        .execute(&self.pool)
                        .await?;
                    }
                    None => {
                        sqlx::query(
                            "DELETE FROM dialogue_states WHERE platform = $1 AND chat_id = $2 AND user_id = $3",
                        )
                        .bind(chat.platform.as_str())
                        .bind(&chat.chat_id)
                        .bind(id.0)
                        .execute(&self.pool)
                        .await?;
                    }
                }
                Ok(())
            }
        }
    };
}

pub(crate) use impl_conversations;

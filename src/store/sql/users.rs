//! Runners, identities and link codes: `impl UserStore` for each backend, from the SQL both accept.

macro_rules! impl_users {
    ($ty:ty, $db:ty) => {
        fn user_row(r: &<$db as sqlx::Database>::Row) -> StoreResult<sql::UserRow> {
            Ok(<sql::UserRow as sqlx::FromRow<_>>::from_row(r)?)
        }

        #[async_trait::async_trait]
        impl $crate::store::UserStore for $ty {
            #[tracing::instrument(skip_all, fields(platform = %identity.platform))]
            async fn resolve_identity(
                &self,
                identity: &PlatformIdentity,
                username: Option<&str>,
                default_lang: Lang,
            ) -> StoreResult<Resolved> {
                if let Some(user) = self.find_user(identity).await? {
                    return Ok(Resolved { user, created: false });
                }
                let now = Utc::now();
                let mut tx = self.begin_write().await?;
                let user_id: i64 = sqlx::query_scalar(
                    "INSERT INTO users (display_name, language, created_at, updated_at) \
                     VALUES ($1, $2, $3, $3) RETURNING id",
                )
                .bind(username)
                .bind(default_lang.code())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let linked: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO identities (user_id, platform, platform_user_id, username, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (platform, platform_user_id) DO NOTHING RETURNING user_id",
                )
                .bind(user_id)
                .bind(identity.platform.as_str())
                .bind(&identity.platform_user_id)
                .bind(username)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if linked.is_none() {
                    // Another instance created this identity first: use theirs.
                    tx.rollback().await?;
                    let user = self.find_user(identity).await?.ok_or(StoreError::NotFound)?;
                    return Ok(Resolved { user, created: false });
                }
                tx.commit().await?;
                Ok(Resolved { user: self.get_user(UserId(user_id)).await?, created: true })
            }

            #[tracing::instrument(skip_all)]
            async fn find_user(&self, identity: &PlatformIdentity) -> StoreResult<Option<User>> {
                let id: Option<i64> = sqlx::query_scalar(
                    "SELECT user_id FROM identities WHERE platform = $1 AND platform_user_id = $2",
                )
                .bind(identity.platform.as_str())
                .bind(&identity.platform_user_id)
                .fetch_optional(&self.pool)
                .await?;
                match id {
                    Some(id) => Ok(Some(self.get_user(UserId(id)).await?)),
                    None => Ok(None),
                }
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn get_user(&self, id: UserId) -> StoreResult<User> {
                let sql = sqlx::AssertSqlSafe(format!("SELECT {} FROM users WHERE id = $1", sql::USER_COLS));
                let row = sqlx::query(sql).bind(id.0).fetch_optional(&self.pool).await?;
                let row = row.ok_or(StoreError::NotFound)?;
                Ok(user_row(&row)?.into_user())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn set_language(&self, id: UserId, lang: Lang) -> StoreResult<()> {
                let done = sqlx::query("UPDATE users SET language = $2, updated_at = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(lang.code())
                    .bind(Utc::now())
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn update_profile(&self, id: UserId, u: &ProfileUpdate) -> StoreResult<User> {
                let p = &u.profile;
                let sql = sqlx::AssertSqlSafe(format!(
                    "UPDATE users SET \
                       birth_year = COALESCE($2, birth_year), sex = COALESCE($3, sex), \
                       weight_kg = COALESCE($4, weight_kg), height_cm = COALESCE($5, height_cm), \
                       resting_hr = COALESCE($6, resting_hr), max_hr = COALESCE($7, max_hr), \
                       vma_kmh = COALESCE($8, vma_kmh), vo2max = COALESCE($9, vo2max), \
                       timezone = COALESCE($10, timezone), units = COALESCE($11, units), \
                       updated_at = $12 \
                     WHERE id = $1 RETURNING {}",
                    sql::USER_COLS
                ));
                // RETURNING in a transaction of its own: SQLite commits an autocommit RETURNING
                // statement only when the statement is reset, and sqlx drops the error of that
                // commit (a full disk), so the change would be reported done and be lost.
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(sql)
                    .bind(id.0)
                    .bind(p.birth_year.map(|b| b.year()))
                    .bind(p.sex.map(|s| s.as_str()))
                    .bind(p.weight.map(|w| w.get()))
                    .bind(p.height.map(|h| h.get()))
                    .bind(p.resting_hr.map(|h| i32::from(h.bpm())))
                    .bind(p.max_hr.map(|h| i32::from(h.bpm())))
                    .bind(p.vma.map(|v| v.get()))
                    .bind(p.vo2max.map(|v| v.get()))
                    .bind(u.timezone.as_ref().map(|t| t.as_str().to_owned()))
                    .bind(u.units.map(|x| x.as_str()))
                    .bind(Utc::now())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let user = user_row(&row)?.into_user();
                tx.commit().await?;
                Ok(user)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn set_location(&self, id: UserId, location: Option<&Location>) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE users SET location_lat = $2, location_lon = $3, location_name = $4, updated_at = $5 \
                     WHERE id = $1",
                )
                .bind(id.0)
                .bind(location.map(Location::lat))
                .bind(location.map(Location::lon))
                .bind(location.and_then(Location::name))
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn identities(&self, id: UserId) -> StoreResult<Vec<IdentityRecord>> {
                let rows = sqlx::query(
                    "SELECT platform, platform_user_id, username, created_at FROM identities \
                     WHERE user_id = $1 ORDER BY id",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let platform: String = r.try_get("platform")?;
                        Ok(IdentityRecord {
                            platform: platform.parse().map_err(|e: UnknownPlatform| StoreError::Corrupt($crate::store::DbDetail::caused_by(e)))?,
                            platform_user_id: r.try_get("platform_user_id")?,
                            username: r.try_get("username")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn create_link_code(&self, id: UserId, code: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                // One live code per runner: a new /link replaces the previous code.
                sqlx::query("DELETE FROM link_codes WHERE user_id = $1").bind(id.0).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO link_codes (code, user_id, expires_at) VALUES ($1, $2, $3)")
                    .bind(code)
                    .bind(id.0)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn peek_link_code(&self, code: &str, now: DateTime<Utc>) -> StoreResult<Result<UserId, LinkError>> {
                let row = sqlx::query("SELECT user_id, expires_at FROM link_codes WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else {
                    return Ok(Err(LinkError::Invalid));
                };
                let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
                if expires_at < now {
                    return Ok(Err(LinkError::Expired));
                }
                Ok(Ok(UserId(row.try_get("user_id")?)))
            }

            #[tracing::instrument(skip_all, fields(user = %redeemer))]
            async fn redeem_link_code(
                &self,
                code: &str,
                redeemer: UserId,
                now: DateTime<Utc>,
            ) -> StoreResult<Result<LinkOutcome, LinkError>> {
                let mut tx = self.begin_write().await?;
                // Claimed first, in one statement: of two redemptions at once, the second finds
                // no code (on PostgreSQL it waits for the first and then deletes nothing).
                let row = sqlx::query("DELETE FROM link_codes WHERE code = $1 RETURNING user_id, expires_at")
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    return Ok(Err(LinkError::Invalid));
                };
                let kept: i64 = row.try_get("user_id")?;
                let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
                if expires_at < now {
                    tx.commit().await?;
                    return Ok(Err(LinkError::Expired));
                }
                if kept == redeemer.0 {
                    // The code stays usable from the other account: nothing is claimed.
                    return Ok(Err(LinkError::SameUser));
                }
                let (k, m) = (kept, redeemer.0);
                // Each statement reads $1 = kept runner, $2 = merged runner.
                let statements: &[&str] = &[
                    // The kept runner's profile wins; gaps are filled from the merged one.
                    "UPDATE users SET \
                       birth_year = COALESCE(birth_year, (SELECT birth_year FROM users WHERE id = $2)), \
                       sex = COALESCE(sex, (SELECT sex FROM users WHERE id = $2)), \
                       weight_kg = COALESCE(weight_kg, (SELECT weight_kg FROM users WHERE id = $2)), \
                       height_cm = COALESCE(height_cm, (SELECT height_cm FROM users WHERE id = $2)), \
                       resting_hr = COALESCE(resting_hr, (SELECT resting_hr FROM users WHERE id = $2)), \
                       max_hr = COALESCE(max_hr, (SELECT max_hr FROM users WHERE id = $2)), \
                       vma_kmh = COALESCE(vma_kmh, (SELECT vma_kmh FROM users WHERE id = $2)), \
                       vo2max = COALESCE(vo2max, (SELECT vo2max FROM users WHERE id = $2)) \
                     WHERE id = $1",
                    // Activities both runners have (same source and id) are kept once.
                    "DELETE FROM activities WHERE user_id = $2 AND external_id IS NOT NULL AND EXISTS ( \
                       SELECT 1 FROM activities k WHERE k.user_id = $1 AND k.source = activities.source \
                       AND k.external_id = activities.external_id)",
                    // Two conversations in the same chat become one.
                    "UPDATE messages SET conversation_id = ( \
                       SELECT k.id FROM conversations k JOIN conversations m \
                         ON k.platform = m.platform AND k.chat_id = m.chat_id \
                       WHERE m.id = messages.conversation_id AND k.user_id = $1) \
                     WHERE user_id = $2 AND conversation_id IN ( \
                       SELECT m.id FROM conversations m JOIN conversations k \
                         ON k.platform = m.platform AND k.chat_id = m.chat_id AND k.user_id = $1 \
                       WHERE m.user_id = $2)",
                    "DELETE FROM conversations WHERE user_id = $2 AND EXISTS ( \
                       SELECT 1 FROM conversations k WHERE k.user_id = $1 \
                       AND k.platform = conversations.platform AND k.chat_id = conversations.chat_id)",
                    "DELETE FROM credentials WHERE user_id = $2 AND provider IN ( \
                       SELECT provider FROM credentials WHERE user_id = $1)",
                    "DELETE FROM club_members WHERE user_id = $2 AND guild_id IN ( \
                       SELECT guild_id FROM club_members WHERE user_id = $1)",
                    "UPDATE plans SET status = 'archived' WHERE user_id = $2 AND status = 'active' \
                     AND EXISTS (SELECT 1 FROM plans p WHERE p.user_id = $1 AND p.status = 'active')",
                    // Same day on both accounts: the kept one carries the sum (the budget is per person).
                    "UPDATE llm_usage SET tokens = tokens + (SELECT m.tokens FROM llm_usage m \
                       WHERE m.user_id = $2 AND m.day = llm_usage.day), \
                       calls = calls + (SELECT m.calls FROM llm_usage m WHERE m.user_id = $2 AND m.day = llm_usage.day) \
                     WHERE user_id = $1 AND day IN (SELECT day FROM llm_usage WHERE user_id = $2)",
                    "DELETE FROM llm_usage WHERE user_id = $2 AND day IN (SELECT day FROM llm_usage WHERE user_id = $1)",
                    // Garmin workouts of the kept runner win a day both pushed; its settings win.
                    "DELETE FROM garmin_workouts WHERE user_id = $2 AND session_date IN ( \
                       SELECT session_date FROM garmin_workouts WHERE user_id = $1)",
                    "DELETE FROM watch_settings WHERE user_id = $2 AND EXISTS ( \
                       SELECT 1 FROM watch_settings WHERE user_id = $1)",
                ];
                // Pending dialogues and codes of the merged runner make no sense any more.
                for sql in ["DELETE FROM link_codes WHERE user_id = $1", "DELETE FROM dialogue_states WHERE user_id = $1"] {
                    sqlx::query(sql).bind(m).execute(&mut *tx).await?;
                }
                for statement in statements {
                    sqlx::query(*statement).bind(k).bind(m).execute(&mut *tx).await?;
                }
                for table in USER_TABLES {
                    let sql = sqlx::AssertSqlSafe(format!("UPDATE {table} SET user_id = $1 WHERE user_id = $2"));
                    sqlx::query(sql).bind(k).bind(m).execute(&mut *tx).await?;
                }
                sqlx::query("DELETE FROM users WHERE id = $1").bind(m).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO audit_log (user_id, actor, action, detail, created_at) VALUES ($1, 'user', 'link', $2, $3)",
                )
                .bind(k)
                .bind(serde_json::json!({ "merged_user": m }))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Ok(LinkOutcome { kept: UserId(k), merged: UserId(m) }))
            }
        }
    };
}

pub(crate) use impl_users;

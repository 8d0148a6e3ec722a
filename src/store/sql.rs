//! The statements both backends share. SQLite and PostgreSQL accept the same text here: `$N`
//! placeholders, `ON CONFLICT`, `RETURNING`, `COALESCE` and correlated sub-queries. The macro
//! stamps one `impl Store` per backend from it; each backend passes the few parts that differ.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{
    BirthYear, HeartRate, HeightCm, Profile, Sex, TimeZoneName, Units, User, UserId, Vma, Vo2max, WeightKg,
};
use crate::i18n::Lang;

use super::{NewActivity, StoreError, StoreResult};

pub(super) const USER_COLS: &str = "id, display_name, language, timezone, units, birth_year, sex, \
    weight_kg, height_cm, resting_hr, max_hr, vma_kmh, vo2max";

pub(super) const ACTIVITY_COLS: &str = "id, source, external_id, sport, name, start_time, utc_offset_s, \
    duration_s, moving_s, distance_m, elevation_gain_m, avg_hr, max_hr, avg_cadence, training_load, \
    vo2max, hr_zones_s, best_efforts";

pub(super) const SCHEDULE_COLS: &str = "id, user_id, kind, platform, chat_id, guild_id, cron, timezone, enabled, \
    paused_reason, last_run_at, next_run_at, lang";

/// Raw user columns, decoded by each backend and turned into a [`User`] here.
pub(super) struct UserRow {
    pub id: i64,
    pub display_name: Option<String>,
    pub language: String,
    pub timezone: String,
    pub units: String,
    pub birth_year: Option<i32>,
    pub sex: Option<String>,
    pub weight_kg: Option<f64>,
    pub height_cm: Option<f64>,
    pub resting_hr: Option<i32>,
    pub max_hr: Option<i32>,
    pub vma_kmh: Option<f64>,
    pub vo2max: Option<f64>,
}

impl UserRow {
    /// Values were validated on the way in; anything implausible read back is dropped, not trusted.
    pub fn into_user(self) -> User {
        User {
            id: UserId(self.id),
            display_name: self.display_name,
            lang: self.language.parse().unwrap_or(Lang::En),
            timezone: TimeZoneName::parse(&self.timezone).unwrap_or_default(),
            units: Units::parse(&self.units).unwrap_or_default(),
            profile: Profile {
                birth_year: self.birth_year.map(BirthYear::from_stored),
                sex: self.sex.as_deref().and_then(|s| Sex::parse(s).ok()),
                weight: self.weight_kg.and_then(|v| WeightKg::try_from_f64(v).ok()),
                height: self.height_cm.and_then(|v| HeightCm::try_from_f64(v).ok()),
                resting_hr: self.resting_hr.and_then(|v| HeartRate::resting_from_f64(f64::from(v)).ok()),
                max_hr: self.max_hr.and_then(|v| HeartRate::max_from_f64(f64::from(v)).ok()),
                vma: self.vma_kmh.and_then(|v| Vma::try_from_f64(v).ok()),
                vo2max: self.vo2max.and_then(|v| Vo2max::try_from_f64(v).ok()),
            },
        }
    }
}

/// Same activity recorded twice (a file and Garmin, or two devices' exports): starts within
/// two minutes (the caller's window), durations and distances within 5 %, and the two recordings
/// overlap for at least half the longer one. The overlap only matters under ~4 minutes, where the
/// absolute floors would otherwise merge a short walk and a short run started a minute apart.
pub(super) fn same_activity(a: &NewActivity, start: DateTime<Utc>, duration_s: f64, distance_m: Option<f64>) -> bool {
    let close = |x: f64, y: f64, floor: f64| (x - y).abs() <= floor.max(0.05 * x.max(y));
    let duration_ok = close(a.duration_s, duration_s, 60.0);
    let distance_ok = match (a.distance_m, distance_m) {
        (Some(x), Some(y)) => close(x, y, 100.0),
        (None, None) => true,
        _ => false,
    };
    // With the stored one starting at 0: `a` runs over [offset, offset + a.duration_s].
    let offset_s = (a.start_time - start).num_milliseconds() as f64 / 1000.0;
    let overlap_s = (offset_s + a.duration_s).min(duration_s) - offset_s.max(0.0);
    let overlap_ok = overlap_s >= 0.5 * a.duration_s.max(duration_s);
    duration_ok && distance_ok && overlap_ok
}

pub(super) fn validate_activity(a: &NewActivity) -> StoreResult<()> {
    let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
    if !a.duration_s.is_finite() || a.duration_s < 0.0 || !finite(a.distance_m) || a.source.is_empty() {
        return Err(StoreError::Conflict("activity with invalid duration, distance or source".into()));
    }
    Ok(())
}

pub(super) fn activity_json_zones(v: Option<Value>) -> Option<Vec<f64>> {
    v.and_then(|v| serde_json::from_value(v).ok())
}

pub(super) fn start_window(t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let w = chrono::Duration::seconds(120);
    (t - w, t + w)
}

/// Embedding vectors are stored as little-endian `f32` bytes (portable across both databases).
pub(super) fn encode_vector(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(super) fn decode_vector(bytes: &[u8], dims: i32) -> Option<Vec<f32>> {
    let dims = usize::try_from(dims).ok()?;
    if bytes.len() != dims.checked_mul(4)? {
        return None;
    }
    bytes.chunks_exact(4).map(|c| <[u8; 4]>::try_from(c).ok().map(f32::from_le_bytes)).collect()
}

/// Builds the whole `impl Store` for one backend.
///
/// `$db`: the sqlx database type; `$claim`: the job-claiming statement; the backend type must also
/// provide `begin_write`, `export_rows` and `list_tables` as inherent methods.
macro_rules! impl_store {
    ($ty:ty, $db:ty, backend = $name:literal, claim = $claim:expr) => {
        /// Message rows read newest first (`ORDER BY id DESC LIMIT n`), returned oldest first.
        fn messages_oldest_first(rows: &[<$db as sqlx::Database>::Row]) -> StoreResult<Vec<StoredMessage>> {
            let mut out = rows
                .iter()
                .map(|r| {
                    let role: String = r.try_get("role")?;
                    Ok(StoredMessage {
                        id: r.try_get("id")?,
                        role: Role::parse(&role),
                        content: r.try_get("content")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            out.reverse();
            Ok(out)
        }

        async fn insert_workouts(
            tx: &mut sqlx::Transaction<'static, $db>,
            user: i64,
            plan_id: i64,
            workouts: &[$crate::store::NewPlannedWorkout],
        ) -> StoreResult<()> {
            for w in workouts {
                sqlx::query(
                    "INSERT INTO planned_workouts (plan_id, user_id, week_index, date, kind, duration_min, \
                       distance_km, pace_min_s, pace_max_s, hr_zone, description_fr, description_en, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(plan_id)
                .bind(user)
                .bind(w.week_index)
                .bind(w.date)
                .bind(&w.kind)
                .bind(w.duration_min)
                .bind(w.distance_km)
                .bind(w.pace_min_s)
                .bind(w.pace_max_s)
                .bind(w.hr_zone)
                .bind(&w.description_fr)
                .bind(&w.description_en)
                .bind(w.status.as_str())
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// The stored activity `a` would duplicate: same source and external id, or the same
        /// recording (see `sql::same_activity`).
        async fn duplicate_of(
            conn: &mut <$db as sqlx::Database>::Connection,
            user: i64,
            a: &NewActivity,
        ) -> StoreResult<Option<i64>> {
            if let Some(ext) = &a.external_id {
                let existing: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM activities WHERE user_id = $1 AND source = $2 AND external_id = $3",
                )
                .bind(user)
                .bind(&a.source)
                .bind(ext)
                .fetch_optional(&mut *conn)
                .await?;
                if existing.is_some() {
                    return Ok(existing);
                }
            }
            let (from, to) = sql::start_window(a.start_time);
            let candidates = sqlx::query(
                "SELECT id, start_time, duration_s, distance_m FROM activities \
                 WHERE user_id = $1 AND start_time >= $2 AND start_time <= $3",
            )
            .bind(user)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await?;
            for c in &candidates {
                let start: DateTime<Utc> = c.try_get("start_time")?;
                if sql::same_activity(a, start, c.try_get("duration_s")?, c.try_get("distance_m")?) {
                    return Ok(Some(c.try_get("id")?));
                }
            }
            Ok(None)
        }

        fn user_row(r: &<$db as sqlx::Database>::Row) -> StoreResult<sql::UserRow> {
            Ok(sql::UserRow {
                id: r.try_get("id")?,
                display_name: r.try_get("display_name")?,
                language: r.try_get("language")?,
                timezone: r.try_get("timezone")?,
                units: r.try_get("units")?,
                birth_year: r.try_get("birth_year")?,
                sex: r.try_get("sex")?,
                weight_kg: r.try_get("weight_kg")?,
                height_cm: r.try_get("height_cm")?,
                resting_hr: r.try_get("resting_hr")?,
                max_hr: r.try_get("max_hr")?,
                vma_kmh: r.try_get("vma_kmh")?,
                vo2max: r.try_get("vo2max")?,
            })
        }

        fn schedule_row(r: &<$db as sqlx::Database>::Row) -> StoreResult<$crate::store::ScheduleRecord> {
            let platform: String = r.try_get("platform")?;
            Ok($crate::store::ScheduleRecord {
                id: r.try_get("id")?,
                user_id: r.try_get::<Option<i64>, _>("user_id")?.map(UserId),
                kind: r.try_get("kind")?,
                chat: ChatKey {
                    platform: platform.parse().map_err(|e: UnknownPlatform| StoreError::Corrupt(e.to_string()))?,
                    chat_id: r.try_get("chat_id")?,
                },
                guild_id: r.try_get("guild_id")?,
                cron: r.try_get("cron")?,
                timezone: r.try_get("timezone")?,
                enabled: r.try_get("enabled")?,
                paused_reason: r.try_get("paused_reason")?,
                last_run_at: r.try_get("last_run_at")?,
                next_run_at: r.try_get("next_run_at")?,
                lang: r.try_get::<Option<String>, _>("lang")?.and_then(|code| code.parse().ok()),
            })
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $ty {
            fn backend(&self) -> &'static str {
                $name
            }

            #[tracing::instrument(skip_all)]
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

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
                            platform: platform.parse().map_err(|e: UnknownPlatform| StoreError::Corrupt(e.to_string()))?,
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

            #[tracing::instrument(skip_all, fields(user = %redeemer))]
            async fn redeem_link_code(
                &self,
                code: &str,
                redeemer: UserId,
                now: DateTime<Utc>,
            ) -> StoreResult<Result<LinkOutcome, LinkError>> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query("SELECT user_id, expires_at FROM link_codes WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    return Ok(Err(LinkError::Invalid));
                };
                let kept: i64 = row.try_get("user_id")?;
                let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
                if expires_at < now {
                    sqlx::query("DELETE FROM link_codes WHERE code = $1").bind(code).execute(&mut *tx).await?;
                    tx.commit().await?;
                    return Ok(Err(LinkError::Expired));
                }
                if kept == redeemer.0 {
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
                ];
                // Pending dialogues and codes of the merged runner make no sense any more.
                for sql in ["DELETE FROM link_codes WHERE user_id = $1", "DELETE FROM dialogue_states WHERE user_id = $1"] {
                    sqlx::query(sql).bind(m).execute(&mut *tx).await?;
                }
                sqlx::query("DELETE FROM link_codes WHERE code = $1").bind(code).execute(&mut *tx).await?;
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

            #[tracing::instrument(skip_all, fields(user = %id, source = %a.source))]
            async fn insert_activity(&self, id: UserId, a: &NewActivity) -> StoreResult<InsertOutcome> {
                sql::validate_activity(a)?;
                let blob = match &a.samples {
                    Some(s) if !s.is_empty() => {
                        Some(s.encode().map_err(|e| StoreError::Conflict(e.to_string()))?)
                    }
                    _ => None,
                };
                let mut tx = self.begin_write().await?;
                if let Some(existing) = duplicate_of(&mut tx, id.0, a).await? {
                    return Ok(InsertOutcome::Duplicate(existing));
                }
                let activity_id: i64 = sqlx::query_scalar(
                    "INSERT INTO activities (user_id, source, external_id, sport, name, start_time, utc_offset_s, \
                       duration_s, moving_s, distance_m, elevation_gain_m, elevation_loss_m, avg_hr, max_hr, \
                       avg_cadence, max_cadence, avg_speed_mps, max_speed_mps, calories, training_load, \
                       aerobic_te, anaerobic_te, vo2max, hr_zones_s, best_efforts, device, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
                       $19, $20, $21, $22, $23, $24, $25, $26, $27) RETURNING id",
                )
                .bind(id.0)
                .bind(&a.source)
                .bind(&a.external_id)
                .bind(&a.sport)
                .bind(&a.name)
                .bind(a.start_time)
                .bind(a.utc_offset_s)
                .bind(a.duration_s)
                .bind(a.moving_s)
                .bind(a.distance_m)
                .bind(a.elevation_gain_m)
                .bind(a.elevation_loss_m)
                .bind(a.avg_hr)
                .bind(a.max_hr)
                .bind(a.avg_cadence)
                .bind(a.max_cadence)
                .bind(a.avg_speed_mps)
                .bind(a.max_speed_mps)
                .bind(a.calories)
                .bind(a.training_load)
                .bind(a.aerobic_te)
                .bind(a.anaerobic_te)
                .bind(a.vo2max)
                .bind(a.hr_zones_s.as_ref().map(|z| serde_json::json!(z)))
                .bind(&a.best_efforts)
                .bind(&a.device)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await?;
                for (index, lap) in a.laps.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO laps (activity_id, user_id, lap_index, start_time, duration_s, distance_m, \
                           avg_hr, max_hr, avg_cadence, avg_speed_mps, intensity) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(activity_id)
                    .bind(id.0)
                    .bind(i32::try_from(index).unwrap_or(i32::MAX))
                    .bind(lap.start_time)
                    .bind(lap.duration_s)
                    .bind(lap.distance_m)
                    .bind(lap.avg_hr)
                    .bind(lap.max_hr)
                    .bind(lap.avg_cadence)
                    .bind(lap.avg_speed_mps)
                    .bind(&lap.intensity)
                    .execute(&mut *tx)
                    .await?;
                }
                if let (Some(blob), Some(series)) = (blob, &a.samples) {
                    sqlx::query(
                        "INSERT INTO samples (activity_id, user_id, format, point_count, data) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(activity_id)
                    .bind(id.0)
                    .bind($crate::domain::samples::FORMAT_V1)
                    .bind(i32::try_from(series.len()).unwrap_or(i32::MAX))
                    .bind(blob)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(InsertOutcome::Inserted(activity_id))
            }

            #[tracing::instrument(skip_all, fields(user = %id, source = %a.source))]
            async fn duplicate_activity(&self, id: UserId, a: &NewActivity) -> StoreResult<Option<i64>> {
                let mut conn = self.pool.acquire().await?;
                duplicate_of(&mut conn, id.0, a).await
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn activities(&self, id: UserId, since: Option<DateTime<Utc>>) -> StoreResult<Vec<ActivityRecord>> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM activities WHERE user_id = $1 AND start_time >= $2 ORDER BY start_time",
                    sql::ACTIVITY_COLS
                ));
                let rows = sqlx::query(sql)
                    .bind(id.0)
                    .bind(since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(ActivityRecord {
                            id: r.try_get("id")?,
                            source: r.try_get("source")?,
                            external_id: r.try_get("external_id")?,
                            sport: r.try_get("sport")?,
                            name: r.try_get("name")?,
                            start_time: r.try_get("start_time")?,
                            utc_offset_s: r.try_get("utc_offset_s")?,
                            duration_s: r.try_get("duration_s")?,
                            moving_s: r.try_get("moving_s")?,
                            distance_m: r.try_get("distance_m")?,
                            elevation_gain_m: r.try_get("elevation_gain_m")?,
                            avg_hr: r.try_get("avg_hr")?,
                            max_hr: r.try_get("max_hr")?,
                            avg_cadence: r.try_get("avg_cadence")?,
                            training_load: r.try_get("training_load")?,
                            vo2max: r.try_get("vo2max")?,
                            hr_zones_s: sql::activity_json_zones(r.try_get("hr_zones_s")?),
                            best_efforts: r.try_get("best_efforts")?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn activity_samples(&self, id: UserId, activity_id: i64) -> StoreResult<Option<SampleSeries>> {
                let blob: Option<Vec<u8>> =
                    sqlx::query_scalar("SELECT data FROM samples WHERE activity_id = $1 AND user_id = $2")
                        .bind(activity_id)
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                blob.map(|b| SampleSeries::decode(&b).map_err(|e| StoreError::Corrupt(e.to_string())))
                    .transpose()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn insert_goal(&self, id: UserId, goal: &NewGoal) -> StoreResult<i64> {
                // RETURNING committed explicitly (see update_profile).
                let mut tx = self.begin_write().await?;
                let value = sqlx::query_scalar(
                    "INSERT INTO goals (user_id, kind, target_date, target_time_s, note, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(id.0)
                .bind(&goal.kind)
                .bind(goal.target_date)
                .bind(goal.target_time_s)
                .bind(&goal.note)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(value)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn save_plan(&self, id: UserId, plan: &NewPlan) -> StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE plans SET status = 'archived' WHERE user_id = $1 AND status = 'active'")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                let plan_id: i64 = sqlx::query_scalar(
                    "INSERT INTO plans (user_id, goal, level, status, start_date, end_date, race_date, \
                       sessions_per_week, vdot, request, plan, created_at) \
                     VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(id.0)
                .bind(&plan.goal)
                .bind(&plan.level)
                .bind(plan.start_date)
                .bind(plan.end_date)
                .bind(plan.race_date)
                .bind(plan.sessions_per_week)
                .bind(plan.vdot)
                .bind(&plan.request)
                .bind(&plan.plan)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await?;
                insert_workouts(&mut tx, id.0, plan_id, &plan.workouts).await?;
                tx.commit().await?;
                Ok(plan_id)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn active_plan(&self, id: UserId) -> StoreResult<Option<$crate::store::StoredPlan>> {
                let row = sqlx::query(
                    "SELECT id, plan, created_at FROM plans WHERE user_id = $1 AND status = 'active' \
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| Ok($crate::store::StoredPlan { id: r.try_get("id")?, plan: r.try_get("plan")?, created_at: r.try_get("created_at")? }))
                    .transpose()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn plans(&self, id: UserId) -> StoreResult<Vec<$crate::store::PlanSummary>> {
                let rows = sqlx::query(
                    "SELECT id, goal, level, status, start_date, end_date, race_date, created_at FROM plans \
                     WHERE user_id = $1 ORDER BY id DESC",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok($crate::store::PlanSummary {
                            id: r.try_get("id")?,
                            goal: r.try_get("goal")?,
                            level: r.try_get("level")?,
                            status: r.try_get("status")?,
                            start_date: r.try_get("start_date")?,
                            end_date: r.try_get("end_date")?,
                            race_date: r.try_get("race_date")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn update_plan(&self, id: UserId, plan_id: i64, plan: &NewPlan) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE plans SET plan = $3, end_date = $4, race_date = $5, vdot = $6 \
                     WHERE id = $2 AND user_id = $1",
                )
                .bind(id.0)
                .bind(plan_id)
                .bind(&plan.plan)
                .bind(plan.end_date)
                .bind(plan.race_date)
                .bind(plan.vdot)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query("DELETE FROM planned_workouts WHERE plan_id = $1 AND user_id = $2")
                    .bind(plan_id)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                insert_workouts(&mut tx, id.0, plan_id, &plan.workouts).await?;
                tx.commit().await?;
                Ok(())
            }

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

            #[tracing::instrument(skip_all)]
            async fn queue_depth(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running')")
                    .fetch_one(&self.pool)
                    .await?)
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
                .bind(&s.kind)
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
            async fn schedule(&self, kind: &str, chat: &ChatKey) -> StoreResult<Option<$crate::store::ScheduleRecord>> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM schedules WHERE kind = $1 AND platform = $2 AND chat_id = $3",
                    sql::SCHEDULE_COLS
                ));
                let row = sqlx::query(sql)
                    .bind(kind)
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
            async fn pause_schedule(&self, kind: &str, chat: &ChatKey, reason: &str) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE schedules SET enabled = $4, paused_reason = $5 \
                     WHERE kind = $1 AND platform = $2 AND chat_id = $3 AND enabled = $6",
                )
                .bind(kind)
                .bind(chat.platform.as_str())
                .bind(&chat.chat_id)
                .bind(false)
                .bind(reason)
                .bind(true)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            #[tracing::instrument(skip_all)]
            async fn club_members(&self, guild_id: &str) -> StoreResult<Vec<(UserId, bool)>> {
                let rows = sqlx::query("SELECT user_id, leaderboard_opt_in FROM club_members WHERE guild_id = $1 ORDER BY user_id")
                    .bind(guild_id)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|r| Ok((UserId(r.try_get("user_id")?), r.try_get("leaderboard_opt_in")?))).collect()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn join_club(&self, id: UserId, guild_id: &str, opt_in: bool) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO club_members (guild_id, user_id, leaderboard_opt_in, joined_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (guild_id, user_id) DO UPDATE SET leaderboard_opt_in = excluded.leaderboard_opt_in",
                )
                .bind(guild_id)
                .bind(id.0)
                .bind(opt_in)
                .bind(Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn leave_club(&self, id: UserId, guild_id: &str) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM club_members WHERE guild_id = $1 AND user_id = $2")
                    .bind(guild_id)
                    .bind(id.0)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

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
            async fn audit(&self, id: Option<UserId>, actor: &str, action: &str, detail: &serde_json::Value) -> StoreResult<()> {
                sqlx::query("INSERT INTO audit_log (user_id, actor, action, detail, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id.map(|u| u.0))
                    .bind(actor)
                    .bind(action)
                    .bind(detail)
                    .bind(Utc::now())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn export_user(&self, id: UserId) -> StoreResult<serde_json::Value> {
                let user = self.get_user(id).await?;
                let mut doc = serde_json::Map::new();
                doc.insert("format".into(), serde_json::json!("runcoach-export/1"));
                doc.insert("exported_at".into(), serde_json::json!(Utc::now()));
                doc.insert("user".into(), serde_json::to_value(&user).map_err(|e| StoreError::Other(e.to_string()))?);
                for table in USER_TABLES {
                    let mut rows = self.export_rows(table, id.0).await?;
                    if *table == "samples" {
                        // The packed series is exported readable, not as an opaque blob.
                        for row in &mut rows {
                            let activity = row.get("activity_id").and_then(serde_json::Value::as_i64);
                            if let Some(activity) = activity {
                                let series = self.activity_samples(id, activity).await?;
                                if let Some(obj) = row.as_object_mut() {
                                    obj.insert("points".into(), serde_json::json!(series.map(|s| s.points)));
                                }
                            }
                        }
                    }
                    doc.insert((*table).to_owned(), serde_json::Value::Array(rows));
                }
                Ok(serde_json::Value::Object(doc))
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn erase_user(&self, id: UserId) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                // Children first, so the result doesn't depend on ON DELETE CASCADE being enforced.
                for table in USER_TABLES.iter().rev() {
                    let sql = sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE user_id = $1"));
                    sqlx::query(sql).bind(id.0).execute(&mut *tx).await?;
                }
                let gone = sqlx::query("DELETE FROM users WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
                if gone.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                // The audit keeps that an erase happened, not who the runner was.
                sqlx::query(
                    "INSERT INTO audit_log (user_id, actor, action, detail, created_at) VALUES (NULL, 'user', 'erase', $1, $2)",
                )
                .bind(serde_json::json!({ "erased_user": id.0 }))
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn count_user_rows(&self, id: UserId) -> StoreResult<Vec<(String, i64)>> {
                let mut out = Vec::with_capacity(USER_TABLES.len() + 1);
                let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await?;
                out.push(("users".to_owned(), users));
                for table in USER_TABLES {
                    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1"));
                    let n: i64 = sqlx::query_scalar(sql).bind(id.0).fetch_one(&self.pool).await?;
                    out.push(((*table).to_owned(), n));
                }
                Ok(out)
            }

            #[tracing::instrument(skip_all)]
            async fn table_names(&self) -> StoreResult<Vec<String>> {
                self.list_tables().await
            }

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
                    let dims = i32::try_from(vector.len()).map_err(|e| StoreError::Conflict(e.to_string()))?;
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

pub(crate) use impl_store;

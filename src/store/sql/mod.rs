//! The statements both backends share. SQLite and PostgreSQL accept the same text here: `$N`
//! placeholders, `ON CONFLICT`, `RETURNING`, `COALESCE` and correlated sub-queries. One file per
//! aggregate (users, activities, plans, conversations, schedules and jobs, clubs, credentials,
//! embeddings) holds a macro that stamps that aggregate's trait impl for a backend; `impl_store!`
//! stamps them all and the `Store` impl that spans them. Each backend passes the few parts that
//! differ.

pub(crate) mod activities;
pub(crate) mod admin;
pub(crate) mod clubs;
pub(crate) mod conversations;
pub(crate) mod credentials;
pub(crate) mod embeddings;
pub(crate) mod guards;
pub(crate) mod plans;
pub(crate) mod retention;
pub(crate) mod schedules;
pub(crate) mod users;
pub(crate) mod weather;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{
    BirthYear, HeartRate, HeightCm, Location, Profile, Sex, TimeZoneName, Units, User, UserId, Vma, Vo2max, WeightKg,
};
use crate::i18n::Lang;

use super::{
    ActivityRecord, DbDetail, NewActivity, PausedReason, Role, ScheduleKind, ScheduleRecord, StoreError, StoreResult,
    StoredMessage,
};
use crate::domain::UnknownPlatform;
use crate::message::ChatKey;

pub(super) const USER_COLS: &str = "id, display_name, language, timezone, units, birth_year, sex, \
    weight_kg, height_cm, resting_hr, max_hr, vma_kmh, vo2max, location_lat, location_lon, location_name, last_seen_at";

pub(super) const ACTIVITY_COLS: &str = "id, source, external_id, sport, name, start_time, utc_offset_s, \
    duration_s, moving_s, distance_m, elevation_gain_m, avg_hr, max_hr, avg_cadence, training_load, \
    vo2max, hr_zones_s, best_efforts";

pub(super) const SCHEDULE_COLS: &str = "id, user_id, kind, platform, chat_id, guild_id, cron, timezone, enabled, \
    paused_reason, last_run_at, next_run_at, lang";

/// Raw user columns (`USER_COLS`), decoded by sqlx for either backend and turned into a [`User`]
/// here.
#[derive(sqlx::FromRow)]
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
    pub location_lat: Option<f64>,
    pub location_lon: Option<f64>,
    pub location_name: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
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
            location: match (self.location_lat, self.location_lon) {
                (Some(lat), Some(lon)) => Location::new(lat, lon, self.location_name.as_deref()).ok(),
                _ => None,
            },
            last_seen_at: self.last_seen_at,
        }
    }
}

/// Raw activity columns (`ACTIVITY_COLS`).
#[derive(sqlx::FromRow)]
pub(super) struct ActivityRow {
    id: i64,
    source: String,
    external_id: Option<String>,
    sport: String,
    name: Option<String>,
    start_time: DateTime<Utc>,
    utc_offset_s: i32,
    duration_s: f64,
    moving_s: Option<f64>,
    distance_m: Option<f64>,
    elevation_gain_m: Option<f64>,
    avg_hr: Option<f64>,
    max_hr: Option<f64>,
    avg_cadence: Option<f64>,
    training_load: Option<f64>,
    vo2max: Option<f64>,
    hr_zones_s: Option<Value>,
    best_efforts: Option<Value>,
}

impl From<ActivityRow> for ActivityRecord {
    fn from(r: ActivityRow) -> Self {
        ActivityRecord {
            id: r.id,
            source: r.source,
            external_id: r.external_id,
            sport: crate::science::ActivityKind::from_stored(&r.sport),
            name: r.name,
            start_time: r.start_time,
            utc_offset_s: r.utc_offset_s,
            duration_s: r.duration_s,
            moving_s: r.moving_s,
            distance_m: r.distance_m,
            elevation_gain_m: r.elevation_gain_m,
            avg_hr: r.avg_hr,
            max_hr: r.max_hr,
            avg_cadence: r.avg_cadence,
            training_load: r.training_load,
            vo2max: r.vo2max,
            hr_zones_s: activity_json_zones(r.hr_zones_s),
            best_efforts: r.best_efforts,
        }
    }
}

/// Raw schedule columns (`SCHEDULE_COLS`).
#[derive(sqlx::FromRow)]
pub(super) struct ScheduleRow {
    id: i64,
    user_id: Option<i64>,
    kind: String,
    platform: String,
    chat_id: String,
    guild_id: Option<String>,
    cron: String,
    timezone: String,
    enabled: bool,
    paused_reason: Option<String>,
    last_run_at: Option<DateTime<Utc>>,
    next_run_at: Option<DateTime<Utc>>,
    lang: Option<String>,
}

impl ScheduleRow {
    /// A platform or kind this version does not know is a corrupt row, not a guess.
    pub fn into_record(self) -> StoreResult<ScheduleRecord> {
        let platform =
            self.platform.parse().map_err(|e: UnknownPlatform| StoreError::Corrupt(DbDetail::caused_by(e)))?;
        let kind = ScheduleKind::parse(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown schedule kind {:?}", self.kind).into()))?;
        Ok(ScheduleRecord {
            id: self.id,
            user_id: self.user_id.map(UserId),
            kind,
            chat: ChatKey { platform, chat_id: self.chat_id },
            guild_id: self.guild_id,
            cron: self.cron,
            timezone: self.timezone,
            enabled: self.enabled,
            // A reason this version does not know still leaves the schedule paused (`enabled`).
            paused_reason: self.paused_reason.as_deref().and_then(PausedReason::parse),
            last_run_at: self.last_run_at,
            next_run_at: self.next_run_at,
            lang: self.lang.and_then(|code| code.parse().ok()),
        })
    }
}

/// Raw message columns.
#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    id: i64,
    role: String,
    content: String,
    created_at: DateTime<Utc>,
}

impl From<MessageRow> for StoredMessage {
    fn from(r: MessageRow) -> Self {
        StoredMessage { id: r.id, role: Role::parse(&r.role), content: r.content, created_at: r.created_at }
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

/// What new activities are checked against: stored ones and those written earlier in the same
/// batch. The duplicate rule lives here once, for one activity and for a list.
pub(super) struct KnownActivities {
    /// (id, source, external id)
    ids: Vec<(i64, String, String)>,
    /// (id, start, duration, distance)
    runs: Vec<(i64, DateTime<Utc>, f64, Option<f64>)>,
}

impl KnownActivities {
    pub(super) fn new(ids: Vec<(i64, String, String)>, runs: Vec<(i64, DateTime<Utc>, f64, Option<f64>)>) -> Self {
        KnownActivities { ids, runs }
    }

    /// The known activity `a` would duplicate: same source and external id, or the same recording
    /// starting within [`start_window`] (see [`same_activity`]).
    pub(super) fn duplicate_of(&self, a: &NewActivity) -> Option<i64> {
        if let Some(ext) = &a.external_id
            && let Some((id, ..)) = self.ids.iter().find(|(_, src, x)| x == ext && *src == a.source)
        {
            return Some(*id);
        }
        let (lo, hi) = start_window(a.start_time);
        self.runs
            .iter()
            .find(|(_, at, d, m)| *at >= lo && *at <= hi && same_activity(a, *at, *d, *m))
            .map(|(id, ..)| *id)
    }

    pub(super) fn add(&mut self, id: i64, a: &NewActivity) {
        if let Some(ext) = &a.external_id {
            self.ids.push((id, a.source.clone(), ext.clone()));
        }
        self.runs.push((id, a.start_time, a.duration_s, a.distance_m));
    }
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

/// Builds every store trait's impl for one backend.
///
/// `$db`: the sqlx database type; `$claim`: the job-claiming statement; the backend type must also
/// provide `begin_write`, `export_rows` and `list_tables` as inherent methods.
macro_rules! impl_store {
    ($ty:ty, $db:ty, backend = $name:literal, claim = $claim:expr) => {
        $crate::store::sql::users::impl_users!($ty, $db);
        $crate::store::sql::activities::impl_activities!($ty, $db);
        $crate::store::sql::plans::impl_plans!($ty, $db);
        $crate::store::sql::conversations::impl_conversations!($ty, $db);
        $crate::store::sql::schedules::impl_schedules!($ty, $db, claim = $claim);
        $crate::store::sql::clubs::impl_clubs!($ty, $db);
        $crate::store::sql::credentials::impl_credentials!($ty, $db);
        $crate::store::sql::embeddings::impl_embeddings!($ty, $db);
        $crate::store::sql::guards::impl_guards!($ty, $db);
        $crate::store::sql::weather::impl_weather!($ty, $db);
        $crate::store::sql::retention::impl_retention!($ty, $db);
        $crate::store::sql::admin::impl_admin!($ty, $db);

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
                doc.insert("user".into(), serde_json::to_value(&user).map_err(StoreError::Encode)?);
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
        }
    };
}

pub(crate) use impl_store;

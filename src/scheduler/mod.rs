//! Scheduled messages: weekly summaries for runners and weekly digests for club channels.
//!
//! Schedules live in the shared store with their next due time. [`enqueue_due`] turns due
//! schedules into jobs whose dedupe key names the chat and the ISO week (a second run is a no-op);
//! [`run_once`] claims jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several instances never
//! take the same one), builds each message, hands it to a [`Notifier`] and completes the job only
//! once the platform accepted it. Transient failures retry with exponential back-off up to a
//! bounded number of attempts; a chat that blocked the bot pauses its schedule.

mod garmin_job;
mod rate;
mod when;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

pub use crate::clock::{Clock, SystemClock, TestClock};
pub use rate::{Rate, RateLimited, delivery_time, send_offset};
pub use when::{CronError, CronSpec, parse_cron, parse_tz};

use crate::domain::{Platform, UserId};
use crate::garmin::GarminAccess;
use crate::goals;
use crate::i18n::Lang;
use crate::message::{ChatKey, Notifier, NotifyError, Reply};
use crate::store::{
    ClaimedJob, NewJob, NewSchedule, PausedReason, ScheduleKind, ScheduleRecord, Store, StoreError, StoreResult,
};
use crate::summary::{self, IsoWeek};
use crate::tracking;

/// The morning reminder's hour when the runner gives none (07:00 on their clock).
pub const REMINDER_CRON: &str = "0 7 * * *";

/// Mondays 08:00 on the runner's clock.
pub const DEFAULT_CRON: &str = "0 8 * * 1";
/// A few minutes after midnight on the runner's clock, every day: the day before ends.
pub const PLAN_DAY_CRON: &str = "5 0 * * *";

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Cron(#[from] CronError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How the worker claims and retries.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// How long a claimed job is ours; must cover building and sending a batch.
    pub lease: Duration,
    pub batch: i64,
    /// Attempts (claims) before a transiently failing job is given up.
    pub max_attempts: i32,
    /// Attempts before a job the platform keeps rate-limiting is given up.
    pub max_rate_limited_attempts: i32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Attach the 8-week chart to runners' summaries.
    pub charts: bool,
    /// Garmin for background syncs; `None`: their jobs wait (and are retried) until an instance
    /// that has it takes them.
    pub garmin: Option<GarminAccess>,
    /// Wait after a Garmin 429 without a usable Retry-After: every Garmin job pauses this long.
    pub garmin_backoff: Duration,
    /// Forecasts for the morning reminders (`None`: reminders come without the weather).
    pub weather: Option<std::sync::Arc<crate::weather::WeatherService>>,
    /// What is kept how long; the daily pass runs on one instance a day.
    pub retention: crate::retention::RetentionPolicy,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            lease: Duration::minutes(5),
            batch: 20,
            max_attempts: 6,
            max_rate_limited_attempts: 30,
            base_backoff: Duration::seconds(30),
            max_backoff: Duration::hours(2),
            charts: true,
            garmin: None,
            garmin_backoff: Duration::minutes(30),
            weather: None,
            retention: crate::retention::RetentionPolicy::default(),
        }
    }
}

impl WorkerConfig {
    /// The wait before attempt `attempts + 1`: base × 2^(attempts − 1), capped.
    #[must_use]
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
        let wait = self.base_backoff.checked_mul(1 << exp).unwrap_or(self.max_backoff);
        wait.min(self.max_backoff)
    }
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub claimed: usize,
    pub sent: usize,
    /// Failed and scheduled again.
    pub retried: usize,
    /// Given up (too many attempts, unreadable job, runner gone).
    pub failed: usize,
    /// Blocked: job dropped and schedule paused.
    pub paused: usize,
    /// Jobs of other kinds, released untouched.
    pub released: usize,
    /// Done with nothing to send (a day that ended with nothing missed).
    pub quiet: usize,
}

/// What [`enqueue_due`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnqueueReport {
    pub due: usize,
    pub enqueued: usize,
    /// Due, but the week's job already existed.
    pub duplicates: usize,
    /// Schedules whose first due time was just computed.
    pub initialised: usize,
    pub invalid: usize,
}

/// The dedupe key of a runner's summary of `week`.
#[must_use]
pub fn summary_key(user: UserId, week: IsoWeek) -> String {
    format!("summary:{}:{week}", user.0)
}

/// The dedupe key of a club channel's digest of `week`.
#[must_use]
pub fn digest_key(guild: &str, chat: &ChatKey, week: IsoWeek) -> String {
    format!("digest:{guild}:{}:{}:{week}", chat.platform, chat.chat_id)
}

/// The dedupe key of the end of a runner's day: once per runner and day, however many instances.
#[must_use]
pub fn plan_day_key(user: UserId, day: NaiveDate) -> String {
    format!("plan_day:{}:{day}", user.0)
}

const DUE_BATCH: i64 = 500;

/// Turns every due schedule into a job (one per chat and ISO week) and moves its next due time
/// on. A scheduler that was down fires once for the latest missed time, not once per missed week.
/// Safe to run on several instances at once: the dedupe key makes the second enqueue a no-op.
pub async fn enqueue_due(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<EnqueueReport> {
    let mut report = EnqueueReport::default();
    loop {
        let due = store.due_schedules(now, DUE_BATCH).await?;
        let n = due.len();
        for s in due {
            enqueue_one(store, &s, now, &mut report).await?;
        }
        if n < usize::try_from(DUE_BATCH).unwrap_or(usize::MAX) {
            return Ok(report);
        }
    }
}

async fn enqueue_one(
    store: &dyn Store,
    s: &ScheduleRecord,
    now: DateTime<Utc>,
    report: &mut EnqueueReport,
) -> StoreResult<()> {
    let parsed = parse_cron(&s.cron).and_then(|c| parse_tz(&s.timezone).map(|tz| (c, tz)));
    let (cron, tz) = match parsed {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(schedule = s.id, error = %e, "schedule no longer parses: paused");
            store.pause_schedule(s.kind, &s.chat, PausedReason::Invalid).await?;
            report.invalid += 1;
            return Ok(());
        }
    };
    let next = cron.next_after(tz, now);
    if next.is_none() {
        // A schedule that never fires again (a past year) would stay due forever: pause it.
        store.pause_schedule(s.kind, &s.chat, PausedReason::Ended).await?;
    }
    let Some(due_at) = s.next_run_at else {
        // Never computed (a schedule stored by other code): compute it, fire nothing yet.
        store.mark_schedule_run(s.id, None, next).await?;
        report.initialised += 1;
        return Ok(());
    };
    report.due += 1;
    let fired_at = cron.latest_until(tz, due_at, now);
    let week = IsoWeek::summarised_on(fired_at.with_timezone(&tz).date_naive());
    // Fired just after midnight: the day that ended is the one before.
    let ended = fired_at.with_timezone(&tz).date_naive().pred_opt();
    let job = match (s.kind, s.user_id, s.guild_id.as_deref()) {
        (ScheduleKind::WeeklySummary, Some(user), _) => Some(NewJob {
            kind: ScheduleKind::WeeklySummary.into(),
            dedupe_key: summary_key(user, week),
            user_id: Some(user),
            payload: payload(s, week, None),
            run_at: fired_at,
        }),
        (ScheduleKind::GarminSync, Some(user), _) => Some(NewJob {
            kind: ScheduleKind::GarminSync.into(),
            dedupe_key: format!("garmin_sync:{}:{}", user.0, fired_at.format("%Y-%m-%dT%H:%M")),
            user_id: Some(user),
            payload: payload(s, week, None),
            run_at: fired_at,
        }),
        (ScheduleKind::PlanDay, Some(user), _) => ended.map(|day| NewJob {
            kind: ScheduleKind::PlanDay.into(),
            dedupe_key: plan_day_key(user, day),
            user_id: Some(user),
            payload: payload(s, IsoWeek::of(day), Some(day)),
            run_at: fired_at,
        }),
        (ScheduleKind::GarminPush, Some(user), _) => Some(NewJob {
            kind: ScheduleKind::GarminPush.into(),
            dedupe_key: format!("garmin_push:{}:{}", user.0, fired_at.format("%Y-%m-%dT%H:%M")),
            user_id: Some(user),
            payload: payload(s, week, None),
            run_at: fired_at,
        }),
        (ScheduleKind::MorningReminder, Some(user), _) => {
            let day = fired_at.with_timezone(&tz).date_naive();
            Some(NewJob {
                kind: ScheduleKind::MorningReminder.into(),
                dedupe_key: format!("reminder:{}:{day}", user.0),
                user_id: Some(user),
                payload: payload(s, IsoWeek::of(day), Some(day)),
                run_at: fired_at,
            })
        }
        (ScheduleKind::ClubDigest, _, Some(guild)) => Some(NewJob {
            kind: ScheduleKind::ClubDigest.into(),
            dedupe_key: digest_key(guild, &s.chat, week),
            user_id: None,
            payload: payload(s, week, None),
            run_at: fired_at,
        }),
        _ => None,
    };
    match job {
        Some(job) => {
            if store.enqueue_job(&job).await? {
                report.enqueued += 1;
            } else {
                report.duplicates += 1;
            }
        }
        None => tracing::warn!(schedule = s.id, kind = %s.kind, "schedule of unknown kind or without owner: skipped"),
    }
    store.mark_schedule_run(s.id, Some(fired_at), next).await
}

/// A scheduled message's job payload: where it goes and for which week. Stored as JSON in the
/// job; the field names are the stored format (older jobs read back the same way).
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct JobPayload {
    schedule_id: i64,
    /// Absent in none we write; read back as the job's own kind when missing.
    #[serde(default)]
    kind: Option<ScheduleKind>,
    platform: Platform,
    chat_id: String,
    #[serde(default)]
    guild_id: Option<String>,
    /// An IANA time zone; UTC when absent or unknown.
    #[serde(default)]
    timezone: Option<String>,
    week: IsoWeek,
    #[serde(default)]
    lang: Option<Lang>,
    /// The day a plan-day job ends.
    #[serde(default)]
    day: Option<NaiveDate>,
    /// A link notice: the platform of the account that joined.
    #[serde(default)]
    joined: Option<Platform>,
}

fn payload(s: &ScheduleRecord, week: IsoWeek, day: Option<NaiveDate>) -> serde_json::Value {
    let p = JobPayload {
        schedule_id: s.id,
        kind: Some(s.kind),
        platform: s.chat.platform,
        chat_id: s.chat.chat_id.clone(),
        guild_id: s.guild_id.clone(),
        timezone: Some(s.timezone.clone()),
        week,
        lang: s.lang,
        day,
        joined: None,
    };
    // A struct of strings, numbers and enums always encodes.
    serde_json::to_value(p).unwrap_or_default()
}

/// What a job asks for, read back from its payload.
struct JobTarget {
    kind: ScheduleKind,
    chat: ChatKey,
    guild_id: Option<String>,
    tz: Tz,
    week: IsoWeek,
    lang: Option<Lang>,
    day: Option<NaiveDate>,
    joined: Option<Platform>,
}

fn target(job: &ClaimedJob) -> Option<JobTarget> {
    let p: JobPayload = serde_json::from_value(job.payload.clone()).ok()?;
    Some(JobTarget {
        kind: p.kind.or_else(|| ScheduleKind::parse(&job.kind))?,
        chat: ChatKey { platform: p.platform, chat_id: p.chat_id },
        guild_id: p.guild_id,
        tz: p.timezone.as_deref().and_then(|t| parse_tz(t).ok()).unwrap_or(chrono_tz::UTC),
        week: p.week,
        lang: p.lang,
        day: p.day,
        joined: p.joined,
    })
}

/// The replies a job sends. `Ok(None)`: nothing to send any more (the runner is gone).
async fn build(
    store: &dyn Store,
    job: &ClaimedJob,
    t: &JobTarget,
    now: DateTime<Utc>,
    config: &WorkerConfig,
) -> StoreResult<Option<Vec<Reply>>> {
    let charts = config.charts;
    let today = now.with_timezone(&t.tz).date_naive();
    match t.kind {
        ScheduleKind::WeeklySummary => {
            let Some(id) = job.user_id else { return Ok(None) };
            let user = match store.get_user(id).await {
                Ok(u) => u,
                Err(StoreError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            let s = summary::weekly_summary_for(store, &user, t.week, today).await?;
            let mut replies = if charts {
                summary::replies(&s, user.lang, user.units)
            } else {
                vec![Reply::text(summary::render(&s, user.lang))]
            };
            if let Some(goals) = goals::section(store, user.id, today, user.lang).await? {
                replies.push(Reply::text(goals));
            }
            Ok(Some(in_units(&user, replies)))
        }
        ScheduleKind::PlanDay => {
            let (Some(id), Some(day)) = (job.user_id, t.day) else { return Ok(None) };
            let user = match store.get_user(id).await {
                Ok(u) => u,
                Err(StoreError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            // Nothing missed: the job is done with nothing to send.
            let closed = tracking::close_day(store, id, day, now).await?;
            Ok(Some(in_units(
                &user,
                closed.map(|c| vec![tracking::day_closed_reply(&c, user.lang)]).unwrap_or_default(),
            )))
        }
        ScheduleKind::MorningReminder => {
            let (Some(id), Some(day)) = (job.user_id, t.day) else { return Ok(None) };
            let user = match store.get_user(id).await {
                Ok(u) => u,
                Err(StoreError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            // A reminder delivered late (the worker was down) is for its own day only.
            if day != today {
                return Ok(Some(Vec::new()));
            }
            let Some(active) = crate::plans::active(store, id).await? else { return Ok(Some(Vec::new())) };
            let reply = crate::today::reminder(store, config.weather.as_deref(), &user, &active.plan, day, now).await?;
            Ok(Some(in_units(&user, reply.into_iter().collect())))
        }
        // Handled before building (see `deliver`): a sync or a push decides its own retries.
        ScheduleKind::GarminSync | ScheduleKind::GarminPush => Ok(Some(Vec::new())),
        ScheduleKind::LinkNotice => {
            let Some(id) = job.user_id else { return Ok(None) };
            let user = match store.get_user(id).await {
                Ok(u) => u,
                Err(StoreError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            let joined = match t.joined {
                Some(Platform::Telegram) => "Telegram",
                Some(Platform::Discord) => "Discord",
                Some(Platform::Api) => "API",
                Some(Platform::Console) | None => "console",
            };
            Ok(Some(vec![Reply::text(match user.lang {
                Lang::Fr => format!(
                    "🔗 Un compte {joined} vient d'être lié au tien avec ton code /link : ses sorties et ses plans sont maintenant les tiens. Si ce n'était pas toi, écris /export pour garder tes données puis /forget, et préviens l'administrateur du bot."
                ),
                Lang::En => format!(
                    "🔗 A {joined} account was just linked to yours with your /link code: its runs and plans are yours now. If this wasn't you, send /export to keep your data, then /forget, and tell the bot's admin."
                ),
            })]))
        }
        ScheduleKind::InactivityNotice => {
            let (Some(id), Some(erase_on)) = (job.user_id, t.day) else { return Ok(None) };
            let user = match store.get_user(id).await {
                Ok(u) => u,
                Err(StoreError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            let lang = user.lang;
            let day = crate::i18n::date_short(lang, erase_on);
            Ok(Some(vec![Reply::text(match lang {
                Lang::Fr => format!(
                    "👋 Ça fait longtemps ! Ce serveur efface les données des coureurs inactifs : ton profil, tes sorties, tes plans et nos conversations seront supprimés le {day}, sauf si tu m'écris d'ici là (n'importe quel message suffit). /export pour en garder une copie."
                ),
                Lang::En => format!(
                    "👋 It's been a while! This server erases the data of inactive runners: your profile, runs, plans and our conversations will be deleted on {day} unless you write to me before then (any message will do). /export keeps a copy."
                ),
            })]))
        }
        ScheduleKind::ClubDigest => {
            let Some(guild) = t.guild_id.as_deref() else { return Ok(None) };
            let d = summary::club_digest(store, guild, t.week, today).await?;
            // In the language of the admin who chose the channel (older schedules: English).
            Ok(Some(vec![Reply::text(summary::render_digest(&d, t.lang.unwrap_or(Lang::En)))]))
        }
    }
}

/// A runner's messages in their units (the texts are written in km).
fn in_units(user: &crate::domain::User, mut replies: Vec<Reply>) -> Vec<Reply> {
    for r in &mut replies {
        r.text = user.units.localise(user.lang, &r.text);
    }
    replies
}

/// A runner's private chat the bot can write to first: Telegram, else a Discord DM (never on
/// `except`'s platform).
async fn private_chat(store: &dyn Store, user: UserId, except: Option<Platform>) -> StoreResult<Option<ChatKey>> {
    let identities = store.identities(user).await?;
    Ok([Platform::Telegram, Platform::Discord].into_iter().filter(|p| Some(*p) != except).find_map(|p| {
        let id = identities.iter().find(|i| i.platform == p)?;
        Some(match p {
            Platform::Discord => ChatKey { platform: p, chat_id: format!("dm:{}", id.platform_user_id) },
            _ => ChatKey { platform: p, chat_id: id.platform_user_id.clone() },
        })
    }))
}

/// Queues a one-off message of `kind` to `user` in `chat` (built by [`build`] from the payload).
async fn queue_notice(
    store: &dyn Store,
    user: UserId,
    chat: ChatKey,
    kind: ScheduleKind,
    dedupe_key: String,
    (day, joined): (Option<NaiveDate>, Option<Platform>),
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let p = JobPayload {
        schedule_id: 0,
        kind: Some(kind),
        platform: chat.platform,
        chat_id: chat.chat_id,
        guild_id: None,
        timezone: None,
        week: IsoWeek::of(now.date_naive()),
        lang: None,
        day,
        joined,
    };
    store
        .enqueue_job(&NewJob {
            kind: kind.as_str().to_owned(),
            dedupe_key,
            user_id: Some(user),
            payload: serde_json::to_value(p).unwrap_or_default(),
            run_at: now,
        })
        .await
}

/// Tells `kept` (in a private chat of theirs: Telegram, else a Discord DM) that an account on
/// `joined` was linked into theirs. False when they have no chat the bot can write to.
pub async fn notify_link(store: &dyn Store, kept: UserId, joined: Platform, now: DateTime<Utc>) -> StoreResult<bool> {
    let Some(chat) = private_chat(store, kept, Some(joined)).await? else { return Ok(false) };
    let key = format!("link_notice:{}:{}", kept.0, now.timestamp_millis());
    queue_notice(store, kept, chat, ScheduleKind::LinkNotice, key, (None, Some(joined)), now).await
}

/// Tells an inactive runner, in a private chat of theirs, that their data goes on `erase_on`
/// unless they write before. False when they have no chat the bot can write to.
pub async fn notify_inactive(
    store: &dyn Store,
    user: UserId,
    erase_on: NaiveDate,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let Some(chat) = private_chat(store, user, None).await? else { return Ok(false) };
    let key = format!("inactivity_notice:{}:{erase_on}", user.0);
    queue_notice(store, user, chat, ScheduleKind::InactivityNotice, key, (Some(erase_on), None), now).await
}

/// `runcoach admin sync`: the runner's Garmin sync now, through their sync schedule (its chat
/// hears of the new runs). False when they have no such schedule (never connected).
pub async fn queue_garmin_sync_now(store: &dyn Store, user: UserId, now: DateTime<Utc>) -> StoreResult<bool> {
    let schedules = store.all_schedules(i64::MAX).await?;
    let Some(s) = schedules.iter().find(|s| s.kind == ScheduleKind::GarminSync && s.user_id == Some(user)) else {
        return Ok(false);
    };
    store
        .enqueue_job(&NewJob {
            kind: ScheduleKind::GarminSync.into(),
            dedupe_key: format!("garmin_sync:{}:admin:{}", user.0, now.timestamp_millis()),
            user_id: Some(user),
            payload: payload(s, IsoWeek::of(now.date_naive()), None),
            run_at: now,
        })
        .await
}

/// One pass of the delivery worker with the default settings.
pub async fn run_once(
    store: &dyn Store,
    worker_id: &str,
    notifier: &dyn Notifier,
    clock: &dyn Clock,
) -> StoreResult<RunReport> {
    run_once_with(store, worker_id, notifier, clock, &WorkerConfig::default()).await
}

/// Claims up to `config.batch` due jobs and delivers each.
pub async fn run_once_with(
    store: &dyn Store,
    worker_id: &str,
    notifier: &dyn Notifier,
    clock: &dyn Clock,
    config: &WorkerConfig,
) -> StoreResult<RunReport> {
    let now = clock.now();
    let jobs = store.claim_jobs(worker_id, now, now + config.lease, config.batch).await?;
    let mut report = RunReport { claimed: jobs.len(), ..RunReport::default() };
    for job in &jobs {
        deliver(store, worker_id, notifier, clock, config, job, &mut report).await?;
    }
    Ok(report)
}

async fn deliver(
    store: &dyn Store,
    worker: &str,
    notifier: &dyn Notifier,
    clock: &dyn Clock,
    config: &WorkerConfig,
    job: &ClaimedJob,
    report: &mut RunReport,
) -> StoreResult<()> {
    let now = clock.now();
    if ScheduleKind::parse(&job.kind).is_none() {
        // Another worker's job: hand it back at once.
        store.fail_job(job.id, worker, "not a scheduled-message job", Some(now)).await?;
        report.released += 1;
        return Ok(());
    }
    let Some(t) = target(job) else {
        store.fail_job(job.id, worker, "unreadable payload", None).await?;
        report.failed += 1;
        return Ok(());
    };
    // Turned off (`/summary off`, blocked) after the job was queued: drop it.
    if store.schedule(t.kind, &t.chat).await?.is_some_and(|s| !s.enabled) {
        store.fail_job(job.id, worker, "schedule turned off", None).await?;
        report.failed += 1;
        return Ok(());
    }
    if t.kind == ScheduleKind::GarminSync {
        return garmin_job::run(store, worker, notifier, clock, config, job, &t.chat, report).await;
    }
    if t.kind == ScheduleKind::GarminPush {
        return garmin_job::push(store, worker, notifier, clock, config, job, &t.chat, t.tz, report).await;
    }
    let replies = match build(store, job, &t, now, config).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            store.fail_job(job.id, worker, "nothing to send: runner or club gone", None).await?;
            report.failed += 1;
            return Ok(());
        }
        Err(e) => return retry(store, worker, config, job, now, None, &e.to_string(), report).await,
    };
    if replies.is_empty() {
        store.complete_job(job.id, worker).await?;
        report.quiet += 1;
        return Ok(());
    }
    match notifier.send(&t.chat, &replies).await {
        Ok(()) => {
            if !complete_after_send(store, worker, config, job).await? {
                // Our lease ran out and another worker took the job: it may be sent twice.
                tracing::warn!(job = job.id, key = %job.dedupe_key, "job completed after its lease expired");
            }
            report.sent += 1;
        }
        Err(NotifyError::Blocked) => {
            store.pause_schedule(t.kind, &t.chat, PausedReason::Blocked).await?;
            store.fail_job(job.id, worker, "blocked: schedule paused", None).await?;
            tracing::info!(key = %job.dedupe_key, "recipient blocked the bot: schedule paused");
            report.paused += 1;
        }
        Err(NotifyError::RateLimited { retry_after }) => {
            let wait = Duration::from_std(retry_after).unwrap_or(config.max_backoff).max(Duration::seconds(1));
            retry(store, worker, config, job, clock.now(), Some(wait), "rate limited", report).await?;
        }
        Err(NotifyError::Transient(e)) => retry(store, worker, config, job, clock.now(), None, &e, report).await?,
    }
    Ok(())
}

/// Marks a sent job done, waiting (up to half the lease) for a database that went away: were the
/// job left claimed, another worker would take it when the lease ends and send it a second time.
async fn complete_after_send(
    store: &dyn Store,
    worker: &str,
    config: &WorkerConfig,
    job: &ClaimedJob,
) -> StoreResult<bool> {
    let patience = config.lease.to_std().unwrap_or_default() / 2;
    let deadline = std::time::Instant::now() + patience;
    let mut wait = std::time::Duration::from_millis(200);
    loop {
        match store.complete_job(job.id, worker).await {
            Err(StoreError::Unavailable(e)) if std::time::Instant::now() + wait < deadline => {
                tracing::warn!(job = job.id, error = %e, "sent, but the database is unavailable: recording it again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(5));
            }
            done => return done,
        }
    }
}

/// Schedules the job again after `wait` (rate limit) or the back-off, or gives up after too many
/// attempts.
#[allow(clippy::too_many_arguments)]
async fn retry(
    store: &dyn Store,
    worker: &str,
    config: &WorkerConfig,
    job: &ClaimedJob,
    now: DateTime<Utc>,
    wait: Option<Duration>,
    error: &str,
    report: &mut RunReport,
) -> StoreResult<()> {
    let limit = if wait.is_some() { config.max_rate_limited_attempts } else { config.max_attempts };
    if job.attempts >= limit {
        tracing::warn!(key = %job.dedupe_key, attempts = job.attempts, error, "giving up");
        store.fail_job(job.id, worker, &format!("gave up after {} attempts: {error}", job.attempts), None).await?;
        report.failed += 1;
    } else {
        let at = now + wait.unwrap_or_else(|| config.backoff(job.attempts));
        store.fail_job(job.id, worker, error, Some(at)).await?;
        report.retried += 1;
    }
    Ok(())
}

/// Delivers until no job is due: [`run_once`] in a loop (for tests and catch-up).
pub async fn drain(
    store: &dyn Store,
    worker_id: &str,
    notifier: &dyn Notifier,
    clock: &dyn Clock,
    config: &WorkerConfig,
) -> StoreResult<RunReport> {
    let mut total = RunReport::default();
    loop {
        let r = run_once_with(store, worker_id, notifier, clock, config).await?;
        let jobs = &crate::metrics::METRICS.jobs;
        for (outcome, n) in [("sent", r.sent), ("retried", r.retried), ("failed", r.failed), ("paused", r.paused)] {
            jobs.get_or_create(&crate::metrics::Metrics::outcome(outcome)).inc_by(n as u64);
        }
        total.claimed += r.claimed;
        total.sent += r.sent;
        total.retried += r.retried;
        total.failed += r.failed;
        total.paused += r.paused;
        total.released += r.released;
        if r.claimed == 0 {
            return Ok(total);
        }
    }
}

/// The service loop: every `poll`, enqueue due schedules and deliver due jobs, until `shutdown`
/// turns true. Store errors are logged and retried at the next tick.
pub async fn run(
    store: &dyn Store,
    worker_id: &str,
    notifier: &dyn Notifier,
    clock: &dyn Clock,
    config: &WorkerConfig,
    poll: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = enqueue_due(store, clock.now()).await {
            tracing::warn!(error = %e, "scheduler: enqueue failed");
        }
        // Limit windows that have ended are only clutter (each instance may do it; it is idempotent).
        if let Err(e) = store.purge_windows(clock.now()).await {
            tracing::warn!(error = %e, "scheduler: purging ended limit windows failed");
        }
        // Once a day, on one instance: what is past its keeping time goes.
        match crate::retention::daily(store, &config.retention, clock.now()).await {
            Ok(Some((_, inactive))) => {
                for (user, erase_on) in inactive.warned {
                    match notify_inactive(store, user, erase_on, clock.now()).await {
                        Ok(true) => {}
                        Ok(false) => tracing::info!(%user, "inactive runner has no chat to warn in"),
                        Err(e) => tracing::warn!(%user, error = %e, "scheduler: the inactivity warning was not queued"),
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "scheduler: the retention pass failed (tried again on the next pass tomorrow)");
            }
        }
        // Forecasts older than a day are never read again (the cache is per hour).
        if let Err(e) = store.purge_forecasts(clock.now() - Duration::days(1)).await {
            tracing::warn!(error = %e, "scheduler: purging old forecasts failed");
        }
        if let Err(e) = drain(store, worker_id, notifier, clock, config).await {
            tracing::warn!(error = %e, "scheduler: delivery failed");
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

async fn upsert(
    store: &dyn Store,
    schedule: NewSchedule,
    cron: &CronSpec,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    let id = store.upsert_schedule(&schedule).await?;
    store.mark_schedule_run(id, None, cron.next_after(tz, now)).await?;
    store.schedule(schedule.kind, &schedule.chat).await?.ok_or(ScheduleError::Store(StoreError::NotFound))
}

/// Turns a runner's weekly summary on in `chat` (`/summary on`, `/summary time "…"`): Mondays
/// 08:00 unless `cron` says otherwise, on the runner's time zone. Re-enables a paused schedule.
pub async fn enable_weekly_summary(
    store: &dyn Store,
    user: UserId,
    chat: &ChatKey,
    cron: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    enable_for_runner(store, user, ScheduleKind::WeeklySummary, chat, cron.unwrap_or(DEFAULT_CRON), tz, now).await
}

/// A runner's schedule of `kind` in `chat` on `expression` and `tz` (enabled again if paused).
async fn enable_for_runner(
    store: &dyn Store,
    user: UserId,
    kind: ScheduleKind,
    chat: &ChatKey,
    expression: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    let spec = parse_cron(expression)?;
    let schedule = NewSchedule {
        user_id: Some(user),
        kind,
        chat: chat.clone(),
        guild_id: None,
        cron: spec.expression.clone(),
        timezone: tz.name().to_owned(),
        lang: None,
    };
    upsert(store, schedule, &spec, tz, now).await
}

/// Ends the runner's days in `chat` (where they planned): every day a few minutes after midnight
/// on their clock, sessions nobody ran are marked missed and the runner is told. Turned on when a
/// plan is saved; harmless without a plan (nothing to close, nothing sent).
pub async fn enable_plan_days(
    store: &dyn Store,
    user: UserId,
    chat: &ChatKey,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    enable_for_runner(store, user, ScheduleKind::PlanDay, chat, PLAN_DAY_CRON, tz, now).await
}

/// A runner's Garmin sync in the background every `every_hours` (1–24), new runs announced in
/// `chat`. Runners are spread over the hours and minutes by their id, so that a server's runners
/// do not all knock on Garmin at the same minute. Re-enables a schedule paused for reconnection.
pub async fn enable_garmin_sync(
    store: &dyn Store,
    user: UserId,
    chat: &ChatKey,
    every_hours: u32,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    let every = i64::from(every_hours.clamp(1, 24));
    let minute = (user.0 * 37).rem_euclid(60);
    let hour = user.0.rem_euclid(every);
    let expression =
        if every == 24 { format!("{minute} {hour} * * *") } else { format!("{minute} {hour}/{every} * * *") };
    enable_for_runner(store, user, ScheduleKind::GarminSync, chat, &expression, chrono_tz::UTC, now).await
}

/// `/remind on [HH:MM]`: the morning reminder in `chat` at `hour:minute` on the runner's clock.
pub async fn enable_reminder(
    store: &dyn Store,
    user: UserId,
    chat: &ChatKey,
    hour: u32,
    minute: u32,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    let expression = format!("{} {} * * *", minute.min(59), hour.min(23));
    enable_for_runner(store, user, ScheduleKind::MorningReminder, chat, &expression, tz, now).await
}

/// `/remind off`: returns whether the reminder was on.
pub async fn disable_reminder(store: &dyn Store, chat: &ChatKey) -> StoreResult<bool> {
    store.pause_schedule(ScheduleKind::MorningReminder, chat, PausedReason::Off).await
}

/// `/watch auto on`: the runner's plan kept in step with their Garmin calendar, checked every
/// hour at a minute spread by runner (a check with nothing changed makes no Garmin call).
pub async fn enable_garmin_push(
    store: &dyn Store,
    user: UserId,
    chat: &ChatKey,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    let minute = (user.0 * 23 + 11).rem_euclid(60);
    enable_for_runner(store, user, ScheduleKind::GarminPush, chat, &format!("{minute} * * * *"), tz, now).await
}

/// `/watch auto off`: returns whether it was on.
pub async fn disable_garmin_push(store: &dyn Store, chat: &ChatKey) -> StoreResult<bool> {
    store.pause_schedule(ScheduleKind::GarminPush, chat, PausedReason::Off).await
}

/// `/summary off`: returns whether a summary was on.
pub async fn disable_weekly_summary(store: &dyn Store, chat: &ChatKey) -> StoreResult<bool> {
    store.pause_schedule(ScheduleKind::WeeklySummary, chat, PausedReason::Off).await
}

/// A club channel's weekly digest in `lang` (Mondays 08:00 unless `cron` says otherwise).
pub async fn enable_club_digest(
    store: &dyn Store,
    guild_id: &str,
    chat: &ChatKey,
    cron: Option<&str>,
    tz: Tz,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    let spec = parse_cron(cron.unwrap_or(DEFAULT_CRON))?;
    let schedule = NewSchedule {
        user_id: None,
        kind: ScheduleKind::ClubDigest,
        chat: chat.clone(),
        guild_id: Some(guild_id.to_owned()),
        cron: spec.expression.clone(),
        timezone: tz.name().to_owned(),
        lang: Some(lang),
    };
    upsert(store, schedule, &spec, tz, now).await
}

/// The next run of a schedule on its own clock, for `/summary` to show.
#[must_use]
pub fn next_local(s: &ScheduleRecord) -> Option<DateTime<Tz>> {
    let tz = parse_tz(&s.timezone).ok()?;
    s.next_run_at.map(|t| t.with_timezone(&tz))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn job(payload: serde_json::Value) -> ClaimedJob {
        ClaimedJob {
            id: 1,
            kind: ScheduleKind::WeeklySummary.into(),
            dedupe_key: "k".into(),
            user_id: Some(UserId(7)),
            payload,
            attempts: 0,
        }
    }

    #[test]
    fn a_payload_reads_back_as_it_was_written() {
        // The stored format, as every version so far wrote it.
        let stored = json!({
            "schedule_id": 3, "kind": "weekly_summary", "platform": "telegram", "chat_id": "42",
            "guild_id": null, "timezone": "Europe/Paris", "week": "2026-W12", "lang": "fr",
        });
        let t = target(&job(stored)).expect("readable");
        assert_eq!(t.chat, ChatKey { platform: Platform::Telegram, chat_id: "42".into() });
        assert_eq!(
            (t.kind, t.tz, t.week.to_string(), t.lang),
            (ScheduleKind::WeeklySummary, chrono_tz::Europe::Paris, "2026-W12".to_owned(), Some(Lang::Fr))
        );
        // An unknown time zone falls back to UTC; a missing week or chat is unreadable.
        let odd = json!({ "schedule_id": 3, "platform": "discord", "chat_id": "9", "timezone": "Mars/Olympus", "week": "2026-W12" });
        let t = target(&job(odd)).expect("readable");
        assert_eq!((t.tz, t.kind), (chrono_tz::UTC, ScheduleKind::WeeklySummary));
        assert!(target(&job(json!({ "schedule_id": 3, "platform": "discord", "chat_id": "9" }))).is_none());
        assert!(
            target(&job(json!({ "schedule_id": 3, "platform": "fax", "chat_id": "9", "week": "2026-W12" }))).is_none()
        );
    }
}

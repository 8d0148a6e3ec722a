//! A runner's Garmin sync as a scheduled job: new runs are stored, tick the plan off, and are
//! announced in one message. After a 429 every instance leaves Garmin alone until Retry-After
//! (or the back-off) — the pause is in the store; expired or revoked tokens tell the runner once
//! how to reconnect and pause the schedule until they do.

use super::{RunReport, WorkerConfig, retry};
use crate::garmin::{self, GarminError, SyncSummary};
use crate::i18n::{self, Lang};
use crate::message::{ChatKey, Notifier, NotifyError, Reply};
use crate::science::format_duration;
use crate::store::{ClaimedJob, PausedReason, ScheduleKind, Store, StoreError, StoreResult};
use crate::tracking::{self, Ticked};

/// New activities listed one by one in a sync's message.
const SHOWN: usize = 5;

/// The name of Garmin's pause in the store.
pub const PROVIDER: &str = "garmin";

#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    store: &dyn Store,
    worker: &str,
    notifier: &dyn Notifier,
    clock: &dyn super::Clock,
    config: &WorkerConfig,
    job: &ClaimedJob,
    chat: &ChatKey,
    report: &mut RunReport,
) -> StoreResult<()> {
    let now = clock.now();
    let Some(user) = job.user_id else {
        store.fail_job(job.id, worker, "a Garmin sync without a runner", None).await?;
        report.failed += 1;
        return Ok(());
    };
    let Some(access) = &config.garmin else {
        // This instance has no Garmin: leave the job to one that has, a while later.
        let wait = Some(config.garmin_backoff);
        return retry(store, worker, config, job, now, wait, "Garmin is not configured on this instance", report).await;
    };
    if let Some(until) = store.provider_paused_until(PROVIDER, now).await? {
        return retry(store, worker, config, job, now, Some(until - now), "Garmin paused after a 429", report).await;
    }
    let runner = match store.get_user(user).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            store.fail_job(job.id, worker, "runner gone", None).await?;
            report.failed += 1;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let result = garmin::sync_user(&access.client, store, &access.sealer, user, |_| {}).await;
    // Whole activities stored before a failure tick the plan off too.
    let ticked = tracking::tick_off(store, user).await?;
    let lang = runner.lang;
    let text = match result {
        Ok(summary) => {
            new_runs_text(store, user, &summary, &ticked, lang).await?.map(|t| runner.units.localise(lang, &t))
        }
        Err(GarminError::RateLimited { retry_after_s }) => {
            let wait = garmin::pause_after_429(store, retry_after_s, config.garmin_backoff, now, "429").await?;
            return retry(store, worker, config, job, now, Some(wait), "Garmin rate limited", report).await;
        }
        Err(GarminError::SessionExpired | GarminError::TokensUnreadable | GarminError::NotConnected) => {
            // Useless tokens are forgotten (`/garmin` logs in again); the runner is told once.
            store.delete_credential(user, PROVIDER).await?;
            store.pause_schedule(ScheduleKind::GarminSync, chat, PausedReason::Reconnect).await?;
            Some(lang.pick(
                "⚠️ Ta connexion Garmin a expiré ou a été révoquée : je ne peux plus récupérer tes sorties. Tape /garmin pour la rétablir.",
                "⚠️ Your Garmin connection expired or was revoked: I can no longer fetch your runs. Type /garmin to reconnect.",
            ).to_owned())
        }
        Err(e) => {
            tracing::warn!(code = e.code(), error = %e, "background Garmin sync failed");
            return retry(store, worker, config, job, now, None, e.code(), report).await;
        }
    };
    // The sync is done and stored: a message that cannot go out is not worth syncing again.
    tell_and_complete(store, worker, notifier, job, chat, ScheduleKind::GarminSync, text, report).await
}

/// Sends `text` (if any) to the job's chat and completes the job, whatever the platform says: the
/// work is done and stored; a blocked chat pauses the `kind` schedule.
#[allow(clippy::too_many_arguments)]
async fn tell_and_complete(
    store: &dyn Store,
    worker: &str,
    notifier: &dyn Notifier,
    job: &ClaimedJob,
    chat: &ChatKey,
    kind: ScheduleKind,
    text: Option<String>,
    report: &mut RunReport,
) -> StoreResult<()> {
    match text {
        None => report.quiet += 1,
        Some(text) => match notifier.send(chat, &[Reply::text(text)]).await {
            Ok(()) => report.sent += 1,
            Err(NotifyError::Blocked) => {
                store.pause_schedule(kind, chat, PausedReason::Blocked).await?;
                report.paused += 1;
            }
            Err(e) => {
                tracing::warn!(error = ?e, key = %job.dedupe_key, %kind, "Garmin job done, its message not sent");
                report.quiet += 1;
            }
        },
    }
    store.complete_job(job.id, worker).await?;
    Ok(())
}

/// "🔄 Garmin: 2 new activities" with a line each, then the sessions they ticked off. `None`
/// when nothing is new.
async fn new_runs_text(
    store: &dyn Store,
    user: crate::domain::UserId,
    summary: &SyncSummary,
    ticked: &[Ticked],
    lang: Lang,
) -> StoreResult<Option<String>> {
    if summary.new == 0 && ticked.is_empty() {
        return Ok(None);
    }
    let mut lines = vec![format!(
        "🔄 Garmin{} {}",
        lang.pick(" :", ":"),
        i18n::count(
            lang,
            u64::try_from(summary.new).unwrap_or(u64::MAX),
            ["nouvelle activité", "nouvelles activités"],
            ["new activity", "new activities"]
        )
    )];
    // The newest few (Garmin lists newest first), read one by one: a first sync stores hundreds.
    let older = summary.new_ids.len().saturating_sub(SHOWN);
    if older > 0 {
        lines.push(format!(
            "• … {}",
            i18n::count(lang, older as u64, ["plus ancienne", "plus anciennes"], ["older", "older"])
        ));
    }
    let mut new = Vec::with_capacity(SHOWN);
    for id in summary.new_ids.iter().take(SHOWN) {
        new.extend(store.activity(user, *id).await?);
    }
    // Listed oldest first, as they happened.
    new.sort_by_key(|a| a.start_time);
    for a in &new {
        let km = a.distance_m.unwrap_or(0.0) / 1000.0;
        lines.push(format!(
            "• {} — {} {} km, {}",
            i18n::date_short(lang, a.start_time.date_naive()),
            a.name.clone().unwrap_or_else(|| a.sport.as_str().to_owned()),
            i18n::number(lang, km, 1),
            format_duration(a.duration_s)
        ));
    }
    lines.extend(tracking::ticked_lines(ticked, lang));
    Ok(Some(lines.join("\n")))
}

/// A runner's plan kept in step with their Garmin calendar (`/watch auto on`): nothing is sent
/// to Garmin when nothing changed; a push that changed something is told in one message.
#[allow(clippy::too_many_arguments)]
pub(super) async fn push(
    store: &dyn Store,
    worker: &str,
    notifier: &dyn Notifier,
    clock: &dyn super::Clock,
    config: &WorkerConfig,
    job: &ClaimedJob,
    chat: &ChatKey,
    tz: chrono_tz::Tz,
    report: &mut RunReport,
) -> StoreResult<()> {
    let now = clock.now();
    let Some(user) = job.user_id else {
        store.fail_job(job.id, worker, "a Garmin push without a runner", None).await?;
        report.failed += 1;
        return Ok(());
    };
    let runner = match store.get_user(user).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            store.fail_job(job.id, worker, "runner gone", None).await?;
            report.failed += 1;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let today = now.with_timezone(&tz).date_naive();
    let plan = crate::plans::active(store, user).await?.map(|a| a.plan);
    let days = garmin::workouts::DEFAULT_DAYS;
    let lang = runner.lang;
    // The common case, every hour: nothing changed, no Garmin call at all.
    match garmin::workouts::needs_push(store, user, plan.as_ref(), today, days, lang).await {
        Ok(false) => {
            return tell_and_complete(store, worker, notifier, job, chat, ScheduleKind::GarminPush, None, report).await;
        }
        Ok(true) => {}
        Err(GarminError::Store(e)) => return Err(e),
        Err(e) => return retry(store, worker, config, job, now, None, e.code(), report).await,
    }
    let Some(access) = &config.garmin else {
        let wait = Some(config.garmin_backoff);
        return retry(store, worker, config, job, now, wait, "Garmin is not configured on this instance", report).await;
    };
    if let Some(until) = store.provider_paused_until(PROVIDER, now).await? {
        return retry(store, worker, config, job, now, Some(until - now), "Garmin paused after a 429", report).await;
    }
    let result =
        garmin::workouts::push(&access.client, store, &access.sealer, user, plan.as_ref(), today, days, lang, now)
            .await;
    let text = match result {
        Ok(r) if !r.changed() && r.refused.is_empty() => None,
        Ok(r) => Some(garmin::workouts::report_text(&r, lang)),
        Err(GarminError::RateLimited { retry_after_s }) => {
            let wait = garmin::pause_after_429(store, retry_after_s, config.garmin_backoff, now, "429").await?;
            return retry(store, worker, config, job, now, Some(wait), "Garmin rate limited", report).await;
        }
        Err(GarminError::SessionExpired | GarminError::TokensUnreadable | GarminError::NotConnected) => {
            store.pause_schedule(ScheduleKind::GarminPush, chat, PausedReason::Reconnect).await?;
            Some(lang.pick(
                "⚠️ Ta connexion Garmin a expiré ou a été révoquée : je ne peux plus mettre tes séances dans ton calendrier Garmin. Tape /garmin pour la rétablir, puis /watch auto on.",
                "⚠️ Your Garmin connection expired or was revoked: I can no longer put your sessions in your Garmin calendar. Type /garmin to reconnect, then /watch auto on.",
            ).to_owned())
        }
        Err(GarminError::Store(e)) => return Err(e),
        Err(e) => {
            tracing::warn!(code = e.code(), error = %e, "Garmin push failed");
            return retry(store, worker, config, job, now, None, e.code(), report).await;
        }
    };
    tell_and_complete(store, worker, notifier, job, chat, ScheduleKind::GarminPush, text, report).await
}

//! Activity sync: pages of the activity list (newest first) into the store. Syncs walk the whole
//! history until one reaches its end; later ones stop at the first activity already stored from
//! Garmin. New runs
//! get their laps from the splits endpoint before the (atomic) insert.

use std::collections::HashSet;

use super::{GarminClient, GarminError, GarminSession, PROVIDER, TokenSealer, Tokens};
use crate::domain::UserId;
use crate::domain::activity::NewActivity;
use crate::import::garmin_json::{self, SOURCE_GARMIN};
use crate::store::{InsertOutcome, Store};

const PAGE_SIZE: usize = 100;
/// A bound on pages so a misbehaving server cannot keep us paging forever.
const MAX_PAGES: usize = 1_000;

/// Where a sync is, after each page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// Activities read from Garmin so far.
    pub fetched: usize,
    pub new: usize,
    pub duplicates: usize,
    /// The account's activity count (first sync only, when Garmin gives it).
    pub total: Option<usize>,
}

/// What a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub new: usize,
    /// Already stored (from an earlier sync, or the same activity imported from a file).
    pub duplicates: usize,
    /// Activities read from Garmin.
    pub total: usize,
    /// Items Garmin listed that could not be read.
    pub skipped: usize,
    /// Whether the whole history was walked (first sync).
    pub full: bool,
    /// New runs stored without laps because Garmin's splits call failed.
    pub without_laps: usize,
    /// The store ids of the new activities, in the order Garmin listed them (newest first).
    pub new_ids: Vec<i64>,
}

pub async fn save_tokens(
    store: &dyn Store,
    sealer: &TokenSealer,
    user: UserId,
    tokens: &Tokens,
) -> Result<(), GarminError> {
    let sealed = sealer.seal(user, tokens)?;
    store.put_credential(user, PROVIDER, &sealed).await?;
    Ok(())
}

pub async fn load_tokens(store: &dyn Store, sealer: &TokenSealer, user: UserId) -> Result<Tokens, GarminError> {
    let sealed = store.get_credential(user, PROVIDER).await?.ok_or(GarminError::NotConnected)?;
    sealer.open(user, &sealed)
}

/// Ends a login: checks the new tokens against `socialProfile`, then seals and stores them (with
/// any refresh that happened meanwhile). Returns Garmin's display name for the confirmation message.
pub async fn connect_account(
    client: &GarminClient,
    store: &dyn Store,
    sealer: &TokenSealer,
    user: UserId,
    tokens: Tokens,
) -> Result<Option<String>, GarminError> {
    let mut session = GarminSession::new(client, tokens);
    let profile = session.social_profile().await?;
    save_tokens(store, sealer, user, session.tokens()).await?;
    Ok(profile.get("displayName").and_then(serde_json::Value::as_str).map(str::to_owned))
}

/// Syncs with the runner's stored tokens and stores them again if they were refreshed.
pub async fn sync_user(
    client: &GarminClient,
    store: &dyn Store,
    sealer: &TokenSealer,
    user: UserId,
    progress: impl FnMut(SyncProgress),
) -> Result<SyncSummary, GarminError> {
    let tokens = load_tokens(store, sealer, user).await?;
    let mut session = GarminSession::new(client, tokens);
    let result = sync_activities(&mut session, store, user, PAGE_SIZE, progress).await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(GarminError::RateLimited { .. }) => "rate_limited",
        Err(e) => e.code(),
    };
    crate::metrics::METRICS.sync_results.get_or_create(&crate::metrics::Metrics::outcome(outcome)).inc();
    // Even a failed sync may have rotated the tokens: keep the new ones.
    if session.was_refreshed() {
        save_tokens(store, sealer, user, session.tokens()).await?;
    }
    result
}

/// Pages through the activity list into the store, calling `progress` after each page.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn sync_activities(
    session: &mut GarminSession<'_>,
    store: &dyn Store,
    user: UserId,
    page_size: usize,
    mut progress: impl FnMut(SyncProgress),
) -> Result<SyncSummary, GarminError> {
    let page_size = page_size.clamp(1, 1000);
    // Until one sync has walked the whole list, every sync walks it (an interrupted first sync
    // would otherwise stop at the newest activity it stored and never fetch the older ones).
    let full = !store.history_synced(user, PROVIDER).await?;
    // An incremental sync stops at the first of these; a full one relies on the store's dedup.
    let known: HashSet<String> = if full {
        HashSet::new()
    } else {
        store
            .activities(user, None)
            .await?
            .into_iter()
            .filter(|a| a.source == SOURCE_GARMIN)
            .filter_map(|a| a.external_id)
            .collect()
    };
    let total = if full {
        // Only for the progress display: a failure here must not stop the sync.
        session.activity_count().await.ok().flatten().and_then(|n| usize::try_from(n).ok())
    } else {
        None
    };
    let mut summary = SyncSummary { full, ..SyncSummary::default() };
    let mut start = 0;
    'pages: for _ in 0..MAX_PAGES {
        let page = session.activities(start, page_size).await?;
        let count = page.len();
        for item in &page {
            if garmin_json::activity_id(item).is_some_and(|id| known.contains(&id)) {
                progress(SyncProgress {
                    fetched: summary.total,
                    new: summary.new,
                    duplicates: summary.duplicates,
                    total,
                });
                break 'pages;
            }
            summary.total += 1;
            match garmin_json::activity_from_garmin(item) {
                Ok(mut activity) => {
                    // Laps cost one more Garmin call: only for runs we don't have yet.
                    if garmin_json::activity_kind(item).is_running()
                        && store.duplicate_activity(user, &activity).await?.is_none()
                    {
                        add_laps(session, &mut activity, &mut summary).await?;
                    }
                    match store.insert_activity(user, &activity).await? {
                        InsertOutcome::Inserted(id) => {
                            summary.new += 1;
                            summary.new_ids.push(id);
                        }
                        InsertOutcome::Duplicate(_) => summary.duplicates += 1,
                    }
                }
                Err(e) => {
                    tracing::warn!(code = e.code(), "Garmin activity skipped");
                    summary.skipped += 1;
                }
            }
        }
        progress(SyncProgress { fetched: summary.total, new: summary.new, duplicates: summary.duplicates, total });
        if count < page_size {
            if full {
                store.mark_history_synced(user, PROVIDER).await?;
            }
            break;
        }
        start += count;
    }
    tracing::info!(
        new = summary.new,
        duplicates = summary.duplicates,
        without_laps = summary.without_laps,
        full,
        "Garmin sync done"
    );
    Ok(summary)
}

/// Fills `activity.laps` from Garmin's splits. A failed call leaves the summary-only activity (and
/// counts it), except a 429 or a dead session: every later call would fail too, so the sync stops.
async fn add_laps(
    session: &mut GarminSession<'_>,
    activity: &mut NewActivity,
    summary: &mut SyncSummary,
) -> Result<(), GarminError> {
    let Some(id) = activity.external_id.as_deref() else {
        return Ok(());
    };
    match session.activity_splits(id).await {
        Ok(body) => activity.laps = garmin_json::laps_from_garmin_splits(&body),
        Err(e @ (GarminError::RateLimited { .. } | GarminError::SessionExpired)) => return Err(e),
        Err(e) => {
            tracing::warn!(code = e.code(), error = %e, "Garmin laps unavailable, storing the summary only");
            summary.without_laps += 1;
        }
    }
    Ok(())
}

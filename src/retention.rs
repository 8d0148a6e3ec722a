//! Retention: conversations, finished jobs, the audit log and LLM usage rows are kept for a while
//! (settings, docs/privacy.md), then deleted by a daily pass that runs once a day across every
//! instance (a latch in the shared limits table: the first instance to count the day runs it).

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::UserId;
use crate::store::{RetentionCounts, RetentionCutoffs, Store, StoreResult};

/// Days between the warning to an inactive runner and the erasure of their data.
pub const INACTIVE_NOTICE_DAYS: i64 = 30;

/// How long each kind of row is kept, in days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionPolicy {
    pub conversations_days: u32,
    pub jobs_days: u32,
    pub audit_days: u32,
    pub llm_usage_days: u32,
    /// Runners silent this many months (30 days each) are warned, then erased
    /// [`INACTIVE_NOTICE_DAYS`] later unless they write; `None` (the default): never.
    pub inactive_months: Option<u32>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            conversations_days: 365,
            jobs_days: 30,
            audit_days: 400,
            llm_usage_days: 90,
            inactive_months: None,
        }
    }
}

/// What the inactivity rule did (or would do, on a dry run).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InactivityOutcome {
    /// Runners warned now, with the day their data goes: the caller tells them.
    pub warned: Vec<(UserId, NaiveDate)>,
    pub erased: u64,
    /// Warned runners who wrote since: their warning is withdrawn.
    pub returned: u64,
}

/// The inactivity rule: a runner silent for `inactive_months` is warned; one still silent on the
/// day the warning named is erased (every table, as `/forget`); one who wrote is kept.
pub async fn inactivity(
    store: &dyn Store,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
    dry_run: bool,
) -> StoreResult<InactivityOutcome> {
    let mut out = InactivityOutcome::default();
    let Some(months) = policy.inactive_months.filter(|m| *m > 0) else { return Ok(out) };
    let today = now.date_naive();
    let inactive: HashSet<UserId> = store
        .inactive_runners(now - Duration::days(30 * i64::from(months)))
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut noticed = HashSet::new();
    for (id, warned_at, erase_on) in store.inactivity_notices().await? {
        noticed.insert(id);
        if !inactive.contains(&id) {
            out.returned += 1;
            if !dry_run {
                store.set_inactivity_notice(id, None).await?;
            }
        } else if erase_on <= today {
            out.erased += 1;
            if !dry_run {
                store.erase_user(id).await?;
                let detail = serde_json::json!({ "user": id.0, "warned_at": warned_at, "inactive_months": months });
                store.audit(None, "system", "erase_inactive", &detail).await?;
            }
        }
    }
    let mut fresh: Vec<UserId> = inactive.difference(&noticed).copied().collect();
    fresh.sort_by_key(|id| id.0);
    for id in fresh {
        let erase_on = today + Duration::days(INACTIVE_NOTICE_DAYS);
        if !dry_run {
            store.set_inactivity_notice(id, Some((now, erase_on))).await?;
            store.audit(Some(id), "system", "inactivity_notice", &serde_json::json!({ "erase_on": erase_on })).await?;
        }
        out.warned.push((id, erase_on));
    }
    Ok(out)
}

/// An abandoned dialogue (a wizard left midway) is dropped after this long.
pub const DIALOGUE_DAYS: i64 = 7;

impl RetentionPolicy {
    #[must_use]
    pub fn cutoffs(&self, now: DateTime<Utc>) -> RetentionCutoffs {
        let days = |d: u32| now - Duration::days(i64::from(d.max(1)));
        RetentionCutoffs {
            messages_before: days(self.conversations_days),
            jobs_before: days(self.jobs_days),
            audit_before: days(self.audit_days),
            llm_usage_before: days(self.llm_usage_days).date_naive(),
            link_codes_before: now,
            dialogue_states_before: now - Duration::days(DIALOGUE_DAYS),
        }
    }
}

/// Applies the policy (or counts what it would delete).
pub async fn apply(
    store: &dyn Store,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
    dry_run: bool,
) -> StoreResult<RetentionCounts> {
    let counts = store.apply_retention(&policy.cutoffs(now), dry_run).await?;
    if !dry_run && counts.total() > 0 {
        let detail = serde_json::to_value(counts).unwrap_or_default();
        store.audit(None, "system", "retention", &detail).await?;
    }
    Ok(counts)
}

/// The daily pass: runs on the first instance that asks on a UTC day, and on no other that day.
/// `None` when another instance already ran it today. The runners it warned are in the outcome
/// for the caller to tell.
pub async fn daily(
    store: &dyn Store,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> StoreResult<Option<(RetentionCounts, InactivityOutcome)>> {
    let day = now.date_naive();
    let start = day.and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc());
    // The shared counters' upsert is atomic: exactly one instance sees 1.
    if store.count_hits("retention:daily", start, start + Duration::days(1), 1).await? != 1 {
        return Ok(None);
    }
    let counts = apply(store, policy, now, false).await?;
    tracing::info!(deleted = counts.total(), ?counts, "retention: rows past their keeping time deleted");
    let inactive = inactivity(store, policy, now, false).await?;
    if policy.inactive_months.is_some() {
        tracing::info!(
            warned = inactive.warned.len(),
            erased = inactive.erased,
            returned = inactive.returned,
            "retention: inactive runners"
        );
    }
    Ok(Some((counts, inactive)))
}

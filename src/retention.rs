//! Retention: conversations, finished jobs, the audit log and LLM usage rows are kept for a while
//! (settings, docs/privacy.md), then deleted by a daily pass that runs once a day across every
//! instance (a latch in the shared limits table: the first instance to count the day runs it).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::store::{RetentionCounts, RetentionCutoffs, Store, StoreResult};

/// How long each kind of row is kept, in days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionPolicy {
    pub conversations_days: u32,
    pub jobs_days: u32,
    pub audit_days: u32,
    pub llm_usage_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy { conversations_days: 365, jobs_days: 30, audit_days: 400, llm_usage_days: 90 }
    }
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
/// `None` when another instance already ran it today.
pub async fn daily(
    store: &dyn Store,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> StoreResult<Option<RetentionCounts>> {
    let day = now.date_naive();
    let start = day.and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc());
    // The shared counters' upsert is atomic: exactly one instance sees 1.
    if store.count_hits("retention:daily", start, start + Duration::days(1), 1).await? != 1 {
        return Ok(None);
    }
    let counts = apply(store, policy, now, false).await?;
    tracing::info!(deleted = counts.total(), ?counts, "retention: rows past their keeping time deleted");
    Ok(Some(counts))
}

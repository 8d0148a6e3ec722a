//! Limits every instance shares, counted in the store in fixed windows: messages per runner per
//! minute, imports per runner per hour, Garmin logins per runner and for everyone per hour, HTTP
//! API calls per key per minute; the agent adds LLM turns per runner per minute and tokens for the
//! whole service per day (a runner's own daily tokens are in `llm_usage`). A rule whose `max` is
//! 0 is off.
//!
//! Fixed windows rather than a sliding log: one upsert per check, and the worst case (twice the
//! limit across a window edge) is fine for abuse control. `governor` keeps its state in memory,
//! so it cannot share a limit between instances.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tracing::instrument;

use crate::i18n::{self, Lang};
use crate::store::{Store, StoreResult};

/// At most `max` per `period`, for each key (a runner, an API key, or everyone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub max: i64,
    pub period: Duration,
}

impl Rule {
    #[must_use]
    pub const fn new(name: &'static str, max: i64, period: Duration) -> Rule {
        Rule { name, max, period }
    }

    /// The same rule with another maximum.
    #[must_use]
    pub const fn with_max(self, max: i64) -> Rule {
        Rule { max, ..self }
    }

    fn window(self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let period = self.period.num_seconds().max(1);
        let start = now.timestamp().div_euclid(period) * period;
        let start = Utc.timestamp_opt(start, 0).single().unwrap_or(now);
        (start, start + Duration::seconds(period))
    }

    fn bucket(self, key: &str) -> String {
        format!("{}:{key}", self.name)
    }
}

/// Whether an action may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit until `retry_at`.
    Denied {
        retry_at: DateTime<Utc>,
    },
}

impl Verdict {
    #[must_use]
    pub fn is_allowed(self) -> bool {
        self == Verdict::Allowed
    }
}

/// Counts one action for `key` and says whether it was within the limit. A denied action still
/// counts: whoever keeps knocking stays out until the window ends.
#[instrument(skip_all, fields(rule = rule.name))]
pub async fn take(store: &dyn Store, rule: Rule, key: &str, now: DateTime<Utc>) -> StoreResult<Verdict> {
    if rule.max <= 0 {
        return Ok(Verdict::Allowed);
    }
    let (start, end) = rule.window(now);
    let hits = store.count_hits(&rule.bucket(key), start, end, 1).await?;
    Ok(if hits > rule.max { Verdict::Denied { retry_at: end } } else { Verdict::Allowed })
}

/// Whether `key` is still under the limit, without counting anything (a budget checked before a
/// costly call, then [`spend`] after it).
#[instrument(skip_all, fields(rule = rule.name))]
pub async fn check(store: &dyn Store, rule: Rule, key: &str, now: DateTime<Utc>) -> StoreResult<Verdict> {
    if rule.max <= 0 {
        return Ok(Verdict::Allowed);
    }
    let (start, end) = rule.window(now);
    let hits = store.window_hits(&rule.bucket(key), start).await?;
    Ok(if hits >= rule.max { Verdict::Denied { retry_at: end } } else { Verdict::Allowed })
}

/// Adds `cost` (tokens, say) to `key`'s window; the window's total.
#[instrument(skip_all, fields(rule = rule.name))]
pub async fn spend(store: &dyn Store, rule: Rule, key: &str, now: DateTime<Utc>, cost: i64) -> StoreResult<i64> {
    if rule.max <= 0 || cost <= 0 {
        return Ok(0);
    }
    let (start, end) = rule.window(now);
    store.count_hits(&rule.bucket(key), start, end, cost).await
}

/// The limits of one deployment (env `RUNCOACH_LIMIT_*`, see docs/operations.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub messages: Rule,
    pub imports: Rule,
    pub garmin_logins: Rule,
    pub garmin_logins_all: Rule,
    pub api_calls: Rule,
    /// Wrong `/link` codes per runner per hour, and for everyone.
    pub link_failures: Rule,
    pub link_failures_all: Rule,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            messages: Rule::new("messages", 60, Duration::minutes(1)),
            imports: Rule::new("imports", 30, Duration::hours(1)),
            garmin_logins: Rule::new("garmin_logins", 5, Duration::hours(1)),
            garmin_logins_all: Rule::new("garmin_logins_all", 60, Duration::hours(1)),
            api_calls: Rule::new("api_calls", 120, Duration::minutes(1)),
            link_failures: Rule::new("link_failures", 5, Duration::hours(1)),
            link_failures_all: Rule::new("link_failures_all", 200, Duration::hours(1)),
        }
    }
}

/// "try again in 42 s" / "réessaie dans 3 min", rounded up.
#[must_use]
pub fn retry_in(lang: Lang, retry_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (retry_at - now).num_seconds().max(1);
    let wait = if s < 90 {
        format!("{s} s")
    } else if s < 90 * 60 {
        format!("{} min", (s + 59) / 60)
    } else {
        i18n::count(lang, u64::try_from((s + 3599) / 3600).unwrap_or(1), ["heure", "heures"], ["hour", "hours"])
    };
    match lang {
        Lang::Fr => format!("réessaie dans {wait}"),
        Lang::En => format!("try again in {wait}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_cover_now() {
        let rule = Rule::new("x", 1, Duration::hours(1));
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 10, 42, 7).unwrap();
        let (start, end) = rule.window(now);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 12, 5, 11, 0, 0).unwrap());
        assert_eq!(rule.bucket("7"), "x:7");
    }

    #[test]
    fn retry_texts_round_up_in_both_languages() {
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap();
        assert_eq!(retry_in(Lang::En, now + Duration::seconds(42), now), "try again in 42 s");
        assert_eq!(retry_in(Lang::Fr, now + Duration::seconds(150), now), "réessaie dans 3 min");
        assert_eq!(retry_in(Lang::En, now + Duration::hours(2), now), "try again in 2 hours");
        assert_eq!(retry_in(Lang::Fr, now - Duration::seconds(5), now), "réessaie dans 1 s");
    }
}

//! Platform rate limits: a token bucket per platform wrapped around a [`Notifier`], and the
//! delivery time a batch of messages needs at a given rate.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::domain::Platform;
use crate::message::{ChatKey, Notifier, NotifyError, Reply};

/// Messages per second and burst a platform accepts from one bot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl Rate {
    /// Telegram: about 30 messages a second across chats.
    pub const TELEGRAM: Rate = Rate { per_second: 30.0, burst: 30 };
    /// Discord: 50 requests a second globally; channel limits are far above one digest a week.
    pub const DISCORD: Rate = Rate { per_second: 50.0, burst: 50 };

    /// The default for a platform (console and API have no limit worth having).
    #[must_use]
    pub fn for_platform(p: Platform) -> Option<Rate> {
        match p {
            Platform::Telegram => Some(Rate::TELEGRAM),
            Platform::Discord => Some(Rate::DISCORD),
            Platform::Console | Platform::Api => None,
        }
    }

    /// This rate shared by `instances` running at once (each takes its share).
    #[must_use]
    pub fn shared_by(self, instances: u32) -> Rate {
        let n = f64::from(instances.max(1));
        Rate { per_second: self.per_second / n, burst: (self.burst / instances.max(1)).max(1) }
    }
}

/// How long `messages` take to send at `rate` from a full bucket.
#[must_use]
pub fn delivery_time(messages: u64, rate: Rate) -> Duration {
    let waiting = messages.saturating_sub(u64::from(rate.burst));
    if rate.per_second <= 0.0 {
        return Duration::MAX;
    }
    Duration::from_secs_f64(waiting as f64 / rate.per_second)
}

/// When message `i` (0-based) of a batch leaves, at `rate` from a full bucket.
#[must_use]
pub fn send_offset(i: u64, rate: Rate) -> Duration {
    delivery_time(i + 1, rate)
}

struct Bucket {
    tokens: f64,
    last: Instant,
    rate: Rate,
}

impl Bucket {
    /// Takes `n` tokens, returning how long to wait for them.
    fn take(&mut self, n: f64, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(f64::from(self.rate.burst));
        self.tokens -= n;
        if self.tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-self.tokens / self.rate.per_second) }
    }
}

/// A [`Notifier`] that waits for its platform's token bucket before each send (one token per
/// reply). Each instance has its own buckets: with several instances, give each its share
/// ([`Rate::shared_by`]).
pub struct RateLimited<N> {
    inner: N,
    rates: HashMap<Platform, Rate>,
    buckets: Mutex<HashMap<Platform, Bucket>>,
}

impl<N: Notifier> RateLimited<N> {
    /// The platforms' default rates.
    pub fn new(inner: N) -> Self {
        let rates = [Platform::Telegram, Platform::Discord]
            .into_iter()
            .filter_map(|p| Rate::for_platform(p).map(|r| (p, r)))
            .collect();
        RateLimited { inner, rates, buckets: Mutex::new(HashMap::new()) }
    }

    #[must_use]
    pub fn with_rate(mut self, platform: Platform, rate: Rate) -> Self {
        self.rates.insert(platform, rate);
        self
    }

    pub fn inner(&self) -> &N {
        &self.inner
    }

    async fn wait_turn(&self, platform: Platform, messages: usize) {
        let Some(rate) = self.rates.get(&platform).copied() else {
            return;
        };
        let wait = {
            let now = Instant::now();
            let mut buckets = self.buckets.lock().await;
            let bucket =
                buckets.entry(platform).or_insert_with(|| Bucket { tokens: f64::from(rate.burst), last: now, rate });
            bucket.take(messages.max(1) as f64, now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[async_trait]
impl<N: Notifier> Notifier for RateLimited<N> {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        self.wait_turn(chat.platform, replies.len()).await;
        self.inner.send(chat, replies).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_schedule() {
        assert_eq!(delivery_time(30, Rate::TELEGRAM), Duration::ZERO);
        let t = delivery_time(10_000, Rate::TELEGRAM).as_secs_f64();
        assert!((t - 332.33).abs() < 0.01, "{t}");
        assert!((send_offset(59, Rate::TELEGRAM).as_secs_f64() - 1.0).abs() < 1e-9);
        let half = Rate::TELEGRAM.shared_by(2);
        assert_eq!((half.per_second, half.burst), (15.0, 15));
    }

    #[test]
    fn bucket_waits_when_empty() {
        let now = Instant::now();
        let mut b = Bucket { tokens: 2.0, last: now, rate: Rate { per_second: 10.0, burst: 2 } };
        assert_eq!(b.take(1.0, now), Duration::ZERO);
        assert_eq!(b.take(1.0, now), Duration::ZERO);
        let wait = b.take(1.0, now);
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
    }
}

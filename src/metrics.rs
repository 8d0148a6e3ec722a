//! Prometheus metrics (prometheus-client): one process-wide registry that the core, the agent,
//! the Garmin sync and the scheduler record into, and that `GET /metrics` encodes.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PlatformLabel {
    pub platform: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabel {
    pub platform: String,
    /// The command's canonical name, or `text`, `button`, `file`, `other`: never user text.
    pub command: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

pub struct Metrics {
    pub messages_in: Family<PlatformLabel, Counter>,
    pub messages_out: Family<PlatformLabel, Counter>,
    /// Time from a message's arrival to its replies, per platform and command kind.
    pub reply_seconds: Family<CommandLabel, Histogram>,
    pub llm_calls: Counter,
    pub llm_tokens: Counter,
    pub llm_errors: Family<ReasonLabel, Counter>,
    pub llm_fallbacks: Counter,
    pub sync_results: Family<OutcomeLabel, Counter>,
    pub jobs: Family<OutcomeLabel, Counter>,
    /// Activities imported from files, per outcome (`imported`, `duplicate`, `refused`).
    pub imports: Family<OutcomeLabel, Counter>,
    /// Store calls that failed while answering a message (the database gone, a full disk…).
    pub store_errors: Counter,
    /// Jobs waiting or running, refreshed when `/metrics` is read.
    pub queue_depth: Gauge,
    /// 1 when the database answers, refreshed when `/metrics` is read.
    pub database_up: Gauge,
    registry: Registry,
}

fn command_histogram() -> Histogram {
    // 1 ms … ~4 s: chat commands are milliseconds, LLM turns seconds.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 13))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("runcoach");
        let m = Metrics {
            messages_in: Family::default(),
            messages_out: Family::default(),
            reply_seconds: Family::new_with_constructor(command_histogram),
            llm_calls: Counter::default(),
            llm_tokens: Counter::default(),
            llm_errors: Family::default(),
            llm_fallbacks: Counter::default(),
            sync_results: Family::default(),
            jobs: Family::default(),
            imports: Family::default(),
            store_errors: Counter::default(),
            queue_depth: Gauge::default(),
            database_up: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("messages_in", "Messages received, per platform", m.messages_in.clone());
        registry.register("messages_out", "Replies sent, per platform", m.messages_out.clone());
        registry.register(
            "reply_seconds",
            "Time from a message to its replies, per platform and command kind",
            m.reply_seconds.clone(),
        );
        registry.register("llm_calls", "Chat-completion calls to the LLM", m.llm_calls.clone());
        registry.register("llm_tokens", "LLM tokens used", m.llm_tokens.clone());
        registry.register("llm_errors", "LLM turns that failed, per reason", m.llm_errors.clone());
        registry.register(
            "llm_fallbacks",
            "Answers the deterministic coach gave for a failed LLM",
            m.llm_fallbacks.clone(),
        );
        registry.register("sync_results", "Garmin syncs, per outcome", m.sync_results.clone());
        registry.register("jobs", "Scheduled jobs handled, per outcome", m.jobs.clone());
        registry.register("imports", "Activity files imported, per outcome", m.imports.clone());
        registry.register("store_errors", "Store calls that failed while answering", m.store_errors.clone());
        registry.register("queue_depth", "Jobs pending or running", m.queue_depth.clone());
        registry.register("database_up", "Whether the database answers (1) or not (0)", m.database_up.clone());
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition of every metric.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    pub fn platform(p: crate::domain::Platform) -> PlatformLabel {
        PlatformLabel { platform: p.as_str().to_owned() }
    }

    pub fn outcome(outcome: &str) -> OutcomeLabel {
        OutcomeLabel { outcome: outcome.to_owned() }
    }
}

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_prometheus_text() {
        let m = Metrics::new();
        m.messages_in.get_or_create(&PlatformLabel { platform: "telegram".into() }).inc();
        m.reply_seconds
            .get_or_create(&CommandLabel { platform: "telegram".into(), command: "help".into() })
            .observe(0.002);
        m.llm_errors.get_or_create(&ReasonLabel { reason: "timeout".into() }).inc();
        let text = m.encode();
        assert!(text.contains("runcoach_messages_in_total{platform=\"telegram\"} 1"), "{text}");
        assert!(
            text.contains("runcoach_reply_seconds_bucket{le=\"0.002\",platform=\"telegram\",command=\"help\"} 1"),
            "{text}"
        );
        assert!(text.contains("runcoach_llm_errors_total{reason=\"timeout\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}

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
    pub command_seconds: Family<CommandLabel, Histogram>,
    pub llm_calls: Counter,
    pub llm_tokens: Counter,
    pub llm_errors: Family<ReasonLabel, Counter>,
    pub llm_fallbacks: Counter,
    pub sync_results: Family<OutcomeLabel, Counter>,
    pub jobs: Family<OutcomeLabel, Counter>,
    /// Jobs waiting or running, refreshed when `/metrics` is read.
    pub queue_depth: Gauge,
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
            command_seconds: Family::new_with_constructor(command_histogram),
            llm_calls: Counter::default(),
            llm_tokens: Counter::default(),
            llm_errors: Family::default(),
            llm_fallbacks: Counter::default(),
            sync_results: Family::default(),
            jobs: Family::default(),
            queue_depth: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("messages_in", "Messages received, per platform", m.messages_in.clone());
        registry.register("messages_out", "Replies sent, per platform", m.messages_out.clone());
        registry.register("command_seconds", "Time to answer, per command", m.command_seconds.clone());
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
        registry.register("queue_depth", "Jobs pending or running", m.queue_depth.clone());
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
        m.command_seconds.get_or_create(&CommandLabel { command: "help".into() }).observe(0.002);
        m.llm_errors.get_or_create(&ReasonLabel { reason: "timeout".into() }).inc();
        let text = m.encode();
        assert!(text.contains("runcoach_messages_in_total{platform=\"telegram\"} 1"), "{text}");
        assert!(text.contains("runcoach_command_seconds_bucket{le=\"0.002\",command=\"help\"} 1"), "{text}");
        assert!(text.contains("runcoach_llm_errors_total{reason=\"timeout\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}

//! Load generator: N simulated runners drive the bot core concurrently (the console/core interface,
//! no chat platform, no LLM) with a mix of everyday commands. Reports messages per second,
//! p50/p99 latency and memory (idle and under load), on SQLite and, when it is reachable, on
//! PostgreSQL. Target: ≥ 2,000 msg/s on 2 cores; idle RSS < 150 MB without the embedding model.
//! Run: `cargo bench -p runcoach-core --bench load` (RUNCOACH_BENCH_USERS, RUNCOACH_BENCH_MESSAGES).
//! Results: docs/benchmarks.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use runcoach_core::chat::{BotCore, ChatRef, Content, Incoming, Sender};
use runcoach_core::domain::Platform;
use runcoach_core::knowledge::KnowledgeBase;
use runcoach_core::store::{self, SqliteStore, Store};

/// What a runner sends, in turn (free text, commands, a profile change, plan and stats views).
const MIX: &[&str] = &[
    "/help",
    "/week",
    "/profile weight 70",
    "/stats",
    "/today",
    "bonjour",
    "quelle allure pour un 10 km en 50 min ?",
    "/profile",
    "/plans",
    "how do I run a tempo session?",
];

fn rss_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        })
        .unwrap_or(0)
        / 1024
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run(label: &str, store: Arc<dyn Store>, users: usize, per_user: usize) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Lexical knowledge base (no embedding model): the deterministic coach's configuration.
    let kb = KnowledgeBase::with_embedder(&root.join("knowledge_base"), None).ok().map(Arc::new);
    let core = Arc::new(BotCore::new(store).with_knowledge(kb));
    // Every runner exists before the clock starts (first contact is a one-off).
    for u in 0..users {
        core.handle(message(u, "/start")).await;
    }
    println!("{label}: idle RSS {} MiB ({users} runners known)", rss_mib("VmRSS:"));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for u in 0..users {
        let core = core.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(per_user);
            for i in 0..per_user {
                let text = MIX.get((u + i) % MIX.len()).copied().unwrap_or("/help");
                let t = Instant::now();
                let replies = core.handle(message(u, text)).await;
                latencies.push(t.elapsed());
                if replies.is_empty() {
                    eprintln!("no reply to {text}");
                }
            }
            latencies
        });
    }
    let mut all: Vec<Duration> = Vec::with_capacity(users * per_user);
    let mut peak = 0;
    while let Some(done) = tasks.join_next().await {
        peak = peak.max(rss_mib("VmRSS:"));
        if let Ok(l) = done {
            all.extend(l);
        }
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| all.get(((all.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or_default();
    println!(
        "{label}: {} messages from {users} runners in {:.2} s = {:.0} msg/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; RSS under load {} MiB (peak {} MiB)",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        peak,
        rss_mib("VmHWM:"),
    );
}

fn message(user: usize, text: &str) -> Incoming {
    Incoming {
        sender: Sender {
            platform: Platform::Console,
            user_id: format!("load-{user}"),
            username: Some(format!("load{user}")),
            language_code: Some(if user.is_multiple_of(2) { "fr".into() } else { "en".into() }),
        },
        chat: ChatRef::new(format!("load-{user}"), true),
        content: Content::Text(text.to_owned()),
    }
}

fn main() {
    let users = env_usize("RUNCOACH_BENCH_USERS", 50);
    let per_user = env_usize("RUNCOACH_BENCH_MESSAGES", 200);
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() else {
        return;
    };
    println!("RSS at start: {} MiB", rss_mib("VmRSS:"));
    runtime.block_on(async {
        let Ok(dir) = tempfile::tempdir() else { return };
        match SqliteStore::open_in(dir.path()).await {
            Ok(s) => run("sqlite", Arc::new(s), users, per_user).await,
            Err(e) => println!("sqlite: {e}"),
        }
        let admin = std::env::var("RUNCOACH_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("rc_bench_{}", std::process::id());
        match store::create_database(&admin, &name).await {
            Ok(url) => match store::connect(Some(&url), dir.path()).await {
                Ok(s) => run("postgres", s, users, per_user).await,
                Err(e) => println!("postgres: {e}"),
            },
            Err(e) => println!("postgres skipped: {e}"),
        }
    });
}

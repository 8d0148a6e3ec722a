//! Other runners' replies while 20 runners upload 24 MB files at once: file parsing runs on the
//! blocking pool (one per core), so `/help` from everyone else stays quick. Prints `/help`
//! latencies (p50, p99, max) alone and during the uploads, and how long the uploads took.
//!
//! `cargo bench --bench busy`. Results: docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runcoach_core::chat::{BotCore, ChatRef, Content, Incoming, Sender};
use runcoach_core::domain::Platform;
use runcoach_core::limits::Limits;
use runcoach_core::store::SqliteStore;

const UPLOADS: usize = 20;
// Just under the chat's 25 MB limit for one file.
const FILE_BYTES: usize = 24_000_000;

/// A GPX track of about `bytes`: one point a second along a straight line.
fn gpx(bytes: usize, offset_days: i64) -> Vec<u8> {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-02T07:00:00Z").unwrap().to_utc()
        + chrono::Duration::days(offset_days);
    let mut out = String::with_capacity(bytes + 1024);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="bench" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Run</name><type>running</type><trkseg>"#);
    let mut i = 0u32;
    while out.len() < bytes {
        let t = start + chrono::Duration::seconds(i64::from(i));
        let _ = write!(
            out,
            r#"<trkpt lat="{:.6}" lon="{:.6}"><ele>200.0</ele><time>{}</time></trkpt>"#,
            45.0 + f64::from(i) * 0.000_025,
            5.0,
            t.format("%Y-%m-%dT%H:%M:%SZ")
        );
        i += 1;
    }
    out.push_str("</trkseg></trk></gpx>");
    out.into_bytes()
}

fn message(user: &str, content: Content) -> Incoming {
    Incoming {
        sender: Sender {
            platform: Platform::Telegram,
            user_id: user.into(),
            username: None,
            language_code: Some("en".into()),
        },
        chat: ChatRef::new(user, true),
        content,
    }
}

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let at = |q: f64| v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
    format!(
        "n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        v.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        v.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    )
}

async fn help_latencies(core: &BotCore, until: impl Fn() -> bool, at_least: usize) -> Vec<Duration> {
    let mut out = Vec::new();
    let mut n = 0usize;
    while out.len() < at_least || until() {
        let started = Instant::now();
        let replies = core.handle(message(&format!("reader-{}", n % 5), Content::Text("/help".into()))).await;
        assert!(!replies.is_empty());
        out.push(started.elapsed());
        n += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let off = Limits::default();
    let limits = Limits { messages: off.messages.with_max(0), imports: off.imports.with_max(0), ..off };
    let core = Arc::new(BotCore::new(store).with_limits(limits));
    let files: Vec<Vec<u8>> = (0..UPLOADS).map(|i| gpx(FILE_BYTES, i as i64)).collect();
    println!(
        "{} uploads of {:.1} MB GPX, {} cores",
        UPLOADS,
        files[0].len() as f64 / 1e6,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let quiet = help_latencies(&core, || false, 100).await;
    println!("/help alone:               {}", percentiles(quiet));

    let started = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut uploads = tokio::task::JoinSet::new();
    for (i, data) in files.into_iter().enumerate() {
        let (core, done) = (core.clone(), done.clone());
        uploads.spawn(async move {
            let replies = core
                .handle(message(
                    &format!("uploader-{i}"),
                    Content::File { name: format!("run-{i}.gpx"), mime: None, data },
                ))
                .await;
            assert!(replies.iter().any(|r| r.text.contains("km")), "{replies:?}");
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
    }
    let busy = help_latencies(&core, || done.load(std::sync::atomic::Ordering::SeqCst) < UPLOADS, 20).await;
    while uploads.join_next().await.is_some() {}
    println!("/help during the uploads:  {}", percentiles(busy));
    println!("all uploads imported in {:.1} s", started.elapsed().as_secs_f64());
}

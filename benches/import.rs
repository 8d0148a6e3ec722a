//! Activity import and Garmin sync at realistic sizes. Targets: a ~1 MB multisport FIT imported
//! (parsed and stored) in < 300 ms; a first Garmin sync of 400 activities from a local server plus
//! the history analysis in < 1 s.
//!
//! `cargo bench -j1 --bench import -- --sample-size 10`. Results: docs/benchmarks.md.

// The local Garmin server the tests use (tests/support/garmin_fake.rs): login, token, activity
// list, count and splits, replaying the recorded bodies.
#[path = "../tests/support/garmin_fake.rs"]
mod garmin_fake;

use std::error::Error;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::garmin::{self, GarminClient, GarminSession, LoginStep, Tokens};
use runcoach_core::history;
use runcoach_core::i18n::Lang;
use runcoach_core::import;
use runcoach_core::store::{InsertOutcome, SqliteStore, Store};
use serde_json::{Value, json};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures");
/// Every activity FIT among the fixtures (the triathlon is itself a chained multisport file).
const ACTIVITY_FITS: &[&str] = &[
    "fit/sample_mulitple_header.fit",
    "fit/activity-small-fenix2-run.fit",
    "fit/garth-download-11998957007_ACTIVITY.fit",
    "fit/hrv-activity.fit",
    "fit/garmin-fenix-5-run.fit",
    "fit/garmin-fenix-5-bike.fit",
    "fit/garmin-fenix-5-walk.fit",
    "fit/Activity.fit",
];
const ONE_MB: usize = 1_000_000;
const HISTORY: usize = 400;

/// A chained FIT of at least 1 MB: the activity fixtures one after the other, the set repeated
/// until the size is reached (FIT chains whole files: each keeps its header and CRC).
fn chained_fit() -> BenchResult<Vec<u8>> {
    let files: Vec<Vec<u8>> =
        ACTIVITY_FITS.iter().map(|p| std::fs::read(Path::new(FIXTURES).join(p))).collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    while out.len() < ONE_MB {
        for f in &files {
            out.extend_from_slice(f);
        }
    }
    Ok(out)
}

async fn fresh_store() -> BenchResult<(tempfile::TempDir, Arc<dyn Store>, UserId)> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await?);
    let id = PlatformIdentity { platform: Platform::Console, platform_user_id: "bench".into() };
    let user = store.resolve_identity(&id, None, Lang::En).await?.user.id;
    Ok((dir, store, user))
}

/// Parses the chained file and stores every activity: (inserted, duplicates).
async fn import_into(store: &dyn Store, user: UserId, bytes: &[u8]) -> BenchResult<(usize, usize)> {
    let mut counts = (0, 0);
    for imported in import::import_bytes("chained.fit", bytes)? {
        match store.insert_activity(user, &imported.activity).await? {
            InsertOutcome::Inserted(_) => counts.0 += 1,
            InsertOutcome::Duplicate(_) => counts.1 += 1,
        }
    }
    Ok(counts)
}

/// `n` Garmin list items, newest first, one a day, built from the three recorded ones: four in
/// five the trail run (two laps each), then the hike or the paddle-board outing; distances and
/// durations vary a little.
fn garmin_history(n: usize) -> BenchResult<Vec<Value>> {
    let recorded = garmin_fake::body("test_activity_list__0.json");
    let templates = recorded.as_array().ok_or("the recorded list is not a list")?;
    let newest = Utc::now() - chrono::Duration::hours(6);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let template = templates.get(if i % 5 == 4 { 1 + (i / 5) % 2 } else { 0 }).ok_or("template")?;
        let mut a = template.as_object().ok_or("an activity is not an object")?.clone();
        let start = newest - chrono::Duration::days(i as i64);
        let scale = 0.8 + (i % 7) as f64 * 0.07;
        a.insert("activityId".into(), json!(30_000_000_000u64 - i as u64));
        a.insert("startTimeGMT".into(), json!(start.format("%Y-%m-%d %H:%M:%S").to_string()));
        let local = start - chrono::Duration::hours(6);
        a.insert("startTimeLocal".into(), json!(local.format("%Y-%m-%d %H:%M:%S").to_string()));
        a.insert("beginTimestamp".into(), json!(start.timestamp_millis()));
        for key in ["distance", "duration", "movingDuration", "elapsedDuration"] {
            if let Some(v) = a.get(key).and_then(Value::as_f64) {
                a.insert(key.into(), json!(v * scale));
            }
        }
        out.push(Value::Object(a));
    }
    Ok(out)
}

async fn login(client: &GarminClient) -> BenchResult<Tokens> {
    match client.login(garmin_fake::EMAIL, &garmin_fake::password()).await? {
        LoginStep::Done(tokens) => Ok(tokens),
        LoginStep::NeedMfa(_) => Err("the local server asked for MFA".into()),
    }
}

/// One first sync into a fresh store and the analysis: the timed part only.
async fn sync_and_analyze(client: &GarminClient, tokens: &Tokens) -> BenchResult<Duration> {
    let (_dir, store, user) = fresh_store().await?;
    let started = Instant::now();
    let mut session = GarminSession::new(client, tokens.clone());
    let summary = garmin::sync_activities(&mut session, store.as_ref(), user, 100, |_| {}).await?;
    let (_, analysis) = history::analyze_user(store.as_ref(), user, Utc::now().date_naive()).await?;
    let elapsed = started.elapsed();
    if summary.new != HISTORY || analysis.activity_count == 0 {
        return Err(format!("synced {summary:?}, analysed {}", analysis.activity_count).into());
    }
    black_box(analysis);
    Ok(elapsed)
}

fn main() -> BenchResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    // No plots: criterion's plotters backend needs system fonts this machine lacks.
    let mut c = Criterion::default().without_plots().configure_from_args();

    let fit = chained_fit()?;
    let sessions = import::import_bytes("chained.fit", &fit)?.len();
    let (inserted, duplicates) = rt.block_on(async {
        let (_dir, store, user) = fresh_store().await?;
        import_into(store.as_ref(), user, &fit).await
    })?;
    println!(
        "chained FIT: {} bytes, {sessions} sessions ({inserted} stored, {duplicates} duplicates of earlier copies)",
        fit.len()
    );
    c.bench_function("import_fit_1mb_parse", |b| b.iter(|| import::import_bytes("chained.fit", black_box(&fit))));
    c.bench_function("import_fit_1mb_parse_and_store_sqlite", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let Ok((_dir, store, user)) = fresh_store().await else { continue };
                    let started = Instant::now();
                    let counts = import_into(store.as_ref(), user, &fit).await;
                    total += started.elapsed();
                    black_box(counts.ok());
                }
                total
            })
        })
    });

    let (client, tokens) = rt.block_on(async {
        let items = garmin_history(HISTORY)?;
        let (client, _fake) =
            garmin_fake::serve(garmin_fake::Fake { activities: items, ..garmin_fake::Fake::default() }).await;
        let tokens = login(&client).await?;
        BenchResult::Ok((client, tokens))
    })?;
    // Once outside criterion, so a broken setup fails loudly instead of timing errors.
    let once = rt.block_on(sync_and_analyze(&client, &tokens))?;
    println!("garmin sync of {HISTORY} activities + analysis, first run: {once:?}");
    c.bench_function("garmin_sync_400_and_analyze_sqlite", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    match sync_and_analyze(&client, &tokens).await {
                        Ok(elapsed) => total += elapsed,
                        Err(e) => eprintln!("sync failed: {e}"),
                    }
                }
                total
            })
        })
    });
    c.final_summary();
    Ok(())
}

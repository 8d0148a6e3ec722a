//! File import against real files (../shared/fixtures), then into the store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use proptest::prelude::*;
use runcoach_core::domain::{Platform, PlatformIdentity};
use runcoach_core::i18n::Lang;
use runcoach_core::import::{self, ImportError, ImportWarning, Imported, garmin_json};
use runcoach_core::science::ActivityKind;
use runcoach_core::store::InsertOutcome;
use support::TestStore;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures");

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn import_fixture(path: &str) -> Result<Vec<Imported>, ImportError> {
    import::import_bytes(path.rsplit('/').next().unwrap(), &fixture(path))
}

fn one(path: &str) -> Imported {
    let mut all = import_fixture(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(all.len(), 1, "{path}: {} activities", all.len());
    all.remove(0)
}

fn near(actual: Option<f64>, expected: f64, tolerance: f64) -> bool {
    actual.is_some_and(|a| (a - expected).abs() <= tolerance)
}

#[test]
fn fenix2_fit_run_has_summary_laps_and_samples() {
    let run = one("fit/activity-small-fenix2-run.fit");
    let a = &run.activity;
    assert_eq!(a.source, "file");
    assert_eq!(a.sport, ActivityKind::Running);
    assert!(near(a.distance_m, 9008.0, 5.0), "{:?}", a.distance_m);
    assert!((a.duration_s - 2832.0).abs() < 5.0, "{}", a.duration_s);
    assert_eq!(a.laps.len(), 4);
    assert!(a.avg_hr.is_some_and(|h| h > 100.0 && h < 200.0), "{:?}", a.avg_hr);
    assert!(a.max_hr >= a.avg_hr);
    // Running cadence is in steps per minute.
    assert!(a.avg_cadence.is_some_and(|c| c > 120.0 && c < 220.0), "{:?}", a.avg_cadence);
    let samples = a.samples.as_ref().unwrap();
    assert!(samples.len() > 2500, "{}", samples.len());
    assert!(samples.points.iter().any(|p| p.hr.is_some() && p.lat.is_some()));
    assert!(a.external_id.as_deref().unwrap().starts_with("fit-"));
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
    // Same bytes, same id: a second import dedupes on (source, external_id).
    assert_eq!(one("fit/activity-small-fenix2-run.fit").activity.external_id, a.external_id);
}

#[test]
fn other_fit_activities_map_their_sport() {
    assert_eq!(one("fit/garmin-fenix-5-bike.fit").activity.sport, ActivityKind::Cycling);
    assert_eq!(one("fit/garmin-fenix-5-walk.fit").activity.sport, ActivityKind::Walking);
    let run = one("fit/garmin-fenix-5-run.fit").activity;
    assert_eq!(run.sport, ActivityKind::Running);
    assert!(near(run.distance_m, 157.6, 1.0), "{:?}", run.distance_m);
    let hrv = one("fit/hrv-activity.fit").activity;
    assert_eq!(hrv.sport, ActivityKind::Cycling);
    assert!(hrv.avg_hr.is_some());
    let sdk = one("fit/Activity.fit").activity;
    assert!(sdk.samples.is_some_and(|s| s.points.iter().any(|p| p.lat.is_some())));
}

#[test]
fn non_activity_fit_files_are_refused() {
    for path in ["fit/MonitoringFile.fit", "fit/Settings.fit"] {
        let err = import_fixture(path).unwrap_err();
        assert!(matches!(err, ImportError::NotAnActivity { .. }), "{path}: {err:?}");
        assert_eq!(err.code(), "import_not_an_activity");
    }
}

#[test]
fn chained_triathlon_fit_yields_its_run() {
    let all = import_fixture("fit/sample_mulitple_header.fit").unwrap();
    assert!(all.len() >= 3, "{} sessions", all.len());
    let run = all.iter().find(|i| i.activity.sport == ActivityKind::Running).expect("a run session");
    assert!(near(run.activity.distance_m, 9806.0, 20.0), "{:?}", run.activity.distance_m);
    assert!(all.iter().any(|i| i.activity.sport == ActivityKind::Cycling));
    assert!(all.iter().any(|i| i.activity.sport == ActivityKind::Swimming));
    // Each session has its own samples, inside its own time window.
    let samples = run.activity.samples.as_ref().unwrap();
    assert!(!samples.is_empty());
    let ids: std::collections::HashSet<_> = all.iter().map(|i| i.activity.external_id.clone()).collect();
    assert_eq!(ids.len(), all.len());
}

#[test]
fn damaged_fit_files_import_with_a_warning() {
    let crc = one("fit/invalid/activity-filecrc.fit");
    assert!(crc.warnings.contains(&ImportWarning::BadChecksum), "{:?}", crc.warnings);
    match import_fixture("fit/invalid/activity-unexpected-eof.fit") {
        Ok(all) => assert!(all.iter().all(|i| i.warnings.contains(&ImportWarning::Truncated))),
        Err(e) => assert_eq!(e.code(), "import_corrupt"),
    }
}

#[test]
fn a_fit_file_of_malformed_field_definitions_is_refused_before_it_floods_the_logs() {
    // fitparser prints a stderr line for each field whose size is not a multiple of its type's
    // (here a 3-byte uint32); the reader stops counting them at 64 and refuses the file.
    let mut data = Vec::new();
    for _ in 0..10_000 {
        data.extend_from_slice(&[0x40, 0, 0, 20, 0, 1, 253, 3, 0x86]);
    }
    let mut file = vec![14, 0x10];
    file.extend_from_slice(&2093u16.to_le_bytes());
    file.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    file.extend_from_slice(b".FIT");
    file.extend_from_slice(&[0, 0]);
    file.extend_from_slice(&data);
    file.extend_from_slice(&[0, 0]);
    let err = import::import_fit(&file).unwrap_err();
    assert_eq!(err, ImportError::Corrupt { format: "FIT", detail: "too many malformed field definitions".into() });
}

#[test]
fn fit_headers_are_checked_before_fitparser_slices_with_them() {
    // Found by fuzzing: fitparser slices the input with the header's size byte (out of range here)
    // and subtracts the input length from it (underflow). Both are refused before reaching it.
    let bad_header = |size: u8, len: usize| {
        let mut bytes = fixture("fit/Activity.fit");
        bytes.truncate(len);
        bytes[0] = size;
        bytes
    };
    for bytes in [bad_header(95, 86), bad_header(5, 20), bad_header(14, 13)] {
        let err = import::import_fit(&bytes).unwrap_err();
        assert_eq!(err, ImportError::Corrupt { format: "FIT", detail: "bad file header".into() }, "{:?}", &bytes[..4]);
    }
    // A header whose data size ends inside a message: fitparser then reads what follows the
    // message as a chained file's header.
    let mut short = fixture("fit/Activity.fit");
    short[4..8].copy_from_slice(&20u32.to_le_bytes());
    let err = import::import_fit(&short).unwrap_err();
    assert_eq!(err, ImportError::Corrupt { format: "FIT", detail: "bad file header".into() });
    // Garbage after a whole file: the file is kept, with a warning.
    let mut chained = fixture("fit/Activity.fit");
    chained.extend_from_slice(&bad_header(95, 86));
    let all = import::import_bytes("chained.fit", &chained).unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].warnings.contains(&ImportWarning::Truncated), "{:?}", all[0].warnings);
    assert_eq!(all[0].activity, one("fit/Activity.fit").activity);
}

#[test]
fn garmin_zip_download_yields_the_yoga_activity() {
    let yoga = one("garmin-api/download-service_files_activity_11998957007.zip");
    assert_eq!(yoga.activity.sport, ActivityKind::Other);
    assert!(yoga.activity.avg_hr.is_some());
    assert!(yoga.activity.duration_s > 600.0, "{}", yoga.activity.duration_s);
    let direct = one("fit/garth-download-11998957007_ACTIVITY.fit");
    assert_eq!(direct.activity, yoga.activity);
}

#[test]
fn tcx_run_reads_lap_totals_and_trackpoints() {
    let run = one("tcx/20210119_run_garmin_fenix6.tcx").activity;
    assert_eq!(run.sport, ActivityKind::Running);
    assert!(near(run.distance_m, 5124.8, 0.1), "{:?}", run.distance_m);
    assert!((run.duration_s - 1230.5).abs() < 0.1, "{}", run.duration_s);
    assert_eq!(run.avg_hr, Some(157.0));
    assert_eq!(run.max_hr, Some(189.0));
    assert_eq!(run.avg_cadence, Some(182.0));
    assert_eq!(run.laps.len(), 1);
    assert_eq!(run.device.as_deref(), Some("fenix 6 Sapphire"));
    assert_eq!(run.samples.as_ref().unwrap().len(), 1232);
    let yoga = one("tcx/20210323_yoga.tcx").activity;
    assert_eq!(yoga.sport, ActivityKind::Other);
    assert!(yoga.avg_hr.is_some());
}

#[test]
fn gpx_reads_garmin_hr_and_cadence_extensions() {
    let run = one("gpx/garmin-activity.gpx").activity;
    assert_eq!(run.sport, ActivityKind::Running);
    let samples = run.samples.as_ref().unwrap();
    assert_eq!(samples.len(), 988);
    assert!(samples.points.iter().filter(|p| p.hr.is_some()).count() > 900);
    assert!(run.avg_hr.is_some_and(|h| h > 80.0 && h < 200.0), "{:?}", run.avg_hr);
    assert!(run.avg_cadence.is_some_and(|c| c > 120.0), "{:?}", run.avg_cadence);
    assert!(run.distance_m.is_some_and(|d| d > 1000.0), "{:?}", run.distance_m);
    assert!(run.moving_s.is_some_and(|m| m <= run.duration_s));
    assert!(run.elevation_gain_m.is_some());
    let wahoo = one("gpx/wahoo_example.gpx").activity;
    assert_eq!(wahoo.samples.unwrap().len(), 3);
}

#[test]
fn gpx_routes_and_empty_tracks_are_refused() {
    let cases = [
        ("gpx/strava_route_example.gpx", "import_route_without_times"),
        ("gpx/cerknicko-without-times.gpx", "import_route_without_times"),
        ("gpx/unicode_with_bom.gpx", "import_no_track_points"),
    ];
    for (path, code) in cases {
        let err = import_fixture(path).unwrap_err();
        assert_eq!(err.code(), code, "{path}: {err:?}");
    }
    let empty = b"<?xml version=\"1.0\"?><gpx version=\"1.1\"><trk><trkseg></trkseg></trk></gpx>";
    assert_eq!(import::import_bytes("empty.gpx", empty).unwrap_err().code(), "import_no_track_points");
    // An empty segment beside a recorded one is ignored.
    let track = one("gpx/track-with-empty-segment.gpx").activity;
    assert_eq!(track.samples.unwrap().len(), 9);
}

#[test]
fn gzipped_gpx_is_read() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&fixture("gpx/garmin-activity.gpx")).unwrap();
    let bytes = gz.finish().unwrap();
    let all = import::import_bytes("run.gpx.gz", &bytes).unwrap();
    assert_eq!(all[0].activity, one("gpx/garmin-activity.gpx").activity);
}

#[test]
fn garmin_list_json_yields_its_three_activities() {
    let all = import_fixture("garmin-api/test_activity_list__0.json").unwrap();
    // The recorded list holds a trail run, a hike and a paddle-board outing.
    let sports: Vec<&str> = all.iter().map(|i| i.activity.sport.as_str()).collect();
    assert_eq!(sports, ["trail", "walking", "other"]);
    assert!(all.iter().all(|i| i.activity.source == "garmin" && i.warnings.is_empty()));
    let a = &all[0].activity;
    assert_eq!(a.external_id.as_deref(), Some("21482825013"));
    assert!(near(a.distance_m, 4261.19, 0.01));
    assert!((a.duration_s - 2223.33).abs() < 0.01);
    assert_eq!(a.moving_s, Some(2216.0));
    assert_eq!(a.avg_hr, Some(142.0));
    assert_eq!(a.max_hr, Some(162.0));
    assert!(near(a.avg_cadence, 111.73, 0.01));
    assert_eq!(a.elevation_gain_m, Some(151.0));
    assert_eq!(a.vo2max, Some(45.0));
    assert!(near(a.training_load, 50.886, 0.001));
    assert!(near(a.aerobic_te, 2.7, 0.001));
    assert_eq!(a.utc_offset_s, -6 * 3600);
    assert_eq!(a.start_time.to_rfc3339(), "2026-01-08T14:10:21+00:00");
    assert_eq!(a.hr_zones_s.as_ref().map(Vec::len), Some(5));
    let best = a.best_efforts.as_ref().unwrap();
    assert!(near(best["1000"].as_f64(), 395.31, 0.01));
    assert!(best.get("5000").is_none());
    // The sync maps list items with the same function.
    let raw: serde_json::Value = serde_json::from_slice(&fixture("garmin-api/test_activity_list__0.json")).unwrap();
    assert_eq!(&garmin_json::activity_from_garmin(&raw["body"][0]).unwrap(), a);
}

#[test]
fn garmin_activity_detail_maps_like_its_list_item() {
    let raw: serde_json::Value = serde_json::from_slice(&fixture("garmin-api/test_activity_get__1.json")).unwrap();
    let detail = garmin_json::activity_from_garmin(&raw["body"]).unwrap();
    let list = import_fixture("garmin-api/test_activity_list__0.json").unwrap();
    let item = &list[0].activity;
    assert_eq!(detail.external_id, item.external_id);
    assert_eq!((detail.start_time, detail.utc_offset_s), (item.start_time, item.utc_offset_s));
    assert_eq!(detail.sport, ActivityKind::Trail);
    assert!(near(detail.distance_m, 4261.19, 0.01));
    assert!(near(detail.avg_cadence, 111.73, 0.01));
    assert!(near(detail.aerobic_te, 2.7, 0.001));
    assert_eq!(detail.training_load, item.training_load);
    // A file holding that body is one activity too.
    assert_eq!(import_fixture("garmin-api/test_activity_get__1.json").unwrap()[0].activity, detail);
    assert_eq!(
        garmin_json::activity_from_garmin(&serde_json::json!({"duration": 1})).unwrap_err().code(),
        "import_garmin_json_invalid"
    );
}

#[test]
fn garmin_splits_become_laps_in_lap_order() {
    let body = serde_json::json!({ "lapDTOs": [
        { "lapIndex": 2, "startTimeGMT": "2026-01-08T14:21:21.0", "duration": 600.5, "distance": 2000.0,
          "averageHR": 150.0, "maxHR": 160.0, "averageRunCadence": 170.5, "averageSpeed": 3.33, "intensityType": "INTERVAL" },
        { "lapIndex": 1, "startTimeGMT": "2026-01-08 14:10:21", "duration": 660.0, "distance": 2100.0,
          "averageHR": 0.0, "intensityType": "WARMUP" },
        { "lapIndex": 3, "duration": 60.0 },
    ]});
    let laps = garmin_json::laps_from_garmin_splits(&body);
    assert_eq!(laps.len(), 2, "the lap without a start is left out");
    assert_eq!(laps[0].start_time.to_rfc3339(), "2026-01-08T14:10:21+00:00");
    assert_eq!((laps[0].duration_s, laps[0].distance_m, laps[0].avg_hr), (660.0, Some(2100.0), None));
    assert_eq!(laps[0].intensity.as_deref(), Some("warmup"));
    assert_eq!((laps[1].avg_cadence, laps[1].max_hr, laps[1].avg_speed_mps), (Some(170.5), Some(160.0), Some(3.33)));
    assert!(garmin_json::laps_from_garmin_splits(&serde_json::json!({})).is_empty());
}

#[test]
fn unknown_and_oversized_inputs_are_refused() {
    assert_eq!(import::import_bytes("x.bin", b"hello world").unwrap_err().code(), "import_unknown_format");
    assert_eq!(import::import_bytes("x.fit", b"hello world").unwrap_err().code(), "import_corrupt");
    assert_eq!(import::import_bytes("x.fit", b"").unwrap_err().code(), "import_empty");
    let big = vec![b' '; import::MAX_IMPORT_BYTES + 1];
    assert_eq!(import::import_bytes("big.gpx", &big).unwrap_err().code(), "import_too_large");
    assert_eq!(import::import_bytes("x.json", b"{\"a\":1}").unwrap_err().code(), "import_unknown_format");
    assert_eq!(import::import_bytes("x.xml", b"<html></html>").unwrap_err().code(), "import_unknown_format");
}

#[test]
fn zip_bombs_are_refused() {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("bomb.gpx", options).unwrap();
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..(import::MAX_DECOMPRESSED_BYTES / (1024 * 1024) + 1) {
        zip.write_all(&chunk).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() < import::MAX_IMPORT_BYTES);
    let err = import::import_bytes("bomb.zip", &bytes).unwrap_err();
    assert_eq!(err.code(), "import_decompressed_too_large");
}

#[test]
fn errors_and_warnings_speak_both_languages() {
    let errors = [
        ImportError::Empty,
        ImportError::TooLarge { limit_bytes: import::MAX_IMPORT_BYTES },
        ImportError::DecompressedTooLarge { limit_bytes: import::MAX_DECOMPRESSED_BYTES },
        ImportError::UnknownFormat,
        ImportError::NotAnActivity { kind: "settings".into() },
        ImportError::RouteWithoutTimes,
        ImportError::NoTrackPoints,
        ImportError::Corrupt { format: "FIT", detail: String::new() },
        ImportError::NothingFound,
        ImportError::GarminJson { detail: String::new() },
    ];
    let mut codes = std::collections::HashSet::new();
    for e in &errors {
        assert!(codes.insert(e.code()));
        assert_ne!(e.message(Lang::Fr), e.message(Lang::En));
    }
    let warnings = [
        ImportWarning::BadChecksum,
        ImportWarning::Truncated,
        ImportWarning::SummaryFromSamples,
        ImportWarning::PointsDropped { count: 3 },
        ImportWarning::Skipped { item: "a.fit".into(), code: "import_corrupt" },
    ];
    for w in &warnings {
        assert!(codes.insert(w.code()));
        assert_ne!(w.message(Lang::Fr), w.message(Lang::En));
    }
}

const FUZZ_FIXTURES: &[&str] = &[
    "fit/Activity.fit",
    "fit/garmin-fenix-5-run.fit",
    "fit/Settings.fit",
    "gpx/wahoo_example.gpx",
    "gpx/unicode_with_bom.gpx",
    "tcx/20210119_run_garmin_fenix6.tcx",
    "garmin-api/test_activity_list__0.json",
    "garmin-api/download-service_files_activity_11998957007.zip",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Mutated and truncated real files are refused or imported, never a panic.
    #[test]
    fn damaged_files_never_panic(
        which in 0..FUZZ_FIXTURES.len(),
        cut in 0.0f64..1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
    ) {
        let mut bytes = fixture(FUZZ_FIXTURES[which]);
        for (at, byte) in flips {
            let i = ((bytes.len() as f64) * at) as usize % bytes.len();
            bytes[i] = byte;
        }
        let keep = ((bytes.len() as f64) * cut) as usize;
        bytes.truncate(keep.max(1));
        match import::import_bytes(FUZZ_FIXTURES[which], &bytes) {
            Ok(all) => prop_assert!(all.iter().all(|i| i.activity.duration_s.is_finite())),
            Err(e) => prop_assert!(!e.code().is_empty()),
        }
    }
}

/// Every fixture that imports (some hold the same activity: Activity.fit and its bad-CRC copy, the
/// Garmin ZIP and the FIT inside it, a Garmin list and one of its items fetched alone).
const IMPORTABLE: &[&str] = &[
    "fit/Activity.fit",
    "fit/invalid/activity-filecrc.fit",
    "fit/activity-small-fenix2-run.fit",
    "fit/garmin-fenix-5-bike.fit",
    "fit/garmin-fenix-5-run.fit",
    "fit/garmin-fenix-5-walk.fit",
    "fit/garth-download-11998957007_ACTIVITY.fit",
    "fit/hrv-activity.fit",
    "fit/sample_mulitple_header.fit",
    "gpx/garmin-activity.gpx",
    "gpx/wahoo_example.gpx",
    "gpx/track-with-empty-segment.gpx",
    "tcx/20210119_run_garmin_fenix6.tcx",
    "tcx/20210323_yoga.tcx",
    "garmin-api/test_activity_list__0.json",
    "garmin-api/test_activity_get__1.json",
    "garmin-api/download-service_files_activity_11998957007.zip",
];

/// Two independent parses of every importable fixture (parsing is the slow part: done once), so
/// the second pass also checks that a re-import gives the same ids.
fn parsed() -> &'static [[Vec<runcoach_core::domain::activity::NewActivity>; 2]] {
    static PARSED: std::sync::OnceLock<Vec<[Vec<runcoach_core::domain::activity::NewActivity>; 2]>> =
        std::sync::OnceLock::new();
    PARSED.get_or_init(|| {
        let parse = |path: &str| {
            import_fixture(path).unwrap_or_else(|e| panic!("{path}: {e}")).into_iter().map(|i| i.activity).collect()
        };
        IMPORTABLE.iter().map(|path| [parse(path), parse(path)]).collect()
    })
}

/// What the store holds, comparable across stores: (start, duration, distance, source, sport, id).
type Listed = (chrono::DateTime<chrono::Utc>, i64, Option<i64>, String, String, Option<String>);

async fn listing(t: &TestStore, user: runcoach_core::domain::UserId) -> Vec<Listed> {
    let mut all: Vec<Listed> = t
        .store
        .activities(user, None)
        .await
        .unwrap()
        .into_iter()
        .map(|a| {
            let distance = a.distance_m.map(|d| d.round() as i64);
            (a.start_time, a.duration_s.round() as i64, distance, a.source, a.sport.as_str().to_owned(), a.external_id)
        })
        .collect();
    all.sort();
    all
}

/// Imports the fixtures `order` names (indexes into IMPORTABLE) twice into a fresh SQLite store:
/// the listing after the first pass, and the outcomes of the second.
async fn import_twice(order: &[usize]) -> (Vec<Listed>, Vec<InsertOutcome>) {
    let t = support::sqlite().await;
    let user = runner(&t).await;
    for &i in order {
        for a in &parsed()[i][0] {
            t.store.insert_activity(user, a).await.unwrap();
        }
    }
    let first = listing(&t, user).await;
    let mut second = Vec::new();
    for &i in order {
        for a in &parsed()[i][1] {
            second.push(t.store.insert_activity(user, a).await.unwrap());
        }
    }
    assert_eq!(listing(&t, user).await, first, "the second pass changed the store");
    (first, second)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Any subset of the real files, in any order, imported twice: the same store as importing
    /// them in a fixed order, and the second pass is only duplicates.
    #[test]
    fn import_is_order_independent_and_idempotent(
        order in proptest::sample::subsequence((0..IMPORTABLE.len()).collect::<Vec<_>>(), 1..=IMPORTABLE.len())
            .prop_shuffle(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (listed, second) = rt.block_on(import_twice(&order));
        let mut sorted = order.clone();
        sorted.sort_unstable();
        let (reference, _) = rt.block_on(import_twice(&sorted));
        prop_assert_eq!(&listed, &reference, "order {:?}", order.iter().map(|&i| IMPORTABLE[i]).collect::<Vec<_>>());
        prop_assert!(second.iter().all(|o| matches!(o, InsertOutcome::Duplicate(_))), "{:?}", second);
        prop_assert!(!listed.is_empty());
    }
}

// End to end into the store.

async fn runner(t: &TestStore) -> runcoach_core::domain::UserId {
    let id = PlatformIdentity { platform: Platform::Console, platform_user_id: "importer".into() };
    t.store.resolve_identity(&id, None, Lang::En).await.unwrap().user.id
}

async fn reimport_and_garmin_copy_are_duplicates(t: TestStore) {
    let user = runner(&t).await;
    let run = one("fit/activity-small-fenix2-run.fit").activity;
    let first = t.store.insert_activity(user, &run).await.unwrap();
    let InsertOutcome::Inserted(id) = first else { panic!("first import: {first:?}") };
    let again = one("fit/activity-small-fenix2-run.fit").activity;
    assert_eq!(t.store.insert_activity(user, &again).await.unwrap(), InsertOutcome::Duplicate(id));
    let samples = t.store.activity_samples(user, id).await.unwrap().unwrap();
    assert_eq!(samples.len(), run.samples.as_ref().unwrap().len());

    // The same run as Garmin Connect lists it: another source and id, a start a few seconds off.
    let start = run.start_time + chrono::Duration::seconds(3);
    let item = serde_json::json!({
        "activityId": 987_654_321u64,
        "activityName": "Morning run",
        "startTimeGMT": start.format("%Y-%m-%d %H:%M:%S").to_string(),
        "startTimeLocal": (start + chrono::Duration::hours(1)).format("%Y-%m-%d %H:%M:%S").to_string(),
        "activityType": { "typeKey": "running" },
        "distance": run.distance_m.unwrap() - 12.0,
        "duration": run.duration_s + 1.5,
    });
    let garmin = garmin_json::activity_from_garmin(&item).unwrap();
    assert_eq!(t.store.insert_activity(user, &garmin).await.unwrap(), InsertOutcome::Duplicate(id));

    // A Garmin list imported twice: the second time every item is a duplicate by activityId.
    let list = import_fixture("garmin-api/test_activity_list__0.json").unwrap();
    for i in &list {
        assert!(matches!(t.store.insert_activity(user, &i.activity).await.unwrap(), InsertOutcome::Inserted(_)));
    }
    for i in &list {
        assert!(matches!(t.store.insert_activity(user, &i.activity).await.unwrap(), InsertOutcome::Duplicate(_)));
    }
    assert_eq!(t.store.activities(user, None).await.unwrap().len(), 4);
}

async fn every_importable_fixture_stores(t: TestStore) {
    let user = runner(&t).await;
    for path in [
        "fit/garmin-fenix-5-bike.fit",
        "fit/sample_mulitple_header.fit",
        "tcx/20210323_yoga.tcx",
        "gpx/garmin-activity.gpx",
        "garmin-api/download-service_files_activity_11998957007.zip",
    ] {
        for i in import_fixture(path).unwrap() {
            let outcome = t.store.insert_activity(user, &i.activity).await;
            assert!(matches!(outcome, Ok(InsertOutcome::Inserted(_))), "{path}: {outcome:?}");
        }
    }
}

/// Found by the order property above: a 45 s walk and a 57 s run started 78 s apart used to pass
/// for one activity (starts within 2 min, durations within 60 s, distances within 100 m), so
/// whichever came first was kept.
async fn short_activities_a_minute_apart_are_two(t: TestStore) {
    let user = runner(&t).await;
    let walk = one("fit/garmin-fenix-5-walk.fit").activity;
    let run = one("fit/garmin-fenix-5-run.fit").activity;
    assert!((run.start_time - walk.start_time).num_seconds() < 120);
    assert!(matches!(t.store.insert_activity(user, &walk).await.unwrap(), InsertOutcome::Inserted(_)));
    assert!(matches!(t.store.insert_activity(user, &run).await.unwrap(), InsertOutcome::Inserted(_)));
    assert!(t.store.duplicate_activity(user, &run).await.unwrap().is_some());
    // The run shifted 20 s, as another device would record it, is still a duplicate.
    let mut copy = run.clone();
    copy.external_id = None;
    copy.start_time += chrono::Duration::seconds(20);
    assert!(matches!(t.store.insert_activity(user, &copy).await.unwrap(), InsertOutcome::Duplicate(_)));
}

on_both_stores!(
    reimport_and_garmin_copy_are_duplicates,
    every_importable_fixture_stores,
    short_activities_a_minute_apart_are_two,
);

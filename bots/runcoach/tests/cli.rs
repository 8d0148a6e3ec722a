//! The `runcoach` binary as a user or a script runs it: piped console chat, export, forget, migrate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn runcoach(data_dir: &Path, args: &[&str], stdin: &str, database_url: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runcoach"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("DISCORD_TOKEN")
        .env_remove("RUNCOACH_LLM_BASE_URL")
        .env_remove("RUNCOACH_LLM_API_KEY")
        // The terminal's locale picks a new console runner's language: tests choose theirs.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .env("RUNCOACH_KB_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge_base"))
        .env("RUNCOACH_MODEL_DIR", data_dir.join("no-model"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("spawn runcoach");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn piped_chat_answers_in_english() {
    let dir = tempfile::tempdir().unwrap();
    let out = runcoach(dir.path(), &["chat", "--user", "camille", "--lang", "en"], "/start\n/help\n/profile\n", None);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("Welcome camille!") && text.contains("I'm an AI"), "{text}");
    assert!(text.contains("What I can do") && text.contains("/forget"), "{text}");
    assert!(text.contains("Your profile"), "{text}");
    assert!(!text.contains("> "), "no prompt when piped");
    assert!(dir.path().join("runcoach.db").exists(), "SQLite store created on first run");
}

#[test]
fn piped_chat_answers_in_french_and_presses_buttons_by_number() {
    let dir = tempfile::tempdir().unwrap();
    let input = "/start\n/aide\n/profil age 35 poids 70,5\n/profil\n/forget\n2\n";
    let out = runcoach(dir.path(), &["chat", "--user", "camille", "--lang", "fr"], input, None);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("Bienvenue camille") && text.contains("intelligence artificielle"), "{text}");
    assert!(text.contains("Ce que je sais faire"), "{text}");
    assert!(text.contains("70,5 kg") && text.contains("35 ans"), "{text}");
    assert!(text.contains("[1] 🗑️ Oui, tout effacer   [2] Annuler"), "{text}");
    assert!(text.contains("Ok, je n'efface rien."), "{text}");
}

#[test]
fn invalid_utf8_and_absurd_values_do_not_stop_the_chat() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runcoach"));
    cmd.arg("--data-dir").arg(dir.path()).args(["chat", "--user", "bob"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).env_remove("DATABASE_URL");
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"/profile weight \xff\xfe\n/profile weight 0\n").unwrap();
    stdin.write_all(&vec![b'x'; 100 * 1024]).unwrap();
    stdin.write_all(b"\n/profile weight 80\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("is not a valid number for weight"), "{text}");
    assert!(text.contains("I accept 25 to 300 kg"), "{text}");
    assert!(text.contains("too long"), "{text}");
    assert!(text.contains("80 kg"), "the chat went on: {text}");
}

#[test]
fn export_and_forget_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    runcoach(dir.path(), &["chat", "--user", "alice"], "/profile weight 55\n", None);

    let out = runcoach(dir.path(), &["export", "--user", "alice"], "", None);
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("export is JSON");
    assert_eq!(doc["user"]["profile"]["weight"], serde_json::json!(55.0));
    assert_eq!(doc["identities"][0]["platform_user_id"], serde_json::json!("alice"));

    let refused = runcoach(dir.path(), &["forget", "--user", "alice"], "", None);
    assert_eq!(refused.status.code(), Some(2), "forget needs --yes");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));

    let out = runcoach(dir.path(), &["forget", "--user", "alice", "--yes"], "", None);
    assert!(out.status.success(), "{out:?}");
    let out = runcoach(dir.path(), &["export", "--user", "alice"], "", None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no runner \"alice\""), "{out:?}");
}

#[test]
fn migrate_and_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let out = runcoach(dir.path(), &["migrate"], "", None);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("sqlite"));
    let out = runcoach(dir.path(), &["chat"], "", None);
    assert_eq!(out.status.code(), Some(2), "missing --user");
    let out = runcoach(dir.path(), &["chat", "--user", "x", "--lang", "de"], "", None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected fr or en"));
    let out = runcoach(dir.path(), &["export", "--user", "a b"], "", None);
    assert!(!out.status.success());
    let out = runcoach(dir.path(), &["serve"], "", None);
    assert_eq!(out.status.code(), Some(2), "serve without any platform token explains and stops");
    assert!(String::from_utf8_lossy(&out.stderr).contains("TELEGRAM_BOT_TOKEN"));
}

#[test]
fn bare_runcoach_without_tokens_is_a_console_chat() {
    let dir = tempfile::tempdir().unwrap();
    let out = runcoach(dir.path(), &[], "/help\n", None);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("What I can do"));
}

#[test]
fn unreadable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = runcoach(&file, &["chat", "--user", "a"], "/help\n", None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot open the SQLite store") && err.contains("not-a-dir"), "{err}");
}

#[tokio::test]
async fn database_url_selects_postgres() {
    let admin = std::env::var("RUNCOACH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("rc_test_cli_{}", std::process::id());
    let url = runcoach_core::store::create_database(&admin, &name).await.expect("PostgreSQL on 127.0.0.1:5432");
    let dir = tempfile::tempdir().unwrap();
    let out = runcoach(dir.path(), &["chat", "--user", "pg"], "/profile weight 66\n", Some(&url));
    assert!(out.status.success(), "{out:?}");
    assert!(!dir.path().join("runcoach.db").exists(), "no SQLite file when DATABASE_URL is set");
    let out = runcoach(dir.path(), &["export", "--user", "pg"], "", Some(&url));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["user"]["profile"]["weight"], serde_json::json!(66.0));
    let out = runcoach(dir.path(), &["migrate"], "", Some(&url));
    assert!(stdout(&out).contains("postgres"));
}

#[test]
fn vdot_from_a_performance() {
    let dir = tempfile::tempdir().unwrap();
    let out = runcoach(dir.path(), &["vdot", "--distance", "5k", "--time", "24:34", "--json"], "", None);
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((doc["vdot"].as_f64().unwrap() - 39.1).abs() < 0.05, "{doc}");
    assert_eq!(doc["equivalents_s"]["5k"], serde_json::json!(1474.0));
    for band in ["easy", "marathon", "threshold", "interval", "repetition"] {
        let p = &doc["paces_s_per_km"][band];
        assert!(p["min"].as_f64().unwrap() <= p["max"].as_f64().unwrap(), "{band}: {p}");
    }
    let easy = doc["paces_s_per_km"]["easy"]["min"].as_f64().unwrap();
    let rep = doc["paces_s_per_km"]["repetition"]["max"].as_f64().unwrap();
    assert!(easy > rep, "easy is slower than repetition");

    let out = runcoach(dir.path(), &["vdot", "--distance", "10k", "--time", "2:00"], "", None);
    assert_eq!(out.status.code(), Some(2), "a 2-minute 10K is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("world-record"));
    let out = runcoach(dir.path(), &["vdot", "--distance", "moon", "--time", "20:00"], "", None);
    assert_eq!(out.status.code(), Some(2));
    let out = runcoach(dir.path(), &["vdot", "--distance", "marathon", "--time", "3:10:49"], "", None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("VDOT 50.0"), "{out:?}");
}

#[test]
fn plan_follows_the_json_contract_and_refuses_unsafe_requests() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["plan", "--goal", "10k", "--race-date", "2027-04-11", "--sessions", "4", "--start", "2027-01-04"];
    let out = runcoach(dir.path(), &args, "", None);
    assert!(out.status.success(), "{out:?}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "goal",
        "level",
        "level_reason",
        "length_caution",
        "start_date",
        "race_date",
        "sessions_per_week",
        "vdot",
        "weeks",
    ] {
        assert!(plan.get(key).is_some(), "{key} missing");
    }
    assert_eq!(plan["goal"], serde_json::json!("10k"));
    assert_eq!(plan["race_date"], serde_json::json!("2027-04-11"));
    let weeks = plan["weeks"].as_array().unwrap();
    let last_week = weeks.last().unwrap()["workouts"].as_array().unwrap();
    let last = last_week.last().unwrap();
    assert_eq!(last["kind"], serde_json::json!("race"));
    assert_eq!(last["date"], serde_json::json!("2027-04-11"), "the race is the last workout, on race day");
    for week in weeks {
        for key in ["index", "phase", "planned_minutes", "planned_km", "workouts"] {
            assert!(week.get(key).is_some(), "week.{key} missing");
        }
        for w in week["workouts"].as_array().unwrap() {
            for key in ["date", "kind", "duration_min", "distance_km", "pace_s_per_km", "hr_zone", "description"] {
                assert!(w.get(key).is_some(), "workout.{key} missing in {w}");
            }
        }
    }

    let ics =
        runcoach(dir.path(), &["plan", "--goal", "5k", "--weeks", "8", "--sessions", "3", "--format", "ics"], "", None);
    let ics = String::from_utf8(ics.stdout).unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.trim_end().ends_with("END:VCALENDAR"));

    let md = runcoach(
        dir.path(),
        &["plan", "--goal", "half", "--weeks", "12", "--sessions", "4", "--format", "md", "--lang", "fr"],
        "",
        None,
    );
    assert!(stdout(&md).contains("| Date | Séance |"), "{}", stdout(&md));

    for (args, expect) in [
        (
            &["plan", "--goal", "marathon", "--weeks", "3", "--sessions", "4", "--level", "beginner"][..],
            "at least 18 weeks",
        ),
        (&["plan", "--goal", "10k", "--weeks", "8", "--sessions", "9"][..], "between 2"),
        (&["plan", "--goal", "10k", "--race-date", "2020-01-01", "--sessions", "3"][..], "before the plan start"),
        (&["plan", "--goal", "ultra", "--weeks", "8", "--sessions", "3"][..], "ultra"),
    ] {
        let out = runcoach(dir.path(), args, "", None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "no broken plan printed");
    }
    let out = runcoach(dir.path(), &["plan", "--goal", "10k", "--sessions", "3"], "", None);
    assert_eq!(out.status.code(), Some(2), "weeks or race date is required");
}

#[test]
fn import_prints_one_line_per_file_and_fails_when_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    let run = fx.join("fit/activity-small-fenix2-run.fit");
    let tcx = fx.join("tcx/20210119_run_garmin_fenix6.tcx");
    let settings = fx.join("fit/Settings.fit");
    let (run, tcx, settings) = (run.to_str().unwrap(), tcx.to_str().unwrap(), settings.to_str().unwrap());

    let out = runcoach(dir.path(), &["import", "--user", "cam", run, tcx], "", None);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().all(|l| l.contains(": imported: running")), "{text}");

    let out = runcoach(dir.path(), &["import", "--user", "cam", run, settings], "", None);
    assert_eq!(out.status.code(), Some(1), "a refused file makes the command fail");
    let text = stdout(&out);
    assert!(text.contains(": duplicate: running"), "{text}");
    assert!(text.contains("Settings.fit: refused: ") && text.contains("not an activity"), "{text}");

    // The chat sees the imported runs.
    let out = runcoach(dir.path(), &["chat", "--user", "cam"], "/stats\n", None);
    assert!(stdout(&out).contains("2 runs"), "{}", stdout(&out));
}

#[test]
fn stats_follow_the_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    let files: Vec<String> =
        ["fit/activity-small-fenix2-run.fit", "gpx/garmin-activity.gpx", "garmin-api/test_activity_list__0.json"]
            .iter()
            .map(|f| fx.join(f).to_str().unwrap().to_owned())
            .collect();
    let mut args = vec!["import", "--user", "cam"];
    args.extend(files.iter().map(String::as_str));
    assert!(runcoach(dir.path(), &args, "", None).status.success());
    let out = runcoach(dir.path(), &["stats", "--user", "cam", "--json"], "", None);
    assert!(out.status.success(), "{out:?}");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = [
        "activities",
        "runs",
        "run_distance_km_avg",
        "run_duration_min_avg",
        "run_distance_km_max",
        "run_hr_avg",
        "weekly_km_last_4",
        "vdot",
        "predictions_s",
        "load_7d",
        "load_28d",
        "acwr",
        "level",
        "fitness",
        "hr_zones",
        "vdot_as_of",
        "form",
        "returning",
    ];
    for key in keys {
        assert!(s.get(key).is_some(), "{key} missing in {s}");
    }
    assert_eq!(s.as_object().unwrap().len(), keys.len(), "no extra keys: {s}");
    assert_eq!(s["activities"], serde_json::json!(5));
    assert_eq!(s["runs"], serde_json::json!(3), "two road runs and the trail run");
    assert!((s["run_distance_km_max"].as_f64().unwrap() - 12.82).abs() < 0.05, "{s}");
    assert_eq!(s["weekly_km_last_4"].as_array().unwrap().len(), 4);
    for part in ["ctl", "atl", "tsb"] {
        assert!(s["fitness"][part].is_number(), "fitness.{part} in {s}");
    }
    assert_eq!(s["hr_zones"]["zones"].as_array().map(Vec::len), Some(5), "{s}");
    assert!(s["form"].is_string(), "{s}");
    // Either a recent VDOT with its date or the last known one: never both.
    assert_eq!(s["vdot"].is_null(), s["vdot_as_of"].is_null(), "{s}");
    assert!(s["vdot"].is_null() || s["returning"].is_null(), "{s}");
    // The text is the chat's, in the runner's language or the one asked for.
    let text = stdout(&runcoach(dir.path(), &["stats", "--user", "cam"], "", None));
    assert!(text.starts_with("📊 **Your stats**") && text.contains("3 runs"), "{text}");
    assert!(!text.trim_start().starts_with('{'), "not JSON without --json");
    let fr = stdout(&runcoach(dir.path(), &["stats", "--user", "cam", "--lang", "fr"], "", None));
    assert!(fr.starts_with("📊 **Tes statistiques**") && fr.contains("3 sorties"), "{fr}");
    let out = runcoach(dir.path(), &["stats", "--user", "cam", "--json", "--days", "30"], "", None);
    let recent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(recent["runs"], serde_json::json!(0), "the fixtures are all older than 30 days: {recent}");
    assert!(!runcoach(dir.path(), &["stats", "--user", "nobody"], "", None).status.success());
}

#[test]
fn serve_with_a_discord_token_it_cannot_use_stops_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env("DISCORD_TOKEN", "not-a-real-token")
        // Nothing listens there: the token cannot be checked.
        .env("RUNCOACH_DISCORD_API_URL", "http://127.0.0.1:9")
        .env("RUNCOACH_HTTP_ADDR", "127.0.0.1:0")
        .env("RUNCOACH_OPS_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Discord refused the bot token or could not be reached"), "{stderr}");
}

#[test]
fn ask_answers_one_question_without_an_llm() {
    let dir = tempfile::tempdir().unwrap();
    let out = runcoach(
        dir.path(),
        &["ask", "--user", "camille", "what", "pace", "for", "a", "10k", "in", "50:00?"],
        "",
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("race pace **5:00 /km**"), "{text}");
    let out = runcoach(dir.path(), &["ask", "--user", "camille", "how do I run a tempo session?"], "", None);
    let text = stdout(&out);
    assert!(text.contains("Here's what our guide says") && text.contains("📚"), "{text}");
    // The question and the answer are kept in the runner's conversation.
    let export = runcoach(dir.path(), &["export", "--user", "camille"], "", None);
    assert!(stdout(&export).contains("how do I run a tempo session?"));
}

/// `kill -9` in the middle of an import: every activity is written in one transaction, so the
/// store holds whole activities only, and running the import again completes it without
/// duplicates. The kill lands wherever it lands; each round checks the same invariant.
#[test]
fn an_import_killed_midway_resumes_without_duplicates() {
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    let files: Vec<String> = [
        "fit/activity-small-fenix2-run.fit",
        "tcx/20210119_run_garmin_fenix6.tcx",
        "gpx/garmin-activity.gpx",
        "fit/sample_mulitple_header.fit",
        "garmin-api/test_activity_list__0.json",
        "fit/garmin-fenix-5-run.fit",
        "fit/hrv-activity.fit",
    ]
    .iter()
    .map(|f| fx.join(f).to_str().unwrap().to_owned())
    .collect();
    let mut args = vec!["import", "--user", "cam"];
    args.extend(files.iter().map(String::as_str));

    // What a complete import stores.
    let clean = tempfile::tempdir().unwrap();
    runcoach(clean.path(), &args, "", None);
    let expected = stats(clean.path());

    for delay_ms in [0_u64, 40, 120, 300] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_runcoach"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(&args)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Again, to the end: what was already stored is reported as a duplicate, nothing twice.
        let again = runcoach(dir.path(), &args, "", None);
        let text = stdout(&again);
        for f in &files {
            assert!(text.contains(f.as_str()), "{f} not reported: {text}");
        }
        assert!(!text.contains("refused"), "{text}");
        assert_eq!(stats(dir.path()), expected, "after a kill at {delay_ms} ms");
    }
}

fn stats(dir: &Path) -> serde_json::Value {
    let out = runcoach(dir, &["stats", "--user", "cam", "--json"], "", None);
    assert!(out.status.success(), "{out:?}");
    let mut s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Loads depend on today's date only through the window, identical within one test.
    s.as_object_mut()
        .unwrap()
        .retain(|k, _| ["activities", "runs", "run_distance_km_avg", "run_distance_km_max"].contains(&k.as_str()));
    s
}

/// A data directory that cannot be written (here on procfs, read-only even for root) is a clear
/// error naming the directory, not a panic.
#[test]
fn an_unwritable_data_dir_is_a_clear_error() {
    let out = runcoach(Path::new("/proc/runcoach-data"), &["chat", "--user", "cam"], "/help\n", None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot open the SQLite store in /proc/runcoach-data"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A GPX run of `minutes` starting at 06:30 UTC on `day`.
fn gpx_run(day: chrono::NaiveDate, minutes: i64) -> String {
    let start = day.and_hms_opt(6, 30, 0).unwrap().and_utc();
    let points: String = (0..=minutes * 6)
        .map(|i| {
            let t = start + chrono::Duration::seconds(10 * i);
            let lat = 48.85 + (i as f64) * 0.0003;
            format!("<trkpt lat=\"{lat:.6}\" lon=\"2.35\"><time>{}</time></trkpt>", t.format("%Y-%m-%dT%H:%M:%SZ"))
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"test\" xmlns=\"http://www.topografix.com/GPX/1/1\">\
         <trk><name>Run</name><type>running</type><trkseg>{points}</trkseg></trk></gpx>"
    )
}

/// `plan --save` makes the runner's active plan; `week --json` follows its contract, with past
/// sessions nobody ran marked missed; `import` ticks the session a run matches and says so.
#[test]
fn a_saved_plan_is_tracked_through_week_and_import() {
    use chrono::Datelike;
    let dir = tempfile::tempdir().unwrap();
    let today = chrono::Utc::now().date_naive();
    // Two weeks back, on a Monday: the first week is wholly past.
    let start = today - chrono::Duration::days(14 + i64::from(today.weekday().num_days_from_monday()));
    let start_s = start.to_string();
    let args =
        ["plan", "--goal", "10k", "--weeks", "8", "--sessions", "3", "--days", "tue,thu,sun", "--start", &start_s];
    let refused = runcoach(dir.path(), &[&args[..], &["--save"]].concat(), "", None);
    assert_eq!(refused.status.code(), Some(2), "--save needs --user: {refused:?}");
    let saved = runcoach(dir.path(), &[&args[..], &["--user", "noor", "--save"]].concat(), "", None);
    assert!(saved.status.success(), "{saved:?}");
    let printed: serde_json::Value = serde_json::from_str(&stdout(&saved)).unwrap();
    assert_eq!(printed["goal"], "10k");

    let week = |date: &str| {
        let out = runcoach(dir.path(), &["week", "--user", "noor", "--date", date, "--json"], "", None);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let first = week(&start_s);
    assert_eq!(first["week_start"], start_s);
    let sessions = first["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{first}");
    for s in sessions {
        assert_eq!(s["status"], "missed", "{s}");
        assert!(s["activity_id"].is_null());
        assert!(s["kind"].is_string() && s["duration_min"].as_u64().unwrap() > 0 && s["description"].is_string());
    }

    // The first Tuesday's run arrives (a file), two weeks late: it still ticks that session off.
    let tuesday = start + chrono::Duration::days(1);
    let file = dir.path().join("tuesday.gpx");
    std::fs::write(&file, gpx_run(tuesday, 35)).unwrap();
    let imported = runcoach(dir.path(), &["import", "--user", "noor", file.to_str().unwrap()], "", None);
    assert!(imported.status.success(), "{imported:?}");
    let text = stdout(&imported);
    assert!(text.contains(&format!("plan: {tuesday} ")) && text.contains(" done"), "{text}");
    let first = week(&start_s);
    let tue = &first["sessions"][0];
    assert_eq!((tue["date"].as_str(), tue["status"].as_str()), (Some(tuesday.to_string().as_str()), Some("done")));
    assert_eq!(tue["activity_id"], 1);
    // Importing the same file again: a duplicate, nothing ticked twice.
    let again = stdout(&runcoach(dir.path(), &["import", "--user", "noor", file.to_str().unwrap()], "", None));
    assert!(again.contains("duplicate") && !again.contains("plan: "), "{again}");

    let human = runcoach(dir.path(), &["week", "--user", "noor", "--date", &start_s], "", None);
    assert!(stdout(&human).starts_with(&format!("Week of {start}")), "{}", stdout(&human));
    let nobody = runcoach(dir.path(), &["week", "--user", "nobody", "--json"], "", None);
    assert!(!nobody.status.success());
    let no_plan = runcoach(dir.path(), &["import", "--user", "sam", file.to_str().unwrap()], "", None);
    assert!(no_plan.status.success());
    let out = runcoach(dir.path(), &["week", "--user", "sam", "--json"], "", None);
    assert_eq!(out.status.code(), Some(2), "no active plan: {out:?}");
}

/// `workout` writes a day's session as a FIT workout (to a file or stdout) that Garmin's SDK
/// reads; a rest day, a day outside the plan and a runner without a plan exit 2 with the reason.
#[test]
fn workout_writes_the_days_session_for_a_watch() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "plan",
        "--goal",
        "half",
        "--weeks",
        "12",
        "--sessions",
        "3",
        "--days",
        "tue,thu,sun",
        "--start",
        "2027-01-04",
        "--user",
        "noor",
        "--save",
    ];
    let saved = runcoach(dir.path(), &args, "", None);
    assert!(saved.status.success(), "{saved:?}");
    let plan: serde_json::Value = serde_json::from_str(&stdout(&saved)).unwrap();
    let first = &plan["weeks"][0]["workouts"][0];
    let date = first["date"].as_str().unwrap();
    assert_eq!(date, "2027-01-05", "the first Tuesday");

    let file = dir.path().join("tuesday.fit");
    let out =
        runcoach(dir.path(), &["workout", "--user", "noor", "--date", date, "--out", file.to_str().unwrap()], "", None);
    assert!(out.status.success(), "{out:?}");
    let check = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-fit"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(check.status.success(), "Garmin's SDK (scripts/test installs it): {check:?}");
    let doc: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(doc["file_id_mesgs"][0]["type"], "workout");
    assert!(!doc["workout_step_mesgs"].as_array().unwrap().is_empty());

    // Without --out the same bytes go to stdout (the creation time aside, the file is the same size).
    let piped = runcoach(dir.path(), &["workout", "--user", "noor", "--date", date], "", None);
    assert!(piped.status.success());
    assert_eq!(piped.stdout.len(), std::fs::read(&file).unwrap().len());
    assert_eq!(&piped.stdout[8..12], b".FIT");

    let rest = runcoach(dir.path(), &["workout", "--user", "noor", "--date", "2027-01-04"], "", None);
    assert_eq!(rest.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&rest.stderr).contains("rest day") && rest.stdout.is_empty(), "{rest:?}");
    let outside = runcoach(dir.path(), &["workout", "--user", "noor", "--date", "2030-01-01"], "", None);
    assert_eq!(outside.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&outside.stderr).contains("runs from 2027-01-04"), "{outside:?}");
    let bad = runcoach(dir.path(), &["workout", "--user", "noor", "--date", "tuesday"], "", None);
    assert_eq!(bad.status.code(), Some(2), "clap refuses a date it cannot read");
    // A workout is not a run: importing it is refused, saying what it is (and makes `sam`).
    let imported = runcoach(dir.path(), &["import", "--user", "sam", file.to_str().unwrap()], "", None);
    assert_eq!(imported.status.code(), Some(1));
    assert!(stdout(&imported).contains("not an activity (type \"workout\")"), "{imported:?}");
    let no_plan = runcoach(dir.path(), &["workout", "--user", "sam", "--date", date], "", None);
    assert_eq!(no_plan.status.code(), Some(2), "{no_plan:?}");
}

/// `goal add` refuses nonsense with exit 2 and a reason; `goals --json` follows its contract.
#[test]
fn goals_follow_the_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let next_year = chrono::Utc::now().date_naive() + chrono::Duration::days(200);
    let by = next_year.to_string();
    let added = runcoach(dir.path(), &["goal", "add", "--user", "lou", "race", "10k", "50:00", "--by", &by], "", None);
    assert!(added.status.success(), "{added:?}");
    let race_id = serde_json::from_str::<serde_json::Value>(&stdout(&added)).unwrap()["id"].clone();
    let volume = runcoach(dir.path(), &["goal", "add", "--user", "lou", "volume", "1000"], "", None);
    assert!(volume.status.success(), "{volume:?}");
    for (args, code) in [
        (vec!["race", "10k", "10:00"], "goal_impossible"),
        (vec!["volume", "0"], "goal_volume"),
        (vec!["race", "moon", "50:00"], "goal_distance"),
    ] {
        let out = runcoach(dir.path(), &[&["goal", "add", "--user", "lou"][..], &args[..]].concat(), "", None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(code), "{out:?}");
    }
    let past =
        runcoach(dir.path(), &["goal", "add", "--user", "lou", "race", "5k", "25:00", "--by", "2020-01-01"], "", None);
    assert_eq!(past.status.code(), Some(2));

    let out = runcoach(dir.path(), &["goals", "--user", "lou", "--json"], "", None);
    assert!(out.status.success(), "{out:?}");
    let goals: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let goals = goals.as_array().unwrap();
    assert_eq!(goals.len(), 2, "{goals:?}");
    let race = goals.iter().find(|g| g["kind"] == "race").unwrap();
    assert_eq!(race["id"], race_id);
    assert_eq!(race["target"], serde_json::json!({ "distance": "10k", "time_s": 3000.0 }));
    assert_eq!(race["deadline"], by);
    assert_eq!(race["progress"]["target"], 3000.0);
    assert!(race["progress"]["current"].is_null() && race["progress"]["on_track"].is_null(), "no VDOT yet: {race}");
    let volume = goals.iter().find(|g| g["kind"] == "volume").unwrap();
    assert_eq!(volume["target"], serde_json::json!({ "km": 1000.0 }));
    assert_eq!(volume["progress"]["current"], 0.0);
    for key in ["current", "target", "pct", "on_track"] {
        assert!(volume["progress"].get(key).is_some(), "{key} in {volume}");
    }
    assert!(race["plan_id"].is_null() && volume["plan_id"].is_null(), "no plan yet: {goals:?}");
    let text = stdout(&runcoach(dir.path(), &["goals", "--user", "lou"], "", None));
    assert!(text.contains("🏁") && text.contains("10 km in 50:00"), "{text}");

    // A 10 km plan saved for the runner is made for the 10 km goal.
    let saved = runcoach(
        dir.path(),
        &["plan", "--goal", "10k", "--weeks", "8", "--sessions", "3", "--user", "lou", "--save"],
        "",
        None,
    );
    assert!(saved.status.success(), "{saved:?}");
    let goals: serde_json::Value =
        serde_json::from_str(&stdout(&runcoach(dir.path(), &["goals", "--user", "lou", "--json"], "", None))).unwrap();
    let race = goals.as_array().unwrap().iter().find(|g| g["kind"] == "race").unwrap();
    assert!(race["plan_id"].is_i64(), "{race}");
}

/// `activities --json` and `activity ID --json` follow their contract; another runner's id is
/// not found (exit 2).
#[test]
fn activities_follow_the_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/fit");
    let run = fixtures.join("activity-small-fenix2-run.fit");
    let bike = fixtures.join("hrv-activity.fit");
    let out =
        runcoach(dir.path(), &["import", "--user", "ivy", run.to_str().unwrap(), bike.to_str().unwrap()], "", None);
    assert!(out.status.success(), "{out:?}");
    let out = runcoach(dir.path(), &["activities", "--user", "ivy", "--json"], "", None);
    assert!(out.status.success(), "{out:?}");
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list[0]["start"].as_str().unwrap() >= list[1]["start"].as_str().unwrap(), "newest first");
    let run = list.iter().find(|a| a["sport"] == "running").expect("the run");
    for key in ["id", "start", "sport", "distance_km", "duration_min", "pace_s_per_km", "hr_avg", "laps"] {
        assert!(run.get(key).is_some(), "{key} in {run}");
    }
    assert!(run["pace_s_per_km"].as_f64().unwrap() > 120.0 && run["laps"].as_u64().unwrap() >= 1, "{run}");
    let limited = runcoach(dir.path(), &["activities", "--user", "ivy", "--limit", "1", "--json"], "", None);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stdout(&limited)).unwrap().as_array().unwrap().len(), 1);

    let id = run["id"].to_string();
    let out = runcoach(dir.path(), &["activity", "--user", "ivy", &id, "--json"], "", None);
    assert!(out.status.success(), "{out:?}");
    let detail: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(detail["id"], run["id"]);
    let laps = detail["laps"].as_array().unwrap();
    assert_eq!(laps.len() as u64, run["laps"].as_u64().unwrap());
    assert!(laps[0]["duration_s"].as_f64().unwrap() > 0.0, "{detail}");
    assert!(detail["samples"].as_u64().unwrap() > 100, "{detail}");
    assert!(detail.get("hr_zones_s").is_some());

    // Another runner, or an id that is nobody's.
    runcoach(dir.path(), &["import", "--user", "zed", bike.to_str().unwrap()], "", None);
    let theirs = runcoach(dir.path(), &["activity", "--user", "zed", &id, "--json"], "", None);
    assert_eq!(theirs.status.code(), Some(2), "{theirs:?}");
    assert!(stdout(&theirs).is_empty());
    let nobody = runcoach(dir.path(), &["activity", "--user", "ivy", "424242", "--json"], "", None);
    assert_eq!(nobody.status.code(), Some(2));
}

/// `api-key create` prints the secret once; `list` shows names and states, never secrets;
/// `revoke` ends a key; bad or taken names exit 2.
#[test]
fn api_keys_are_made_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let made = runcoach(dir.path(), &["api-key", "create", "club"], "", None);
    assert!(made.status.success(), "{made:?}");
    let secret = stdout(&made).trim().to_owned();
    assert!(secret.starts_with("rc_") && secret.len() == 67, "{secret}");
    assert_eq!(runcoach(dir.path(), &["api-key", "create", "club"], "", None).status.code(), Some(2), "taken");
    assert_eq!(runcoach(dir.path(), &["api-key", "create", "Bad Name"], "", None).status.code(), Some(2));
    let listed = stdout(&runcoach(dir.path(), &["api-key", "list", "--json"], "", None));
    let keys: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(keys[0]["name"], "club");
    assert!(keys[0]["revoked_at"].is_null());
    assert!(!listed.contains(&secret[3..]), "no secret in the list");
    assert!(runcoach(dir.path(), &["api-key", "revoke", "club"], "", None).status.success());
    assert_eq!(runcoach(dir.path(), &["api-key", "revoke", "club"], "", None).status.code(), Some(2), "once");
    let text = stdout(&runcoach(dir.path(), &["api-key", "list"], "", None));
    assert!(text.starts_with("club\tcreated ") && text.contains("\trevoked "), "{text}");
}

/// Secrets come from the environment or a file, never from flags (the process list shows flags
/// to every local user).
#[test]
fn secrets_are_never_flags() {
    let dir = tempfile::tempdir().unwrap();
    let flag = runcoach(dir.path(), &["--telegram-token", "123:abc", "serve"], "", None);
    assert_eq!(flag.status.code(), Some(2), "{flag:?}");
    let file = dir.path().join("token");
    std::fs::write(&file, "123:abc\n").unwrap();
    let both = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("serve")
        .env("TELEGRAM_BOT_TOKEN", "123:abc")
        .env("TELEGRAM_BOT_TOKEN_FILE", &file)
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE, not both")
    );
    let missing = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("serve")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env("TELEGRAM_BOT_TOKEN_FILE", dir.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read it"), "{missing:?}");
}

/// Started from any directory with no settings, `runcoach` answers from the knowledge base built
/// into it, and the embedded default makes the key sealing Garmin tokens in the data dir (0600).
#[test]
fn runs_from_anywhere_with_its_knowledge_base_and_a_sealing_key() {
    use std::os::unix::fs::PermissionsExt;
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .current_dir(elsewhere.path())
        .args(["--data-dir", "data", "ask", "--user", "cam", "How do I run in the heat?"])
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .env_remove("RUNCOACH_KB_DIR")
        .env_remove("RUNCOACH_SECRET_KEY")
        .env_remove("DATABASE_URL")
        .env_remove("RUNCOACH_LLM_BASE_URL")
        .env_remove("RUNCOACH_LLM_API_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let answer = stdout(&out);
    assert!(answer.contains("📚") && answer.contains("heat"), "answered from the built-in base: {answer}");
    let key = elsewhere.path().join("data/secret.key");
    let mode = std::fs::metadata(&key).expect("the sealing key was made").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let first = std::fs::read_to_string(&key).unwrap();
    assert_eq!(first.trim().len(), 44, "32 bytes in base64");
    // A second start keeps the key (tokens sealed with it stay readable).
    let again = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .current_dir(elsewhere.path())
        .args(["--data-dir", "data", "ask", "--user", "cam", "hello"])
        .env_remove("RUNCOACH_SECRET_KEY")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(std::fs::read_to_string(&key).unwrap(), first);
}

/// `runcoach admin`: runners (with counts, never message contents), jobs with retry and cancel
/// that say when they cannot, schedules, usage and retention, in text and JSON.
#[test]
fn admin_sees_and_steers_without_sql() {
    let dir = tempfile::tempdir().unwrap();
    // A runner with a plan and a message.
    let plan = runcoach(
        dir.path(),
        &["plan", "--goal", "5k", "--weeks", "6", "--sessions", "3", "--user", "noor", "--save"],
        "",
        None,
    );
    assert!(plan.status.success(), "{plan:?}");
    let chat = runcoach(dir.path(), &["chat", "--user", "noor"], "/remind on 07:00\nwhat is a tempo run?\n", None);
    assert!(chat.status.success(), "{chat:?}");

    let users = runcoach(dir.path(), &["admin", "users", "--json"], "", None);
    assert!(users.status.success(), "{users:?}");
    let users: serde_json::Value = serde_json::from_str(&stdout(&users)).unwrap();
    let noor = users.as_array().unwrap().iter().find(|u| u["identities"][0] == "console:noor").unwrap().clone();
    assert_eq!(noor["plans"], 1);
    assert!(noor["messages"].as_i64().unwrap() >= 1);
    assert!(!noor.to_string().contains("tempo"), "no message contents: {noor}");
    let found = stdout(&runcoach(dir.path(), &["admin", "users", "--search", "NOO"], "", None));
    assert!(found.contains("console:noor"), "{found}");
    assert!(!stdout(&runcoach(dir.path(), &["admin", "users", "--search", "zz"], "", None)).contains("noor"));

    let one: serde_json::Value =
        serde_json::from_str(&stdout(&runcoach(dir.path(), &["admin", "user", "noor", "--json"], "", None))).unwrap();
    assert_eq!(one["schedules"][0]["kind"], "morning_reminder");

    let schedules = stdout(&runcoach(dir.path(), &["admin", "schedules"], "", None));
    assert!(schedules.contains("morning_reminder"), "{schedules}");
    let usage: serde_json::Value =
        serde_json::from_str(&stdout(&runcoach(dir.path(), &["admin", "usage", "--json"], "", None))).unwrap();
    assert_eq!(usage["runners"], 1);
    assert_eq!(usage["active_1d"], 1);

    let jobs = runcoach(dir.path(), &["admin", "jobs", "--state", "failed", "--json"], "", None);
    assert!(jobs.status.success());
    assert_eq!(stdout(&jobs).trim(), "[]");
    let bad_state = runcoach(dir.path(), &["admin", "jobs", "--state", "lost"], "", None);
    assert_eq!(bad_state.status.code(), Some(2));
    for verb in ["retry", "cancel"] {
        let out = runcoach(dir.path(), &["admin", "jobs", verb, "999"], "", None);
        assert_eq!(out.status.code(), Some(2), "{verb} of no such job: {out:?}");
    }
    let sync = runcoach(dir.path(), &["admin", "sync", "--user", "noor"], "", None);
    assert_eq!(sync.status.code(), Some(2), "not connected to Garmin: {sync:?}");

    let dry: serde_json::Value =
        serde_json::from_str(&stdout(&runcoach(dir.path(), &["admin", "retention", "--dry-run", "--json"], "", None)))
            .unwrap();
    assert_eq!(dry["policy"]["conversations_days"], 365);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["rows"]["messages"], 0, "nothing is a year old");
    let short = runcoach(dir.path(), &["admin", "retention"], "", None);
    assert!(stdout(&short).starts_with("kept: conversations 365 days"), "{short:?}");
    let zero = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "admin", "retention"])
        .env("RUNCOACH_RETAIN_JOBS_DAYS", "0")
        .output()
        .unwrap();
    assert!(!zero.status.success() && String::from_utf8_lossy(&zero.stderr).contains("RUNCOACH_RETAIN_JOBS_DAYS=0"));
}

/// A new console runner is greeted in the terminal's language (`LANG=fr_FR.UTF-8`); `--lang`
/// and a language chosen before win over it.
#[test]
fn the_console_speaks_the_terminals_language() {
    let dir = tempfile::tempdir().unwrap();
    let chat = |user: &str, lang: &str, extra: &[&str]| {
        let mut args = vec!["--data-dir", dir.path().to_str().unwrap(), "chat", "--user", user];
        args.extend_from_slice(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_runcoach"))
            .args(&args)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", lang)
            .env("RUNCOACH_MODEL_DIR", dir.path().join("no-model"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"/help\n").unwrap();
        stdout(&child.wait_with_output().unwrap())
    };
    assert!(chat("lea", "fr_FR.UTF-8", &[]).contains("Ce que je sais faire"));
    assert!(chat("bob", "en_GB.UTF-8", &[]).contains("What I can do"));
    assert!(chat("ana", "fr_FR.UTF-8", &["--lang", "en"]).contains("What I can do"), "--lang wins");
    assert!(chat("bob", "fr_FR.UTF-8", &[]).contains("What I can do"), "a known runner keeps their language");
}

/// With the real model (`scripts/fetch-models`; CI fetches it): one-shot commands never index and
/// load the model only when its vectors are cached; `kb index` embeds them, and then `kb search`,
/// `ask` and a piped `chat` search with them.
#[test]
fn one_shot_commands_use_only_cached_vectors() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let (model_dir, library) = (models.join("multilingual-e5-small"), models.join("onnxruntime/libonnxruntime.so"));
    if !model_dir.join("model.onnx").is_file() || !library.is_file() {
        assert!(
            std::env::var_os("RUNCOACH_SKIP_VECTOR_TESTS").is_some_and(|v| v == "1"),
            "no model in {} (run scripts/fetch-models, or set RUNCOACH_SKIP_VECTOR_TESTS=1 on a machine without network)",
            model_dir.display()
        );
        eprintln!("SKIPPED one-shot commands with the model (RUNCOACH_SKIP_VECTOR_TESTS=1)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Two documents: `kb index` embeds them in a few seconds.
    let kb = dir.path().join("kb");
    for rel in ["en/tapering.md", "fr/tapering.md"] {
        std::fs::create_dir_all(kb.join(rel).parent().unwrap()).unwrap();
        std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge_base").join(rel), kb.join(rel))
            .unwrap();
    }
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_runcoach"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("RUNCOACH_LLM_BASE_URL")
            .env("LANG", "C.UTF-8")
            .env("RUST_LOG", "info")
            .env("RUNCOACH_KB_DIR", &kb)
            .env("RUNCOACH_MODEL_DIR", &model_dir)
            .env("ORT_DYLIB_PATH", &library)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        out
    };
    let status = |out: &Output| serde_json::from_str::<serde_json::Value>(&stdout(out)).unwrap();

    // Nothing cached: lexical, and the status says how to index.
    let fresh = status(&run(&["kb", "status", "--json"], ""));
    assert_eq!(fresh["mode"], "lexical", "{fresh}");
    assert!(fresh["reason"].as_str().unwrap().contains("kb index"), "{fresh}");
    assert_eq!(fresh["embedded"], 0);
    let asked = run(&["ask", "--user", "ana", "how long should I taper for a marathon"], "");
    assert!(stdout(&asked).contains("aper"), "{}", stdout(&asked));
    assert!(String::from_utf8_lossy(&asked.stderr).contains("no vectors cached yet"), "{asked:?}");
    let piped = run(&["chat", "--user", "ana"], "/ask combien de temps dure l'affûtage\n");
    assert!(String::from_utf8_lossy(&piped.stderr).contains("no vectors cached yet"), "{piped:?}");
    assert_eq!(status(&run(&["kb", "status", "--json"], ""))["embedded"], 0, "one-shot commands embed nothing");

    // Indexed: every passage has its vector, and one-shot commands load the model.
    run(&["kb", "index"], "");
    let indexed = status(&run(&["kb", "status", "--json"], ""));
    assert_eq!(indexed["mode"], "hybrid", "{indexed}");
    assert_eq!(indexed["embedded"], indexed["chunks"]);
    let hits: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["kb", "search", "affûtage", "--json"], ""))).unwrap();
    assert_eq!(hits[0]["doc"], "tapering", "{hits}");
    let asked = run(&["ask", "--user", "ana", "how long should I taper for a marathon"], "");
    assert!(!String::from_utf8_lossy(&asked.stderr).contains("no vectors cached yet"), "{asked:?}");
}

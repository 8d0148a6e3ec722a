//! `runcoach push garmin` as an operator runs it, against the local Garmin: the runner connected
//! with `runcoach sync garmin`, the next week's sessions pushed once, a second push changing
//! nothing, and clear exits without a connection or a plan.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../../../tests/support/garmin_fake.rs"]
mod garmin_fake;
#[path = "../../telegram/tests/support/peer.rs"]
mod peer;
#[path = "support/serve.rs"]
mod serve;

use std::process::{Command, Stdio};

use chrono::Datelike;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_garmin_fills_the_calendar_from_the_command_line() {
    let (_client, fake) = garmin_fake::serve(garmin_fake::Fake::default()).await;
    let base = fake.lock().unwrap().base.clone();
    let dir = tempfile::tempdir().unwrap();
    let runcoach = |args: &[&str]| -> Command {
        let mut cmd = serve::runcoach(dir.path());
        cmd.args(args)
            .env("RUNCOACH_GARMIN_SSO_URL", &base)
            .env("RUNCOACH_GARMIN_DIAUTH_URL", &base)
            .env("RUNCOACH_GARMIN_API_URL", &base)
            .env("RUNCOACH_GARMIN_EMAIL", garmin_fake::EMAIL)
            .env("RUNCOACH_GARMIN_PASSWORD", garmin_fake::PASSWORD)
            .env("RUNCOACH_SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .stdin(Stdio::null());
        cmd
    };
    let nobody = runcoach(&["push", "garmin", "--user", "cam"]).output().unwrap();
    assert!(!nobody.status.success() && String::from_utf8_lossy(&nobody.stderr).contains("no runner"), "{nobody:?}");

    let synced = runcoach(&["sync", "garmin", "--user", "cam"]).output().unwrap();
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    let no_plan = runcoach(&["push", "garmin", "--user", "cam"]).output().unwrap();
    assert_eq!(no_plan.status.code(), Some(2), "{no_plan:?}");

    // A plan from this week's Monday, three sessions a week.
    let today = chrono::Utc::now().date_naive();
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let start = monday.to_string();
    let plan = runcoach(&[
        "plan",
        "--goal",
        "10k",
        "--weeks",
        "8",
        "--sessions",
        "3",
        "--start",
        &start,
        "--user",
        "cam",
        "--save",
    ])
    .output()
    .unwrap();
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let upcoming: Vec<String> = doc["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["workouts"].as_array().unwrap().clone())
        .filter_map(|w| w["date"].as_str().map(str::to_owned))
        .filter(|d| {
            d.as_str() >= today.to_string().as_str()
                && d.as_str() < (today + chrono::Duration::days(7)).to_string().as_str()
        })
        .collect();
    assert!(!upcoming.is_empty());

    let pushed = runcoach(&["push", "garmin", "--user", "cam", "--days", "7"]).output().unwrap();
    assert!(pushed.status.success(), "{}", String::from_utf8_lossy(&pushed.stderr));
    let out = String::from_utf8_lossy(&pushed.stdout);
    assert!(out.contains(&format!("{} session", upcoming.len())) && out.contains("added"), "{out}");
    let on_calendar: Vec<String> = garmin_fake::calendar(&fake).into_iter().map(|(d, _)| d).collect();
    assert_eq!(on_calendar, upcoming);

    let again = runcoach(&["push", "garmin", "--user", "cam"]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("already up to date"), "{again:?}");
    assert_eq!(garmin_fake::calendar(&fake).len(), upcoming.len(), "nothing twice");
    // A runner with a plan but no Garmin connection.
    let ana = runcoach(&["plan", "--goal", "5k", "--weeks", "6", "--sessions", "3", "--user", "ana", "--save"])
        .output()
        .unwrap();
    assert!(ana.status.success());
    let not_connected = runcoach(&["push", "garmin", "--user", "ana"]).output().unwrap();
    assert_eq!(not_connected.status.code(), Some(2), "{not_connected:?}");
    assert!(String::from_utf8_lossy(&not_connected.stderr).contains("runcoach sync garmin"));
    let bad = runcoach(&["push", "garmin", "--user", "cam", "--days", "30"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "clap refuses more than 14 days");
}

//! Goals through the chat on both stores: set (typed or guided by buttons), refused when absurd,
//! listed with progress against the history, expired goals kept, another runner's goal out of
//! reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use runcoach_core::chat::BotCore;
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::goal::GoalTarget;
use runcoach_core::goals;
use runcoach_core::i18n::Lang;
use runcoach_core::scheduler::TestClock;
use runcoach_core::science::ActivityKind;
use runcoach_core::store::{GoalStatus, NewActivity, Store};
use support::{Runner, TestStore, button, joined};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn user_of(store: &dyn Store, id: &str) -> UserId {
    let ident = PlatformIdentity { platform: Platform::Telegram, platform_user_id: id.into() };
    store.find_user(&ident).await.unwrap().unwrap().id
}

/// A hard 10 km in 48:00 `days_ago` before `today`.
fn ten_k(today: NaiveDate, days_ago: i64, minutes: f64) -> NewActivity {
    NewActivity {
        source: "file".into(),
        external_id: Some(format!("10k-{days_ago}")),
        sport: ActivityKind::Running,
        start_time: (today - Duration::days(days_ago)).and_hms_opt(8, 0, 0).unwrap().and_utc(),
        duration_s: minutes * 60.0,
        distance_m: Some(10_000.0),
        avg_hr: Some(172.0),
        max_hr: Some(185.0),
        ..NewActivity::default()
    }
}

async fn goals_are_set_listed_and_measured(t: TestStore) {
    let today = d(2026, 12, 4);
    let clock = Arc::new(TestClock::at(Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap()));
    let core = BotCore::new(t.store.clone()).with_clock(clock.clone());
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    ana.send("/start").await;
    let id = user_of(t.store.as_ref(), "ana").await;
    assert!(ana.say("/goals").await.starts_with("No goal yet."));

    // Typed, refused with its reason, and nothing stored.
    assert!(ana.say("/goal race 10k 10:00").await.contains("faster than the world record"));
    assert!(ana.say("/goal race 10k 50:00 by 2026-01-01").await.contains("already passed"));
    assert!(ana.say("/goal volume 0").await.contains("between 1 and 20000 km"));
    assert!(t.store.goals(id).await.unwrap().is_empty());

    // Without a VDOT the race goal says what would give one.
    let saved = ana.say("/goal race 10k 45:00 by 2027-06-01").await;
    assert!(saved.starts_with("🎯 Goal saved.") && saved.contains("10 km in 45:00 — by Tue 1 Jun"), "{saved}");
    assert!(saved.contains("No VDOT yet"), "{saved}");

    // A hard 10 km in 48:00: predicted 48:00, 3:00 to find.
    t.store.insert_activity(id, &ten_k(today, 3, 48.0)).await.unwrap();
    let views = goals::list(t.store.as_ref(), id, today).await.unwrap();
    assert_eq!(views.len(), 1);
    let p = views[0].progress;
    assert_eq!((p.target, p.on_track), (2700.0, Some(false)));
    assert!(p.current.is_some_and(|c| (c - 2880.0).abs() <= 15.0), "{p:?}");
    let listed = ana.say("/goals").await;
    assert!(listed.contains("to find, it takes a VDOT of") && listed.contains("⏳"), "{listed}");

    // Guided: kind, distance, then a time suggested from the prediction.
    let kinds = ana.send("/goal").await;
    let race = ana.press(&button(&kinds, "🏁 A race time")).await;
    let five = ana.press(&button(&race, "5 km")).await;
    assert!(joined(&five).contains("Your prediction today:"), "{}", joined(&five));
    let first_time = five[0].buttons[0][0].clone();
    let saved = ana.press(&first_time.data).await;
    assert!(joined(&saved).contains(&format!("5 km in {}", first_time.label)), "{}", joined(&saved));
    assert!(joined(&saved).contains("within reach ✅"), "{}", joined(&saved));

    // A volume goal counts the year's runs pro rata; /stats shows the active goals.
    let volume = ana.say("/goal volume 500").await;
    assert!(volume.contains("500 km — by Thu 31 Dec"), "{volume}");
    let stats = ana.say("/stats").await;
    assert!(stats.contains("🎯 **Goals**") && stats.contains("📈") && stats.contains("🏁"), "{stats}");
    let summary = ana.send("/summary now").await;
    let last = &summary.last().unwrap().text;
    assert!(
        last.starts_with("🎯 **Goals**") && last.contains("500 km"),
        "the weekly summary ends with the goals: {last}"
    );

    // French, and the goals of another runner are out of reach.
    let bea = Runner::new(&core, Platform::Telegram, "bea", Some("fr"));
    bea.send("/start").await;
    let first = views[0].id;
    assert!(bea.say(&format!("/goal remove {first}")).await.starts_with("Je ne trouve pas cet objectif"));
    assert!(bea.say("/goals").await.starts_with("Pas encore d'objectif."));
    assert_eq!(t.store.goals(id).await.unwrap().len(), 3);
    assert!(ana.say(&format!("/goal remove #{first}")).await.starts_with("Goal taken off your list."));
    let left: Vec<_> = goals::list(t.store.as_ref(), id, today).await.unwrap().into_iter().map(|v| v.id).collect();
    assert!(!left.contains(&first) && left.len() == 2, "{left:?}");
    // Removed is kept in the store as history.
    let all = t.store.goals(id).await.unwrap();
    assert_eq!(all.iter().find(|g| g.id == first).unwrap().status, GoalStatus::Removed);
}

/// A goal whose deadline passed is kept, marked expired; a volume goal's progress counts runs
/// only (not rides) since it was set.
async fn past_goals_expire_and_volume_counts_runs(t: TestStore) {
    let store = t.store.as_ref();
    let ident = PlatformIdentity { platform: Platform::Telegram, platform_user_id: "cy".into() };
    let id = store.resolve_identity(&ident, Some("cy"), Lang::En).await.unwrap().user.id;
    let today = Utc::now().date_naive();
    let spec =
        runcoach_core::goal::new(GoalTarget::Volume { km: 100.0 }, Some(today + Duration::days(30)), today).unwrap();
    let goal_id = goals::add(store, id, spec).await.unwrap();
    let mut ride = ten_k(today, 0, 30.0);
    ride.sport = ActivityKind::Cycling;
    ride.external_id = Some("ride".into());
    store.insert_activity(id, &ride).await.unwrap();
    store.insert_activity(id, &ten_k(today, 0, 50.0)).await.unwrap();
    let views = goals::list(store, id, today).await.unwrap();
    assert_eq!(views[0].progress.current, Some(10.0), "the run counts, the ride does not");
    assert_eq!(views[0].status, GoalStatus::Active);
    // Two months later the deadline has passed: kept, expired.
    let later = today + Duration::days(60);
    let views = goals::list(store, id, later).await.unwrap();
    assert_eq!((views[0].id, views[0].status), (goal_id, GoalStatus::Expired));
    assert_eq!(store.goals(id).await.unwrap()[0].status, GoalStatus::Expired);
    assert!(goals::describe(&views[0], later, Lang::Fr).contains("(échéance passée)"));
}

/// A plan for a race distance is made for the runner's goal of that distance, never for another
/// runner's goal; other plans are made for none.
async fn a_race_plan_is_linked_to_its_goal(t: TestStore) {
    use runcoach_core::plan::{self, Goal, Level, PlanLength, PlanRequest};
    let store = t.store.as_ref();
    let core = BotCore::new(t.store.clone());
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    ana.send("/start").await;
    let id = user_of(store, "ana").await;
    let volume = goals::add(
        store,
        id,
        runcoach_core::goal::new(GoalTarget::Volume { km: 500.0 }, None, d(2026, 12, 1)).unwrap(),
    )
    .await
    .unwrap();
    assert!(ana.say("/goal race half 1:50:00").await.starts_with("🎯 Goal saved."));
    let half = store.goals(id).await.unwrap().iter().find(|g| g.id != volume).unwrap().id;
    let request = |goal| PlanRequest {
        goal,
        level: Some(Level::Intermediate),
        sessions_per_week: 4,
        preferred_days: vec![],
        start_date: d(2027, 1, 4),
        length: PlanLength::Weeks(12),
        vdot: Some(45.0),
        target_time_s: None,
        history: None,
    };
    let (_, linked) = goals::save_plan(store, id, &plan::generate(&request(Goal::TenK)).unwrap()).await.unwrap();
    assert_eq!(linked, None, "no 10 km goal");
    let (plan_id, linked) = goals::save_plan(store, id, &plan::generate(&request(Goal::Half)).unwrap()).await.unwrap();
    assert_eq!(linked, Some(half));
    let summary = store.plans(id).await.unwrap();
    assert_eq!((summary[0].id, summary[0].goal_id, summary[1].goal_id), (plan_id, Some(half), None));
    let listed = ana.say("/goals").await;
    assert!(listed.contains("📅 Your current plan trains for it, until "), "{listed}");
    assert_eq!(listed.matches("📅").count(), 1, "only the half goal: {listed}");

    // Another runner's goal id is never taken.
    let ben = Runner::new(&core, Platform::Telegram, "ben", Some("en"));
    ben.send("/start").await;
    let ben_id = user_of(store, "ben").await;
    let mut record = runcoach_core::plans::record(&plan::generate(&request(Goal::Half)).unwrap()).unwrap();
    record.goal_id = Some(half);
    store.save_plan(ben_id, &record).await.unwrap();
    assert_eq!(store.plans(ben_id).await.unwrap()[0].goal_id, None);
}

on_both_stores!(
    a_race_plan_is_linked_to_its_goal,
    goals_are_set_listed_and_measured,
    past_goals_expire_and_volume_counts_runs
);

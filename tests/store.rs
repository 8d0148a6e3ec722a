//! The store suite: every test runs on a fresh SQLite database and on a fresh PostgreSQL one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use runcoach_core::domain::samples::SamplePoint;
use runcoach_core::domain::{Platform, PlatformIdentity, Profile, UserId, WeightKg};
use runcoach_core::i18n::Lang;
use runcoach_core::message::ChatKey;
use runcoach_core::store::{
    GLOBAL_TABLES, InsertOutcome, LinkError, NewActivity, NewGoal, NewJob, NewLap, NewPlan, NewPlannedWorkout,
    NewSchedule, ProfileUpdate, Role, SampleSeries, Store, StoreError, USER_TABLES,
};
// A concrete backend, not `dyn Store`: its aggregate traits must be in scope.
use runcoach_core::store::{ConversationStore, UserStore};
use serde_json::json;
use support::TestStore;

fn ident(platform: Platform, id: &str) -> PlatformIdentity {
    PlatformIdentity { platform, platform_user_id: id.to_owned() }
}

async fn new_user(store: &dyn Store, platform: Platform, id: &str) -> UserId {
    store.resolve_identity(&ident(platform, id), Some(id), Lang::En).await.unwrap().user.id
}

fn run(external_id: Option<&str>, source: &str, start_min: i64, distance: f64) -> NewActivity {
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap() + Duration::minutes(start_min);
    NewActivity {
        source: source.to_owned(),
        external_id: external_id.map(str::to_owned),
        sport: runcoach_core::science::ActivityKind::Running,
        name: Some("Morning run".to_owned()),
        start_time: start,
        duration_s: 1800.0,
        distance_m: Some(distance),
        avg_hr: Some(150.0),
        hr_zones_s: Some(vec![60.0, 600.0, 900.0, 200.0, 40.0]),
        laps: vec![
            NewLap { start_time: start, duration_s: 900.0, distance_m: Some(distance / 2.0), ..NewLap::default() },
            NewLap {
                start_time: start + Duration::seconds(900),
                duration_s: 900.0,
                distance_m: Some(distance / 2.0),
                ..NewLap::default()
            },
        ],
        samples: Some(SampleSeries {
            points: (0..100u32)
                .map(|i| SamplePoint {
                    t_ms: i * 18_000,
                    lat: Some(48.8),
                    lon: Some(2.3),
                    hr: Some(140),
                    ..SamplePoint::default()
                })
                .collect(),
        }),
        ..NewActivity::default()
    }
}

fn chat(id: &str) -> ChatKey {
    ChatKey { platform: Platform::Telegram, chat_id: id.to_owned() }
}

/// Puts at least one row in every table that holds a runner's data.
async fn populate(store: &dyn Store, user: UserId, tag: &str) {
    store.create_link_code(user, &format!("CODE{tag}"), Utc::now() + Duration::minutes(5)).await.unwrap();
    store.put_credential(user, "garmin", b"sealed-bytes").await.unwrap();
    let erase_on = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
    store.set_inactivity_notice(user, Some((Utc::now(), erase_on))).await.unwrap();
    let ext = format!("act-{tag}");
    // One day apart per tag, so two populates of one runner are two activities.
    let day = i64::from(tag.bytes().next().unwrap_or(b'a').saturating_sub(b'a')) * 1440;
    assert!(matches!(
        store.insert_activity(user, &run(Some(&ext), "garmin", day, 5000.0)).await.unwrap(),
        InsertOutcome::Inserted(_)
    ));
    store
        .insert_goal(
            user,
            &NewGoal {
                spec: runcoach_core::goal::GoalSpec {
                    target: runcoach_core::goal::GoalTarget::Race { distance_m: 10_000.0, time_s: 3000.0 },
                    deadline: None,
                },
                note: None,
            },
        )
        .await
        .unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    store
        .save_plan(
            user,
            &NewPlan {
                goal: runcoach_core::plan::Goal::TenK,
                level: runcoach_core::plan::Level::Beginner,
                start_date: day,
                end_date: day + Duration::days(55),
                race_date: None,
                sessions_per_week: 3,
                vdot: Some(40.0),
                request: json!({"goal": "10k"}),
                plan: json!({"weeks": []}),
                workouts: vec![NewPlannedWorkout {
                    week_index: 1,
                    date: day,
                    kind: "easy".into(),
                    duration_min: 40.0,
                    distance_km: None,
                    pace_min_s: Some(360.0),
                    pace_max_s: Some(390.0),
                    hr_zone: Some(2),
                    description_fr: "Footing".into(),
                    description_en: "Easy run".into(),
                    status: Default::default(),
                }],
                goal_id: None,
            },
        )
        .await
        .unwrap();
    store
        .record_pushed_workout(
            user,
            &runcoach_core::store::PushedWorkout {
                date: day,
                workout_id: format!("90{}", tag.len()),
                schedule_id: Some("17".into()),
                fingerprint: format!("print-{tag}"),
                pushed_at: Utc::now(),
            },
        )
        .await
        .unwrap();
    store.set_watch_auto_push(user, true).await.unwrap();
    store.append_message(user, &chat(tag), Role::User, "hello").await.unwrap();
    store.set_dialogue_state(user, &chat(tag), Some(&json!({"kind": "wizard"}))).await.unwrap();
    store
        .upsert_schedule(&NewSchedule {
            user_id: Some(user),
            kind: runcoach_core::store::ScheduleKind::WeeklySummary,
            chat: chat(tag),
            guild_id: None,
            cron: "0 0 8 * * Mon".into(),
            timezone: "Europe/Paris".into(),
            lang: None,
        })
        .await
        .unwrap();
    store.join_club(user, "guild-1", true).await.unwrap();
    store
        .enqueue_job(&NewJob {
            kind: "weekly_summary".into(),
            dedupe_key: format!("summary:{tag}:2026-W10"),
            user_id: Some(user),
            payload: json!({}),
            run_at: Utc::now(),
        })
        .await
        .unwrap();
    store.audit(Some(user), "user", "test", &json!({})).await.unwrap();
    store.log_wellness(user, "tired", Some("short night")).await.unwrap();
    store.add_llm_usage(user, "2026-11-26", 120).await.unwrap();
}

async fn identities_resolve_once(t: TestStore) {
    let s = t.store.as_ref();
    let first = s.resolve_identity(&ident(Platform::Telegram, "42"), Some("cam"), Lang::Fr).await.unwrap();
    assert!(first.created);
    assert_eq!(first.user.lang, Lang::Fr);
    let again = s.resolve_identity(&ident(Platform::Telegram, "42"), Some("cam"), Lang::En).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.user.id, first.user.id);
    assert_eq!(again.user.lang, Lang::Fr, "language is chosen once, then kept");
    let other = new_user(s, Platform::Discord, "42").await;
    assert_ne!(other, first.user.id, "same id on another platform is another runner");
    assert!(s.find_user(&ident(Platform::Console, "nobody")).await.unwrap().is_none());
}

async fn concurrent_first_contacts_make_one_runner(t: TestStore) {
    let store: Arc<dyn Store> = t.store.clone();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store.resolve_identity(&ident(Platform::Telegram, "7"), None, Lang::En).await.unwrap().user.id
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
}

async fn profile_updates_keep_other_fields(t: TestStore) {
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Console, "cam").await;
    let mut update = ProfileUpdate::default();
    update.profile.weight = Some(WeightKg::try_from_f64(61.5).unwrap());
    s.update_profile(id, &update).await.unwrap();
    let mut update = ProfileUpdate::default();
    update.profile.max_hr = Some(runcoach_core::domain::HeartRate::max_from_f64(188.0).unwrap());
    update.timezone = Some("Europe/Paris".parse().unwrap());
    let user = s.update_profile(id, &update).await.unwrap();
    assert_eq!(user.profile.weight.map(WeightKg::get), Some(61.5));
    assert_eq!(user.profile.max_hr.map(|h| h.bpm()), Some(188));
    assert_eq!(user.timezone.as_str(), "Europe/Paris");
    s.set_language(id, Lang::Fr).await.unwrap();
    assert_eq!(s.get_user(id).await.unwrap().lang, Lang::Fr);
    assert!(s.get_user(UserId(999_999)).await.is_err());
}

async fn activities_are_stored_once(t: TestStore) {
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Console, "cam").await;
    let InsertOutcome::Inserted(first) = s.insert_activity(id, &run(Some("g1"), "garmin", 0, 5000.0)).await.unwrap()
    else {
        panic!("first insert must insert");
    };
    // Same source and id: duplicate.
    assert_eq!(
        s.insert_activity(id, &run(Some("g1"), "garmin", 300, 9000.0)).await.unwrap(),
        InsertOutcome::Duplicate(first)
    );
    // The same run from a file, 30 s later and 40 m longer: duplicate by time, duration and distance.
    let mut from_file = run(Some("file-abc"), "file", 0, 5040.0);
    from_file.start_time += Duration::seconds(30);
    assert_eq!(s.insert_activity(id, &from_file).await.unwrap(), InsertOutcome::Duplicate(first));
    // An hour later is another run.
    assert!(matches!(s.insert_activity(id, &run(None, "file", 60, 5000.0)).await.unwrap(), InsertOutcome::Inserted(_)));
    // Same start but twice the distance is another activity (e.g. a bike ride).
    assert!(matches!(
        s.insert_activity(id, &run(None, "file", 0, 20_000.0)).await.unwrap(),
        InsertOutcome::Inserted(_)
    ));
    let all = s.activities(id, None).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].hr_zones_s.as_deref(), Some(&[60.0, 600.0, 900.0, 200.0, 40.0][..]));
    let since = s.activities(id, Some(Utc.with_ymd_and_hms(2026, 3, 1, 8, 30, 0).unwrap())).await.unwrap();
    assert_eq!(since.len(), 1);
    let samples = s.activity_samples(id, first).await.unwrap().unwrap();
    assert_eq!(samples.len(), 100);
    assert_eq!(samples.points[3].hr, Some(140));
    // Another runner cannot read them.
    let other = new_user(s, Platform::Console, "other").await;
    assert!(s.activity_samples(other, first).await.unwrap().is_none());
    assert!(s.activities(other, None).await.unwrap().is_empty());
    // Invalid numbers are refused, not stored.
    let mut bad = run(None, "file", 500, 5000.0);
    bad.duration_s = f64::NAN;
    assert!(s.insert_activity(id, &bad).await.is_err());
    assert_eq!(s.activities(id, None).await.unwrap().len(), 3);
}

async fn long_lists_go_in_batches_whole_and_once(t: TestStore) {
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Console, "list").await;
    // 450 runs a day apart (three batches), one repeated inside the list, one impossible.
    let mut list: Vec<NewActivity> =
        (0..450).map(|i| run(Some(&format!("g{i}")), "garmin", i * 24 * 60, 5000.0 + i as f64)).collect();
    list.push(run(Some("g7"), "garmin", 7 * 24 * 60, 5007.0));
    let mut broken = run(Some("bad"), "garmin", 500 * 24 * 60, 5000.0);
    broken.duration_s = f64::NAN;
    list.push(broken);
    let refs: Vec<&NewActivity> = list.iter().collect();
    let outcomes = s.insert_activities(id, &refs).await.unwrap();
    assert_eq!(outcomes.len(), 452);
    let inserted = outcomes.iter().filter(|o| matches!(o, Ok(InsertOutcome::Inserted(_)))).count();
    assert_eq!(inserted, 450);
    let Ok(InsertOutcome::Inserted(seventh)) = outcomes[7] else { panic!("{:?}", outcomes[7]) };
    assert_eq!(outcomes[450].as_ref().unwrap(), &InsertOutcome::Duplicate(seventh), "a duplicate inside one list");
    assert!(matches!(outcomes[451], Err(StoreError::Conflict(_))), "refused alone: {:?}", outcomes[451]);
    let stored = s.activities(id, None).await.unwrap();
    assert_eq!(stored.len(), 450);
    assert_eq!(s.activity_laps(id, stored[0].id).await.unwrap().len(), 2, "each activity whole");
    // Each outcome names the row written for that very activity (rows go in one statement a batch).
    for (i, outcome) in outcomes.iter().take(450).enumerate() {
        let Ok(InsertOutcome::Inserted(k)) = outcome else { panic!("{i}: {outcome:?}") };
        let row = stored.iter().find(|a| a.id == *k).unwrap();
        assert_eq!(row.external_id.as_deref(), Some(format!("g{i}").as_str()), "outcome {i}");
    }
    // A copy later in the same batch names the new row, not a stand-in.
    let pair = [run(Some("p1"), "garmin", 900 * 24 * 60, 6000.0), run(Some("p1"), "garmin", 900 * 24 * 60, 6000.0)];
    let twice = s.insert_activities(id, &[&pair[0], &pair[1]]).await.unwrap();
    let Ok(InsertOutcome::Inserted(first_of_pair)) = twice[0] else { panic!("{:?}", twice[0]) };
    assert_eq!(twice[1].as_ref().unwrap(), &InsertOutcome::Duplicate(first_of_pair));
    assert_eq!(s.activities(id, None).await.unwrap().len(), 451);
    // A second import of the same list adds nothing.
    let again = s.insert_activities(id, &refs[..450]).await.unwrap();
    assert!(again.iter().all(|o| matches!(o, Ok(InsertOutcome::Duplicate(_)))));
    assert_eq!(s.activities(id, None).await.unwrap().len(), 451);
}

async fn link_codes_merge_two_runners(t: TestStore) {
    let s = t.store.as_ref();
    let telegram = new_user(s, Platform::Telegram, "100").await;
    let discord = new_user(s, Platform::Discord, "200").await;
    s.insert_activity(telegram, &run(Some("shared"), "garmin", 0, 5000.0)).await.unwrap();
    s.insert_activity(discord, &run(Some("shared"), "garmin", 0, 5000.0)).await.unwrap();
    s.insert_activity(discord, &run(Some("only-discord"), "garmin", 1440, 8000.0)).await.unwrap();
    let mut update = ProfileUpdate::default();
    update.profile.weight = Some(WeightKg::try_from_f64(70.0).unwrap());
    s.update_profile(discord, &update).await.unwrap();
    s.append_message(telegram, &chat("c1"), Role::User, "from telegram").await.unwrap();
    s.append_message(discord, &chat("c1"), Role::User, "same chat key").await.unwrap();
    // LLM tokens of the same day add up (the daily budget is per person, not per account).
    s.add_llm_usage(telegram, "2026-11-26", 100).await.unwrap();
    s.add_llm_usage(discord, "2026-11-26", 50).await.unwrap();
    s.add_llm_usage(discord, "2026-11-25", 70).await.unwrap();

    s.create_link_code(telegram, "ABC234", Utc::now() + Duration::minutes(15)).await.unwrap();
    assert_eq!(s.redeem_link_code("ABC234", telegram, Utc::now()).await.unwrap(), Err(LinkError::SameUser));
    assert_eq!(s.redeem_link_code("NOPE22", discord, Utc::now()).await.unwrap(), Err(LinkError::Invalid));
    let outcome = s.redeem_link_code("ABC234", discord, Utc::now()).await.unwrap().unwrap();
    assert_eq!(outcome.kept, telegram);
    assert_eq!(outcome.merged, discord);

    // Both identities now lead to one runner, with one history.
    assert_eq!(s.find_user(&ident(Platform::Discord, "200")).await.unwrap().unwrap().id, telegram);
    let platforms: Vec<Platform> = s.identities(telegram).await.unwrap().iter().map(|i| i.platform).collect();
    assert_eq!(platforms, vec![Platform::Telegram, Platform::Discord]);
    assert_eq!(s.activities(telegram, None).await.unwrap().len(), 2, "the shared activity is kept once");
    assert_eq!(s.get_user(telegram).await.unwrap().profile.weight.map(WeightKg::get), Some(70.0));
    assert_eq!(s.recent_messages(telegram, &chat("c1"), 10).await.unwrap().len(), 2);
    assert_eq!(s.llm_usage(telegram, "2026-11-26").await.unwrap(), 150);
    assert_eq!(s.llm_usage(telegram, "2026-11-25").await.unwrap(), 70);
    assert!(s.get_user(discord).await.is_err());
    assert!(s.count_user_rows(discord).await.unwrap().iter().all(|(_, n)| *n == 0));
    // A code works once.
    let third = new_user(s, Platform::Console, "x").await;
    assert_eq!(s.redeem_link_code("ABC234", third, Utc::now()).await.unwrap(), Err(LinkError::Invalid));
    // Expired codes are refused.
    s.create_link_code(telegram, "OLD234", Utc::now() - Duration::seconds(1)).await.unwrap();
    assert_eq!(s.redeem_link_code("OLD234", third, Utc::now()).await.unwrap(), Err(LinkError::Expired));
}

async fn conversations_and_dialogue_state(t: TestStore) {
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Telegram, "1").await;
    for i in 0..5 {
        let role = if i % 2 == 0 { Role::User } else { Role::Assistant };
        s.append_message(id, &chat("c"), role, &format!("m{i}")).await.unwrap();
    }
    let recent = s.recent_messages(id, &chat("c"), 3).await.unwrap();
    let texts: Vec<&str> = recent.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts, vec!["m2", "m3", "m4"], "the last turns, oldest first");
    assert_eq!(recent[1].role, Role::Assistant);
    assert!(s.recent_messages(id, &chat("other"), 3).await.unwrap().is_empty());

    assert!(s.dialogue_state(id, &chat("c")).await.unwrap().is_none());
    s.set_dialogue_state(id, &chat("c"), Some(&json!({"kind": "wizard", "step": 1}))).await.unwrap();
    s.set_dialogue_state(id, &chat("c"), Some(&json!({"kind": "wizard", "step": 2}))).await.unwrap();
    assert_eq!(s.dialogue_state(id, &chat("c")).await.unwrap(), Some(json!({"kind": "wizard", "step": 2})));
    s.set_dialogue_state(id, &chat("c"), None).await.unwrap();
    assert!(s.dialogue_state(id, &chat("c")).await.unwrap().is_none());
}

async fn coach_memory_is_per_runner(t: TestStore) {
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Telegram, "1").await;
    let other = new_user(s, Platform::Telegram, "2").await;
    let tg = ChatKey { platform: Platform::Telegram, chat_id: "t".into() };
    let dc = ChatKey { platform: Platform::Discord, chat_id: "d".into() };
    s.append_message(id, &tg, Role::User, "q1").await.unwrap();
    let a1 = s.append_message(id, &tg, Role::Assistant, "a1").await.unwrap();
    s.append_message(other, &tg, Role::User, "not yours").await.unwrap();
    s.append_message(id, &dc, Role::User, "q2").await.unwrap();
    // One conversation across the runner's chats, oldest first, never another runner's.
    let recent: Vec<String> = s.recent_conversation(id, 10).await.unwrap().into_iter().map(|m| m.content).collect();
    assert_eq!(recent, vec!["q1", "a1", "q2"]);
    let last_two: Vec<String> = s.recent_conversation(id, 2).await.unwrap().into_iter().map(|m| m.content).collect();
    assert_eq!(last_two, vec!["a1", "q2"]);

    // Ratings: only on the runner's own assistant messages.
    assert!(s.rate_message(id, a1, 1).await.unwrap());
    assert!(!s.rate_message(other, a1, -1).await.unwrap());
    assert_eq!(s.message_rating(id, a1).await.unwrap(), Some(1));
    assert_eq!(s.message_rating(other, a1).await.unwrap(), None);

    assert_eq!(s.conversation_summary(id).await.unwrap(), None);
    s.set_conversation_summary(id, &tg, "marathon in April", a1).await.unwrap();
    assert_eq!(s.conversation_summary(id).await.unwrap(), Some(("marathon in April".to_owned(), a1)));
    assert_eq!(s.conversation_summary(other).await.unwrap(), None);

    assert_eq!(s.add_llm_usage(id, "2026-11-26", 100).await.unwrap(), 100);
    assert_eq!(s.add_llm_usage(id, "2026-11-26", 20).await.unwrap(), 120);
    assert_eq!(s.llm_usage(id, "2026-11-26").await.unwrap(), 120);
    assert_eq!(s.llm_usage(id, "2026-11-27").await.unwrap(), 0);
    assert_eq!(s.llm_usage(other, "2026-11-26").await.unwrap(), 0);
}

async fn jobs_are_claimed_once(t: TestStore) {
    let s = t.store.as_ref();
    let now = Utc::now();
    for i in 0..10 {
        let job = NewJob {
            kind: "weekly_summary".into(),
            dedupe_key: format!("k{i}"),
            user_id: None,
            payload: json!({ "i": i }),
            run_at: now - Duration::seconds(1),
        };
        assert!(s.enqueue_job(&job).await.unwrap());
        assert!(!s.enqueue_job(&job).await.unwrap(), "a second enqueue is a no-op");
    }
    let lease = now + Duration::minutes(5);
    let a = s.claim_jobs("worker-a", now, lease, 6).await.unwrap();
    let b = s.claim_jobs("worker-b", now, lease, 6).await.unwrap();
    assert_eq!(a.len(), 6);
    assert_eq!(b.len(), 4);
    let ids_a: BTreeSet<i64> = a.iter().map(|j| j.id).collect();
    assert!(b.iter().all(|j| !ids_a.contains(&j.id)));
    assert!(s.claim_jobs("worker-c", now, lease, 6).await.unwrap().is_empty());
    assert_eq!(s.queue_depth().await.unwrap(), 10, "claimed jobs are still in the queue");

    assert!(s.complete_job(a[0].id, "worker-a").await.unwrap());
    assert!(!s.complete_job(a[1].id, "worker-b").await.unwrap(), "only the holder completes a job");
    assert_eq!(s.queue_depth().await.unwrap(), 9);
    s.fail_job(a[1].id, "worker-a", "429", Some(now + Duration::seconds(30))).await.unwrap();
    assert!(s.claim_jobs("worker-c", now, lease, 10).await.unwrap().is_empty(), "retry is not due yet");
    let retried = s.claim_jobs("worker-c", now + Duration::seconds(31), lease, 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempts, 2);
    // A worker that died: its lease expires and the job is claimable again.
    let after_lease = lease + Duration::seconds(1);
    let reclaimed = s.claim_jobs("worker-d", after_lease, after_lease + Duration::minutes(5), 100).await.unwrap();
    // Running: a's last 4, b's 4 and the retried one; the completed one is not reclaimed.
    assert_eq!(reclaimed.len(), 9);
    assert!(reclaimed.iter().all(|j| j.id != a[0].id));
}

async fn every_table_is_covered_by_export_and_erase(t: TestStore) {
    let s = t.store.as_ref();
    let tables: BTreeSet<String> = s.table_names().await.unwrap().into_iter().collect();
    let mut expected: BTreeSet<String> = USER_TABLES.iter().chain(GLOBAL_TABLES).map(|t| (*t).to_owned()).collect();
    expected.insert("users".to_owned());
    assert_eq!(
        tables, expected,
        "a new table must be listed in USER_TABLES (export, erase, link) or, without user data, in GLOBAL_TABLES"
    );
}

async fn export_holds_everything(t: TestStore) {
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Telegram, "1").await;
    let mut update = ProfileUpdate::default();
    update.profile.weight = Some(WeightKg::try_from_f64(58.0).unwrap());
    s.update_profile(id, &update).await.unwrap();
    populate(s, id, "a").await;
    let other = new_user(s, Platform::Telegram, "2").await;
    populate(s, other, "b").await;

    let doc = s.export_user(id).await.unwrap();
    assert_eq!(doc["user"]["profile"]["weight"], json!(58.0));
    for table in USER_TABLES {
        let rows = doc[*table].as_array().unwrap_or_else(|| panic!("{table} missing from export"));
        assert!(!rows.is_empty(), "{table} exported empty");
        for row in rows {
            assert_eq!(row["user_id"], json!(id.0), "{table} leaked another runner's row");
        }
    }
    assert_eq!(doc["activities"][0]["external_id"], json!("act-a"));
    assert_eq!(doc["activities"][0]["hr_zones_s"], json!([60.0, 600.0, 900.0, 200.0, 40.0]));
    assert_eq!(doc["plans"][0]["request"], json!({"goal": "10k"}));
    assert_eq!(doc["samples"][0]["points"].as_array().unwrap().len(), 100);
    assert!(doc["credentials"][0].get("secret").is_none(), "sealed secrets stay out of exports");
    assert_eq!(doc["messages"][0]["content"], json!("hello"));
}

async fn erase_leaves_no_row(t: TestStore) {
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Telegram, "1").await;
    s.resolve_identity(&ident(Platform::Telegram, "1"), None, Lang::En).await.unwrap();
    populate(s, id, "a").await;
    let other = new_user(s, Platform::Telegram, "2").await;
    populate(s, other, "b").await;
    let before_other = s.count_user_rows(other).await.unwrap();
    let before = s.count_user_rows(id).await.unwrap();
    assert!(before.iter().all(|(_, n)| *n > 0), "populate must fill every table: {before:?}");

    s.erase_user(id).await.unwrap();
    let after = s.count_user_rows(id).await.unwrap();
    assert!(after.iter().all(|(_, n)| *n == 0), "rows left after erase: {after:?}");
    // The other runner is untouched (the audit log gained only an anonymous 'erase' row).
    assert_eq!(s.count_user_rows(other).await.unwrap(), before_other);
    assert!(s.find_user(&ident(Platform::Telegram, "1")).await.unwrap().is_none());
    assert!(s.erase_user(id).await.is_err(), "erasing twice reports not found");
    // Writing again starts a fresh runner.
    let fresh = s.resolve_identity(&ident(Platform::Telegram, "1"), None, Lang::En).await.unwrap();
    assert!(fresh.created);
    assert_eq!(fresh.user.profile, Profile::default());
}

async fn saving_a_plan_archives_the_previous_one(t: TestStore) {
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Console, "c").await;
    populate(s, id, "a").await;
    populate(s, id, "b").await;
    let doc = s.export_user(id).await.unwrap();
    let statuses: Vec<&str> = doc["plans"].as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["archived", "active"]);
}

/// Two runners redeeming one link code at once (two instances, two pools on PostgreSQL): the code
/// is claimed once, so exactly one is merged into its owner.
async fn a_link_code_is_claimed_once(t: TestStore) {
    let s = t.store.as_ref();
    let other = t.second_instance().await;
    let owner = new_user(s, Platform::Telegram, "owner").await;
    let b = new_user(s, Platform::Discord, "b").await;
    let c = new_user(s, Platform::Discord, "c").await;
    let now = Utc::now();
    s.create_link_code(owner, "ABCDEFGHJK", now + Duration::minutes(10)).await.unwrap();
    assert_eq!(s.peek_link_code("ABCDEFGHJK", now).await.unwrap(), Ok(owner), "peeking claims nothing");
    let (first, second) =
        tokio::join!(s.redeem_link_code("ABCDEFGHJK", b, now), other.redeem_link_code("ABCDEFGHJK", c, now));
    let outcomes = [first.unwrap(), second.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    assert!(outcomes.contains(&Err(runcoach_core::store::LinkError::Invalid)), "{outcomes:?}");
    assert_eq!(s.peek_link_code("ABCDEFGHJK", now).await.unwrap(), Err(runcoach_core::store::LinkError::Invalid));
}

/// Retention deletes what is past its keeping time and nothing else: finished jobs only, expired
/// link codes only, messages and the conversations they leave empty; a dry run counts the same
/// rows and deletes none; the daily pass runs on one instance a day.
async fn inactive_runners_are_warned_then_erased_unless_they_write(t: TestStore) {
    use runcoach_core::retention::{INACTIVE_NOTICE_DAYS, RetentionPolicy, inactivity};
    let s = t.store.as_ref();
    let now = Utc::now();
    let long_ago = now - Duration::days(400);
    let (gone, back, active) = (
        new_user(s, Platform::Telegram, "gone").await,
        new_user(s, Platform::Telegram, "back").await,
        new_user(s, Platform::Telegram, "active").await,
    );
    s.touch_user(gone, long_ago).await.unwrap();
    s.touch_user(back, long_ago).await.unwrap();
    s.touch_user(active, now - Duration::days(3)).await.unwrap();
    // Off by default: nobody is warned.
    assert_eq!(inactivity(s, &RetentionPolicy::default(), now, false).await.unwrap(), Default::default());
    let policy = RetentionPolicy { inactive_months: Some(6), ..RetentionPolicy::default() };
    // A dry run counts and changes nothing.
    assert_eq!(inactivity(s, &policy, now, true).await.unwrap().warned.len(), 2);
    assert!(s.inactivity_notices().await.unwrap().is_empty());
    let first = inactivity(s, &policy, now, false).await.unwrap();
    let erase_on = now.date_naive() + Duration::days(INACTIVE_NOTICE_DAYS);
    assert_eq!(first.warned, vec![(gone, erase_on), (back, erase_on)]);
    assert_eq!(s.inactivity_notices().await.unwrap().len(), 2);
    // The next day nothing new: warned once.
    let again = inactivity(s, &policy, now + Duration::days(1), false).await.unwrap();
    assert_eq!((again.warned.len(), again.erased, again.returned), (0, 0, 0));
    // "back" writes; a day's touches are one write.
    s.touch_user(back, now + Duration::days(2)).await.unwrap();
    s.touch_user(back, now + Duration::days(2) + Duration::hours(1)).await.unwrap();
    let later = now + Duration::days(INACTIVE_NOTICE_DAYS + 1);
    let last = inactivity(s, &policy, later, false).await.unwrap();
    assert_eq!((last.warned.len(), last.erased, last.returned), (0, 1, 1));
    assert!(s.get_user(gone).await.is_err(), "erased as /forget erases");
    assert!(s.count_user_rows(gone).await.unwrap().iter().all(|(_, n)| *n == 0));
    assert!(s.get_user(back).await.is_ok() && s.get_user(active).await.is_ok());
    assert!(s.inactivity_notices().await.unwrap().is_empty(), "the returning runner's warning is withdrawn");
}

async fn retention_deletes_only_what_is_past_its_time(t: TestStore) {
    use runcoach_core::retention::{self, RetentionPolicy};
    use runcoach_core::store::RetentionCutoffs;
    let s = t.store.as_ref();
    let id = new_user(s, Platform::Telegram, "1").await;
    populate(s, id, "a").await;
    // One finished job beside populate's pending one.
    s.enqueue_job(&NewJob {
        kind: "weekly_summary".into(),
        dedupe_key: "summary:done".into(),
        user_id: Some(id),
        payload: json!({}),
        run_at: Utc::now() - Duration::minutes(1),
    })
    .await
    .unwrap();
    let now = Utc::now();
    let claimed = s.claim_jobs("w", now, now + Duration::minutes(5), 10).await.unwrap();
    let done = claimed.iter().find(|j| j.dedupe_key == "summary:done").unwrap();
    assert!(s.complete_job(done.id, "w").await.unwrap());
    // The running one is released as the worker would leave it (claimed, not finished).

    // Cutoffs in the past: nothing is old enough.
    let past = now - Duration::days(1);
    let old = RetentionCutoffs {
        messages_before: past,
        jobs_before: past,
        audit_before: past,
        llm_usage_before: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        link_codes_before: now,
        dialogue_states_before: past,
    };
    assert_eq!(s.apply_retention(&old, true).await.unwrap().total(), 0);

    // Cutoffs after everything (link codes: after their expiry).
    let later = now + Duration::hours(1);
    let all = RetentionCutoffs {
        messages_before: later,
        jobs_before: later,
        audit_before: later,
        llm_usage_before: NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
        link_codes_before: now + Duration::minutes(10),
        dialogue_states_before: later,
    };
    let counted = s.apply_retention(&all, true).await.unwrap();
    assert_eq!(
        (
            counted.messages,
            counted.conversations,
            counted.jobs,
            counted.llm_usage,
            counted.link_codes,
            counted.dialogue_states
        ),
        (1, 1, 1, 1, 1, 1),
        "{counted:?}"
    );
    assert!(counted.audit_log >= 1);
    assert_eq!(s.apply_retention(&all, true).await.unwrap(), counted, "a dry run deletes nothing");
    let deleted = s.apply_retention(&all, false).await.unwrap();
    assert_eq!(deleted, counted);
    assert_eq!(s.apply_retention(&all, true).await.unwrap().total(), 0);
    // The pending job and the runner's data that has no keeping time stay.
    assert_eq!(s.queue_depth().await.unwrap(), 1);
    assert_eq!(s.activities(id, None).await.unwrap().len(), 1);

    // The daily pass: once a day across instances, and it audits what it deleted.
    let policy = RetentionPolicy::default();
    assert!(retention::daily(s, &policy, now).await.unwrap().is_some());
    let other = t.second_instance().await;
    assert!(retention::daily(other.as_ref(), &policy, now).await.unwrap().is_none());
    assert!(retention::daily(s, &policy, now + Duration::days(1)).await.unwrap().is_some());
}

/// The operator's retry and cancel: a failed job runs again from its first attempt, a pending one
/// is given up, and neither touches a job in another state.
async fn operators_retry_and_cancel_jobs(t: TestStore) {
    let s = t.store.as_ref();
    let now = Utc::now();
    for key in ["a", "b"] {
        s.enqueue_job(&NewJob {
            kind: "weekly_summary".into(),
            dedupe_key: format!("job:{key}"),
            user_id: None,
            payload: json!({}),
            run_at: now,
        })
        .await
        .unwrap();
    }
    let claimed = s.claim_jobs("w", now, now + Duration::minutes(5), 1).await.unwrap();
    s.fail_job(claimed[0].id, "w", "gave up", None).await.unwrap();
    let failed = s.admin_jobs(Some("failed"), 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].last_error.as_deref(), Some("gave up"));
    let pending = s.admin_jobs(Some("pending"), 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert!(!s.retry_job(pending[0].id, now).await.unwrap(), "a pending job is not retried");
    assert!(s.retry_job(failed[0].id, now).await.unwrap());
    let again = s.admin_jobs(None, 10).await.unwrap();
    assert!(again.iter().all(|j| j.status == "pending" && j.attempts == 0), "{again:?}");
    assert!(s.cancel_job(pending[0].id, now).await.unwrap());
    assert!(!s.cancel_job(pending[0].id, now).await.unwrap(), "already given up");
    assert_eq!(
        s.admin_jobs(Some("failed"), 10).await.unwrap()[0].last_error.as_deref(),
        Some("cancelled by the operator")
    );
    // The runners' overview: identities, counts, searching by identity; usage over days.
    let id = new_user(s, Platform::Telegram, "4242").await;
    populate(s, id, "a").await;
    let all = s.admin_users(None, 10).await.unwrap();
    let found = s.admin_users(Some("TELEGRAM:42"), 10).await.unwrap();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), vec![id], "{all:?}");
    assert!(s.admin_users(Some("nobody"), 10).await.unwrap().is_empty());
    let me = s.admin_user(id).await.unwrap();
    assert_eq!(me.identities, vec!["telegram:4242".to_owned()]);
    assert_eq!((me.activities, me.plans, me.messages, me.garmin_connected), (1, 1, 1, true));
    assert!(me.last_seen.is_some());
    let usage = s.usage(Utc::now(), 7).await.unwrap();
    assert_eq!((usage.runners, usage.active_1d), (1, 1));
    assert_eq!(usage.messages_per_day.iter().map(|(_, n)| n).sum::<i64>(), 1);
    assert_eq!(s.all_schedules(10).await.unwrap().len(), 1);
}

on_both_stores!(
    a_link_code_is_claimed_once,
    operators_retry_and_cancel_jobs,
    retention_deletes_only_what_is_past_its_time,
    inactive_runners_are_warned_then_erased_unless_they_write,
    coach_memory_is_per_runner,
    identities_resolve_once,
    concurrent_first_contacts_make_one_runner,
    profile_updates_keep_other_fields,
    activities_are_stored_once,
    long_lists_go_in_batches_whole_and_once,
    link_codes_merge_two_runners,
    conversations_and_dialogue_state,
    jobs_are_claimed_once,
    every_table_is_covered_by_export_and_erase,
    export_holds_everything,
    erase_leaves_no_row,
    saving_a_plan_archives_the_previous_one,
);

#[tokio::test]
async fn sqlite_store_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id;
    {
        let s = runcoach_core::store::SqliteStore::open_in(dir.path()).await.unwrap();
        id = s.resolve_identity(&ident(Platform::Console, "cam"), None, Lang::Fr).await.unwrap().user.id;
        s.set_dialogue_state(id, &chat("c"), Some(&json!({"kind": "wizard"}))).await.unwrap();
        s.close().await;
    }
    let s = runcoach_core::store::SqliteStore::open_in(dir.path()).await.unwrap();
    let again = s.resolve_identity(&ident(Platform::Console, "cam"), None, Lang::En).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.user.id, id);
    assert_eq!(s.dialogue_state(id, &chat("c")).await.unwrap(), Some(json!({"kind": "wizard"})));
    assert!(dir.path().join("runcoach.db").exists());
}

#[tokio::test]
async fn unreachable_postgres_is_a_clear_error() {
    let err = runcoach_core::store::connect(Some("postgres://nobody@127.0.0.1:1/none"), std::path::Path::new("x"))
        .await
        .err()
        .expect("no server listens on port 1");
    assert_eq!(err.code(), runcoach_core::error::ErrorCode::StoreUnavailable, "{err}");
}

//! End to end: the real teloxide client against telegram-test-api (with the route layer in
//! tests/telegram-peer that fills its gaps), driven from the user's side over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use runcoach_core::chat::BotCore;
use runcoach_core::store::{SqliteStore, Store};
use runcoach_telegram::{TelegramConfig, run};
use secrecy::SecretString;
use serde_json::{Value, json};

#[path = "support/peer.rs"]
mod peer;

// The scripted OpenAI-compatible server the core's agent tests use.
#[path = "../../../tests/support/llm_fake.rs"]
mod llm_fake;

// The local Garmin Connect the core's sync tests use (recorded responses).
#[path = "../../../tests/support/garmin_fake.rs"]
mod garmin_fake;

use peer::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_talks_to_the_real_client_through_the_bot_api() {
    let _ = tracing_subscriber::fmt().with_env_filter("warn,runcoach=info").with_test_writer().try_init();
    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let kb_dir = repo().join("knowledge_base");
    let kb = runcoach_core::knowledge::KnowledgeBase::with_embedder(&kb_dir, None).unwrap();
    let core = Arc::new(BotCore::new(store.clone()).with_knowledge(Some(Arc::new(kb))));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let config = TelegramConfig { token: SecretString::from(TOKEN), api_url: Some(peer.url.parse().unwrap()) };
    let bot = tokio::spawn(run(core, config, async move {
        let _ = stop_rx.await;
    }));

    let camille = TgUser { id: 1001, name: "Camille", lang: "fr" };
    let chat = private_chat(&camille);

    // /start in French, with HTML formatting and buttons.
    say(&peer, &camille, chat.clone(), "/start").await;
    let got = peer.wait_for(1001, 0, "welcome", |m| text(m).contains("Bienvenue Camille")).await;
    let welcome = got.iter().find(|m| text(m).contains("Bienvenue")).unwrap().clone();
    assert_eq!(welcome["parse_mode"], json!("HTML"));
    assert!(text(&welcome).contains("<b>Coach Michael</b>"), "{}", text(&welcome));
    assert!(text(&welcome).contains("intelligence artificielle"));

    // The command menu exists in English and French.
    let commands = peer.get("/_peer/commands").await;
    let names = |key: &str| -> Vec<String> {
        commands[key].as_array().unwrap().iter().map(|c| c["command"].as_str().unwrap().to_owned()).collect()
    };
    assert!(names("default:").contains(&"profile".to_owned()));
    assert!(names("default:fr").contains(&"forget".to_owned()));
    assert!(commands["default:fr"][0]["description"].as_str().unwrap().contains("Bienvenue"));

    // Pressing "English" switches language; the pressed keyboard is removed.
    let n = peer.sent(1001).await.len();
    press(&peer, &camille, &welcome["message"], &button_data(&welcome, "English")).await;
    peer.wait_for(1001, n, "language switch", |m| text(m).contains("speak English")).await;
    let first = peer.sent(1001).await.into_iter().find(|m| text(m).contains("Bienvenue")).unwrap();
    assert!(first["message"].get("reply_markup").is_none(), "keyboard removed after the press: {first}");

    // Profile, with user text escaped.
    let n = peer.sent(1001).await.len();
    say(&peer, &camille, chat.clone(), "/profile weight 61 max_hr 190").await;
    let got = peer.wait_for(1001, n, "profile", |m| text(m).contains("Profile updated")).await;
    assert!(all_text(&got).contains("61 kg") && all_text(&got).contains("190 bpm"));
    let n = peer.sent(1001).await.len();
    say(&peer, &camille, chat.clone(), "/profile weight <b>heavy</b>").await;
    let got = peer.wait_for(1001, n, "escaped error", |m| text(m).contains("not a valid number")).await;
    assert!(all_text(&got).contains("&lt;b&gt;heavy"), "{}", all_text(&got));

    // Export arrives as a JSON document.
    let n = peer.sent(1001).await.len();
    say(&peer, &camille, chat.clone(), "/export").await;
    let got = peer.wait_for(1001, n, "export document", |m| m["message"].get("document").is_some()).await;
    let doc = got.iter().find(|m| m["message"].get("document").is_some()).unwrap();
    let file_id = doc["message"]["document"]["file_id"].as_str().unwrap();
    assert!(doc["message"]["document"]["file_name"].as_str().unwrap().starts_with("runcoach-export-"));
    let body = peer.http.get(format!("{}/_peer/file/{file_id}", peer.url)).send().await.unwrap().bytes().await.unwrap();
    let export: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(export["user"]["profile"]["weight"], json!(61.0));

    // A file sent by the runner is downloaded through getFile, imported, and feeds /stats.
    let n = peer.sent(1001).await.len();
    let fit = std::fs::read(repo().join("../shared/fixtures/fit/activity-small-fenix2-run.fit")).unwrap();
    peer.post(
        "/_peer/sendDocument",
        json!({
            "token": TOKEN, "chat_id": 1001, "from": camille.json(), "file_name": "morning.fit",
            "mime_type": "application/octet-stream",
            "data_base64": base64_encode(&fit),
        }),
    )
    .await;
    let got = peer.wait_for(1001, n, "import answer", |m| text(m).contains("9.01 km")).await;
    assert!(all_text(&got).contains("<b>Run</b>"), "{}", all_text(&got));
    let n = peer.sent(1001).await.len();
    say(&peer, &camille, chat.clone(), "/stats").await;
    peer.wait_for(1001, n, "stats", |m| text(m).contains("1 run,")).await;

    // The plan wizard with button presses and typed answers, then /week. Jules has a chat of
    // their own: teloxide's Throttle keeps to 20 messages a minute per chat, which Camille's
    // conversation would reach.
    let jules = TgUser { id: 1002, name: "Jules", lang: "en" };
    let jchat = private_chat(&jules);
    let n = peer.sent(1002).await.len();
    say(&peer, &jules, jchat.clone(), "/plan").await;
    let got = peer.wait_for(1002, n, "goal question", |m| text(m).contains("What is your goal?")).await;
    let ask = got.last().unwrap().clone();
    let n = peer.sent(1002).await.len();
    press(&peer, &jules, &ask["message"], &button_data(&ask, "10K")).await;
    let got = peer.wait_for(1002, n, "length question", |m| text(m).contains("When is your race?")).await;
    let ask = got.last().unwrap().clone();
    let n = peer.sent(1002).await.len();
    press(&peer, &jules, &ask["message"], &button_data(&ask, "12 weeks")).await;
    peer.wait_for(1002, n, "target question", |m| text(m).contains("Aiming for a time?")).await;
    let n = peer.sent(1002).await.len();
    say(&peer, &jules, jchat.clone(), "50:00").await;
    // No runs yet: a recent race is asked for, and typed.
    peer.wait_for(1002, n, "recent race question", |m| text(m).contains("A recent race")).await;
    let n = peer.sent(1002).await.len();
    say(&peer, &jules, jchat.clone(), "10k in 52:30").await;
    let got = peer.wait_for(1002, n, "sessions question", |m| text(m).contains("How many runs")).await;
    let ask = got.last().unwrap().clone();
    let n = peer.sent(1002).await.len();
    press(&peer, &jules, &ask["message"], &button_data(&ask, "4")).await;
    peer.wait_for(1002, n, "days question", |m| text(m).contains("Which days?")).await;
    let n = peer.sent(1002).await.len();
    say(&peer, &jules, jchat.clone(), "tue thu sat sun").await;
    let got = peer.wait_for(1002, n, "level question", |m| text(m).contains("Your level?")).await;
    let ask = got.last().unwrap().clone();
    let n = peer.sent(1002).await.len();
    press(&peer, &jules, &ask["message"], &button_data(&ask, "intermediate")).await;
    let got = peer.wait_for(1002, n, "plan", |m| text(m).contains("10K plan — 12 weeks")).await;
    assert!(all_text(&got).contains("<b>Week 1"), "{}", all_text(&got));
    assert!(all_text(&got).contains("Target 50:00: realistic by race day"), "{}", all_text(&got));
    let n = peer.sent(1002).await.len();
    say(&peer, &jules, jchat.clone(), "/week").await;
    peer.wait_for(1002, n, "week", |m| text(m).contains("Week 1")).await;

    // Free text goes to the coach.
    let n = peer.sent(1001).await.len();
    say(&peer, &camille, chat.clone(), "my shin hurts since yesterday, what should I do?").await;
    peer.wait_for(1001, n, "coach answer", |m| text(m).contains("not a doctor")).await;

    // A sticker gets a clear answer, not silence and not a crash.
    let n = peer.sent(1001).await.len();
    peer.post(
        "/sendMessage",
        json!({
            "botToken": TOKEN, "from": camille.json(), "chat": chat, "date": now(),
            "sticker": { "file_id": "s1", "file_unique_id": "s1u", "type": "regular", "width": 512, "height": 512,
                          "is_animated": false, "is_video": false }
        }),
    )
    .await;
    peer.wait_for(1001, n, "sticker answer", |m| text(m).contains("I can only read text")).await;

    // A huge text is refused politely.
    let n = peer.sent(1001).await.len();
    say(&peer, &camille, chat.clone(), &"a".repeat(9000)).await;
    peer.wait_for(1001, n, "too long", |m| text(m).contains("too long")).await;

    // In a group: personal commands redirect to a private chat; chatter is ignored.
    let club = -100_200;
    say(&peer, &camille, group_chat(club), "good morning runners").await;
    say(&peer, &camille, group_chat(club), "/profile@runcoach_test_bot").await;
    let got = peer.wait_for(club, 0, "group answer", |m| text(m).contains("message me privately")).await;
    assert_eq!(got.len(), 1, "only the command got an answer: {got:#?}");
    assert!(!all_text(&got).contains("61"), "no personal data in the group");
    say(&peer, &camille, group_chat(club), "/help@some_other_bot").await;

    // A group migrated to a supergroup: the reply follows the new chat id.
    peer.post("/_peer/migrate", json!({ "chat_id": club, "to": -100_300 })).await;
    say(&peer, &camille, group_chat(club), "/help@runcoach_test_bot").await;
    peer.wait_for(-100_300, 0, "reply in the new supergroup", |m| text(m).contains("What I can do")).await;

    // /forget with the confirmation button erases everything.
    let n = peer.sent(1001).await.len();
    say(&peer, &camille, chat.clone(), "/forget").await;
    let got = peer.wait_for(1001, n, "forget confirmation", |m| text(m).contains("permanently")).await;
    let ask = got.iter().find(|m| text(m).contains("permanently")).unwrap();
    let n = peer.sent(1001).await.len();
    press(&peer, &camille, &ask["message"], &button_data(ask, "Yes")).await;
    peer.wait_for(1001, n, "erased", |m| text(m).contains("all your data has been deleted")).await;
    let camille_id = runcoach_core::domain::PlatformIdentity {
        platform: runcoach_core::domain::Platform::Telegram,
        platform_user_id: "1001".into(),
    };
    assert!(store.find_user(&camille_id).await.unwrap().is_none());

    // A runner who blocked the bot: the send fails with 403 and the bot carries on.
    let malik = TgUser { id: 2002, name: "Malik", lang: "en" };
    peer.post("/_peer/block", json!({ "chat_id": 2002 })).await;
    say(&peer, &malik, private_chat(&malik), "/help").await;
    let other = TgUser { id: 3003, name: "Ana", lang: "en" };
    say(&peer, &other, private_chat(&other), "/help").await;
    peer.wait_for(3003, 0, "others still answered", |m| text(m).contains("What I can do")).await;
    assert!(peer.sent(2002).await.is_empty());

    // Everything the layer returned and every update it delivered matched the Bot API description.
    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, json!([]), "Bot API violations: {violations:#}");

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(40), bot).await.expect("adapter stops on shutdown").unwrap().unwrap();
}

/// An LLM answer is shown while it is written: one message, sent when the first words arrive and
/// edited into the final HTML answer with its sources and rating buttons (no second message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coach_answer_grows_in_one_edited_message() {
    use llm_fake::{LlmServer, Scripted};
    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let kb = runcoach_core::knowledge::KnowledgeBase::with_embedder(&repo().join("knowledge_base"), None).unwrap();
    let answer = "Keep your long run easy: you should be able to talk in full sentences. Add about ten minutes \
                  every other week, and take a lighter week every fourth week.";
    let llm = LlmServer::start(vec![
        Scripted::StreamCall("search_knowledge".into(), vec!["{\"query\": ".into(), "\"long run pace\"}".into()]),
        Scripted::Text(answer.into()),
    ])
    .await;
    let agent = runcoach_core::agent::Agent::new(runcoach_core::agent::LlmConfig::new(&llm.url, "fake-coach"));
    let core = Arc::new(BotCore::new(store).with_knowledge(Some(Arc::new(kb))).with_agent(Some(Arc::new(agent))));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let config = TelegramConfig { token: SecretString::from(TOKEN), api_url: Some(peer.url.parse().unwrap()) };
    let bot = tokio::spawn(run(core, config, async move {
        let _ = stop_rx.await;
    }));

    let lou = TgUser { id: 4004, name: "Lou", lang: "en" };
    say(&peer, &lou, private_chat(&lou), "How slow should my long run be?").await;
    let got = peer.wait_for(4004, 0, "final answer", |m| text(m).contains("Sources:")).await;
    assert_eq!(got.len(), 1, "one message, edited in place: {got:#?}");
    let message = &got[0];
    assert!(text(message).starts_with("Keep your long run easy"), "{}", text(message));
    assert!(message["message"]["edit_date"].is_number(), "the answer was shown, then edited: {message:#}");
    assert!(!text(message).ends_with('…'));
    assert!(!button_data(message, "👍").is_empty(), "rating buttons on the final answer");
    assert!(llm.requests().iter().all(|r| r["stream"] == json!(true)));

    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, json!([]), "Bot API violations: {violations:#}");
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(40), bot).await.expect("adapter stops on shutdown").unwrap().unwrap();
}

/// The watch and the weather through the real client: a location sent in the chat becomes the
/// runner's place (rounded to ~1 km), `/today`'s ⌚ button sends the day's session as a FIT
/// workout document, and the morning reminder arrives from the scheduler with that button.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_the_watch_button_and_the_morning_reminder_through_telegram() {
    use runcoach_core::chat::ChatKey;
    use runcoach_core::domain::{Platform, PlatformIdentity};
    use runcoach_core::i18n::Lang;
    use runcoach_core::scheduler::{self, TestClock, WorkerConfig};
    use runcoach_core::{plan, plans};

    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let core = Arc::new(BotCore::new(store.clone()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let config = TelegramConfig { token: SecretString::from(TOKEN), api_url: Some(peer.url.parse().unwrap()) };
    let notifier = runcoach_telegram::TelegramNotifier::new(runcoach_telegram::bot(&config));
    let bot = tokio::spawn(run(core, config, async move {
        let _ = stop_rx.await;
    }));

    // Lou's plan has a session every day from today, so today always has one.
    let lou = TgUser { id: 4004, name: "Lou", lang: "en" };
    let ident = PlatformIdentity { platform: Platform::Telegram, platform_user_id: "4004".into() };
    let user = store.resolve_identity(&ident, Some("Lou"), Lang::En).await.unwrap().user.id;
    let today = chrono::Utc::now().date_naive();
    let request = plan::PlanRequest {
        goal: plan::Goal::Fitness,
        level: Some(plan::Level::Intermediate),
        sessions_per_week: 5,
        preferred_days: Vec::new(),
        start_date: today,
        length: plan::PlanLength::Weeks(6),
        vdot: Some(45.0),
        target_time_s: None,
        history: None,
    };
    let p = plan::generate(&request).unwrap();
    plans::save_new(store.as_ref(), user, &p).await.unwrap();
    let chat = private_chat(&lou);

    peer.post(
        "/sendMessage",
        json!({
            "botToken": TOKEN, "from": lou.json(), "chat": chat, "date": now(),
            "location": { "latitude": 45.764_043, "longitude": 4.835_659 }
        }),
    )
    .await;
    peer.wait_for(4004, 0, "location saved", |m| text(m).contains("Saved: 45.76,4.84")).await;
    let place = store.get_user(user).await.unwrap().location.unwrap();
    assert_eq!((place.lat(), place.lon()), (45.76, 4.84));

    let n = peer.sent(4004).await.len();
    say(&peer, &lou, chat.clone(), "/today").await;
    let got = peer.wait_for(4004, n, "today", |m| !button_data(m, "To my watch").is_empty()).await;
    let today_msg = got.iter().find(|m| !button_data(m, "To my watch").is_empty()).unwrap().clone();
    let n = peer.sent(4004).await.len();
    press(&peer, &lou, &today_msg["message"], &button_data(&today_msg, "To my watch")).await;
    let got = peer.wait_for(4004, n, "workout file", |m| m["message"].get("document").is_some()).await;
    let doc = got.iter().find(|m| m["message"].get("document").is_some()).unwrap();
    let name = doc["message"]["document"]["file_name"].as_str().unwrap();
    let session = p.workouts().filter(|w| w.date >= today && w.kind.is_running()).min_by_key(|w| w.date).unwrap();
    assert_eq!(name, format!("runcoach-{}-{}.fit", session.date, session.kind.as_str()));
    let file_id = doc["message"]["document"]["file_id"].as_str().unwrap();
    let fit = peer.http.get(format!("{}/_peer/file/{file_id}", peer.url)).send().await.unwrap().bytes().await.unwrap();
    // Our importer reads it back as a FIT file of type "workout", not a run.
    assert_eq!(
        runcoach_core::import::import_fit(&fit).map(|_| ()),
        Err(runcoach_core::import::ImportError::NotAnActivity { kind: "workout".into() })
    );

    // The morning reminder, from the scheduler, on a day with a session.
    let ck = ChatKey { platform: Platform::Telegram, chat_id: "4004".into() };
    let set_at = chrono::Utc::now() - chrono::Duration::days(1);
    scheduler::enable_reminder(store.as_ref(), user, &ck, 0, 1, chrono_tz::UTC, set_at).await.unwrap();
    let due = session.date.and_hms_opt(0, 2, 0).unwrap().and_utc();
    assert_eq!(scheduler::enqueue_due(store.as_ref(), due).await.unwrap().enqueued, 1);
    let n = peer.sent(4004).await.len();
    let report = scheduler::drain(store.as_ref(), "worker-1", &notifier, &TestClock::at(due), &WorkerConfig::default())
        .await
        .unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let got = peer.wait_for(4004, n, "reminder", |m| text(m).contains("Today's session")).await;
    let reminder = got.iter().find(|m| text(m).contains("Today's session")).unwrap();
    assert_eq!(button_data(reminder, "To my watch"), format!("plan:watch:{}", session.date));

    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, json!([]), "Bot API violations: {violations:#}");
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(40), bot).await.expect("adapter stops on shutdown").unwrap().unwrap();
}

/// Weekly summaries go out through the real client: the scheduler's worker sends the due summary
/// (chart and text) to the runner's chat, marks it sent, and pauses the schedule of a runner who
/// blocked the bot instead of retrying forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_delivers_weekly_summaries_through_telegram() {
    use runcoach_core::chat::ChatKey;
    use runcoach_core::domain::{Platform, PlatformIdentity};
    use runcoach_core::i18n::Lang;
    use runcoach_core::scheduler::{self, TestClock, WorkerConfig};

    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let config = TelegramConfig { token: SecretString::from(TOKEN), api_url: Some(peer.url.parse().unwrap()) };
    let notifier = runcoach_telegram::TelegramNotifier::new(runcoach_telegram::bot(&config));
    // Sunday evening: both runners turn the summary on; Monday 08:05 it is due.
    let sunday = chrono::DateTime::parse_from_rfc3339("2025-03-23T19:00:00Z").unwrap().to_utc();
    let monday = chrono::DateTime::parse_from_rfc3339("2025-03-24T07:05:00Z").unwrap().to_utc();
    let mut chats = Vec::new();
    for (id, lang) in [(5005_i64, Lang::Fr), (6006, Lang::En)] {
        let ident = PlatformIdentity { platform: Platform::Telegram, platform_user_id: id.to_string() };
        let user = store.resolve_identity(&ident, Some("runner"), lang).await.unwrap().user.id;
        let chat = ChatKey { platform: Platform::Telegram, chat_id: id.to_string() };
        scheduler::enable_weekly_summary(store.as_ref(), user, &chat, None, chrono_tz::Europe::Paris, sunday)
            .await
            .unwrap();
        chats.push(chat);
    }
    peer.post("/_peer/block", json!({ "chat_id": 6006 })).await;
    let clock = TestClock::at(monday);
    assert_eq!(scheduler::enqueue_due(store.as_ref(), monday).await.unwrap().enqueued, 2);
    let report =
        scheduler::drain(store.as_ref(), "worker-1", &notifier, &clock, &WorkerConfig::default()).await.unwrap();
    assert_eq!((report.sent, report.paused), (1, 1), "{report:?}");

    let got = peer.sent(5005).await;
    assert!(all_text(&got).contains("semaine"), "the French summary arrived: {got:#?}");
    assert!(got.iter().any(|m| m["message"]["photo"].is_array()), "with its chart: {got:#?}");
    assert!(peer.sent(6006).await.is_empty());
    let blocked = store.schedule(runcoach_core::store::ScheduleKind::WeeklySummary, &chats[1]).await.unwrap().unwrap();
    assert!(!blocked.enabled, "a runner who blocked the bot is paused");
    // Nothing is sent twice: a second pass finds no due job.
    let again =
        scheduler::drain(store.as_ref(), "worker-2", &notifier, &clock, &WorkerConfig::default()).await.unwrap();
    assert_eq!(again.sent, 0);
    assert_eq!(peer.sent(5005).await.len(), got.len());
    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, json!([]), "Bot API violations: {violations:#}");
}

/// A runner connected to Garmin does nothing: the scheduler's sync brings the new runs, ticks the
/// plan's sessions off and tells the runner in one message through the real client, in their
/// language; a second instance finds nothing left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_garmin_sync_reaches_the_runner_through_telegram() {
    use chrono::Datelike;
    use runcoach_core::chat::ChatKey;
    use runcoach_core::domain::{Platform, PlatformIdentity};
    use runcoach_core::garmin::{self, TokenSealer};
    use runcoach_core::i18n::Lang;
    use runcoach_core::scheduler::{self, TestClock, WorkerConfig};
    use runcoach_core::{plan, plans};

    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let config = TelegramConfig { token: SecretString::from(TOKEN), api_url: Some(peer.url.parse().unwrap()) };
    let notifier = runcoach_telegram::TelegramNotifier::new(runcoach_telegram::bot(&config));
    let now = chrono::Utc::now();
    let newest = now - chrono::Duration::hours(20);
    let (client, _garmin) = garmin_fake::serve(garmin_fake::Fake {
        activities: garmin_fake::activities(900, 7, newest),
        ..garmin_fake::Fake::default()
    })
    .await;
    let sealer = TokenSealer::from_key(&[9; 32]);
    let ident = PlatformIdentity { platform: Platform::Telegram, platform_user_id: "7007".into() };
    let user = store.resolve_identity(&ident, Some("runner"), Lang::Fr).await.unwrap().user.id;
    garmin::save_tokens(store.as_ref(), &sealer, user, &garmin_fake::logged_in(&client).await).await.unwrap();
    let today = now.date_naive();
    let start = today - chrono::Duration::days(10);
    let start = start - chrono::Duration::days(i64::from(start.weekday().num_days_from_monday()));
    let request = plan::PlanRequest {
        goal: plan::Goal::TenK,
        level: Some(plan::Level::Intermediate),
        sessions_per_week: 3,
        preferred_days: vec![chrono::Weekday::Tue, chrono::Weekday::Thu, chrono::Weekday::Sun],
        start_date: start,
        length: plan::PlanLength::Weeks(8),
        vdot: Some(45.0),
        target_time_s: None,
        history: None,
    };
    plans::save_new(store.as_ref(), user, &plan::generate(&request).unwrap()).await.unwrap();
    let chat = ChatKey { platform: Platform::Telegram, chat_id: "7007".into() };
    scheduler::enable_garmin_sync(store.as_ref(), user, &chat, 3, now - chrono::Duration::hours(4)).await.unwrap();

    let worker = WorkerConfig {
        garmin: Some(garmin::GarminAccess { client: client.clone(), sealer: sealer.clone() }),
        ..WorkerConfig::default()
    };
    let clock = TestClock::at(now);
    assert_eq!(scheduler::enqueue_due(store.as_ref(), now).await.unwrap().enqueued, 1);
    let report = scheduler::drain(store.as_ref(), "worker-1", &notifier, &clock, &worker).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");

    let got = peer.sent(7007).await;
    assert_eq!(got.len(), 1, "one message per sync: {got:#?}");
    let text = all_text(&got);
    assert!(text.contains("7 nouvelles activités"), "{text}");
    let done = plans::active(store.as_ref(), user)
        .await
        .unwrap()
        .unwrap()
        .plan
        .workouts()
        .filter(|w| w.status == plan::WorkoutStatus::Done)
        .count();
    assert!(done >= 2, "{done}");
    assert_eq!(text.matches("✅ Séance validée, ").count(), done, "{text}");
    // Another instance's worker finds nothing due and sends nothing.
    let again = scheduler::drain(store.as_ref(), "worker-2", &notifier, &clock, &worker).await.unwrap();
    assert_eq!(again.sent, 0);
    assert_eq!(peer.sent(7007).await.len(), 1);
    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, json!([]), "Bot API violations: {violations:#}");
}

/// What Telegram does to a bot on a bad day: flood control (429 with `retry_after`), a 60 MB
/// document, an edited message, a voice note. Each gets the right behaviour and nothing crashes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_control_big_files_and_edits() {
    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let core = Arc::new(BotCore::new(store.clone()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let config = TelegramConfig { token: SecretString::from(TOKEN), api_url: Some(peer.url.parse().unwrap()) };
    let bot = tokio::spawn(run(core, config, async move {
        let _ = stop_rx.await;
    }));
    let noor = TgUser { id: 9009, name: "Noor", lang: "en" };
    let chat = private_chat(&noor);
    say(&peer, &noor, chat.clone(), "/start").await;
    peer.wait_for(9009, 0, "welcome", |m| text(m).contains("Welcome Noor")).await;

    // 429: the reply waits `retry_after` and then arrives once.
    peer.post("/_peer/flood", json!({ "chat_id": 9009, "count": 1, "retry_after": 2 })).await;
    let n = peer.sent(9009).await.len();
    say(&peer, &noor, chat.clone(), "/help").await;
    let got = peer.wait_for(9009, n, "help after flood control", |m| text(m).contains("What I can do")).await;
    assert_eq!(got.iter().filter(|m| text(m).contains("What I can do")).count(), 1, "{got:#?}");
    let log = peer.get("/_peer/flood_log").await;
    let refused = log["refused"][0]["at"].as_i64().unwrap();
    let accepted = log["accepted"][0]["at"].as_i64().unwrap();
    assert!(accepted - refused >= 1_900, "retry_after honoured: {}ms", accepted - refused);

    // A reply of two messages (the export: a text, then a file) whose second message meets a 429,
    // then a 502 from the proxy in front of Telegram: the file is sent again, the text only once.
    for (flood, what) in [
        (json!({ "chat_id": 9009, "skip": 1, "count": 1, "retry_after": 1 }), "429"),
        (json!({ "chat_id": 9009, "skip": 1, "count": 1, "status": 502 }), "502"),
    ] {
        peer.post("/_peer/flood", flood).await;
        let n = peer.sent(9009).await.len();
        say(&peer, &noor, chat.clone(), "/export").await;
        peer.wait_for(9009, n, "the export's file", |m| m["message"].get("document").is_some()).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got = peer.sent(9009).await.split_off(n);
        let texts = got.iter().filter(|m| text(m).contains("everything I store about you")).count();
        let files = got.iter().filter(|m| m["message"].get("document").is_some()).count();
        assert_eq!((texts, files), (1, 1), "after a {what} on the file: {got:#?}");
    }
    let log = peer.get("/_peer/flood_log").await;
    let refused: Vec<&str> = log["refused"].as_array().unwrap().iter().filter_map(|r| r["method"].as_str()).collect();
    assert_eq!(refused.get(1..), Some(&["sendDocument", "sendDocument"][..]), "{log}");

    // A 60 MB document is refused by its announced size, before any download.
    let n = peer.sent(9009).await.len();
    peer.post(
        "/_peer/sendDocument",
        json!({ "token": TOKEN, "chat_id": 9009, "from": noor.json(), "file_name": "year.zip",
                "mime_type": "application/zip", "fake_size": 60 * 1024 * 1024 }),
    )
    .await;
    let got = peer.wait_for(9009, n, "too large", |m| text(m).contains("MB")).await;
    assert!(all_text(&got).contains("60") && all_text(&got).contains("25"), "{}", all_text(&got));
    assert_eq!(peer.get("/_peer/getfile_calls").await, json!([]), "nothing downloaded");

    // A voice note gets a clear answer.
    let n = peer.sent(9009).await.len();
    peer.post(
        "/sendMessage",
        json!({ "botToken": TOKEN, "from": noor.json(), "chat": chat, "date": now(),
                // As Telegram sends it (teloxide needs mime_type on voice notes).
                "voice": { "file_id": "v1", "file_unique_id": "v1u", "duration": 3, "mime_type": "audio/ogg", "file_size": 5120 } }),
    )
    .await;
    peer.wait_for(9009, n, "voice answer", |m| text(m).contains("I can only read text")).await;

    // An edited message is not run again: the runner is told to send a new one.
    let n = peer.sent(9009).await.len();
    peer.post(
        "/_peer/editMessage",
        json!({ "from": noor.json(), "chat_id": 9009, "message_id": 1, "text": "/forget" }),
    )
    .await;
    let got = peer.wait_for(9009, n, "edit notice", |m| text(m).contains("edited messages")).await;
    assert!(!all_text(&got).contains("permanently"), "the edit did not start /forget: {}", all_text(&got));

    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, json!([]), "Bot API violations: {violations:#}");
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(40), bot).await.expect("adapter stops on shutdown").unwrap().unwrap();
}

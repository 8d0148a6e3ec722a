//! The weather around a runner's session, on both stores, against a local server answering
//! Open-Meteo's documented shapes (forecast: parallel `hourly` arrays in GMT; geocoding:
//! `results`, absent when nothing matches): places by name or coordinates (rounded to ~1 km),
//! `/today` with the forecast and the advice it calls for, one request per area and hour for every
//! runner and instance, the session without weather (said plainly) when the service is down or
//! slow, and the morning reminder, once a day, through the scheduler.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Paris;
use runcoach_core::chat::{BotCore, Reply};
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::error::ErrorCode;
use runcoach_core::i18n::Lang;
use runcoach_core::message::{ChatKey, Notifier, NotifyError};
use runcoach_core::plan::{self, Goal, Level, Plan, PlanLength, PlanRequest};
use runcoach_core::plans;
use runcoach_core::scheduler::{Clock, TestClock, WorkerConfig, enqueue_due, run_once_with};
use runcoach_core::science::weather::heat_slowdown_pct;
use runcoach_core::store::{ScheduleKind, Store};
use runcoach_core::weather::{WeatherConfig, WeatherService};
use serde_json::{Value, json};
use support::{Runner, TestStore, button, joined};

// ---------------------------------------------------------------- a local Open-Meteo

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    /// Answers after 5 s: longer than the 2 s budget.
    Slow,
}

struct Meteo {
    forecasts: AtomicUsize,
    searches: AtomicUsize,
    mode: Mutex<Mode>,
    /// The day the forecast covers (two days from its midnight, GMT).
    day: Mutex<NaiveDate>,
    /// Felt temperature every hour (the air 2 °C cooler), °C.
    felt: Mutex<f64>,
    code: Mutex<u16>,
    asked: Mutex<Vec<HashMap<String, String>>>,
}

type Shared = Arc<Meteo>;

async fn forecast(State(m): State<Shared>, Query(q): Query<HashMap<String, String>>) -> axum::Json<Value> {
    m.forecasts.fetch_add(1, Ordering::SeqCst);
    m.asked.lock().unwrap().push(q);
    if *m.mode.lock().unwrap() == Mode::Slow {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let day = *m.day.lock().unwrap();
    let felt = *m.felt.lock().unwrap();
    let code = *m.code.lock().unwrap();
    let time: Vec<String> = (0..48)
        .map(|h| (day.and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::hours(h)).format("%Y-%m-%dT%H:%M").to_string())
        .collect();
    // Cooler early in the morning (03:00–05:00 GMT, 05:00–07:00 in Paris in summer).
    let felt_at = |h: usize| if (3..=5).contains(&(h % 24)) { felt - 8.0 } else { felt };
    axum::Json(json!({
        "latitude": 45.76, "longitude": 4.84, "generationtime_ms": 0.2, "utc_offset_seconds": 0,
        "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 170.0,
        "hourly_units": { "time": "iso8601", "temperature_2m": "°C", "apparent_temperature": "°C", "wind_speed_10m": "km/h" },
        "hourly": {
            "time": time,
            "temperature_2m": (0..48).map(|h| felt_at(h) - 2.0).collect::<Vec<_>>(),
            "apparent_temperature": (0..48).map(felt_at).collect::<Vec<_>>(),
            "relative_humidity_2m": vec![55; 48],
            "precipitation_probability": vec![5; 48],
            "precipitation": vec![0.0; 48],
            "weather_code": vec![code; 48],
            "wind_speed_10m": vec![8.0; 48],
            "wind_gusts_10m": vec![15.0; 48],
        }
    }))
}

async fn search(State(m): State<Shared>, Query(q): Query<HashMap<String, String>>) -> axum::Json<Value> {
    m.searches.fetch_add(1, Ordering::SeqCst);
    let name = q.get("name").cloned().unwrap_or_default();
    if name.eq_ignore_ascii_case("lyon") {
        axum::Json(json!({
            "results": [{
                "id": 2_996_944, "name": "Lyon", "latitude": 45.748_46, "longitude": 4.846_71, "elevation": 173.0,
                "feature_code": "PPLA", "country_code": "FR", "timezone": "Europe/Paris", "population": 522_969,
                // Names come in the language asked for; without one the test would see it.
                "country": match q.get("language").map(String::as_str) { Some("fr" | "en") => "France", _ => "no language asked" },
                "admin1": "Auvergne-Rhône-Alpes"
            }],
            "generationtime_ms": 0.9
        }))
    } else {
        // Open-Meteo leaves `results` out when nothing matches.
        axum::Json(json!({ "generationtime_ms": 0.4 }))
    }
}

/// A local Open-Meteo and a weather service pointed at it.
async fn meteo(day: NaiveDate, felt: f64) -> (Arc<WeatherService>, Shared) {
    let m: Shared = Arc::new(Meteo {
        forecasts: AtomicUsize::new(0),
        searches: AtomicUsize::new(0),
        mode: Mutex::new(Mode::Normal),
        day: Mutex::new(day),
        felt: Mutex::new(felt),
        code: Mutex::new(1),
        asked: Mutex::new(Vec::new()),
    });
    let app = Router::new().route("/v1/forecast", get(forecast)).route("/v1/search", get(search)).with_state(m.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = WeatherConfig {
        forecast_url: format!("{base}/v1/forecast"),
        geocoding_url: format!("{base}/v1/search"),
        ..WeatherConfig::default()
    };
    (Arc::new(WeatherService::new(config).unwrap()), m)
}

/// A weather service whose server is gone (a port nobody listens on).
async fn dead_weather() -> Arc<WeatherService> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = WeatherConfig {
        forecast_url: format!("{base}/v1/forecast"),
        geocoding_url: format!("{base}/v1/search"),
        ..WeatherConfig::default()
    };
    Arc::new(WeatherService::new(config).unwrap())
}

// ---------------------------------------------------------------- runners and plans

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn paris(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Paris.with_ymd_and_hms(y, m, day, h, min, 0).earliest().unwrap().with_timezone(&Utc)
}

/// `day` at `h:min` in Paris.
fn on(day: NaiveDate, h: u32, min: u32) -> DateTime<Utc> {
    Paris.from_local_datetime(&day.and_hms_opt(h, min, 0).unwrap()).earliest().unwrap().with_timezone(&Utc)
}

/// A 10K plan from Monday 6 July 2026 on Tuesday, Thursday and Sunday, with paces.
fn summer_plan() -> Plan {
    plan::generate(&PlanRequest {
        goal: Goal::TenK,
        level: Some(Level::Intermediate),
        sessions_per_week: 3,
        preferred_days: vec![Weekday::Tue, Weekday::Thu, Weekday::Sun],
        start_date: d(2026, 7, 6),
        length: PlanLength::Weeks(10),
        vdot: Some(45.0),
        target_time_s: None,
        history: None,
    })
    .unwrap()
}

async fn runner(store: &dyn Store, id: &str, lang: Lang) -> UserId {
    let identity = PlatformIdentity { platform: Platform::Telegram, platform_user_id: id.to_owned() };
    store.resolve_identity(&identity, Some(id), lang).await.unwrap().user.id
}

fn core_at(store: Arc<dyn Store>, weather: Option<Arc<WeatherService>>, now: DateTime<Utc>) -> BotCore {
    BotCore::new(store).with_clock(Arc::new(TestClock::at(now))).with_weather(weather)
}

// ---------------------------------------------------------------- tests on both stores

/// A place by name or by coordinates is kept rounded to ~1 km; an unknown place, impossible
/// coordinates and a dead service each get a clear answer and change nothing.
async fn places_are_found_rounded_and_refused_clearly(t: TestStore) {
    let (weather, m) = meteo(d(2026, 7, 7), 20.0).await;
    let lea_id = runner(t.store.as_ref(), "lea", Lang::Fr).await;
    let core = core_at(t.store.clone(), Some(weather), paris(2026, 7, 7, 6, 0));
    let lea = Runner::new(&core, Platform::Telegram, "lea", Some("fr"));

    let saved = lea.say("/profile location Lyon").await;
    assert!(saved.contains("Lyon (Auvergne-Rhône-Alpes, France)") && saved.contains("kilomètre"), "{saved}");
    let stored = t.store.get_user(lea_id).await.unwrap().location.unwrap();
    assert_eq!((stored.lat(), stored.lon(), stored.name()), (45.75, 4.85, Some("Lyon")));
    assert_eq!(m.asked.lock().unwrap().len(), 0, "saving a place fetches no forecast");
    assert_eq!(m.searches.load(Ordering::SeqCst), 1);
    let search_lang = lea.say("/profile location").await;
    assert!(search_lang.contains("Lyon"), "{search_lang}");

    // A multi-word unknown place: nothing changes.
    let unknown = lea.say("/profile location Nulle Part Sur Terre").await;
    assert!(unknown.contains("Je ne trouve pas « Nulle Part Sur Terre »"), "{unknown}");
    assert_eq!(t.store.get_user(lea_id).await.unwrap().location.unwrap().name(), Some("Lyon"));
    // Coordinates (what a Telegram location becomes), at sea too: rounded, no search.
    let sea = lea.say("/profile location 43.123456,5.654321").await;
    assert!(sea.contains("43.12,5.65"), "{sea}");
    assert_eq!(m.searches.load(Ordering::SeqCst), 2, "coordinates need no search");
    let bad = lea.say("/profile location 95,200").await;
    assert!(bad.contains("latitude va de -90 à 90"), "{bad}");
    assert_eq!(t.store.get_user(lea_id).await.unwrap().location.unwrap().area(), "43.12,5.65");
    // The rest of the profile still parses as before.
    assert!(lea.say("/profile poids 61").await.contains("61"));

    let dead = core_at(t.store.clone(), Some(dead_weather().await), paris(2026, 7, 7, 6, 0));
    let lea_dead = Runner::new(&dead, Platform::Telegram, "lea", Some("fr"));
    let down = lea_dead.say("/profile location Lyon").await;
    assert!(down.contains("Je n'arrive pas à chercher ce lieu"), "{down}");
    assert_eq!(t.store.get_user(lea_id).await.unwrap().location.unwrap().area(), "43.12,5.65");

    let off = lea.say("/profile location off").await;
    assert!(off.contains("Lieu effacé"), "{off}");
    assert!(t.store.get_user(lea_id).await.unwrap().location.is_none());
}

/// `/today` on a hot day with a quality session: the forecast at the runner's usual hour, how
/// much slower (the amount computed from the felt temperature, with the slower pace band), the
/// cooler hour of the morning, and the hard session turned easy above 28 °C felt; in English too.
async fn today_speaks_of_the_heat_with_numbers(t: TestStore) {
    let p = summer_plan();
    let hard = p.workouts().find(|w| w.kind.is_hard() && w.pace_s_per_km.is_some()).unwrap().clone();
    let felt = 31.0;
    let (weather, m) = meteo(hard.date, felt).await;
    for (id, lang) in [("noa", "fr"), ("sam", "en")] {
        let uid = runner(t.store.as_ref(), id, if lang == "fr" { Lang::Fr } else { Lang::En }).await;
        plans::save_new(t.store.as_ref(), uid, &p).await.unwrap();
    }
    let now = on(hard.date, 6, 30);
    let core = core_at(t.store.clone(), Some(weather.clone()), now);
    let noa = Runner::new(&core, Platform::Telegram, "noa", Some("fr"));
    assert!(noa.say("/profile timezone Europe/Paris").await.contains("Europe/Paris"));
    noa.say("/profile location 45.76,4.84").await;
    let today = noa.send("/today").await;
    let text = joined(&today);
    let slower = heat_slowdown_pct(felt);
    assert!(text.contains(&format!("ralentis d'environ {slower:.0} %")), "{text}");
    assert!(text.contains("ressenti 31 °C"), "{text}");
    assert!(text.contains("à 08:00"), "no history: the default hour, on the runner's clock: {text}");
    assert!(text.contains("Plus frais à 07:00 (ressenti 23 °C)"), "{text}");
    assert!(text.contains("remplace la séance dure par un footing facile"), "{text}");
    let band = hard.pace_s_per_km.unwrap();
    let f = 1.0 + slower / 100.0;
    let slow_min = runcoach_core::science::Pace::new(band.min.s_per_km() * f).unwrap().rounded().to_string();
    assert!(text.contains(&slow_min), "the slower band starts at {slow_min}: {text}");
    assert!(text.contains(hard.description.fr.as_str()), "the session itself is there: {text}");
    assert_eq!(button(&today, "montre"), format!("plan:watch:{}", hard.date));
    // The forecast asked for is the rounded area, hourly, in GMT.
    let q = m.asked.lock().unwrap()[0].clone();
    assert_eq!((q["latitude"].as_str(), q["longitude"].as_str(), q["timezone"].as_str()), ("45.76", "4.84", "GMT"));
    assert!(q["hourly"].contains("apparent_temperature"));

    let sam = Runner::new(&core, Platform::Telegram, "sam", Some("en"));
    sam.say("/profile timezone Europe/Paris").await;
    sam.say("/profile location 45.76,4.84").await;
    let text = sam.say("/today").await;
    assert!(text.contains(&format!("slow down by about {slower:.0} %")) && text.contains("feels like 31 °C"), "{text}");
    // Same area, same hour: the second runner's forecast came from the store.
    assert_eq!(m.forecasts.load(Ordering::SeqCst), 1, "one request per area and hour");
    // Another instance (its own pool, the same database) shares it too.
    let other = core_at(t.second_instance().await, Some(weather), now);
    let sam2 = Runner::new(&other, Platform::Telegram, "sam", Some("en"));
    assert!(sam2.say("/today").await.contains("feels like 31 °C"));
    assert_eq!(m.forecasts.load(Ordering::SeqCst), 1, "shared by instances");
}

/// The weather service down or slow (over the 2 s budget): the session comes, the weather is
/// said to be unavailable; no place yet: how to add one.
async fn the_session_comes_without_weather_when_the_service_fails(t: TestStore) {
    let p = summer_plan();
    let w = p.workouts().find(|w| w.kind.is_running()).unwrap().clone();
    let uid = runner(t.store.as_ref(), "ivy", Lang::En).await;
    plans::save_new(t.store.as_ref(), uid, &p).await.unwrap();
    let now = Utc.from_utc_datetime(&w.date.and_hms_opt(5, 0, 0).unwrap());

    let (slow, m) = meteo(w.date, 12.0).await;
    let core = core_at(t.store.clone(), Some(slow), now);
    let ivy = Runner::new(&core, Platform::Telegram, "ivy", Some("en"));
    let hint = ivy.say("/today").await;
    assert!(hint.contains("/profile location Lyon") && hint.contains(w.description.en.as_str()), "{hint}");
    ivy.say("/profile location 51.51,-0.13").await;
    *m.mode.lock().unwrap() = Mode::Slow;
    let started = std::time::Instant::now();
    let text = ivy.say("/today").await;
    assert!(text.contains("weather is unavailable right now") && text.contains(w.description.en.as_str()), "{text}");
    // Not a timing assertion on speed: the fake answers after 5 s, so an answer sooner proves
    // the budget cut the wait rather than the fake answering.
    assert!(started.elapsed() < Duration::from_secs(5), "the 2 s budget applies");

    let dead = core_at(t.store.clone(), Some(dead_weather().await), now);
    let text = Runner::new(&dead, Platform::Telegram, "ivy", Some("en")).say("/today").await;
    assert!(text.contains("weather is unavailable right now") && text.contains(w.description.en.as_str()), "{text}");
    // Nothing was cached from the failures.
    assert!(t.store.cached_forecast("51.51,-0.13", now).await.unwrap().is_none());
}

#[derive(Default)]
struct Recorder {
    sent: tokio::sync::Mutex<Vec<(ChatKey, Vec<Reply>)>>,
}

#[async_trait]
impl Notifier for Recorder {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        self.sent.lock().await.push((chat.clone(), replies.to_vec()));
        Ok(())
    }
}

/// `/remind on 06:30`: at 06:30 on the runner's clock the scheduler sends the day's session with
/// its weather and the watch button, once however many passes; nothing on a rest day; `/remind
/// off` stops it; a group cannot set one.
async fn the_morning_reminder_comes_once_with_the_weather(t: TestStore) {
    let store = t.store.as_ref();
    let p = summer_plan();
    let session = p.workouts().find(|w| w.kind.is_running()).unwrap().clone();
    let (weather, _m) = meteo(session.date - chrono::Duration::days(1), 2.0).await;
    let uid = runner(store, "zoe", Lang::Fr).await;
    plans::save_new(store, uid, &p).await.unwrap();
    // Set on Sunday evening, before the plan starts.
    let set_at = paris(2026, 7, 5, 20, 0);
    let core = core_at(t.store.clone(), Some(weather.clone()), set_at);
    let zoe = Runner::new(&core, Platform::Telegram, "zoe", Some("fr"));
    zoe.say("/profile timezone Europe/Paris").await;
    zoe.say("/profile location 45.76,4.84").await;
    let on = zoe.say("/remind on 6h30").await;
    assert!(on.contains("06:30 (Europe/Paris)"), "{on}");
    let group = Runner::new(&core, Platform::Telegram, "zoe", Some("fr")).in_group("club");
    assert_eq!(group.say("/remind on").await, ErrorCode::PrivateChatOnly.message(Lang::Fr), "a group gets no reminder");
    let chat = ChatKey { platform: Platform::Telegram, chat_id: "chat-zoe".into() };
    assert!(store.schedule(ScheduleKind::MorningReminder, &chat).await.unwrap().unwrap().enabled);

    let config = WorkerConfig { weather: Some(weather), ..WorkerConfig::default() };
    let notifier = Recorder::default();
    // Monday 6 July is a rest day: the reminder fires and sends nothing.
    let monday = TestClock::at(paris(2026, 7, 6, 6, 31));
    assert_eq!(enqueue_due(store, monday.now()).await.unwrap().enqueued, 1);
    let r = run_once_with(store, "w", &notifier, &monday, &config).await.unwrap();
    assert_eq!((r.sent, r.quiet), (0, 1), "{r:?}");
    // Tuesday 06:31, the session's day: one reminder, then nothing more that day.
    let tuesday = TestClock::at(paris(2026, 7, 7, 6, 31));
    assert_eq!(session.date, d(2026, 7, 7));
    assert_eq!(enqueue_due(store, tuesday.now()).await.unwrap().enqueued, 1);
    let r = run_once_with(store, "w", &notifier, &tuesday, &config).await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(enqueue_due(store, tuesday.now()).await.unwrap().enqueued, 0);
    assert_eq!(run_once_with(store, "w2", &notifier, &tuesday, &config).await.unwrap().claimed, 0);
    let sent = notifier.sent.lock().await.clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, chat);
    let text = joined(&sent[0].1);
    assert!(text.contains("Ta séance du jour") && text.contains(session.description.fr.as_str()), "{text}");
    assert!(text.contains("ressenti 2 °C") && text.contains("habille-toi comme s'il faisait 10 °C de plus"), "{text}");
    assert_eq!(button(&sent[0].1, "montre"), format!("plan:watch:{}", session.date));

    assert!(zoe.say("/remind off").await.contains("désactivé"));
    let wednesday = TestClock::at(paris(2026, 7, 8, 6, 31));
    assert_eq!(enqueue_due(store, wednesday.now()).await.unwrap().enqueued, 0);
}

/// The LLM coach asked about today's run reads the same forecast and advice through its
/// `todays_weather` tool, bound to the caller: the model never names a place or a runner.
async fn the_coach_reads_todays_weather_through_its_tool(t: TestStore) {
    use runcoach_core::agent::{Agent, LlmConfig};
    use support::llm_fake::{LlmServer, Scripted, call};
    let p = summer_plan();
    let hard = p.workouts().find(|w| w.kind.is_hard() && w.pace_s_per_km.is_some()).unwrap().clone();
    let (weather, _m) = meteo(hard.date, 30.0).await;
    let uid = runner(t.store.as_ref(), "eli", Lang::En).await;
    plans::save_new(t.store.as_ref(), uid, &p).await.unwrap();
    let llm = LlmServer::start(vec![
        Scripted::Calls(vec![call("todays_weather", json!({ "place": "Paris", "user": "someone-else" }))]),
        Scripted::Text("It will be hot: slow down and go early.".into()),
    ])
    .await;
    let mut config = LlmConfig::new(&llm.url, "fake-coach");
    config.max_retries = 1;
    let core =
        core_at(t.store.clone(), Some(weather), on(hard.date, 6, 30)).with_agent(Some(Arc::new(Agent::new(config))));
    let eli = Runner::new(&core, Platform::Telegram, "eli", Some("en"));
    eli.say("/profile timezone Europe/Paris").await;
    eli.say("/profile location 45.76,4.84").await;
    let answer = eli.say("Should I change today's run with this weather?").await;
    assert!(answer.contains("It will be hot"), "{answer}");
    let requests = llm.requests();
    let tool: Vec<String> = requests[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    let result = &tool[0];
    assert!(result.contains("feels_like_c") && result.contains("30"), "{result}");
    assert!(result.contains("heat") && result.contains("too_hot_for_quality"), "advice codes: {result}");
    assert!(result.contains("45.76,4.84") && !result.contains("Paris"), "the caller's own place: {result}");
    assert!(result.contains(hard.kind.as_str()), "today's session: {result}");
}

on_both_stores!(
    the_coach_reads_todays_weather_through_its_tool,
    places_are_found_rounded_and_refused_clearly,
    today_speaks_of_the_heat_with_numbers,
    the_session_comes_without_weather_when_the_service_fails,
    the_morning_reminder_comes_once_with_the_weather,
);

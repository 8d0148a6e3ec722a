//! End to end at the wire: the real adapter (serenity's gateway client, HTTP client and
//! ratelimiter, poise's slash commands) against a local Discord API v10 (tests/support/fake.rs),
//! every REST body checked against Discord's OpenAPI description. The tests read what members
//! see: who sees which message, its text, its buttons and menus, its files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use runcoach_core::chat::ChatKey;
use runcoach_core::chat::{COMMANDS, GarminService};
use runcoach_core::domain::{Platform, PlatformIdentity};
use runcoach_core::garmin::TokenSealer;
use runcoach_core::scheduler::{self, Clock, TestClock};
use runcoach_core::store::ScheduleKind;
use runcoach_core::store::{NewActivity, Store};
use runcoach_discord::{DiscordNotifier, ShardRange};
use serde_json::{Value, json};
use support::fake::{BOT_ID, Msg, guild_on_shard};
use support::{Bot, Member, Options, fixture, garmin_fake, llm_fake};

fn text(msgs: &[Msg]) -> String {
    msgs.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n")
}

fn find<'a>(commands: &'a [Value], name: &str) -> &'a Value {
    commands.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("/{name} not registered"))
}

fn arg(name: &str, value: &str) -> Value {
    json!([{ "name": name, "type": 3, "value": value }])
}

fn ana() -> Member {
    Member::new(100_001, "Ana", "en-US")
}

fn bob() -> Member {
    Member::new(100_002, "Bob", "fr")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_registers_localised_commands_and_keeps_the_gateway_alive() {
    let bot = Bot::start(Options::default()).await;
    let fake = &bot.fake;
    let commands = fake.registered(Some(bot.guild));
    assert_eq!(commands.len(), COMMANDS.len(), "the whole command set, in the club's server");
    assert!(fake.registered(None).is_empty(), "per-guild registration only");
    let plan = find(&commands, "plan");
    // Whole, within Discord's 100 characters.
    assert_eq!(
        plan["description"],
        "Build a training plan step by step (goal, date, target time, days…); change or cancel it"
    );
    assert!(plan["description_localizations"]["fr"].as_str().unwrap().starts_with("Construire un plan"));
    assert_eq!(find(&commands, "help")["name_localizations"]["fr"], "aide");
    assert_eq!(find(&commands, "language")["options"][0]["choices"][0]["value"], "fr");
    let club = find(&commands, "club");
    let subs: Vec<&str> = club["options"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(subs, ["leaderboard", "join", "leave", "digest"]);
    assert_eq!(club["options"][0]["name_localizations"]["fr"], "classement");
    assert_eq!(club["contexts"], json!([0]), "clubs are servers: not offered in DMs");

    // Startup as Discord sees it: the gateway URL, the application, one IDENTIFY with the
    // intents the adapter needs (guilds and DMs, no privileged message content).
    let requests = fake.with(|s| s.requests.clone());
    assert!(requests.contains(&("GET".into(), "/gateway".into())), "{requests:?}");
    assert!(requests.contains(&("GET".into(), "/oauth2/applications/@me".into())), "{requests:?}");
    let identified = fake.with(|s| s.identified.clone());
    assert_eq!(identified, vec![(0, 1, 1 | (1 << 12))]);
    // Heartbeats every 400 ms (the HELLO's interval) are acknowledged and keep the session.
    fake.wait(10, "three heartbeats", |s| (s.heartbeats >= 3).then_some(())).await;
    assert_eq!(fake.with(|s| s.identified.len()), 1, "no reconnection");
    bot.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_commands_are_deferred_then_answered_and_personal_ones_are_ephemeral() {
    let bot = Bot::start(Options::default()).await;
    let (fake, ana, bob) = (&bot.fake, ana(), bob());

    // A personal command: deferred (ephemeral) at once, then the answer in place of the deferral.
    let ix = fake.slash(&ana, Some(bot.guild), bot.channel, "stats", json!([]));
    let answer = fake.answer(ix).await;
    let (kind, waited) = fake.interaction(ix).response.unwrap();
    assert_eq!(kind, 5, "a deferral");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(answer.len(), 1);
    assert!(answer[0].ephemeral());
    assert!(answer[0].content.contains("I don't have any runs yet"), "{}", answer[0].content);
    assert!(fake.visible(ana.id, bot.channel).iter().any(|m| m.id == answer[0].id));
    assert!(!fake.visible(bob.id, bot.channel).iter().any(|m| m.id == answer[0].id), "Bob cannot see Ana's stats");

    // A public command, in Bob's language (his Discord locale): everyone sees it.
    let ix = fake.slash(&bob, Some(bot.guild), bot.channel, "help", json!([]));
    let answer = fake.answer(ix).await;
    assert!(!answer[0].ephemeral());
    assert!(text(&answer).contains("Ce que je sais faire"), "{}", text(&answer));
    assert!(fake.visible(ana.id, bot.channel).iter().any(|m| m.id == answer[0].id));
    assert!(answer.iter().all(|m| m.content.chars().count() <= 2_000));

    // A button on a channel's message answers whoever presses it, for them alone, and stays for
    // the others.
    let ix = fake.slash(&ana, Some(bot.guild), bot.channel, "start", json!([]));
    let welcome = fake.answer(ix).await.remove(0);
    assert!(!welcome.ephemeral() && welcome.content.contains("Good to see you again, Ana!"), "{}", welcome.content);
    let press = fake.click(&bob, welcome.id, &welcome.button("Help"));
    let help = fake.answer(press).await;
    assert_eq!(fake.interaction(press).response.unwrap().0, 5, "an ephemeral deferral, not an update of Ana's message");
    assert!(help[0].ephemeral() && help[0].content.contains("Ce que je sais faire"), "{}", help[0].content);
    assert!(!fake.visible(ana.id, bot.channel).iter().any(|m| m.id == help[0].id));
    assert_eq!(fake.message(welcome.id).controls().len(), 2, "Ana's buttons stay for the others");

    // An answer of several replies: the first replaces the deferral, the others follow it.
    let ix = fake.slash(&ana, Some(bot.guild), bot.channel, "export", json!([]));
    let answer = fake.answer(ix).await;
    let file = answer.iter().flat_map(|m| m.files.clone()).next().expect("the export file");
    assert!(file.name.starts_with("runcoach-export-") && file.name.ends_with(".json"));
    let doc: Value = serde_json::from_slice(&file.bytes).unwrap();
    assert!(doc.is_object(), "{doc}");
    assert!(answer.iter().all(Msg::ephemeral), "the export is Ana's alone");
    bot.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_coach_is_deferred_within_three_seconds() {
    let llm = llm_fake::LlmServer::start(vec![llm_fake::Scripted::Slow(
        Duration::from_millis(3_600),
        Box::new(llm_fake::Scripted::Text("Taper: cut your volume by a third over the last two weeks.".into())),
    )])
    .await;
    let mut config = runcoach_core::agent::LlmConfig::new(&llm.url, "fake-coach");
    config.deadline = Duration::from_secs(10);
    config.max_retries = 0;
    let bot = Bot::start(Options { agent: Some(runcoach_core::agent::Agent::new(config)), ..Options::default() }).await;
    let fake = &bot.fake;
    let ix = fake.slash(
        &ana(),
        Some(bot.guild),
        bot.channel,
        "ask",
        arg("question", "How should I taper before a marathon?"),
    );
    let answer = fake.answer(ix).await;
    let i = fake.interaction(ix);
    let (kind, waited) = i.response.unwrap();
    assert_eq!(kind, 5);
    assert!(waited < Duration::from_secs(3), "acknowledged before the LLM answered (3.6 s): {waited:?}");
    assert!(answer[0].content.contains("cut your volume by a third"), "{}", answer[0].content);
    assert!(answer[0].at.duration_since(i.dispatched) > Duration::from_millis(3_500), "the LLM took 3.6 s");
    assert!(!answer[0].ephemeral(), "/ask is not personal: the channel sees the answer");
    bot.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_wizard_runs_on_buttons_and_a_select_menu() {
    let bot = Bot::start(Options::default()).await;
    let (fake, ana, bob) = (&bot.fake, ana(), bob());
    let ix = fake.slash(&ana, Some(bot.guild), bot.channel, "plan", json!([]));
    let goal = fake.answer(ix).await.remove(0);
    assert!(goal.ephemeral() && goal.content.contains("What is your goal?"), "{}", goal.content);
    assert_eq!(goal.controls().len(), 7, "seven goals as buttons");

    // A press updates the pressed message (its buttons go) and the next question follows.
    let press = fake.click(&ana, goal.id, &goal.button("10K"));
    let next = fake.answer(press).await;
    assert_eq!(fake.interaction(press).response.unwrap().0, 7, "UPDATE_MESSAGE");
    assert!(fake.message(goal.id).components.is_empty(), "the goal can't be chosen twice");
    let weeks = next.last().unwrap().clone();
    assert!(weeks.content.contains("When is your race?"), "{}", weeks.content);
    let target = fake.answer(fake.click(&ana, weeks.id, &weeks.button("8 weeks"))).await.remove(0);
    assert!(target.content.contains("Aiming for a time?"), "{}", target.content);
    let race = fake.answer(fake.click(&ana, target.id, &target.button("No target time"))).await.remove(0);
    assert!(race.content.contains("A recent race"), "no history: {}", race.content);
    let sessions = fake.answer(fake.click(&ana, race.id, &race.button("No recent race"))).await.remove(0);
    assert!(sessions.content.contains("How many runs a week?"));
    let days = fake.answer(fake.click(&ana, sessions.id, &sessions.button("3"))).await.remove(0);
    assert!(days.content.contains("Which days?"));
    let menu = days.controls().into_iter().find(|c| c["type"] == 3).expect("a select menu of days");
    assert_eq!((menu["min_values"].as_u64(), menu["max_values"].as_u64()), (Some(3), Some(7)));
    assert_eq!(menu["options"][0]["label"], "Monday");

    let picked = fake.select(&ana, days.id, menu["custom_id"].as_str().unwrap(), &["Tue", "Thu", "Sun"]);
    let level = fake.answer(picked).await.remove(0);
    assert!(level.content.contains("Your level?"), "{}", level.content);
    let plan = fake.answer(fake.click(&ana, level.id, &level.button("✓"))).await;
    let plan_text = text(&plan);
    assert!(plan_text.contains("10K plan — 8 weeks, 3 runs a week"), "{plan_text}");
    let last = plan.last().unwrap();
    let ics = fake.answer(fake.click(&ana, last.id, &last.button("Calendar"))).await;
    let file = ics.iter().flat_map(|m| m.files.clone()).next().expect("the calendar file");
    assert!(file.name.ends_with(".ics") && String::from_utf8_lossy(&file.bytes).contains("BEGIN:VEVENT"));

    // The week's sessions to the watch, as FIT workout files, for Ana alone.
    let week = fake.answer(fake.slash(&ana, Some(bot.guild), bot.channel, "week", json!([]))).await;
    let shown = week.last().unwrap().clone();
    assert!(shown.ephemeral());
    let sent = fake.answer(fake.click(&ana, shown.id, &shown.button("This week to my watch"))).await;
    let fits: Vec<_> = sent.iter().flat_map(|m| m.files.clone()).collect();
    assert!(!fits.is_empty() && fits.iter().all(|f| f.name.ends_with(".fit")), "{sent:?}");
    assert!(sent.iter().all(Msg::ephemeral));
    assert_eq!(
        runcoach_core::import::import_fit(&fits[0].bytes).map(|_| ()),
        Err(runcoach_core::import::ImportError::NotAnActivity { kind: "workout".into() })
    );

    // All of it was Ana's alone.
    let seen_by_bob = fake.visible(bob.id, bot.channel);
    assert!(seen_by_bob.iter().all(|m| !m.content.contains("plan") && !m.content.contains("goal")), "{seen_by_bob:?}");
    assert!(fake.visible(ana.id, bot.channel).iter().filter(|m| m.author == BOT_ID).all(Msg::ephemeral));
    bot.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garmin_credentials_and_the_code_go_through_modals() {
    let now = Utc::now();
    let activities = garmin_fake::activities(5_000, 3, now);
    let (client, _garmin) = garmin_fake::serve(garmin_fake::Fake { mfa: true, activities, ..Default::default() }).await;
    let service = GarminService::new(client, TokenSealer::from_key(&[7; 32]));
    let bot = Bot::start(Options { garmin: Some(service), ..Options::default() }).await;
    let (fake, ana) = (&bot.fake, ana());

    let ix = fake.slash(&ana, Some(bot.guild), bot.channel, "sync", json!([]));
    let ask = fake.answer(ix).await.remove(0);
    assert!(ask.ephemeral() && ask.content.contains("Let's connect your Garmin account"), "{}", ask.content);
    let open = fake.click(&ana, ask.id, &ask.button("Garmin Connect login"));
    fake.wait(10, "the modal", |s| s.interactions[&open].modal.clone()).await;
    assert_eq!(fake.interaction(open).response.unwrap().0, 9, "a MODAL answers the press");
    let modal = fake.interaction(open).modal.unwrap();
    assert_eq!(modal["title"], "Garmin Connect login");
    assert_eq!(modal["components"].as_array().unwrap().len(), 2);
    assert_eq!(modal["components"][1]["components"][0]["label"], "Password (never kept)");

    let submitted = fake.submit_modal(&ana, open, &[garmin_fake::EMAIL, garmin_fake::PASSWORD]);
    let code = fake.answer(submitted).await;
    assert_eq!(fake.interaction(submitted).response.unwrap().0, 5);
    assert!(text(&code).contains("verification code"), "{}", text(&code));
    let code = code.last().unwrap();
    let open = fake.click(&ana, code.id, &code.button("Garmin verification code"));
    fake.wait(10, "the code modal", |s| s.interactions[&open].modal.clone()).await;
    let done = fake.answer(fake.submit_modal(&ana, open, &[garmin_fake::MFA_CODE])).await;
    let done_text = text(&done);
    assert!(done_text.contains("Garmin account connected"), "{done_text}");
    assert!(done_text.contains("3 activities read, 3 new"), "{done_text}");
    assert!(done.len() >= 2, "the first reply replaces the deferral, the rest are follow-ups");
    assert!(done.iter().all(Msg::ephemeral));

    // The password was never shown to anyone nor stored.
    let everything: String = fake.with(|s| s.messages.iter().map(|m| m.content.clone()).collect());
    assert!(!everything.contains(garmin_fake::PASSWORD));
    let user = bot.store.find_user(&discord(ana.id)).await.unwrap().unwrap();
    let export = serde_json::to_string(&bot.store.export_user(user.id).await.unwrap()).unwrap();
    assert!(!export.contains(garmin_fake::PASSWORD));
    assert_eq!(bot.store.activities(user.id, None).await.unwrap().len(), 3);
    bot.assert_no_violations();
}

fn discord(id: u64) -> PlatformIdentity {
    PlatformIdentity { platform: Platform::Discord, platform_user_id: id.to_string() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_sent_in_dm_is_imported_and_the_summary_comes_with_its_chart() {
    let bot = Bot::start(Options::default()).await;
    let (fake, ana) = (&bot.fake, ana());
    let sent =
        fake.dm(&ana, "", vec![("run.fit", "application/octet-stream", fixture("fit/activity-small-fenix2-run.fit"))]);
    let dm = fake.dm_channel(ana.id);
    let reply = fake.bot_messages_after(dm, sent, 1).await;
    assert!(text(&reply).contains("✅ **Run**") && text(&reply).contains("9.01 km"), "{}", text(&reply));
    assert!(fake.with(|s| s.typing.contains(&dm)), "typing… while importing");

    let user = bot.store.find_user(&discord(ana.id)).await.unwrap().unwrap();
    assert_eq!(bot.store.activities(user.id, None).await.unwrap().len(), 1);

    // In a server, `/import` takes the file as an attachment, and answers Bob alone.
    let bob = bob();
    let (file, resolved) =
        fake.upload("sortie.fit", "application/octet-stream", fixture("fit/activity-small-fenix2-run.fit"));
    let option = json!([{ "name": "file", "type": 11, "value": file.to_string() }]);
    let ix = fake.slash_with(&bob, Some(bot.guild), bot.channel, "import", option, resolved);
    let imported = fake.answer(ix).await;
    assert!(imported[0].ephemeral(), "Bob's run is his own business");
    assert!(
        imported[0].content.contains("✅ **Course**") && imported[0].content.contains("9,01 km"),
        "{}",
        imported[0].content
    );
    let bob_user = bot.store.find_user(&discord(bob.id)).await.unwrap().unwrap();
    assert_eq!(bot.store.activities(bob_user.id, None).await.unwrap().len(), 1);
    // Text in DMs goes to the core as typed; the weekly summary comes with its chart as a PNG.
    let sent = fake.dm(&ana, "/summary now", vec![]);
    let summary = fake.bot_messages_after(dm, sent, 1).await;
    let chart = summary.iter().flat_map(|m| m.files.clone()).next().expect("the chart");
    assert!(chart.name.ends_with(".png"), "{}", chart.name);
    assert_eq!(&chart.bytes[..8], b"\x89PNG\r\n\x1a\n");
    // The one place serenity's payload departs from the description: it numbers new uploads
    // `{"id": 0}` where the description wants a string snowflake (Discord takes both).
    let leniencies = fake.with(|s| s.leniencies.clone());
    assert!(
        !leniencies.is_empty() && leniencies.iter().all(|l| l.contains(" request: /attachments/")),
        "{leniencies:?}"
    );
    bot.assert_no_violations();
}

async fn run_today(store: &dyn Store, member: &Member, km: f64, minutes_ago: i64) {
    let user = store.find_user(&discord(member.id)).await.unwrap().unwrap();
    let activity = NewActivity {
        source: "test".into(),
        external_id: Some(format!("{}-{minutes_ago}", member.id)),
        sport: runcoach_core::science::ActivityKind::Running,
        start_time: Utc::now() - chrono::Duration::minutes(minutes_ago),
        duration_s: km * 330.0,
        distance_m: Some(km * 1000.0),
        avg_hr: Some(150.0),
        ..NewActivity::default()
    };
    store.insert_activity(user.id, &activity).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_club_leaderboard_with_three_members_and_the_weekly_digest() {
    let bot = Bot::start(Options::default()).await;
    let fake = &bot.fake;
    let (ana, bob, cyril) = (ana(), bob(), Member::new(100_003, "Cyril", "fr"));
    let malik = Member::new(100_004, "Malik", "en-GB").admin();
    let join = |who: &Member, hidden: bool| {
        let options = if hidden { json!([{ "name": "hidden", "type": 5, "value": true }]) } else { json!([]) };
        fake.slash(
            who,
            Some(bot.guild),
            bot.channel,
            "club",
            json!([{ "name": "join", "type": 1, "options": options }]),
        )
    };
    let joined = fake.answer(join(&ana, false)).await;
    assert!(joined[0].ephemeral() && joined[0].content.contains("Welcome to the club"), "{}", joined[0].content);
    assert!(fake.answer(join(&bob, true)).await[0].content.contains("sans apparaître au classement"));
    assert!(fake.answer(join(&cyril, false)).await[0].content.contains("Bienvenue au club"));
    run_today(bot.store.as_ref(), &ana, 10.0, 5).await;
    run_today(bot.store.as_ref(), &ana, 8.0, 3).await;
    run_today(bot.store.as_ref(), &bob, 30.0, 4).await;
    run_today(bot.store.as_ref(), &cyril, 12.0, 2).await;

    let ix = fake.slash(
        &bob,
        Some(bot.guild),
        bot.channel,
        "club",
        json!([{ "name": "leaderboard", "type": 1, "options": [{ "name": "period", "type": 3, "value": "week" }] }]),
    );
    let board = fake.answer(ix).await;
    assert!(!board[0].ephemeral(), "the leaderboard is for the whole channel");
    let board_text = text(&board);
    assert!(board_text.contains("Classement du club — cette semaine"), "in Bob's language: {board_text}");
    assert!(board_text.contains("🥇 Ana — 18,0 km · 1 h 39 · 2 sorties"), "{board_text}");
    assert!(board_text.contains("🥈 Cyril — 12,0 km · 1 h 06 · 1 sortie"), "{board_text}");
    assert!(!board_text.contains("Bob") && !board_text.contains("30,0"), "Bob is hidden: {board_text}");
    assert!(!board_text.contains("bpm"), "nothing but distance, time and runs: {board_text}");
    for who in [&ana, &cyril, &malik] {
        assert!(fake.visible(who.id, bot.channel).iter().any(|m| m.id == board[0].id));
    }

    // Only an admin chooses the digest's channel.
    let digest = |who: &Member| {
        let options = json!([{ "name": "channel", "type": 7, "value": bot.channel.to_string() }]);
        fake.slash(
            who,
            Some(bot.guild),
            bot.channel,
            "club",
            json!([{ "name": "digest", "type": 1, "options": options }]),
        )
    };
    let refused = fake.answer(digest(&bob)).await;
    assert!(refused[0].content.contains("Seuls les administrateurs"), "{}", refused[0].content);
    let chat = ChatKey { platform: Platform::Discord, chat_id: bot.channel.to_string() };
    assert!(bot.store.schedule(ScheduleKind::ClubDigest, &chat).await.unwrap().is_none());
    let set = fake.answer(digest(&malik)).await;
    assert!(set[0].ephemeral() && set[0].content.contains(&format!("<#{}>", bot.channel)), "{}", set[0].content);
    let schedule = bot.store.schedule(ScheduleKind::ClubDigest, &chat).await.unwrap().expect("the digest is scheduled");
    assert_eq!(schedule.guild_id, Some(bot.guild.to_string()));

    // Monday comes: the scheduler posts the digest in the channel through the Discord notifier.
    let clock = TestClock::at(schedule.next_run_at.unwrap() + chrono::Duration::minutes(1));
    assert_eq!(scheduler::enqueue_due(bot.store.as_ref(), clock.now()).await.unwrap().enqueued, 1);
    let notifier = DiscordNotifier::new(Arc::new(runcoach_discord::http(&bot.config)));
    let before = fake.with(|s| s.messages.iter().map(|m| m.id).max().unwrap_or(0));
    let report = scheduler::run_once(bot.store.as_ref(), "w1", &notifier, &clock).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let posted = fake.bot_messages_after(bot.channel, before, 1).await;
    let digest_text = text(&posted);
    // Bob, the one hidden member who ran, is left out of the totals: the total less the
    // leaderboard would be his distance.
    assert!(digest_text.contains("Active runners: 3 / 3 · 3 runs · **30.0 km** (opted-in members)"), "{digest_text}");
    assert!(digest_text.contains("Cyril — 12.0 km (1 run)"), "{digest_text}");
    assert!(digest_text.contains("Ana — 18.0 km") && !digest_text.contains("Bob"), "{digest_text}");
    assert!(posted.iter().all(|m| !m.ephemeral()));
    // Names are shown as members typed them: nothing the bot sends may ping anyone.
    let sent = fake.with(|s| s.bodies.clone());
    let messages: Vec<&Value> = sent
        .iter()
        .filter(|(route, _)| route.contains("/messages") || route.starts_with("POST /webhooks/"))
        .map(|(_, body)| body)
        .collect();
    assert!(messages.len() >= 5, "{sent:?}");
    for body in messages {
        assert_eq!(body["allowed_mentions"]["parse"], json!([]), "{body}");
    }
    bot.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_range_runs_its_shards_and_answers_the_guilds_routed_to_them() {
    let guild = guild_on_shard(1, 2);
    let options = Options {
        per_guild: false,
        shards: Some(ShardRange { first: 0, last: 1, total: 2 }),
        guild,
        ..Options::default()
    };
    let bot = Bot::start(options).await;
    let fake = &bot.fake;
    let mut shards: Vec<(u32, u32)> = fake.with(|s| s.identified.iter().map(|(a, b, _)| (*a, *b)).collect());
    shards.sort_unstable();
    assert_eq!(shards, vec![(0, 2), (1, 2)]);
    assert_eq!(fake.registered(None).len(), COMMANDS.len(), "registered globally, once");
    let ix = fake.slash(&ana(), Some(guild), bot.channel, "status", json!([]));
    let answer = fake.answer(ix).await;
    assert!(answer[0].content.contains("runcoach"), "answered through shard 1: {}", answer[0].content);
    bot.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_messages_wait_out_a_429_and_back_off_after_a_502() {
    use poise::serenity_prelude as serenity;
    use runcoach_core::chat::Reply;
    use runcoach_core::chat::{Notifier, NotifyError};

    let bot = Bot::start(Options::default()).await;
    let fake = &bot.fake;
    // As in production: URLs of https://discord.com and serenity's ratelimiter on; the local
    // Discord answers as discord.com through an HTTPS proxy that the client trusts.
    let proxy = fake.https_proxy().await;
    let ca = reqwest::Certificate::from_pem(&support::tls_proxy::test_ca()).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .proxy(reqwest::Proxy::https(&proxy).unwrap());
    let http = serenity::HttpBuilder::new(support::fake::TOKEN).client(client.build().unwrap()).build();
    assert!(http.ratelimiter.is_some() && http.proxy.is_none(), "serenity's ratelimiter on, no base-URL override");
    let notifier = DiscordNotifier::new(Arc::new(http));

    // Discord answers the digest with a 429 (retry after 1 s): the ratelimiter waits and sends again.
    fake.rate_limit("POST /channels/{channel_id}/messages", 1, 1.0);
    let before = fake.with(|s| s.messages.iter().map(|m| m.id).max().unwrap_or(0));
    let channel = ChatKey { platform: Platform::Discord, chat_id: bot.channel.to_string() };
    notifier.send(&channel, &[Reply::text("🏁 **The club this week**")]).await.unwrap();
    let posted = fake.bot_messages_after(bot.channel, before, 1).await;
    assert_eq!(posted.len(), 1, "sent once");
    assert_eq!(posted[0].content, "🏁 **The club this week**");
    let limited = fake.with(|s| s.limited_at.clone());
    assert_eq!(limited.len(), 1);
    assert!(posted[0].at.duration_since(limited[0].1) >= Duration::from_millis(900), "waited out the 429");

    // A digest of two messages whose second meets a 502 at Discord's edge: it is sent again a
    // second later, and the first is not sent twice.
    fake.server_error("POST /channels/{channel_id}/messages", 1, 1);
    let before = fake.with(|s| s.messages.iter().map(|m| m.id).max().unwrap_or(0));
    notifier.send(&channel, &[Reply::text("🏁 Part one"), Reply::text("🏁 Part two")]).await.unwrap();
    let posted = fake.bot_messages_after(bot.channel, before, 2).await;
    let contents: Vec<&str> = posted.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, ["🏁 Part one", "🏁 Part two"]);
    let failed = fake.with(|s| s.failed_at.clone());
    assert_eq!(failed.len(), 1);
    assert!(posted[1].at.duration_since(failed[0].1) >= Duration::from_millis(900), "backed off before sending again");

    // A runner's weekly summary goes to their direct messages.
    let ana = ana();
    notifier
        .send(&ChatKey { platform: Platform::Discord, chat_id: format!("dm:{}", ana.id) }, &[Reply::text("📊 Week 12")])
        .await
        .unwrap();
    let dm = fake.dm_channel(ana.id);
    assert!(fake.visible(ana.id, dm).iter().any(|m| m.content == "📊 Week 12"));
    // A channel that is gone pauses its schedule instead of retrying forever.
    let gone = ChatKey { platform: Platform::Discord, chat_id: "4242".into() };
    assert_eq!(notifier.send(&gone, &[Reply::text("x")]).await, Err(NotifyError::Blocked));
    let requests = fake.with(|s| s.requests.clone());
    assert!(requests.iter().filter(|(m, p)| m == "POST" && p.ends_with("/messages")).count() >= 4, "{requests:?}");
    bot.assert_no_violations();
}

/// The checks are not vacuous: what Discord would refuse, the description refuses too.
#[test]
fn the_description_refuses_what_discord_would() {
    let spec = support::schema::Spec::load();
    let op = spec.operation("POST", "/channels/123/messages").unwrap();
    assert_eq!(op.template, "/channels/{channel_id}/messages");
    let create = spec.request_schema(op.op, "application/json").unwrap();
    assert!(spec.validate(create, &json!({ "content": "hello", "allowed_mentions": { "parse": [] } })).is_empty());
    let long = spec.validate(create, &json!({ "content": "x".repeat(4_001) }));
    assert!(long.iter().any(|e| e.starts_with("/content maxLength:")), "{long:?}");
    let button = json!({ "content": "x", "components": [{ "type": 1, "components": [
        { "type": 2, "style": 2, "label": "ok", "custom_id": "c".repeat(101) }] }] });
    assert!(!spec.validate(create, &button).is_empty(), "a custom id over 100 characters");
    let callback = spec.operation("POST", "/interactions/1/tok/callback").unwrap();
    let body = spec.request_schema(callback.op, "application/json").unwrap();
    assert!(spec.validate(body, &json!({ "type": 5, "data": { "flags": 64 } })).is_empty());
    assert!(!spec.validate(body, &json!({ "type": 9 })).is_empty(), "a modal without its data");
    let original = spec.operation("PATCH", "/webhooks/1/tok/messages/@original").unwrap();
    assert_eq!(original.template, "/webhooks/{webhook_id}/{webhook_token}/messages/@original");
    let message = spec.schema("MessageResponse");
    let missing = spec.validate(message, &json!({ "id": "1", "content": "x" }));
    assert!(missing.iter().any(|e| e.starts_with("/ required:") && e.contains("\"author\"")), "{missing:?}");
    assert!(spec.operation("POST", "/channels/1/not-a-route").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coachs_answer_grows_in_place_of_the_deferral() {
    let pieces = ["Taper ", "over two weeks: ", "cut the volume ", "by a third, ", "keep some pace."];
    let llm = llm_fake::LlmServer::start(vec![llm_fake::Scripted::Trickle(
        Duration::from_millis(700),
        pieces.iter().map(|p| (*p).to_owned()).collect(),
    )])
    .await;
    let mut config = runcoach_core::agent::LlmConfig::new(&llm.url, "fake-coach");
    config.deadline = Duration::from_secs(10);
    config.max_retries = 0;
    let bot = Bot::start(Options { agent: Some(runcoach_core::agent::Agent::new(config)), ..Options::default() }).await;
    let fake = &bot.fake;
    let ix = fake.slash(&ana(), Some(bot.guild), bot.channel, "ask", arg("question", "How do I taper?"));
    // The answer in progress ends in " …"; the final one does not.
    let original = &fake
        .wait(20, "the final answer", |s| {
            s.messages
                .iter()
                .find(|m| m.interaction == Some(ix) && !m.content.is_empty() && !m.content.ends_with(" …"))
                .cloned()
        })
        .await;
    assert!(
        original.content.starts_with("Taper over two weeks: cut the volume by a third, keep some pace."),
        "{}",
        original.content
    );
    // Before the final text, the deferral showed the answer as it was being written.
    let partial: Vec<&String> = original.history.iter().filter(|h| h.ends_with(" …")).collect();
    assert!(!partial.is_empty(), "no answer in progress was shown: {:?}", original.history);
    for p in &partial {
        assert!(original.content.starts_with(p.trim_end_matches(" …")), "{p:?}");
    }
    assert!(partial.iter().any(|p| p.len() < original.content.len()), "it grew: {partial:?}");
    bot.assert_no_violations();
}

//! The bot core driven like a user would drive it, on a fresh store per test (SQLite and PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;

use chrono::Utc;
use runcoach_core::chat::{BotCore, MAX_MESSAGE_CHARS};
use runcoach_core::clock::{Clock, TestClock};
use runcoach_core::domain::{Platform, PlatformIdentity};
use runcoach_core::error::ErrorCode;
use runcoach_core::i18n::Lang;
use runcoach_core::store::{SqliteStore, Store};
use support::{Runner, TestStore, button, joined};

fn ident(platform: Platform, id: &str) -> PlatformIdentity {
    PlatformIdentity { platform, platform_user_id: id.to_owned() }
}

async fn start_discloses_ai_and_privacy_in_both_languages(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let fr = Runner::new(&core, Platform::Telegram, "1", Some("fr-FR"));
    let replies = fr.send("/start").await;
    let text = joined(&replies);
    assert!(text.contains("Bienvenue"), "{text}");
    assert!(text.contains("intelligence artificielle") && text.contains("pas un médecin"), "{text}");
    assert!(text.contains("/export") && text.contains("/forget"), "{text}");
    assert!(!replies[0].buttons.is_empty());

    let en = Runner::new(&core, Platform::Telegram, "2", Some("en"));
    let text = en.say("/start").await;
    assert!(text.contains("Welcome") && text.contains("I'm an AI, not a doctor"), "{text}");
    // The second /start greets a returning runner.
    assert!(en.say("/start").await.contains("Good to see you again"));
    // The notice /start points to, in each language, with who receives what.
    assert!(text.contains("/help privacy"), "{text}");
    let notice = en.say("/help privacy").await;
    assert!(notice.contains("Your data and your privacy") && notice.contains("Open-Meteo"), "{notice}");
    assert!(notice.contains("1 year") && notice.contains("/forget"), "{notice}");
    assert!(!notice.contains("AI service"), "no LLM configured, none named: {notice}");
    let avis = fr.say("/aide confidentialité").await;
    assert!(avis.contains("Tes données et ta vie privée") && avis.contains("/export"), "{avis}");
}

async fn help_lists_every_command(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let en = Runner::new(&core, Platform::Console, "a", None);
    let text = en.say("/help").await;
    for spec in runcoach_core::chat::COMMANDS {
        assert!(text.contains(&format!("/{}", spec.name)), "{} missing from help", spec.name);
        assert!(text.contains(spec.help_en));
    }
    let fr = Runner::new(&core, Platform::Console, "b", Some("fr"));
    let text = fr.say("/aide profil").await;
    assert!(text.contains("/profile") && text.contains("poids"), "{text}");
}

async fn profile_is_set_validated_and_shown(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Telegram, "1", Some("fr"));
    let text = r.say("/profil age 35 poids 70,5 taille 172 fcmax 190 fcrepos 50 vma 15,5 fuseau paris").await;
    assert!(text.contains("Profil mis à jour"), "{text}");
    assert!(text.contains("70,5 kg") && text.contains("190 bpm") && text.contains("15,5 km/h"), "{text}");
    assert!(text.contains("Europe/Paris"), "{text}");
    let user = t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().unwrap();
    assert_eq!(user.profile.weight.unwrap().get(), 70.5);
    assert_eq!(user.profile.resting_hr.unwrap().bpm(), 50);

    // Absurd values are refused with the accepted range, and nothing changes, not even the valid ones.
    for (input, expect) in [
        ("/profil poids 900", "de 25 à 300 kg"),
        ("/profil poids 0", "de 25 à 300 kg"),
        ("/profil fcmax 300", "de 100 à 230 bpm"),
        ("/profil fcrepos 20", "de 25 à 120 bpm"),
        ("/profil taille 172 fcmax 300", "FC max"),
        ("/profil fcrepos 195", "de 25 à 120 bpm"),
        ("/profil fcrepos 110 fcmax 105", "inférieure à ta FC max"),
        ("/profil pointure 42", "Je ne connais pas le champ"),
        ("/profil poids", "Il manque la valeur"),
        ("/profil poids lourd", "n'est pas un nombre valide"),
    ] {
        let text = r.say(input).await;
        assert!(text.contains(expect), "{input} → {text}");
        assert!(!text.contains("Profil mis à jour"), "{input} → {text}");
    }
    let after = t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().unwrap();
    assert_eq!(after.profile, user.profile);

    let en = Runner::new(&core, Platform::Telegram, "2", Some("en"));
    let text = en.say("/profile weight 900").await;
    assert!(text.contains("I accept 25 to 300 kg") && text.contains("Nothing was changed"), "{text}");
}

async fn language_switches_by_command_and_button(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Discord, "1", Some("en-US"));
    let replies = r.send("/language").await;
    let fr = button(&replies, "Français");
    let text = support::joined(&r.press(&fr).await);
    assert!(text.contains("je te parle en français"), "{text}");
    assert!(r.say("/help").await.contains("Ce que je sais faire"));
    assert!(r.say("/language en").await.contains("I'll speak English"));
    assert!(r.say("/language klingon").await.contains("Choose fr (French) or en (English)"));
}

async fn forget_asks_then_erases_everything(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Telegram, "1", Some("en"));
    r.say("/profile weight 60").await;
    // Cancel keeps everything.
    let replies = r.send("/forget").await;
    r.press(&button(&replies, "Cancel")).await;
    let id = t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().unwrap().id;
    // Another command in between cancels the pending confirmation: a stale "yes" erases nothing.
    r.send("/forget").await;
    r.say("/help").await;
    assert!(!r.say("yes").await.contains("deleted"));
    assert!(t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().is_some());
    // A stale confirmation button erases nothing either.
    assert!(r.say("/profile").await.contains("60 kg"));
    let text = joined(&r.press("forget:yes").await);
    assert!(text.contains("expired"), "{text}");

    let replies = r.send("/forget").await;
    assert!(joined(&replies).contains("permanently"));
    let text = joined(&r.press(&button(&replies, "Yes, delete everything")).await);
    assert!(text.contains("all your data has been deleted"), "{text}");
    assert!(t.store.count_user_rows(id).await.unwrap().iter().all(|(_, n)| *n == 0));
    // Talking again starts from scratch.
    assert!(r.say("/profile").await.contains("weight: —"));
}

async fn export_sends_a_json_file(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Telegram, "1", Some("fr"));
    r.say("/profil poids 58").await;
    let replies = r.send("/export").await;
    let file = replies.iter().find_map(|r| r.attachment.as_ref()).expect("an attachment");
    assert_eq!(file.mime, "application/json");
    assert!(file.name.starts_with("runcoach-export-") && file.name.ends_with(".json"));
    let doc: serde_json::Value = serde_json::from_slice(&file.data).unwrap();
    assert_eq!(doc["user"]["profile"]["weight"], serde_json::json!(58.0));
    assert_eq!(doc["identities"][0]["platform"], serde_json::json!("telegram"));
}

async fn personal_commands_stay_out_of_groups(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Telegram, "1", Some("en")).in_group("-100");
    for cmd in ["/profile", "/profile weight 70", "/export", "/forget", "/link"] {
        let replies = r.send(cmd).await;
        assert!(joined(&replies).contains("message me privately"), "{cmd}");
        assert!(replies.iter().all(|r| r.attachment.is_none()));
    }
    // A plan's buttons pressed in a group show nothing of the presser's plan.
    for data in ["plan:ics", "plan:full", "plan:keep", "plan:goal:10k"] {
        let replies = r.press(data).await;
        assert!(joined(&replies).contains("message me privately"), "{data}");
        assert!(replies.iter().all(|r| r.attachment.is_none()), "{data}");
    }
    let user = t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().unwrap();
    assert!(user.profile.weight.is_none());
    // Public commands still work in groups.
    assert!(r.say("/help").await.contains("What I can do"));
}

async fn link_joins_telegram_and_discord(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let tg = Runner::new(&core, Platform::Telegram, "11", Some("fr"));
    let dc = Runner::new(&core, Platform::Discord, "22", Some("en"));
    tg.say("/profil poids 64").await;
    dc.say("/profile vma 16").await;
    let text = tg.say("/link").await;
    let code: String = text.split('`').nth(1).expect("code in backticks").to_owned();
    // 10 characters of 32 (50 bits), shown as two groups of five.
    assert_eq!((code.len(), code.chars().nth(5)), (11, Some('-')), "{code}");
    assert!(dc.say("/link WRONG9").await.contains("doesn't exist"));
    // The runner sees which account they join, and nothing happens before they say yes.
    let confirm = dc.send(&format!("/link {}", code.to_lowercase().replace('-', " "))).await;
    assert!(
        joined(&confirm).contains("This code comes from the account **runner11** (Telegram)"),
        "{}",
        joined(&confirm)
    );
    let no = dc.press(&button(&confirm, "No")).await;
    assert!(joined(&no).contains("nothing was linked"));
    assert_ne!(
        t.store.find_user(&ident(Platform::Telegram, "11")).await.unwrap().unwrap().id,
        t.store.find_user(&ident(Platform::Discord, "22")).await.unwrap().unwrap().id
    );
    let confirm = dc.send(&format!("/link {code}")).await;
    let text = joined(&dc.press(&button(&confirm, "Yes, link them")).await);
    assert!(text.contains("Accounts linked") && text.contains("Telegram") && text.contains("Discord"), "{text}");
    // The code's owner is told in their Telegram chat, in their language, by the scheduler.
    struct Inbox(tokio::sync::Mutex<Vec<(runcoach_core::chat::ChatKey, String)>>);
    #[async_trait::async_trait]
    impl runcoach_core::message::Notifier for Inbox {
        async fn send(
            &self,
            chat: &runcoach_core::chat::ChatKey,
            replies: &[runcoach_core::chat::Reply],
        ) -> Result<(), runcoach_core::message::NotifyError> {
            self.0.lock().await.push((chat.clone(), replies[0].text.clone()));
            Ok(())
        }
    }
    let inbox = Inbox(tokio::sync::Mutex::new(Vec::new()));
    let clock = TestClock::at(Utc::now());
    let report = runcoach_core::scheduler::run_once(t.store.as_ref(), "w", &inbox, &clock).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let told = inbox.0.lock().await;
    assert_eq!((told[0].0.platform, told[0].0.chat_id.as_str()), (Platform::Telegram, "11"));
    assert!(told[0].1.starts_with("🔗 Un compte Discord vient d'être lié au tien"), "{}", told[0].1);
    drop(told);
    // A code links once.
    let again = dc.send(&format!("/link {code}")).await;
    assert_eq!(joined(&again), ErrorCode::LinkCodeInvalid.message(Lang::Fr), "the kept account speaks French");
    let a = t.store.find_user(&ident(Platform::Telegram, "11")).await.unwrap().unwrap();
    let b = t.store.find_user(&ident(Platform::Discord, "22")).await.unwrap().unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(b.profile.weight.unwrap().get(), 64.0);
    assert_eq!(b.profile.vma.unwrap().get(), 16.0);
    // One runner, one language: the kept account's.
    assert!(dc.say("/help").await.contains("Ce que je sais faire"));
}

/// The core reads the time from its clock: a test moves it instead of waiting 15 minutes.
async fn a_link_code_expires_on_the_cores_clock(t: TestStore) {
    let clock = Arc::new(TestClock::at(Utc::now()));
    let core = BotCore::new(t.store.clone()).with_clock(clock.clone() as Arc<dyn Clock>);
    let tg = Runner::new(&core, Platform::Telegram, "31", Some("en"));
    let dc = Runner::new(&core, Platform::Discord, "32", Some("en"));
    let text = tg.say("/link").await;
    let code: String = text.split('`').nth(1).expect("code in backticks").to_owned();
    clock.advance(chrono::Duration::minutes(11));
    let text = dc.say(&format!("/link {code}")).await;
    assert_eq!(text, ErrorCode::LinkCodeExpired.message(Lang::En), "{text}");
    // A new code, used within its 10 minutes, links; a code that expires at the confirmation
    // step links nothing.
    let text = tg.say("/link").await;
    let code: String = text.split('`').nth(1).expect("code in backticks").to_owned();
    let confirm = dc.send(&format!("/link {code}")).await;
    clock.advance(chrono::Duration::minutes(11));
    assert_eq!(joined(&dc.press("link:yes").await), ErrorCode::LinkCodeExpired.message(Lang::En));
    let text = tg.say("/link").await;
    let code: String = text.split('`').nth(1).expect("code in backticks").to_owned();
    clock.advance(chrono::Duration::minutes(9));
    let confirm2 = dc.send(&format!("/link {code}")).await;
    assert!(joined(&dc.press(&button(&confirm2, "Yes")).await).contains("Accounts linked"));
    drop(confirm);
}

/// Guessing link codes: five wrong codes an hour per runner, then locked (right or wrong); a
/// stranger never gets a code's account without its owner's code.
async fn link_codes_cannot_be_guessed(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let owner = Runner::new(&core, Platform::Telegram, "41", Some("en"));
    let code = owner.say("/link").await.split('`').nth(1).unwrap().to_owned();
    let thief = Runner::new(&core, Platform::Discord, "666", Some("fr"));
    for guess in ["AAAAA-AAAAA", "BBBBBBBBBB", "CCCCC CCCCC", "DDDDD-DDDDD", "EEEEE-EEEEE"] {
        assert_eq!(thief.say(&format!("/link {guess}")).await, ErrorCode::LinkCodeInvalid.message(Lang::Fr));
    }
    let locked = thief.say(&format!("/link {code}")).await;
    assert!(locked.starts_with("⏳ Trop de codes de liaison erronés : réessaie dans"), "{locked}");
    assert!(t.store.find_user(&ident(Platform::Discord, "666")).await.unwrap().is_some());
    assert_ne!(
        t.store.find_user(&ident(Platform::Telegram, "41")).await.unwrap().unwrap().id,
        t.store.find_user(&ident(Platform::Discord, "666")).await.unwrap().unwrap().id
    );
    // A button pressed without a pending confirmation does nothing.
    assert!(!joined(&thief.press("link:yes").await).contains("liés"));
}

async fn unknown_input_gets_a_helpful_answer(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Console, "a", Some("en"));
    assert!(r.say("/halp").await.contains("Did you mean /help?"));
    assert!(r.say("/xyzzy").await.contains("Type /help"));
    // Tomorrow's session without a plan: how to get one.
    assert!(r.say("what should I run tomorrow?").await.contains("Type /plan"));
    assert!(r.say("what is the meaning of all this?").await.contains("/help"));
    assert!(r.say("hello!").await.contains("Good to see you again"));
    assert!(r.say("/").await.contains("/help"));
    let text = joined(&r.press("nonsense-button").await);
    assert!(text.contains("expired"), "{text}");
}

async fn huge_messages_are_refused_before_storing(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Telegram, "9", Some("fr"));
    let huge = "a".repeat(100 * 1024);
    let text = r.say(&huge).await;
    assert!(text.contains("trop long") && text.contains(&MAX_MESSAGE_CHARS.to_string()), "{text}");
    assert!(t.store.find_user(&ident(Platform::Telegram, "9")).await.unwrap().is_none(), "nothing stored");
    let text = r.say(&format!("/profile weight {}", "9".repeat(100 * 1024))).await;
    assert!(text.contains("trop long"));
}

/// The deterministic coach follows the previous turn: after "10 km en 50 min", "et pour un
/// semi ?" is the half predicted from the same VDOT, in each language; without a performance
/// before, the follow-up is an ordinary question.
async fn a_follow_up_refers_to_the_previous_performance(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let fr = Runner::new(&core, Platform::Telegram, "fu1", Some("fr"));
    assert!(fr.say("10 km en 50 min").await.contains("VDOT 40,0"));
    let half = fr.say("et pour un semi ?").await;
    // Daniels' tables: VDOT 40 runs the half in about 1:50:5x.
    assert!(
        half.contains("D'après ton 10 km en 50:00 (VDOT 40,0)") && half.contains("Semi-marathon en 1:50:"),
        "{half}"
    );
    let en = Runner::new(&core, Platform::Telegram, "fu2", Some("en"));
    en.say("5k in 25:00").await;
    let marathon = en.say("and for a marathon?").await;
    assert!(marathon.contains("From your 5 km in 25:00") && marathon.contains("**Marathon in 3:"), "{marathon}");
    let fresh = Runner::new(&core, Platform::Telegram, "fu3", Some("en"));
    let alone = fresh.say("and for a marathon?").await;
    assert!(!alone.contains("From your"), "{alone}");
}

on_both_stores!(
    a_follow_up_refers_to_the_previous_performance,
    start_discloses_ai_and_privacy_in_both_languages,
    help_lists_every_command,
    profile_is_set_validated_and_shown,
    language_switches_by_command_and_button,
    forget_asks_then_erases_everything,
    export_sends_a_json_file,
    personal_commands_stay_out_of_groups,
    link_joins_telegram_and_discord,
    a_link_code_expires_on_the_cores_clock,
    link_codes_cannot_be_guessed,
    unknown_input_gets_a_helpful_answer,
    huge_messages_are_refused_before_storing,
);

#[tokio::test]
async fn a_dead_database_gets_a_translated_answer_and_the_core_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let core = BotCore::new(sqlite.clone() as Arc<dyn Store>);
    let r = Runner::new(&core, Platform::Telegram, "1", Some("fr"));
    assert!(r.say("/start").await.contains("Bienvenue"));
    sqlite.close().await;
    let text = r.say("/profil poids 70").await;
    assert!(text.contains("base de données") && text.contains("Rien n'a été modifié"), "{text}");
    let en = Runner::new(&core, Platform::Telegram, "2", Some("en"));
    assert!(en.say("/help").await.contains("database"), "still answering, in English");
}

#[tokio::test]
async fn a_locked_sqlite_database_is_busy_not_broken() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap()) as Arc<dyn Store>;
    let core = BotCore::new(store.clone());
    let r = Runner::new(&core, Platform::Console, "cam", Some("en"));
    r.say("/start").await;
    // Another process holds the write lock for longer than the busy timeout.
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        dir.path().join("runcoach.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await.unwrap();
    let text = r.say("/profile weight 70").await;
    assert!(text.contains("busy") && text.contains("Nothing was changed"), "{text}");
    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    assert!(r.say("/profile weight 70").await.contains("Profile updated"));
}

async fn the_plan_wizard_builds_stores_and_follows_a_plan(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Telegram, "1", Some("fr"));
    // A 10 km goal first: the 10 km plan is made for it.
    assert!(r.say("/goal race 10k 55:00").await.starts_with("🎯 Objectif enregistré"));
    let replies = r.send("/plan").await;
    assert!(joined(&replies).contains("objectif"), "{}", joined(&replies));
    let replies = r.press(&button(&replies, "10 km")).await;
    assert!(joined(&replies).contains("date de ta course"), "{}", joined(&replies));
    // A typed answer that makes no sense is asked again, nothing lost.
    let replies = r.send("bientôt").await;
    assert!(joined(&replies).contains("Je n'ai pas compris"));
    let replies = r.send("12 semaines").await;
    assert!(joined(&replies).contains("Tu vises un temps"), "{}", joined(&replies));
    // 3 minutes for 10 km is refused with the reason, and asked again.
    let replies = r.send("3:00").await;
    assert!(joined(&replies).contains("pas un temps plausible"), "{}", joined(&replies));
    let replies = r.send("52:00").await;
    // No history: a recent race gives the paces.
    assert!(joined(&replies).contains("Une course ou un test récent"), "{}", joined(&replies));
    let replies = r.send("j'ai couru un 10 km en 54:30 le mois dernier").await;
    assert!(joined(&replies).contains("Combien de séances"), "{}", joined(&replies));

    // The wizard lives in the store: a restarted core carries on where the runner was.
    let restarted = BotCore::new(t.store.clone());
    let r = Runner::new(&restarted, Platform::Telegram, "1", Some("fr"));
    let replies = r.press(&button(&replies, "4")).await;
    assert!(joined(&replies).contains("Quels jours"));
    let replies = r.send("mar jeu").await;
    assert!(joined(&replies).contains("au moins 4"), "{}", joined(&replies));
    let replies = r.send("mar jeu sam dim").await;
    let text = joined(&replies);
    assert!(text.contains("Je n'ai pas encore tes sorties") && text.contains("débutant"), "{text}");
    let replies = r.press(&button(&replies, "✓")).await;
    let text = joined(&replies);
    assert!(text.contains("Plan 10 km — 12 semaines, 4 séances/semaine"), "{text}");
    assert!(text.contains("Semaine 1") && text.contains(" /km"), "paces from the recent race's VDOT: {text}");
    // 52:00 from a 54:30 10 km (VDOT ~36.4 → ~38.4) in 12 weeks: realistic, said with the numbers.
    assert!(text.contains("🎯 Objectif 52:00 : réaliste d'ici la course"), "{text}");
    let week1 = text.lines().filter(|l| l.starts_with("• ")).count();
    assert_eq!(week1, 4, "four runs in week 1: {text}");
    assert!(text.contains("🎯 Fait pour ton objectif #"), "{text}");
    let goals = r.say("/goals").await;
    assert!(goals.contains("📅 Ton plan en cours le prépare, jusqu'au "), "{goals}");

    // The calendar file and the stored plan.
    let ics = r.press(&button(&replies, "Calendrier")).await;
    let file = ics.iter().find_map(|x| x.attachment.as_ref()).unwrap();
    assert_eq!(file.mime, "text/calendar");
    assert!(String::from_utf8_lossy(&file.data).contains("BEGIN:VEVENT"));
    let user = t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().unwrap();
    let stored = t.store.active_plan(user.id).await.unwrap().expect("plan stored");
    assert_eq!(stored.plan["goal"], serde_json::json!("10k"));
    assert_eq!(stored.plan["target"]["verdict"], serde_json::json!("realistic"));
    assert_eq!(stored.plan["request"]["target_time_s"], serde_json::json!(3120.0));
    let export = t.store.export_user(user.id).await.unwrap();
    assert!(export["planned_workouts"].as_array().unwrap().len() >= 40);
    assert!(
        t.store
            .dialogue_state(
                user.id,
                &runcoach_core::chat::ChatKey { platform: Platform::Telegram, chat_id: "chat-1".into() }
            )
            .await
            .unwrap()
            .is_none(),
        "the wizard is over"
    );

    assert!(r.say("/plans").await.contains("en cours"));
    assert!(r.say("/week").await.contains("Semaine 1"));
    let today = r.say("/today").await;
    assert!(today.contains("Pas de course prévue aujourd'hui") && today.contains("Prochaine séance"), "{today}");
    // Nothing planned today (the plan starts tomorrow): /done says so.
    assert!(r.say("/done").await.contains("Je ne trouve pas de séance"));
    let unwell = r.say("/unwell 3").await;
    assert!(unwell.contains("consulte un médecin"), "{unwell}");
    assert!(r.say("/unwell 40").await.contains("1"), "out-of-range days are explained");
}

async fn an_unsafe_plan_is_refused_with_a_safe_alternative(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Console, "b", Some("en"));
    let replies = r.send("/plan").await;
    r.press(&button(&replies, "Marathon")).await;
    let replies = r.send("3 weeks").await;
    let replies = r.press(&button(&replies, "No target time")).await;
    let replies = r.press(&button(&replies, "No recent race")).await;
    let replies = r.press(&button(&replies, "4")).await;
    let replies = r.press(&button(&replies, "Spread them")).await;
    let replies = r.press(&button(&replies, "beginner")).await;
    let text = joined(&replies);
    assert!(text.contains("at least 18 weeks"), "{text}");
    let user = t.store.find_user(&ident(Platform::Console, "b")).await.unwrap().unwrap();
    assert!(t.store.active_plan(user.id).await.unwrap().is_none(), "no broken plan stored");
    // Taking the suggested length goes straight back to the level question, then a plan.
    let replies = r.press(&button(&replies, "18 weeks")).await;
    let replies = r.press(&button(&replies, "beginner")).await;
    assert!(joined(&replies).contains("Marathon plan — 18 weeks"), "{}", joined(&replies));
    assert!(t.store.active_plan(user.id).await.unwrap().is_some());
    // Without a plan the commands say how to get one.
    let other = Runner::new(&core, Platform::Console, "c", Some("en"));
    assert!(other.say("/week").await.contains("Type /plan"));
    assert!(other.press("plan:weeks:8").await.iter().any(|x| x.text.contains("/plan")));
}

async fn the_days_can_be_picked_from_a_menu(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Discord, "1", Some("en"));
    let replies = r.send("/plan").await;
    let replies = r.press(&button(&replies, "10K")).await;
    let replies = r.press(&button(&replies, "8 weeks")).await;
    let replies = r.press(&button(&replies, "No target time")).await;
    let replies = r.press(&button(&replies, "No recent race")).await;
    let replies = r.press(&button(&replies, "3")).await;
    let choice = replies[0].choice.clone().expect("a menu of days");
    assert_eq!((choice.min, choice.max, choice.options.len()), (3, 7, 7));
    assert_eq!(choice.options[1].label, "Tuesday");
    // Too few days picked: asked again, nothing lost.
    let text = joined(&r.press(&format!("{}{}", choice.prefix, "Tue,Thu")).await);
    assert!(text.contains("at least 3"), "{text}");
    let text = joined(&r.press(&format!("{}{}", choice.prefix, "Tue,Thu,Sun")).await);
    assert!(text.contains("Your level?"), "{text}");
    // Telegram's conversation carries no menu it could not show… but the reply has it all the same.
    assert!(replies[0].text.contains("Which days?"));
}

async fn a_plan_can_be_changed_and_stopped(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Console, "e", Some("en"));
    assert!(r.say("/plan cancel").await.contains("Type /plan"), "no plan to stop");
    let replies = r.send("/plan").await;
    let replies = r.press(&button(&replies, "Half")).await;
    assert!(joined(&replies).contains("When is your race?"), "{}", joined(&replies));
    let replies = r.send("14 weeks").await;
    assert!(joined(&replies).contains("Aiming for a time?"), "{}", joined(&replies));
    let replies = r.send("1:50:00").await;
    assert!(joined(&replies).contains("A recent race"), "{}", joined(&replies));
    let replies = r.send("skip").await;
    let replies = r.press(&button(&replies, "4")).await;
    let replies = r.press(&button(&replies, "Spread them")).await;
    let text = joined(&r.press(&button(&replies, "intermediate")).await);
    assert!(text.contains("Half marathon plan — 14 weeks, 4 runs a week"), "{text}");
    assert!(text.contains("🎯 Target 1:50:00") && text.contains("cannot tell whether it is realistic"), "{text}");
    let user = t.store.find_user(&ident(Platform::Console, "e")).await.unwrap().unwrap();
    let first = t.store.active_plan(user.id).await.unwrap().unwrap().id;

    // Fewer runs a week: re-planned by the engine, the old plan archived.
    let text = r.say("/plan edit sessions 3").await;
    assert!(text.contains("Plan changed") && text.contains("3 runs a week"), "{text}");
    let second = t.store.active_plan(user.id).await.unwrap().unwrap();
    assert_ne!(second.id, first);
    assert_eq!(second.plan["sessions_per_week"], serde_json::json!(3));
    assert_eq!(second.plan["request"]["target_time_s"], serde_json::json!(6600.0), "the target is kept");
    // Days: too few for the runs is refused, nothing changed.
    assert!(r.say("/plan edit days tue").await.contains("at least 3"));
    let text = r.say("/plan edit days tue thu sun").await;
    assert!(text.contains("Plan changed"), "{text}");
    let third = t.store.active_plan(user.id).await.unwrap().unwrap();
    let days: std::collections::BTreeSet<String> = third.plan["weeks"][1]["workouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            chrono::NaiveDate::parse_from_str(w["date"].as_str().unwrap(), "%Y-%m-%d").unwrap().format("%a").to_string()
        })
        .collect();
    assert_eq!(days, ["Sun", "Thu", "Tue"].map(String::from).into_iter().collect());
    // A race date too close is explained, and the plan stays.
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Duration::days(3);
    let text = r.say(&format!("/plan edit race {tomorrow}")).await;
    assert!(text.contains("Your current plan stays as it is"), "{text}");
    assert_eq!(t.store.active_plan(user.id).await.unwrap().unwrap().id, third.id);
    assert!(r.say("/plan edit colour blue").await.contains("/plan edit sessions 4"), "usage");

    // Cancel asks first, then archives.
    let replies = r.send("/plan cancel").await;
    assert!(joined(&replies).contains("Stop your Half marathon plan"), "{}", joined(&replies));
    assert!(t.store.active_plan(user.id).await.unwrap().is_some(), "nothing stopped before the answer");
    let text = joined(&r.press(&button(&replies, "Yes, stop")).await);
    assert!(text.contains("Plan stopped"), "{text}");
    assert!(t.store.active_plan(user.id).await.unwrap().is_none());
    assert!(r.say("/plans").await.contains("archived"));
    assert!(r.say("/week").await.contains("Type /plan"));
}

async fn a_runner_in_miles_reads_miles(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Telegram, "7", Some("en"));
    assert!(r.say("/profile units miles").await.contains("Profile updated"));
    let text = joined(&r.send_file("run.fit", support::fixture("fit/activity-small-fenix2-run.fit")).await);
    // 9.01 km is 5.60 mi.
    assert!(text.contains("5.60 mi") && !text.contains(" km"), "{text}");
    let stats = r.say("/stats").await;
    assert!(stats.contains("5.6 mi") && !stats.contains(" km"), "{stats}");
    let replies = r.send("/plan").await;
    let replies = r.press(&button(&replies, "10K")).await;
    r.press(&button(&replies, "12 weeks")).await;
    r.send("50:00").await;
    let replies = r.send("10k in 52:30").await;
    let replies = r.press(&button(&replies, "4")).await;
    let replies = r.press(&button(&replies, "Spread them")).await;
    let plan = joined(&r.press(&button(&replies, "intermediate")).await);
    assert!(plan.contains(" mi**") && plan.contains(" /mi"), "{plan}");
    assert!(!plan.contains(" /km") && !plan.contains(" km**"), "{plan}");
    assert!(plan.contains("10K plan"), "the race keeps its name: {plan}");
    let week = r.say("/week").await;
    assert!(week.contains(" /mi") && !week.contains(" /km"), "{week}");
    let summary = r.say("/summary now").await;
    assert!(!summary.contains(" km"), "{summary}");
    // A volume goal is typed in km, and /goal answers in km; /goals shows it in miles.
    assert!(r.say("/goal volume 1000").await.contains("1000 km"));
    assert!(r.say("/goals").await.contains("621.4 mi"));
    // In French, with the decimal comma.
    let fr = Runner::new(&core, Platform::Telegram, "8", Some("fr"));
    fr.say("/profile unites miles").await;
    let text = joined(&fr.send_file("run.fit", support::fixture("fit/activity-small-fenix2-run.fit")).await);
    assert!(text.contains("5,60 mi"), "{text}");
    // The CLI's and the API's JSON stay metric: the stored activity is in metres.
    let user = t.store.find_user(&ident(Platform::Telegram, "7")).await.unwrap().unwrap();
    let stored = t.store.activities(user.id, None).await.unwrap();
    assert!((stored[0].distance_m.unwrap() - 9010.0).abs() < 10.0);
}

mod plans {
    use super::*;
    on_both_stores!(
        a_runner_in_miles_reads_miles,
        the_plan_wizard_builds_stores_and_follows_a_plan,
        a_plan_can_be_changed_and_stopped,
        an_unsafe_plan_is_refused_with_a_safe_alternative,
        the_days_can_be_picked_from_a_menu,
    );
}

async fn files_sent_in_the_chat_are_imported_once_and_feed_the_stats(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let r = Runner::new(&core, Platform::Telegram, "1", Some("en"));
    assert!(r.say("/stats").await.contains("I don't have any runs yet"));
    assert!(r.say("/import").await.contains("Send me your run's file (FIT, GPX or TCX)"));
    let fr = Runner::new(&core, Platform::Telegram, "2", Some("fr"));
    assert!(fr.say("/importer").await.contains("Envoie-moi le fichier de ta sortie"));
    let text = joined(&r.send_file("run.fit", support::fixture("fit/activity-small-fenix2-run.fit")).await);
    assert!(text.contains("✅ **Run**") && text.contains("9.01 km"), "{text}");
    assert!(text.contains("avg HR"), "{text}");
    let again = joined(&r.send_file("run.fit", support::fixture("fit/activity-small-fenix2-run.fit")).await);
    assert!(again.contains("already recorded"), "{again}");
    let refused = joined(&r.send_file("MonitoringFile.fit", support::fixture("fit/MonitoringFile.fit")).await);
    assert!(!refused.contains('✅'), "{refused}");
    let route = joined(&r.send_file("route.gpx", support::fixture("gpx/strava_route_example.gpx")).await);
    assert!(!route.contains('✅'), "a route without times is not an activity: {route}");
    let corrupt = joined(&r.send_file("bad.fit", b"not a fit file at all".to_vec()).await);
    assert!(!corrupt.is_empty() && !corrupt.contains('✅'), "{corrupt}");

    let user = t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().unwrap();
    assert_eq!(t.store.activities(user.id, None).await.unwrap().len(), 1, "stored once, nothing from refused files");
    let stats = r.say("/stats").await;
    assert!(stats.contains("1 run,") && stats.contains("9.0 km"), "{stats}");
    let fr = Runner::new(&core, Platform::Telegram, "2", Some("fr"));
    let text = joined(&fr.send_file("run.tcx", support::fixture("tcx/20210119_run_garmin_fenix6.tcx")).await);
    assert!(text.contains("✅ **Course**") && text.contains("5,12 km"), "{text}");
    // Files in a group are not imported.
    let group = Runner::new(&core, Platform::Telegram, "3", Some("en")).in_group("-100");
    let text = joined(&group.send_file("run.fit", support::fixture("fit/activity-small-fenix2-run.fit")).await);
    assert!(text.contains("message me privately"), "{text}");
}

mod files {
    use super::*;
    on_both_stores!(files_sent_in_the_chat_are_imported_once_and_feed_the_stats);
}

mod garmin_sync {
    use std::sync::Arc;

    use runcoach_core::chat::GarminService;
    use runcoach_core::garmin::TokenSealer;

    use super::support::garmin_fake::{self, EMAIL, Fake, MFA_CODE, PASSWORD};
    use super::*;

    async fn core_with_garmin(t: &TestStore, fake: Fake) -> BotCore {
        let (client, _shared) = garmin_fake::serve(fake).await;
        let service = GarminService::new(client, TokenSealer::from_key(&[7; 32]));
        BotCore::new(t.store.clone()).with_garmin(Some(Arc::new(service)))
    }

    async fn sync_connects_once_then_syncs_without_keeping_the_password(t: TestStore) {
        let now = chrono::Utc::now();
        let core =
            core_with_garmin(&t, Fake { activities: garmin_fake::activities(1000, 5, now), ..Fake::default() }).await;
        let r = Runner::new(&core, Platform::Telegram, "1", Some("en"));
        assert!(r.say("/sync").await.contains("email address"));
        assert!(r.say("not-an-email").await.contains("doesn't look like an email"));
        assert!(r.say(EMAIL).await.contains("password"));
        let replies = r.send(PASSWORD).await;
        let text = joined(&replies);
        assert!(replies[0].delete_incoming, "the password message is deleted");
        assert!(text.contains("Garmin account connected"), "{text}");
        assert!(text.contains("5 activities read, 5 new"), "{text}");
        assert!(text.contains("Your stats"), "{text}");
        let user = t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().unwrap();
        assert_eq!(t.store.activities(user.id, None).await.unwrap().len(), 5);
        let export = serde_json::to_string(&t.store.export_user(user.id).await.unwrap()).unwrap();
        assert!(!export.contains(PASSWORD), "the password is stored nowhere");
        // Incremental: nothing new, nothing duplicated.
        assert!(r.say("/sync").await.contains("0 new"));
        assert_eq!(t.store.activities(user.id, None).await.unwrap().len(), 5);
        assert!(r.say("/garmin_logout").await.contains("tokens are deleted"));
        assert!(r.say("/garmin_logout").await.contains("No Garmin account was connected"));
        assert!(r.say("/sync").await.contains("email address"), "after logout, /sync logs in again");
    }

    #[derive(Default)]
    struct Shown(std::sync::Mutex<Vec<String>>);

    impl runcoach_core::chat::Progress for Shown {
        fn update(&self, text: &str) {
            self.0.lock().unwrap().push(text.to_owned());
        }
    }

    async fn a_long_first_sync_shows_its_progress(t: TestStore) {
        let now = chrono::Utc::now();
        let core =
            core_with_garmin(&t, Fake { activities: garmin_fake::activities(1000, 250, now), ..Fake::default() }).await;
        let r = Runner::new(&core, Platform::Telegram, "1", Some("fr"));
        r.say("/sync").await;
        r.say(EMAIL).await;
        let shown = Shown::default();
        let msg = runcoach_core::chat::Incoming {
            sender: r.sender.clone(),
            chat: r.chat.clone(),
            content: runcoach_core::chat::Content::Text(PASSWORD.to_owned()),
        };
        let text = joined(&core.handle_with_progress(msg, Some(&shown)).await);
        assert!(text.contains("250 activités lues, 250 nouvelles"), "{text}");
        let updates = shown.0.lock().unwrap().clone();
        // One update per page of 100: 100, 200, 250.
        assert!(updates.len() >= 3, "{updates:?}");
        assert!(updates.iter().all(|u| u.starts_with("🔄 Synchronisation Garmin…")), "{updates:?}");
        assert!(updates.iter().any(|u| u.contains("100")) && updates.last().unwrap().contains("250"), "{updates:?}");
    }

    async fn mfa_codes_are_asked_and_checked(t: TestStore) {
        let core = core_with_garmin(&t, Fake { mfa: true, ..Fake::default() }).await;
        let r = Runner::new(&core, Platform::Telegram, "2", Some("fr"));
        r.say("/sync").await;
        r.say(EMAIL).await;
        let text = r.say(PASSWORD).await;
        assert!(text.contains("code de vérification"), "{text}");
        let wrong = r.say("000000").await;
        assert!(!wrong.contains("connecté"), "{wrong}");
        let text = r.say(MFA_CODE).await;
        assert!(text.contains("Compte Garmin connecté"), "{text}");
    }

    /// Two instances on one store (behind a load balancer): the login asks for the code on one,
    /// the code reaches the other. The challenge waits in the dialogue state, sealed.
    async fn the_mfa_code_may_reach_another_instance(t: TestStore) {
        let (client, shared) = garmin_fake::serve(Fake { mfa: true, ..Fake::default() }).await;
        let instance = || {
            let service = GarminService::new(client.clone(), TokenSealer::from_key(&[7; 32]));
            BotCore::new(t.store.clone()).with_garmin(Some(Arc::new(service)))
        };
        let (a, b) = (instance(), instance());
        let on_a = Runner::new(&a, Platform::Telegram, "4", Some("en"));
        on_a.say("/sync").await;
        on_a.say(EMAIL).await;
        assert!(on_a.say(PASSWORD).await.contains("verification code"));
        let user = t.store.find_user(&ident(Platform::Telegram, "4")).await.unwrap().unwrap();
        let key = runcoach_core::chat::ChatKey { platform: Platform::Telegram, chat_id: on_a.chat.id.clone() };
        let state = t.store.dialogue_state(user.id, &key).await.unwrap().unwrap();
        let cookie = garmin_fake::SESSION_COOKIE.split('=').nth(1).unwrap();
        assert!(!state.to_string().contains(cookie) && !state.to_string().contains(PASSWORD), "sealed: {state}");
        let on_b = Runner::new(&b, Platform::Telegram, "4", Some("en"));
        assert!(!on_b.say("000000").await.contains("connected"), "a wrong code is refused on B too");
        let text = on_b.say(garmin_fake::MFA_CODE).await;
        assert!(text.contains("Garmin account connected"), "{text}");
        assert_eq!(garmin_fake::hits(&shared, "verify"), 2);

        // A challenge older than ten minutes is not used: the runner starts again.
        assert!(on_a.say("/garmin_logout").await.contains("tokens are deleted"));
        on_a.say("/sync").await;
        on_a.say(EMAIL).await;
        on_a.say(PASSWORD).await;
        let mut state = t.store.dialogue_state(user.id, &key).await.unwrap().unwrap();
        state["expires_at"] = serde_json::json!(chrono::Utc::now().timestamp() - 1);
        t.store.set_dialogue_state(user.id, &key, Some(&state)).await.unwrap();
        let text = on_b.say(garmin_fake::MFA_CODE).await;
        assert!(text.contains("expired") && !text.contains("connected"), "{text}");
        assert_eq!(garmin_fake::hits(&shared, "verify"), 2, "an expired challenge never reaches Garmin");
    }

    async fn a_wrong_password_says_so_and_a_slash_password_is_not_a_command(t: TestStore) {
        let core = core_with_garmin(&t, Fake::default()).await;
        let r = Runner::new(&core, Platform::Telegram, "3", Some("en"));
        r.say("/sync").await;
        r.say(EMAIL).await;
        let replies = r.send("/not-the-password").await;
        assert!(replies[0].delete_incoming);
        let text = joined(&replies);
        assert!(!text.contains("not-the-password") && !text.contains("I don't know"), "{text}");
    }

    async fn the_login_and_code_forms_connect_without_a_chat_message(t: TestStore) {
        let core = core_with_garmin(&t, Fake { mfa: true, ..Fake::default() }).await;
        let r = Runner::new(&core, Platform::Discord, "5", Some("en"));
        let replies = r.send("/sync").await;
        let form = replies[0].form.clone().expect("a login form");
        assert_eq!(form.fields.len(), 2);
        assert!(!form.fields[0].secret && form.fields[1].secret);
        let bad = r.submit(&form.id, &["nope", PASSWORD]).await;
        assert!(joined(&bad).contains("doesn't look like an email"), "{}", joined(&bad));
        assert!(bad[0].form.is_some(), "the form is offered again");
        let replies = r.submit(&form.id, &[EMAIL, PASSWORD]).await;
        assert!(joined(&replies).contains("verification code"), "{}", joined(&replies));
        let mfa = replies[0].form.clone().expect("the code form");
        assert_eq!(mfa.fields.len(), 1);
        let wrong = r.submit(&mfa.id, &["000000"]).await;
        assert!(wrong[0].form.is_some(), "asked again: {}", joined(&wrong));
        let text = joined(&r.submit(&mfa.id, &[MFA_CODE]).await);
        assert!(text.contains("Garmin account connected"), "{text}");
        let user = t.store.find_user(&ident(Platform::Discord, "5")).await.unwrap().unwrap();
        let export = serde_json::to_string(&t.store.export_user(user.id).await.unwrap()).unwrap();
        assert!(!export.contains(PASSWORD), "the password is stored nowhere");
        // A form is personal: never taken from a group.
        let group = Runner::new(&core, Platform::Discord, "6", Some("en")).in_group("g");
        assert!(!joined(&group.submit(&form.id, &[EMAIL, PASSWORD]).await).contains("connected"));
    }

    on_both_stores!(
        the_login_and_code_forms_connect_without_a_chat_message,
        sync_connects_once_then_syncs_without_keeping_the_password,
        a_long_first_sync_shows_its_progress,
        mfa_codes_are_asked_and_checked,
        the_mfa_code_may_reach_another_instance,
        a_wrong_password_says_so_and_a_slash_password_is_not_a_command,
        linked_garmin_tokens_keep_working,
    );

    /// Garmin tokens sealed for an account that is linked into another are sealed again for the
    /// kept account: the runner syncs without reconnecting.
    async fn linked_garmin_tokens_keep_working(t: TestStore) {
        let now = chrono::Utc::now();
        let core =
            core_with_garmin(&t, Fake { activities: garmin_fake::activities(3000, 3, now), ..Fake::default() }).await;
        let dc = Runner::new(&core, Platform::Discord, "52", Some("en"));
        dc.say("/sync").await;
        dc.say(EMAIL).await;
        assert!(dc.say(PASSWORD).await.contains("Garmin account connected"));
        let tg = Runner::new(&core, Platform::Telegram, "51", Some("en"));
        let code = tg.say("/link").await.split('`').nth(1).unwrap().to_owned();
        let confirm = dc.send(&format!("/link {code}")).await;
        assert!(joined(&dc.press(&button(&confirm, "Yes")).await).contains("Accounts linked"));
        let synced = tg.say("/sync").await;
        assert!(!synced.contains("email address"), "no new login: {synced}");
        assert!(synced.contains("0 new"), "{synced}");
    }

    #[tokio::test]
    async fn without_a_secret_key_sync_explains() {
        let t = crate::support::sqlite().await;
        let core = BotCore::new(t.store.clone());
        let r = Runner::new(&core, Platform::Telegram, "4", Some("en"));
        assert!(r.say("/sync").await.contains("RUNCOACH_SECRET_KEY"));
    }
}

mod coaching {
    use std::sync::Arc;

    use runcoach_core::knowledge::KnowledgeBase;

    use super::*;

    fn kb() -> Arc<KnowledgeBase> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge_base");
        Arc::new(KnowledgeBase::with_embedder(&dir, None).expect("the knowledge base loads"))
    }

    async fn free_text_is_answered_from_the_knowledge_base(t: TestStore) {
        let core = BotCore::new(t.store.clone()).with_knowledge(Some(kb()));
        let fr = Runner::new(&core, Platform::Telegram, "1", Some("fr"));
        let text = fr.say("j'ai mal au tibia depuis hier, je fais quoi demain ?").await;
        assert!(text.contains("Voici ce que dit notre guide"), "{text}");
        assert!(text.to_lowercase().contains("tibia"), "{text}");
        assert!(text.contains("📚") && text.contains("consulte un médecin"), "source and safety note: {text}");
        let en = Runner::new(&core, Platform::Telegram, "2", Some("en"));
        let text = en.say("How should I taper before a marathon?").await;
        assert!(text.contains("Here's what our guide says") && text.to_lowercase().contains("taper"), "{text}");
        assert!(!text.contains("not a doctor"), "no medical note for a training question: {text}");
        // Common requests go to the command that does them.
        assert!(en.say("show me my stats").await.contains("I don't have any runs yet"));
        assert!(en.say("I want a plan for a 10k").await.contains("What is your goal?"));
        // The conversation is kept for the coach.
        let user = t.store.find_user(&ident(Platform::Telegram, "1")).await.unwrap().unwrap();
        let chat = runcoach_core::chat::ChatKey { platform: Platform::Telegram, chat_id: "chat-1".into() };
        let turns = t.store.recent_messages(user.id, &chat, 10).await.unwrap();
        assert_eq!(turns.len(), 2);
        assert!(turns[0].content.contains("tibia"));
    }

    on_both_stores!(free_text_is_answered_from_the_knowledge_base);
}

mod weekly_summary {
    use super::*;

    async fn summary_now_on_off_and_time(t: TestStore) {
        let core = BotCore::new(t.store.clone());
        let r = Runner::new(&core, Platform::Telegram, "1", Some("en"));
        assert!(r.say("/summary").await.contains("Weekly summary off"));
        let on = r.say("/summary on").await;
        assert!(on.contains("Weekly summary on") && on.contains("next one on"), "{on}");
        assert!(r.say("/summary").await.contains("Weekly summary on"));
        let bad = r.say("/summary time \"every tuesday\"").await;
        assert!(bad.contains("5-field cron"), "{bad}");
        let ok = r.say("/summary time \"30 7 * * 2\"").await;
        assert!(ok.contains("New time saved") && ok.contains("07:30"), "{ok}");
        let now = r.send("/summary now").await;
        assert!(joined(&now).contains("Weekly summary"), "{}", joined(&now));
        assert!(now.iter().any(|x| x.attachment.as_ref().is_some_and(|a| a.mime == "image/png")), "a chart");
        assert!(r.say("/summary off").await.contains("Weekly summary off"));
        let group = Runner::new(&core, Platform::Telegram, "2", Some("en")).in_group("-1");
        assert!(group.say("/summary now").await.contains("message me privately"));
    }

    on_both_stores!(summary_now_on_off_and_time);
}

//! `/club` on a club's Discord server, driven like the adapter drives the core: joining (on the
//! leaderboard or hidden), the leaderboard of the week and the month with three members, and the
//! digest's channel chosen by an admin only. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use chrono::{Datelike, Duration, Utc};
use runcoach_core::chat::{BotCore, ChatRef, ClubRef, Reply};
use runcoach_core::domain::{Platform, PlatformIdentity};
use runcoach_core::i18n::Lang;
use runcoach_core::message::{ChatKey, Notifier, NotifyError};
use runcoach_core::scheduler::{self, Clock, TestClock};
use runcoach_core::store::ScheduleKind;
use runcoach_core::store::{NewActivity, Store};
use support::{Runner, TestStore};

const GUILD: &str = "81384788765712384";
const CHANNEL: &str = "81384788765712390";

fn member<'a>(core: &'a BotCore, id: &str, name: &str, lang: &str, admin: bool) -> Runner<'a> {
    let mut r = Runner::new(core, Platform::Discord, id, Some(lang));
    r.sender.username = Some(name.to_owned());
    r.chat = ChatRef { id: CHANNEL.to_owned(), private: false, club: Some(ClubRef { guild_id: GUILD.into(), admin }) };
    r
}

/// `km` kilometres at 5:30 /km, `days_ago` days before today (UTC, mid-day).
async fn run(store: &dyn Store, discord_id: &str, km: f64, days_ago: i64, n: usize) {
    let ident = PlatformIdentity { platform: Platform::Discord, platform_user_id: discord_id.to_owned() };
    let user = store.find_user(&ident).await.unwrap().unwrap();
    // Distinct start times: the store takes two runs starting together for one.
    let hour = 6 + 2 * u32::try_from(n).unwrap();
    let start = (Utc::now().date_naive() - Duration::days(days_ago)).and_hms_opt(hour, 0, 0).unwrap().and_utc();
    let activity = NewActivity {
        source: "test".into(),
        external_id: Some(format!("{discord_id}-{days_ago}-{n}")),
        sport: runcoach_core::science::ActivityKind::Running,
        start_time: start,
        duration_s: km * 330.0,
        distance_m: Some(km * 1000.0),
        ..NewActivity::default()
    };
    store.insert_activity(user.id, &activity).await.unwrap();
}

async fn leaderboard_lists_only_opted_in_members(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let ana = member(&core, "1001", "Ana", "en", false);
    let bob = member(&core, "1002", "Bob", "en", false);
    let cy = member(&core, "1003", "Cyril", "fr", false);
    assert!(ana.say("/club join").await.contains("Welcome to the club"));
    assert!(bob.say("/club join hidden").await.contains("without appearing on the leaderboard"));
    assert!(cy.say("/club rejoindre").await.contains("Bienvenue au club"));

    // Today: everyone ran. Ana 10 km twice, Bob 30 km (hidden), Cyril 12 km.
    run(t.store.as_ref(), "1001", 10.0, 0, 1).await;
    run(t.store.as_ref(), "1001", 10.0, 0, 2).await;
    run(t.store.as_ref(), "1002", 30.0, 0, 1).await;
    run(t.store.as_ref(), "1003", 12.0, 0, 1).await;
    let text = ana.say("/club leaderboard week").await;
    assert!(text.contains("Club leaderboard — this week"), "{text}");
    assert!(text.contains("🥇 Ana — 20.0 km · 1 h 50 · 2 runs"), "{text}");
    assert!(text.contains("🥈 Cyril — 12.0 km · 1 h 06 · 1 run"), "{text}");
    assert!(!text.contains("Bob") && !text.contains("30.0"), "Bob is hidden: {text}");
    // Nothing personal beyond distance, time and runs.
    assert!(!text.contains("bpm") && !text.contains("/km"), "{text}");

    // French, and the month.
    let text = cy.say("/club classement mois").await;
    assert!(text.contains("Classement du club — ce mois-ci"), "{text}");
    assert!(text.contains("Ana — 20,0 km · 1 h 50 · 2 sorties"), "{text}");

    // A run earlier this month but before this week counts in the month only.
    let today = Utc::now().date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let earlier = (today - monday).num_days() + 1;
    if (today - Duration::days(earlier)).month() == today.month() {
        run(t.store.as_ref(), "1003", 15.0, earlier, 2).await;
        assert!(cy.say("/club classement semaine").await.contains("Cyril — 12,0 km"));
        assert!(cy.say("/club classement mois").await.contains("🥇 Cyril — 27,0 km"));
    }

    // Leaving takes Ana off the board.
    assert!(ana.say("/club leave").await.contains("You left the club"));
    assert!(!ana.say("/club leaderboard").await.contains("Ana"));
    assert!(ana.say("/club leave").await.contains("weren't a club member"));
}

async fn only_admins_choose_the_digest_channel(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let member = member(&core, "2001", "Zoé", "fr", false);
    let text = member.say("/club resume").await;
    assert!(text.contains("Seuls les administrateurs"), "{text}");
    let channel = ChatKey { platform: Platform::Discord, chat_id: "555000111".into() };
    assert!(t.store.schedule(ScheduleKind::ClubDigest, &channel).await.unwrap().is_none());

    let mut malik = support::Runner::new(&core, Platform::Discord, "2002", Some("en"));
    malik.chat =
        ChatRef { id: CHANNEL.to_owned(), private: false, club: Some(ClubRef { guild_id: GUILD.into(), admin: true }) };
    let text = malik.say("/club digest <#555000111>").await;
    assert!(text.contains("Every Monday at 08:00") && text.contains("<#555000111>"), "{text}");
    let s = t.store.schedule(ScheduleKind::ClubDigest, &channel).await.unwrap().unwrap();
    assert!(s.enabled);
    assert_eq!(s.guild_id.as_deref(), Some(GUILD));
    assert!(s.next_run_at.is_some());
    assert_eq!(s.lang, Some(Lang::En), "the digest speaks its admin's language");
    let text = malik.say("/club digest off 555000111").await;
    assert!(text.contains("no longer be posted"), "{text}");
    assert!(!t.store.schedule(ScheduleKind::ClubDigest, &channel).await.unwrap().unwrap().enabled);
}

#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(ChatKey, String)>>);

#[async_trait::async_trait]
impl Notifier for Recorder {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        let text = replies.iter().map(|r| r.text.clone()).collect::<Vec<_>>().join("\n");
        self.0.lock().unwrap().push((chat.clone(), text));
        Ok(())
    }
}

async fn a_french_admin_gets_a_french_digest(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let mut lea = Runner::new(&core, Platform::Discord, "4001", Some("fr"));
    lea.sender.username = Some("Léa".into());
    lea.chat =
        ChatRef { id: CHANNEL.to_owned(), private: false, club: Some(ClubRef { guild_id: GUILD.into(), admin: true }) };
    assert!(lea.say("/club rejoindre").await.contains("Bienvenue au club"));
    run(t.store.as_ref(), "4001", 10.0, 0, 1).await;
    assert!(lea.say("/club resume").await.contains(&format!("<#{CHANNEL}>")));
    let channel = ChatKey { platform: Platform::Discord, chat_id: CHANNEL.into() };
    let s = t.store.schedule(ScheduleKind::ClubDigest, &channel).await.unwrap().unwrap();
    assert_eq!(s.lang, Some(Lang::Fr));
    let clock = TestClock::at(s.next_run_at.unwrap() + Duration::minutes(1));
    assert_eq!(scheduler::enqueue_due(t.store.as_ref(), clock.now()).await.unwrap().enqueued, 1);
    let notifier = Recorder::default();
    assert_eq!(scheduler::run_once(t.store.as_ref(), "w", &notifier, &clock).await.unwrap().sent, 1);
    let sent = notifier.0.lock().unwrap().clone();
    assert_eq!(sent[0].0, channel);
    assert!(sent[0].1.contains("Le club cette semaine") && sent[0].1.contains("Léa — 10,0 km"), "{}", sent[0].1);
}

async fn club_needs_a_server_and_explains_itself(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let dm = Runner::new(&core, Platform::Discord, "3001", Some("en"));
    assert!(dm.say("/club join").await.contains("Clubs live on the club's Discord server"));
    let text = dm.say("/club").await;
    assert!(text.contains("/club leaderboard [week|month]") && text.contains("/club digest"), "{text}");
    let fr = Runner::new(&core, Platform::Telegram, "3002", Some("fr"));
    assert!(fr.say("/club").await.contains("/club classement [semaine|mois]"));
    assert!(fr.say("/club rejoindre").await.contains("serveur Discord du club"));
}

on_both_stores!(
    leaderboard_lists_only_opted_in_members,
    only_admins_choose_the_digest_channel,
    club_needs_a_server_and_explains_itself,
    a_french_admin_gets_a_french_digest,
);

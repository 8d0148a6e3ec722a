//! Limits shared by every instance, on both stores: messages per runner per minute (two cores on
//! one database count together), imports per hour, Garmin logins per runner and for everyone
//! (refused before Garmin sees them), every login stopped while a Garmin 429 lasts; ended windows
//! are purged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use runcoach_core::chat::{BotCore, GarminService};
use runcoach_core::clock::TestClock;
use runcoach_core::domain::Platform;
use runcoach_core::garmin::TokenSealer;
use runcoach_core::limits::{self, Limits, Rule, Verdict};
use support::garmin_fake::{self, EMAIL, Fake, PASSWORD};
use support::{Runner, TestStore, joined};

fn limits_of(messages: i64, imports: i64, garmin: i64, garmin_all: i64) -> Limits {
    let d = Limits::default();
    Limits {
        messages: d.messages.with_max(messages),
        imports: d.imports.with_max(imports),
        garmin_logins: d.garmin_logins.with_max(garmin),
        garmin_logins_all: d.garmin_logins_all.with_max(garmin_all),
        ..d
    }
}

async fn windows_count_deny_and_are_purged(t: TestStore) {
    let store = t.store.as_ref();
    let rule = Rule::new("test", 2, Duration::minutes(1));
    let now = Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 30).unwrap();
    assert_eq!(limits::take(store, rule, "a", now).await.unwrap(), Verdict::Allowed);
    assert_eq!(limits::take(store, rule, "a", now).await.unwrap(), Verdict::Allowed);
    let end = Utc.with_ymd_and_hms(2026, 12, 5, 10, 1, 0).unwrap();
    assert_eq!(limits::take(store, rule, "a", now).await.unwrap(), Verdict::Denied { retry_at: end });
    assert_eq!(limits::take(store, rule, "b", now).await.unwrap(), Verdict::Allowed, "keys count apart");
    assert_eq!(limits::take(store, rule, "a", end).await.unwrap(), Verdict::Allowed, "a new window");
    // A budget: checked before, spent after.
    let tokens = Rule::new("tokens", 100, Duration::days(1));
    assert!(limits::check(store, tokens, "all", now).await.unwrap().is_allowed());
    assert_eq!(limits::spend(store, tokens, "all", now, 60).await.unwrap(), 60);
    assert!(limits::check(store, tokens, "all", now).await.unwrap().is_allowed());
    assert_eq!(limits::spend(store, tokens, "all", now, 60).await.unwrap(), 120);
    assert!(!limits::check(store, tokens, "all", now).await.unwrap().is_allowed());
    // A rule at 0 is off.
    assert!(limits::take(store, rule.with_max(0), "a", now).await.unwrap().is_allowed());
    // Ended windows go; the day's budget stays.
    assert_eq!(store.purge_windows(end + Duration::seconds(1)).await.unwrap(), 2);
    assert_eq!(
        store.window_hits("tokens:all", Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap()).await.unwrap(),
        120
    );
}

async fn messages_are_limited_across_instances(t: TestStore) {
    let clock = Arc::new(TestClock::at(Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 5).unwrap()));
    let limits = limits_of(4, 30, 5, 60);
    let one = BotCore::new(t.store.clone()).with_clock(clock.clone()).with_limits(limits);
    let two = BotCore::new(t.second_instance().await).with_clock(clock.clone()).with_limits(limits);
    let ana_one = Runner::new(&one, Platform::Telegram, "ana", Some("en"));
    let ana_two = Runner::new(&two, Platform::Telegram, "ana", Some("en"));
    for _ in 0..2 {
        assert!(!ana_one.say("/help").await.starts_with("⏳"));
        assert!(!ana_two.say("/help").await.starts_with("⏳"));
    }
    let refused = ana_one.say("/help").await;
    assert_eq!(refused, "⏳ Easy there: you've reached the limit for now, try again in 55 s.");
    // Someone else is not affected; in French the same limit reads in French.
    let bea = Runner::new(&two, Platform::Telegram, "bea", Some("fr"));
    assert!(!bea.say("/aide").await.starts_with("⏳"));
    for _ in 0..4 {
        bea.send("/aide").await;
    }
    assert!(bea.say("/aide").await.starts_with("⏳ Doucement : tu as atteint la limite pour le moment, réessaie dans"));
    // The next minute, ana is heard again.
    clock.advance(Duration::minutes(1));
    assert!(!ana_two.say("/help").await.starts_with("⏳"));
}

async fn imports_are_limited_per_hour(t: TestStore) {
    let core = BotCore::new(t.store.clone()).with_limits(limits_of(60, 1, 5, 60));
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    ana.send("/start").await;
    ana.send_file("run.fit", support::fixture("fit/activity-small-fenix2-run.fit")).await;
    let refused = joined(&ana.send_file("ride.fit", support::fixture("fit/hrv-activity.fit")).await);
    assert!(refused.starts_with("⏳ You've sent a lot of files this hour (1 at most): try again in"), "{refused}");
    let ident =
        runcoach_core::domain::PlatformIdentity { platform: Platform::Telegram, platform_user_id: "ana".into() };
    let id = t.store.find_user(&ident).await.unwrap().unwrap().id;
    assert_eq!(t.store.activities(id, None).await.unwrap().len(), 1, "the refused file stored nothing");
}

async fn try_login(r: &Runner<'_>, password: &str) -> Vec<runcoach_core::chat::Reply> {
    r.send("/sync").await;
    r.send(EMAIL).await;
    r.send(password).await
}

async fn garmin_logins_are_limited_before_garmin_sees_them(t: TestStore) {
    let (client, fake) = garmin_fake::serve(Fake::default()).await;
    let service = Arc::new(GarminService::new(client, TokenSealer::from_key(&[7; 32])));
    let core = BotCore::new(t.store.clone()).with_garmin(Some(service)).with_limits(limits_of(60, 30, 2, 3));
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    for _ in 0..2 {
        assert!(joined(&try_login(&ana, "wrong-password").await).contains("Garmin rejected that email or password"));
    }
    let logins = garmin_fake::hits(&fake, "login");
    assert_eq!(logins, 2);
    // A third guess is refused here: Garmin never sees it, and the password still disappears.
    let refused = try_login(&ana, PASSWORD).await;
    assert!(refused[0].text.starts_with("⏳ Too many Garmin login attempts this hour: try again in"), "{refused:?}");
    assert!(refused[0].delete_incoming);
    assert_eq!(garmin_fake::hits(&fake, "login"), 2);
    // Everyone together: a third runner's attempt is the last the service allows this hour.
    let bea = Runner::new(&core, Platform::Telegram, "bea", Some("fr"));
    assert!(joined(&try_login(&bea, "nope").await).contains("Garmin refuse cet e-mail"));
    let cam = Runner::new(&core, Platform::Telegram, "cam", Some("fr"));
    let refused = joined(&try_login(&cam, PASSWORD).await);
    assert!(
        refused.starts_with("⏳ Beaucoup de coureurs se connectent à Garmin en ce moment : réessaie dans"),
        "{refused}"
    );
    assert_eq!(garmin_fake::hits(&fake, "login"), 3);
}

async fn a_garmin_429_stops_every_login(t: TestStore) {
    let (client, fake) =
        garmin_fake::serve(Fake { login_status: Some(StatusCode::TOO_MANY_REQUESTS), ..Fake::default() }).await;
    let service = Arc::new(GarminService::new(client, TokenSealer::from_key(&[7; 32])));
    let core = BotCore::new(t.store.clone()).with_garmin(Some(service));
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    ana.send("/sync").await;
    ana.send(EMAIL).await;
    assert!(joined(&ana.send(PASSWORD).await).contains("Garmin is refusing logins"));
    let paused = t.store.provider_paused_until("garmin", Utc::now()).await.unwrap().expect("paused");
    assert!(paused > Utc::now() + Duration::minutes(59), "for the Retry-After: {paused}");
    // Another runner's login is not even tried.
    let bea = Runner::new(&core, Platform::Telegram, "bea", Some("en"));
    bea.send("/sync").await;
    bea.send(EMAIL).await;
    let refused = bea.send(PASSWORD).await;
    assert!(refused[0].text.starts_with("⏳ Garmin is refusing logins right now"), "{refused:?}");
    assert!(
        refused[0].text.contains("try again in 60 min") || refused[0].text.contains("try again in 1 hour"),
        "{refused:?}"
    );
    assert_eq!(garmin_fake::hits(&fake, "login"), 1);
}

on_both_stores!(
    windows_count_deny_and_are_purged,
    messages_are_limited_across_instances,
    imports_are_limited_per_hour,
    garmin_logins_are_limited_before_garmin_sees_them,
    a_garmin_429_stops_every_login,
);

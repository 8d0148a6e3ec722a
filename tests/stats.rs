//! `/stats` on both stores: form (CTL/ATL/TSB) read in plain words with its 12-week chart, heart-rate
//! zones with where their bounds come from, the profile's VMA and VO2max, a returning runner's
//! last known VDOT with its date and the detraining estimate, and distances in the profile's
//! units, in both languages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use runcoach_core::chat::{AttachmentKind, BotCore};
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::scheduler::TestClock;
use runcoach_core::science::ActivityKind;
use runcoach_core::store::{NewActivity, Store};
use support::{Runner, TestStore};

async fn user_of(store: &dyn Store, id: &str) -> UserId {
    let ident = PlatformIdentity { platform: Platform::Telegram, platform_user_id: id.into() };
    store.find_user(&ident).await.unwrap().unwrap().id
}

fn run(day: NaiveDate, km: f64, minutes: f64, hr: f64) -> NewActivity {
    NewActivity {
        source: "file".into(),
        external_id: Some(format!("{day}-{km}")),
        sport: ActivityKind::Running,
        start_time: day.and_hms_opt(7, 0, 0).unwrap().and_utc(),
        duration_s: minutes * 60.0,
        moving_s: Some(minutes * 60.0),
        distance_m: Some(km * 1000.0),
        avg_hr: Some(hr),
        max_hr: Some(hr + 12.0),
        ..NewActivity::default()
    }
}

/// Ten weeks of four runs (three 10 km easy, one 16 km long) ending `last`, with a 5 km race in
/// 20:00 two weeks before it.
async fn regular_history(store: &dyn Store, id: UserId, last: NaiveDate) {
    for w in 0..10 {
        let sunday = last - Duration::weeks(w);
        for k in [6, 4, 2] {
            store.insert_activity(id, &run(sunday - Duration::days(k), 10.0, 55.0, 140.0)).await.unwrap();
        }
        store.insert_activity(id, &run(sunday, 16.0, 92.0, 145.0)).await.unwrap();
    }
    store.insert_activity(id, &run(last - Duration::days(13), 5.0, 20.0, 176.0)).await.unwrap();
}

async fn stats_show_form_zones_and_the_profile(t: TestStore) {
    let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let clock = Arc::new(TestClock::at(Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap()));
    let core = BotCore::new(t.store.clone()).with_clock(clock);
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    ana.send("/start").await;
    let id = user_of(t.store.as_ref(), "ana").await;
    regular_history(t.store.as_ref(), id, today - Duration::days(1)).await;

    let replies = ana.send("/stats").await;
    assert_eq!(replies.len(), 1);
    let text = &replies[0].text;
    assert!(text.contains("📈 **Form**: fitness (CTL) "), "{text}");
    assert!(text.contains("· form (TSB) ") && text.contains(" → "), "{text}");
    // Max HR seen in the runs (188), zones as % of it, and how to give one's own.
    assert!(
        text.contains("❤️ **HR zones** (% of max HR; max HR 188, the highest seen in your runs): Z1 94–113"),
        "{text}"
    );
    assert!(text.contains("/profile max_hr N to use yours."), "{text}");
    assert!(text.contains("• VDOT 50 (best recent effort, "), "{text}");
    assert!(text.contains("MAS (VMA) ") && text.contains("(estimated from your VDOT)"), "{text}");
    let chart = replies[0].attachment.as_ref().expect("the form chart");
    assert_eq!(
        (chart.kind, chart.name.as_str(), chart.mime.as_str()),
        (AttachmentKind::Image, "form.png", "image/png")
    );
    assert_eq!(&chart.data[..8], b"\x89PNG\r\n\x1a\n");

    // The profile's own numbers win, and miles everywhere distances show.
    ana.send("/profile max_hr 192").await;
    ana.send("/profile resting_hr 48").await;
    ana.send("/profile vma 17.5").await;
    ana.send("/profile vo2max 58").await;
    ana.send("/profile units miles").await;
    let text = ana.say("/stats").await;
    assert!(text.contains("(Karvonen, with your resting HR; max HR 192 from your profile): Z1 120–134"), "{text}");
    assert!(!text.contains("to use yours"), "{text}");
    assert!(text.contains("• MAS (VMA) 10.9 mph (your profile)"), "{text}");
    assert!(text.contains("• VO2max 58 ml/kg/min (your profile)"), "{text}");
    assert!(text.contains(" mi in total") && text.contains(" mi a week"), "{text}");
    // The level's reason is the science's own sentence, still in km.
    assert!(text.lines().filter(|l| !l.starts_with("• Level")).all(|l| !l.contains(" km")), "{text}");
    let list = ana.say("/activities 3").await;
    assert!(list.contains(" mi · ") && list.contains(" /mi") && !list.contains("/km"), "{list}");

    // In French.
    ana.send("/language fr").await;
    ana.send("/profile unites km").await;
    let text = ana.say("/stats").await;
    assert!(text.contains("📈 **Forme** : condition (CTL) "), "{text}");
    assert!(
        text.contains("❤️ **Zones FC** (Karvonen, avec ta FC de repos ; FC max 192 de ton profil) : Z1 120–134"),
        "{text}"
    );
    assert!(text.contains("• VMA 17,5 km/h (ton profil)"), "{text}");
    assert!(text.contains(" km au total"), "{text}");
}

async fn a_returning_runner_gets_the_last_known_vdot(t: TestStore) {
    let clock = Arc::new(TestClock::at(Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap()));
    let core = BotCore::new(t.store.clone()).with_clock(clock);
    let bea = Runner::new(&core, Platform::Telegram, "bea", Some("fr"));
    bea.send("/start").await;
    let id = user_of(t.store.as_ref(), "bea").await;
    // Fifteen months without running.
    let last = NaiveDate::from_ymd_opt(2025, 9, 7).unwrap();
    regular_history(t.store.as_ref(), id, last).await;

    let replies = bea.send("/stats").await;
    let text = &replies[0].text;
    assert!(
        text.contains(
            "• Dernière VDOT connue : 50 (le 25/08/2025). Sans course depuis 15 mois, compte plutôt ~42 aujourd'hui"
        ),
        "{text}"
    );
    assert!(
        text.contains("(Coyle 1984)") && text.contains("📚 « Reprendre la course après une coupure ou une blessure »"),
        "{text}"
    );
    assert!(text.contains("📈 **Forme** : pas assez de charge récente"), "{text}");
    assert!(!text.contains("-0"), "no negative zero: {text}");
    assert!(replies[0].attachment.is_none(), "no load in 12 weeks: no form chart");
    bea.send("/language en").await;
    let text = bea.say("/stats").await;
    assert!(
        text.contains("• Last known VDOT: 50 (on 2025-08-25). With no run for 15 months, expect about 42 today"),
        "{text}"
    );
}

on_both_stores!(stats_show_form_zones_and_the_profile, a_returning_runner_gets_the_last_known_vdot);

//! Activities in the chat on both stores: `/activities` lists the runner's own with buttons,
//! `/activity N` shows laps, heart-rate zones and a PNG chart; another runner's id and nonsense
//! read as not found, in both languages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use runcoach_core::chat::{AttachmentKind, BotCore};
use runcoach_core::domain::{Platform, PlatformIdentity};
use support::{Runner, TestStore, button, joined};

async fn activities_are_listed_and_shown_to_their_runner_only(t: TestStore) {
    let core = BotCore::new(t.store.clone());
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    ana.send("/start").await;
    assert!(ana.say("/activities").await.starts_with("No activity yet"));
    ana.send_file("run.fit", support::fixture("fit/activity-small-fenix2-run.fit")).await;
    ana.send_file("ride.fit", support::fixture("fit/hrv-activity.fit")).await;
    let ident = PlatformIdentity { platform: Platform::Telegram, platform_user_id: "ana".into() };
    let id = t.store.find_user(&ident).await.unwrap().unwrap().id;
    let stored = t.store.recent_activities(id, 10).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored[0].start_time >= stored[1].start_time, "newest first");
    let run = stored.iter().find(|a| a.sport.is_running()).unwrap().id;

    let list = ana.send("/activities").await;
    let text = joined(&list);
    assert!(text.starts_with("🏃 **Your latest activities**"), "{text}");
    assert!(text.contains(&format!("#{run} ")) && text.contains(" km · ") && text.contains("/km"), "{text}");
    // A button opens one in detail.
    let shown = ana.press(&button(&list, &format!("🔎 #{run}"))).await;
    assert_eq!(shown.len(), 1);
    let detail = &shown[0];
    assert!(detail.text.starts_with(&format!("**#{run} ")), "{}", detail.text);
    assert!(detail.text.contains("**Laps**") && detail.text.contains(" 1. "), "{}", detail.text);
    let chart = detail.attachment.as_ref().expect("a chart");
    assert_eq!((chart.kind, chart.mime.as_str()), (AttachmentKind::Image, "image/png"));
    assert_eq!(&chart.data[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(t.store.activity_laps(id, run).await.unwrap().len(), detail.text.matches(" km · ").count() - 1);

    // Another runner guessing the id sees nothing of it; nonsense asks which.
    let bea = Runner::new(&core, Platform::Telegram, "bea", Some("fr"));
    bea.send("/start").await;
    let guess = bea.send(&format!("/activity {run}")).await;
    assert!(guess[0].text.starts_with("Je ne trouve pas cette activité") && guess[0].attachment.is_none());
    assert!(bea.say("/activity abc").await.starts_with("Quelle activité ?"));
    assert!(bea.say("/activity 999999").await.starts_with("Je ne trouve pas"));
    assert!(bea.say("/activites").await.starts_with("Aucune activité"));
    // Personal: refused in a group.
    let group = Runner::new(&core, Platform::Telegram, "ana", Some("en")).in_group("club");
    let refused = group.say(&format!("/activity {run}")).await;
    assert!(!refused.contains("**Laps**"), "{refused}");
}

on_both_stores!(activities_are_listed_and_shown_to_their_runner_only);

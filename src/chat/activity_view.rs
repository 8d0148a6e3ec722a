//! `/activities [n]` and `/activity N`: the runner's recent activities with buttons, and one in
//! detail (laps, time in heart-rate zones, elevation, a PNG of pace and heart rate along the
//! distance). Only the runner's own: an id that is not theirs reads as not found.

use super::flow::{BTN_COMMAND, Failure, FlowCtx};
use super::{Attachment, AttachmentKind, Button, Reply};
use crate::charts;
use crate::domain::Units;
use crate::i18n::{self, Lang};
use crate::science::format_duration;
use crate::store::ActivityRecord;

/// `5:12 /km`, when there is a distance to speak of.
pub(super) fn pace_of(distance_m: Option<f64>, seconds: f64) -> Option<f64> {
    let km = distance_m? / 1000.0;
    (km > 0.2).then(|| (seconds / km).round())
}

fn line(a: &ActivityRecord, lang: Lang, units: Units) -> String {
    let mut parts = vec![format!(
        "#{} {} — {}",
        a.id,
        i18n::date_short(lang, (a.start_time + chrono::Duration::seconds(i64::from(a.utc_offset_s))).date_naive()),
        super::activity_flow::sport_label(a.sport, lang)
    )];
    if let Some(d) = a.distance_m.filter(|d| *d > 0.0) {
        parts.push(units.distance(lang, d / 1000.0, 2));
    }
    parts.push(format_duration(a.duration_s));
    if let Some(p) = pace_of(a.distance_m, a.moving_s.unwrap_or(a.duration_s)) {
        parts.push(units.pace(p));
    }
    if let Some(hr) = a.avg_hr {
        parts.push(format!("♥ {hr:.0}"));
    }
    parts.join(" · ")
}

/// `/activities [n]`
pub(super) async fn list(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let n = args.split_whitespace().next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(10).clamp(1, 30);
    let items = ctx.store.recent_activities(ctx.user.id, n).await?;
    if items.is_empty() {
        return Ok(vec![Reply::text(lang.pick(
            "Aucune activité pour l'instant : envoie-moi un fichier FIT, GPX ou TCX, ou connecte Garmin avec /sync.",
            "No activity yet: send me a FIT, GPX or TCX file, or connect Garmin with /sync.",
        ))]);
    }
    let head = lang.pick("🏃 **Tes dernières activités**", "🏃 **Your latest activities**");
    let lines: Vec<String> = items.iter().map(|a| line(a, lang, ctx.user.units)).collect();
    let buttons: Vec<Button> = items
        .iter()
        .take(5)
        .map(|a| Button::new(format!("🔎 #{}", a.id), format!("{BTN_COMMAND}/activity {}", a.id)))
        .collect();
    let hint = lang.pick("\n\n/activity N pour le détail.", "\n\n/activity N for the details.");
    Ok(vec![Reply::text(format!("{head}\n{}{hint}", lines.join("\n"))).with_buttons(vec![buttons])])
}

/// `/activity N`
pub(super) async fn show(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let id = args.split_whitespace().next().map(|w| w.trim_start_matches('#')).and_then(|w| w.parse::<i64>().ok());
    let Some(id) = id else {
        return Ok(vec![Reply::text(lang.pick(
            "Quelle activité ? Par exemple `/activity 12` (/activities les liste avec leur numéro).",
            "Which activity? For example `/activity 12` (/activities lists them with their number).",
        ))]);
    };
    let Some(a) = ctx.store.activity(ctx.user.id, id).await? else {
        return Ok(vec![Reply::text(lang.pick(
            "Je ne trouve pas cette activité parmi les tiennes (/activities les liste).",
            "I can't find that activity among yours (/activities lists them).",
        ))]);
    };
    let laps = ctx.store.activity_laps(ctx.user.id, id).await?;
    let samples = ctx.store.activity_samples(ctx.user.id, id).await?.unwrap_or_default();
    let units = ctx.user.units;
    let mut text = format!("**{}**", line(&a, lang, units));
    if let Some(name) = a.name.as_deref().filter(|n| !n.trim().is_empty()) {
        text.push_str(&format!("\n{}", name.chars().take(80).collect::<String>()));
    }
    if let Some(up) = a.elevation_gain_m.filter(|u| *u >= 1.0) {
        text.push_str(&format!("\n⛰️ {} {up:.0} m", lang.pick("Dénivelé +", "Elevation gain")));
    }
    if let Some(max) = a.max_hr {
        text.push_str(&format!("\n♥ {} {max:.0} bpm", lang.pick("FC max", "Max HR")));
    }
    if let Some(zones) = a.hr_zones_s.as_ref().filter(|z| z.iter().sum::<f64>() > 0.0) {
        let total: f64 = zones.iter().sum();
        let parts: Vec<String> = zones
            .iter()
            .enumerate()
            .map(|(i, s)| format!("Z{} {} ({:.0} %)", i + 1, format_duration(*s), s / total * 100.0))
            .collect();
        text.push_str(&format!("\n{} {}", lang.pick("Zones FC :", "HR zones:"), parts.join(" · ")));
    }
    if !laps.is_empty() {
        text.push_str(lang.pick("\n\n**Tours**", "\n\n**Laps**"));
        for (i, lap) in laps.iter().enumerate().take(60) {
            let distance = lap.distance_m.map_or("–".to_owned(), |d| units.distance(lang, d / 1000.0, 2));
            let pace = pace_of(lap.distance_m, lap.duration_s).map(|p| units.pace(p)).unwrap_or_default();
            let hr = lap.avg_hr.map(|h| format!(" · ♥ {h:.0}")).unwrap_or_default();
            text.push_str(&format!("\n{:>2}. {distance} · {} · {pace}{hr}", i + 1, format_duration(lap.duration_s)));
        }
    }
    let mut reply = Reply::text(text);
    match charts::activity_png(&samples.points, &laps, lang, units) {
        Ok(Some(png)) => {
            reply = reply.with_attachment(Attachment {
                kind: AttachmentKind::Image,
                name: format!("activity-{id}.png"),
                mime: "image/png".into(),
                data: png,
            });
        }
        Ok(None) => {}
        // The numbers still go out without their picture.
        Err(e) => tracing::warn!(error = %e, "activity chart not drawn"),
    }
    Ok(vec![reply])
}

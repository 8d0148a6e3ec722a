//! The weekly summary in words (light markdown, French or English), as JSON, and as chat replies.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, Weekday};
use serde_json::Value;

use super::{WeeklySummary, chart_png};
use crate::domain::Units;
use crate::i18n::{Lang, agree, count, number};
use crate::message::{Attachment, AttachmentKind, Reply};
use crate::science::ActivityKind;

pub(super) fn weekday(lang: Lang, d: Weekday) -> &'static str {
    crate::i18n::weekday_short(lang, d)
}

pub(super) fn month(lang: Lang, m: u32) -> &'static str {
    let names = match lang {
        Lang::Fr => ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
        Lang::En => ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    };
    names.get(m.saturating_sub(1) as usize).copied().unwrap_or("")
}

/// `Tue 18 Mar` / `mar. 18 mars`.
pub(super) fn day(lang: Lang, d: NaiveDate) -> String {
    format!("{} {} {}", weekday(lang, d.weekday()), d.day(), month(lang, d.month()))
}

/// `1 h 05` / `48 min`.
pub(super) fn minutes(m: f64) -> String {
    let total = m.max(0.0).round() as i64;
    if total >= 60 { format!("{} h {:02}", total / 60, total % 60) } else { format!("{total} min") }
}

pub(super) fn km(lang: Lang, v: f64) -> String {
    format!("{} km", number(lang, v, 1))
}

fn pace(s_per_km: f64) -> String {
    let s = s_per_km.max(0.0).round() as i64;
    format!("{}:{:02} /km", s / 60, s % 60)
}

/// A label and its colon, with French spacing (`Charge :`, `Load:`).
fn lbl(lang: Lang, fr: &str, en: &str) -> String {
    match lang {
        Lang::Fr => format!("{fr} :"),
        Lang::En => format!("{en}:"),
    }
}

fn pct(lang: Lang, share: f64) -> String {
    format!("{} %", number(lang, share * 100.0, 0))
}

fn kind_note(lang: Lang, kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Trail => lang.pick(" (trail)", " (trail)"),
        ActivityKind::Treadmill => lang.pick(" (tapis)", " (treadmill)"),
        ActivityKind::Track => lang.pick(" (piste)", " (track)"),
        ActivityKind::Indoor | ActivityKind::Virtual => lang.pick(" (intérieur)", " (indoor)"),
        _ => "",
    }
}

/// The summary as a chat message: a bold title, short bullet lines, no tables.
#[must_use]
pub fn render(s: &WeeklySummary, lang: Lang) -> String {
    let mut out = String::new();
    let (a, b) = (s.week_start, s.week_end);
    let _ = write!(
        out,
        "**{} {} ({} – {})**",
        lang.pick("📊 Bilan de la semaine", "📊 Weekly summary: week"),
        s.week.week(),
        day(lang, a),
        day(lang, b)
    );
    if s.partial {
        out.push_str(lang.pick(" _(semaine en cours)_", " _(week in progress)_"));
    }
    out.push('\n');

    if s.run_count == 0 {
        out.push_str(lang.pick("Aucune sortie enregistrée cette semaine.", "No runs recorded this week."));
        if s.other_activities > 0 {
            let others = count(
                lang,
                u64::from(s.other_activities),
                ["autre activité", "autres activités"],
                ["other activity", "other activities"],
            );
            let _ = write!(out, " {others}.");
        }
        out.push('\n');
    } else {
        let runs = count(lang, u64::from(s.run_count), ["sortie", "sorties"], ["run", "runs"]);
        let _ = write!(out, "🏃 **{runs}** · **{}** · **{}**", km(lang, s.distance_km), minutes(s.duration_min));
        if s.elevation_m >= 1.0 {
            let _ = write!(out, " · {} {}", s.elevation_m, lang.pick("m D+", "m climb"));
        }
        out.push('\n');
        if let Some(l) = &s.long_run {
            let _ = writeln!(
                out,
                "• {} {} {} {} ({})",
                lbl(lang, "Sortie longue", "Long run"),
                km(lang, l.distance_km),
                lang.pick("en", "in"),
                minutes(l.duration_min),
                day(lang, l.date)
            );
        }
        if let Some(i) = &s.intensity {
            let _ = writeln!(
                out,
                "• {} {} {} · {} {} · {} {}",
                lbl(lang, "Intensité", "Intensity"),
                pct(lang, i.easy),
                lang.pick("facile", "easy"),
                pct(lang, i.moderate),
                lang.pick("modéré", "moderate"),
                pct(lang, i.hard),
                lang.pick("dur", "hard")
            );
        }
    }

    // Load and its reading.
    let advice = s.load.reading.advice();
    match s.load.acwr {
        Some(r) => {
            let _ = writeln!(
                out,
                "• {} {} (ACWR {}) — {}",
                lbl(lang, "Charge", "Load"),
                number(lang, s.load.week_load, 0),
                number(lang, r, 2),
                advice.get(lang)
            );
        }
        None => {
            let _ = writeln!(out, "• {} {}", lbl(lang, "Charge", "Load"), advice.get(lang));
        }
    }

    // Plan adherence.
    if let Some(ad) = &s.adherence {
        let _ = write!(
            out,
            "• {} {} {} / {} · {} {} · {} {}",
            lbl(lang, "Plan", "Plan"),
            ad.done,
            agree(lang, u64::from(ad.done), ["faite", "faites"], ["done", "done"]),
            ad.planned,
            ad.skipped,
            agree(lang, u64::from(ad.skipped), ["sautée", "sautées"], ["skipped", "skipped"]),
            ad.moved,
            agree(lang, u64::from(ad.moved), ["déplacée", "déplacées"], ["moved", "moved"])
        );
        if ad.not_logged > 0 {
            let not_logged =
                agree(lang, u64::from(ad.not_logged), ["non renseignée", "non renseignées"], ["not logged"; 2]);
            let _ = write!(out, " · {} {not_logged}", ad.not_logged);
        }
        if ad.upcoming > 0 {
            let _ = write!(out, " · {} {}", ad.upcoming, lang.pick("à venir", "to come"));
        }
        let _ = writeln!(
            out,
            " ({} {} / {} {})",
            km(lang, s.distance_km),
            lang.pick("courus", "run"),
            km(lang, ad.planned_km),
            lang.pick("prévus", "planned")
        );
    }

    // The runs, one per line.
    if !s.runs.is_empty() {
        let _ = writeln!(out, "\n**{}**", lang.pick("Tes sorties", "Your runs"));
        for r in s.runs.iter().take(super::MAX_LISTED_RUNS) {
            let _ = write!(out, "• {} — {}, {}", day(lang, r.date), km(lang, r.distance_km), minutes(r.duration_min));
            if let Some(p) = r.pace_s_per_km {
                let _ = write!(out, " ({})", pace(p));
            }
            out.push_str(kind_note(lang, r.kind));
            out.push('\n');
        }
        if s.runs.len() > super::MAX_LISTED_RUNS {
            let more = s.runs.len() - super::MAX_LISTED_RUNS;
            let _ = writeln!(out, "• … {} {more}", lang.pick("et encore", "and"));
        }
    }

    // Next week.
    let _ = writeln!(out, "\n**{}**", lang.pick("La semaine prochaine", "Next week"));
    if s.next_week.is_empty() {
        out.push_str(if s.has_plan {
            lang.pick("• Pas de séance clé prévue : footings faciles.\n", "• No key session planned: easy runs.\n")
        } else {
            lang.pick(
                "• Pas de plan actif : tape /plan pour en créer un.\n",
                "• No active plan: type /plan to make one.\n",
            )
        });
    } else {
        for k in &s.next_week {
            let _ = write!(
                out,
                "• {} — **{}**, {}",
                day(lang, k.date),
                k.label.get(lang),
                minutes(f64::from(k.duration_min))
            );
            if let Some(d) = k.distance_km {
                let _ = write!(out, " · {}", km(lang, d));
            }
            let desc = k.description.get(lang);
            if !desc.is_empty() {
                let _ = write!(out, " — {desc}");
            }
            out.push('\n');
        }
    }

    out.push('\n');
    out.push_str(s.cheer.text().get(lang));
    out
}

/// The summary as JSON: every number, plus the reading and the encouraging line in both languages.
#[must_use]
pub fn to_json(s: &WeeklySummary) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("format".into(), Value::from("runcoach-weekly-summary/1"));
        obj.insert("load_advice".into(), serde_json::json!(s.load.reading.advice()));
        obj.insert("cheer_text".into(), serde_json::json!(s.cheer.text()));
    }
    v
}

/// The chat replies for a summary: the text with the chart attached (text alone when the chart
/// cannot be drawn).
#[must_use]
pub fn replies(s: &WeeklySummary, lang: Lang, units: Units) -> Vec<Reply> {
    let reply = Reply::text(units.localise(lang, &render(s, lang)));
    match chart_png(s, lang, units) {
        Ok(png) => vec![reply.with_attachment(Attachment {
            kind: AttachmentKind::Image,
            name: format!("summary-{}.png", s.week),
            mime: "image/png".into(),
            data: png,
        })],
        Err(e) => {
            tracing::warn!(error = %e, "weekly summary chart failed: sending the text alone");
            vec![reply]
        }
    }
}

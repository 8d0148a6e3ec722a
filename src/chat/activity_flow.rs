//! Activities in the chat: files sent to the bot are imported (and tick off the plan's session),
//! and `/stats` reads the runner's history back in plain words.

use super::Reply;
use super::flow::{Failure, FlowCtx};
use crate::i18n::{self, Lang};
use crate::import::{self, Imported};
use crate::science::{ActivityKind, RaceDistance, format_duration};
use crate::store::{InsertOutcome, NewActivity};
use crate::{history, tracking};

fn pace(activity: &NewActivity) -> Option<String> {
    let km = activity.distance_m? / 1000.0;
    let secs = activity.moving_s.unwrap_or(activity.duration_s);
    (km > 0.2).then(|| {
        let p = (secs / km).round() as i64;
        format!("{}:{:02} /km", p / 60, p % 60)
    })
}

pub(super) fn sport_label(kind: ActivityKind, lang: Lang) -> String {
    let (fr, en) = match kind {
        ActivityKind::Running | ActivityKind::Track | ActivityKind::Indoor | ActivityKind::Virtual => ("Course", "Run"),
        ActivityKind::Treadmill => ("Tapis", "Treadmill run"),
        ActivityKind::Trail => ("Trail", "Trail run"),
        ActivityKind::Cycling => ("Vélo", "Ride"),
        ActivityKind::Swimming => ("Natation", "Swim"),
        ActivityKind::Walking => ("Marche", "Walk"),
        ActivityKind::Strength => ("Renforcement", "Strength"),
        ActivityKind::Other => ("Activité", "Activity"),
    };
    lang.pick(fr, en).to_owned()
}

/// One line per activity: what, when, how far, how fast, heart rate.
pub(super) fn describe(a: &NewActivity, lang: Lang) -> String {
    let local = a.start_time + chrono::Duration::seconds(i64::from(a.utc_offset_s));
    let date = match lang {
        Lang::Fr => local.format("%d/%m/%Y").to_string(),
        Lang::En => local.format("%Y-%m-%d").to_string(),
    };
    let mut parts = vec![format!("**{}** {date}", sport_label(a.sport, lang))];
    if let Some(d) = a.distance_m.filter(|d| *d > 0.0) {
        parts.push(format!("{} km", i18n::number(lang, d / 1000.0, 2)));
    }
    parts.push(format_duration(a.duration_s));
    if let Some(p) = pace(a) {
        parts.push(p);
    }
    if let Some(hr) = a.avg_hr {
        parts.push(match lang {
            Lang::Fr => format!("FC moy. {hr:.0} bpm"),
            Lang::En => format!("avg HR {hr:.0} bpm"),
        });
    }
    parts.join(" · ")
}

/// A file from the chat: import, store once, tick off the plan, say what it means.
pub(super) async fn import_file(ctx: &FlowCtx<'_>, name: &str, data: &[u8]) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    let imported: Vec<Imported> = match import::import_bytes(name, data) {
        Ok(items) => items,
        Err(e) => return Ok(vec![Reply::text(format!("📎 {}", e.message(lang)))]),
    };
    let mut lines = Vec::new();
    let mut inserted = 0;
    for item in &imported {
        let outcome = ctx.store.insert_activity(ctx.user.id, &item.activity).await?;
        let line = describe(&item.activity, lang);
        match outcome {
            InsertOutcome::Inserted(_) => {
                lines.push(format!("✅ {line}"));
                inserted += 1;
            }
            InsertOutcome::Duplicate(_) => {
                lines.push(format!("↩️ {line} — {}", lang.pick("déjà enregistrée", "already recorded")))
            }
        }
        for w in &item.warnings {
            lines.push(format!("⚠️ {}", w.message(lang)));
        }
    }
    let mut text = lines.join("\n");
    // A new run completes the plan's session of that day (or the day before/after).
    if inserted > 0 {
        let ticked = tracking::tick_off(ctx.store, ctx.user.id).await?;
        if !ticked.is_empty() {
            text.push_str(lang.pick(
                "\n\n🎯 Séance du plan validée automatiquement. Bravo !",
                "\n\n🎯 This ticks off a session of your plan. Well done!",
            ));
            for line in tracking::ticked_lines(&ticked, lang) {
                text.push_str(&format!("\n{line}"));
            }
        }
        let (_, analysis) = history::analyze_user(ctx.store, ctx.user.id, ctx.today).await?;
        text.push_str(&format!("\n\n{}", analysis.readiness.message.get(lang)));
    }
    Ok(vec![Reply::text(text)])
}

/// `/stats`: the runner's history in plain words, with what is missing.
pub(super) async fn stats(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    let (_, a) = history::analyze_user(ctx.store, ctx.user.id, ctx.today).await?;
    if a.run_count == 0 {
        return Ok(vec![Reply::text(lang.pick(
            "📊 Je n'ai encore aucune sortie de course. Envoie-moi un fichier FIT, GPX ou TCX (ou le ZIP de Garmin Connect) et je te dirai où tu en es.",
            "📊 I don't have any runs yet. Send me a FIT, GPX or TCX file (or Garmin Connect's ZIP) and I'll tell you where you stand.",
        ))]);
    }
    let n = |v: f64, d: usize| i18n::number(lang, v, d);
    let mut out = match lang {
        Lang::Fr => format!(
            "📊 **Tes statistiques**\n• {}, {} km au total\n• En moyenne {} km et {} min ; la plus longue : {} km",
            i18n::count(lang, u64::from(a.run_count), ["sortie", "sorties"], ["run", "runs"]),
            n(a.total_run_km, 0),
            n(a.avg_run_km, 1),
            n(a.avg_run_min, 0),
            n(a.max_run_km, 1)
        ),
        Lang::En => format!(
            "📊 **Your stats**\n• {}, {} km in total\n• On average {} km and {} min; longest: {} km",
            i18n::count(lang, u64::from(a.run_count), ["sortie", "sorties"], ["run", "runs"]),
            n(a.total_run_km, 0),
            n(a.avg_run_km, 1),
            n(a.avg_run_min, 0),
            n(a.max_run_km, 1)
        ),
    };
    out.push_str(&match lang {
        Lang::Fr => format!("\n• Ces 4 dernières semaines : {} km/semaine", n(a.recent_weekly_km, 1)),
        Lang::En => format!("\n• Last 4 weeks: {} km a week", n(a.recent_weekly_km, 1)),
    });
    if let Some(hr) = a.avg_hr {
        out.push_str(&match lang {
            Lang::Fr => format!("\n• FC moyenne {hr:.0} bpm"),
            Lang::En => format!("\n• Average HR {hr:.0} bpm"),
        });
    }
    match &a.vdot {
        Some(v) => {
            let ten_k = a.predictions.iter().find(|p| p.distance == RaceDistance::TenK);
            out.push_str(&match (lang, ten_k) {
                (Lang::Fr, Some(p)) => format!(
                    "\n• VDOT {} (meilleur effort récent) → 10 km en ~{} aujourd'hui",
                    n(v.vdot.value(), 0),
                    format_duration(p.time_s)
                ),
                (Lang::En, Some(p)) => format!(
                    "\n• VDOT {} (best recent effort) → 10K in ~{} today",
                    n(v.vdot.value(), 0),
                    format_duration(p.time_s)
                ),
                (Lang::Fr, None) => format!("\n• VDOT {}", n(v.vdot.value(), 0)),
                (Lang::En, None) => format!("\n• VDOT {}", n(v.vdot.value(), 0)),
            });
            if v.submaximal {
                out.push_str(lang.pick(
                    " (effort probablement pas maximal : sans doute sous-estimé)",
                    " (probably not an all-out effort: likely an underestimate)",
                ));
            }
        }
        None => out.push_str(lang.pick(
            "\n• Pas encore de VDOT : il me faut une sortie d'au moins 3 km ces 12 dernières semaines.",
            "\n• No VDOT yet: I need a run of at least 3 km in the last 12 weeks.",
        )),
    }
    if let Some(acwr) = a.acwr {
        out.push_str(&match lang {
            Lang::Fr => format!("\n• Charge : ratio aigu/chronique {}", n(acwr, 2)),
            Lang::En => format!("\n• Load: acute:chronic ratio {}", n(acwr, 2)),
        });
    }
    let level = a.level.level;
    out.push_str(&match lang {
        Lang::Fr => format!("\n• Niveau : **{}** — {}", level.label_fr(), a.level.reason.fr),
        Lang::En => format!("\n• Level: **{}** — {}", level.label_en(), a.level.reason.en),
    });
    out.push_str(&format!("\n\n{}", a.readiness.message.get(lang)));
    out.push_str(&super::goal_flow::stats_section(ctx, a.vdot.map(|v| v.vdot)).await?);
    Ok(vec![Reply::text(out)])
}

//! Activities in the chat: files sent to the bot are imported (and tick off the plan's session),
//! and `/stats` reads the runner's history back in plain words.

use super::flow::{Failure, FlowCtx};
use super::{Attachment, AttachmentKind, Reply};
use crate::charts;
use crate::domain::Units;
use crate::i18n::{self, Lang};
use crate::import::{self, Imported};
use crate::limits::{self, Verdict};
use crate::science::{
    ActivityKind, FormBand, HistoryAnalysis, MaxHrSource, RaceDistance, VmaSource, ZoneMethod, form_reading,
    format_duration,
};
use crate::store::{InsertOutcome, NewActivity};
use crate::{history, tracking};

fn pace(activity: &NewActivity, units: Units) -> Option<String> {
    let km = activity.distance_m? / 1000.0;
    let secs = activity.moving_s.unwrap_or(activity.duration_s);
    (km > 0.2).then(|| units.pace(secs / km))
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
pub(super) fn describe(a: &NewActivity, lang: Lang, units: Units) -> String {
    let local = a.start_time + chrono::Duration::seconds(i64::from(a.utc_offset_s));
    let date = match lang {
        Lang::Fr => local.format("%d/%m/%Y").to_string(),
        Lang::En => local.format("%Y-%m-%d").to_string(),
    };
    let mut parts = vec![format!("**{}** {date}", sport_label(a.sport, lang))];
    if let Some(d) = a.distance_m.filter(|d| *d > 0.0) {
        parts.push(units.distance(lang, d / 1000.0, 2));
    }
    parts.push(format_duration(a.duration_s));
    if let Some(p) = pace(a, units) {
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

/// Files parsed at once, at most: one per core. Parsing (up to 100 MB decompressed) is CPU work,
/// done on the blocking pool so the async threads keep answering everyone else meanwhile.
fn parsing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

async fn parse_off_the_runtime(name: &str, data: &[u8]) -> Result<Result<Vec<Imported>, import::ImportError>, Failure> {
    let _slot = parsing_slots().acquire().await.map_err(|e| Failure::Internal(format!("parsing slots: {e}")))?;
    let (name, data) = (name.to_owned(), data.to_vec());
    tokio::task::spawn_blocking(move || import::import_bytes(&name, &data))
        .await
        .map_err(|e| Failure::Internal(format!("parsing task: {e}")))
}

/// A file from the chat: import, store once, tick off the plan, say what it means.
fn count_import(outcome: &str) {
    let imports = &crate::metrics::METRICS.imports;
    imports.get_or_create(&crate::metrics::Metrics::outcome(outcome)).inc();
}

pub(super) async fn import_file(ctx: &FlowCtx<'_>, name: &str, data: &[u8]) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    if let Verdict::Denied { retry_at } =
        limits::take(ctx.store, ctx.limits.imports, &ctx.user.id.to_string(), ctx.now).await?
    {
        return Ok(vec![Reply::text(match lang {
            Lang::Fr => format!(
                "⏳ Tu as envoyé beaucoup de fichiers cette heure-ci ({} au plus) : {}. Rien n'est perdu, renvoie-le ensuite.",
                ctx.limits.imports.max,
                limits::retry_in(lang, retry_at, ctx.now)
            ),
            Lang::En => format!(
                "⏳ You've sent a lot of files this hour ({} at most): {}. Nothing is lost, send it again then.",
                ctx.limits.imports.max,
                limits::retry_in(lang, retry_at, ctx.now)
            ),
        })]);
    }
    let imported: Vec<Imported> = match parse_off_the_runtime(name, data).await? {
        Ok(items) => items,
        Err(e) => {
            count_import("refused");
            return Ok(vec![Reply::text(format!("📎 {}", e.message(lang)))]);
        }
    };
    let mut lines = Vec::new();
    let mut inserted = 0;
    let activities: Vec<&NewActivity> = imported.iter().map(|i| &i.activity).collect();
    let outcomes = ctx.store.insert_activities(ctx.user.id, &activities).await?;
    for (item, outcome) in imported.iter().zip(outcomes) {
        let line = describe(&item.activity, lang, ctx.user.units);
        match outcome {
            Err(e) => {
                count_import("refused");
                tracing::info!(error = %e, "an imported activity was refused by the store");
                lines.push(format!(
                    "❌ {line} — {}",
                    lang.pick("refusée (valeurs impossibles)", "refused (impossible values)")
                ));
            }
            Ok(InsertOutcome::Inserted(_)) => {
                count_import("imported");
                lines.push(format!("✅ {line}"));
                inserted += 1;
            }
            Ok(InsertOutcome::Duplicate(_)) => {
                count_import("duplicate");
                lines.push(format!("↩️ {line} — {}", lang.pick("déjà enregistrée", "already recorded")));
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
/// "how many km over the last 7 days?": runs, distance and time over the last `days` days.
pub(super) async fn recent_volume(ctx: &FlowCtx<'_>, days: i64) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let since = ctx.now - chrono::Duration::days(days);
    let runs: Vec<_> = ctx
        .store
        .activities(ctx.user.id, Some(since))
        .await?
        .into_iter()
        .filter(|a| a.sport.is_running() && a.start_time >= since)
        .collect();
    let km = runs.iter().filter_map(|a| a.distance_m).sum::<f64>() / 1000.0;
    let minutes = runs.iter().map(|a| a.duration_s).sum::<f64>() / 60.0;
    let count = i18n::count(lang, runs.len() as u64, ["sortie", "sorties"], ["run", "runs"]);
    let distance = ctx.user.units.distance(lang, km, 1);
    let time = format_duration(minutes * 60.0);
    let period = i18n::count(lang, days.max(0) as u64, ["jour", "jours"], ["day", "days"]);
    Ok(vec![Reply::text(match lang {
        Lang::Fr => format!("📏 Ces {period} : {count}, **{distance}** en {time}."),
        Lang::En => format!("📏 Over the last {period}: {count}, **{distance}** in {time}."),
    })])
}

/// "my longest run?": the longest run of the last 12 weeks, and of all time when longer.
pub(super) async fn longest_run(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let all = ctx.store.activities(ctx.user.id, None).await?;
    let longest = |since: Option<chrono::DateTime<chrono::Utc>>| {
        all.iter()
            .filter(|a| a.sport.is_running() && since.is_none_or(|s| a.start_time >= s))
            .filter(|a| a.distance_m.is_some())
            .max_by(|a, b| a.distance_m.unwrap_or(0.0).total_cmp(&b.distance_m.unwrap_or(0.0)))
    };
    let show = |a: &crate::store::ActivityRecord| {
        format!(
            "**{}** ({}, {})",
            ctx.user.units.distance(lang, a.distance_m.unwrap_or(0.0) / 1000.0, 1),
            i18n::date_short(lang, a.start_time.date_naive()),
            format_duration(a.duration_s)
        )
    };
    let recent = longest(Some(ctx.now - chrono::Duration::weeks(12)));
    let ever = longest(None);
    let text = match (recent, ever) {
        (None, None) => lang.pick("Je n'ai encore aucune sortie de course.", "I don't have any runs yet.").to_owned(),
        (Some(r), Some(e)) if r.id == e.id => match lang {
            Lang::Fr => format!("🏃 Ta plus longue sortie : {}.", show(r)),
            Lang::En => format!("🏃 Your longest run: {}.", show(r)),
        },
        (r, e) => {
            let recent = r.map(show).unwrap_or_else(|| lang.pick("aucune", "none").to_owned());
            let ever = e.map(show).unwrap_or_default();
            match lang {
                Lang::Fr => format!("🏃 Ta plus longue sortie ces 12 semaines : {recent} ; depuis toujours : {ever}."),
                Lang::En => format!("🏃 Your longest run in the last 12 weeks: {recent}; ever: {ever}."),
            }
        }
    };
    Ok(vec![Reply::text(text)])
}

pub(super) async fn stats(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let units = ctx.user.units;
    let (_, a) = history::analyze_user(ctx.store, ctx.user.id, ctx.today).await?;
    if a.run_count == 0 {
        return Ok(vec![Reply::text(lang.pick(
            "📊 Je n'ai encore aucune sortie de course. Envoie-moi un fichier FIT, GPX ou TCX (ou le ZIP de Garmin Connect) et je te dirai où tu en es.",
            "📊 I don't have any runs yet. Send me a FIT, GPX or TCX file (or Garmin Connect's ZIP) and I'll tell you where you stand.",
        ))]);
    }
    let n = |v: f64, d: usize| i18n::number(lang, v, d);
    let dist = |km: f64, d: usize| units.distance(lang, km, d);
    let runs = i18n::count(lang, u64::from(a.run_count), ["sortie", "sorties"], ["run", "runs"]);
    let mut out = match lang {
        Lang::Fr => format!(
            "📊 **Tes statistiques**\n• {runs}, {} au total\n• En moyenne {} et {} min ; la plus longue : {}\n• Ces 4 dernières semaines : {} par semaine",
            dist(a.total_run_km, 0),
            dist(a.avg_run_km, 1),
            n(a.avg_run_min, 0),
            dist(a.max_run_km, 1),
            dist(a.recent_weekly_km, 1),
        ),
        Lang::En => format!(
            "📊 **Your stats**\n• {runs}, {} in total\n• On average {} and {} min; longest: {}\n• Last 4 weeks: {} a week",
            dist(a.total_run_km, 0),
            dist(a.avg_run_km, 1),
            n(a.avg_run_min, 0),
            dist(a.max_run_km, 1),
            dist(a.recent_weekly_km, 1),
        ),
    };
    if let Some(hr) = a.avg_hr {
        out.push_str(&match lang {
            Lang::Fr => format!("\n• FC moyenne {hr:.0} bpm"),
            Lang::En => format!("\n• Average HR {hr:.0} bpm"),
        });
    }
    out.push_str(&vdot_lines(&a, lang));
    out.push_str(&aerobic_lines(ctx, &a));
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
    out.push_str(&form_lines(&a, lang));
    out.push_str(&zone_lines(&a, lang));
    out.push_str(&format!("\n\n{}", a.readiness.message.get(lang)));
    out.push_str(&super::goal_flow::stats_section(ctx, a.vdot.map(|v| v.vdot)).await?);
    let mut reply = Reply::text(out);
    match charts::form_png(&a.form_days, lang) {
        Ok(Some(png)) => {
            reply = reply.with_attachment(Attachment {
                kind: AttachmentKind::Image,
                name: "form.png".into(),
                mime: "image/png".into(),
                data: png,
            });
        }
        Ok(None) => {}
        // The numbers still go out without their picture.
        Err(e) => tracing::warn!(error = %e, "form chart not drawn"),
    }
    Ok(vec![reply])
}

/// The VDOT line: from the best recent effort, or for a runner back from a break, the last
/// known one with its date and what the break has likely cost.
fn vdot_lines(a: &HistoryAnalysis, lang: Lang) -> String {
    let n = |v: f64, d: usize| i18n::number(lang, v, d);
    if let Some(v) = &a.vdot {
        let ten_k = a.predictions.iter().find(|p| p.distance == RaceDistance::TenK);
        let mut out = match (lang, ten_k) {
            (Lang::Fr, Some(p)) => format!(
                "\n• VDOT {} (meilleur effort récent, {}) → 10 km en ~{} aujourd'hui",
                n(v.vdot.value(), 0),
                i18n::date_short(lang, v.date),
                format_duration(p.time_s)
            ),
            (Lang::En, Some(p)) => format!(
                "\n• VDOT {} (best recent effort, {}) → 10K in ~{} today",
                n(v.vdot.value(), 0),
                i18n::date_short(lang, v.date),
                format_duration(p.time_s)
            ),
            (_, None) => format!("\n• VDOT {}", n(v.vdot.value(), 0)),
        };
        if v.submaximal {
            out.push_str(lang.pick(
                " (effort probablement pas maximal : sans doute sous-estimé)",
                " (probably not an all-out effort: likely an underestimate)",
            ));
        }
        return out;
    }
    let Some(r) = &a.returning else {
        return lang
            .pick(
                "\n• Pas encore de VDOT : il me faut une sortie d'au moins 3 km ces 12 dernières semaines.",
                "\n• No VDOT yet: I need a run of at least 3 km in the last 12 weeks.",
            )
            .to_owned();
    };
    let weeks = u64::try_from(r.days_off / 7).unwrap_or(0);
    let since = if r.days_off >= 60 {
        i18n::count(lang, u64::try_from(r.days_off / 30).unwrap_or(0), ["mois", "mois"], ["month", "months"])
    } else {
        i18n::count(lang, weeks, ["semaine", "semaines"], ["week", "weeks"])
    };
    let year_date = |d: chrono::NaiveDate| match lang {
        Lang::Fr => d.format("%d/%m/%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    };
    match lang {
        Lang::Fr => format!(
            "\n• Dernière VDOT connue : {} (le {}). Sans course depuis {since}, compte plutôt ~{} aujourd'hui : \
             la capacité aérobie baisse d'environ 7 % en 3 semaines et 16 % après 8 semaines d'arrêt (Coyle 1984). \
             Reprends progressivement, puis un test de 5 km redonnera tes allures. \
             📚 « Reprendre la course après une coupure ou une blessure »",
            n(r.last_vdot.value(), 0),
            year_date(r.last_vdot_date),
            n(r.estimated_vdot.value(), 0),
        ),
        Lang::En => format!(
            "\n• Last known VDOT: {} (on {}). With no run for {since}, expect about {} today: aerobic capacity \
             drops about 7 % in 3 weeks and 16 % after 8 weeks off (Coyle 1984). Build back gradually, then a \
             5K test will give your paces again. 📚 \"Returning to running after a break or an injury\"",
            n(r.last_vdot.value(), 0),
            year_date(r.last_vdot_date),
            n(r.estimated_vdot.value(), 0),
        ),
    }
}

/// VMA and VO2max: the runner's own numbers from the profile when set, else the estimate and
/// where it came from.
fn aerobic_lines(ctx: &FlowCtx<'_>, a: &HistoryAnalysis) -> String {
    let lang = ctx.lang();
    let n = |v: f64, d: usize| i18n::number(lang, v, d);
    let mut out = String::new();
    let vma = match (ctx.user.profile.vma, &a.vma) {
        (Some(v), _) => Some((v.get(), lang.pick("ton profil", "your profile"))),
        (None, Some(e)) => Some((
            e.kmh,
            match e.source {
                VmaSource::SixMinuteTest => lang.pick("estimée d'un test de 6 min", "estimated from a 6-minute test"),
                VmaSource::Fastest1000 => {
                    lang.pick("estimée de ton meilleur kilomètre", "estimated from your fastest kilometre")
                }
                VmaSource::Vdot => lang.pick("estimée de ta VDOT", "estimated from your VDOT"),
            },
        )),
        (None, None) => None,
    };
    if let Some((kmh, source)) = vma {
        let speed = match ctx.user.units {
            Units::Metric => format!("{} km/h", n(kmh, 1)),
            Units::Imperial => format!("{} mph", n(ctx.user.units.from_km(kmh), 1)),
        };
        out.push_str(&format!("\n• {} {speed} ({source})", lang.pick("VMA", "MAS (VMA)")));
    }
    if let Some(v) = ctx.user.profile.vo2max {
        out.push_str(&match lang {
            Lang::Fr => format!("\n• VO2max {} ml/kg/min (ton profil)", n(v.get(), 0)),
            Lang::En => format!("\n• VO2max {} ml/kg/min (your profile)", n(v.get(), 0)),
        });
    }
    out
}

/// Fitness, fatigue and form, with what they mean.
fn form_lines(a: &HistoryAnalysis, lang: Lang) -> String {
    let n = |v: f64| i18n::number(lang, v, 0);
    let f = a.fitness;
    // Read the value shown: "+5" must not read as "fresh" when 5.4 would.
    let reading = form_reading(crate::science::FitnessState { tsb: f.tsb.round(), ..f });
    if reading.band == FormBand::NoLoad {
        return match lang {
            Lang::Fr => format!("\n\n📈 **Forme** : {}", reading.message.fr),
            Lang::En => format!("\n\n📈 **Form**: {}", reading.message.en),
        };
    }
    let signed = |v: f64| if v.round() > 0.0 { format!("+{}", n(v)) } else { n(v) };
    match lang {
        Lang::Fr => format!(
            "\n\n📈 **Forme** : condition (CTL) {} · fatigue (ATL) {} · forme (TSB) {} → {}",
            n(f.ctl),
            n(f.atl),
            signed(f.tsb),
            reading.message.fr
        ),
        Lang::En => format!(
            "\n\n📈 **Form**: fitness (CTL) {} · fatigue (ATL) {} · form (TSB) {} → {}",
            n(f.ctl),
            n(f.atl),
            signed(f.tsb),
            reading.message.en
        ),
    }
}

/// The five heart-rate zones and where their bounds come from.
fn zone_lines(a: &HistoryAnalysis, lang: Lang) -> String {
    let (Some(z), Some(max)) = (&a.hr_zones, &a.max_hr) else {
        return String::new();
    };
    let method = match z.method {
        ZoneMethod::Karvonen => lang.pick("Karvonen, avec ta FC de repos", "Karvonen, with your resting HR"),
        ZoneMethod::PercentMax => lang.pick("% de la FC max", "% of max HR"),
    };
    let bpm = i18n::number(lang, z.max_hr, 0);
    let (source, hint) = match (max.source, lang) {
        (MaxHrSource::Profile, Lang::Fr) => (format!("FC max {bpm} de ton profil"), ""),
        (MaxHrSource::Profile, Lang::En) => (format!("max HR {bpm} from your profile"), ""),
        (MaxHrSource::Observed, Lang::Fr) => (
            format!("FC max {bpm}, la plus haute vue dans tes sorties"),
            "\n  /profile fcmax N pour utiliser la tienne.",
        ),
        (MaxHrSource::Observed, Lang::En) => {
            (format!("max HR {bpm}, the highest seen in your runs"), "\n  /profile max_hr N to use yours.")
        }
        (MaxHrSource::Tanaka, Lang::Fr) => {
            (format!("FC max {bpm} estimée d'après ton âge"), "\n  /profile fcmax N pour utiliser la tienne.")
        }
        (MaxHrSource::Tanaka, Lang::En) => {
            (format!("max HR {bpm} estimated from your age"), "\n  /profile max_hr N to use yours.")
        }
    };
    let zones: Vec<String> = z.zones.iter().map(|x| format!("Z{} {:.0}–{:.0}", x.zone, x.min_bpm, x.max_bpm)).collect();
    match lang {
        Lang::Fr => format!("\n❤️ **Zones FC** ({method} ; {source}) : {}{hint}", zones.join(" · ")),
        Lang::En => format!("\n❤️ **HR zones** ({method}; {source}): {}{hint}", zones.join(" · ")),
    }
}

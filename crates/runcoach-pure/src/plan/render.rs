//! Rendering: markdown (weekly tables), JSON for the CLI, iCalendar (RFC 5545).

use super::workouts::{dur_en, dur_fr};
use super::{Plan, TargetVerdict, Workout};
use crate::i18n::Lang;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde_json::{Value, json};
use std::fmt::Write as _;

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn workout_json(w: &Workout, lang: Lang) -> Value {
    json!({
        "date": w.date.to_string(),
        "kind": w.kind.as_str(),
        "duration_min": w.duration_min,
        "distance_km": w.distance_km.map(round1),
        "pace_s_per_km": w.pace_s_per_km.map(|p| json!({"min": p.min.s_per_km().round(), "max": p.max.s_per_km().round()})),
        "hr_zone": w.hr_zone,
        "description": w.description.get(lang),
    })
}

/// The plan as the CLI prints it: `{"goal","level","level_reason","start_date",
/// "race_date"|null,"target":{"target_time_s","target_vdot","predicted_time_s"|null,
/// "pace_time_s"|null,"verdict","note"}|null,"sessions_per_week","vdot"|null,"weeks":[{"index","phase",
/// "planned_minutes","planned_km","workouts":[{"date","kind","duration_min",
/// "distance_km"|null,"pace_s_per_km":{"min","max"}|null,"hr_zone"|null,"description"}]}]}`,
/// texts in `lang`.
pub fn to_json(plan: &Plan, lang: Lang) -> Value {
    json!({
        "goal": plan.goal.as_str(),
        "level": plan.level.label_en(),
        "level_reason": plan.level_reason.get(lang),
        "length_caution": plan.length_caution().map(|c| c.get(lang).to_owned()),
        "race_week": plan.race_week_rule().map(|c| c.get(lang).to_owned()),
        "target": plan.target.map(|t| json!({
            "target_time_s": t.target_time_s,
            "target_vdot": t.target_vdot,
            "predicted_time_s": t.predicted_time_s,
            "pace_time_s": t.pace_time_s,
            "verdict": match t.verdict {
                TargetVerdict::WithinReach => "within_reach",
                TargetVerdict::Realistic => "realistic",
                TargetVerdict::Ambitious { .. } => "ambitious",
                TargetVerdict::Unknown => "unknown",
            },
            "note": t.explain().get(lang),
        })),
        "start_date": plan.start_date.to_string(),
        "race_date": plan.race_date.map(|d| d.to_string()),
        "sessions_per_week": plan.sessions_per_week,
        "vdot": plan.vdot.map(round1),
        "weeks": plan.weeks.iter().map(|w| json!({
            "index": w.index,
            "phase": w.phase.label().en,
            "planned_minutes": w.planned_minutes,
            "planned_km": round1(w.planned_km),
            "workouts": w.workouts.iter().map(|x| workout_json(x, lang)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn weekday_short(d: Weekday, lang: Lang) -> &'static str {
    let i = d.num_days_from_monday() as usize;
    let en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let fr = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
    match lang {
        Lang::En => en.get(i).copied().unwrap_or(""),
        Lang::Fr => fr.get(i).copied().unwrap_or(""),
    }
}

fn dur(m: u32, lang: Lang) -> String {
    match lang {
        Lang::En => dur_en(m),
        Lang::Fr => dur_fr(m),
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A markdown document: a header, then one table per week with paces in min:ss/km.
pub fn to_markdown(plan: &Plan, lang: Lang) -> String {
    let fr = lang == Lang::Fr;
    let goal = plan.goal.label();
    let level = if fr { plan.level.label_fr() } else { plan.level.label_en() };
    let n = plan.weeks.len();
    let mut s = String::new();
    let _ = if fr {
        writeln!(s, "# Plan {} — niveau {level} ({n} semaines)\n", goal.fr)
    } else {
        writeln!(s, "# {} plan — {level} ({n} weeks)\n", capitalise(&goal.en))
    };
    let _ = writeln!(s, "_{}_\n", plan.level_reason.get(lang));
    if let Some(caution) = plan.length_caution() {
        let _ = writeln!(s, "{}\n", caution.get(lang));
    }
    if let Some(target) = plan.target {
        let _ = writeln!(s, "{}\n", target.explain().get(lang));
    }
    if let Some(rule) = plan.race_week_rule() {
        let _ = writeln!(s, "{}\n", rule.get(lang));
    }
    let mut facts = vec![format!("{} {}", if fr { "Début :" } else { "Start:" }, plan.start_date)];
    if let Some(d) = plan.race_date {
        facts.push(format!("{} {d}", if fr { "Course :" } else { "Race:" }));
    }
    if let Some(v) = plan.vdot {
        facts.push(format!("VDOT {}", if fr { format!("{v:.1}").replace('.', ",") } else { format!("{v:.1}") }));
    }
    facts.push(format!("{} {}", plan.sessions_per_week, if fr { "séances/semaine" } else { "sessions/week" }));
    let _ = writeln!(s, "{}\n", facts.join(" · "));
    for w in &plan.weeks {
        let phase = w.phase.label();
        let km = if fr { format!("{:.1}", w.planned_km).replace('.', ",") } else { format!("{:.1}", w.planned_km) };
        let _ = writeln!(
            s,
            "## {} {} — {} — {}, ~{km} km\n",
            if fr { "Semaine" } else { "Week" },
            w.index,
            phase.get(lang),
            dur(w.planned_minutes, lang)
        );
        let _ = if fr {
            writeln!(s, "| Date | Séance | Durée | Allure | Détail |")
        } else {
            writeln!(s, "| Date | Session | Duration | Pace | Details |")
        };
        let _ = writeln!(s, "|---|---|---|---|---|");
        for x in &w.workouts {
            let pace = x
                .pace_s_per_km
                .map(|p| p.to_string())
                .or_else(|| x.hr_zone.map(|z| if fr { format!("zone FC {z}") } else { format!("HR zone {z}") }));
            let _ = writeln!(
                s,
                "| {} {} | {} | {} | {} | {} |",
                weekday_short(x.date.weekday(), lang),
                x.date,
                x.kind.label().get(lang),
                dur(x.duration_min, lang),
                pace.unwrap_or_else(|| "—".into()),
                cell(x.description.get(lang))
            );
        }
        s.push('\n');
    }
    s
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + c.as_str())
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub(crate) fn ics_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8
/// character; continuation lines start with one space. Appends CRLF.
pub(crate) fn ics_fold(line: &str, out: &mut String) {
    let mut used = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if used + len > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(ch);
        used += len;
    }
    out.push_str("\r\n");
}

fn ics_date(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// iCalendar with one all-day VEVENT per workout. DTSTAMP is the plan's
/// start date at midnight UTC so the output is deterministic; see
/// [`to_ics_with_stamp`] to set it.
pub fn to_ics(plan: &Plan, lang: Lang) -> String {
    to_ics_with_stamp(plan, lang, Utc.from_utc_datetime(&plan.start_date.and_time(NaiveTime::MIN)))
}

/// iCalendar (RFC 5545): CRLF line endings, lines folded at 75 octets,
/// escaped text, one all-day VEVENT per workout. UIDs depend only on the plan
/// start, the goal, the workout date and its rank that day, so re-exporting
/// (or re-planning) updates events instead of duplicating them.
pub fn to_ics_with_stamp(plan: &Plan, lang: Lang, stamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    let name = match lang {
        Lang::Fr => format!("Plan {} runcoach", plan.goal.label().fr),
        Lang::En => format!("runcoach {} plan", plan.goal.label().en),
    };
    for l in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        format!("PRODID:-//runcoach//training plan//{}", if lang == Lang::Fr { "FR" } else { "EN" }),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", ics_escape(&name)),
    ] {
        ics_fold(&l, &mut out);
    }
    let dtstamp = stamp.format("%Y%m%dT%H%M%SZ").to_string();
    let start = ics_date(plan.start_date);
    for w in &plan.weeks {
        let mut prev: Option<NaiveDate> = None;
        let mut rank = 0;
        for x in &w.workouts {
            rank = if prev == Some(x.date) { rank + 1 } else { 0 };
            prev = Some(x.date);
            let week_word = if lang == Lang::Fr { "S" } else { "W" };
            let summary =
                format!("{} — {} ({week_word}{})", x.kind.label().get(lang), dur(x.duration_min, lang), w.index);
            let mut desc = x.description.get(lang).to_string();
            if let Some(p) = x.pace_s_per_km {
                desc.push_str(&format!("\n{}: {p}", if lang == Lang::Fr { "Allure" } else { "Pace" }));
            }
            for l in [
                "BEGIN:VEVENT".to_string(),
                format!("UID:runcoach-{start}-{}-{}-{rank}@runcoach", plan.goal.as_str(), ics_date(x.date)),
                format!("DTSTAMP:{dtstamp}"),
                format!("DTSTART;VALUE=DATE:{}", ics_date(x.date)),
                format!("DTEND;VALUE=DATE:{}", ics_date(x.date + Duration::days(1))),
                format!("SUMMARY:{}", ics_escape(&summary)),
                format!("DESCRIPTION:{}", ics_escape(&desc)),
                "TRANSP:TRANSPARENT".into(),
                "END:VEVENT".into(),
            ] {
                ics_fold(&l, &mut out);
            }
        }
    }
    ics_fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{date, request};
    use crate::plan::{Goal, Level, PlanLength, generate};

    fn plan() -> Plan {
        let mut req = request(Goal::TenK, Some(Level::Intermediate), 4, PlanLength::RaceDate(date(2025, 5, 11)));
        req.vdot = Some(50.0);
        generate(&req).unwrap()
    }

    #[test]
    fn json_shape_is_exact() {
        let p = plan();
        let j = to_json(&p, Lang::Fr);
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(&j),
            [
                "goal",
                "length_caution",
                "level",
                "level_reason",
                "race_date",
                "race_week",
                "sessions_per_week",
                "start_date",
                "target",
                "vdot",
                "weeks"
            ]
        );
        assert_eq!(j["target"], Value::Null, "no target asked");
        assert_eq!(j["goal"], "10k");
        assert_eq!(j["level"], "intermediate");
        assert_eq!(j["race_date"], "2025-05-11");
        assert_eq!(j["vdot"], 50.0);
        assert_eq!(j["sessions_per_week"], 4);
        let w = &j["weeks"][0];
        assert_eq!(keys(w), ["index", "phase", "planned_km", "planned_minutes", "workouts"]);
        assert_eq!(w["phase"], "base");
        let x = &w["workouts"][0];
        assert_eq!(keys(x), ["date", "description", "distance_km", "duration_min", "hr_zone", "kind", "pace_s_per_km"]);
        // French text in the French rendering.
        assert!(j["level_reason"].as_str().unwrap().contains("Niveau"));
        let easy = j["weeks"][0]["workouts"].as_array().unwrap().iter().find(|x| x["kind"] == "easy").unwrap();
        assert!(easy["description"].as_str().unwrap().contains("endurance fondamentale"));
        assert_eq!(keys(&easy["pace_s_per_km"]), ["max", "min"]);
        assert!(easy["pace_s_per_km"]["min"].as_f64().unwrap() < easy["pace_s_per_km"]["max"].as_f64().unwrap());
        let last =
            j["weeks"].as_array().unwrap().last().unwrap()["workouts"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["kind"], "race");
        assert_eq!(last["date"], "2025-05-11");
        // Nulls where there is nothing.
        let mut req = request(Goal::Fitness, None, 3, PlanLength::Weeks(6));
        req.vdot = None;
        let j = to_json(&generate(&req).unwrap(), Lang::En);
        assert!(j["race_date"].is_null() && j["vdot"].is_null());
        assert!(j["weeks"][0]["workouts"][0]["pace_s_per_km"].is_null());
        assert!(j["weeks"][0]["workouts"][0]["distance_km"].is_null());
    }

    #[test]
    fn markdown_tables_in_both_languages() {
        let p = plan();
        let en = to_markdown(&p, Lang::En);
        assert!(en.starts_with("# 10K plan — intermediate (10 weeks)"), "{en}");
        assert!(en.contains("| Date | Session | Duration | Pace | Details |"));
        assert!(en.contains("## Week 10 — taper"));
        let easy = p.paces_for_test();
        assert!(en.contains(&format!("| {easy} |")), "{easy}");
        let fr = to_markdown(&p, Lang::Fr);
        assert!(fr.starts_with("# Plan 10 km — niveau intermédiaire (10 semaines)"), "{fr}");
        assert!(fr.contains("| Date | Séance | Durée | Allure | Détail |"));
        assert!(fr.contains("## Semaine 1 — foncier"));
        assert!(fr.contains("VDOT 50,0"));
        // One table row per workout.
        let rows = en
            .lines()
            .filter(|l| {
                l.starts_with("| Mon")
                    || l.starts_with("| Tue")
                    || l.starts_with("| Wed")
                    || l.starts_with("| Thu")
                    || l.starts_with("| Fri")
                    || l.starts_with("| Sat")
                    || l.starts_with("| Sun")
            })
            .count();
        assert_eq!(rows, p.workouts().count());
    }

    impl Plan {
        fn paces_for_test(&self) -> String {
            self.workouts()
                .find(|w| w.kind == crate::plan::WorkoutKind::Easy)
                .unwrap()
                .pace_s_per_km
                .unwrap()
                .to_string()
        }
    }

    fn unfold(ics: &str) -> Vec<String> {
        ics.split("\r\n").fold(Vec::<String>::new(), |mut acc, l| {
            if let Some(rest) = l.strip_prefix(' ') {
                acc.last_mut().unwrap().push_str(rest);
            } else {
                acc.push(l.to_string());
            }
            acc
        })
    }

    #[test]
    fn ics_is_rfc5545() {
        let p = plan();
        let ics = to_ics(&p, Lang::Fr);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        // CRLF only: no bare LF, no bare CR.
        assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
        assert_eq!(ics.matches('\r').count(), ics.matches("\r\n").count());
        // Every physical line ≤ 75 octets, and some were folded (French descriptions are long).
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert!(ics.contains("\r\n "));
        let lines = unfold(&ics);
        let events = lines.iter().filter(|l| *l == "BEGIN:VEVENT").count();
        assert_eq!(events, p.workouts().count());
        assert_eq!(lines.iter().filter(|l| *l == "END:VEVENT").count(), events);
        // All-day events with the next day as DTEND.
        assert!(lines.contains(&"DTSTART;VALUE=DATE:20250511".to_string()));
        assert!(lines.contains(&"DTEND;VALUE=DATE:20250512".to_string()));
        assert!(lines.iter().any(|l| l == "DTSTAMP:20250303T000000Z"));
        // Unique, stable UIDs.
        let uids: Vec<&String> = lines.iter().filter(|l| l.starts_with("UID:")).collect();
        let mut dedup = uids.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), uids.len());
        assert_eq!(to_ics(&p, Lang::Fr), ics);
        assert!(uids.iter().any(|u| *u == "UID:runcoach-20250303-10k-20250511-0@runcoach"), "{uids:?}");
        // Text escaped: commas in descriptions become "\,"; the pace line is an escaped newline.
        let desc = lines.iter().find(|l| l.starts_with("DESCRIPTION:") && l.contains("allure seuil")).unwrap();
        assert!(desc.contains("\\,") && desc.contains("\\nAllure"), "{desc}");
        assert!(
            !desc
                .trim_start_matches("DESCRIPTION:")
                .replace("\\,", "")
                .replace("\\;", "")
                .replace("\\\\", "")
                .contains(',')
        );
    }

    #[test]
    fn folding_respects_utf8_and_escaping() {
        let mut out = String::new();
        let long = format!("DESCRIPTION:{}", "é".repeat(100));
        ics_fold(&long, &mut out);
        for l in out.split("\r\n") {
            assert!(l.len() <= 75);
            assert!(std::str::from_utf8(l.as_bytes()).is_ok());
        }
        assert_eq!(unfold(&out).first().unwrap(), &long);
        assert_eq!(ics_escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let mut short = String::new();
        ics_fold("SUMMARY:x", &mut short);
        assert_eq!(short, "SUMMARY:x\r\n");
    }
}

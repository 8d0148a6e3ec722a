//! `runcoach vdot`: the science engine on the command line.

use std::process::ExitCode;

use runcoach_core::science::{
    RaceDistance, ScienceError, TrainingPaces, Vdot, format_duration, parse_race_time, race_equivalents,
    training_paces, vdot_from_performance,
};
use serde_json::{Value, json};

/// Prints to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn compute(distance: &str, time: &str) -> Result<(Vdot, Value, TrainingPaces), ScienceError> {
    let distance: RaceDistance = distance.parse()?;
    let time_s = parse_race_time(time)?;
    let vdot = vdot_from_performance(distance.metres(), time_s)?;
    let mut equivalents = serde_json::Map::new();
    for p in race_equivalents(vdot) {
        let key = match p.distance {
            RaceDistance::FiveK => "5k",
            RaceDistance::TenK => "10k",
            RaceDistance::Half => "half",
            RaceDistance::Marathon => "marathon",
            RaceDistance::Metres(_) => continue,
        };
        equivalents.insert(key.to_owned(), json!(p.time_s.round()));
    }
    Ok((vdot, Value::Object(equivalents), training_paces(vdot)?))
}

pub fn vdot(distance: &str, time: &str, as_json: bool) -> ExitCode {
    let (vdot, equivalents, paces) = match compute(distance, time) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("runcoach vdot: {e}");
            return ExitCode::from(2);
        }
    };
    let bands = [
        ("easy", paces.easy),
        ("marathon", paces.marathon),
        ("threshold", paces.threshold),
        ("interval", paces.interval),
        ("repetition", paces.repetition),
    ];
    if as_json {
        let paces: serde_json::Map<String, Value> = bands
            .iter()
            .map(|(name, r)| {
                ((*name).to_owned(), json!({ "min": r.min.s_per_km().round(), "max": r.max.s_per_km().round() }))
            })
            .collect();
        let doc = json!({
            "vdot": (vdot.value() * 10.0).round() / 10.0,
            "equivalents_s": equivalents,
            "paces_s_per_km": paces,
        });
        emit(&format!("{doc}\n"));
        return ExitCode::SUCCESS;
    }
    emit(&format!("VDOT {:.1}\n\n", vdot.value()));
    emit("Race equivalents\n");
    for key in ["5k", "10k", "half", "marathon"] {
        if let Some(t) = equivalents.get(key).and_then(Value::as_f64) {
            emit(&format!("  {key:<9} {}\n", format_duration(t)));
        }
    }
    emit("\nTraining paces (min/km)\n");
    for (name, r) in bands {
        emit(&format!("  {name:<11} {} – {}\n", r.min, r.max));
    }
    ExitCode::SUCCESS
}

pub struct PlanArgs {
    pub goal: String,
    pub weeks: Option<u16>,
    pub race_date: Option<chrono::NaiveDate>,
    pub sessions: u8,
    pub level: Option<String>,
    pub start: Option<chrono::NaiveDate>,
    pub vdot: Option<f64>,
    pub target_time: Option<String>,
    pub days: Vec<chrono::Weekday>,
    pub format: crate::cli::PlanFormat,
    pub lang: runcoach_core::i18n::Lang,
}

/// `runcoach plan`: computes, validates and prints a plan; a refused request explains why and
/// what would work instead, and exits 2. The plan printed, for `--save`.
pub fn plan(
    args: PlanArgs,
    history: Option<&runcoach_core::science::HistoryAnalysis>,
) -> Result<runcoach_core::plan::Plan, ExitCode> {
    use runcoach_core::plan::{self, Goal, PlanLength, PlanRequest};
    let goal: Goal = match args.goal.parse() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("runcoach plan: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let level = match args.level.as_deref().map(str::parse::<runcoach_core::plan::Level>).transpose() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("runcoach plan: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let length = match (args.weeks, args.race_date) {
        (Some(w), _) => PlanLength::Weeks(w),
        (None, Some(d)) => PlanLength::RaceDate(d),
        (None, None) => {
            eprintln!("runcoach plan: give --weeks or --race-date");
            return Err(ExitCode::from(2));
        }
    };
    let target_time_s = match args.target_time.as_deref().map(runcoach_core::science::parse_race_time).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("runcoach plan: --target-time: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let request = PlanRequest {
        goal,
        level,
        sessions_per_week: args.sessions,
        preferred_days: args.days,
        start_date: args.start.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        length,
        vdot: args.vdot,
        target_time_s,
        history: history.map(plan::HistorySummary::from),
    };
    match plan::generate(&request) {
        Ok(p) => {
            match args.format {
                crate::cli::PlanFormat::Json => emit(&format!("{}\n", plan::to_json(&p, args.lang))),
                crate::cli::PlanFormat::Md => emit(&format!("{}\n", plan::to_markdown(&p, args.lang))),
                crate::cli::PlanFormat::Ics => emit(&plan::to_ics(&p, args.lang)),
            }
            Ok(p)
        }
        Err(e) => {
            eprintln!("runcoach plan: {}", e.explain().get(args.lang));
            Err(ExitCode::from(2))
        }
    }
}

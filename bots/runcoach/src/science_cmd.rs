//! `runcoach vdot`: the science engine on the command line.

use std::process::ExitCode;

use runcoach_core::science::{
    RaceDistance, ScienceError, TrainingPaces, Vdot, format_duration, parse_race_time, race_equivalents,
    training_paces, vdot_from_performance,
};
use serde_json::{Value, json};

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
        println!("{doc}");
        return ExitCode::SUCCESS;
    }
    println!("VDOT {:.1}\n", vdot.value());
    println!("Race equivalents");
    for key in ["5k", "10k", "half", "marathon"] {
        if let Some(t) = equivalents.get(key).and_then(Value::as_f64) {
            println!("  {key:<9} {}", format_duration(t));
        }
    }
    println!("\nTraining paces (min/km)");
    for (name, r) in bands {
        println!("  {name:<11} {} – {}", r.min, r.max);
    }
    ExitCode::SUCCESS
}

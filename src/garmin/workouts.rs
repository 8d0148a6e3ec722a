//! Plan sessions pushed to the runner's Garmin Connect calendar through Garmin's workout service
//! (`POST /workout-service/workout`, `PUT`/`DELETE …/workout/{id}`, `POST
//! /workout-service/schedule/{id}` with the date), and kept in step with the plan: the store
//! remembers which Garmin workout holds each day's session and a fingerprint of what was sent, so
//! a second push creates nothing, a changed session updates its workout and a removed one deletes
//! it. Shapes and enumerations as the open-source clients use them (python-garminconnect,
//! garmin_mcp; docs/garmin-workouts.md).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::sync::{load_tokens, save_tokens};
use super::{GarminClient, GarminError, GarminSession, TokenSealer};
use crate::domain::UserId;
use crate::i18n::Lang;
use crate::plan::{Block, Intensity, Length, Plan, Step, Target, Workout, WorkoutStatus};
use crate::store::{PushedWorkout, Store};
use crate::watch;

/// Days pushed by default, and at most (watches keep about 30 scheduled workouts).
pub const DEFAULT_DAYS: u32 = 7;
pub const MAX_DAYS: u32 = 14;

fn running() -> Value {
    json!({ "sportTypeId": 1, "sportTypeKey": "running" })
}

fn step_type(i: Intensity) -> Value {
    let (id, key) = match i {
        Intensity::WarmUp => (1, "warmup"),
        Intensity::CoolDown => (2, "cooldown"),
        Intensity::Active => (3, "interval"),
        Intensity::Recovery => (4, "recovery"),
    };
    json!({ "stepTypeId": id, "stepTypeKey": key })
}

fn executable(order: &mut u32, s: &Step, lang: Lang) -> Value {
    *order += 1;
    let (condition, value) = match s.length {
        Length::Seconds(x) => (json!({ "conditionTypeId": 2, "conditionTypeKey": "time" }), f64::from(x)),
        Length::Metres(m) => (json!({ "conditionTypeId": 3, "conditionTypeKey": "distance" }), f64::from(m)),
    };
    let mut v = json!({
        "type": "ExecutableStepDTO",
        "stepOrder": *order,
        "stepType": step_type(s.intensity),
        "description": s.name.get(lang),
        "endCondition": condition,
        "endConditionValue": value,
    });
    let target = match s.target {
        Target::Open => json!({ "targetType": { "workoutTargetTypeId": 1, "workoutTargetTypeKey": "no.target" } }),
        // Speeds in m/s, the faster bound first (as Garmin's own editor stores them).
        Target::Pace(p) => json!({
            "targetType": { "workoutTargetTypeId": 6, "workoutTargetTypeKey": "pace.zone" },
            "targetValueOne": round3(1000.0 / p.min.s_per_km()),
            "targetValueTwo": round3(1000.0 / p.max.s_per_km()),
        }),
        Target::HrZone(z) => json!({
            "targetType": { "workoutTargetTypeId": 4, "workoutTargetTypeKey": "heart.rate.zone" },
            "zoneNumber": z.clamp(1, 5),
        }),
    };
    if let (Some(obj), Some(t)) = (v.as_object_mut(), target.as_object()) {
        obj.extend(t.clone());
    }
    v
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The session as Garmin's workout JSON: one running segment, steps numbered depth-first.
#[must_use]
pub fn workout_json(w: &Workout, lang: Lang) -> Value {
    let mut order = 0;
    let steps: Vec<Value> = w
        .blocks()
        .iter()
        .map(|b| match b {
            Block::Step(s) => executable(&mut order, s, lang),
            Block::Repeat { times, steps } => {
                order += 1;
                let me = order;
                let children: Vec<Value> = steps.iter().map(|s| executable(&mut order, s, lang)).collect();
                json!({
                    "type": "RepeatGroupDTO",
                    "stepOrder": me,
                    "stepType": { "stepTypeId": 6, "stepTypeKey": "repeat" },
                    "numberOfIterations": times,
                    "smartRepeat": false,
                    "endCondition": { "conditionTypeId": 7, "conditionTypeKey": "iterations" },
                    "endConditionValue": f64::from(*times),
                    "workoutSteps": children,
                })
            }
        })
        .collect();
    let description: String = w.description.get(lang).chars().take(512).collect();
    json!({
        "workoutName": watch::workout_name(w, lang),
        "description": description,
        "sportType": running(),
        "workoutSegments": [{ "segmentOrder": 1, "sportType": running(), "workoutSteps": steps }],
    })
}

/// What was sent, hashed (a changed session, or a new language, is a new fingerprint).
#[must_use]
pub fn fingerprint(body: &Value) -> String {
    let digest = Sha256::digest(body.to_string().as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// A session Garmin would not take.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub date: NaiveDate,
    pub name: String,
    pub reason: String,
}

/// What a push did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PushReport {
    pub created: Vec<NaiveDate>,
    pub updated: Vec<NaiveDate>,
    pub deleted: Vec<NaiveDate>,
    pub unchanged: usize,
    pub refused: Vec<Refusal>,
}

impl PushReport {
    #[must_use]
    pub fn changed(&self) -> bool {
        !(self.created.is_empty() && self.updated.is_empty() && self.deleted.is_empty())
    }
}

/// The sessions to be on Garmin for days `from..from+days`: running, not done, not dropped.
fn wanted(plan: Option<&Plan>, from: NaiveDate, to: NaiveDate) -> Vec<&Workout> {
    plan.map(|p| {
        p.workouts()
            .filter(|w| w.date >= from && w.date <= to && w.kind.is_running())
            .filter(|w| w.status != WorkoutStatus::Done && !w.status.is_dropped())
            .collect()
    })
    .unwrap_or_default()
}

/// Whether a push would change anything on Garmin (no Garmin call: the plan against the store).
pub async fn needs_push(
    store: &dyn Store,
    user: UserId,
    plan: Option<&Plan>,
    from: NaiveDate,
    days: u32,
    lang: Lang,
) -> Result<bool, GarminError> {
    let to = from + Duration::days(i64::from(days.clamp(1, MAX_DAYS)) - 1);
    let pushed = store.pushed_workouts(user, from, to).await?;
    let wanted = wanted(plan, from, to);
    let same = pushed.len() == wanted.len()
        && wanted
            .iter()
            .all(|w| pushed.iter().any(|p| p.date == w.date && p.fingerprint == fingerprint(&workout_json(w, lang))));
    Ok(!same)
}

/// Brings the runner's Garmin calendar for `days` days from `from` in step with `plan` (`None`:
/// no plan any more, so every pushed session of the window is removed). Garmin refusing one
/// session is reported and the others go on; nothing is recorded for a session that was not
/// wholly created and scheduled (a created workout whose scheduling fails is deleted again).
/// A 429 stops the push at once ([`GarminError::RateLimited`]).
#[tracing::instrument(skip_all, fields(user = %user))]
#[allow(clippy::too_many_arguments)]
pub async fn push(
    client: &GarminClient,
    store: &dyn Store,
    sealer: &TokenSealer,
    user: UserId,
    plan: Option<&Plan>,
    from: NaiveDate,
    days: u32,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<PushReport, GarminError> {
    let to = from + Duration::days(i64::from(days.clamp(1, MAX_DAYS)) - 1);
    let pushed = store.pushed_workouts(user, from, to).await?;
    let wanted = wanted(plan, from, to);
    let mut report = PushReport::default();
    let work: Vec<(&Workout, Value, Option<&PushedWorkout>)> = wanted
        .iter()
        .map(|w| {
            let body = workout_json(w, lang);
            (*w, body, pushed.iter().find(|p| p.date == w.date))
        })
        .collect();
    let stale: Vec<&PushedWorkout> = pushed.iter().filter(|p| !wanted.iter().any(|w| w.date == p.date)).collect();
    let todo = work.iter().filter(|(_, body, old)| old.is_none_or(|o| o.fingerprint != fingerprint(body))).count();
    report.unchanged = work.len() - todo;
    if todo == 0 && stale.is_empty() {
        return Ok(report);
    }
    let tokens = load_tokens(store, sealer, user).await?;
    let mut session = GarminSession::new(client, tokens);
    let result = apply(&mut session, store, user, &work, &stale, &mut report, lang, now).await;
    // Even a failed push may have rotated the tokens: keep the new ones.
    if session.was_refreshed() {
        save_tokens(store, sealer, user, session.tokens()).await?;
    }
    result.map(|()| report)
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    session: &mut GarminSession<'_>,
    store: &dyn Store,
    user: UserId,
    work: &[(&Workout, Value, Option<&PushedWorkout>)],
    stale: &[&PushedWorkout],
    report: &mut PushReport,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(), GarminError> {
    for old in stale {
        match session.send_json(Method::DELETE, &format!("/workout-service/workout/{}", old.workout_id), None).await {
            // Already gone from Garmin (the runner deleted it): the same outcome.
            Ok(_) | Err(GarminError::Refused { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
        store.forget_pushed_workout(user, old.date).await?;
        report.deleted.push(old.date);
    }
    for (w, body, old) in work {
        let print = fingerprint(body);
        if old.is_some_and(|o| o.fingerprint == print) {
            continue;
        }
        let refused = |reason: String| Refusal { date: w.date, name: watch::workout_name(w, lang), reason };
        match old {
            Some(o) => {
                let mut full = body.clone();
                if let Some(obj) = full.as_object_mut() {
                    obj.insert("workoutId".into(), json!(o.workout_id.parse::<i64>().ok()));
                }
                let path = format!("/workout-service/workout/{}", o.workout_id);
                match session.send_json(Method::PUT, &path, Some(&full)).await {
                    Ok(_) => {
                        store
                            .record_pushed_workout(
                                user,
                                &PushedWorkout { fingerprint: print, pushed_at: now, ..(*o).clone() },
                            )
                            .await?;
                        report.updated.push(w.date);
                    }
                    Err(GarminError::Refused { reason, .. }) => report.refused.push(refused(reason)),
                    Err(e) => return Err(e),
                }
            }
            None => match create(session, body, w.date).await {
                Ok((workout_id, schedule_id)) => {
                    store
                        .record_pushed_workout(
                            user,
                            &PushedWorkout {
                                date: w.date,
                                workout_id,
                                schedule_id,
                                fingerprint: print,
                                pushed_at: now,
                            },
                        )
                        .await?;
                    report.created.push(w.date);
                }
                Err(GarminError::Refused { reason, .. }) => report.refused.push(refused(reason)),
                Err(e) => return Err(e),
            },
        }
    }
    Ok(())
}

/// Creates the workout, then schedules it; a workout that cannot be scheduled is deleted again.
async fn create(
    session: &mut GarminSession<'_>,
    body: &Value,
    date: NaiveDate,
) -> Result<(String, Option<String>), GarminError> {
    let created = session.send_json(Method::POST, "/workout-service/workout", Some(body)).await?;
    let id = created
        .as_ref()
        .and_then(|c| c.get("workoutId"))
        .and_then(|v| v.as_i64().map(|n| n.to_string()).or_else(|| v.as_str().map(str::to_owned)))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| GarminError::Unexpected("workout created without a workoutId".into()))?;
    let scheduled = session
        .send_json(Method::POST, &format!("/workout-service/schedule/{id}"), Some(&json!({ "date": date.to_string() })))
        .await;
    match scheduled {
        Ok(answer) => {
            let schedule_id = answer
                .as_ref()
                .and_then(|a| a.get("workoutScheduleId"))
                .and_then(|v| v.as_i64().map(|n| n.to_string()).or_else(|| v.as_str().map(str::to_owned)));
            Ok((id, schedule_id))
        }
        Err(e) => {
            // Nothing half-pushed: the unscheduled workout goes (best effort; the error is the
            // scheduling one).
            let _ = session.send_json(Method::DELETE, &format!("/workout-service/workout/{id}"), None).await;
            Err(e)
        }
    }
}

/// "⌚ Garmin calendar: 3 sessions added, 1 changed" and each refusal with its reason.
#[must_use]
pub fn report_text(r: &PushReport, lang: Lang) -> String {
    use crate::i18n::{count, date_short};
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    let mut parts = Vec::new();
    if !r.created.is_empty() {
        parts.push(count(
            lang,
            n(r.created.len()),
            ["séance ajoutée", "séances ajoutées"],
            ["session added", "sessions added"],
        ));
    }
    if !r.updated.is_empty() {
        parts.push(count(
            lang,
            n(r.updated.len()),
            ["séance modifiée", "séances modifiées"],
            ["session changed", "sessions changed"],
        ));
    }
    if !r.deleted.is_empty() {
        parts.push(count(
            lang,
            n(r.deleted.len()),
            ["séance retirée", "séances retirées"],
            ["session removed", "sessions removed"],
        ));
    }
    if r.unchanged > 0 {
        parts.push(count(
            lang,
            n(r.unchanged),
            ["déjà à jour", "déjà à jour"],
            ["already up to date", "already up to date"],
        ));
    }
    let mut text = if parts.is_empty() && r.refused.is_empty() {
        lang.pick(
            "⌚ Calendrier Garmin : aucune séance à envoyer sur ces jours.",
            "⌚ Garmin calendar: no session to send on those days.",
        )
        .to_owned()
    } else {
        format!("⌚ {} {}", lang.pick("Calendrier Garmin :", "Garmin calendar:"), parts.join(", "))
    };
    for refusal in &r.refused {
        text.push('\n');
        text.push_str(&match lang {
            Lang::Fr => format!(
                "⚠️ Garmin a refusé « {} » ({}) : {}. Cette séance n'est pas dans ton calendrier Garmin ; le bouton ⌚ de /today te donne son fichier.",
                refusal.name,
                date_short(lang, refusal.date),
                refusal.reason
            ),
            Lang::En => format!(
                "⚠️ Garmin refused “{}” ({}): {}. That session is not in your Garmin calendar; /today's ⌚ button gives you its file.",
                refusal.name,
                date_short(lang, refusal.date),
                refusal.reason
            ),
        });
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Goal, Level, PlanLength, PlanRequest, generate};

    #[test]
    fn a_session_becomes_garmins_workout_json_numbered_depth_first() {
        let p = generate(&PlanRequest {
            goal: Goal::TenK,
            level: Some(Level::Intermediate),
            sessions_per_week: 4,
            preferred_days: Vec::new(),
            start_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            length: PlanLength::Weeks(10),
            vdot: Some(50.0),
            target_time_s: None,
            history: None,
        })
        .unwrap();
        let w = p
            .workouts()
            .find(|w| w.steps.iter().any(|b| matches!(b, Block::Repeat { .. })))
            .expect("a session with repeats");
        let body = workout_json(w, Lang::En);
        assert_eq!(body["sportType"]["sportTypeKey"], "running");
        let steps = body["workoutSegments"][0]["workoutSteps"].as_array().unwrap();
        assert_eq!(steps[0]["stepType"]["stepTypeKey"], "warmup");
        assert_eq!(steps[0]["stepOrder"], 1);
        let repeat = steps.iter().find(|s| s["type"] == "RepeatGroupDTO").unwrap();
        let Some(Block::Repeat { times, steps: inner }) = w.steps.iter().find(|b| matches!(b, Block::Repeat { .. }))
        else {
            unreachable!()
        };
        assert_eq!(repeat["numberOfIterations"], *times);
        assert_eq!(repeat["endCondition"]["conditionTypeId"], 7);
        let children = repeat["workoutSteps"].as_array().unwrap();
        assert_eq!(children.len(), inner.len());
        assert_eq!(children[0]["stepOrder"], repeat["stepOrder"].as_u64().unwrap() + 1, "depth-first numbering");
        // Every number is unique and runs 1..=n.
        let mut orders = Vec::new();
        fn walk(v: &Value, out: &mut Vec<u64>) {
            for s in v.as_array().unwrap() {
                out.push(s["stepOrder"].as_u64().unwrap());
                if let Some(c) = s.get("workoutSteps") {
                    walk(c, out);
                }
            }
        }
        walk(&body["workoutSegments"][0]["workoutSteps"], &mut orders);
        assert_eq!(orders, (1..=orders.len() as u64).collect::<Vec<_>>());
        let paced = steps.iter().find(|s| s["targetType"]["workoutTargetTypeKey"] == "pace.zone").unwrap();
        assert!(paced["targetValueOne"].as_f64().unwrap() > paced["targetValueTwo"].as_f64().unwrap(), "faster first");
        assert_eq!(fingerprint(&body), fingerprint(&workout_json(w, Lang::En)));
        assert_ne!(fingerprint(&body), fingerprint(&workout_json(w, Lang::Fr)));
    }
}

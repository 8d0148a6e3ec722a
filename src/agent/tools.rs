//! The coach's tools. A [`ToolBox`] is built by the core for one caller and carries that runner's
//! id itself: no tool takes a user id, and arguments the model adds are ignored, so no prompt can
//! reach another runner's data. What a tool returns is data for the model, never instructions.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::domain::User;
use crate::history;
use crate::i18n::Lang;
use crate::knowledge::{Hit, KnowledgeBase};
use crate::plan::{self, Goal, Level, PlanLength, PlanRequest};
use crate::plans::{self, ActivePlan};
use crate::store::{Store, StoreError};
use crate::weather::{WeatherNote, WeatherService};

/// Longest text a tool hands back (a hostile or huge activity name is cut, not forwarded whole).
const MAX_FIELD_CHARS: usize = 200;
const FEELINGS: &[&str] = &["great", "good", "ok", "tired", "sore", "ill", "injured"];

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("unknown tool {0:?}")]
    Unknown(String),
    #[error("bad arguments: {0}")]
    BadArguments(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One runner's tools for one turn.
pub struct ToolBox<'a> {
    store: &'a dyn Store,
    user: &'a User,
    kb: Option<Arc<KnowledgeBase>>,
    today: NaiveDate,
    /// Personal tools only in a private chat: a group never gets anyone's data.
    personal: bool,
    /// Passages the search returned this turn, cited under the answer.
    passages: Mutex<Vec<Hit>>,
    /// Forecasts, when the server has the weather, and the instant of the turn.
    weather: Option<(&'a WeatherService, DateTime<Utc>)>,
}

impl<'a> ToolBox<'a> {
    #[must_use]
    pub fn new(
        store: &'a dyn Store,
        user: &'a User,
        kb: Option<Arc<KnowledgeBase>>,
        today: NaiveDate,
        personal: bool,
    ) -> Self {
        ToolBox { store, user, kb, today, personal, passages: Mutex::new(Vec::new()), weather: None }
    }

    /// Offers `todays_weather` (forecasts at `now`).
    #[must_use]
    pub fn with_weather(mut self, weather: Option<&'a WeatherService>, now: DateTime<Utc>) -> Self {
        self.weather = weather.map(|w| (w, now));
        self
    }

    /// The runner's date, which the tools compute from.
    #[must_use]
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    #[must_use]
    pub fn store(&self) -> &'a dyn Store {
        self.store
    }

    #[must_use]
    pub fn lang(&self) -> Lang {
        self.user.lang
    }

    /// The passages handed to the model this turn, best first, without repeats.
    #[must_use]
    pub fn passages(&self) -> Vec<Hit> {
        self.passages.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The OpenAI `tools` array offered to the model.
    #[must_use]
    pub fn definitions(&self) -> Vec<Value> {
        let function = |name: &str, description: &str, parameters: Value| json!({ "type": "function", "function": { "name": name, "description": description, "parameters": parameters } });
        let none = json!({ "type": "object", "properties": {}, "additionalProperties": false });
        let mut tools = vec![function(
            "search_knowledge",
            "Search runcoach's running knowledge base (French and English). Use it for any training, \
             injury, nutrition or racing question and cite what you use.",
            json!({ "type": "object", "properties": { "query": { "type": "string" } }, "required": ["query"] }),
        )];
        if self.personal {
            tools.extend([
                function(
                    "training_summary",
                    "The runner's training summary: runs, weekly km, VDOT and race predictions, load, ACWR, level.",
                    none.clone(),
                ),
                function(
                    "recent_activities",
                    "The runner's most recent activities (date, sport, distance, duration, pace, heart rate).",
                    json!({ "type": "object", "properties": { "limit": { "type": "integer", "minimum": 1, "maximum": 20 } } }),
                ),
                function(
                    "current_plan",
                    "The runner's active training plan and this week's sessions with their status.",
                    none,
                ),
                function(
                    "todays_weather",
                    "The forecast where the runner runs, around the hour they usually run today, and what it changes \
                     for today's session (heat: how much slower; cold, ice, storm, wind: what to do). Use it for any \
                     question about today's run or the weather.",
                    json!({ "type": "object", "properties": {}, "additionalProperties": false }),
                ),
                function(
                    "generate_plan",
                    "Compute a training plan with runcoach's plan engine (not saved; the runner saves one with /plan). \
                     The engine computes every number: explain them, never change them.",
                    json!({
                        "type": "object",
                        "properties": {
                            "goal": { "type": "string", "enum": ["5k", "10k", "half", "marathon", "fitness", "endurance", "speed"] },
                            "sessions_per_week": { "type": "integer", "minimum": 2, "maximum": 6 },
                            "weeks": { "type": "integer", "minimum": 4, "maximum": 30 },
                            "race_date": { "type": "string", "description": "YYYY-MM-DD" },
                            "level": { "type": "string", "enum": ["beginner", "intermediate", "advanced"] }
                        },
                        "required": ["goal", "sessions_per_week"]
                    }),
                ),
                function(
                    "ease_off_plan",
                    "When the runner is tired, unwell or sore: lighten the next days of their active plan with the plan \
                     engine (it decides what changes and keeps the plan valid) and save it.",
                    json!({
                        "type": "object",
                        "properties": { "days": { "type": "integer", "minimum": 1, "maximum": 14 } },
                        "required": ["days"]
                    }),
                ),
                function(
                    "log_feeling",
                    "Record how the runner says they feel today.",
                    json!({
                        "type": "object",
                        "properties": {
                            "feeling": { "type": "string", "enum": FEELINGS },
                            "note": { "type": "string" }
                        },
                        "required": ["feeling"]
                    }),
                ),
            ]);
        }
        tools
    }

    #[must_use]
    pub fn knows(&self, name: &str) -> bool {
        self.definitions().iter().any(|d| d.pointer("/function/name").and_then(Value::as_str) == Some(name))
    }

    /// Runs one tool for the bound runner.
    #[tracing::instrument(skip_all, fields(tool = name))]
    pub async fn call(&self, name: &str, args: &Value) -> Result<Value, ToolError> {
        if !self.knows(name) {
            return Err(ToolError::Unknown(name.chars().take(64).collect()));
        }
        match name {
            "search_knowledge" => self.search(args).await,
            "training_summary" => self.training_summary().await,
            "recent_activities" => self.recent_activities(args).await,
            "current_plan" => self.current_plan().await,
            "todays_weather" => self.todays_weather().await,
            "generate_plan" => self.generate_plan(args).await,
            "log_feeling" => self.log_feeling(args).await,
            "ease_off_plan" => self.ease_off_plan(args).await,
            other => Err(ToolError::Unknown(other.chars().take(64).collect())),
        }
    }

    /// The knowledge base's passages for the runner's question, before the model speaks: every
    /// answer is grounded (and cited) even when the model calls no tool. `None` without a base.
    /// In the runner's language: the model answers in the language of what it reads (the coach
    /// evaluation saw French questions answered in English from English passages).
    pub async fn grounding(&self, question: &str) -> Option<Value> {
        let kb = self.kb.clone()?;
        let question = question.trim();
        if question.is_empty() {
            return None;
        }
        Some(self.passages_for(kb, question, Some(self.lang())).await)
    }

    async fn search(&self, args: &Value) -> Result<Value, ToolError> {
        let expected = "query must be a non-empty string";
        let SearchArgs { query } = arguments(args, expected)?;
        let query = Some(query.as_str()).filter(|q| !q.trim().is_empty()).ok_or_else(|| bad(expected))?;
        let Some(kb) = self.kb.clone() else {
            return Ok(json!({ "passages": [], "note": "the knowledge base is not loaded" }));
        };
        // Both languages: a French question may be best answered by an English passage.
        Ok(self.passages_for(kb, query, None).await)
    }

    /// The best passages for `query` (in `lang`, or both languages), remembered for the citations.
    async fn passages_for(&self, kb: Arc<KnowledgeBase>, query: &str, lang: Option<Lang>) -> Value {
        // The query's embedding runs off the async threads (see KnowledgeBase::search_off_runtime).
        let hits = kb.search_off_runtime(truncate(query, 500), lang, 3).await;
        if let Ok(mut seen) = self.passages.lock() {
            for h in &hits {
                if !seen.iter().any(|s| s.doc == h.doc && s.heading == h.heading) {
                    seen.push(h.clone());
                }
            }
        }
        let passages: Vec<Value> = hits
            .iter()
            .map(|h| json!({ "source": format!("{} › {}", h.title, h.heading), "lang": h.lang, "text": h.text }))
            .collect();
        json!({ "passages": passages })
    }

    async fn todays_weather(&self) -> Result<Value, ToolError> {
        let Some((weather, now)) = self.weather else {
            return Ok(json!({ "available": false, "reason": "the weather is not enabled on this server" }));
        };
        let active = plans::active(self.store, self.user.id).await?;
        let session = active
            .as_ref()
            .and_then(|a| a.plan.workouts().find(|w| w.date == self.today && w.kind.is_running()).cloned());
        let note =
            crate::weather::weather_note(Some(weather), self.store, self.user, session.as_ref(), self.today, now)
                .await?;
        let lang = self.lang();
        Ok(match note {
            None => json!({ "available": false, "reason": "the weather is not enabled on this server" }),
            Some(WeatherNote::NoLocation) => json!({
                "available": false,
                "reason": "the runner has not said where they run",
                "how_to_set": "/profile location <town>, or send a location on Telegram",
            }),
            Some(WeatherNote::Unavailable) => {
                json!({ "available": false, "reason": "the weather service cannot be reached right now" })
            }
            Some(WeatherNote::Forecast { place, hour, advice }) => json!({
                "available": true,
                "place": place,
                "time_utc": hour.time,
                "temperature_c": hour.temperature_c,
                "feels_like_c": hour.feels_like_c,
                "wind_kmh": hour.wind_kmh,
                "gusts_kmh": hour.gusts_kmh,
                "rain_probability_pct": hour.precipitation_probability_pct,
                "todays_session": session.as_ref().map(|w| json!({ "kind": w.kind.as_str(), "description": w.description.get(lang) })),
                "advice": advice.iter().map(|a| json!({ "code": a.code, "text": a.text.get(lang) })).collect::<Vec<_>>(),
            }),
        })
    }

    async fn training_summary(&self) -> Result<Value, ToolError> {
        let (_, analysis) = history::analyze_user(self.store, self.user.id, self.today).await?;
        let mut summary = history::stats_json(&analysis);
        if let Some(obj) = summary.as_object_mut() {
            obj.insert("today".into(), json!(self.today));
            obj.insert("level_reason".into(), json!(analysis.level.reason.get(self.lang())));
        }
        Ok(summary)
    }

    async fn recent_activities(&self, args: &Value) -> Result<Value, ToolError> {
        let RecentArgs { limit } = arguments(args, "limit must be an integer from 1 to 20")?;
        let limit = limit.unwrap_or(10).clamp(1, 20);
        let since = self.today - Duration::days(120);
        let start = since.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        let mut activities = self.store.activities(self.user.id, start).await?;
        activities.sort_by_key(|a| std::cmp::Reverse(a.start_time));
        let items: Vec<Value> = activities
            .iter()
            .take(usize::try_from(limit).unwrap_or(10))
            .map(|a| {
                let km = a.distance_m.map(|m| m / 1000.0);
                let pace = km.filter(|k| *k > 0.1).map(|k| a.duration_s / k);
                json!({
                    "date": a.start_time.date_naive(),
                    "sport": a.sport,
                    // User-controlled text: cut, and only ever shown as data.
                    "name": a.name.as_deref().map(|n| truncate(n, MAX_FIELD_CHARS)),
                    "distance_km": km.map(|k| round(k, 2)),
                    "duration_min": round(a.duration_s / 60.0, 1),
                    "pace_min_per_km": pace.map(|p| format!("{}:{:02}", (p / 60.0).floor(), (p % 60.0).round() as u32 % 60)),
                    "avg_hr": a.avg_hr.map(f64::round),
                })
            })
            .collect();
        Ok(json!({ "activities": items }))
    }

    async fn current_plan(&self) -> Result<Value, ToolError> {
        let Some(ActivePlan { plan, .. }) = plans::active(self.store, self.user.id).await? else {
            return Ok(json!({ "plan": null, "note": "no active plan; the runner can make one with /plan" }));
        };
        let lang = self.lang();
        let days = (self.today - plan.start_date).num_days().max(0);
        let index = usize::try_from(days / 7).unwrap_or(0).min(plan.weeks.len().saturating_sub(1));
        let week = plan.weeks.get(index).map(|w| {
            json!({
                "index": w.index,
                "phase": w.phase.label().get(lang),
                "planned_km": round(w.planned_km, 1),
                "workouts": w.workouts.iter().map(|x| json!({
                    "date": x.date,
                    "weekday": x.date.weekday().to_string(),
                    "kind": x.kind.as_str(),
                    "duration_min": x.duration_min,
                    "distance_km": x.distance_km.map(|k| round(k, 1)),
                    "description": x.description.get(lang),
                    "status": format!("{:?}", x.status).to_lowercase(),
                })).collect::<Vec<_>>(),
            })
        });
        Ok(json!({
            "goal": plan.goal.as_str(),
            "level": plan.level.label_en(),
            "start_date": plan.start_date,
            "end_date": plan.end_date(),
            "race_date": plan.race_date,
            "weeks": plan.weeks.len(),
            "sessions_per_week": plan.sessions_per_week,
            "this_week": week,
        }))
    }

    async fn generate_plan(&self, args: &Value) -> Result<Value, ToolError> {
        let a: PlanArgs = arguments(args, "expected goal, sessions_per_week and optionally weeks, race_date, level")?;
        let goal: Goal = a
            .goal
            .and_then(|g| g.parse().ok())
            .ok_or_else(|| bad("goal must be one of 5k, 10k, half, marathon, fitness, endurance, speed"))?;
        let sessions = a
            .sessions_per_week
            .and_then(|s| u8::try_from(s).ok())
            .filter(|s| (2..=6).contains(s))
            .ok_or_else(|| bad("sessions_per_week must be 2 to 6"))?;
        let length = match (a.race_date, a.weeks) {
            (Some(d), _) => PlanLength::RaceDate(
                NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| bad("race_date must be YYYY-MM-DD"))?,
            ),
            (None, Some(w)) => PlanLength::Weeks(u16::try_from(w).map_err(|_| bad("weeks out of range"))?),
            (None, None) => PlanLength::Weeks(default_weeks(goal)),
        };
        let level = match a.level {
            Some(l) => Some(l.parse::<Level>().map_err(|_| bad("level must be beginner, intermediate or advanced"))?),
            None => None,
        };
        let (_, analysis) = history::analyze_user(self.store, self.user.id, self.today).await?;
        let request = PlanRequest {
            goal,
            level,
            sessions_per_week: sessions,
            preferred_days: Vec::new(),
            start_date: self.today + Duration::days(1),
            length,
            vdot: None,
            target_time_s: None,
            history: Some(plan::HistorySummary::from(&analysis)),
        };
        let lang = self.lang();
        match plan::generate(&request) {
            Ok(p) => Ok(json!({
                "saved": false,
                "how_to_save": "the runner types /plan",
                "goal": p.goal.as_str(),
                "level": p.level.label_en(),
                "level_reason": p.level_reason.get(lang),
                "start_date": p.start_date,
                "race_date": p.race_date,
                "vdot": p.vdot.map(|v| round(v, 1)),
                "weeks": p.weeks.iter().map(|w| json!({
                    "index": w.index,
                    "phase": w.phase.label().get(lang),
                    "minutes": w.planned_minutes,
                    "km": round(w.planned_km, 1),
                    "key_sessions": w.workouts.iter().filter(|x| x.kind.is_hard() || x.kind.as_str() == "long")
                        .map(|x| x.description.get(lang)).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })),
            Err(e) => Ok(json!({ "error": e.to_string() })),
        }
    }

    async fn ease_off_plan(&self, args: &Value) -> Result<Value, ToolError> {
        let expected = "days must be 1 to 14";
        let DaysArgs { days } = arguments(args, expected)?;
        let days = u32::try_from(days).ok().filter(|d| (1..=14).contains(d)).ok_or_else(|| bad(expected))?;
        let Some(ActivePlan { id, plan }) = plans::active(self.store, self.user.id).await? else {
            return Ok(json!({ "changed": false, "note": "no active plan" }));
        };
        let lang = self.lang();
        match plan::scale_back(&plan, self.today.max(plan.start_date), days) {
            Ok(replan) => {
                plans::update(self.store, self.user.id, id, &replan.plan).await?;
                Ok(json!({ "changed": true, "note": replan.note.get(lang) }))
            }
            Err(e) => Ok(json!({ "changed": false, "note": e.explain().get(lang) })),
        }
    }

    async fn log_feeling(&self, args: &Value) -> Result<Value, ToolError> {
        let expected = format!("feeling must be one of {}", FEELINGS.join(", "));
        let FeelingArgs { feeling, note } = arguments(args, &expected)?;
        let feeling =
            Some(feeling.to_lowercase()).filter(|f| FEELINGS.contains(&f.as_str())).ok_or_else(|| bad(&expected))?;
        let note = note.map(|n| truncate(&n, 500));
        let id = self.store.log_wellness(self.user.id, &feeling, note.as_deref()).await?;
        Ok(json!({ "logged": true, "id": id, "feeling": feeling }))
    }
}

/// A plan length people commonly use per goal, when the model gives none.
fn default_weeks(goal: Goal) -> u16 {
    match goal {
        Goal::Marathon => 16,
        Goal::Half => 12,
        Goal::TenK => 10,
        _ => 8,
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// A tool's arguments, typed at the boundary: what the model sent, read into the struct of that
/// tool, or `expected` as the error it is shown (it then corrects its call). Fields the model adds
/// are ignored.
fn arguments<T: serde::de::DeserializeOwned>(args: &Value, expected: &str) -> Result<T, ToolError> {
    // A model that sends no arguments at all means "none".
    let args = if args.is_null() { json!({}) } else { args.clone() };
    serde_json::from_value(args).map_err(|_| bad(expected))
}

fn bad(expected: &str) -> ToolError {
    ToolError::BadArguments(expected.to_owned())
}

#[derive(serde::Deserialize)]
struct SearchArgs {
    query: String,
}

#[derive(serde::Deserialize)]
struct RecentArgs {
    #[serde(default)]
    limit: Option<u64>,
}

#[derive(serde::Deserialize)]
struct PlanArgs {
    #[serde(default)]
    goal: Option<String>,
    #[serde(default)]
    sessions_per_week: Option<u64>,
    #[serde(default)]
    weeks: Option<u64>,
    #[serde(default)]
    race_date: Option<String>,
    #[serde(default)]
    level: Option<String>,
}

#[derive(serde::Deserialize)]
struct DaysArgs {
    days: u64,
}

#[derive(serde::Deserialize)]
struct FeelingArgs {
    feeling: String,
    #[serde(default)]
    note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_typed_at_the_boundary() {
        let DaysArgs { days } = arguments(&json!({ "days": 3, "reason": "the model adds this" }), "days").unwrap();
        assert_eq!(days, 3);
        for wrong in [json!({ "days": "three" }), json!({ "days": -1 }), json!({}), json!("3")] {
            let e = arguments::<DaysArgs>(&wrong, "days must be 1 to 14").map(|_| ()).unwrap_err();
            assert!(matches!(&e, ToolError::BadArguments(m) if m == "days must be 1 to 14"), "{wrong}: {e:?}");
        }
        let FeelingArgs { feeling, note } = arguments(&json!({ "feeling": "Tired" }), "feeling").unwrap();
        assert_eq!((feeling.as_str(), note), ("Tired", None));
        let RecentArgs { limit } = arguments(&Value::Null, "limit").unwrap();
        assert_eq!(limit, None);
    }
}

//! Plans in the chat: the `/plan` wizard (goal → date or weeks → target time → recent race when the
//! history has no VDOT → sessions → days → level, with
//! what the history says), and `/plans`, `/week`, `/today`, `/done`, `/skip`, `/unwell` on the
//! active plan. The wizard's state is the dialogue state in the store, so it survives restarts
//! and continues on a linked platform. The engine computes and validates; this module only asks,
//! stores and shows.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::flow::{Failure, FlowCtx};
use super::{Attachment, AttachmentKind, Button, Choice, Reply};
use crate::domain::Platform;
use crate::i18n::Lang;
use crate::plan::{self, Goal, Level, Plan, PlanLength, PlanRequest, Suggestion, Workout, WorkoutStatus};
use crate::store::PlanStatus;
use crate::today::{WATCH_BUTTON_PREFIX, watch_button};
use crate::{goals, history, plans, scheduler, tracking, watch};

pub(super) const STATE_KIND: &str = "plan_wizard";
pub(super) const BUTTON_PREFIX: &str = "plan:";

/// The wizard's answers so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Wizard {
    kind: String,
    goal: Option<Goal>,
    weeks: Option<u16>,
    race_date: Option<NaiveDate>,
    sessions: Option<u8>,
    /// `Some(empty)` means "let the engine choose".
    days: Option<Vec<Weekday>>,
    level: Option<Level>,
    /// Race goals: the target time was asked (answered or skipped).
    #[serde(default)]
    target_asked: bool,
    #[serde(default)]
    target_time_s: Option<f64>,
    /// A recent race was asked for (only without a VDOT from the history).
    #[serde(default)]
    race_asked: bool,
    /// VDOT of the recent race the runner gave.
    #[serde(default)]
    race_vdot: Option<f64>,
}

impl Wizard {
    fn new() -> Self {
        Wizard { kind: STATE_KIND.to_owned(), ..Wizard::default() }
    }

    pub(super) fn from_state(state: &serde_json::Value) -> Option<Wizard> {
        serde_json::from_value::<Wizard>(state.clone()).ok().filter(|w| w.kind == STATE_KIND)
    }
}

fn goal_label(goal: Goal, lang: Lang) -> String {
    let label = goal.label().get(lang).to_owned();
    let mut chars = label.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or(label)
}

fn weekday_short(d: Weekday, lang: Lang) -> &'static str {
    crate::i18n::weekday_short(lang, d)
}

fn weekday_long(d: Weekday, lang: Lang) -> &'static str {
    crate::i18n::weekday_long(lang, d)
}

fn date_short(d: NaiveDate, lang: Lang) -> String {
    crate::i18n::date_short(lang, d)
}

/// `12/04`, `12/04/2027`, `2027-04-12` → a date (a day/month without year is the next one).
pub(super) fn parse_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some(d);
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%d/%m/%Y") {
        return Some(d);
    }
    let (day, month) = t.split_once('/')?;
    let (day, month) = (day.trim().parse::<u32>().ok()?, month.trim().parse::<u32>().ok()?);
    let this_year = NaiveDate::from_ymd_opt(today.year(), month, day)?;
    if this_year >= today { Some(this_year) } else { NaiveDate::from_ymd_opt(today.year() + 1, month, day) }
}

/// `12`, `12 weeks`, `12 semaines`, `12 sem` → 12.
pub(super) fn parse_weeks(text: &str) -> Option<u16> {
    let t = text.trim().to_lowercase();
    let n = t.split_whitespace().next()?.parse::<u16>().ok()?;
    let rest: String = t.split_whitespace().skip(1).collect();
    (rest.is_empty() || ["weeks", "week", "semaines", "semaine", "sem", "w", "s"].contains(&rest.as_str())).then_some(n)
}

/// `mar jeu sam dim`, `tue, thu, sat, sun`, `mardi jeudi` → weekdays.
pub(super) fn parse_days(text: &str) -> Option<Vec<Weekday>> {
    let mut days = Vec::new();
    for word in text.to_lowercase().split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()) {
        let d = match word.get(..3).unwrap_or(word) {
            "lun" | "mon" => Weekday::Mon,
            "mar" | "tue" => Weekday::Tue,
            "mer" | "wed" => Weekday::Wed,
            "jeu" | "thu" => Weekday::Thu,
            "ven" | "fri" => Weekday::Fri,
            "sam" | "sat" => Weekday::Sat,
            "dim" | "sun" => Weekday::Sun,
            _ => match word {
                "et" | "and" => continue,
                _ => return None,
            },
        };
        if !days.contains(&d) {
            days.push(d);
        }
    }
    days.sort_by_key(Weekday::num_days_from_monday);
    (!days.is_empty()).then_some(days)
}

fn buttons(items: Vec<(String, String)>, per_row: usize) -> Vec<Vec<Button>> {
    items
        .chunks(per_row.max(1))
        .map(|row| row.iter().map(|(l, d)| Button::new(l.clone(), d.clone())).collect())
        .collect()
}

/// `/plan`: starts (or restarts) the wizard.
/// `/plan`, `/plan edit …`, `/plan cancel`.
pub(super) async fn command(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lower = args.trim().to_lowercase();
    let (head, rest) = lower.split_once(char::is_whitespace).unwrap_or((lower.as_str(), ""));
    match head {
        "" => start(ctx).await,
        "cancel" | "annuler" | "stop" => cancel(ctx, rest.trim()).await,
        "edit" | "modifier" | "change" => edit(ctx, rest.trim()).await,
        _ => Ok(vec![edit_usage(ctx.lang())]),
    }
}

fn edit_usage(lang: Lang) -> Reply {
    Reply::text(lang.pick(
        "Pour changer ton plan : `/plan modifier seances 4`, `/plan modifier jours mar jeu sam dim` ou `/plan modifier course 2027-04-11`. Pour l'arrêter : `/plan annuler`. Pour un nouveau plan : `/plan`.",
        "To change your plan: `/plan edit sessions 4`, `/plan edit days tue thu sat sun` or `/plan edit race 2027-04-11`. To stop it: `/plan cancel`. For a new plan: `/plan`.",
    ))
}

/// `/plan cancel`: asks first; `/plan cancel yes` (the button) archives the active plan.
async fn cancel(ctx: &FlowCtx<'_>, rest: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((plan_id, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    if !matches!(rest, "yes" | "oui" | "confirm") {
        let text = match lang {
            Lang::Fr => format!(
                "Arrêter ton plan {} ({} → {}) ? Il reste dans /plans, archivé ; tes sorties restent.",
                goal_label(p.goal, lang),
                date_short(p.start_date, lang),
                date_short(p.end_date(), lang)
            ),
            Lang::En => format!(
                "Stop your {} plan ({} → {})? It stays in /plans, archived; your runs stay.",
                goal_label(p.goal, lang),
                date_short(p.start_date, lang),
                date_short(p.end_date(), lang)
            ),
        };
        return Ok(vec![Reply::text(text).with_buttons(vec![vec![Button::new(
            lang.pick("Oui, arrêter le plan", "Yes, stop the plan"),
            format!("{}/plan cancel yes", super::flow::BTN_COMMAND),
        )]])]);
    }
    if !ctx.store.archive_plan(ctx.user.id, plan_id).await? {
        return Ok(no_plan(lang));
    }
    Ok(vec![Reply::text(lang.pick(
        "🛑 Plan arrêté. /plan pour en construire un nouveau quand tu veux ; /today te donnera des idées de sorties libres en attendant.",
        "🛑 Plan stopped. /plan builds a new one whenever you like; meanwhile /today suggests free runs.",
    ))])
}

/// `/plan edit sessions N | days … | race DATE`: the stored request with that change, re-planned
/// by the engine from tomorrow with the current history; the old plan is archived only when the
/// new one is valid.
async fn edit(ctx: &FlowCtx<'_>, rest: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((_, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    let (field, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let mut request = p.request.clone();
    match field {
        "sessions" | "seances" | "séances" | "runs" => match value.trim().parse::<u8>() {
            Ok(n) => {
                request.sessions_per_week = n;
                if request.preferred_days.len() < usize::from(n) {
                    request.preferred_days.clear();
                }
            }
            Err(_) => return Ok(vec![edit_usage(lang)]),
        },
        "days" | "jours" => match parse_days(value) {
            Some(days) if days.len() >= usize::from(request.sessions_per_week) => request.preferred_days = days,
            Some(days) => {
                let w = Wizard { sessions: Some(request.sessions_per_week), ..Wizard::new() };
                return Ok(too_few_days(&days, &w, lang).into_iter().collect());
            }
            None => return Ok(vec![edit_usage(lang)]),
        },
        "race" | "course" | "date" => match parse_date(value, ctx.today) {
            Some(d) if p.goal.is_race() => request.length = PlanLength::RaceDate(d),
            Some(_) => {
                return Ok(vec![Reply::text(lang.pick(
                    "Ce plan n'a pas de course : `/plan` pour un plan vers une course.",
                    "This plan has no race: `/plan` makes a plan for a race.",
                ))]);
            }
            None => return Ok(vec![edit_usage(lang)]),
        },
        _ => return Ok(vec![edit_usage(lang)]),
    }
    let (_, analysis) = history::analyze_user(ctx.store, ctx.user.id, ctx.today).await?;
    request.start_date = ctx.today + Duration::days(1);
    // A plan of N weeks keeps the weeks it has left.
    if let PlanLength::Weeks(_) = request.length {
        let left = ((p.end_date() - ctx.today).num_days() + 6) / 7;
        request.length = PlanLength::Weeks(u16::try_from(left.max(1)).unwrap_or(1));
    }
    request.history = (analysis.run_count > 0).then(|| plan::HistorySummary::from(&analysis));
    match plan::generate(&request) {
        Ok(new) => {
            goals::save_plan(ctx.store, ctx.user.id, &new).await?;
            follow_days(ctx).await;
            let mut text = lang.pick("✏️ Plan modifié.\n", "✏️ Plan changed.\n").to_owned();
            text.push_str(&header(&new, lang));
            text.push_str("\n\n");
            text.push_str(&week_text(&new, 0, lang));
            Ok(vec![Reply::text(text)])
        }
        Err(e) => Ok(vec![Reply::text(format!(
            "{}\n\n{}",
            e.explain().get(lang),
            lang.pick("Ton plan actuel reste en place.", "Your current plan stays as it is.")
        ))]),
    }
}

pub(super) async fn start(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let w = Wizard::new();
    ctx.save_state(&w).await?;
    Ok(vec![ask(ctx, &w)])
}

/// The next question, from what is still missing.
fn ask(ctx: &FlowCtx<'_>, w: &Wizard) -> Reply {
    let lang = ctx.lang();
    let Some(goal) = w.goal else {
        let items =
            Goal::ALL.iter().map(|g| (goal_label(*g, lang), format!("{BUTTON_PREFIX}goal:{}", g.as_str()))).collect();
        return Reply::text(
            lang.pick("🎯 **Nouveau plan.** Quel est ton objectif ?", "🎯 **New plan.** What is your goal?"),
        )
        .with_buttons(buttons(items, 4));
    };
    if w.weeks.is_none() && w.race_date.is_none() {
        let choices: &[u16] = if goal.is_race() { &[8, 12, 16] } else { &[4, 8, 12] };
        let items = choices
            .iter()
            .map(|n| (format!("{n} {}", lang.pick("semaines", "weeks")), format!("{BUTTON_PREFIX}weeks:{n}")))
            .collect();
        let text = if goal.is_race() {
            lang.pick(
                "📅 Quelle est la date de ta course ? Écris-la (par exemple `12/04` ou `2027-04-12`), ou choisis une durée :",
                "📅 When is your race? Type the date (for example `12/04` or `2027-04-12`), or choose a length:",
            )
        } else {
            lang.pick("📅 Sur combien de semaines ?", "📅 Over how many weeks?")
        };
        return Reply::text(text).with_buttons(buttons(items, 3));
    }
    if goal.is_race() && !w.target_asked {
        return Reply::text(lang.pick(
            "⏱️ Tu vises un temps ? Écris-le (par exemple `45:00`, `1h45` ou `3:30:00`), ou passe : je te dirai s'il est réaliste.",
            "⏱️ Aiming for a time? Type it (for example `45:00`, `1h45` or `3:30:00`), or skip: I'll tell you whether it is realistic.",
        ))
        .with_buttons(vec![vec![Button::new(lang.pick("Pas de temps visé", "No target time"), format!("{BUTTON_PREFIX}target:none"))]]);
    }
    if !w.race_asked {
        return Reply::text(lang.pick(
            "🏁 Je n'ai pas encore tes allures. Une course ou un test récent ? Écris-le (par exemple `10 km en 48:30` ou `semi en 1h52`), ou passe.",
            "🏁 I don't know your paces yet. A recent race or time trial? Type it (for example `10k in 48:30` or `half in 1:52:00`), or skip.",
        ))
        .with_buttons(vec![vec![Button::new(lang.pick("Pas de course récente", "No recent race"), format!("{BUTTON_PREFIX}race:none"))]]);
    }
    if w.sessions.is_none() {
        let items = (2..=6u8).map(|n| (n.to_string(), format!("{BUTTON_PREFIX}sessions:{n}"))).collect();
        return Reply::text(lang.pick("🏃 Combien de séances de course par semaine ?", "🏃 How many runs a week?"))
            .with_buttons(buttons(items, 5));
    }
    if w.days.is_none() {
        let sessions = w.sessions.unwrap_or(1).clamp(1, 7);
        let days = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
        // Where the platform has a menu, the days are picked there; the English short names
        // come back, which `parse_days` reads.
        let choice = Choice {
            prefix: format!("{BUTTON_PREFIX}days:"),
            placeholder: match lang {
                Lang::Fr => format!("Choisis au moins {sessions} jours"),
                Lang::En => format!("Pick at least {sessions} days"),
            },
            options: days.iter().map(|d| Button::new(weekday_long(*d, lang), weekday_short(*d, Lang::En))).collect(),
            min: sessions,
            max: 7,
        };
        return Reply::text(lang.pick(
            "🗓️ Quels jours ? Écris-les (par exemple `mar jeu sam dim`), ou laisse-moi les répartir.",
            "🗓️ Which days? Type them (for example `tue thu sat sun`), or let me spread them out.",
        ))
        .with_buttons(vec![vec![Button::new(
            lang.pick("Répartis-les pour moi", "Spread them for me"),
            format!("{BUTTON_PREFIX}days:auto"),
        )]])
        .with_choice(choice);
    }
    Reply::text(lang.pick("Ton niveau ?", "Your level?"))
}

/// Handles a `plan:` button.
pub(super) async fn button(ctx: &FlowCtx<'_>, data: &str, state: Option<Wizard>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let rest = data.strip_prefix(BUTTON_PREFIX).unwrap_or_default();
    match rest {
        "ics" => return calendar(ctx).await,
        "full" => return full_plan(ctx).await,
        "keep" => return keep(ctx).await,
        _ => {}
    }
    if let Some(what) = data.strip_prefix(WATCH_BUTTON_PREFIX) {
        return to_watch(ctx, what).await;
    }
    let Some(mut w) = state else {
        return Ok(vec![Reply::text(lang.pick(
            "Ce choix n'est plus en cours. Tape /plan pour recommencer.",
            "That choice is no longer open. Type /plan to start again.",
        ))]);
    };
    let (key, value) = rest.split_once(':').unwrap_or((rest, ""));
    match key {
        "goal" => w.goal = value.parse().ok().or(w.goal),
        "weeks" => {
            if let Ok(n) = value.parse() {
                w.weeks = Some(n);
                w.race_date = None;
            }
        }
        "target" => w.target_asked = true,
        "race" => w.race_asked = true,
        "sessions" => w.sessions = value.parse().ok().or(w.sessions),
        "days" if value == "auto" => w.days = Some(Vec::new()),
        "days" => match parse_days(value) {
            Some(days) => {
                if let Some(too_few) = too_few_days(&days, &w, lang) {
                    return Ok(vec![too_few]);
                }
                w.days = Some(days);
            }
            None => return Ok(vec![again(ctx, &w)]),
        },
        "level" => w.level = value.parse().ok().or(w.level),
        _ => {}
    }
    advance(ctx, w).await
}

/// Handles typed text while the wizard waits for an answer.
pub(super) async fn text(ctx: &FlowCtx<'_>, text: &str, mut w: Wizard) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    if w.goal.is_none() {
        match text.trim().parse::<Goal>() {
            Ok(g) => w.goal = Some(g),
            Err(_) => return Ok(vec![again(ctx, &w)]),
        }
    } else if w.weeks.is_none() && w.race_date.is_none() {
        if let Some(n) = parse_weeks(text) {
            w.weeks = Some(n);
        } else if let Some(d) = parse_date(text, ctx.today) {
            w.race_date = Some(d);
        } else {
            return Ok(vec![again(ctx, &w)]);
        }
    } else if w.goal.is_some_and(Goal::is_race) && !w.target_asked && is_skip(text) {
        w.target_asked = true;
    } else if w.goal.is_some_and(Goal::is_race) && !w.target_asked {
        let Some(t) = super::coach::time_in(text) else {
            return Ok(vec![again(ctx, &w)]);
        };
        if let Some(goal) = w.goal
            && let Err(e) = plan::check_target(goal, t, None, 1)
        {
            let mut reply = ask(ctx, &w);
            reply.text = format!("{}\n\n{}", e.explain().get(lang), reply.text);
            return Ok(vec![reply]);
        }
        w.target_asked = true;
        w.target_time_s = Some(t);
    } else if !w.race_asked && is_skip(text) {
        w.race_asked = true;
    } else if !w.race_asked {
        let Some((distance, time_s)) = super::coach::race_goal(text) else {
            return Ok(vec![again(ctx, &w)]);
        };
        match crate::science::vdot_from_performance(distance.metres(), time_s) {
            Ok(v) => {
                w.race_asked = true;
                w.race_vdot = Some(v.value());
            }
            Err(_) => {
                let mut reply = ask(ctx, &w);
                reply.text = format!(
                    "{}\n\n{}",
                    lang.pick(
                        "Ce temps n'est pas plausible pour cette distance.",
                        "That time is not plausible for that distance."
                    ),
                    reply.text
                );
                return Ok(vec![reply]);
            }
        }
    } else if w.sessions.is_none() {
        match text.trim().parse::<u8>() {
            Ok(n) => w.sessions = Some(n),
            Err(_) => return Ok(vec![again(ctx, &w)]),
        }
    } else if w.days.is_none() {
        let Some(days) = parse_days(text) else {
            return Ok(vec![again(ctx, &w)]);
        };
        if let Some(too_few) = too_few_days(&days, &w, lang) {
            return Ok(vec![too_few]);
        }
        w.days = Some(days);
    } else {
        let t = text.trim().to_lowercase();
        w.level = match t.as_str() {
            "ok" | "oui" | "yes" | "y" | "o" => Some(suggested_level(ctx).await?.0),
            other => match other.parse::<Level>() {
                Ok(l) => Some(l),
                Err(_) => return Ok(vec![again(ctx, &w)]),
            },
        };
    }
    advance(ctx, w).await
}

/// A typed "skip" for an optional question.
fn is_skip(text: &str) -> bool {
    let t = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    matches!(
        t.as_str(),
        "skip" | "passer" | "passe" | "no" | "non" | "none" | "aucun" | "aucune" | "pas de temps" | "no target" | "-"
    )
}

/// Fewer days than runs a week: say so (the wizard stays at the days question).
fn too_few_days(days: &[Weekday], w: &Wizard, lang: Lang) -> Option<Reply> {
    let wanted = usize::from(w.sessions.unwrap_or(0));
    if days.len() >= wanted {
        return None;
    }
    let shown = days.iter().map(|d| weekday_short(*d, lang)).collect::<Vec<_>>().join(" ");
    let msg = match lang {
        Lang::Fr => {
            format!(
                "Tu as choisi {} ({shown}) pour {wanted} séances : donne-m'en au moins {wanted}.",
                crate::i18n::count(lang, days.len() as u64, ["jour", "jours"], ["day", "days"])
            )
        }
        Lang::En => format!(
            "You chose {} ({shown}) for {wanted} runs: give me at least {wanted}.",
            crate::i18n::count(lang, days.len() as u64, ["jour", "jours"], ["day", "days"])
        ),
    };
    Some(Reply::text(msg))
}

fn again(ctx: &FlowCtx<'_>, w: &Wizard) -> Reply {
    let mut reply = ask(ctx, w);
    reply.text = format!(
        "{}\n\n{}",
        ctx.lang().pick("Je n'ai pas compris cette réponse.", "I didn't understand that answer."),
        reply.text
    );
    reply
}

async fn suggested_level(ctx: &FlowCtx<'_>) -> Result<(Level, String, u32), Failure> {
    let (_, analysis) = history::analyze_user(ctx.store, ctx.user.id, ctx.today).await?;
    Ok((analysis.level.level, analysis.level.reason.get(ctx.lang()).to_owned(), analysis.run_count))
}

async fn advance(ctx: &FlowCtx<'_>, mut w: Wizard) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let length_known = w.goal.is_some() && (w.weeks.is_some() || w.race_date.is_some());
    if length_known && w.goal.is_some_and(|g| !g.is_race()) {
        w.target_asked = true;
    }
    // A recent race is only asked for when the history gives no VDOT.
    if length_known && w.target_asked && !w.race_asked {
        let (_, analysis) = history::analyze_user(ctx.store, ctx.user.id, ctx.today).await?;
        w.race_asked = analysis.vdot.is_some();
    }
    if w.goal.is_none()
        || (w.weeks.is_none() && w.race_date.is_none())
        || !w.target_asked
        || !w.race_asked
        || w.sessions.is_none()
        || w.days.is_none()
    {
        ctx.save_state(&w).await?;
        return Ok(vec![ask(ctx, &w)]);
    }
    let Some(level) = w.level else {
        ctx.save_state(&w).await?;
        let (suggested, reason, runs) = suggested_level(ctx).await?;
        let label = |l: Level| lang.pick(l.label_fr(), l.label_en());
        let items = [Level::Beginner, Level::Intermediate, Level::Advanced]
            .into_iter()
            .map(|l| {
                let mark = if l == suggested { "✓ " } else { "" };
                (format!("{mark}{}", label(l)), format!("{BUTTON_PREFIX}level:{}", l.label_en()))
            })
            .collect();
        let text = match (lang, runs) {
            (Lang::Fr, 0) => format!(
                "📈 Je n'ai pas encore tes sorties (envoie un fichier FIT/GPX ou connecte Garmin avec /sync pour un plan plus juste). \
Par prudence je te propose **{}**. Ton niveau ?",
                label(suggested)
            ),
            (Lang::En, 0) => format!(
                "📈 I don't have your runs yet (send a FIT/GPX file or connect Garmin with /sync for a better-fitted plan). \
To be safe I suggest **{}**. Your level?",
                label(suggested)
            ),
            (Lang::Fr, _) => format!("📈 Ton historique dit **{}** : {reason}\nOn part là-dessus ?", label(suggested)),
            (Lang::En, _) => format!("📈 Your history says **{}**: {reason}\nShall we go with that?", label(suggested)),
        };
        return Ok(vec![Reply::text(text).with_buttons(buttons(items, 3))]);
    };
    let (_, analysis) = history::analyze_user(ctx.store, ctx.user.id, ctx.today).await?;
    let request = PlanRequest {
        goal: w.goal.unwrap_or(Goal::Fitness),
        level: Some(level),
        sessions_per_week: w.sessions.unwrap_or(3),
        preferred_days: w.days.clone().unwrap_or_default(),
        // Plans start tomorrow: today's training is already decided.
        start_date: ctx.today + Duration::days(1),
        length: match (w.race_date, w.weeks) {
            (Some(d), _) => PlanLength::RaceDate(d),
            (None, n) => PlanLength::Weeks(n.unwrap_or(8)),
        },
        vdot: w.race_vdot,
        target_time_s: w.target_time_s,
        history: (analysis.run_count > 0).then(|| plan::HistorySummary::from(&analysis)),
    };
    match plan::generate(&request) {
        Ok(p) => {
            let (_, goal_id) = goals::save_plan(ctx.store, ctx.user.id, &p).await?;
            ctx.clear_state().await?;
            follow_days(ctx).await;
            let mut text = header(&p, lang);
            if let Some(goal_id) = goal_id {
                text.push_str(&match lang {
                    Lang::Fr => format!("\n🎯 Fait pour ton objectif #{goal_id} : /goals pour suivre ta progression."),
                    Lang::En => format!("\n🎯 Made for your goal #{goal_id}: /goals follows your progress."),
                });
            }
            text.push_str("\n\n");
            text.push_str(&week_text(&p, 0, lang));
            text.push_str(lang.pick(
                "\n\nChaque jour, /today te dit quoi faire ; /done ou /skip après la séance, /unwell si tu n'es pas à 100 %.",
                "\n\nEach day, /today tells you what to do; /done or /skip after the session, /unwell if you're not at 100 %.",
            ));
            Ok(vec![Reply::text(text).with_buttons(vec![vec![
                Button::new(lang.pick("📅 Calendrier (.ics)", "📅 Calendar (.ics)"), format!("{BUTTON_PREFIX}ics")),
                Button::new(lang.pick("📄 Plan complet", "📄 Full plan"), format!("{BUTTON_PREFIX}full")),
            ]])])
        }
        Err(e) => {
            // Keep the answers and offer the engine's safe alternatives as buttons.
            let mut w = w;
            w.level = None;
            if matches!(e, plan::PlanError::ImplausibleTarget { .. } | plan::PlanError::TargetWithoutRace { .. }) {
                w.target_asked = false;
                w.target_time_s = None;
            }
            ctx.save_state(&w).await?;
            let items: Vec<(String, String)> = e
                .suggestions()
                .into_iter()
                .filter_map(|s| match s {
                    Suggestion::Weeks(n) => {
                        Some((format!("{n} {}", lang.pick("semaines", "weeks")), format!("{BUTTON_PREFIX}weeks:{n}")))
                    }
                    Suggestion::Goal(g) => Some((goal_label(g, lang), format!("{BUTTON_PREFIX}goal:{}", g.as_str()))),
                    Suggestion::Sessions(k) => {
                        Some((format!("{k} {}", lang.pick("séances", "runs")), format!("{BUTTON_PREFIX}sessions:{k}")))
                    }
                    Suggestion::RaceOnOrAfter(_) => None,
                })
                .collect();
            let text = format!(
                "{}\n\n{}",
                e.explain().get(lang),
                lang.pick(
                    "Que veux-tu changer ? (ou /plan pour recommencer)",
                    "What would you like to change? (or /plan to start over)"
                )
            );
            Ok(vec![Reply::text(text).with_buttons(buttons(items, 3))])
        }
    }
}

fn header(p: &Plan, lang: Lang) -> String {
    let caution = p.length_caution().map(|c| format!("\n{}", c.get(lang))).unwrap_or_default();
    let target = p.target.map(|t| format!("\n{}", t.explain().get(lang))).unwrap_or_default();
    let race_week = p.race_week_rule().map(|r| format!("\n{}", r.get(lang))).unwrap_or_default();
    format!("{}{caution}{target}{race_week}", header_line(p, lang))
}

fn header_line(p: &Plan, lang: Lang) -> String {
    let level = lang.pick(p.level.label_fr(), p.level.label_en());
    let reason = p.level_reason.get(lang);
    let end = match (p.race_date, lang) {
        (Some(d), Lang::Fr) => format!("course le {}", d.format("%d/%m/%Y")),
        (Some(d), Lang::En) => format!("race on {}", d.format("%Y-%m-%d")),
        (None, Lang::Fr) => format!("jusqu'au {}", p.end_date().format("%d/%m/%Y")),
        (None, Lang::En) => format!("until {}", p.end_date().format("%Y-%m-%d")),
    };
    match lang {
        Lang::Fr => format!(
            "✅ **Plan {} — {} semaines, {} séances/semaine** ({end})\nNiveau : {level}. {reason}",
            goal_label(p.goal, lang),
            p.weeks.len(),
            p.sessions_per_week
        ),
        Lang::En => format!(
            "✅ **{} plan — {} weeks, {} runs a week** ({end})\nLevel: {level}. {reason}",
            goal_label(p.goal, lang),
            p.weeks.len(),
            p.sessions_per_week
        ),
    }
}

fn status_mark(w: &Workout) -> &'static str {
    match w.status {
        WorkoutStatus::Done => "✅ ",
        WorkoutStatus::Missed => "❌ ",
        WorkoutStatus::Skipped => "⏭️ ",
        WorkoutStatus::Adjusted => "🔧 ",
        WorkoutStatus::Planned => "",
    }
}

/// One week as chat lines (tables don't render on phones).
pub(super) fn week_text(p: &Plan, index0: usize, lang: Lang) -> String {
    let Some(week) = p.weeks.get(index0) else {
        return String::new();
    };
    let hours = week.planned_minutes / 60;
    let minutes = week.planned_minutes % 60;
    let volume = if hours > 0 { format!("{hours} h {minutes:02}") } else { format!("{minutes} min") };
    let mut out = match lang {
        Lang::Fr => format!(
            "**Semaine {} — {} — {volume}, ~{} km**",
            week.index,
            week.phase.label().get(lang),
            crate::i18n::number(lang, week.planned_km, 0)
        ),
        Lang::En => format!(
            "**Week {} — {} — {volume}, ~{} km**",
            week.index,
            week.phase.label().get(lang),
            crate::i18n::number(lang, week.planned_km, 0)
        ),
    };
    for w in week.workouts.iter().filter(|w| w.kind.is_running() || w.kind == plan::WorkoutKind::Cross) {
        out.push_str(&format!("\n• {}**{}** — {}", status_mark(w), date_short(w.date, lang), w.description.get(lang)));
    }
    out
}

/// Where the bot can write first (Telegram, Discord), the end of each of the runner's days is
/// scheduled in this chat: missed sessions are noticed without the runner asking.
async fn follow_days(ctx: &FlowCtx<'_>) {
    if !matches!(ctx.chat.platform, Platform::Telegram | Platform::Discord) {
        return;
    }
    let tz = ctx.user.timezone.tz();
    if let Err(e) = scheduler::enable_plan_days(ctx.store, ctx.user.id, ctx.chat, tz, ctx.now).await {
        // The plan is saved; `/today` and `/week` still close past days when asked.
        tracing::warn!(error = %e, "plan days not scheduled");
    }
}

/// The days that ended since the plan was last looked at are closed first (the scheduler does it
/// at midnight where it can write; this is the same, idempotent, when the runner asks): what they
/// changed comes before the answer.
async fn catch_up(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let Some(yesterday) = ctx.today.pred_opt() else { return Ok(Vec::new()) };
    let closed = tracking::close_day(ctx.store, ctx.user.id, yesterday, ctx.now).await?;
    Ok(closed.map(|c| vec![tracking::day_closed_reply(&c, ctx.lang())]).unwrap_or_default())
}

async fn active(ctx: &FlowCtx<'_>) -> Result<Option<(i64, Plan)>, Failure> {
    Ok(plans::active(ctx.store, ctx.user.id).await?.map(|a| (a.id, a.plan)))
}

fn no_plan(lang: Lang) -> Vec<Reply> {
    vec![Reply::text(lang.pick(
        "Tu n'as pas encore de plan actif. Tape /plan pour en créer un.",
        "You don't have an active plan yet. Type /plan to make one.",
    ))]
}

fn current_week(p: &Plan, today: NaiveDate) -> usize {
    let days = (today - p.start_date).num_days().max(0);
    usize::try_from(days / 7).unwrap_or(0).min(p.weeks.len().saturating_sub(1))
}

async fn store_plan(ctx: &FlowCtx<'_>, plan_id: i64, p: &Plan) -> Result<(), Failure> {
    Ok(plans::update(ctx.store, ctx.user.id, plan_id, p).await?)
}

/// `/plans`
pub(super) async fn list(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let plans = ctx.store.plans(ctx.user.id).await?;
    if plans.is_empty() {
        return Ok(no_plan(lang));
    }
    let mut out = lang.pick("**Tes plans**", "**Your plans**").to_owned();
    for p in plans.iter().take(10) {
        let goal = goal_label(p.goal, lang);
        let status = match p.status {
            PlanStatus::Active => lang.pick("en cours", "active"),
            PlanStatus::Archived => lang.pick("archivé", "archived"),
        };
        out.push_str(&format!("\n• {goal} — {} → {} ({status})", p.start_date, p.end_date));
    }
    Ok(vec![Reply::text(out)])
}

/// `/week`
pub(super) async fn week(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let mut out = catch_up(ctx).await?;
    let Some((_, p)) = active(ctx).await? else {
        return Ok(no_plan(ctx.lang()));
    };
    let lang = ctx.lang();
    let mut reply = Reply::text(week_text(&p, current_week(&p, ctx.today), lang));
    if week_ahead(&p, ctx.today).next().is_some() {
        reply = reply.with_buttons(vec![vec![Button::new(
            lang.pick("⌚ La semaine sur ma montre", "⌚ This week to my watch"),
            format!("{WATCH_BUTTON_PREFIX}week"),
        )]]);
    }
    out.push(reply);
    Ok(out)
}

/// The running sessions still to run of the week `/week` shows (this week, or the plan's first
/// when it starts later).
fn week_ahead(p: &Plan, today: NaiveDate) -> impl Iterator<Item = &Workout> {
    p.weeks
        .get(current_week(p, today))
        .into_iter()
        .flat_map(|wk| wk.workouts.iter())
        .filter(move |w| w.date >= today && w.kind.is_running() && w.status != WorkoutStatus::Done)
}

/// One session as a structured workout file for a watch.
fn workout_reply(w: &Workout, ctx: &FlowCtx<'_>) -> Reply {
    let lang = ctx.lang();
    match watch::workout_fit(w, lang, ctx.now) {
        Ok(data) => Reply::text(format!(
            "⌚ {} — {}
{}",
            date_short(w.date, lang),
            watch::workout_name(w, lang),
            lang.pick(
                "Copie le fichier dans le dossier NewFiles de ta montre Garmin (GARMIN/NewFiles), ou importe-le dans l'appli de ta montre (Coros, Suunto, Wahoo).",
                "Copy the file into your Garmin watch's NewFiles folder (GARMIN/NewFiles), or import it in your watch's app (Coros, Suunto, Wahoo).",
            )
        ))
        .with_attachment(Attachment {
            kind: AttachmentKind::File,
            name: watch::file_name(w),
            mime: "application/vnd.ant.fit".to_owned(),
            data,
        }),
        Err(e) => Reply::text(e.message(lang)),
    }
}

/// The watch buttons: one day's session, or the rest of this week's.
async fn to_watch(ctx: &FlowCtx<'_>, what: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((_, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    if what == "week" {
        let replies: Vec<Reply> = week_ahead(&p, ctx.today).map(|w| workout_reply(w, ctx)).collect();
        if replies.is_empty() {
            return Ok(vec![Reply::text(lang.pick(
                "Plus de séance à courir cette semaine : rien à envoyer sur la montre.",
                "No session left to run this week: nothing to send to the watch.",
            ))]);
        }
        return Ok(replies);
    }
    let Ok(date) = what.parse::<NaiveDate>() else {
        return Ok(vec![Reply::text(lang.pick(
            "Ce bouton n'est plus valable. Tape /today pour la séance du jour.",
            "That button is no longer valid. Type /today for today's session.",
        ))]);
    };
    Ok(vec![match watch::session_on(&p, date) {
        Ok(w) => workout_reply(w, ctx),
        Err(e) => Reply::text(e.message(lang)),
    }])
}

fn next_workout(p: &Plan, from: NaiveDate) -> Option<&Workout> {
    p.workouts()
        .filter(|w| w.date >= from && w.kind.is_running() && w.status != WorkoutStatus::Done)
        .min_by_key(|w| w.date)
}

/// "and tomorrow?": tomorrow's session, or the next one.
pub(super) async fn tomorrow(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((_, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    let day = ctx.today + Duration::days(1);
    let (text, date) = match p.workouts().find(|w| w.date == day && w.kind.is_running()) {
        Some(w) => (
            format!(
                "{}**{}** ({})\n{}",
                status_mark(w),
                lang.pick("Demain", "Tomorrow"),
                date_short(day, lang),
                w.description.get(lang)
            ),
            Some(day),
        ),
        None => match next_workout(&p, day) {
            Some(n) => (
                match lang {
                    Lang::Fr => format!(
                        "😌 Pas de course prévue demain : repos.\nProchaine séance : {} — {}",
                        date_short(n.date, lang),
                        n.description.get(lang)
                    ),
                    Lang::En => format!(
                        "😌 No run planned tomorrow: rest.\nNext session: {} — {}",
                        date_short(n.date, lang),
                        n.description.get(lang)
                    ),
                },
                Some(n.date),
            ),
            None => (
                lang.pick(
                    "Ton plan est terminé 🎉 Tape /plan pour le suivant.",
                    "Your plan is complete 🎉 Type /plan for the next one.",
                )
                .to_owned(),
                None,
            ),
        },
    };
    let reply = Reply::text(text);
    Ok(vec![match date {
        Some(d) => reply.with_buttons(vec![vec![watch_button(d, lang)]]),
        None => reply,
    }])
}

/// "when is my race?": the plan's race day and how far it is.
pub(super) async fn race_day(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((_, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    let race = p.workouts().find(|w| w.kind == plan::WorkoutKind::Race).map(|w| w.date).or(p.race_date);
    let text = match race {
        Some(d) => {
            let days = (d - ctx.today).num_days();
            let when = match lang {
                Lang::Fr => format!("{} {}", crate::i18n::weekday_long(lang, d.weekday()), d.format("%d/%m/%Y")),
                Lang::En => format!("{} {}", crate::i18n::weekday_long(lang, d.weekday()), d.format("%-d %b %Y")),
            };
            let left = crate::i18n::count(lang, days.max(0) as u64, ["jour", "jours"], ["day", "days"]);
            match lang {
                Lang::Fr => format!("🏁 Ta course ({}) : {when}, dans {left}.", goal_label(p.goal, lang)),
                Lang::En => format!("🏁 Your race ({}): {when}, in {left}.", goal_label(p.goal, lang)),
            }
        }
        None => match lang {
            Lang::Fr => {
                format!("Ton plan {} n'a pas de course ; il se termine le {}.", goal_label(p.goal, lang), p.end_date())
            }
            Lang::En => format!("Your {} plan has no race; it ends on {}.", goal_label(p.goal, lang), p.end_date()),
        },
    };
    Ok(vec![Reply::text(text)])
}

/// The session a "why this session?" is about: today's run, else the next one.
pub(super) async fn session_in_question(ctx: &FlowCtx<'_>) -> Result<Option<Workout>, Failure> {
    let Some((_, p)) = active(ctx).await? else { return Ok(None) };
    let today = p.workouts().find(|w| w.date == ctx.today && w.kind.is_running()).cloned();
    Ok(today.or_else(|| next_workout(&p, ctx.today).cloned()))
}

/// `/today`
pub(super) async fn today(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let mut out = catch_up(ctx).await?;
    let Some((_, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    let todays: Vec<&Workout> = p.workouts().filter(|w| w.date == ctx.today && w.kind.is_running()).collect();
    // The watch button sends today's session, or the next one on a rest day.
    let for_watch = todays.first().copied().or_else(|| next_workout(&p, ctx.today)).map(|w| w.date);
    let text = if let Some(w) = todays.first() {
        format!("{}{}\n{}", status_mark(w), lang.pick("**Aujourd'hui**", "**Today**"), w.description.get(lang))
    } else {
        let next =
            next_workout(&p, ctx.today).map(|w| format!("{} — {}", date_short(w.date, lang), w.description.get(lang)));
        match (next, lang) {
            (Some(n), Lang::Fr) => {
                format!("😌 Pas de course prévue aujourd'hui : repos ou marche tranquille.\nProchaine séance : {n}")
            }
            (Some(n), Lang::En) => format!("😌 No run planned today: rest or an easy walk.\nNext session: {n}"),
            (None, Lang::Fr) => "Ton plan est terminé 🎉 Tape /plan pour le suivant.".to_owned(),
            (None, Lang::En) => "Your plan is complete 🎉 Type /plan for the next one.".to_owned(),
        }
    };
    let mut text = text;
    // The weather around the hour the runner usually runs, when a session is on today.
    if let Some(w) = todays.first().copied()
        && let Some(note) =
            crate::weather::weather_note(ctx.weather, ctx.store, ctx.user, Some(w), ctx.today, ctx.now).await?
    {
        text.push_str("\n\n");
        text.push_str(&note.render(lang, ctx.user.timezone.tz()));
    }
    let mut reply = Reply::text(text);
    if let Some(date) = for_watch {
        reply = reply.with_buttons(vec![vec![watch_button(date, lang)]]);
    }
    out.push(reply);
    Ok(out)
}

fn target_date(args: &str, today: NaiveDate) -> NaiveDate {
    parse_date(args, today).filter(|d| *d <= today).unwrap_or(today)
}

/// `/done [date]`: marks the session done (with the recorded activity when there is one).
pub(super) async fn done(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((id, mut p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    let date = target_date(args, ctx.today);
    // A recorded run that day completes the session with real numbers.
    let day_start = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let runs: Vec<_> = ctx
        .store
        .activities(ctx.user.id, day_start)
        .await?
        .iter()
        .map(history::activity_input)
        .filter(|a| a.start.date_naive() == date)
        .collect();
    let report = plan::match_activities(&mut p, &runs, 0);
    let mut marked = !report.matched.is_empty();
    if !marked
        && let Some(w) = p
            .weeks
            .iter_mut()
            .flat_map(|wk| wk.workouts.iter_mut())
            .find(|w| w.date == date && w.kind.is_running() && w.status != WorkoutStatus::Done)
    {
        w.status = WorkoutStatus::Done;
        marked = true;
    }
    if !marked {
        return Ok(vec![Reply::text(lang.pick(
            "Je ne trouve pas de séance à valider ce jour-là. Bravo quand même pour la sortie ! 💪",
            "I can't find a session to tick off that day. Well done on the run anyway! 💪",
        ))]);
    }
    store_plan(ctx, id, &p).await?;
    let next = next_workout(&p, date + Duration::days(1))
        .map(|w| {
            format!(
                "\n{} {} — {}",
                lang.pick("Prochaine :", "Next:"),
                date_short(w.date, lang),
                w.description.get(lang)
            )
        })
        .unwrap_or_default();
    Ok(vec![Reply::text(format!("{}{next}", lang.pick("✅ Séance validée, bravo !", "✅ Session done, well done!")))])
}

/// `/skip [date]`: the session is missed; the rest of the plan is re-planned safely.
pub(super) async fn skip(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((id, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    let date = target_date(args, ctx.today);
    let mut p = p;
    for w in p.weeks.iter_mut().flat_map(|wk| wk.workouts.iter_mut()) {
        if w.date == date && w.date <= ctx.today && w.kind.is_running() && w.status != WorkoutStatus::Done {
            w.status = WorkoutStatus::Skipped;
        }
    }
    match plan::replan_after_missed(&p, ctx.today, &[date]) {
        Ok(replan) => {
            plans::adapt(ctx.store, ctx.user.id, id, &replan.plan, &p, ctx.now).await?;
            let week = week_text(&replan.plan, current_week(&replan.plan, ctx.today), lang);
            Ok(vec![
                Reply::text(format!("{}\n\n{week}", replan.note.get(lang)))
                    .with_buttons(vec![vec![tracking::keep_button(lang)]]),
            ])
        }
        Err(e) => Ok(vec![Reply::text(e.explain().get(lang).to_owned())]),
    }
}

/// `/unwell [days]`: eases the next days off.
pub(super) async fn unwell(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let days = match args.trim() {
        "" => 3,
        a => match a.split_whitespace().next().and_then(|n| n.parse::<u32>().ok()) {
            Some(n) => n,
            None => {
                return Ok(vec![Reply::text(lang.pick(
                    "Combien de jours ? Par exemple `/unwell 3` (de 1 à 14).",
                    "How many days? For example `/unwell 3` (1 to 14).",
                ))]);
            }
        },
    };
    let Some((id, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    // A plan that starts tomorrow eases off from its first day.
    match plan::scale_back(&p, ctx.today.max(p.start_date), days) {
        Ok(replan) => {
            plans::adapt(ctx.store, ctx.user.id, id, &replan.plan, &p, ctx.now).await?;
            let care = lang.pick(
                "\n\nSi tu as de la fièvre, des douleurs dans la poitrine ou un essoufflement inhabituel : pas de course, et consulte un médecin.",
                "\n\nIf you have a fever, chest pain or unusual shortness of breath: no running, and see a doctor.",
            );
            let week = week_text(&replan.plan, current_week(&replan.plan, ctx.today), lang);
            Ok(vec![
                Reply::text(format!("{}{care}\n\n{week}", replan.note.get(lang)))
                    .with_buttons(vec![vec![tracking::keep_button(lang)]]),
            ])
        }
        Err(e) => Ok(vec![Reply::text(e.explain().get(lang).to_owned())]),
    }
}

/// The "keep the plan as it was" button under an adaptation.
async fn keep(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    match tracking::keep_as_it_was(ctx.store, ctx.user.id, ctx.now).await? {
        tracking::Kept::Restored(p) => {
            let week = week_text(&p, current_week(&p, ctx.today), lang);
            Ok(vec![Reply::text(format!(
                "{}\n\n{week}",
                lang.pick(
                    "↩️ C'est noté : on garde le plan tel qu'il était, sans l'ajustement.",
                    "↩️ Done: the plan stays as it was, without the adjustment.",
                )
            ))])
        }
        tracking::Kept::Nothing => Ok(vec![Reply::text(lang.pick(
            "Il n'y a plus d'ajustement à annuler : ton plan est déjà celui en cours (/week).",
            "There is no adjustment left to undo: your plan is the current one (/week).",
        ))]),
        tracking::Kept::TooLate => Ok(vec![Reply::text(lang.pick(
            "Cet ajustement date de plus d'une semaine : on garde le plan actuel. /plan pour en faire un nouveau.",
            "That adjustment is more than a week old: the current plan stays. /plan to make a new one.",
        ))]),
    }
}

async fn calendar(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((_, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    Ok(vec![
        Reply::text(lang.pick(
            "📅 Ton plan pour ton agenda : ouvre le fichier pour ajouter les séances.",
            "📅 Your plan for your calendar: open the file to add the sessions.",
        ))
        .with_attachment(Attachment {
            kind: AttachmentKind::File,
            name: format!("runcoach-plan-{}.ics", p.goal.as_str()),
            mime: "text/calendar".to_owned(),
            data: plan::to_ics(&p, lang).into_bytes(),
        }),
    ])
}

async fn full_plan(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Some((_, p)) = active(ctx).await? else {
        return Ok(no_plan(lang));
    };
    Ok(vec![Reply::text(lang.pick("📄 Ton plan complet :", "📄 Your full plan:")).with_attachment(Attachment {
        kind: AttachmentKind::File,
        name: format!("runcoach-plan-{}.md", p.goal.as_str()),
        mime: "text/markdown".to_owned(),
        data: plan::to_markdown(&p, lang).into_bytes(),
    })])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_weeks_and_days_are_read_as_people_type_them() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(parse_date("12/04", today), NaiveDate::from_ymd_opt(2027, 4, 12));
        assert_eq!(parse_date("30/12", today), NaiveDate::from_ymd_opt(2026, 12, 30));
        assert_eq!(parse_date("2027-04-12", today), NaiveDate::from_ymd_opt(2027, 4, 12));
        assert_eq!(parse_date("12/04/2027", today), NaiveDate::from_ymd_opt(2027, 4, 12));
        assert_eq!(parse_date("31/02", today), None);
        assert_eq!(parse_date("demain", today), None);
        assert_eq!(parse_weeks("12 semaines"), Some(12));
        assert_eq!(parse_weeks("10"), Some(10));
        assert_eq!(parse_weeks("12/04"), None);
        assert_eq!(parse_days("mar, jeu et samedi + dim").map(|d| d.len()), Some(4));
        assert_eq!(parse_days("mar jeu bientôt"), None, "an unknown word is refused rather than guessed");
        assert_eq!(
            parse_days("mardi jeudi samedi dimanche"),
            Some(vec![Weekday::Tue, Weekday::Thu, Weekday::Sat, Weekday::Sun])
        );
        assert_eq!(parse_days("Sun, tue"), Some(vec![Weekday::Tue, Weekday::Sun]));
    }
}

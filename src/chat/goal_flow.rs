//! Goals in the chat: `/goal race 10k 50:00 [by 2027-06-01]`, `/goal volume 1000 [by …]`,
//! guided with buttons when typed bare (kind → distance → a target time suggested from the
//! current prediction), `/goal remove N`, and `/goals` with each goal's progress.

use super::flow::{BTN_COMMAND, Failure, FlowCtx};
use super::{Button, Reply};
use crate::goal::{self, GoalError};
use crate::goals;
use crate::history;
use crate::i18n::Lang;
use crate::science::{RaceDistance, Vdot, format_duration, race_time_s};
use crate::store::GoalStatus;

fn button(label: impl Into<String>, command: &str) -> Button {
    Button::new(label, format!("{BTN_COMMAND}{command}"))
}

/// `/goal …`
pub(super) async fn goal(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let words: Vec<String> = args.split_whitespace().map(str::to_lowercase).collect();
    match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => Ok(vec![
            Reply::text(lang.pick(
                "🎯 Quel objectif ? Un temps sur une course, ou un volume à courir.",
                "🎯 What kind of goal? A time over a race distance, or a distance to run.",
            ))
            .with_buttons(vec![vec![
                button(lang.pick("🏁 Un temps de course", "🏁 A race time"), "/goal race"),
                button(lang.pick("📈 Un volume", "📈 A volume"), "/goal volume"),
            ]]),
        ]),
        ["race" | "course"] => Ok(vec![
            Reply::text(lang.pick("🏁 Sur quelle distance ?", "🏁 Over which distance?")).with_buttons(vec![vec![
                button("5 km", "/goal race 5k"),
                button("10 km", "/goal race 10k"),
                button(lang.pick("Semi", "Half"), "/goal race half"),
                button("Marathon", "/goal race marathon"),
            ]]),
        ]),
        ["race" | "course", distance] => suggest_times(ctx, distance).await,
        ["volume"] => {
            let year = chrono::Datelike::year(&ctx.today);
            let by =
                goal::end_of_year(ctx.today).filter(|d| *d > ctx.today).map_or(String::new(), |d| format!(" by {d}"));
            Ok(vec![
                Reply::text(match lang {
                    Lang::Fr => format!(
                        "📈 Combien de kilomètres d'ici fin {year} ? (Ou tape `/goal volume 800 by 2027-06-30`.)"
                    ),
                    Lang::En => format!(
                        "📈 How many kilometres by the end of {year}? (Or type `/goal volume 800 by 2027-06-30`.)"
                    ),
                })
                .with_buttons(vec![
                    [250, 500, 1000, 1500, 2000]
                        .iter()
                        .map(|km| button(format!("{km} km"), &format!("/goal volume {km}{by}")))
                        .collect(),
                ]),
            ])
        }
        ["remove" | "delete" | "supprimer", id] => remove(ctx, id).await,
        _ => match goal::parse(args, ctx.today) {
            Ok(spec) => {
                let id = goals::add(ctx.store, ctx.user.id, spec).await?;
                let views = goals::list(ctx.store, ctx.user.id, ctx.today).await?;
                let shown =
                    views.iter().find(|v| v.id == id).map(|v| goals::describe(v, ctx.today, lang)).unwrap_or_default();
                Ok(vec![Reply::text(format!("{}\n{shown}", lang.pick("🎯 Objectif enregistré.", "🎯 Goal saved.")))])
            }
            Err(e) => Ok(vec![Reply::text(e.explain(lang))]),
        },
    }
}

/// Target times around the current prediction over `distance`, as buttons.
async fn suggest_times(ctx: &FlowCtx<'_>, distance: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let Ok(race) = distance.parse::<RaceDistance>() else {
        return Ok(vec![Reply::text(GoalError::Distance(distance.chars().take(24).collect()).explain(lang))]);
    };
    let (_, analysis) = history::analyze_user(ctx.store, ctx.user.id, ctx.today).await?;
    let predicted = analysis.vdot.and_then(|v| race_time_s(v.vdot, race.metres()).ok());
    let example = format!("/goal race {distance} 50:00 by {}", ctx.today + chrono::Duration::days(120));
    let Some(predicted) = predicted else {
        return Ok(vec![Reply::text(match lang {
            Lang::Fr => format!("Quel temps vises-tu ? Tape par exemple `{example}`."),
            Lang::En => format!("What time are you aiming for? Type for example `{example}`."),
        })]);
    };
    // Today's prediction, then 2 % and 5 % faster, each rounded up to the half minute.
    let times: Vec<f64> = [1.0, 0.98, 0.95].iter().map(|f| (predicted * f / 30.0).ceil() * 30.0).collect();
    let head = match lang {
        Lang::Fr => format!(
            "Ta prédiction actuelle : {}. Quel temps vises-tu ? (Ou tape `{example}`.)",
            format_duration(predicted)
        ),
        Lang::En => format!(
            "Your prediction today: {}. What time are you aiming for? (Or type `{example}`.)",
            format_duration(predicted)
        ),
    };
    Ok(vec![Reply::text(head).with_buttons(vec![
            times
                .iter()
                .map(|t| button(format_duration(*t), &format!("/goal race {distance} {}", format_duration(*t))))
                .collect(),
        ])])
}

async fn remove(ctx: &FlowCtx<'_>, id: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let id = id.trim_start_matches('#').parse::<i64>().ok();
    let removed = match id {
        Some(id) => ctx.store.set_goal_status(ctx.user.id, id, GoalStatus::Removed).await?,
        None => false,
    };
    Ok(vec![Reply::text(if removed {
        lang.pick("Objectif retiré de ta liste.", "Goal taken off your list.")
    } else {
        lang.pick(
            "Je ne trouve pas cet objectif parmi les tiens (/goals les liste).",
            "I can't find that goal among yours (/goals lists them).",
        )
    })])
}

/// `/goals`
pub(super) async fn list(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let views = goals::list(ctx.store, ctx.user.id, ctx.today).await?;
    if views.is_empty() {
        return Ok(vec![
            Reply::text(lang.pick(
                "Pas encore d'objectif. Tape /goal pour en choisir un (un temps sur 10 km, 1000 km dans l'année…).",
                "No goal yet. Type /goal to choose one (a 10 km time, 1000 km this year…).",
            ))
            .with_buttons(vec![vec![button(lang.pick("🎯 Choisir un objectif", "🎯 Choose a goal"), "/goal")]]),
        ]);
    }
    let head = lang.pick("🎯 **Tes objectifs**", "🎯 **Your goals**");
    Ok(vec![Reply::text(format!("{head}\n{}", goals::render(&views, ctx.today, lang)))])
}

/// The goals' lines for `/stats` (active goals only); empty without any.
pub(super) async fn stats_section(ctx: &FlowCtx<'_>, vdot: Option<Vdot>) -> Result<String, Failure> {
    let today = ctx.today;
    let views = goals::list_with_vdot(ctx.store, ctx.user.id, today, vdot).await?;
    let active: Vec<_> = views.into_iter().filter(|v| v.status == GoalStatus::Active).collect();
    if active.is_empty() {
        return Ok(String::new());
    }
    Ok(format!(
        "\n\n{}\n{}",
        ctx.lang().pick("🎯 **Objectifs**", "🎯 **Goals**"),
        goals::render(&active, today, ctx.lang())
    ))
}

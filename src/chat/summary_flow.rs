//! `/summary`: the weekly summary on demand and its schedule (`on`, `off`, `time "cron"`, `now`).

use super::Reply;
use super::flow::{Failure, FlowCtx};
use crate::goals;
use crate::i18n::Lang;
use crate::scheduler::{self, ScheduleError};
use crate::store::ScheduleKind;
use crate::summary::{self, IsoWeek};

fn when(ctx: &FlowCtx<'_>, record: &crate::store::ScheduleRecord) -> String {
    let lang = ctx.user.lang;
    match scheduler::next_local(record) {
        Some(t) => match lang {
            Lang::Fr => format!("prochain envoi le {} ({})", t.format("%d/%m/%Y à %H:%M"), record.timezone),
            Lang::En => format!("next one on {} ({})", t.format("%Y-%m-%d at %H:%M"), record.timezone),
        },
        None => String::new(),
    }
}

fn schedule_error(e: ScheduleError, lang: Lang) -> Failure {
    match e {
        ScheduleError::Store(s) => Failure::Store(s),
        other => Failure::Say(match lang {
            Lang::Fr => format!(
                "Je n'ai pas compris ce moment ({other}). Donne une expression cron à 5 champs, par exemple `/summary time \"0 8 * * 1\"` pour le lundi à 8 h."
            ),
            Lang::En => format!(
                "I couldn't read that time ({other}). Give a 5-field cron expression, for example `/summary time \"0 8 * * 1\"` for Mondays at 08:00."
            ),
        }),
    }
}

pub(super) async fn summary(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    let args = args.trim();
    let (verb, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let tz = ctx.user.timezone.tz();
    match verb.to_lowercase().as_str() {
        "now" | "maintenant" => {
            let week = IsoWeek::last_complete(ctx.today);
            let s = summary::weekly_summary_for(ctx.store, ctx.user, week, ctx.today).await?;
            let mut replies = summary::replies(&s, lang, ctx.user.units);
            if let Some(goals) = goals::section(ctx.store, ctx.user.id, ctx.today, lang).await? {
                replies.push(Reply::text(goals));
            }
            Ok(replies)
        }
        "on" | "oui" => {
            let record = scheduler::enable_weekly_summary(ctx.store, ctx.user.id, ctx.chat, None, tz, ctx.now)
                .await
                .map_err(|e| schedule_error(e, lang))?;
            Ok(vec![Reply::text(format!(
                "{} — {}",
                lang.pick("✅ Résumé hebdomadaire activé", "✅ Weekly summary on"),
                when(ctx, &record)
            ))])
        }
        "off" | "non" => {
            let was_on = scheduler::disable_weekly_summary(ctx.store, ctx.chat).await?;
            Ok(vec![Reply::text(match (was_on, lang) {
                (true, Lang::Fr) => "Résumé hebdomadaire désactivé. `/summary on` pour le réactiver.",
                (true, Lang::En) => "Weekly summary off. `/summary on` turns it back on.",
                (false, Lang::Fr) => "Le résumé hebdomadaire n'était pas activé.",
                (false, Lang::En) => "The weekly summary wasn't on.",
            })])
        }
        "time" | "heure" => {
            let cron = rest.trim().trim_matches(['"', '“', '”', '«', '»', '\'']).trim();
            if cron.is_empty() {
                return Ok(vec![Reply::text(lang.pick(
                    "Donne l'heure en cron, par exemple `/summary time \"0 8 * * 1\"` (lundi 8 h).",
                    "Give the time as cron, for example `/summary time \"0 8 * * 1\"` (Monday 08:00).",
                ))]);
            }
            let record = scheduler::enable_weekly_summary(ctx.store, ctx.user.id, ctx.chat, Some(cron), tz, ctx.now)
                .await
                .map_err(|e| schedule_error(e, lang))?;
            Ok(vec![Reply::text(format!(
                "{} — {}",
                lang.pick("✅ Nouvel horaire enregistré", "✅ New time saved"),
                when(ctx, &record)
            ))])
        }
        _ => {
            let record = ctx.store.schedule(ScheduleKind::WeeklySummary, ctx.chat).await?;
            let text = match (record, lang) {
                (Some(r), _) if r.enabled => format!(
                    "{} — {}\n{}",
                    lang.pick("Résumé hebdomadaire activé", "Weekly summary on"),
                    when(ctx, &r),
                    lang.pick(
                        "`/summary now` pour le recevoir maintenant, `/summary off` pour l'arrêter.",
                        "`/summary now` to get it now, `/summary off` to stop it."
                    )
                ),
                (_, Lang::Fr) => "Résumé hebdomadaire désactivé. `/summary on` l'envoie chaque lundi à 8 h, `/summary now` tout de suite.".to_owned(),
                (_, Lang::En) => "Weekly summary off. `/summary on` sends it every Monday at 08:00, `/summary now` right away.".to_owned(),
            };
            Ok(vec![Reply::text(text)])
        }
    }
}

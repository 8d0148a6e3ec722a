//! `/club` on a club's Discord server: members join (and choose whether they appear on the
//! leaderboard), see the leaderboard of the week or the month, and the server's admins choose the
//! channel of the weekly digest. A channel only ever sees the distance, time and number of runs of
//! members who opted in; members who joined hidden only count in the digest's anonymous totals.

use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate};

use super::flow::{Failure, FlowCtx};
use super::{ClubRef, Reply};
use crate::i18n::{Lang, count, number};
use crate::message::ChatKey;
use crate::scheduler::{self, ScheduleError};
use crate::store::StoreError;
use crate::store::{PausedReason, ScheduleKind};

/// Lines on the leaderboard.
pub const LEADERBOARD_LINES: usize = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Week,
    Month,
}

impl Period {
    /// The first day of the period containing `today`.
    #[must_use]
    pub fn start(self, today: NaiveDate) -> NaiveDate {
        match self {
            Period::Week => today - Duration::days(i64::from(today.weekday().num_days_from_monday())),
            Period::Month => today.with_day(1).unwrap_or(today),
        }
    }
}

/// One opted-in member's running over the period.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaderboardLine {
    pub name: String,
    pub runs: u32,
    pub distance_km: f64,
    pub seconds: f64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Sub {
    Leaderboard(Period),
    Join { hidden: bool },
    Leave,
    Digest(DigestArg),
    Usage,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum DigestArg {
    Here,
    Channel(String),
    Off(Option<String>),
}

/// `<#123>` or `123` → the channel id.
fn channel_id(word: &str) -> Option<String> {
    let id = word.trim().trim_start_matches("<#").trim_end_matches('>');
    (!id.is_empty() && id.len() <= 20 && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_owned())
}

fn parse(args: &str) -> Sub {
    let words: Vec<String> = args.split_whitespace().map(str::to_lowercase).collect();
    let first = words.first().map(String::as_str).unwrap_or_default();
    let second = words.get(1).map(String::as_str);
    match first {
        "leaderboard" | "classement" | "lb" | "top" => match second {
            None | Some("week" | "semaine" | "w" | "s") => Sub::Leaderboard(Period::Week),
            Some("month" | "mois" | "m") => Sub::Leaderboard(Period::Month),
            Some(_) => Sub::Usage,
        },
        "join" | "rejoindre" => match second {
            None | Some("visible" | "public") => Sub::Join { hidden: false },
            Some("hidden" | "anonyme" | "anonymous" | "masque" | "masqué" | "private" | "prive" | "privé") => {
                Sub::Join { hidden: true }
            }
            Some(_) => Sub::Usage,
        },
        "leave" | "quitter" => Sub::Leave,
        "digest" | "resume" | "résumé" => match second {
            None => Sub::Digest(DigestArg::Here),
            Some("off" | "stop" | "non") => Sub::Digest(DigestArg::Off(words.get(2).and_then(|w| channel_id(w)))),
            Some(word) => match channel_id(word) {
                Some(id) => Sub::Digest(DigestArg::Channel(id)),
                None => Sub::Usage,
            },
        },
        _ => Sub::Usage,
    }
}

fn usage(lang: Lang) -> String {
    match lang {
        Lang::Fr => "**Le club sur Discord**\n\
• `/club rejoindre` : rejoindre le club et apparaître au classement (`/club rejoindre anonyme` : compter \
dans les totaux sans être nommé·e)\n\
• `/club classement [semaine|mois]` : distance, temps et sorties des membres volontaires\n\
• `/club quitter` : quitter le club\n\
• `/club resume [#salon|off]` : le résumé hebdomadaire du club, chaque lundi (admins du serveur)"
            .to_owned(),
        Lang::En => "**The club on Discord**\n\
• `/club join`: join the club and appear on the leaderboard (`/club join hidden`: count in the totals \
without being named)\n\
• `/club leaderboard [week|month]`: distance, time and runs of the members who opted in\n\
• `/club leave`: leave the club\n\
• `/club digest [#channel|off]`: the club's weekly digest, every Monday (server admins)"
            .to_owned(),
    }
}

/// `/club …`
pub(super) async fn club(ctx: &FlowCtx<'_>, club: Option<&ClubRef>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    let sub = parse(args);
    if sub == Sub::Usage {
        return Ok(vec![Reply::text(usage(lang))]);
    }
    let Some(club) = club else {
        return Ok(vec![Reply::text(lang.pick(
            "Le club se gère depuis le serveur Discord du club : tape `/club` dans un de ses salons.",
            "Clubs live on the club's Discord server: type `/club` in one of its channels.",
        ))]);
    };
    match sub {
        Sub::Leaderboard(period) => leaderboard(ctx, &club.guild_id, period).await,
        Sub::Join { hidden } => {
            ctx.store.join_club(ctx.user.id, &club.guild_id, !hidden).await?;
            Ok(vec![Reply::text(match (lang, hidden) {
                (Lang::Fr, false) => {
                    "✅ Bienvenue au club ! Tu apparais au classement (distance, temps, nombre de sorties ; rien d'autre). \
`/club rejoindre anonyme` pour n'être compté·e que dans les totaux, `/club quitter` pour partir."
                }
                (Lang::Fr, true) => {
                    "✅ Tu es membre du club sans apparaître au classement : tes sorties comptent seulement dans les totaux \
anonymes du résumé hebdomadaire."
                }
                (Lang::En, false) => {
                    "✅ Welcome to the club! You're on the leaderboard (distance, time, number of runs; nothing else). \
`/club join hidden` to count only in the totals, `/club leave` to go."
                }
                (Lang::En, true) => {
                    "✅ You're a club member without appearing on the leaderboard: your runs only count in the weekly \
digest's anonymous totals."
                }
            })])
        }
        Sub::Leave => {
            let was = ctx.store.leave_club(ctx.user.id, &club.guild_id).await?;
            Ok(vec![Reply::text(match (lang, was) {
                (Lang::Fr, true) => "Tu as quitté le club : tu n'apparais plus au classement ni dans le résumé.",
                (Lang::Fr, false) => "Tu n'étais pas membre du club.",
                (Lang::En, true) => "You left the club: you're no longer on the leaderboard or in the digest.",
                (Lang::En, false) => "You weren't a club member.",
            })])
        }
        Sub::Digest(arg) => digest(ctx, club, arg).await,
        Sub::Usage => Ok(vec![Reply::text(usage(lang))]),
    }
}

/// Opted-in members who ran in the period, by distance (then time, then name).
pub async fn leaderboard_lines(
    store: &dyn crate::store::Store,
    guild_id: &str,
    period: Period,
    today: NaiveDate,
) -> Result<Vec<LeaderboardLine>, StoreError> {
    let start = period.start(today);
    // A day of margin: activities are stored in UTC and dated on the runner's clock.
    let since = (start - Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut lines = Vec::new();
    for (id, opted_in) in store.club_members(guild_id).await? {
        if !opted_in {
            continue;
        }
        let runs: Vec<_> = store
            .activities(id, Some(since))
            .await?
            .iter()
            .map(crate::history::activity_input)
            .filter(|a| a.kind.is_running() && a.date() >= start && a.date() <= today)
            .collect();
        if runs.is_empty() {
            continue;
        }
        let user = store.get_user(id).await?;
        lines.push(LeaderboardLine {
            name: crate::summary::member_name(user.display_name.as_deref(), id),
            runs: u32::try_from(runs.len()).unwrap_or(u32::MAX),
            distance_km: runs.iter().map(|a| a.distance_m / 1000.0).sum(),
            seconds: runs.iter().map(|a| a.moving_s.unwrap_or(a.duration_s)).sum(),
        });
    }
    lines.sort_by(|a, b| {
        b.distance_km.total_cmp(&a.distance_km).then_with(|| a.seconds.total_cmp(&b.seconds)).then(a.name.cmp(&b.name))
    });
    lines.truncate(LEADERBOARD_LINES);
    Ok(lines)
}

fn hours_minutes(seconds: f64) -> String {
    let total = (seconds.max(0.0) / 60.0).round() as i64;
    if total >= 60 { format!("{} h {:02}", total / 60, total % 60) } else { format!("{total} min") }
}

async fn leaderboard(ctx: &FlowCtx<'_>, guild_id: &str, period: Period) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    let lines = leaderboard_lines(ctx.store, guild_id, period, ctx.today).await?;
    let start = period.start(ctx.today);
    let mut out = String::new();
    let title = match (lang, period) {
        (Lang::Fr, Period::Week) => "🏆 **Classement du club — cette semaine**",
        (Lang::Fr, Period::Month) => "🏆 **Classement du club — ce mois-ci**",
        (Lang::En, Period::Week) => "🏆 **Club leaderboard — this week**",
        (Lang::En, Period::Month) => "🏆 **Club leaderboard — this month**",
    };
    let since = match lang {
        Lang::Fr => format!("depuis le {}", start.format("%d/%m")),
        Lang::En => format!("since {}", start.format("%Y-%m-%d")),
    };
    let _ = writeln!(out, "{title} ({since})");
    if lines.is_empty() {
        out.push_str(lang.pick(
            "Aucune sortie des membres volontaires pour l'instant. `/club rejoindre` pour apparaître ici. 👟",
            "No runs from members on the leaderboard yet. `/club join` to appear here. 👟",
        ));
        return Ok(vec![Reply::text(out)]);
    }
    for (i, l) in lines.iter().enumerate() {
        let medal = match i {
            0 => "🥇".to_owned(),
            1 => "🥈".to_owned(),
            2 => "🥉".to_owned(),
            n => format!("{}.", n + 1),
        };
        let runs = count(lang, u64::from(l.runs), ["sortie", "sorties"], ["run", "runs"]);
        let _ = writeln!(
            out,
            "{medal} {} — {} km · {} · {runs}",
            l.name,
            number(lang, l.distance_km, 1),
            hours_minutes(l.seconds)
        );
    }
    out.push_str(lang.pick(
        "Seuls les membres qui l'ont choisi (`/club rejoindre`) sont nommés.",
        "Only members who chose to (`/club join`) are named.",
    ));
    Ok(vec![Reply::text(out)])
}

async fn digest(ctx: &FlowCtx<'_>, club: &ClubRef, arg: DigestArg) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    if !club.admin {
        return Ok(vec![Reply::text(lang.pick(
            "🔒 Seuls les administrateurs du serveur (permission « Gérer le serveur ») choisissent le salon du résumé.",
            "🔒 Only the server's admins (the Manage Server permission) choose the digest's channel.",
        ))]);
    }
    let here = ctx.chat.chat_id.clone();
    let channel = |id: String| ChatKey { platform: ctx.chat.platform, chat_id: id };
    match arg {
        DigestArg::Off(id) => {
            let target = channel(id.unwrap_or(here));
            let was = ctx.store.pause_schedule(ScheduleKind::ClubDigest, &target, PausedReason::Off).await?;
            Ok(vec![Reply::text(match (lang, was) {
                (Lang::Fr, true) => format!("Le résumé hebdomadaire ne sera plus publié dans <#{}>.", target.chat_id),
                (Lang::Fr, false) => format!("Aucun résumé n'était programmé dans <#{}>.", target.chat_id),
                (Lang::En, true) => format!("The weekly digest will no longer be posted in <#{}>.", target.chat_id),
                (Lang::En, false) => format!("No digest was scheduled in <#{}>.", target.chat_id),
            })])
        }
        DigestArg::Here | DigestArg::Channel(_) => {
            let id = match arg {
                DigestArg::Channel(id) => id,
                _ => here,
            };
            let target = channel(id);
            let tz = ctx.user.timezone.tz();
            let record = match scheduler::enable_club_digest(
                ctx.store,
                &club.guild_id,
                &target,
                None,
                tz,
                lang,
                ctx.now,
            )
            .await
            {
                Ok(r) => r,
                Err(ScheduleError::Store(e)) => return Err(Failure::Store(e)),
                Err(ScheduleError::Cron(e)) => return Err(Failure::Internal(format!("club digest schedule: {e}"))),
            };
            let when = scheduler::next_local(&record).map(|t| match lang {
                Lang::Fr => t.format("%d/%m à %H:%M").to_string(),
                Lang::En => t.format("%Y-%m-%d at %H:%M").to_string(),
            });
            let tz_name = record.timezone.clone();
            Ok(vec![Reply::text(match lang {
                Lang::Fr => format!(
                    "✅ Chaque lundi à 08:00 ({tz_name}), le résumé du club sera publié dans <#{}> : qui a couru, \
la distance totale, et le classement des membres volontaires.{}",
                    target.chat_id,
                    when.map(|w| format!(" Premier envoi : {w}.")).unwrap_or_default()
                ),
                Lang::En => format!(
                    "✅ Every Monday at 08:00 ({tz_name}), the club digest will be posted in <#{}>: who ran, the total \
distance, and the leaderboard of the members who opted in.{}",
                    target.chat_id,
                    when.map(|w| format!(" First one: {w}.")).unwrap_or_default()
                ),
            })])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_subcommands_in_both_languages() {
        assert_eq!(parse("leaderboard"), Sub::Leaderboard(Period::Week));
        assert_eq!(parse("classement mois"), Sub::Leaderboard(Period::Month));
        assert_eq!(parse("join"), Sub::Join { hidden: false });
        assert_eq!(parse("rejoindre anonyme"), Sub::Join { hidden: true });
        assert_eq!(parse("quitter"), Sub::Leave);
        assert_eq!(parse("digest <#123456>"), Sub::Digest(DigestArg::Channel("123456".into())));
        assert_eq!(parse("resume off"), Sub::Digest(DigestArg::Off(None)));
        assert_eq!(parse("digest"), Sub::Digest(DigestArg::Here));
        assert_eq!(parse("digest #general"), Sub::Usage);
        assert_eq!(parse(""), Sub::Usage);
        assert_eq!(parse("leaderboard year"), Sub::Usage);
    }

    #[test]
    fn periods_start_on_monday_and_the_first() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 20).unwrap_or_default(); // a Thursday
        assert_eq!(Period::Week.start(d), NaiveDate::from_ymd_opt(2025, 3, 17).unwrap_or_default());
        assert_eq!(Period::Month.start(d), NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default());
        assert_eq!(hours_minutes(3_900.0), "1 h 05");
        assert_eq!(hours_minutes(1_500.0), "25 min");
    }
}

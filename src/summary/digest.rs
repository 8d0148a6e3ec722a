//! A club's weekly digest for its channel: how many members ran, the total distance, and a
//! leaderboard of the members who opted in. Nobody else is named.

use std::fmt::Write as _;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::IsoWeek;
use super::render::{day, km};
use crate::i18n::Lang;
use crate::store::{Store, StoreResult};

/// Leaderboard lines shown.
pub const LEADERBOARD_SIZE: usize = 10;

/// Members who did not opt in are only ever counted in totals shared with at least this many of
/// them: with one or two, the total less the leaderboard would give their distance away.
pub const MIN_HIDDEN_IN_TOTALS: u32 = 3;

/// A member's name as the club sees it: from the platform, on one line, at most 32 characters,
/// `#id` when there is none.
#[must_use]
pub fn member_name(name: Option<&str>, id: crate::domain::UserId) -> String {
    let name: String = name.unwrap_or_default().chars().filter(|c| !c.is_control()).take(32).collect();
    if name.trim().is_empty() { format!("#{}", id.0) } else { name.trim().to_owned() }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DigestEntry {
    pub name: String,
    pub runs: u32,
    pub distance_km: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClubDigest {
    pub guild_id: String,
    pub week: IsoWeek,
    pub members: u32,
    /// Members with at least one run in the week.
    pub active: u32,
    pub runs: u32,
    pub distance_km: f64,
    /// Opted-in members who ran, by distance.
    pub leaderboard: Vec<DigestEntry>,
    /// The runs and distance cover the opted-in members only (too few others ran to hide them).
    pub totals_opted_in_only: bool,
}

/// Reads the club's members and their runs of `week` (up to `today`).
pub async fn club_digest(
    store: &dyn Store,
    guild_id: &str,
    week: IsoWeek,
    today: NaiveDate,
) -> StoreResult<ClubDigest> {
    let members = store.club_members(guild_id).await?;
    let since = (week.monday() - Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = week.sunday().min(today);
    let mut digest = ClubDigest {
        guild_id: guild_id.to_owned(),
        week,
        members: u32::try_from(members.len()).unwrap_or(u32::MAX),
        active: 0,
        runs: 0,
        distance_km: 0.0,
        leaderboard: Vec::new(),
        totals_opted_in_only: false,
    };
    let (mut hidden, mut hidden_runs, mut hidden_km) = (0u32, 0u32, 0.0f64);
    for (id, opted_in) in members {
        let runs: Vec<_> = store
            .activities(id, Some(since))
            .await?
            .iter()
            .map(crate::history::activity_input)
            .filter(|a| a.kind.is_running() && week.contains(a.date()) && a.date() <= end)
            .collect();
        if runs.is_empty() {
            continue;
        }
        let km_total: f64 = runs.iter().map(|a| a.distance_m / 1000.0).sum();
        let n = u32::try_from(runs.len()).unwrap_or(u32::MAX);
        digest.active += 1;
        digest.runs += n;
        digest.distance_km += km_total;
        if opted_in {
            let user = store.get_user(id).await?;
            let name = member_name(user.display_name.as_deref(), id);
            digest.leaderboard.push(DigestEntry { name, runs: n, distance_km: (km_total * 10.0).round() / 10.0 });
        } else {
            hidden += 1;
            hidden_runs += n;
            hidden_km += km_total;
        }
    }
    if hidden > 0 && hidden < MIN_HIDDEN_IN_TOTALS {
        digest.runs -= hidden_runs;
        digest.distance_km -= hidden_km;
        digest.totals_opted_in_only = true;
    }
    digest.distance_km = (digest.distance_km * 10.0).round() / 10.0;
    digest.leaderboard.sort_by(|a, b| b.distance_km.total_cmp(&a.distance_km).then_with(|| a.name.cmp(&b.name)));
    digest.leaderboard.truncate(LEADERBOARD_SIZE);
    Ok(digest)
}

/// The digest as a channel message (light markdown).
#[must_use]
pub fn render_digest(d: &ClubDigest, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "**{} {} ({} – {})**",
        lang.pick("🏁 Le club cette semaine : semaine", "🏁 The club this week: week"),
        d.week.week(),
        day(lang, d.week.monday()),
        day(lang, d.week.sunday())
    );
    if d.active == 0 {
        out.push_str(lang.pick(
            "Personne n'a enregistré de sortie cette semaine. On s'y remet ensemble ? 👟",
            "Nobody recorded a run this week. Shall we get going together? 👟",
        ));
        return out;
    }
    let _ = writeln!(
        out,
        "{} {} / {} · {} · **{}**{}",
        lang.pick("🏃 Coureurs actifs :", "🏃 Active runners:"),
        d.active,
        d.members,
        crate::i18n::count(lang, u64::from(d.runs), ["sortie", "sorties"], ["run", "runs"]),
        km(lang, d.distance_km),
        if d.totals_opted_in_only { lang.pick(" (membres volontaires)", " (opted-in members)") } else { "" }
    );
    if !d.leaderboard.is_empty() {
        let _ =
            writeln!(out, "\n**{}**", lang.pick("Classement (membres volontaires)", "Leaderboard (opted-in members)"));
        for (i, e) in d.leaderboard.iter().enumerate() {
            let medal = match i {
                0 => "🥇",
                1 => "🥈",
                2 => "🥉",
                _ => "•",
            };
            let _ = writeln!(
                out,
                "{medal} {} — {} ({})",
                e.name,
                km(lang, e.distance_km),
                crate::i18n::count(lang, u64::from(e.runs), ["sortie", "sorties"], ["run", "runs"])
            );
        }
    }
    out.push('\n');
    out.push_str(lang.pick("Bravo à toutes et à tous ! 👏", "Well done, everyone! 👏"));
    out
}

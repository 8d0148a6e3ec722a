//! Where the runner runs (`/profile location …`, or a location sent on Telegram) and the
//! morning reminder (`/remind on [07:00]`, `/remind off`).

use super::Reply;
use super::flow::{Failure, FlowCtx};
use crate::domain::Location;
use crate::i18n::Lang;
use crate::scheduler::{self, ScheduleError};
use crate::store::ScheduleKind;

/// `45.76,4.84` or `45.76 4.84` (latitude first, as maps show them).
fn coordinates(text: &str) -> Option<(f64, f64)> {
    let mut parts = text.split([',', ';', ' ']).filter(|p| !p.is_empty());
    let lat = parts.next()?.parse::<f64>().ok()?;
    let lon = parts.next()?.parse::<f64>().ok()?;
    parts.next().is_none().then_some((lat, lon))
}

fn saved(lang: Lang, label: &str) -> String {
    match lang {
        Lang::Fr => format!(
            "📍 C'est noté : {label}. Je garde ta position arrondie au kilomètre près, pour la météo de tes séances (/today). `/profile location off` pour l'effacer."
        ),
        Lang::En => format!(
            "📍 Saved: {label}. I keep your position rounded to about a kilometre, for your sessions' weather (/today). `/profile location off` erases it."
        ),
    }
}

/// `/profile location <place | lat,lon | off>`.
pub(super) async fn location(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let args = args.trim();
    if args.is_empty() {
        let text = match (&ctx.user.location, lang) {
            (Some(l), Lang::Fr) => format!("📍 Ton lieu : {}. `/profile location Lyon` pour en changer, `/profile location off` pour l'effacer.", l.label()),
            (Some(l), Lang::En) => format!("📍 Your place: {}. `/profile location Lyon` to change it, `/profile location off` to erase it.", l.label()),
            (None, _) => lang
                .pick(
                    "📍 Dis-moi où tu cours pour avoir la météo de tes séances : `/profile location Lyon`, ou des coordonnées `/profile location 45.76,4.84`, ou envoie ta position sur Telegram.",
                    "📍 Tell me where you run for your sessions' weather: `/profile location Lyon`, or coordinates `/profile location 45.76,4.84`, or send your location on Telegram.",
                )
                .to_owned(),
        };
        return Ok(vec![Reply::text(text)]);
    }
    if matches!(args.to_lowercase().as_str(), "off" | "none" | "aucun" | "aucune" | "effacer" | "delete") {
        ctx.store.set_location(ctx.user.id, None).await?;
        return Ok(vec![Reply::text(lang.pick(
            "📍 Lieu effacé : tes séances viendront sans météo.",
            "📍 Place erased: your sessions will come without the weather.",
        ))]);
    }
    if let Some((lat, lon)) = coordinates(args) {
        let Ok(location) = Location::new(lat, lon, None) else {
            return Ok(vec![Reply::text(lang.pick(
                "Ces coordonnées n'existent pas : la latitude va de -90 à 90 et la longitude de -180 à 180 (par exemple `45.76,4.84`).",
                "Those coordinates don't exist: latitude runs from -90 to 90 and longitude from -180 to 180 (for example `45.76,4.84`).",
            ))]);
        };
        ctx.store.set_location(ctx.user.id, Some(&location)).await?;
        return Ok(vec![Reply::text(saved(lang, &location.label()))]);
    }
    let Some(weather) = ctx.weather else {
        return Ok(vec![Reply::text(lang.pick(
            "La météo n'est pas activée sur ce serveur : je ne peux pas chercher de lieu. Tu peux donner des coordonnées (`/profile location 45.76,4.84`).",
            "The weather is not enabled on this server, so I can't look places up. You can give coordinates (`/profile location 45.76,4.84`).",
        ))]);
    };
    match weather.geocode(args, lang).await {
        Ok(Some(place)) => {
            ctx.store.set_location(ctx.user.id, Some(&place.location)).await?;
            Ok(vec![Reply::text(saved(lang, &place.label()))])
        }
        Ok(None) => {
            let shown: String = args.chars().take(60).collect();
            Ok(vec![Reply::text(match lang {
                Lang::Fr => format!(
                    "Je ne trouve pas « {shown} ». Essaie une ville proche (`/profile location Lyon`) ou des coordonnées (`45.76,4.84`)."
                ),
                Lang::En => format!(
                    "I can't find “{shown}”. Try a nearby town (`/profile location Lyon`) or coordinates (`45.76,4.84`)."
                ),
            })])
        }
        Err(crate::weather::WeatherError::Store(e)) => Err(Failure::Store(e)),
        Err(e) => {
            tracing::warn!(error = %e, "place search failed");
            Ok(vec![Reply::text(lang.pick(
                "Je n'arrive pas à chercher ce lieu pour le moment. Réessaie plus tard, ou donne des coordonnées (`/profile location 45.76,4.84`).",
                "I can't look that place up right now. Try again later, or give coordinates (`/profile location 45.76,4.84`).",
            ))])
        }
    }
}

/// `07:00`, `7h`, `7h30`, `7`: hour and minute.
fn parse_time(text: &str) -> Option<(u32, u32)> {
    let t = text.trim().to_lowercase().replace('h', ":");
    let (h, m) = t.split_once(':').unwrap_or((t.as_str(), ""));
    let hour = h.trim().parse::<u32>().ok().filter(|h| *h < 24)?;
    let minute = if m.trim().is_empty() { 0 } else { m.trim().parse::<u32>().ok().filter(|m| *m < 60)? };
    Some((hour, minute))
}

fn at_time(record: &crate::store::ScheduleRecord) -> String {
    scheduler::next_local(record).map_or_else(String::new, |t| t.format("%H:%M").to_string())
}

/// `/remind [on [HH:MM] | off]`.
pub(super) async fn remind(ctx: &FlowCtx<'_>, args: &str) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.lang();
    let args = args.trim();
    let (verb, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    match verb.to_lowercase().as_str() {
        "on" | "oui" => {
            let (hour, minute) = if rest.trim().is_empty() {
                (7, 0)
            } else if let Some(t) = parse_time(rest) {
                t
            } else {
                return Ok(vec![Reply::text(lang.pick(
                    "Je n'ai pas compris l'heure. Par exemple `/remind on 06:30`.",
                    "I couldn't read that time. For example `/remind on 06:30`.",
                ))]);
            };
            let tz = ctx.user.timezone.tz();
            let record = scheduler::enable_reminder(ctx.store, ctx.user.id, ctx.chat, hour, minute, tz, ctx.now)
                .await
                .map_err(|e| match e {
                    ScheduleError::Store(s) => Failure::Store(s),
                    other => Failure::Internal(other.to_string()),
                })?;
            let at = at_time(&record);
            let weather = if ctx.user.location.is_none() && ctx.weather.is_some() {
                lang.pick(
                    "\nAjoute ton lieu pour la météo : `/profile location Lyon`.",
                    "\nAdd your place for the weather: `/profile location Lyon`.",
                )
            } else {
                ""
            };
            Ok(vec![Reply::text(match lang {
                Lang::Fr => format!(
                    "⏰ Rappel activé chaque matin à {at} ({}) : la séance du jour, sa météo et le bouton montre. Rien les jours de repos.{weather}",
                    record.timezone
                ),
                Lang::En => format!(
                    "⏰ Reminder on every morning at {at} ({}): the day's session, its weather and the watch button. Nothing on rest days.{weather}",
                    record.timezone
                ),
            })])
        }
        "off" | "non" => {
            let was_on = scheduler::disable_reminder(ctx.store, ctx.chat).await?;
            Ok(vec![Reply::text(match (was_on, lang) {
                (true, Lang::Fr) => "Rappel du matin désactivé. `/remind on` pour le réactiver.",
                (true, Lang::En) => "Morning reminder off. `/remind on` turns it back on.",
                (false, Lang::Fr) => "Le rappel du matin n'était pas activé.",
                (false, Lang::En) => "The morning reminder wasn't on.",
            })])
        }
        _ => {
            let record = ctx.store.schedule(ScheduleKind::MorningReminder, ctx.chat).await?;
            Ok(vec![Reply::text(match (record.filter(|r| r.enabled), lang) {
                (Some(r), Lang::Fr) => format!("⏰ Rappel du matin à {} ({}). `/remind off` pour l'arrêter.", at_time(&r), r.timezone),
                (Some(r), Lang::En) => format!("⏰ Morning reminder at {} ({}). `/remind off` stops it.", at_time(&r), r.timezone),
                (None, Lang::Fr) => "Pas de rappel du matin. `/remind on 07:00` t'envoie chaque matin la séance du jour avec sa météo.".to_owned(),
                (None, Lang::En) => "No morning reminder. `/remind on 07:00` sends you the day's session with its weather every morning.".to_owned(),
            })])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_coordinates_are_read_as_people_type_them() {
        assert_eq!(parse_time("07:00"), Some((7, 0)));
        assert_eq!(parse_time("6h30"), Some((6, 30)));
        assert_eq!(parse_time("6h"), Some((6, 0)));
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(parse_time("7:75"), None);
        assert_eq!(parse_time("tôt"), None);
        assert_eq!(coordinates("45.76,4.84"), Some((45.76, 4.84)));
        assert_eq!(coordinates("45.76 4.84"), Some((45.76, 4.84)));
        assert_eq!(coordinates("-33.9, 18.4"), Some((-33.9, 18.4)));
        assert_eq!(coordinates("Lyon"), None);
        assert_eq!(coordinates("1,2,3"), None);
    }
}

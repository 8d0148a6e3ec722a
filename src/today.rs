//! The day's session as the runner sees it in the morning reminder and `/today`: the session, its
//! weather ([`crate::weather::weather_note`]) and the button that sends it to their watch.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::User;
use crate::i18n::Lang;
use crate::message::{Button, Reply};
use crate::plan::{Plan, Workout, WorkoutStatus};
use crate::store::{Store, StoreResult};
use crate::weather::{WeatherService, weather_note};

/// The data of the button that sends a day's session to the watch: `plan:watch:<date>`.
pub const WATCH_BUTTON_PREFIX: &str = "plan:watch:";

#[must_use]
pub fn watch_button(date: NaiveDate, lang: Lang) -> Button {
    Button::new(lang.pick("⌚ Sur ma montre", "⌚ To my watch"), format!("{WATCH_BUTTON_PREFIX}{date}"))
}

/// Today's running session of `plan`, if it is still to run.
#[must_use]
pub fn session_today(plan: &Plan, today: NaiveDate) -> Option<&Workout> {
    plan.workouts().find(|w| w.date == today && w.kind.is_running() && w.status != WorkoutStatus::Done)
}

/// The morning reminder: today's session, its weather and the watch button. `None` on a rest
/// day or when the session is already done (nothing to remind).
pub async fn reminder(
    store: &dyn Store,
    weather: Option<&WeatherService>,
    user: &User,
    plan: &Plan,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> StoreResult<Option<Reply>> {
    let Some(w) = session_today(plan, today) else { return Ok(None) };
    let lang = user.lang;
    let mut text =
        format!("{}\n{}", lang.pick("☀️ **Ta séance du jour**", "☀️ **Today's session**"), w.description.get(lang));
    if let Some(note) = weather_note(weather, store, user, Some(w), today, now).await? {
        text.push_str("\n\n");
        text.push_str(&note.render(lang, user.timezone.tz()));
    }
    text.push_str(lang.pick("\n\n`/remind off` pour arrêter ces rappels.", "\n\n`/remind off` stops these reminders."));
    Ok(Some(Reply::text(text).with_buttons(vec![vec![watch_button(w.date, lang)]])))
}

//! The chat: [`BotCore`] dispatches each [`Incoming`] message to a command or a flow and returns
//! the [`Reply`] values to send. Adapters speak only to this module: it re-exports the message
//! model ([`crate::message`]) they translate to and from.

mod activity_flow;
mod activity_view;
mod club_flow;
mod coach;
mod commands;
mod core;
mod flow;
mod garmin_flow;
mod goal_flow;
mod plan_flow;
mod summary_flow;
mod texts;
mod weather_flow;

pub use coach::safety_note;
pub use commands::{COMMANDS, Command, CommandSpec, ParsedText, parse_text};
pub use core::{BotCore, MAX_FILE_BYTES, MAX_MESSAGE_CHARS};
pub use garmin_flow::GarminService;

use crate::i18n::Lang;
pub use crate::message::*;

/// The form `id` with its labels in `lang`, for a platform that opens it when a button is pressed
/// (the button carries the id and the language, not the labels).
#[must_use]
pub fn form(id: &str, lang: Lang) -> Option<Form> {
    garmin_flow::form_spec(id, lang)
}

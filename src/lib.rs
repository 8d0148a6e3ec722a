//! runcoach's core: everything the bot knows, with no chat platform inside.
//!
//! Adapters (in `bots/`) translate their platform's updates into [`chat::Incoming`] and render the
//! [`chat::Reply`] values the [`chat::BotCore`] returns. The store, the science and the plan engine
//! live here, behind types that parse their input at the boundary.

pub mod agent;
pub mod chat;
pub mod config;
pub mod domain;
pub mod error;
pub mod garmin;
pub mod history;
pub mod i18n;
pub mod import;
pub mod knowledge;
pub mod metrics;
pub mod plan;
pub mod scheduler;
pub mod science;
pub mod store;
pub mod summary;

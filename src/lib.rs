//! runcoach's core: everything the bot knows, with no chat platform inside.
//!
//! Adapters (in `bots/`) translate their platform's updates into [`chat::Incoming`] and render the
//! [`chat::Reply`] values the [`chat::BotCore`] returns. The store, the science and the plan engine
//! live here, behind types that parse their input at the boundary.
//!
//! The pure part (domain types, science, the plan engine, the file parsers, the two languages)
//! is the `runcoach-pure` crate, re-exported here under the same paths.

pub use runcoach_pure::{domain, goal, i18n, import, plan, science, watch};

pub mod agent;
pub mod api_keys;
pub mod charts;
pub mod chat;
pub mod clock;
pub mod config;
pub mod error;
pub mod garmin;
pub mod goals;
pub mod history;
pub mod knowledge;
pub mod limits;
pub mod message;
pub mod metrics;
pub mod plans;
pub mod retention;
pub mod scheduler;
pub mod store;
pub mod summary;
pub mod today;
pub mod tracking;
pub mod weather;

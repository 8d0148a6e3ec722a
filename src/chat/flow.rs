//! What every chat flow shares: the context it runs in ([`FlowCtx`]) and how it fails
//! ([`Failure`]). The dispatcher (`core.rs`) builds the context and turns a failure into a reply;
//! the flows (plan, activity, Garmin, summary, club) depend on this module, never on the
//! dispatcher, so the chat's files import one way.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::User;
use crate::i18n::Lang;
use crate::message::{ChatKey, Progress, Reply};
use crate::store::{Store, StoreError};

/// A button whose data is a command: pressing it runs the command as if typed.
pub(super) const BTN_COMMAND: &str = "cmd:";

/// A failure already phrased for the user, a store error to phrase, or a bug of ours (logged;
/// the runner is told something went wrong and nothing was lost).
pub(super) enum Failure {
    Store(StoreError),
    Say(String),
    Internal(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// What a flow answers: the replies, or why there are none.
pub(super) type Handled = Result<Vec<Reply>, Failure>;

/// One message being handled: who sent it, where, and what day it is for them.
pub(super) struct FlowCtx<'a> {
    pub store: &'a dyn Store,
    pub user: &'a User,
    pub chat: &'a ChatKey,
    /// When the message is handled (the core's clock).
    pub now: DateTime<Utc>,
    /// The runner's date at `now`, in their time zone.
    pub today: NaiveDate,
    /// Where a long step (a Garmin sync) shows how far it is.
    pub progress: Option<&'a dyn Progress>,
    /// The limits shared by every instance (imports, Garmin logins).
    pub limits: crate::limits::Limits,
    /// Forecasts, when this server has the weather.
    pub weather: Option<&'a crate::weather::WeatherService>,
}

impl FlowCtx<'_> {
    pub fn lang(&self) -> Lang {
        self.user.lang
    }

    /// Keeps a multi-step dialogue's state for this runner in this chat.
    pub async fn save_state<T: Serialize>(&self, state: &T) -> Result<(), Failure> {
        let value = serde_json::to_value(state).map_err(StoreError::Encode)?;
        self.store.set_dialogue_state(self.user.id, self.chat, Some(&value)).await?;
        Ok(())
    }

    /// Ends the multi-step dialogue in this chat.
    pub async fn clear_state(&self) -> Result<(), Failure> {
        self.store.set_dialogue_state(self.user.id, self.chat, None).await?;
        Ok(())
    }
}

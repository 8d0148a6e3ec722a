//! `runcoach api-key create|list|revoke`: the operator's HTTP API keys (each acts only for its own
//! runners, `api:NAME:…`). The secret is printed once; the store keeps its SHA-256.

use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::Utc;
use runcoach_core::api_keys::{self, CreateError};
use runcoach_core::store::Store;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::cli::ApiKeyCommand;
use crate::science_cmd::emit;

pub async fn run(store: &dyn Store, command: ApiKeyCommand) -> Result<ExitCode> {
    let now = Utc::now();
    match command {
        ApiKeyCommand::Create { name } => match api_keys::create(store, &name, now).await {
            Ok(secret) => {
                store.audit(None, "operator", "api_key.create", &json!({ "name": name })).await?;
                emit(&format!("{}\n", secret.expose_secret()));
                eprintln!("runcoach api-key: key {name} created; keep the secret above, it is not shown again");
                Ok(ExitCode::SUCCESS)
            }
            Err(e @ (CreateError::BadName | CreateError::Taken(_))) => {
                eprintln!("runcoach api-key: {e}");
                Ok(ExitCode::from(2))
            }
            Err(CreateError::Store(e)) => Err(e).context("storing the key"),
        },
        ApiKeyCommand::List { json } => {
            let keys = api_keys::list(store).await?;
            if json {
                emit(&format!("{}\n", serde_json::to_string(&keys)?));
            } else if keys.is_empty() {
                emit("No API key made here (configured keys are in RUNCOACH_API_KEYS).\n");
            } else {
                for k in keys {
                    let state = k.revoked_at.map_or("live".to_owned(), |r| format!("revoked {}", r.format("%Y-%m-%d")));
                    emit(&format!("{}\tcreated {}\t{state}\n", k.name, k.created_at.format("%Y-%m-%d")));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ApiKeyCommand::Revoke { name } => {
            if api_keys::revoke(store, &name, now).await? {
                store.audit(None, "operator", "api_key.revoke", &json!({ "name": name })).await?;
                eprintln!("runcoach api-key: key {name} revoked");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("runcoach api-key: no live key named {name}");
                Ok(ExitCode::from(2))
            }
        }
    }
}

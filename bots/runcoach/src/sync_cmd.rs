//! `runcoach sync garmin --user NAME`: the Garmin login on the command line, then a sync.
//! Prompts go to stderr; the password is read once and never printed or logged.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use runcoach_core::config::Settings;
use runcoach_core::domain::UserId;
use runcoach_core::garmin::{self, GarminClient, LoginStep, TokenSealer};
use runcoach_core::i18n::Lang;
use runcoach_core::store::Store;
use secrecy::SecretString;

use crate::science_cmd::emit;

fn prompt(question: &str) -> Result<String> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn garmin(settings: &Settings, store: &dyn Store, user: UserId) -> Result<ExitCode> {
    let sealer = TokenSealer::from_setting(crate::sealing_key(settings)?.as_ref())
        .map_err(|e| anyhow::anyhow!(e.message(Lang::En)))?;
    let client = GarminClient::new(settings.garmin.clone()).map_err(|e| anyhow::anyhow!(e.message(Lang::En)))?;
    if store.get_credential(user, "garmin").await?.is_none() {
        let email = match std::env::var("RUNCOACH_GARMIN_EMAIL") {
            Ok(e) if !e.trim().is_empty() => e,
            _ => prompt("Garmin Connect email: ")?,
        };
        let password = SecretString::from(match std::env::var("RUNCOACH_GARMIN_PASSWORD") {
            Ok(p) if !p.is_empty() => p,
            _ => prompt("Garmin Connect password: ")?,
        });
        let tokens = match client.login(&email, &password).await {
            Ok(LoginStep::Done(tokens)) => tokens,
            Ok(LoginStep::NeedMfa(challenge)) => {
                let code = prompt("Garmin verification code (sent by email or text): ")?;
                client.verify_mfa(&challenge, code.trim()).await.map_err(|e| anyhow::anyhow!(e.message(Lang::En)))?
            }
            Err(e) => {
                eprintln!("runcoach sync garmin: {}", e.message(Lang::En));
                return Ok(ExitCode::FAILURE);
            }
        };
        drop(password);
        let name = garmin::connect_account(&client, store, &sealer, user, tokens)
            .await
            .map_err(|e| anyhow::anyhow!(e.message(Lang::En)))
            .context("connecting the Garmin account")?;
        emit(&format!("connected to Garmin Connect{}\n", name.map(|n| format!(" as {n}")).unwrap_or_default()));
    }
    let result = garmin::sync_user(&client, store, &sealer, user, |p| {
        eprintln!("… {} activities read, {} new", p.fetched, p.new);
    })
    .await;
    if let Ok(s) = &result {
        emit(&format!("{} activities read, {} new, {} already known\n", s.total, s.new, s.duplicates));
    }
    // A sync that failed midway stored whole activities: they tick the plan off too.
    crate::import_cmd::emit_ticked(store, user).await?;
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("runcoach sync garmin: {}", e.message(Lang::En));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `runcoach push garmin --user NAME [--days N]`: the next days' sessions into the runner's
/// Garmin calendar (exit 2 without a plan or a connection, 1 when Garmin refused or failed).
pub async fn push_garmin(settings: &Settings, store: &dyn Store, user: UserId, days: u32) -> Result<ExitCode> {
    let sealer = TokenSealer::from_setting(crate::sealing_key(settings)?.as_ref())
        .map_err(|e| anyhow::anyhow!(e.message(Lang::En)))?;
    let client = GarminClient::new(settings.garmin.clone()).map_err(|e| anyhow::anyhow!(e.message(Lang::En)))?;
    let runner = store.get_user(user).await?;
    if store.get_credential(user, garmin::PROVIDER).await?.is_none() {
        eprintln!("runcoach push garmin: this runner is not connected to Garmin (run `runcoach sync garmin` first)");
        return Ok(ExitCode::from(2));
    }
    let Some(active) = runcoach_core::plans::active(store, user).await? else {
        eprintln!("runcoach push garmin: this runner has no active plan");
        return Ok(ExitCode::from(2));
    };
    let now = chrono::Utc::now();
    let today = now.with_timezone(&runner.timezone.tz()).date_naive();
    let result =
        garmin::workouts::push(&client, store, &sealer, user, Some(&active.plan), today, days, runner.lang, now).await;
    match result {
        Ok(report) => {
            emit(&format!("{}\n", garmin::workouts::report_text(&report, Lang::En)));
            Ok(if report.refused.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Err(e) => {
            if let garmin::GarminError::RateLimited { retry_after_s } = &e {
                let half_hour = chrono::Duration::minutes(30);
                garmin::pause_after_429(store, *retry_after_s, half_hour, now, "push 429").await?;
            }
            eprintln!("runcoach push garmin: {}", e.message(Lang::En));
            Ok(ExitCode::FAILURE)
        }
    }
}

//! `runcoach workout`: one day's planned session as a structured FIT workout for a watch.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use runcoach_core::domain::UserId;
use runcoach_core::store::Store;
use runcoach_core::{plans, watch};

pub async fn run(store: &dyn Store, user: UserId, date: NaiveDate, out: Option<PathBuf>) -> Result<ExitCode> {
    let runner = store.get_user(user).await?;
    let lang = runner.lang;
    let Some(active) = plans::active(store, user).await? else {
        eprintln!("runcoach workout: this runner has no active plan (make one with `runcoach plan … --save` or /plan)");
        return Ok(ExitCode::from(2));
    };
    let data = match watch::session_on(&active.plan, date).and_then(|w| watch::workout_fit(w, lang, Utc::now())) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("runcoach workout: {}", e.message(lang));
            return Ok(ExitCode::from(2));
        }
    };
    match out {
        Some(path) => {
            std::fs::write(&path, &data).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("runcoach workout: {} ({} bytes)", path.display(), data.len());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&data).and_then(|()| stdout.flush()).context("writing the workout to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

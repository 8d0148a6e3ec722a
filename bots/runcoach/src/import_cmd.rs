//! `runcoach import`: one line per file (imported / duplicate / refused: reason); exit 1 when
//! any file was refused.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use runcoach_core::domain::UserId;
use runcoach_core::i18n::Lang;
use runcoach_core::import::{self, MAX_IMPORT_BYTES};
use runcoach_core::store::{InsertOutcome, Store};

use crate::science_cmd::emit;

pub async fn run(store: &dyn Store, user: UserId, files: &[PathBuf]) -> Result<ExitCode> {
    let mut refused = 0;
    for path in files {
        let shown = path.display();
        // Read no more than the import limit (+1 to notice an oversized file).
        let data = match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_IMPORT_BYTES as u64 => {
                refused += 1;
                emit(&format!(
                    "{shown}: refused: file is {} MB, the limit is {} MB\n",
                    m.len() >> 20,
                    MAX_IMPORT_BYTES >> 20
                ));
                continue;
            }
            Ok(_) => std::fs::read(path),
            Err(e) => Err(e),
        };
        let data = match data {
            Ok(d) => d,
            Err(e) => {
                refused += 1;
                emit(&format!("{shown}: refused: cannot read the file ({e})\n"));
                continue;
            }
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match import::import_bytes(&name, &data) {
            Err(e) => {
                refused += 1;
                emit(&format!("{shown}: refused: {}\n", e.message(Lang::En)));
            }
            Ok(items) => {
                let activities: Vec<&runcoach_core::store::NewActivity> = items.iter().map(|i| &i.activity).collect();
                // Batched transactions: whole activities, a few commits for a long list.
                let saved =
                    store.insert_activities(user, &activities).await.with_context(|| format!("{shown}: not saved"))?;
                for (item, saved) in items.iter().zip(saved) {
                    let a = &item.activity;
                    let what = format!(
                        "{} {} {:.2} km {:.0} s",
                        a.sport.as_str(),
                        a.start_time.format("%Y-%m-%d %H:%M"),
                        a.distance_m.unwrap_or(0.0) / 1000.0,
                        a.duration_s
                    );
                    let outcome = match saved {
                        Ok(InsertOutcome::Inserted(_)) => "imported".to_owned(),
                        Ok(InsertOutcome::Duplicate(_)) => "duplicate".to_owned(),
                        Err(e) => {
                            refused += 1;
                            format!("refused ({e})")
                        }
                    };
                    let warnings: Vec<String> = item.warnings.iter().map(|w| w.message(Lang::En)).collect();
                    let warnings = if warnings.is_empty() {
                        String::new()
                    } else {
                        format!(" (warning: {})", warnings.join("; "))
                    };
                    emit(&format!("{shown}: {outcome}: {what}{warnings}\n"));
                }
            }
        }
    }
    emit_ticked(store, user).await?;
    Ok(if refused > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Ticks off the plan's sessions the stored runs complete (the rule every source uses), one line
/// each: `plan: 2026-12-01 easy done`.
pub async fn emit_ticked(store: &dyn Store, user: UserId) -> Result<()> {
    for t in runcoach_core::tracking::tick_off(store, user).await.context("ticking off the plan")? {
        emit(&format!("plan: {} {} done\n", t.date, t.kind.as_str()));
    }
    Ok(())
}

//! `runcoach summary --user NAME [--week YYYY-Www] [--json] [--chart FILE] [--lang fr|en]`: a
//! runner's weekly summary on the command line, as the chat would send it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use runcoach_core::domain::UserId;
use runcoach_core::i18n::Lang;
use runcoach_core::store::Store;
use runcoach_core::summary::{self, IsoWeek};

pub struct SummaryArgs {
    /// `YYYY-Www`; default: the last complete week on the runner's clock.
    pub week: Option<String>,
    pub json: bool,
    /// Where to write the PNG chart.
    pub chart: Option<PathBuf>,
    /// Default: the runner's language.
    pub lang: Option<Lang>,
}

fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Prints the summary (text, or JSON with `--json`) and writes the chart when asked.
/// A malformed `--week` exits 2.
pub async fn summary(store: &dyn Store, id: UserId, args: SummaryArgs) -> Result<ExitCode> {
    let user = store.get_user(id).await.context("cannot read the runner")?;
    let today = chrono::Utc::now().with_timezone(&user.timezone.tz()).date_naive();
    let week = match args.week.as_deref().map(str::parse::<IsoWeek>).transpose() {
        Ok(w) => w.unwrap_or_else(|| IsoWeek::last_complete(today)),
        Err(e) => {
            eprintln!("runcoach summary: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let lang = args.lang.unwrap_or(user.lang);
    let s = summary::weekly_summary_for(store, &user, week, today).await.context("cannot read the runner's data")?;
    if let Some(path) = &args.chart {
        let png = summary::chart_png(&s, lang, user.units)?;
        std::fs::write(path, png).with_context(|| format!("cannot write the chart to {}", path.display()))?;
    }
    if args.json {
        emit(&format!("{}\n", serde_json::to_string_pretty(&summary::to_json(&s))?));
    } else {
        emit(&format!("{}\n", user.units.localise(lang, &summary::render(&s, lang))));
        if let Some(path) = &args.chart {
            eprintln!("chart written to {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `runcoach kb index|status|search`: the knowledge base on the command line.
//!
//! Every command loads the documents. `index` loads the embedding model (when `models/` holds it)
//! and embeds what the store's cache lacks; `status` and `search` use the cached vectors only,
//! never wait for an index, and load the model only when some of its vectors are cached.

use std::process::ExitCode;

use anyhow::{Context, Result};
use runcoach_core::i18n::Lang;
use runcoach_core::knowledge::{KbConfig, KnowledgeBase};
use runcoach_core::store::Store;

async fn open(store: &dyn Store, config: &KbConfig) -> Result<KnowledgeBase> {
    KnowledgeBase::load_cached_only(config, store).await.with_context(|| format!("cannot load {}", config.source()))
}

/// `runcoach kb index`: embeds what the cache lacks and reports.
pub async fn index(store: &dyn Store, config: &KbConfig) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut kb = KnowledgeBase::load(config).with_context(|| format!("cannot load {}", config.source()))?;
    let report = kb.index(store).await.context("cannot index the knowledge base")?;
    let status = kb.status();
    println!(
        "indexed {} passages from {} documents in {:.1} s: {} embedded, {} from the cache",
        report.chunks,
        status.documents,
        started.elapsed().as_secs_f64(),
        report.embedded,
        report.cached
    );
    println!("{}", status.describe(Lang::En));
    Ok(ExitCode::SUCCESS)
}

/// `runcoach kb status [--json]`.
pub async fn status(store: &dyn Store, config: &KbConfig, as_json: bool) -> Result<ExitCode> {
    let kb = open(store, config).await?;
    let status = kb.status();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!("{}", status.describe(Lang::En));
    }
    Ok(ExitCode::SUCCESS)
}

/// `runcoach kb search "question" [--top K] [--lang fr|en] [--json]`: best passages first (in
/// `lang` only when given); JSON is a list of `{"doc","heading","lang","text","score"}`.
pub async fn search(
    store: &dyn Store,
    config: &KbConfig,
    query: &str,
    top: usize,
    lang: Option<Lang>,
    as_json: bool,
) -> Result<ExitCode> {
    let kb = open(store, config).await?;
    let hits = kb.search(query, lang, top);
    if as_json {
        let list: Vec<_> = hits.iter().map(|h| h.brief()).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if hits.is_empty() {
        println!("no passage matches {query:?}");
    }
    for (i, h) in hits.iter().enumerate() {
        println!("{}. [{}] {} — {} (score {:.4})", i + 1, h.lang, h.doc, h.heading, h.score);
        let preview: String = h.text.chars().take(300).collect();
        let ellipsis = if h.text.chars().count() > 300 { "…" } else { "" };
        println!("   {}{ellipsis}\n", preview.replace('\n', "\n   "));
    }
    Ok(ExitCode::SUCCESS)
}

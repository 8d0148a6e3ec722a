//! The running knowledge base: markdown documents in French and English, searched by a hybrid of
//! BM25 and multilingual embeddings so that a question in one language finds passages in both.
//!
//! Documents are split into heading-aware [`Chunk`]s. BM25 ranks them per language; when the
//! embedding model is available, cosine similarity ranks them too, and the two rankings are fused
//! by reciprocal rank (scores of different kinds can't be added, ranks can). Chunk vectors are
//! cached in the store by content hash and model, so a restart or an edited document only embeds
//! what changed. Without the model files the base still answers, lexically, and says so.

mod document;
mod embed;
mod lexical;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use document::{Chunk, Document, MAX_CHUNK_CHARS, chunk_document, parse_document};
pub use embed::{Embedder, FastEmbedder, MODEL_FILES, ModelPaths, TextKind, cosine};
pub use lexical::{Analyzer, LexicalIndex, fold_accents, guess_lang};

use crate::i18n::Lang;
use crate::store::{Store, StoreError};

/// Reciprocal-rank fusion constant (the usual 60: damps the difference between close ranks).
const RRF_K: f32 = 60.0;
/// How the rankings are weighed in the reciprocal-rank fusion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FusionWeights {
    /// The embedding ranking (over both languages).
    pub dense: f32,
    /// BM25 in the query's language (or when its language can't be told).
    pub lexical: f32,
    /// BM25 against the other language's index only sees shared words (marathon, VMA, km).
    pub cross_lexical: f32,
    /// Share of the best score of a passage's translation (same document, same section) added to
    /// its own: the query's language is where both rankings match best.
    pub sibling: f32,
}

impl Default for FusionWeights {
    /// Tuned on the probes in `tests/knowledge.rs` (see docs/models.md).
    fn default() -> Self {
        FusionWeights { dense: 1.0, lexical: 6.0, cross_lexical: 0.0, sibling: 1.0 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: front matter: {msg}", path.display())]
    FrontMatter { path: PathBuf, msg: String },
    #[error("{0}")]
    ModelMissing(String),
    #[error("embedding model: {0}")]
    Model(String),
    #[error("embedding cache: {0}")]
    Store(#[from] StoreError),
}

/// Where the knowledge base and its model live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KbConfig {
    /// Holds `en/*.md` and `fr/*.md`; `None`: the base built into the binary.
    pub kb_dir: Option<PathBuf>,
    pub model: ModelPaths,
}

/// The knowledge base as it was when the binary was built: a binary started anywhere (installed,
/// under systemd, from `/tmp`) answers from it. `RUNCOACH_KB_DIR` replaces it with a folder.
static EMBEDDED: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/knowledge_base");

impl KbConfig {
    /// What the base is read from, for logs and messages.
    #[must_use]
    pub fn source(&self) -> String {
        self.kb_dir.as_ref().map_or_else(|| "the built-in knowledge base".to_owned(), |d| d.display().to_string())
    }
}

impl Default for KbConfig {
    /// The built-in base, `models/multilingual-e5-small` and `models/onnxruntime/libonnxruntime.so`
    /// (the binary's settings place the model; see docs/models.md).
    fn default() -> Self {
        KbConfig {
            kb_dir: None,
            model: ModelPaths {
                model_dir: PathBuf::from("models/multilingual-e5-small"),
                ort_library: PathBuf::from("models/onnxruntime/libonnxruntime.so"),
            },
        }
    }
}

/// A search result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hit {
    /// The document's slug (its file name).
    pub doc: String,
    pub heading: String,
    pub lang: Lang,
    pub text: String,
    /// Fused reciprocal-rank score: only the order means something.
    pub score: f32,
    pub title: String,
    pub sources: Vec<String>,
}

/// The CLI's JSON shape of a hit: `{"doc","heading","lang","text","score"}`, in that order.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct HitBrief<'a> {
    pub doc: &'a str,
    pub heading: &'a str,
    pub lang: Lang,
    pub text: &'a str,
    pub score: f32,
}

impl Hit {
    #[must_use]
    pub fn brief(&self) -> HitBrief<'_> {
        HitBrief { doc: &self.doc, heading: &self.heading, lang: self.lang, text: &self.text, score: self.score }
    }
}

/// How the base searches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum SearchMode {
    /// BM25 fused with the named embedding model.
    Hybrid { model: String },
    /// BM25 only, and why.
    Lexical { reason: String },
}

/// What `kb status` and `/status` show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KbStatus {
    pub dir: PathBuf,
    pub documents: usize,
    pub chunks: usize,
    pub chunks_fr: usize,
    pub chunks_en: usize,
    /// Chunks with a vector (all of them once indexed in hybrid mode).
    pub embedded: usize,
    #[serde(flatten)]
    pub mode: SearchMode,
}

impl KbStatus {
    /// One line for a runner or an operator.
    #[must_use]
    pub fn describe(&self, lang: Lang) -> String {
        let base = match lang {
            Lang::Fr => format!(
                "base de connaissances : {} documents, {} passages ({} fr, {} en)",
                self.documents, self.chunks, self.chunks_fr, self.chunks_en
            ),
            Lang::En => format!(
                "knowledge base: {} documents, {} passages ({} fr, {} en)",
                self.documents, self.chunks, self.chunks_fr, self.chunks_en
            ),
        };
        match (&self.mode, lang) {
            (SearchMode::Hybrid { model }, Lang::Fr) => {
                format!("{base}; recherche hybride (BM25 + {model}, {} vecteurs)", self.embedded)
            }
            (SearchMode::Hybrid { model }, Lang::En) => {
                format!("{base}; hybrid search (BM25 + {model}, {} vectors)", self.embedded)
            }
            (SearchMode::Lexical { reason }, Lang::Fr) => {
                format!("{base}; recherche lexicale seulement (BM25) : {reason}")
            }
            (SearchMode::Lexical { reason }, Lang::En) => format!("{base}; lexical search only (BM25): {reason}"),
        }
    }
}

impl fmt::Display for KbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Lang::En))
    }
}

/// What an indexing pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IndexReport {
    pub chunks: usize,
    /// Vectors read from the store's cache.
    pub cached: usize,
    /// Vectors computed (and stored) this time.
    pub embedded: usize,
    pub model: Option<String>,
}

/// The loaded knowledge base.
pub struct KnowledgeBase {
    dir: PathBuf,
    docs: Vec<Document>,
    chunks: Vec<Chunk>,
    /// Content hash of each chunk's passage, aligned with `chunks`.
    hashes: Vec<String>,
    fr: LexicalIndex,
    en: LexicalIndex,
    embedder: Option<Arc<dyn Embedder>>,
    /// Per document, the key shared with its translation (see `sibling_key`).
    pair_keys: Vec<usize>,
    /// Aligned with `chunks`; filled by [`KnowledgeBase::index`].
    vectors: Vec<Option<Vec<f32>>>,
    mode: SearchMode,
}

/// The lexical-only warning is logged once per process, however many times the base is loaded.
static WARNED_LEXICAL: AtomicBool = AtomicBool::new(false);

impl KnowledgeBase {
    /// Loads the documents and, when its files are there, the embedding model. A missing or
    /// unloadable model is not an error: the base runs lexical-only and logs why, once.
    #[tracing::instrument(skip_all, fields(source = %config.source()))]
    pub fn load(config: &KbConfig) -> Result<Self, KbError> {
        let (embedder, reason) = match FastEmbedder::load(&config.model.model_dir, &config.model.ort_library) {
            Ok(model) => (Some(Arc::new(model) as Arc<dyn Embedder>), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let mut kb = Self::from_config(config, embedder)?;
        if let Some(reason) = reason {
            kb.model_unavailable(reason);
        }
        Ok(kb)
    }

    /// Lexical-only mode without a model, and why (logged once per process).
    fn model_unavailable(&mut self, reason: String) {
        if !WARNED_LEXICAL.swap(true, Ordering::Relaxed) {
            tracing::warn!(%reason, "knowledge base: embedding model unavailable, lexical search only");
        }
        self.mode = SearchMode::Lexical { reason };
    }

    /// The documents `config` names (its folder, or the built-in base) with a given embedder.
    pub fn from_config(config: &KbConfig, embedder: Option<Arc<dyn Embedder>>) -> Result<Self, KbError> {
        match &config.kb_dir {
            Some(dir) => Self::with_embedder(dir, embedder),
            None => Self::from_documents(Path::new("built-in"), embedded_documents()?, embedder),
        }
    }

    /// Loads the documents in `dir` with a given embedder (`None`: lexical only).
    pub fn with_embedder(dir: &Path, embedder: Option<Arc<dyn Embedder>>) -> Result<Self, KbError> {
        Self::from_documents(dir, load_documents(dir)?, embedder)
    }

    /// `dir` names where the documents came from (`built-in` for the embedded base).
    fn from_documents(dir: &Path, docs: Vec<Document>, embedder: Option<Arc<dyn Embedder>>) -> Result<Self, KbError> {
        let chunks: Vec<Chunk> = docs.iter().enumerate().flat_map(|(i, d)| chunk_document(i, d)).collect();
        let hashes = chunks.iter().map(|c| content_hash(&c.passage())).collect();
        let lexical = |lang: Lang| {
            let items: Vec<(usize, String)> = chunks
                .iter()
                .enumerate()
                .filter(|(_, c)| c.lang == lang)
                // Title and tags weigh in: a section rarely repeats its document's subject.
                .map(|(i, c)| {
                    (i, format!("{}\n{}\n{}", c.passage(), c.tags.join(", "), c.topic.as_deref().unwrap_or("")))
                })
                .collect();
            LexicalIndex::build(lang, &items)
        };
        let (fr, en) = (lexical(Lang::Fr), lexical(Lang::En));
        let mode = match &embedder {
            Some(e) => SearchMode::Hybrid { model: e.model_id().to_owned() },
            None => SearchMode::Lexical { reason: "no embedding model configured".into() },
        };
        let vectors = vec![None; chunks.len()];
        let pair_keys =
            docs.iter().enumerate().map(|(i, d)| docs.iter().position(|o| o.slug == d.slug).unwrap_or(i)).collect();
        Ok(KnowledgeBase { dir: dir.to_path_buf(), docs, chunks, hashes, fr, en, embedder, pair_keys, vectors, mode })
    }

    #[must_use]
    pub fn documents(&self) -> &[Document] {
        &self.docs
    }

    #[must_use]
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    #[must_use]
    pub fn mode(&self) -> &SearchMode {
        &self.mode
    }

    #[must_use]
    pub fn status(&self) -> KbStatus {
        let count = |lang: Lang| self.chunks.iter().filter(|c| c.lang == lang).count();
        KbStatus {
            dir: self.dir.clone(),
            documents: self.docs.len(),
            chunks: self.chunks.len(),
            chunks_fr: count(Lang::Fr),
            chunks_en: count(Lang::En),
            embedded: self.vectors.iter().filter(|v| v.is_some()).count(),
            mode: self.mode.clone(),
        }
    }

    /// Gives every chunk its vector: cached ones from the store, the others embedded (off the
    /// async threads) and stored. Does nothing in lexical mode.
    #[tracing::instrument(skip_all)]
    pub async fn index(&mut self, store: &dyn Store) -> Result<IndexReport, KbError> {
        let Some(embedder) = self.embedder.clone() else {
            return Ok(IndexReport { chunks: self.chunks.len(), ..IndexReport::default() });
        };
        let model = embedder.model_id().to_owned();
        let cached_count = self.fill_from_cache(store, &model).await?;
        let (todo_hashes, todo_texts) = self.todo();
        let embedded = todo_texts.len();
        if !todo_texts.is_empty() {
            let worker = Arc::clone(&embedder);
            let vectors = tokio::task::spawn_blocking(move || worker.embed(&todo_texts, TextKind::Passage))
                .await
                .map_err(|e| KbError::Model(format!("embedding task failed: {e}")))??;
            let fresh: Vec<(String, Vec<f32>)> = todo_hashes.into_iter().zip(vectors).collect();
            store.put_embeddings(&model, &fresh).await?;
            self.fill(&fresh.into_iter().collect());
        }
        tracing::info!(chunks = self.chunks.len(), cached = cached_count, embedded, %model, "knowledge base indexed");
        Ok(IndexReport { chunks: self.chunks.len(), cached: cached_count, embedded, model: Some(model) })
    }

    /// Fills the chunks without a vector from the store's cache of `model`; how many.
    async fn fill_from_cache(&mut self, store: &dyn Store, model: &str) -> Result<usize, KbError> {
        let wanted: Vec<String> = self.missing_hashes();
        let cached: HashMap<String, Vec<f32>> = store.cached_embeddings(model, &wanted).await?.into_iter().collect();
        Ok(self.fill(&cached))
    }

    /// The base for one-shot commands (`ask`, a piped `chat`, `kb search`, `kb status`): lexical
    /// search plus the vectors the store's cache already holds; nothing is embedded
    /// (`runcoach kb index` and the service's background task do that). The model is loaded
    /// only when some vectors of it are cached: without them it would embed the query for
    /// nothing, at a cost of a third of a second and 250 MB.
    #[tracing::instrument(skip_all, fields(source = %config.source()))]
    pub async fn load_cached_only(config: &KbConfig, store: &dyn Store) -> Result<Self, KbError> {
        let mut kb = Self::from_config(config, None)?;
        let model = match embed::model_id_of(&config.model) {
            Ok(model) => model,
            Err(e) => {
                kb.model_unavailable(e.to_string());
                return Ok(kb);
            }
        };
        let wanted = kb.missing_hashes();
        let cached: HashMap<String, Vec<f32>> = store.cached_embeddings(&model, &wanted).await?.into_iter().collect();
        if cached.is_empty() {
            tracing::info!(%model, "knowledge base: no vectors cached yet, lexical search only; `runcoach kb index` embeds them");
            kb.mode = SearchMode::Lexical { reason: format!("no vectors of {model} cached yet (runcoach kb index)") };
            return Ok(kb);
        }
        // Loaded in place, though it blocks for a third of a second: a one-shot command has
        // nothing else to run meanwhile, and a thread of its own would give the model's
        // allocations a malloc arena of their own (5 MB more at the peak).
        let embedder = match FastEmbedder::load(&config.model.model_dir, &config.model.ort_library) {
            // The files changed between the two reads (a new conversion): its vectors are not these.
            Ok(embedder) if embedder.model_id() != model => {
                kb.mode = SearchMode::Lexical { reason: format!("the model changed while loading ({model})") };
                return Ok(kb);
            }
            Ok(embedder) => embedder,
            Err(e) => {
                tracing::warn!(error = %e, "knowledge base: embedding model not loaded, lexical search only");
                kb.mode = SearchMode::Lexical { reason: e.to_string() };
                return Ok(kb);
            }
        };
        kb.embedder = Some(Arc::new(embedder));
        kb.mode = SearchMode::Hybrid { model };
        let cached_count = kb.fill(&cached);
        let missing = kb.vectors.iter().filter(|v| v.is_none()).count();
        if missing > 0 {
            tracing::info!(
                cached = cached_count,
                missing,
                "knowledge base: lexical search plus the cached vectors; `runcoach kb index` embeds the rest"
            );
        }
        Ok(kb)
    }

    /// Embeds every chunk without a cache (tests, one-off tools). Blocking.
    pub fn index_uncached(&mut self) -> Result<IndexReport, KbError> {
        let Some(embedder) = self.embedder.clone() else {
            return Ok(IndexReport { chunks: self.chunks.len(), ..IndexReport::default() });
        };
        let (hashes, texts) = self.todo();
        let embedded = texts.len();
        let vectors = embedder.embed(&texts, TextKind::Passage)?;
        self.fill(&hashes.into_iter().zip(vectors).collect());
        Ok(IndexReport { chunks: self.chunks.len(), cached: 0, embedded, model: Some(embedder.model_id().to_owned()) })
    }

    fn missing_hashes(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.hashes
            .iter()
            .zip(&self.vectors)
            .filter(|(h, v)| v.is_none() && seen.insert(h.as_str()))
            .map(|(h, _)| h.clone())
            .collect()
    }

    /// The distinct passages still without a vector, with their hashes.
    fn todo(&self) -> (Vec<String>, Vec<String>) {
        let mut seen = HashSet::new();
        self.chunks
            .iter()
            .zip(&self.hashes)
            .zip(&self.vectors)
            .filter(|((_, h), v)| v.is_none() && seen.insert(h.as_str()))
            .map(|((c, h), _)| (h.clone(), c.passage()))
            .unzip()
    }

    /// Sets the vectors found in `found`; returns how many distinct hashes it filled.
    fn fill(&mut self, found: &HashMap<String, Vec<f32>>) -> usize {
        let mut used = HashSet::new();
        for (hash, slot) in self.hashes.iter().zip(self.vectors.iter_mut()) {
            if slot.is_none()
                && let Some(v) = found.get(hash)
            {
                *slot = Some(v.clone());
                used.insert(hash.as_str());
            }
        }
        used.len()
    }

    /// The `top_k` best passages for `query`. `lang` keeps only passages in that language (the
    /// runner's, to quote them); `None` searches both. The query may be in either language.
    /// Embedding the query blocks for a few tens of milliseconds.
    /// [`KnowledgeBase::search`] for async callers: with a model, the query's embedding (ONNX
    /// inference) runs on the blocking pool, one per core at most, so the async threads keep
    /// answering everyone else. Lexical search alone is quick and runs in place.
    pub async fn search_off_runtime(self: Arc<Self>, query: String, lang: Option<Lang>, top_k: usize) -> Vec<Hit> {
        if self.embedder.is_none() {
            return self.search(&query, lang, top_k);
        }
        static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
        let slots = SLOTS
            .get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));
        let Ok(_slot) = slots.acquire().await else { return self.search(&query, lang, top_k) };
        let kb = self.clone();
        match tokio::task::spawn_blocking(move || kb.search(&query, lang, top_k)).await {
            Ok(hits) => hits,
            Err(e) => {
                tracing::warn!(error = %e, "knowledge search task failed");
                Vec::new()
            }
        }
    }

    pub fn search(&self, query: &str, lang: Option<Lang>, top_k: usize) -> Vec<Hit> {
        self.search_with(query, lang, top_k, FusionWeights::default())
    }

    /// [`KnowledgeBase::search`] with explicit fusion weights.
    #[tracing::instrument(skip_all, fields(top_k, lang = ?lang))]
    pub fn search_with(&self, query: &str, lang: Option<Lang>, top_k: usize, weights: FusionWeights) -> Vec<Hit> {
        let allowed = |l: Lang| lang.is_none_or(|want| want == l);
        let query_lang = guess_lang(query);
        // Both languages are ranked whatever `lang` says: a passage's translation vouches for it.
        let mut fused: HashMap<usize, f32> = HashMap::new();
        for (index_lang, index) in [(Lang::Fr, &self.fr), (Lang::En, &self.en)] {
            let weight =
                if query_lang.is_some_and(|q| q != index_lang) { weights.cross_lexical } else { weights.lexical };
            for (rank, (id, _)) in index.search(query).iter().enumerate() {
                *fused.entry(*id).or_default() += weight / (RRF_K + rank as f32 + 1.0);
            }
        }
        let dense = self.dense_ranking(query);
        for (rank, (id, _)) in dense.iter().enumerate() {
            *fused.entry(*id).or_default() += weights.dense / (RRF_K + rank as f32 + 1.0);
        }
        // Each passage also gets its translation's best score: the query's own language is where
        // BM25 and the embeddings match best, and the sections of a document's two versions align.
        let mut section_best: HashMap<(usize, usize, Lang), f32> = HashMap::new();
        for (&id, &score) in &fused {
            if let Some(c) = self.chunks.get(id) {
                let best = section_best.entry((self.sibling_key(c), c.section, c.lang)).or_default();
                *best = best.max(score);
            }
        }
        let mut ranked: Vec<(usize, f32)> = self
            .chunks
            .iter()
            .enumerate()
            .filter(|(_, c)| allowed(c.lang))
            .filter_map(|(id, c)| {
                let own = fused.get(&id).copied();
                let other = if c.lang == Lang::Fr { Lang::En } else { Lang::Fr };
                let sibling = section_best.get(&(self.sibling_key(c), c.section, other)).copied();
                match (own, sibling) {
                    (None, None) => None,
                    (own, sibling) => Some((id, own.unwrap_or(0.0) + weights.sibling * sibling.unwrap_or(0.0))),
                }
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(top_k)
            .filter_map(|(id, score)| {
                let c = self.chunks.get(id)?;
                let d = self.docs.get(c.doc_index)?;
                Some(Hit {
                    doc: c.doc.clone(),
                    heading: c.heading(),
                    lang: c.lang,
                    text: c.text.clone(),
                    score,
                    title: c.title.clone(),
                    sources: d.sources.clone(),
                })
            })
            .collect()
    }

    /// Documents are paired by slug across languages: the index of the first document with the
    /// chunk's slug.
    fn sibling_key(&self, c: &Chunk) -> usize {
        self.pair_keys.get(c.doc_index).copied().unwrap_or(c.doc_index)
    }

    /// Chunks by cosine similarity to the query, best first; empty without a model or vectors.
    fn dense_ranking(&self, query: &str) -> Vec<(usize, f32)> {
        let Some(embedder) = &self.embedder else { return Vec::new() };
        if self.vectors.iter().all(Option::is_none) {
            return Vec::new();
        }
        let q = match embedder.embed(&[query.to_owned()], TextKind::Query) {
            Ok(mut v) if !v.is_empty() => v.swap_remove(0),
            Ok(_) => return Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "query embedding failed: lexical results only");
                return Vec::new();
            }
        };
        let mut scored: Vec<(usize, f32)> = self
            .chunks
            .iter()
            .zip(&self.vectors)
            .enumerate()
            .filter_map(|(i, (_, v))| v.as_ref().map(|v| (i, cosine(&q, v))))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored
    }
}

/// Hex SHA-256 of a passage: the cache key (with the model id).
#[must_use]
pub fn content_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The built-in `{fr,en}/*.md`, in the same order as from a folder.
fn embedded_documents() -> Result<Vec<Document>, KbError> {
    let mut docs = Vec::new();
    for lang in Lang::ALL {
        let Some(sub) = EMBEDDED.get_dir(lang.code()) else { continue };
        let mut files: Vec<&include_dir::File<'_>> =
            sub.files().filter(|f| f.path().extension().is_some_and(|x| x == "md")).collect();
        files.sort_by_key(|f| f.path());
        for file in files {
            let path = Path::new("knowledge_base").join(file.path());
            let source = file
                .contents_utf8()
                .ok_or_else(|| KbError::FrontMatter { path: path.clone(), msg: "not UTF-8".to_owned() })?;
            let slug = file.path().file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let doc = parse_document(&slug, source, &path)?;
            if doc.lang != lang {
                return Err(KbError::FrontMatter {
                    path,
                    msg: format!("language {} in the {} folder", doc.lang, lang.code()),
                });
            }
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Reads `dir/{fr,en}/*.md` in a stable order.
fn load_documents(dir: &Path) -> Result<Vec<Document>, KbError> {
    let mut docs = Vec::new();
    for lang in Lang::ALL {
        let sub = dir.join(lang.code());
        let entries = match std::fs::read_dir(&sub) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(KbError::Io { path: sub, source }),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        paths.sort();
        for path in paths {
            let source = std::fs::read_to_string(&path).map_err(|source| KbError::Io { path: path.clone(), source })?;
            let slug = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let doc = parse_document(&slug, &source, &path)?;
            if doc.lang != lang {
                return Err(KbError::FrontMatter {
                    path,
                    msg: format!("language {} in the {} folder", doc.lang, lang.code()),
                });
            }
            docs.push(doc);
        }
    }
    if docs.is_empty() {
        return Err(KbError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no fr/*.md or en/*.md documents"),
        });
    }
    Ok(docs)
}

//! The real knowledge base for tests, lexical-only or with the real embedding model. Embedding
//! every chunk takes a minute on two cores: vectors are kept in a SQLite cache next to the model
//! (`models/multilingual-e5-small/.test-cache/`, git-ignored), so only the first run pays.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};

use runcoach_core::knowledge::{KbConfig, KnowledgeBase, ModelPaths, SearchMode};
use runcoach_core::store::SqliteStore;

pub fn kb_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge_base")
}

pub fn model_paths() -> ModelPaths {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    ModelPaths {
        model_dir: models.join("multilingual-e5-small"),
        ort_library: std::env::var_os("ORT_DYLIB_PATH")
            .map_or_else(|| models.join("onnxruntime/libonnxruntime.so"), PathBuf::from),
    }
}

/// Set to skip the vector assertions on a machine that cannot fetch the model (never in CI).
pub const SKIP_VECTORS: &str = "RUNCOACH_SKIP_VECTOR_TESTS";

/// The real model's paths. Without the model (`scripts/fetch-models` has not run) this fails with
/// the reason, unless [`SKIP_VECTORS`] is set: then `None`, after saying which assertions are
/// skipped.
pub fn present_model(skipped: &str) -> Option<ModelPaths> {
    let paths = model_paths();
    if !paths.model_dir.join("model.onnx").is_file() || !paths.ort_library.is_file() {
        let why = format!("no model in {} (run scripts/fetch-models)", paths.model_dir.display());
        assert!(
            std::env::var_os(SKIP_VECTORS).is_some_and(|v| v == "1"),
            "{skipped}: {why}; set {SKIP_VECTORS}=1 to skip the vector assertions on a machine without network"
        );
        eprintln!("SKIPPED {skipped}: {why} ({SKIP_VECTORS}=1)");
        return None;
    }
    Some(paths)
}

/// The knowledge base with the real model, fully indexed. Without the model (`scripts/fetch-models`
/// has not run) this fails with the reason, unless [`SKIP_VECTORS`] is set: then `None`, after
/// saying which assertions are skipped.
pub fn indexed_hybrid_kb(skipped: &str) -> Option<KnowledgeBase> {
    let paths = present_model(skipped)?;
    let cache_dir = paths.model_dir.join(".test-cache");
    let mut kb = KnowledgeBase::load(&KbConfig { kb_dir: Some(kb_dir()), model: paths }).unwrap();
    assert!(matches!(kb.mode(), SearchMode::Hybrid { .. }), "model present but not loaded: {:?}", kb.mode());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = std::time::Instant::now();
    let report = runtime
        .block_on(async {
            let store = SqliteStore::open_in(&cache_dir).await?;
            let report = kb.index(&store).await;
            store.close().await;
            report
        })
        .unwrap();
    eprintln!("indexed {} chunks ({} embedded) in {:.1?}", report.chunks, report.embedded, started.elapsed());
    assert_eq!(kb.status().embedded, kb.chunks().len());
    Some(kb)
}

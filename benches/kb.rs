//! Knowledge base benchmark (a bench binary, not criterion: it also times one full index and
//! reads the process's memory). Target: query p50 < 30 ms including the query embedding, on
//! 2 cores. Results: docs/models.md. Run: `cargo bench --bench kb` (needs scripts/fetch-models).
//!
//! 1. loads the documents and the model (timed, RSS after);
//! 2. indexes every passage from an empty cache (timed, peak RSS);
//! 3. runs each query of a fixed FR/EN set several times (hybrid, both languages, top 3) and
//!    prints p50/p95/max; then the same with lexical search only.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runcoach_core::knowledge::{KbConfig, KnowledgeBase, ModelPaths, SearchMode};
use runcoach_core::store::SqliteStore;

const QUERIES: &[&str] = &[
    "comment faire une séance de 30/30 ?",
    "how do I run a tempo session?",
    "j'ai mal au tibia quand je cours",
    "what should I eat before a marathon?",
    "combien de temps dure l'affûtage avant un semi ?",
    "how slow should my long run be?",
    "courir quand il fait très chaud",
    "what is the acute chronic workload ratio?",
    "reprendre la course après une pause de deux mois",
    "how do I find my max heart rate?",
    "échauffement avant une course de 10 km",
    "do strides help beginners?",
    "douleur au genou côté externe après la sortie longue",
    "how much sleep do runners need?",
    "quelle allure pour un marathon en 3h30 ?",
    "can I run with a cold?",
    "fartlek c'est quoi",
    "hill repeats for a 10k",
    "renforcement musculaire pour coureurs",
    "how many easy runs per week with the 80/20 rule?",
];
const ROUNDS: usize = 5;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn latencies(kb: &KnowledgeBase) -> Vec<Duration> {
    let mut out = Vec::with_capacity(QUERIES.len() * ROUNDS);
    for _ in 0..ROUNDS {
        for q in QUERIES {
            let started = Instant::now();
            let hits = kb.search(q, None, 3);
            out.push(started.elapsed());
            assert!(!hits.is_empty(), "no hit for {q}");
        }
    }
    out.sort();
    out
}

fn report(label: &str, sorted: &[Duration]) {
    println!(
        "{label}: {} queries, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        sorted.len(),
        percentile(sorted, 0.5).as_secs_f64() * 1e3,
        percentile(sorted, 0.95).as_secs_f64() * 1e3,
        sorted.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}

fn main() {
    // Criterion-style flags (`--bench`) may be passed by cargo: ignore them.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = root.join("models");
    let paths = ModelPaths {
        model_dir: models.join("multilingual-e5-small"),
        ort_library: std::env::var_os("ORT_DYLIB_PATH")
            .map_or_else(|| models.join("onnxruntime/libonnxruntime.so"), PathBuf::from),
    };
    if !paths.model_dir.join("model.onnx").is_file() {
        println!("kb bench skipped: no model in {} (run scripts/fetch-models)", paths.model_dir.display());
        return;
    }
    let config = KbConfig { kb_dir: Some(root.join("knowledge_base")), model: paths };
    println!("RSS at start: {} MiB", rss_kib("VmRSS:") / 1024);

    let started = Instant::now();
    let mut kb = match KnowledgeBase::load(&config) {
        Ok(kb) => kb,
        Err(e) => {
            println!("kb bench skipped: {e}");
            return;
        }
    };
    if !matches!(kb.mode(), SearchMode::Hybrid { .. }) {
        println!("kb bench skipped: model not loaded ({:?})", kb.mode());
        return;
    }
    println!(
        "load documents + BM25 + model: {:.2} s, RSS {} MiB",
        started.elapsed().as_secs_f64(),
        rss_kib("VmRSS:") / 1024
    );

    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            println!("kb bench: no runtime: {e}");
            return;
        }
    };
    let Ok(cache) = tempfile::tempdir() else { return };
    let started = Instant::now();
    let indexed = runtime.block_on(async {
        let store = SqliteStore::open_in(cache.path()).await.map_err(|e| e.to_string())?;
        kb.index(&store).await.map_err(|e| e.to_string())
    });
    match indexed {
        Ok(r) => println!(
            "full index from an empty cache: {} passages embedded in {:.1} s, RSS {} MiB, peak {} MiB",
            r.embedded,
            started.elapsed().as_secs_f64(),
            rss_kib("VmRSS:") / 1024,
            rss_kib("VmHWM:") / 1024
        ),
        Err(e) => {
            println!("kb bench: indexing failed: {e}");
            return;
        }
    }
    // Warm-up (first ONNX runs allocate).
    for q in QUERIES.iter().take(3) {
        kb.search(q, None, 3);
    }
    report("hybrid (query embedding + BM25 + fusion, FR+EN, top 3)", &latencies(&kb));
    println!("RSS with the model loaded, after the queries: {} MiB", rss_kib("VmRSS:") / 1024);

    let lexical = match KnowledgeBase::from_config(&config, None) {
        Ok(kb) => kb,
        Err(e) => {
            println!("kb bench: {e}");
            return;
        }
    };
    report("lexical only (BM25, FR+EN, top 3)", &latencies(&lexical));
}

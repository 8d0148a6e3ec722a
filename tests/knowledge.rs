//! The knowledge base: chunking of the real documents, BM25 in French and English, cross-language
//! hybrid search with the real model (when `models/` holds it: `scripts/fetch-models`), the
//! embedding cache on both stores, and the lexical-only fallback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use runcoach_core::i18n::Lang;
use runcoach_core::knowledge::{
    Embedder, KbConfig, KbError, KnowledgeBase, MAX_CHUNK_CHARS, ModelPaths, SearchMode, TextKind, fold_accents,
};
use support::TestStore;
use support::kb::kb_dir;

fn lexical_kb() -> KnowledgeBase {
    KnowledgeBase::with_embedder(&kb_dir(), None).unwrap()
}

/// The real knowledge base with the real model, embedded once per test binary.
fn hybrid_kb() -> Option<&'static KnowledgeBase> {
    static KB: OnceLock<Option<KnowledgeBase>> = OnceLock::new();
    KB.get_or_init(|| support::kb::indexed_hybrid_kb("vector assertions")).as_ref()
}

fn top_doc(kb: &KnowledgeBase, query: &str, lang: Option<Lang>) -> String {
    kb.search(query, lang, 5).first().map(|h| h.doc.clone()).unwrap_or_default()
}

#[test]
fn chunking_keeps_documents_heading_paths_and_language() {
    let kb = lexical_kb();
    assert_eq!(kb.documents().len(), 46);
    for lang in Lang::ALL {
        assert_eq!(kb.documents().iter().filter(|d| d.lang == lang).count(), 23);
    }
    let chunks = kb.chunks();
    assert!(chunks.len() > 2 * 23 * 4, "{} chunks", chunks.len());
    for c in chunks {
        let doc = &kb.documents()[c.doc_index];
        assert_eq!((c.doc.as_str(), c.lang, c.title.as_str()), (doc.slug.as_str(), doc.lang, doc.title.as_str()));
        assert!(c.text.chars().count() <= MAX_CHUNK_CHARS, "{} > {}: too long", c.doc, c.heading());
        assert!(!c.text.trim().is_empty());
        assert!(!c.text.contains("\n## "), "a chunk holds one section: {} {}", c.doc, c.heading());
    }
    let shin = chunks
        .iter()
        .find(|c| c.lang == Lang::En && c.doc == "injuries" && c.heading().starts_with("Shin splints"))
        .expect("the shin splints section");
    assert_eq!(shin.heading_path.len(), 1);
    assert!(shin.text.contains("medial tibial stress syndrome"));
    let fr_taper = chunks.iter().filter(|c| c.lang == Lang::Fr && c.doc == "tapering").collect::<Vec<_>>();
    assert!(fr_taper.iter().any(|c| c.heading() == "Combien de temps dure l'affûtage selon la distance"));
    assert!(fr_taper.iter().all(|c| c.topic.as_deref() == Some("racing") && c.tags.contains(&"affûtage".to_owned())));
}

#[test]
fn bm25_finds_the_right_document_in_french_and_english() {
    let kb = lexical_kb();
    let probes: &[(&str, Lang, &str)] = &[
        ("j'ai mal au tibia", Lang::Fr, "injuries"),
        ("combien de temps dure l'affûtage avant un marathon", Lang::Fr, "tapering"),
        ("périostite tibiale", Lang::Fr, "injuries"),
        ("how long should I taper for a marathon", Lang::En, "tapering"),
        ("shin splints", Lang::En, "injuries"),
        ("acute chronic workload ratio", Lang::En, "training-load-and-acwr"),
    ];
    for (query, lang, want) in probes {
        let hits = kb.search(query, Some(*lang), 3);
        assert_eq!(hits.first().map(|h| h.doc.as_str()), Some(*want), "{query:?} → {hits:#?}");
        assert!(hits.iter().all(|h| h.lang == *lang));
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "best first");
    }
    let hit = &kb.search("shin splints", Some(Lang::En), 1)[0];
    assert!(!hit.sources.is_empty() && !hit.title.is_empty() && hit.heading.contains("Shin splints"), "{hit:?}");
    let json = serde_json::to_string(&hit.brief()).unwrap();
    let keys: Vec<usize> = ["\"doc\"", "\"heading\"", "\"lang\":\"en\"", "\"text\"", "\"score\""]
        .iter()
        .map(|k| json.find(k).unwrap_or_else(|| panic!("{k} missing in {json}")))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "CLI JSON order doc, heading, lang, text, score: {json}");
    assert!(kb.search("xyzzy plugh", None, 5).is_empty(), "no match, no hit");
    assert_eq!(fold_accents("Fractionné à VMA"), "Fractionne a VMA");
}

#[test]
fn missing_model_runs_lexical_only_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = KbConfig {
        kb_dir: Some(kb_dir()),
        model: ModelPaths { model_dir: dir.path().join("none"), ort_library: dir.path().join("libonnxruntime.so") },
    };
    let kb = KnowledgeBase::load(&config).unwrap();
    let SearchMode::Lexical { reason } = kb.mode() else { panic!("expected lexical mode, got {:?}", kb.mode()) };
    assert!(reason.contains("ONNX Runtime"), "{reason}");
    let status = kb.status();
    assert!(status.describe(Lang::En).contains("lexical search only"), "{}", status.describe(Lang::En));
    assert!(status.describe(Lang::Fr).contains("recherche lexicale seulement"));
    assert_eq!(status.embedded, 0);
    assert_eq!(top_doc(&kb, "how long should I taper for a marathon", Some(Lang::En)), "tapering");
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["mode"], "lexical");
}

/// Cross-language probes: (query, passages' language, acceptable documents).
const CROSS_PROBES: &[(&str, Lang, &[&str])] = &[
    ("j'ai mal au tibia", Lang::En, &["injuries"]),
    ("combien de semaines d'affûtage avant un marathon", Lang::En, &["tapering"]),
    ("que manger et boire pendant un marathon", Lang::En, &["nutrition-and-hydration", "race-day-strategy"]),
    ("je dors mal, est-ce que ça nuit à ma récupération", Lang::En, &["sleep-and-recovery"]),
    ("courir quand il fait très chaud", Lang::En, &["heat-and-cold"]),
    ("j'ai de la fièvre, est-ce que je peux aller courir", Lang::En, &["illness-neck-check"]),
    ("how long should I taper for a marathon", Lang::Fr, &["tapering"]),
    ("my shin hurts when I run", Lang::Fr, &["injuries"]),
    ("how many hours of sleep do runners need", Lang::Fr, &["sleep-and-recovery"]),
    ("what is the acute to chronic workload ratio", Lang::Fr, &["training-load-and-acwr"]),
    ("strength exercises for runners", Lang::Fr, &["strength-and-mobility"]),
    ("getting back to running after a long break", Lang::Fr, &["returning-after-a-break"]),
    ("qu'est-ce que le fartlek", Lang::En, &["hills-fartlek-strides"]),
    ("séance au seuil", Lang::En, &["tempo-and-threshold"]),
    ("échauffement avant une course", Lang::En, &["warm-up-and-cool-down", "race-day-strategy"]),
    ("je débute la course à pied", Lang::En, &["beginners"]),
    ("what pace should my long run be", Lang::Fr, &["long-run"]),
    ("interval training at VO2max pace", Lang::Fr, &["vma-intervals"]),
    ("training plan for a 10k", Lang::Fr, &["plan-5k-10k"]),
    // "cold" is ambiguous (weather or illness): the model ranks heat-and-cold first.
    ("should I run with a cold", Lang::Fr, &["illness-neck-check"]),
    ("sortie longue allure", Lang::Fr, &["long-run"]),
    ("fartlek and hill repeats", Lang::En, &["hills-fartlek-strides"]),
];

/// Same-language probes, to check the fusion doesn't lose what BM25 alone finds.
const SAME_PROBES: &[(&str, Lang, &[&str])] = &[
    ("j'ai mal au tibia", Lang::Fr, &["injuries"]),
    ("combien de temps dure l'affûtage avant un marathon", Lang::Fr, &["tapering"]),
    ("how long should I taper for a marathon", Lang::En, &["tapering"]),
    ("shin splints", Lang::En, &["injuries"]),
    ("comment mesurer ma VMA", Lang::Fr, &["heart-rate-zones-and-vma-tests"]),
    ("what pace for an easy run", Lang::En, &["easy-and-recovery-runs"]),
];

/// Top-1 hits of probes, printed; returns how many were right.
fn run_probes(kb: &KnowledgeBase, probes: &[(&str, Lang, &[&str])]) -> usize {
    let mut right = 0;
    for (query, lang, want) in probes {
        let got = top_doc(kb, query, Some(*lang));
        let ok = want.contains(&got.as_str());
        right += usize::from(ok);
        eprintln!("{} {query:?} [{lang}] → {got}", if ok { "ok  " } else { "MISS" });
    }
    right
}

#[test]
fn a_question_in_one_language_finds_passages_in_the_other() {
    let Some(kb) = hybrid_kb() else { return };
    let cross = run_probes(kb, CROSS_PROBES);
    let same = run_probes(kb, SAME_PROBES);
    eprintln!("top-1: cross-language {cross}/{}, same language {same}/{}", CROSS_PROBES.len(), SAME_PROBES.len());

    let shin = kb.search("j'ai mal au tibia", Some(Lang::En), 3);
    assert_eq!(shin[0].doc, "injuries", "{shin:#?}");
    assert_eq!(shin[0].lang, Lang::En);
    assert!(shin.iter().any(|h| h.heading.starts_with("Shin splints")), "{shin:#?}");
    let taper = kb.search("how long should I taper for a marathon", Some(Lang::Fr), 3);
    assert_eq!(taper[0].doc, "tapering", "{taper:#?}");
    assert_eq!(taper[0].lang, Lang::Fr);
    assert!(cross + 1 >= CROSS_PROBES.len(), "cross-language top-1 {cross}/{}", CROSS_PROBES.len());
    assert_eq!(same, SAME_PROBES.len(), "same-language top-1");
}

#[test]
fn hybrid_search_over_both_languages_keeps_same_language_hits() {
    let Some(kb) = hybrid_kb() else { return };
    let hits = kb.search("j'ai mal au tibia quand je cours", None, 4);
    assert!(hits.iter().take(2).all(|h| h.doc == "injuries"), "{hits:#?}");
    assert!(hits.iter().any(|h| h.lang == Lang::Fr), "{hits:#?}");
    assert!(kb.status().embedded == kb.chunks().len());
}

/// A deterministic toy embedder: hashed bag of words (no model needed).
struct ToyEmbedder;

impl Embedder for ToyEmbedder {
    fn model_id(&self) -> &str {
        "toy-v1"
    }

    fn embed(&self, texts: &[String], _kind: TextKind) -> Result<Vec<Vec<f32>>, KbError> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.0f32; 64];
                for w in t.split_whitespace() {
                    let h = w.bytes().fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
                    v[h % 64] += 1.0;
                }
                v
            })
            .collect())
    }
}

/// Counts the texts that reach the wrapped embedder.
struct Counting<E> {
    inner: E,
    texts: AtomicUsize,
}

impl<E: Embedder> Embedder for Counting<E> {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn embed(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>, KbError> {
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        self.inner.embed(texts, kind)
    }
}

fn copy_docs(to: &Path, docs: &[&str]) {
    for rel in docs {
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(kb_dir().join(rel), dest).unwrap();
    }
}

async fn cache_embeds_only_what_changed(t: TestStore) {
    let store = t.store.as_ref();
    let dir = tempfile::tempdir().unwrap();
    copy_docs(dir.path(), &["en/tapering.md", "fr/tapering.md", "en/injuries.md"]);
    let counter = Arc::new(Counting { inner: ToyEmbedder, texts: AtomicUsize::new(0) });
    let open = || KnowledgeBase::with_embedder(dir.path(), Some(counter.clone() as Arc<dyn Embedder>)).unwrap();

    let mut kb = open();
    let n = kb.chunks().len();
    let first = kb.index(store).await.unwrap();
    assert_eq!((first.chunks, first.cached, first.embedded), (n, 0, n));
    assert_eq!(counter.texts.load(Ordering::SeqCst), n);
    assert_eq!(kb.status().embedded, n);

    // A restart: everything comes from the cache.
    let mut kb = open();
    let again = kb.index(store).await.unwrap();
    assert_eq!((again.cached, again.embedded), (n, 0));
    assert_eq!(counter.texts.load(Ordering::SeqCst), n, "a restart embeds nothing");
    assert_eq!(kb.status().embedded, n);

    // One section edited: one chunk re-embedded.
    let path = dir.path().join("en/injuries.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("Most running injuries come from", "Most running injuries (by far) come from", 1);
    assert_ne!(text, edited);
    std::fs::write(&path, edited).unwrap();
    let mut kb = open();
    let after = kb.index(store).await.unwrap();
    assert_eq!((after.cached, after.embedded), (n - 1, 1));
    assert_eq!(counter.texts.load(Ordering::SeqCst), n + 1);

    // Vectors are per model: another model id embeds everything again.
    struct Other;
    impl Embedder for Other {
        fn model_id(&self) -> &str {
            "toy-v2"
        }
        fn embed(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>, KbError> {
            ToyEmbedder.embed(texts, kind)
        }
    }
    let mut kb = KnowledgeBase::with_embedder(dir.path(), Some(Arc::new(Other))).unwrap();
    assert_eq!(kb.index(store).await.unwrap().embedded, n);
}

async fn embeddings_round_trip_in_the_store(t: TestStore) {
    let store = t.store.as_ref();
    let items = vec![("h1".to_owned(), vec![0.5f32, -1.25, 3.0]), ("h2".to_owned(), vec![1.0f32; 384])];
    store.put_embeddings("m", &items).await.unwrap();
    let mut got = store.cached_embeddings("m", &["h1".into(), "h2".into(), "h3".into()]).await.unwrap();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, items);
    assert!(store.cached_embeddings("other", &["h1".into()]).await.unwrap().is_empty());
    assert!(store.cached_embeddings("m", &[]).await.unwrap().is_empty());
    // Replacing a vector keeps one row.
    store.put_embeddings("m", &[("h1".to_owned(), vec![9.0])]).await.unwrap();
    assert_eq!(store.cached_embeddings("m", &["h1".into()]).await.unwrap(), vec![("h1".to_owned(), vec![9.0])]);
    // More hashes than one IN list holds.
    let many: Vec<(String, Vec<f32>)> = (0..1200).map(|i| (format!("k{i}"), vec![i as f32])).collect();
    store.put_embeddings("m", &many).await.unwrap();
    let keys: Vec<String> = many.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(store.cached_embeddings("m", &keys).await.unwrap().len(), 1200);
}

/// One-shot commands (`ask`, `kb search`): nothing is embedded, and the real model is loaded only
/// when some of its vectors are cached.
async fn one_shot_loading_embeds_nothing_and_needs_cached_vectors(t: TestStore) {
    let Some(model) = support::kb::present_model("one-shot loading with the model") else { return };
    let store = t.store.as_ref();
    let dir = tempfile::tempdir().unwrap();
    copy_docs(dir.path(), &["en/tapering.md", "fr/tapering.md", "en/injuries.md", "fr/injuries.md"]);
    let config = KbConfig { kb_dir: Some(dir.path().to_path_buf()), model: model.clone() };

    // A fresh store: lexical search, no model, and the status says how to index.
    let kb = KnowledgeBase::load_cached_only(&config, store).await.unwrap();
    let SearchMode::Lexical { reason } = kb.mode() else { panic!("expected lexical mode, got {:?}", kb.mode()) };
    assert!(reason.contains("kb index"), "{reason}");
    assert_eq!(kb.status().embedded, 0);
    assert_eq!(top_doc(&kb, "combien de semaines d'affûtage avant un marathon", Some(Lang::Fr)), "tapering");

    // The English half indexed by `kb index` (another base over the same cache).
    let half = tempfile::tempdir().unwrap();
    copy_docs(half.path(), &["en/tapering.md", "en/injuries.md"]);
    let mut indexer = KnowledgeBase::load(&KbConfig { kb_dir: Some(half.path().to_path_buf()), model }).unwrap();
    let indexed = indexer.index(store).await.unwrap();
    assert!(indexed.embedded > 0);

    // Now the model is loaded, with exactly the cached vectors: the French half stays unembedded.
    let kb = KnowledgeBase::load_cached_only(&config, store).await.unwrap();
    assert!(matches!(kb.mode(), SearchMode::Hybrid { .. }), "{:?}", kb.mode());
    let english = kb.chunks().iter().filter(|c| c.lang == Lang::En).count();
    assert_eq!(kb.status().embedded, english);
    assert_eq!(indexed.chunks, english);
    assert!(kb.chunks().len() > english);
    assert_eq!(top_doc(&kb, "my shin hurts when I run", Some(Lang::En)), "injuries");
}

on_both_stores!(
    cache_embeds_only_what_changed,
    embeddings_round_trip_in_the_store,
    one_shot_loading_embeds_nothing_and_needs_cached_vectors
);

//! Retrieval evaluation of the knowledge base: runners' questions in French and English, each
//! with the document(s) whose passages should answer it. Every question searches both languages
//! (`search(q, None, 3)`); a question is found when one of the top 3 hits comes from an expected
//! document. Reports recall@3 and MRR (lexical-only always, hybrid when `models/` holds the model)
//! and the query latency. The shipped (hybrid) search must keep recall@3 ≥ 0.9; the lexical-only
//! fallback (no model files) is held to a lower regression floor, measured at 0.85 today.
//! Figures are recorded in `docs/models.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::time::{Duration, Instant};

use runcoach_core::i18n::Lang;
mod support;

use runcoach_core::knowledge::{KnowledgeBase, SearchMode};
use support::kb::kb_dir;

/// The bar from the issue, for the search we ship (hybrid).
const MIN_RECALL_AT_3: f64 = 0.9;
/// The lexical-only fallback's regression floor (it measured 46/54 = 0.852 when this was written).
const MIN_LEXICAL_RECALL_AT_3: f64 = 0.85;
const TOP_K: usize = 3;

/// One question of the set.
struct Case {
    /// The language the question is written in.
    lang: Lang,
    query: &'static str,
    /// Documents (slugs) with a passage that answers it; any of them counts. A second or third
    /// document is listed only when it has such a passage (e.g. the 5K/10K and half-marathon plans
    /// also state how fast to raise weekly volume), never to rescue a miss.
    docs: &'static [&'static str],
}

const fn fr(query: &'static str, docs: &'static [&'static str]) -> Case {
    Case { lang: Lang::Fr, query, docs }
}

const fn en(query: &'static str, docs: &'static [&'static str]) -> Case {
    Case { lang: Lang::En, query, docs }
}

/// The evaluation set: phrased as runners type them, not as the headings read.
const CASES: &[Case] = &[
    // English.
    en("the outside of my knee hurts after about 5 miles", &["injuries"]),
    en("pain under my heel first thing in the morning", &["injuries"]),
    en("is it ok to run with a runny nose", &["illness-neck-check"]),
    en("how many weeks before my marathon should I start cutting mileage", &["tapering"]),
    en("what should I eat before a morning run", &["nutrition-and-hydration"]),
    en("how many gels per hour during a marathon", &["nutrition-and-hydration", "race-day-strategy", "long-run"]),
    en("how do I find my max heart rate", &["heart-rate-zones-and-vma-tests"]),
    en("I took a month off, how do I start running again", &["returning-after-a-break"]),
    en("how far should my longest run be before a marathon", &["plan-marathon", "long-run"]),
    en("should I start fast or run even splits in a race", &["race-day-strategy"]),
    en("exercises to make my legs stronger for running", &["strength-and-mobility"]),
    en("my easy runs feel way too slow, is that normal", &["easy-and-recovery-runs"]),
    en("how much can I increase my weekly mileage", &["training-principles", "plan-5k-10k", "plan-half-marathon"]),
    en("good warm up routine before a speed workout", &["warm-up-and-cool-down"]),
    en("running in winter when the cold air makes me cough", &["heat-and-cold"]),
    en("I've never run before, where do I start", &["beginners"]),
    en("what are strides and when do I do them", &["hills-fartlek-strides"]),
    en("how fast should a threshold run be", &["tempo-and-threshold"]),
    en("signs that I'm overtraining", &["sleep-and-recovery"]),
    en("what does the training load number on my watch mean", &["training-load-and-acwr"]),
    en("how many runs a week to train for a 10k", &["plan-5k-10k"]),
    en("half marathon training for a first timer", &["plan-half-marathon"]),
    en("workouts at goal pace for a half marathon", &["race-pace-sessions"]),
    en("how many 400m repeats should I do", &["vma-intervals"]),
    // Cross-language: French running words in an English question.
    en("what is a 30/30 VMA session", &["vma-intervals"]),
    en("how do I do a demi-Cooper test", &["heart-rate-zones-and-vma-tests"]),
    // French.
    fr("j'ai mal sous le talon le matin au réveil", &["injuries"]),
    fr("douleur sur le côté du genou en courant", &["injuries"]),
    fr("j'ai le nez qui coule, je peux aller courir ?", &["illness-neck-check"]),
    fr("j'ai eu le covid, quand est-ce que je peux reprendre", &["illness-neck-check"]),
    fr("combien d'heures faut-il dormir quand on s'entraîne beaucoup", &["sleep-and-recovery"]),
    fr("quoi manger après une séance difficile", &["nutrition-and-hydration"]),
    fr("faut-il boire beaucoup d'eau pendant une course longue", &["nutrition-and-hydration", "race-day-strategy"]),
    fr("comment calculer mes zones cardio", &["heart-rate-zones-and-vma-tests"]),
    fr("faire du 30/30 pour améliorer ma VMA", &["vma-intervals"]),
    fr("à quelle allure faire mes footings", &["easy-and-recovery-runs"]),
    fr("combien de kilomètres par semaine pour préparer un semi", &["plan-half-marathon"]),
    fr("je veux courir un marathon dans un mois sans jamais avoir couru", &["plan-marathon", "beginners"]),
    fr("faire des côtes pour progresser", &["hills-fartlek-strides"]),
    fr("gainage et renforcement musculaire pour coureur", &["strength-and-mobility"]),
    fr("reprendre la course après trois semaines d'arrêt", &["returning-after-a-break"]),
    fr("je commence à courir à 40 ans, par quoi commencer", &["beginners"]),
    fr("courir l'été quand il fait plus de 30 degrés", &["heat-and-cold"]),
    fr("j'ai les jambes lourdes pendant l'affûtage, c'est normal ?", &["tapering"]),
    fr("partir vite ou garder une allure régulière le jour de la course", &["race-day-strategy"]),
    fr(
        "de combien augmenter son kilométrage chaque semaine",
        &["training-principles", "plan-5k-10k", "plan-half-marathon"],
    ),
    fr("ratio entre charge aiguë et charge chronique", &["training-load-and-acwr"]),
    fr("séances à allure objectif pour un 10 km", &["race-pace-sessions"]),
    fr("pourquoi courir lentement la plupart du temps", &["training-principles", "easy-and-recovery-runs"]),
    fr("combien de temps doit durer ma sortie longue", &["long-run"]),
    fr("est-ce que je dois m'étirer après avoir couru", &["strength-and-mobility", "warm-up-and-cool-down"]),
    fr("à quelle vitesse courir au seuil", &["tempo-and-threshold"]),
    // Cross-language: English running words in a French question.
    fr("c'est quoi le tapering", &["tapering"]),
    fr("mon ACWR est trop haut, je risque de me blesser ?", &["training-load-and-acwr"]),
];

fn hybrid_kb() -> Option<KnowledgeBase> {
    support::kb::indexed_hybrid_kb("hybrid evaluation")
}

/// The rank (1-based) of the first hit from an expected document, if any.
fn first_rank(kb: &KnowledgeBase, case: &Case, lang: Option<Lang>) -> Option<usize> {
    kb.search(case.query, lang, TOP_K).iter().position(|h| case.docs.contains(&h.doc.as_str())).map(|i| i + 1)
}

struct Scores {
    recall_at_3: f64,
    mrr: f64,
    /// recall@3 with passages restricted to the other language than the question's.
    cross_recall_at_3: f64,
    latencies: Vec<Duration>,
}

fn evaluate(kb: &KnowledgeBase, label: &str) -> Scores {
    let mut found = 0usize;
    // Questions found, per question language: [French, English].
    let mut found_by_lang = [0usize; 2];
    let mut cross_found = 0usize;
    let mut reciprocal = 0.0f64;
    let mut latencies = Vec::with_capacity(CASES.len());
    for case in CASES {
        let started = Instant::now();
        let hits = kb.search(case.query, None, TOP_K);
        latencies.push(started.elapsed());
        let rank = hits.iter().position(|h| case.docs.contains(&h.doc.as_str())).map(|i| i + 1);
        if let Some(rank) = rank {
            found += 1;
            found_by_lang[usize::from(case.lang == Lang::En)] += 1;
            reciprocal += 1.0 / rank as f64;
        } else {
            let got: Vec<String> = hits.iter().map(|h| format!("{} [{}] {}", h.doc, h.lang, h.heading)).collect();
            eprintln!("{label} MISS [{}] {:?} want {:?}, got {got:#?}", case.lang, case.query, case.docs);
        }
        let other = if case.lang == Lang::Fr { Lang::En } else { Lang::Fr };
        if first_rank(kb, case, Some(other)).is_some() {
            cross_found += 1;
        } else {
            eprintln!("{label} cross-language miss [{} → {other}] {:?}", case.lang, case.query);
        }
    }
    let n = CASES.len() as f64;
    let scores = Scores {
        recall_at_3: found as f64 / n,
        mrr: reciprocal / n,
        cross_recall_at_3: cross_found as f64 / n,
        latencies,
    };
    eprintln!(
        "{label}: {} questions, recall@3 {:.3} ({found}/{}), MRR {:.3}, cross-language recall@3 {:.3} ({cross_found}/{})",
        CASES.len(),
        scores.recall_at_3,
        CASES.len(),
        scores.mrr,
        scores.cross_recall_at_3,
        CASES.len(),
    );
    for (i, lang) in [Lang::Fr, Lang::En].into_iter().enumerate() {
        let total = CASES.iter().filter(|c| c.lang == lang).count();
        eprintln!("{label}: questions in {lang}: {}/{total} found in the top {TOP_K}", found_by_lang[i]);
    }
    scores
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report_latency(label: &str, latencies: &[Duration]) {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    eprintln!(
        "{label} latency over {} queries (top {TOP_K}, both languages): p50 {:.1?}, p95 {:.1?}, max {:.1?}",
        sorted.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.95),
        sorted[sorted.len() - 1],
    );
}

#[test]
fn the_evaluation_set_is_big_enough_and_points_at_real_documents() {
    let kb = KnowledgeBase::with_embedder(&kb_dir(), None).unwrap();
    for lang in Lang::ALL {
        let n = CASES.iter().filter(|c| c.lang == lang).count();
        assert!(n >= 22, "{n} questions in {lang}");
    }
    for case in CASES {
        assert!(!case.docs.is_empty(), "{:?}", case.query);
        for doc in case.docs {
            assert!(kb.documents().iter().any(|d| d.slug == *doc), "unknown document {doc:?} for {:?}", case.query);
        }
    }
}

/// One test, so the latency isn't measured while another test searches on the other core.
#[test]
fn recall_at_3_and_mrr_in_lexical_and_hybrid_modes() {
    let lexical = KnowledgeBase::with_embedder(&kb_dir(), None).unwrap();
    assert!(matches!(lexical.status().mode, SearchMode::Lexical { .. }), "{:?}", lexical.status().mode);
    let lexical_scores = evaluate(&lexical, "lexical");
    let hybrid = hybrid_kb();
    let hybrid_scores = hybrid.as_ref().map(|kb| evaluate(kb, "hybrid"));
    report_latency("lexical", &lexical_scores.latencies);
    if let Some(scores) = &hybrid_scores {
        report_latency("hybrid", &scores.latencies);
    }
    assert!(
        lexical_scores.recall_at_3 >= MIN_LEXICAL_RECALL_AT_3,
        "lexical recall@3 {:.3} < {MIN_LEXICAL_RECALL_AT_3}",
        lexical_scores.recall_at_3
    );
    if let Some(scores) = hybrid_scores {
        assert!(scores.recall_at_3 >= MIN_RECALL_AT_3, "hybrid recall@3 {:.3} < {MIN_RECALL_AT_3}", scores.recall_at_3);
    }
}

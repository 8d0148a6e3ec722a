//! The lexical half of the search: BM25 (the `bm25` crate's scorer) over one index per language,
//! with a French or English analyser: lowercase, stop words dropped, Snowball stems, accents
//! folded (so `affûtage`, `affutage` and `affûter` meet).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bm25::{Embedder as Bm25Embedder, EmbedderBuilder, Scorer, Tokenizer};
use rust_stemmers::{Algorithm, Stemmer};

use crate::i18n::Lang;

/// Splits, normalises and stems text of one language.
pub struct Analyzer {
    lang: Lang,
    stemmer: Stemmer,
    /// Term of each word seen (`None`: dropped). Indexing reads every passage twice in each
    /// language, and the knowledge base's vocabulary is a few percent of its words: stemming
    /// each word once halves a start-up (docs/benchmarks.md).
    terms: Arc<Mutex<HashMap<String, Option<String>>>>,
}

/// Words remembered at most: queries add words, and strangers can type anything.
const MAX_REMEMBERED_WORDS: usize = 100_000;

impl Analyzer {
    #[must_use]
    pub fn new(lang: Lang) -> Self {
        let algorithm = match lang {
            Lang::Fr => Algorithm::French,
            Lang::En => Algorithm::English,
        };
        Analyzer { lang, stemmer: Stemmer::create(algorithm), terms: Arc::default() }
    }

    /// The index terms of `text`.
    #[must_use]
    pub fn terms(&self, text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        // A poisoned lock only means another thread panicked mid-insert: the map is still whole.
        let mut known = self.terms.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Elided articles (l', d', j', qu') split off at the apostrophe like any other separator.
        lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .filter_map(|word| {
                if let Some(term) = known.get(word) {
                    return term.clone();
                }
                let term = self.term(word);
                if known.len() < MAX_REMEMBERED_WORDS {
                    known.insert(word.to_owned(), term.clone());
                }
                term
            })
            .collect()
    }

    /// The index term of one lowercase word, `None` when it is dropped.
    fn term(&self, word: &str) -> Option<String> {
        let folded = fold_accents(word);
        if folded.chars().count() < 2 && !folded.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        if self.is_stop_word(&folded) {
            return None;
        }
        if word.chars().any(|c| c.is_ascii_digit()) {
            return Some(folded);
        }
        // Snowball's French rules read accents, so stem first and fold after.
        Some(fold_accents(&self.stemmer.stem(word)))
    }

    fn is_stop_word(&self, folded: &str) -> bool {
        let list = match self.lang {
            Lang::Fr => FRENCH_STOP_WORDS,
            Lang::En => ENGLISH_STOP_WORDS,
        };
        list.binary_search(&folded).is_ok()
    }
}

impl Tokenizer for Analyzer {
    fn tokenize(&self, input_text: &str) -> Vec<String> {
        self.terms(input_text)
    }
}

/// The language a short text is most likely in, from its stop words and French accents; `None`
/// when nothing tells (a bare "VMA 10 km").
#[must_use]
pub fn guess_lang(text: &str) -> Option<Lang> {
    let lower = text.to_lowercase();
    let (mut fr, mut en) = (0usize, 0usize);
    for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let folded = fold_accents(word);
        fr += usize::from(FRENCH_STOP_WORDS.binary_search(&folded.as_str()).is_ok());
        en += usize::from(ENGLISH_STOP_WORDS.binary_search(&folded.as_str()).is_ok());
        fr += usize::from(word.chars().any(|c| "éèêàùûôîïçœ".contains(c)));
    }
    match fr.cmp(&en) {
        std::cmp::Ordering::Greater => Some(Lang::Fr),
        std::cmp::Ordering::Less => Some(Lang::En),
        std::cmp::Ordering::Equal => None,
    }
}

/// Lowercase Latin letters with their accents removed (French and the usual borrowings).
#[must_use]
pub fn fold_accents(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            other => out.push(other),
        }
    }
    out
}

/// BM25 over the chunks of one language.
pub struct LexicalIndex {
    embedder: Bm25Embedder<u32, Analyzer>,
    scorer: Scorer<usize, u32>,
}

impl LexicalIndex {
    /// Indexes `(chunk id, text)` pairs.
    #[must_use]
    pub fn build(lang: Lang, docs: &[(usize, String)]) -> Self {
        let corpus: Vec<&str> = docs.iter().map(|(_, text)| text.as_str()).collect();
        let analyzer = Analyzer::new(lang);
        let words = analyzer.terms.clone();
        let embedder = EmbedderBuilder::<u32, Analyzer>::with_tokenizer_and_fit_to_corpus(analyzer, &corpus).build();
        let mut scorer = Scorer::new();
        for (id, text) in docs {
            scorer.upsert(id, embedder.embed(text));
        }
        // The passages' words served their purpose (a few MB a service need not keep): queries
        // start with an empty memory.
        *words.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = HashMap::new();
        LexicalIndex { embedder, scorer }
    }

    /// Chunk ids with a positive BM25 score for `query`, best first.
    #[must_use]
    pub fn search(&self, query: &str) -> Vec<(usize, f32)> {
        let embedding = self.embedder.embed(query);
        self.scorer.matches(&embedding).into_iter().map(|m| (m.id, m.score)).collect()
    }
}

/// Sorted (for binary search), accents folded.
const FRENCH_STOP_WORDS: &[&str] = &[
    "ai", "aie", "ainsi", "alors", "as", "au", "aucun", "aussi", "autre", "aux", "avec", "avez", "avoir", "avons",
    "bien", "ca", "car", "ce", "ceci", "cela", "celle", "celui", "ces", "cet", "cette", "chaque", "chez", "comme",
    "comment", "dans", "de", "des", "deux", "dois", "doit", "donc", "du", "elle", "elles", "en", "encore", "entre",
    "es", "est", "et", "etaient", "etait", "ete", "etes", "etre", "eu", "faire", "fais", "fait", "faut", "il", "ils",
    "je", "la", "le", "les", "leur", "leurs", "lors", "lui", "ma", "mais", "me", "meme", "mes", "moi", "mon", "ne",
    "ni", "nos", "notre", "nous", "on", "ont", "ou", "par", "pas", "peu", "peut", "peux", "plus", "pour", "pourquoi",
    "qu", "quand", "que", "quel", "quelle", "quelles", "quels", "qui", "quoi", "sa", "sans", "se", "sera", "ses", "si",
    "son", "sont", "sous", "suis", "sur", "ta", "te", "tes", "toi", "ton", "tous", "tout", "toute", "toutes", "tres",
    "tu", "un", "une", "vers", "vos", "votre", "vous",
];

/// Sorted (for binary search).
const ENGLISH_STOP_WORDS: &[&str] = &[
    "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being",
    "but", "by", "can", "could", "did", "do", "does", "doing", "during", "each", "for", "from", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "if", "in", "into", "is", "it", "its", "just", "me",
    "might", "more", "most", "must", "my", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "our",
    "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your", "yours",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_word_lists_are_sorted() {
        assert!(FRENCH_STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(ENGLISH_STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn french_terms_are_folded_and_stemmed() {
        let a = Analyzer::new(Lang::Fr);
        assert_eq!(a.terms("J'ai mal au tibia"), vec!["mal", "tibi"]);
        assert_eq!(a.terms("l'affûtage"), a.terms("affutage"));
        assert_eq!(a.terms("Affûtages"), a.terms("affûtage"));
        assert_eq!(a.terms("10 km"), vec!["10", "km"]);
    }

    #[test]
    fn english_terms_are_stemmed() {
        let a = Analyzer::new(Lang::En);
        assert_eq!(a.terms("How long should I taper?"), vec!["long", "taper"]);
        assert_eq!(a.terms("tapering"), a.terms("taper"));
    }

    #[test]
    fn guesses_the_language_of_questions() {
        assert_eq!(guess_lang("j'ai mal au tibia"), Some(Lang::Fr));
        assert_eq!(guess_lang("combien de temps dure l'affûtage"), Some(Lang::Fr));
        assert_eq!(guess_lang("how long should I taper for a marathon"), Some(Lang::En));
        assert_eq!(guess_lang("VMA 10 km"), None);
    }

    #[test]
    fn bm25_ranks_the_matching_text_first() {
        let docs = vec![
            (0, "Shin splints hurt along the tibia".to_owned()),
            (1, "Tapering before a marathon lasts two to three weeks".to_owned()),
            (2, "Sleep helps recovery".to_owned()),
        ];
        let index = LexicalIndex::build(Lang::En, &docs);
        let hits = index.search("how long to taper for my marathon");
        assert_eq!(hits.first().map(|h| h.0), Some(1));
        assert!(index.search("zebra").is_empty());
    }
}

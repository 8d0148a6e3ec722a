//! Bilingual (French / English) text carried by results so the chat layer can
//! answer in the user's language without re-deriving the reasoning.

use crate::i18n::Lang;
use serde::{Deserialize, Serialize};

/// A message in both supported languages.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bilingual {
    pub fr: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self { fr: fr.into(), en: en.into() }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        }
    }

    /// Joins two messages with a space, language by language.
    pub fn join(&self, other: &Bilingual) -> Bilingual {
        Bilingual { fr: join_str(&self.fr, &other.fr), en: join_str(&self.en, &other.en) }
    }
}

fn join_str(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a} {b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_join() {
        let a = Bilingual::new("un", "one");
        let b = Bilingual::new("deux", "two");
        assert_eq!(a.get(Lang::Fr), "un");
        assert_eq!(a.get(Lang::En), "one");
        assert_eq!(a.join(&b).en, "one two");
        assert_eq!(Bilingual::default().join(&b).fr, "deux");
    }
}

//! The deterministic coach: answers free text without an LLM (the embedded default, and the
//! fallback when an LLM fails). It recognises the common requests and points to the command
//! that does them, answers questions from our knowledge base (the best passage, quoted with its
//! source, in the runner's language), and adds the safety note whenever pain, illness or a
//! medical topic comes up. It never invents numbers: those come from the science and the plan.

use super::Reply;
use crate::i18n::Lang;
use crate::knowledge::{Hit, KnowledgeBase};

/// What a message asks for, from keywords in French and English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Intent {
    Greeting,
    MakePlan,
    Stats,
    ThisWeek,
    Today,
    Question { medical: bool },
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

const MEDICAL: &[&str] = &[
    "mal",
    "douleur",
    "douleurs",
    "blessure",
    "blessé",
    "blessee",
    "tibia",
    "genou",
    "genoux",
    "tendon",
    "achille",
    "talon",
    "hanche",
    "cheville",
    "périostite",
    "periostite",
    "fracture",
    "malade",
    "fièvre",
    "fievre",
    "rhume",
    "grippe",
    "covid",
    "toux",
    "poitrine",
    "essoufflé",
    "vertige",
    "médecin",
    "medecin",
    "pain",
    "hurt",
    "hurts",
    "sore",
    "injury",
    "injured",
    "shin",
    "knee",
    "knees",
    "achilles",
    "heel",
    "hip",
    "ankle",
    "fracture",
    "sick",
    "ill",
    "illness",
    "fever",
    "cold",
    "flu",
    "cough",
    "chest",
    "dizzy",
    "doctor",
    "splints",
    "plantar",
    "itb",
];

pub(super) fn intent(text: &str) -> Intent {
    let w = words(text);
    let has = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
    if w.len() <= 3 && has(&["hello", "hi", "hey", "bonjour", "salut", "coucou", "bonsoir", "yo"]) {
        return Intent::Greeting;
    }
    let medical = has(MEDICAL);
    if !medical {
        if has(&["plan", "programme", "prépare", "prepare", "préparer", "preparer"]) && !text.contains('?') {
            return Intent::MakePlan;
        }
        if has(&["stats", "statistiques", "bilan", "vdot", "niveau", "level"]) && w.len() <= 6 {
            return Intent::Stats;
        }
        if has(&["semaine", "week"]) && w.len() <= 6 {
            return Intent::ThisWeek;
        }
        if has(&["aujourd'hui", "aujourdhui", "today"]) && w.len() <= 8 {
            return Intent::Today;
        }
    }
    Intent::Question { medical }
}

/// The safety note that goes with anything medical.
pub(super) fn safety_note(lang: Lang) -> &'static str {
    lang.pick(
        "⚕️ Je suis un coach IA, pas un médecin. Une douleur qui te fait boiter, qui augmente pendant la course, \
qui persiste au repos ou la nuit, un gonflement, de la fièvre, une douleur dans la poitrine ou un essoufflement \
inhabituel : arrête de courir et consulte un médecin.",
        "⚕️ I'm an AI coach, not a doctor. Pain that makes you limp, grows during the run, persists at rest or at \
night, swelling, fever, chest pain or unusual shortness of breath: stop running and see a doctor.",
    )
}

/// Trims a passage to a readable length at a sentence end.
fn excerpt(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.trim().to_owned();
    }
    let cut: String = text.chars().take(max_chars).collect();
    match cut.rfind(['.', '!', '?']) {
        Some(i) if i > max_chars / 3 => cut.get(..=i).unwrap_or(&cut).trim().to_owned(),
        _ => format!("{}…", cut.trim_end()),
    }
}

pub(super) fn cite(hit: &Hit) -> String {
    format!("📚 _{} › {}_", hit.title, hit.heading)
}

/// Answers a question from the knowledge base, in the runner's language.
pub(super) fn answer(kb: Option<&KnowledgeBase>, question: &str, lang: Lang, medical: bool) -> Reply {
    let hits = kb.map(|kb| kb.search(question, Some(lang), 3)).unwrap_or_default();
    let mut text = match hits.first() {
        Some(best) => {
            let mut out = format!(
                "{}\n\n{}\n{}",
                lang.pick("Voici ce que dit notre guide :", "Here's what our guide says:"),
                excerpt(&best.text, 900),
                cite(best)
            );
            let more: Vec<String> =
                hits.iter().skip(1).filter(|h| h.doc != best.doc || h.heading != best.heading).map(cite).collect();
            if !more.is_empty() {
                out.push_str(&format!("\n\n{}\n{}", lang.pick("À lire aussi :", "See also:"), more.join("\n")));
            }
            out
        }
        None => lang
            .pick(
                "Je n'ai rien trouvé dans mon guide sur ce sujet. Reformule avec d'autres mots, ou tape /help pour voir ce que je sais faire.",
                "I found nothing in my guide on that. Try other words, or type /help to see what I can do.",
            )
            .to_owned(),
    };
    if medical {
        text.push_str("\n\n");
        text.push_str(safety_note(lang));
    }
    Reply::text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_requests_in_both_languages() {
        assert_eq!(intent("bonjour !"), Intent::Greeting);
        assert_eq!(intent("je veux un plan pour un 10 km"), Intent::MakePlan);
        assert_eq!(intent("mes stats"), Intent::Stats);
        assert_eq!(intent("what's this week?"), Intent::ThisWeek);
        assert_eq!(intent("qu'est-ce que je fais aujourd'hui"), Intent::Today);
        assert_eq!(intent("j'ai mal au tibia depuis hier, je fais quoi demain ?"), Intent::Question { medical: true });
        assert_eq!(intent("my knee hurts after long runs, should I keep my plan?"), Intent::Question { medical: true });
        assert_eq!(intent("how do I do a 30/30 session?"), Intent::Question { medical: false });
    }

    #[test]
    fn excerpts_end_at_a_sentence() {
        let text = "First sentence is here. Second one is longer and goes on. Third.";
        assert_eq!(excerpt(text, 40), "First sentence is here.");
        assert_eq!(excerpt("short", 40), "short");
    }
}

//! The deterministic coach: answers free text without an LLM (the embedded default, and the
//! fallback when an LLM fails). It recognises the common requests and points to the command
//! that does them, answers questions from our knowledge base (the best passage, quoted with its
//! source, in the runner's language), and adds the safety note whenever pain, illness or a
//! medical topic comes up. It never invents numbers: those come from the science and the plan.

use super::Reply;
use crate::i18n::{self, Lang};
use crate::knowledge::Hit;
use crate::science::{RaceDistance, format_duration, parse_race_time, predict, training_paces, vdot_from_performance};

/// What a message asks for, from keywords in French and English.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Intent {
    Greeting,
    MakePlan,
    Stats,
    ThisWeek,
    Today,
    /// "and tomorrow?", "ma séance de demain".
    Tomorrow,
    /// "why this session?": the purpose of today's (or the next) session.
    WhySession,
    /// "when is my race?": the plan's race day.
    RaceDay,
    /// "how many km over the last 7 days?"
    RecentVolume,
    /// "my longest run?"
    LongestRun,
    /// "what pace for a 10k in 50:00": a race goal to turn into paces.
    Pace {
        distance: RaceDistance,
        time_s: f64,
    },
    Question {
        medical: bool,
    },
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
    if !medical && let Some((distance, time_s)) = race_goal(text) {
        return Intent::Pace { distance, time_s };
    }
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
        let session_word = has(&["séance", "seance", "session", "workout", "séances", "sessions"]);
        if has(&["pourquoi", "why"]) && (session_word || (has(&["this", "cette", "ça", "ca"]) && w.len() <= 5)) {
            return Intent::WhySession;
        }
        if has(&["demain", "tomorrow"]) && w.len() <= 8 {
            return Intent::Tomorrow;
        }
        if has(&["aujourd'hui", "aujourdhui", "today"]) && w.len() <= 8 {
            return Intent::Today;
        }
        if has(&["quand", "when", "date"]) && has(&["course", "race", "compétition", "competition", "marathon", "semi"])
        {
            return Intent::RaceDay;
        }
        if has(&["longest"]) || (has(&["plus"]) && has(&["longue", "long"]) && has(&["sortie", "course"])) {
            return Intent::LongestRun;
        }
        if has(&["km", "kilomètres", "kilometres", "kilometers", "distance", "miles"])
            && has(&["7", "sept", "seven", "derniers", "dernière", "derniere", "last", "past"])
            && w.len() <= 14
        {
            return Intent::RecentVolume;
        }
    }
    Intent::Question { medical }
}

/// A race distance and a goal time written in a sentence: "10 km en 50 min", "semi en 1h45",
/// "marathon in 3:30:00", "5k in 25:00".
pub(super) fn race_goal(text: &str) -> Option<(RaceDistance, f64)> {
    let lower = text.to_lowercase();
    let tokens = tokens(&lower);
    let distance = race_distance(&lower, &tokens)?;
    let time_s = race_time(&tokens)?;
    (time_s > 0.0).then_some((distance, time_s))
}

/// A time alone: "45:00", "1h45", "50 min".
pub(super) fn time_in(text: &str) -> Option<f64> {
    race_time(&tokens(&text.to_lowercase())).filter(|t| *t > 0.0)
}

fn tokens(lower: &str) -> Vec<String> {
    lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '?' | '!' | ';' | '(' | ')'))
        .filter(|t| !t.is_empty())
        .map(|t| t.trim_end_matches('.').to_owned())
        .collect()
}

/// The race distance a sentence names: "semi", "half", "marathon", "5k", "10 km"…
fn race_distance(lower: &str, tokens: &[String]) -> Option<RaceDistance> {
    if lower.contains("semi") || lower.contains("half") {
        Some(RaceDistance::Half)
    } else if lower.contains("marathon") {
        Some(RaceDistance::Marathon)
    } else {
        tokens.iter().enumerate().find_map(|(i, t)| {
            let joined = match tokens.get(i + 1).map(String::as_str) {
                Some("km" | "k") if t.chars().all(|c| c.is_ascii_digit()) => format!("{t}km"),
                _ => t.clone(),
            };
            match joined.as_str() {
                "5k" | "5km" => Some(RaceDistance::FiveK),
                "10k" | "10km" => Some(RaceDistance::TenK),
                _ => None,
            }
        })
    }
}

/// A race time in a sentence: "50 min", "1h45", "3:30:00".
fn race_time(tokens: &[String]) -> Option<f64> {
    tokens.iter().enumerate().find_map(|(i, t)| {
        let number = |s: &str| s.parse::<f64>().ok().filter(|v| *v >= 0.0);
        if t.contains(':') {
            return parse_race_time(t).ok();
        }
        if let Some((h, m)) = t.split_once('h') {
            let m = m.trim_end_matches("min");
            let h = number(h)?;
            let m = if m.is_empty() { 0.0 } else { number(m)? };
            return (m < 60.0).then_some(h * 3600.0 + m * 60.0);
        }
        if let Some(m) = t.strip_suffix("min") {
            return number(m).map(|m| m * 60.0);
        }
        match tokens.get(i + 1).map(String::as_str) {
            Some("min" | "mn" | "minutes" | "minute") => number(t).map(|m| m * 60.0),
            _ => None,
        }
    })
}

/// A short follow-up naming another race distance without a time ("et pour un semi ?", "and for
/// a marathon?", "what about a 5k?"): the distance it asks about.
pub(super) fn follow_up_distance(text: &str) -> Option<RaceDistance> {
    let lower = text.trim().to_lowercase();
    let starts = ["et ", "and ", "what about", "how about", "pour un", "pour le", "for a ", "for the "];
    if lower.split_whitespace().count() > 8 || !starts.iter().any(|s| lower.starts_with(s)) {
        return None;
    }
    let tokens = tokens(&lower);
    // With a time it is a new goal, not a follow-up.
    if race_time(&tokens).is_some() {
        return None;
    }
    race_distance(&lower, &tokens)
}

/// A follow-up's answer: the other distance predicted from the performance the runner gave just
/// before (the same VDOT), then its paces.
pub(super) fn follow_up_answer(from: (RaceDistance, f64), to: RaceDistance, lang: Lang) -> Option<Reply> {
    let vdot = vdot_from_performance(from.0.metres(), from.1).ok()?;
    let predicted = predict(vdot, to).ok()?;
    let mut reply = pace_answer(to, predicted.time_s, lang);
    let lead = match lang {
        Lang::Fr => format!(
            "D'après ton {} en {} (VDOT {}), l'équivalent est d'environ {} :

",
            distance_name(from.0, lang).to_lowercase(),
            format_duration(from.1),
            i18n::number(lang, vdot.value(), 1),
            format_duration(predicted.time_s)
        ),
        Lang::En => format!(
            "From your {} in {} (VDOT {}), the equivalent is about {}:

",
            distance_name(from.0, lang),
            format_duration(from.1),
            i18n::number(lang, vdot.value(), 1),
            format_duration(predicted.time_s)
        ),
    };
    reply.text = format!("{lead}{}", reply.text);
    Some(reply)
}

fn distance_name(distance: RaceDistance, lang: Lang) -> String {
    match distance {
        RaceDistance::FiveK => "5 km".to_owned(),
        RaceDistance::TenK => "10 km".to_owned(),
        RaceDistance::Half => lang.pick("Semi-marathon", "Half marathon").to_owned(),
        RaceDistance::Marathon => "Marathon".to_owned(),
        RaceDistance::Metres(m) => format!("{m} m"),
    }
}

/// Race pace and training paces for a goal, from the VDOT tables (the science computes).
pub(super) fn pace_answer(distance: RaceDistance, time_s: f64, lang: Lang) -> Reply {
    let paces = vdot_from_performance(distance.metres(), time_s).and_then(|v| Ok((v, training_paces(v)?)));
    let Ok((vdot, paces)) = paces else {
        return Reply::text(lang.pick(
            "Ce temps sort des tables que j'utilise (VDOT 30 à 85) : vérifie la distance et le temps, par exemple « 10 km en 50:00 ».",
            "That time is outside the tables I use (VDOT 30 to 85): check the distance and time, for example \"10 km in 50:00\".",
        ));
    };
    let race_pace = format_duration(time_s / (distance.metres() / 1000.0));
    let name = distance_name(distance, lang);
    let goal = format!("{name} {} {}", lang.pick("en", "in"), format_duration(time_s));
    let v = i18n::number(lang, vdot.value(), 1);
    let lines = [
        (lang.pick("Footing / sortie longue", "Easy / long run"), paces.easy),
        (lang.pick("Allure marathon", "Marathon pace"), paces.marathon),
        (lang.pick("Seuil (tempo)", "Threshold (tempo)"), paces.threshold),
        (lang.pick("Intervalles (VMA)", "Intervals (VO2max)"), paces.interval),
        (lang.pick("Répétitions courtes", "Short repetitions"), paces.repetition),
    ];
    let mut out = match lang {
        Lang::Fr => format!(
            "🎯 **{goal}** : allure de course **{race_pace} /km** (VDOT {v}).\nTes allures d'entraînement pour cet objectif :"
        ),
        Lang::En => {
            format!("🎯 **{goal}**: race pace **{race_pace} /km** (VDOT {v}).\nYour training paces for this goal:")
        }
    };
    for (name, range) in lines {
        out.push_str(&match lang {
            Lang::Fr => format!("\n• {name} : {range}"),
            Lang::En => format!("\n• {name}: {range}"),
        });
    }
    out.push_str(lang.pick(
        "\n\nCalculé avec les tables VDOT de Jack Daniels. /plan construit un plan complet vers cet objectif.",
        "\n\nComputed with Jack Daniels' VDOT tables. /plan builds a full plan towards this goal.",
    ));
    Reply::text(out)
}

/// The safety note that goes with anything medical.
pub fn safety_note(lang: Lang) -> &'static str {
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

/// Answers a question from the knowledge base's `hits` for it, in the runner's language.
pub(super) fn answer(hits: Vec<Hit>, lang: Lang, medical: bool) -> Reply {
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
    fn recognises_data_questions_and_follow_ups() {
        assert_eq!(intent("and tomorrow?"), Intent::Tomorrow);
        assert_eq!(intent("Et demain ?"), Intent::Tomorrow);
        assert_eq!(intent("why this session?"), Intent::WhySession);
        assert_eq!(intent("Pourquoi cette séance ?"), Intent::WhySession);
        assert_eq!(intent("When is my race, according to my plan?"), Intent::RaceDay);
        assert_eq!(intent("C'est quand ma course ?"), Intent::RaceDay);
        assert_eq!(intent("How many km did I run over the last 7 days?"), Intent::RecentVolume);
        assert_eq!(intent("Combien de km ai-je couru ces 7 derniers jours ?"), Intent::RecentVolume);
        assert_eq!(intent("What was my longest run recently?"), Intent::LongestRun);
        assert_eq!(intent("Quelle a été ma plus longue sortie récemment ?"), Intent::LongestRun);
        // Advice about long runs is a question for the knowledge base.
        assert!(matches!(intent("How should I fuel my long run?"), Intent::Question { .. }));
        assert!(matches!(
            intent("J'ai mal au genou depuis ma sortie longue d'hier"),
            Intent::Question { medical: true }
        ));
    }

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
        assert_eq!(
            intent("quelle allure pour un 10 km en 50 min ?"),
            Intent::Pace { distance: RaceDistance::TenK, time_s: 3000.0 }
        );
        assert_eq!(intent("semi en 1h45"), Intent::Pace { distance: RaceDistance::Half, time_s: 6300.0 });
        assert_eq!(
            intent("what pace for a marathon in 3:30:00?"),
            Intent::Pace { distance: RaceDistance::Marathon, time_s: 12600.0 }
        );
        assert_eq!(intent("5k in 25:00"), Intent::Pace { distance: RaceDistance::FiveK, time_s: 1500.0 });
        // A distance without a time is a question.
        assert_eq!(intent("how to train for a 10k"), Intent::Question { medical: false });
    }

    #[test]
    fn follow_ups_name_a_distance_without_a_time() {
        assert_eq!(follow_up_distance("et pour un semi ?"), Some(RaceDistance::Half));
        assert_eq!(follow_up_distance("And for a marathon?"), Some(RaceDistance::Marathon));
        assert_eq!(follow_up_distance("what about a 5k"), Some(RaceDistance::FiveK));
        assert_eq!(follow_up_distance("et pour un 10 km ?"), Some(RaceDistance::TenK));
        assert_eq!(follow_up_distance("and a half in 1:45?"), None, "a time: a new goal, not a follow-up");
        assert_eq!(follow_up_distance("how do I train for a half marathon?"), None);
        assert_eq!(follow_up_distance("et demain ?"), None);
    }

    #[test]
    fn pace_answers_come_from_the_vdot_tables() {
        let text = pace_answer(RaceDistance::TenK, 3000.0, Lang::En).text;
        assert!(text.contains("race pace **5:00 /km**"), "{text}");
        // The bands shown are the engine's own.
        let v = vdot_from_performance(10_000.0, 3000.0).unwrap();
        let p = training_paces(v).unwrap();
        assert!(text.contains(&p.threshold.to_string()) && text.contains(&p.easy.to_string()), "{text}");
        let fr = pace_answer(RaceDistance::Half, 6300.0, Lang::Fr).text;
        assert!(fr.contains("Semi-marathon en 1:45:00"), "{fr}");
        assert!(fr.contains("allure de course"), "{fr}");
        // Absurd goals get a clear message, not numbers.
        let absurd = pace_answer(RaceDistance::Marathon, 3600.0, Lang::En).text;
        assert!(absurd.contains("outside the tables"), "{absurd}");
    }

    #[test]
    fn excerpts_end_at_a_sentence() {
        let text = "First sentence is here. Second one is longer and goes on. Third.";
        assert_eq!(excerpt(text, 40), "First sentence is here.");
        assert_eq!(excerpt("short", 40), "short");
    }
}

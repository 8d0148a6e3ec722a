//! The bot's sentences, in French and English. Each function matches on the language, so a
//! missing translation does not compile.

use super::commands::{COMMANDS, CommandSpec};
use crate::domain::{ProfileField, Units, User};
use crate::i18n::{self, Lang};

pub fn welcome(lang: Lang, name: Option<&str>, returning: bool) -> String {
    let hello = match (lang, name, returning) {
        (Lang::Fr, Some(n), false) => format!("Bienvenue {n} ! 👋"),
        (Lang::Fr, None, false) => "Bienvenue ! 👋".to_owned(),
        (Lang::Fr, Some(n), true) => format!("Content de te revoir, {n} ! 👋"),
        (Lang::Fr, None, true) => "Content de te revoir ! 👋".to_owned(),
        (Lang::En, Some(n), false) => format!("Welcome {n}! 👋"),
        (Lang::En, None, false) => "Welcome! 👋".to_owned(),
        (Lang::En, Some(n), true) => format!("Good to see you again, {n}! 👋"),
        (Lang::En, None, true) => "Good to see you again! 👋".to_owned(),
    };
    let body = match lang {
        Lang::Fr => {
            "Je suis **Coach Michael**, ton coach de course à pied. Je suis une intelligence artificielle, \
pas un médecin : en cas de douleur ou de doute sur ta santé, consulte un professionnel.\n\n\
Je t'aide à construire ton entraînement à partir de tes séances et de principes d'entraînement reconnus.\n\n\
🔒 Je garde ton profil, tes activités, tes plans et nos échanges pour te coacher. \
/export te les envoie, /forget les efface définitivement. Le détail : `/help privacy`.\n\n\
Pour commencer, complète ton profil (par exemple `/profile age 35 poids 70`) ou tape /help."
        }
        Lang::En => {
            "I'm **Coach Michael**, your running coach. I'm an AI, not a doctor: if something hurts \
or you're unsure about your health, see a professional.\n\n\
I help you shape your training from your own runs and sound training principles.\n\n\
🔒 I keep your profile, activities, plans and our conversations to coach you. \
/export sends you all of it, /forget deletes it for good. The details: `/help privacy`.\n\n\
To begin, fill in your profile (for example `/profile age 35 weight 70`) or type /help."
        }
    };
    format!("{hello}\n\n{body}")
}

pub fn button_profile(lang: Lang) -> &'static str {
    lang.pick("👤 Mon profil", "👤 My profile")
}

pub fn button_help(lang: Lang) -> &'static str {
    lang.pick("❓ Aide", "❓ Help")
}

pub fn button_other_language(lang: Lang) -> &'static str {
    lang.pick("🇬🇧 English", "🇫🇷 Français")
}

fn usage(spec: &CommandSpec, lang: Lang) -> String {
    let args = spec.args(lang);
    if args.is_empty() { format!("/{}", spec.name) } else { format!("/{} {args}", spec.name) }
}

pub fn help(lang: Lang) -> String {
    let mut out = lang.pick("**Ce que je sais faire**\n", "**What I can do**\n").to_owned();
    for spec in COMMANDS {
        out.push_str(&format!("• `{}` — {}\n", usage(spec, lang), spec.help(lang)));
    }
    out.push_str(
        lang.pick("\n/help commande pour le détail d'une commande.", "\n/help command for details on one command."),
    );
    out
}

pub fn help_for(lang: Lang, spec: &CommandSpec) -> String {
    let mut out = format!("`{}`\n{}", usage(spec, lang), spec.help(lang));
    if !spec.aliases.is_empty() {
        let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("/{a}")).collect();
        out.push_str(&format!("\n{} {}", lang.pick("Autres noms :", "Also:"), aliases.join(", ")));
    }
    if spec.name == "profile" {
        out.push_str(lang.pick(
            "\n\nExemples : `/profile age 35 poids 70,5 taille 172`, `/profile fcmax 190 fcrepos 52`, \
`/profile vma 15 fuseau Europe/Paris`. Champs : age, naissance, sexe, poids (kg), taille (cm), \
fcmax et fcrepos (bpm), vma (km/h), vo2max, fuseau, unites.",
            "\n\nExamples: `/profile age 35 weight 70.5 height 172`, `/profile max_hr 190 resting_hr 52`, \
`/profile vma 15 timezone Europe/Paris`. Fields: age, birth_year, sex, weight (kg), height (cm), \
max_hr and resting_hr (bpm), vma (km/h), vo2max, timezone, units.",
        ));
    }
    out
}

pub fn unknown_command(lang: Lang, name: &str, suggestion: Option<&str>) -> String {
    match (lang, suggestion) {
        (Lang::Fr, Some(s)) => format!("Je ne connais pas /{name}. Voulais-tu dire /{s} ? Tape /help pour la liste."),
        (Lang::Fr, None) => format!("Je ne connais pas /{name}. Tape /help pour voir ce que je sais faire."),
        (Lang::En, Some(s)) => format!("I don't know /{name}. Did you mean /{s}? Type /help for the list."),
        (Lang::En, None) => format!("I don't know /{name}. Type /help to see what I can do."),
    }
}

pub fn bad_language(lang: Lang, value: &str) -> String {
    match lang {
        Lang::Fr => format!("Je ne parle pas « {value} ». Choisis fr (français) ou en (anglais)."),
        Lang::En => format!("I don't speak \"{value}\". Choose fr (French) or en (English)."),
    }
}

pub fn choose_language(lang: Lang) -> &'static str {
    lang.pick("Dans quelle langue veux-tu que je te parle ?", "Which language should I use?")
}

pub fn language_set(lang: Lang) -> &'static str {
    lang.pick("C'est noté, je te parle en français. 🇫🇷", "Got it, I'll speak English. 🇬🇧")
}

pub fn dangling_field(lang: Lang, field: &str) -> String {
    match lang {
        Lang::Fr => format!("Il manque la valeur de « {field} ». Exemple : `/profile poids 70`."),
        Lang::En => format!("\"{field}\" needs a value. Example: `/profile weight 70`."),
    }
}

pub fn unknown_field(lang: Lang, field: &str) -> String {
    match lang {
        Lang::Fr => format!(
            "Je ne connais pas le champ « {field} ». Champs possibles : age, naissance, sexe, poids, taille, \
fcmax, fcrepos, vma, vo2max, fuseau, unites. Rien n'a été modifié."
        ),
        Lang::En => format!(
            "I don't know the field \"{field}\". Fields: age, birth_year, sex, weight, height, max_hr, \
resting_hr, vma, vo2max, timezone, units. Nothing was changed."
        ),
    }
}

/// The runner's profile; `year` (the current one) turns a birth year into an age.
pub fn profile(lang: Lang, user: &User, updated: bool, year: i32) -> String {
    let p = &user.profile;
    let unset = "—";
    // French typography puts a space before the colon.
    let colon = lang.pick(" :", ":");
    let num = |v: f64| i18n::number(lang, v, if (v - v.round()).abs() < 1e-9 { 0 } else { 1 });
    let line = |field: ProfileField, value: Option<String>| {
        format!("• {}{} {}\n", field.label(lang), colon, value.unwrap_or_else(|| unset.to_owned()))
    };
    let mut out = if updated {
        lang.pick("✅ Profil mis à jour.\n\n**Ton profil**\n", "✅ Profile updated.\n\n**Your profile**\n").to_owned()
    } else {
        lang.pick("**Ton profil**\n", "**Your profile**\n").to_owned()
    };
    out.push_str(&line(
        ProfileField::Age,
        p.birth_year.map(|b| match lang {
            Lang::Fr => format!("{} ans (né·e en {})", b.age_in(year), b.year()),
            Lang::En => format!("{} (born {})", b.age_in(year), b.year()),
        }),
    ));
    out.push_str(&line(ProfileField::Sex, p.sex.map(|s| s.label(lang).to_owned())));
    out.push_str(&line(ProfileField::Weight, p.weight.map(|w| format!("{} kg", num(w.get())))));
    out.push_str(&line(ProfileField::Height, p.height.map(|h| format!("{} cm", num(h.get())))));
    out.push_str(&line(ProfileField::MaxHr, p.max_hr.map(|h| format!("{} bpm", h.bpm()))));
    out.push_str(&line(ProfileField::RestingHr, p.resting_hr.map(|h| format!("{} bpm", h.bpm()))));
    out.push_str(&line(ProfileField::Vma, p.vma.map(|v| format!("{} km/h", num(v.get())))));
    out.push_str(&line(ProfileField::Vo2max, p.vo2max.map(|v| format!("{} ml/kg/min", num(v.get())))));
    out.push_str(&line(ProfileField::Timezone, Some(user.timezone.as_str().to_owned())));
    out.push_str(&line(
        ProfileField::Units,
        Some(match user.units {
            Units::Metric => lang.pick("km (métrique)", "km (metric)").to_owned(),
            Units::Imperial => lang.pick("miles (impérial)", "miles (imperial)").to_owned(),
        }),
    ));
    out.push_str(&format!("• {}{colon} {}\n", lang.pick("langue", "language"), lang.pick("français", "English")));
    if !updated {
        out.push_str(lang.pick(
            "\nPour modifier : `/profile poids 70 fcmax 190` (voir /help profile).",
            "\nTo change it: `/profile weight 70 max_hr 190` (see /help profile).",
        ));
    }
    out
}

pub fn export_ready(lang: Lang) -> &'static str {
    lang.pick(
        "📦 Voici tout ce que je garde sur toi, dans un fichier JSON.",
        "📦 Here is everything I store about you, as a JSON file.",
    )
}

pub fn forget_confirm(lang: Lang) -> &'static str {
    lang.pick(
        "⚠️ Tu vas effacer **définitivement** ton profil, tes activités, tes plans et nos conversations, \
sur toutes les plateformes liées. Tu peux d'abord tout récupérer avec /export.\n\nOn efface tout ?",
        "⚠️ This will **permanently** delete your profile, activities, plans and our conversations, on every \
linked platform. You can first download everything with /export.\n\nDelete everything?",
    )
}

pub fn forget_yes(lang: Lang) -> &'static str {
    lang.pick("🗑️ Oui, tout effacer", "🗑️ Yes, delete everything")
}

pub fn forget_no(lang: Lang) -> &'static str {
    lang.pick("Annuler", "Cancel")
}

pub fn forget_done(lang: Lang) -> &'static str {
    lang.pick(
        "C'est fait : toutes tes données ont été effacées. Si tu m'écris à nouveau, on repartira de zéro. \
Bonne route ! 👋",
        "Done: all your data has been deleted. If you write to me again, we'll start from scratch. \
Happy running! 👋",
    )
}

pub fn forget_cancelled(lang: Lang) -> &'static str {
    lang.pick("Ok, je n'efface rien.", "OK, nothing was deleted.")
}

pub fn link_code(lang: Lang, code: &str, minutes: i64) -> String {
    match lang {
        Lang::Fr => format!(
            "🔗 Ton code de liaison : `{code}`\n\nSur l'autre plateforme (Telegram, Discord ou console), envoie \
`/link {code}` dans les {minutes} minutes. Tes deux comptes ne feront plus qu'un : même historique, même plan. \
Ne partage ce code avec personne."
        ),
        Lang::En => format!(
            "🔗 Your link code: `{code}`\n\nOn the other platform (Telegram, Discord or console), send \
`/link {code}` within {minutes} minutes. Your two accounts become one: same history, same plan. \
Don't share this code with anyone."
        ),
    }
}

pub fn link_confirm(lang: Lang, platforms: &str, name: Option<&str>) -> String {
    // The other account's name is the platform's, cleaned to a short line.
    let name: Option<String> = name.map(|n| n.chars().filter(|c| !c.is_control()).take(40).collect());
    match (lang, name) {
        (Lang::Fr, Some(n)) => format!(
            "🔗 Ce code vient du compte **{n}** ({platforms}). Lier tes comptes réunit tout (historique, plans, Garmin) dans ce compte-là. On y va ?"
        ),
        (Lang::Fr, None) => format!(
            "🔗 Ce code vient d'un compte {platforms}. Lier tes comptes réunit tout (historique, plans, Garmin) dans ce compte-là. On y va ?"
        ),
        (Lang::En, Some(n)) => format!(
            "🔗 This code comes from the account **{n}** ({platforms}). Linking brings everything (history, plans, Garmin) into that account. Go ahead?"
        ),
        (Lang::En, None) => format!(
            "🔗 This code comes from a {platforms} account. Linking brings everything (history, plans, Garmin) into that account. Go ahead?"
        ),
    }
}

pub fn link_yes(lang: Lang) -> &'static str {
    lang.pick("✅ Oui, lier", "✅ Yes, link them")
}

pub fn link_no(lang: Lang) -> &'static str {
    lang.pick("✖️ Non", "✖️ No")
}

pub fn link_cancelled(lang: Lang) -> &'static str {
    lang.pick("Ok, je ne lie rien.", "OK, nothing was linked.")
}

pub fn link_locked(lang: Lang, retry: &str) -> String {
    match lang {
        Lang::Fr => format!(
            "⏳ Trop de codes de liaison erronés : {retry}. Demande un nouveau code avec /link sur l'autre compte."
        ),
        Lang::En => {
            format!("⏳ Too many wrong link codes: {retry}. Ask for a new code with /link on the other account.")
        }
    }
}

pub fn link_done(lang: Lang, platforms: &[String]) -> String {
    let list = platforms.join(", ");
    match lang {
        Lang::Fr => format!("✅ Comptes liés ! Je te reconnais maintenant sur : {list}."),
        Lang::En => format!("✅ Accounts linked! I now know you on: {list}."),
    }
}

pub fn expired_button(lang: Lang) -> &'static str {
    lang.pick(
        "Ce bouton n'est plus valable. Tape /help pour reprendre.",
        "That button has expired. Type /help to carry on.",
    )
}

pub fn too_long(lang: Lang, max: usize) -> String {
    match lang {
        Lang::Fr => format!(
            "Ton message est trop long ({max} caractères au maximum). Peux-tu le raccourcir ? Rien n'a été enregistré."
        ),
        Lang::En => {
            format!("Your message is too long (at most {max} characters). Could you shorten it? Nothing was stored.")
        }
    }
}

pub fn unsupported_media(lang: Lang) -> &'static str {
    lang.pick(
        "Je ne lis que du texte, des commandes et des fichiers d'activité (FIT, GPX, TCX). Tape /help pour voir ce que je sais faire.",
        "I can only read text, commands and activity files (FIT, GPX, TCX). Type /help to see what I can do.",
    )
}

#[allow(clippy::cast_precision_loss)]
pub fn file_too_large(lang: Lang, bytes: u64, max: u64) -> String {
    let mb = |b: u64| i18n::number(lang, b as f64 / (1024.0 * 1024.0), 1);
    match lang {
        Lang::Fr => format!(
            "Ce fichier fait {} Mo : j'accepte jusqu'à {} Mo. Rien n'a été enregistré. Un fichier FIT d'activité fait en général moins de 5 Mo.",
            mb(bytes),
            mb(max)
        ),
        Lang::En => format!(
            "This file is {} MB: I accept up to {} MB. Nothing was stored. An activity FIT file is usually under 5 MB.",
            mb(bytes),
            mb(max)
        ),
    }
}

pub fn import_usage(lang: Lang) -> &'static str {
    lang.pick(
        "📎 Envoie-moi le fichier de ta sortie (FIT, GPX ou TCX), ou le ZIP exporté de Garmin Connect, ici en message privé. \
Sur Discord, `/import` accepte aussi le fichier en pièce jointe. Les doublons sont reconnus.",
        "📎 Send me your run's file (FIT, GPX or TCX), or the ZIP exported from Garmin Connect, here in a private message. \
On Discord, `/import` also takes the file as an attachment. Duplicates are recognised.",
    )
}

pub fn ask_usage(lang: Lang) -> &'static str {
    lang.pick(
        "Pose-moi ta question après la commande, par exemple : `/ask comment faire une séance au seuil ?` — ou écris-moi simplement.",
        "Put your question after the command, for example: `/ask how do I run a tempo session?` — or just write to me.",
    )
}

pub fn thanks_for_rating(lang: Lang, up: bool) -> &'static str {
    match (lang, up) {
        (Lang::Fr, true) => "Merci ! Content que ça t'aide 🙌",
        (Lang::Fr, false) => "Merci pour ton retour : je le garde pour m'améliorer.",
        (Lang::En, true) => "Thanks! Glad it helps 🙌",
        (Lang::En, false) => "Thanks for the feedback: I keep it to do better.",
    }
}

/// `/help privacy`: the short privacy notice (the register is docs/privacy.md).
#[must_use]
pub fn privacy(lang: Lang, llm: bool) -> String {
    let llm_fr = if llm {
        "\n• Tes messages libres et les données dont le coach a besoin pour te répondre sont envoyés au service d'IA configuré par l'administrateur, pour cette réponse seulement."
    } else {
        ""
    };
    let llm_en = if llm {
        "\n• Your free-text messages and the data the coach needs to answer are sent to the AI service the operator configured, for that answer only."
    } else {
        ""
    };
    match lang {
        Lang::Fr => format!(
            "🔒 **Tes données et ta vie privée**\n\
Ce que je garde, pour te coacher : ton profil (âge, poids, fréquences cardiaques…), tes activités, tes plans et objectifs, nos échanges, et si tu les donnes ta connexion Garmin (chiffrée) et ton lieu (arrondi au kilomètre, pour la météo).\n\
• Personne d'autre ne voit tes données ; dans un club, seul ce que tu choisis (/club join) apparaît au classement.\n\
• Garmin Connect reçoit seulement ce que tu lui demandes (synchronisation, séances envoyées). Le service météo (Open-Meteo) reçoit seulement ton lieu arrondi, jamais qui tu es.{llm_fr}\n\
• Conservation : nos échanges 1 an, le reste jusqu'à ce que tu l'effaces.\n\
• /export : toutes tes données (JSON). /forget : tout est effacé, définitivement. /profile location off : le lieu est oublié.\n\
Pour toute question, contacte l'administrateur de ce bot."
        ),
        Lang::En => format!(
            "🔒 **Your data and your privacy**\n\
What I keep, to coach you: your profile (age, weight, heart rates…), your activities, plans and goals, our conversations, and if you give them your Garmin connection (encrypted) and your place (rounded to a kilometre, for the weather).\n\
• Nobody else sees your data; in a club, only what you choose (/club join) shows on the leaderboard.\n\
• Garmin Connect only gets what you ask for (syncs, sessions you send). The weather service (Open-Meteo) only gets your rounded place, never who you are.{llm_en}\n\
• Keeping: our conversations 1 year, the rest until you delete it.\n\
• /export: all your data (JSON). /forget: everything deleted, for good. /profile location off: the place is forgotten.\n\
For any question, contact this bot's operator."
        ),
    }
}

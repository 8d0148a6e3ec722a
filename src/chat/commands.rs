//! The command registry: every command is declared once here, with its FR and EN help; adapters
//! render this table (Telegram's command menu, Discord's slash commands, the console's /help).

use crate::i18n::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    /// Other names people type (French names, short forms).
    pub aliases: &'static [&'static str],
    pub args_en: &'static str,
    pub args_fr: &'static str,
    pub help_en: &'static str,
    pub help_fr: &'static str,
    /// Touches personal data: only in a private chat (or an ephemeral reply).
    pub personal: bool,
}

impl CommandSpec {
    #[must_use]
    pub fn help(&self, lang: Lang) -> &'static str {
        lang.pick(self.help_fr, self.help_en)
    }

    #[must_use]
    pub fn args(&self, lang: Lang) -> &'static str {
        lang.pick(self.args_fr, self.args_en)
    }
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "start",
        aliases: &["commencer", "bonjour", "hello"],
        args_en: "",
        args_fr: "",
        help_en: "Welcome, and what I can do for you",
        help_fr: "Bienvenue, et ce que je peux faire pour toi",
        personal: false,
    },
    CommandSpec {
        name: "help",
        aliases: &["aide", "h", "?"],
        args_en: "[command]",
        args_fr: "[commande]",
        help_en: "List the commands, or explain one",
        help_fr: "Liste les commandes, ou en explique une",
        personal: false,
    },
    CommandSpec {
        name: "language",
        aliases: &["langue", "lang"],
        args_en: "[fr|en]",
        args_fr: "[fr|en]",
        help_en: "Choose French or English",
        help_fr: "Choisir le français ou l'anglais",
        personal: false,
    },
    CommandSpec {
        name: "profile",
        aliases: &["profil"],
        args_en: "[field value …]",
        args_fr: "[champ valeur …]",
        help_en: "Show or set your profile: age, weight, height, max_hr, resting_hr, vma, timezone, location",
        help_fr: "Voir ou modifier ton profil : age, poids, taille, fcmax, fcrepos, vma, fuseau, lieu",
        personal: true,
    },
    CommandSpec {
        name: "export",
        aliases: &["exporter"],
        args_en: "",
        args_fr: "",
        help_en: "Download everything I store about you (JSON)",
        help_fr: "Télécharger tout ce que je garde sur toi (JSON)",
        personal: true,
    },
    CommandSpec {
        name: "forget",
        aliases: &["oublier", "oublie", "delete"],
        args_en: "",
        args_fr: "",
        help_en: "Delete all your data (asks for confirmation)",
        help_fr: "Effacer toutes tes données (avec confirmation)",
        personal: true,
    },
    CommandSpec {
        name: "link",
        aliases: &["lier"],
        args_en: "[code]",
        args_fr: "[code]",
        help_en: "Link your accounts across Telegram, Discord and the console",
        help_fr: "Relier tes comptes Telegram, Discord et console",
        personal: true,
    },
    CommandSpec {
        name: "sync",
        aliases: &["synchro", "garmin"],
        args_en: "",
        args_fr: "",
        help_en: "Connect Garmin Connect (once) and bring in your activities",
        help_fr: "Connecter Garmin Connect (une fois) et récupérer tes activités",
        personal: true,
    },
    CommandSpec {
        name: "garmin_logout",
        aliases: &["garmin_deconnexion"],
        args_en: "",
        args_fr: "",
        help_en: "Disconnect Garmin (deletes the stored tokens)",
        help_fr: "Déconnecter Garmin (supprime les jetons enregistrés)",
        personal: true,
    },
    CommandSpec {
        name: "import",
        aliases: &["importer"],
        args_en: "[file]",
        args_fr: "[fichier]",
        help_en: "Import an activity: send me a FIT, GPX or TCX file, or Garmin's ZIP export",
        help_fr: "Importer une activité : envoie-moi un fichier FIT, GPX ou TCX, ou l'export ZIP de Garmin",
        personal: true,
    },
    CommandSpec {
        name: "stats",
        aliases: &["statistiques", "stat", "bilan"],
        args_en: "",
        args_fr: "",
        help_en: "Your running in numbers: volume, VDOT and predictions, load, level",
        help_fr: "Ta course en chiffres : volume, VDOT et prédictions, charge, niveau",
        personal: true,
    },
    CommandSpec {
        name: "summary",
        aliases: &["resume", "résumé", "bilanhebdo"],
        args_en: "[on|off|now|time \"cron\"]",
        args_fr: "[on|off|now|time \"cron\"]",
        help_en: "Your weekly summary: now, or every Monday (on/off, time)",
        help_fr: "Ton résumé de la semaine : maintenant, ou chaque lundi (on/off, horaire)",
        personal: true,
    },
    CommandSpec {
        name: "plan",
        aliases: &["nouveauplan", "newplan"],
        args_en: "[edit sessions N | days tue thu sat | race YYYY-MM-DD | cancel]",
        args_fr: "[modifier seances N | jours mar jeu sam | course AAAA-MM-JJ | annuler]",
        help_en: "Build a training plan step by step (goal, date, target time, days…); change or cancel it",
        help_fr: "Construire un plan pas à pas (objectif, date, temps visé, jours…) ; le modifier ou l'annuler",
        personal: true,
    },
    CommandSpec {
        name: "plans",
        aliases: &["mesplans"],
        args_en: "",
        args_fr: "",
        help_en: "Your plans, current and past",
        help_fr: "Tes plans, en cours et passés",
        personal: true,
    },
    CommandSpec {
        name: "activities",
        aliases: &["activites", "activités", "sorties"],
        args_en: "[n]",
        args_fr: "[n]",
        help_en: "Your latest activities",
        help_fr: "Tes dernières activités",
        personal: true,
    },
    CommandSpec {
        name: "activity",
        aliases: &["activite", "activité", "sortie"],
        args_en: "N",
        args_fr: "N",
        help_en: "One activity in detail: laps, heart-rate zones, a chart",
        help_fr: "Une activité en détail : tours, zones cardiaques, graphique",
        personal: true,
    },
    CommandSpec {
        name: "goal",
        aliases: &["objectif"],
        args_en: "[race 10k 50:00 | volume 1000] [by YYYY-MM-DD]",
        args_fr: "[race 10k 50:00 | volume 1000] [by AAAA-MM-JJ]",
        help_en: "Set a goal: a race time or a distance to run, with a deadline",
        help_fr: "Fixer un objectif : un temps de course ou un volume, avec une échéance",
        personal: true,
    },
    CommandSpec {
        name: "goals",
        aliases: &["objectifs"],
        args_en: "",
        args_fr: "",
        help_en: "Your goals and how far you've come",
        help_fr: "Tes objectifs et où tu en es",
        personal: true,
    },
    CommandSpec {
        name: "week",
        aliases: &["semaine"],
        args_en: "",
        args_fr: "",
        help_en: "This week's sessions",
        help_fr: "Les séances de la semaine",
        personal: true,
    },
    CommandSpec {
        name: "today",
        aliases: &["aujourdhui", "jour"],
        args_en: "",
        args_fr: "",
        help_en: "Today's session",
        help_fr: "La séance du jour",
        personal: true,
    },
    CommandSpec {
        name: "watch",
        aliases: &["montre"],
        args_en: "[push [days] | auto on|off]",
        args_fr: "[push [jours] | auto on|off]",
        help_en: "Your next sessions in your Garmin calendar, kept in step with the plan",
        help_fr: "Tes prochaines séances dans ton calendrier Garmin, à jour du plan",
        personal: true,
    },
    CommandSpec {
        name: "remind",
        aliases: &["rappel", "reminder"],
        args_en: "[on [07:00]|off]",
        args_fr: "[on [07:00]|off]",
        help_en: "A morning reminder of the day's session, with the weather",
        help_fr: "Un rappel le matin de la séance du jour, avec la météo",
        personal: true,
    },
    CommandSpec {
        name: "done",
        aliases: &["fait", "fini"],
        args_en: "[date]",
        args_fr: "[date]",
        help_en: "Tick off today's session (or a past date, e.g. /done 12/04)",
        help_fr: "Valider la séance du jour (ou d'une date passée, ex. /done 12/04)",
        personal: true,
    },
    CommandSpec {
        name: "skip",
        aliases: &["sauter", "rate"],
        args_en: "[date]",
        args_fr: "[date]",
        help_en: "Skip a session: the rest of the plan adapts safely",
        help_fr: "Sauter une séance : la suite du plan s'adapte sans risque",
        personal: true,
    },
    CommandSpec {
        name: "unwell",
        aliases: &["fatigue", "malade", "pasbien"],
        args_en: "[days]",
        args_fr: "[jours]",
        help_en: "Not feeling 100 %: ease off the next days (default 3)",
        help_fr: "Pas à 100 % : alléger les prochains jours (3 par défaut)",
        personal: true,
    },
    CommandSpec {
        name: "ask",
        aliases: &["question", "demande", "coach"],
        args_en: "question",
        args_fr: "question",
        help_en: "Ask the coach anything about running (or just write to me)",
        help_fr: "Poser une question au coach sur la course (ou écris-moi simplement)",
        personal: false,
    },
    CommandSpec {
        name: "club",
        aliases: &["clubs"],
        args_en: "leaderboard [week|month] | join [hidden] | leave | digest [channel|off]",
        args_fr: "classement [semaine|mois] | rejoindre [anonyme] | quitter | resume [salon|off]",
        help_en: "Your running club's Discord server: leaderboard, joining, weekly digest (admins)",
        help_fr: "Le serveur Discord de ton club : classement, adhésion, résumé hebdo (admins)",
        personal: false,
    },
    CommandSpec {
        name: "status",
        aliases: &["etat", "état"],
        args_en: "",
        args_fr: "",
        help_en: "How I'm running: coach mode, knowledge base, database",
        help_fr: "Mon état : mode du coach, base de connaissances, base de données",
        personal: false,
    },
];

/// A command with its arguments parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Start,
    Help(Option<String>),
    Language(Option<Lang>),
    /// `(field, value)` pairs as typed; the core validates them.
    Profile(Vec<(String, String)>),
    /// `/profile location <place, "lat,lon" or off>`: a place name may have several words.
    Location(String),
    Remind(String),
    Watch(String),
    Export,
    Forget,
    Link(Option<String>),
    Sync,
    GarminLogout,
    Import,
    Stats,
    Summary(String),
    /// `/plan` (the wizard), `/plan edit …`, `/plan cancel`: the arguments as typed.
    Plan(String),
    Plans,
    Activities(String),
    Activity(String),
    Goal(String),
    Goals,
    Week,
    Today,
    Done(String),
    Skip(String),
    Unwell(String),
    Ask(String),
    Club(String),
    Status,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    Unknown {
        name: String,
        suggestion: Option<&'static str>,
    },
    BadLanguage(String),
    /// A field name without a value: `/profile weight`.
    DanglingField(String),
}

/// Finds a command by name or alias, case-insensitively.
#[must_use]
pub fn lookup(name: &str) -> Option<&'static CommandSpec> {
    let name = name.trim().trim_start_matches('/').to_lowercase();
    COMMANDS.iter().find(|c| c.name == name || c.aliases.contains(&name.as_str()))
}

fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_lowercase();
    COMMANDS
        .iter()
        .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()).map(move |n| (c.name, n)))
        .map(|(canonical, n)| (canonical, strsim::damerau_levenshtein(&name, n)))
        .filter(|(_, d)| *d <= 2)
        .min_by_key(|(_, d)| *d)
        .map(|(canonical, _)| canonical)
}

impl Command {
    pub fn parse(name: &str, args: &str) -> Result<Command, CommandError> {
        let Some(spec) = lookup(name) else {
            let shown: String = name.chars().take(32).collect();
            return Err(CommandError::Unknown { suggestion: suggest(&shown), name: shown });
        };
        let args = args.trim();
        let first = args.split_whitespace().next();
        Ok(match spec.name {
            "start" => Command::Start,
            "help" => Command::Help(first.map(|s| s.trim_start_matches('/').to_lowercase())),
            "language" => match first {
                None => Command::Language(None),
                Some(code) => Command::Language(Some(
                    code.parse().map_err(|_| CommandError::BadLanguage(code.chars().take(16).collect()))?,
                )),
            },
            "profile" => match location_args(args) {
                Some(rest) => Command::Location(rest),
                None => Command::Profile(profile_pairs(args)?),
            },
            "remind" => Command::Remind(args.to_owned()),
            "watch" => Command::Watch(args.to_owned()),
            "export" => Command::Export,
            "forget" => Command::Forget,
            // The whole argument: a code may be typed in its two groups ("ABCDE FGHJK").
            "link" => {
                Command::Link((!args.is_empty()).then(|| args.chars().take(40).collect::<String>().to_uppercase()))
            }
            "sync" => Command::Sync,
            "garmin_logout" => Command::GarminLogout,
            "import" => Command::Import,
            "stats" => Command::Stats,
            "summary" => Command::Summary(args.to_owned()),
            "plan" => Command::Plan(args.to_owned()),
            "plans" => Command::Plans,
            "activities" => Command::Activities(args.to_owned()),
            "activity" => Command::Activity(args.to_owned()),
            "goal" => Command::Goal(args.to_owned()),
            "goals" => Command::Goals,
            "week" => Command::Week,
            "today" => Command::Today,
            "done" => Command::Done(args.to_owned()),
            "skip" => Command::Skip(args.to_owned()),
            "unwell" => Command::Unwell(args.to_owned()),
            "ask" => Command::Ask(args.to_owned()),
            "club" => Command::Club(args.to_owned()),
            "status" => Command::Status,
            _ => {
                return Err(CommandError::Unknown { name: spec.name.to_owned(), suggestion: None });
            }
        })
    }
}

/// `location Saint-Étienne`, `lieu 45.76,4.84`: what follows the location field, whole.
fn location_args(args: &str) -> Option<String> {
    let args = args.trim();
    let (field, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let field = field.trim_end_matches([':', '=']).to_lowercase();
    matches!(field.as_str(), "location" | "lieu" | "ville" | "city" | "place").then(|| rest.trim().to_owned())
}

/// `weight 70 max_hr 190`, `weight=70, maxhr: 190` or `timezone Europe/Paris` → pairs.
fn profile_pairs(args: &str) -> Result<Vec<(String, String)>, CommandError> {
    // A comma separates pairs, except inside a number written the French way (70,5).
    let chars: Vec<char> = args.chars().collect();
    let normalised: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let between_digits = i > 0
                && chars.get(i - 1).is_some_and(char::is_ascii_digit)
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            match c {
                '=' | ':' => ' ',
                ',' if !between_digits => ' ',
                c => c,
            }
        })
        .collect();
    let words: Vec<&str> = normalised.split_whitespace().collect();
    let mut pairs = Vec::new();
    let mut it = words.chunks(2);
    for chunk in &mut it {
        match chunk {
            [field, value] => pairs.push(((*field).to_owned(), (*value).to_owned())),
            [field] => return Err(CommandError::DanglingField((*field).chars().take(32).collect())),
            _ => {}
        }
    }
    Ok(pairs)
}

/// What a line of chat text is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedText {
    Command { name: String, args: String },
    Text(String),
}

/// Splits `/name@bot args` into a command; anything else is free text.
#[must_use]
pub fn parse_text(text: &str) -> ParsedText {
    let trimmed = text.trim();
    let Some(rest) = trimmed.strip_prefix('/') else {
        return ParsedText::Text(trimmed.to_owned());
    };
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    // Telegram appends the bot's name in groups: /start@runcoach_bot
    let name = head.split('@').next().unwrap_or(head);
    if name.is_empty() {
        return ParsedText::Text(trimmed.to_owned());
    }
    ParsedText::Command { name: name.to_lowercase(), args: args.trim().to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_consistent() {
        let mut names = std::collections::HashSet::new();
        for c in COMMANDS {
            for n in std::iter::once(c.name).chain(c.aliases.iter().copied()) {
                assert!(names.insert(n), "{n} declared twice");
            }
            assert!(!c.help_en.is_empty() && !c.help_fr.is_empty());
            assert_ne!(c.help_en, c.help_fr, "{} help not translated", c.name);
            // Telegram: 1-32 chars, lowercase letters, digits and underscores.
            assert!(c.name.len() <= 32 && c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
            // Every declared command parses.
            assert!(Command::parse(c.name, "").is_ok(), "{}", c.name);
        }
    }

    #[test]
    fn parses_text_into_commands() {
        assert_eq!(
            parse_text("/start@runcoach_bot"),
            ParsedText::Command { name: "start".into(), args: String::new() }
        );
        assert_eq!(
            parse_text("  /Profile weight 70 "),
            ParsedText::Command { name: "profile".into(), args: "weight 70".into() }
        );
        assert_eq!(parse_text("hello"), ParsedText::Text("hello".into()));
        assert_eq!(parse_text("/"), ParsedText::Text("/".into()));
    }

    #[test]
    fn commands_and_aliases() {
        assert_eq!(Command::parse("aide", ""), Ok(Command::Help(None)));
        assert_eq!(Command::parse("langue", "fr"), Ok(Command::Language(Some(Lang::Fr))));
        assert_eq!(Command::parse("language", "es"), Err(CommandError::BadLanguage("es".into())));
        assert_eq!(
            Command::parse("profil", "poids=70,5, fcmax: 190"),
            Ok(Command::Profile(vec![("poids".into(), "70,5".into()), ("fcmax".into(), "190".into())]))
        );
        assert_eq!(Command::parse("profile", "weight"), Err(CommandError::DanglingField("weight".into())));
        assert_eq!(Command::parse("link", "ab12cd"), Ok(Command::Link(Some("AB12CD".into()))));
    }

    #[test]
    fn unknown_commands_get_a_suggestion() {
        assert_eq!(
            Command::parse("halp", ""),
            Err(CommandError::Unknown { name: "halp".into(), suggestion: Some("help") })
        );
        assert_eq!(Command::parse("xyzzy", ""), Err(CommandError::Unknown { name: "xyzzy".into(), suggestion: None }));
    }
}

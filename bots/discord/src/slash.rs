//! The core's command registry as Discord slash commands, English by default with French names
//! and descriptions. Every command runs the same action, which hands the command line to the core;
//! `/club` has subcommands so Discord shows its choices.

use std::borrow::Cow;

use poise::serenity_prelude as serenity;
use runcoach_core::chat::{COMMANDS, CommandSpec};
use serenity::{ChannelType, CommandOptionType, CreateCommandOption};

use crate::{Data, Error};

pub type Command = poise::Command<Data, Error>;
type Param = poise::CommandParameter<Data, Error>;

/// Discord's limit for names and descriptions of commands and options.
const MAX_DESCRIPTION: usize = 100;

fn clip(text: &str) -> Cow<'static, str> {
    let mut out: String = text.chars().take(MAX_DESCRIPTION).collect();
    if text.chars().count() > MAX_DESCRIPTION {
        out.pop();
        out.push('…');
    }
    Cow::Owned(out)
}

fn fr(text: impl Into<Cow<'static, str>>) -> Cow<'static, [(Cow<'static, str>, Cow<'static, str>)]> {
    Cow::Owned(vec![(Cow::Borrowed("fr"), text.into())])
}

/// The command's French name: its first alias, unless French uses the English word.
fn french_name(spec: &CommandSpec) -> Option<&'static str> {
    match spec.name {
        "plan" | "club" | "stats" => None,
        _ => spec.aliases.first().copied().filter(|a| a.chars().all(|c| c.is_ascii_lowercase() || c == '_')),
    }
}

fn command(name: &'static str, fr_name: Option<&'static str>, en: &str, fr_text: &str) -> Command {
    Command {
        name: Cow::Borrowed(name),
        qualified_name: Cow::Borrowed(name),
        identifying_name: Cow::Borrowed(name),
        source_code_name: Cow::Borrowed(name),
        name_localizations: fr_name.map_or(Cow::Borrowed(&[]), fr),
        description: Some(clip(en)),
        description_localizations: fr(clip(fr_text)),
        slash_action: Some(|ctx| Box::pin(crate::events::slash(ctx))),
        ..Default::default()
    }
}

fn param(
    name: &'static str,
    fr_name: &'static str,
    en: &str,
    fr_text: &str,
    required: bool,
    setter: fn(CreateCommandOption) -> CreateCommandOption,
) -> Param {
    Param {
        name: Cow::Borrowed(name),
        name_localizations: if fr_name == name { Cow::Borrowed(&[]) } else { fr(fr_name) },
        description: Some(clip(en)),
        description_localizations: fr(clip(fr_text)),
        required,
        channel_types: None,
        choices: Cow::Borrowed(&[]),
        type_setter: Some(setter),
        autocomplete_callback: None,
        __non_exhaustive: (),
    }
}

fn string(b: CreateCommandOption) -> CreateCommandOption {
    b.kind(CommandOptionType::String).max_length(1_000)
}

fn parameters(spec: &CommandSpec) -> Vec<Param> {
    match spec.name {
        _ if spec.args_en.is_empty() => Vec::new(),
        "language" => vec![param("language", "langue", "French or English", "Français ou anglais", false, |b| {
            b.kind(CommandOptionType::String).add_string_choice("Français", "fr").add_string_choice("English", "en")
        })],
        "ask" => vec![param("question", "question", "Your question", "Ta question", true, string)],
        "import" => vec![param(
            "file",
            "fichier",
            "FIT, GPX or TCX file, or Garmin's ZIP export",
            "Fichier FIT, GPX ou TCX, ou export ZIP de Garmin",
            true,
            |b| b.kind(CommandOptionType::Attachment),
        )],
        _ => vec![param("args", "arguments", spec.args_en, spec.args_fr, false, string)],
    }
}

fn club(spec: &CommandSpec) -> Command {
    let mut leaderboard = command(
        "leaderboard",
        Some("classement"),
        "Distance, time and runs of the members who opted in",
        "Distance, temps et sorties des membres volontaires",
    );
    leaderboard.parameters =
        vec![param("period", "periode", "This week or this month", "Cette semaine ou ce mois-ci", false, |b| {
            b.kind(CommandOptionType::String)
                .add_string_choice_localized("week", "week", [("fr", "semaine")])
                .add_string_choice_localized("month", "month", [("fr", "mois")])
        })];
    let mut join = command(
        "join",
        Some("rejoindre"),
        "Join the club and appear on its leaderboard",
        "Rejoindre le club et apparaître au classement",
    );
    join.parameters = vec![param(
        "hidden",
        "anonyme",
        "Count in the club's totals without being named",
        "Compter dans les totaux du club sans être nommé·e",
        false,
        |b| b.kind(CommandOptionType::Boolean),
    )];
    let leave = command("leave", Some("quitter"), "Leave the club", "Quitter le club");
    let mut digest = command(
        "digest",
        Some("resume"),
        "Admins: the channel of the weekly club digest",
        "Admins : le salon du résumé hebdomadaire du club",
    );
    let mut channel = param(
        "channel",
        "salon",
        "Where to post it (this channel if not given)",
        "Où le publier (ce salon par défaut)",
        false,
        |b| b.kind(CommandOptionType::Channel),
    );
    channel.channel_types = Some(Cow::Borrowed(&[ChannelType::Text, ChannelType::News]));
    let stop = param("stop", "arreter", "Stop the digest there", "Arrêter le résumé dans ce salon", false, |b| {
        b.kind(CommandOptionType::Boolean)
    });
    digest.parameters = vec![channel, stop];
    let mut club = command("club", None, spec.help_en, spec.help_fr);
    club.subcommands = vec![leaderboard, join, leave, digest];
    club.subcommand_required = true;
    // Clubs are Discord servers: the command is not offered in direct messages.
    club.guild_only = true;
    club
}

/// Every command of the core's registry, ready for poise.
#[must_use]
pub fn commands() -> Vec<Command> {
    COMMANDS
        .iter()
        .map(|spec| match spec.name {
            "club" => club(spec),
            _ => {
                let mut c = command(spec.name, french_name(spec), spec.help_en, spec.help_fr);
                c.parameters = parameters(spec);
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_a_valid_localised_slash_command() {
        let commands = commands();
        assert_eq!(commands.len(), COMMANDS.len());
        let mut fr_names = std::collections::HashSet::new();
        for c in &commands {
            let built = c.create_as_slash_command();
            assert!(built.is_some(), "{} is not a slash command", c.name);
            let json = serde_json::to_value(built).unwrap_or_default();
            let name = json["name"].as_str().unwrap_or_default();
            let fr_name = json["name_localizations"]["fr"].as_str().unwrap_or(name);
            assert!(fr_names.insert(fr_name.to_owned()), "French name {fr_name} twice");
            for n in [name, fr_name] {
                assert!(!n.is_empty() && n.len() <= 32 && n.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
            }
            let description = json["description"].as_str().unwrap_or_default();
            let fr_description = json["description_localizations"]["fr"].as_str().unwrap_or_default();
            assert!((1..=100).contains(&description.chars().count()), "{name}: {description}");
            assert!((1..=100).contains(&fr_description.chars().count()), "{name}: {fr_description}");
            assert_ne!(description, fr_description, "{name} is not translated");
        }
    }
}

//! Stable, user-facing error codes. Adapters and the HTTP API show `code` to machines and
//! `message(lang)` to people; the code never changes once published (lemmy's approach).

use serde::Serialize;

use crate::i18n::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    StoreUnavailable,
    StoreBusy,
    StoreFull,
    MessageTooLong,
    UnknownCommand,
    MissingArgument,
    InvalidArgument,
    PrivateChatOnly,
    UserNotFound,
    LinkCodeInvalid,
    LinkCodeExpired,
    LinkSameUser,
    /// The HTTP API: no valid API key was given.
    ApiKeyRequired,
    /// The plan engine refused the request (its explanation follows the message).
    PlanRefused,
    /// A limit shared by every instance was reached (when to try again follows the message).
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::StoreUnavailable,
        ErrorCode::StoreBusy,
        ErrorCode::StoreFull,
        ErrorCode::MessageTooLong,
        ErrorCode::UnknownCommand,
        ErrorCode::MissingArgument,
        ErrorCode::InvalidArgument,
        ErrorCode::PrivateChatOnly,
        ErrorCode::UserNotFound,
        ErrorCode::LinkCodeInvalid,
        ErrorCode::LinkCodeExpired,
        ErrorCode::LinkSameUser,
        ErrorCode::ApiKeyRequired,
        ErrorCode::PlanRefused,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::StoreBusy => "store_busy",
            ErrorCode::StoreFull => "store_full",
            ErrorCode::MessageTooLong => "message_too_long",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::MissingArgument => "missing_argument",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::PrivateChatOnly => "private_chat_only",
            ErrorCode::UserNotFound => "user_not_found",
            ErrorCode::LinkCodeInvalid => "link_code_invalid",
            ErrorCode::LinkCodeExpired => "link_code_expired",
            ErrorCode::LinkSameUser => "link_same_user",
            ErrorCode::ApiKeyRequired => "api_key_required",
            ErrorCode::PlanRefused => "plan_refused",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
        }
    }

    /// The generic sentence for this code; errors with details add their own text.
    #[must_use]
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            ErrorCode::StoreUnavailable => lang.pick(
                "Je n'arrive pas à joindre ma base de données pour le moment. Rien n'a été modifié : réessaie dans une minute.",
                "I can't reach my database right now. Nothing was changed: please try again in a minute.",
            ),
            ErrorCode::StoreBusy => lang.pick(
                "La base de données est occupée. Rien n'a été modifié : réessaie dans quelques secondes.",
                "The database is busy. Nothing was changed: please try again in a few seconds.",
            ),
            ErrorCode::StoreFull => lang.pick(
                "Mon espace de stockage est plein : je n'ai rien pu enregistrer et rien n'a été modifié. Réessaie plus tard, le temps qu'on libère de la place.",
                "My storage is full: I couldn't save anything and nothing was changed. Please try again later, once space has been freed.",
            ),
            ErrorCode::MessageTooLong => lang.pick(
                "Ton message est trop long pour moi. Peux-tu le raccourcir ?",
                "Your message is too long for me. Could you shorten it?",
            ),
            ErrorCode::UnknownCommand => lang.pick(
                "Je ne connais pas cette commande. Tape /help pour voir ce que je sais faire.",
                "I don't know that command. Type /help to see what I can do.",
            ),
            ErrorCode::MissingArgument => lang.pick(
                "Il manque une information à cette commande.",
                "This command is missing some information.",
            ),
            ErrorCode::InvalidArgument => lang.pick(
                "Je n'ai pas compris cette valeur.",
                "I couldn't understand that value.",
            ),
            ErrorCode::PrivateChatOnly => lang.pick(
                "Cette commande touche à tes données personnelles : écris-moi en message privé.",
                "This command deals with your personal data: please message me privately.",
            ),
            ErrorCode::UserNotFound => lang.pick(
                "Je ne trouve pas ce coureur.",
                "I can't find that runner.",
            ),
            ErrorCode::LinkCodeInvalid => lang.pick(
                "Ce code de liaison n'existe pas. Vérifie-le ou demandes-en un nouveau avec /link.",
                "That link code doesn't exist. Check it or ask for a new one with /link.",
            ),
            ErrorCode::LinkCodeExpired => lang.pick(
                "Ce code de liaison a expiré. Demandes-en un nouveau avec /link.",
                "That link code has expired. Ask for a new one with /link.",
            ),
            ErrorCode::LinkSameUser => lang.pick(
                "Ces deux comptes sont déjà liés.",
                "These two accounts are already linked.",
            ),
            ErrorCode::ApiKeyRequired => lang.pick(
                "Une clé d'API valide est requise.",
                "A valid API key is required.",
            ),
            ErrorCode::PlanRefused => lang.pick(
                "Je ne peux pas construire ce plan sans risque.",
                "I can't build that plan safely.",
            ),
            ErrorCode::RateLimited => lang.pick(
                "Doucement : tu as atteint la limite pour le moment,",
                "Easy there: you've reached the limit for now,",
            ),
            ErrorCode::Internal => lang.pick(
                "Quelque chose s'est mal passé de mon côté. Rien n'a été perdu : réessaie.",
                "Something went wrong on my side. Nothing was lost: please try again.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_translated() {
        let mut codes = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(codes.insert(code.as_str()), "duplicate code {}", code.as_str());
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let (fr, en) = (code.message(Lang::Fr), code.message(Lang::En));
            assert!(!fr.is_empty() && !en.is_empty());
            assert_ne!(fr, en, "{} is not translated", code.as_str());
        }
    }
}

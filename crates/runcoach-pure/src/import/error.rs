//! Why an import was refused, and what it noticed while importing. Codes are stable (shown to
//! machines); messages are for the runner, in French and English.

use crate::i18n::Lang;

/// A file that could not be imported at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("file is empty")]
    Empty,
    #[error("file is larger than {limit_bytes} bytes")]
    TooLarge { limit_bytes: usize },
    #[error("archive expands beyond {limit_bytes} bytes")]
    DecompressedTooLarge { limit_bytes: u64 },
    #[error("unknown file format")]
    UnknownFormat,
    #[error("FIT file of type {kind:?}, not an activity")]
    NotAnActivity { kind: String },
    #[error("route or track without timestamps")]
    RouteWithoutTimes,
    #[error("no track points")]
    NoTrackPoints,
    #[error("corrupt {format} file: {detail}")]
    Corrupt { format: &'static str, detail: String },
    #[error("no activity found")]
    NothingFound,
    #[error("unreadable Garmin activity JSON: {detail}")]
    GarminJson { detail: String },
}

impl ImportError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Empty => "import_empty",
            ImportError::TooLarge { .. } => "import_too_large",
            ImportError::DecompressedTooLarge { .. } => "import_decompressed_too_large",
            ImportError::UnknownFormat => "import_unknown_format",
            ImportError::NotAnActivity { .. } => "import_not_an_activity",
            ImportError::RouteWithoutTimes => "import_route_without_times",
            ImportError::NoTrackPoints => "import_no_track_points",
            ImportError::Corrupt { .. } => "import_corrupt",
            ImportError::NothingFound => "import_nothing_found",
            ImportError::GarminJson { .. } => "import_garmin_json_invalid",
        }
    }

    #[must_use]
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ImportError::Empty => lang.pick("Ce fichier est vide.", "This file is empty.").to_owned(),
            ImportError::TooLarge { limit_bytes } => {
                let mb = limit_bytes / (1024 * 1024);
                match lang {
                    Lang::Fr => format!("Ce fichier est trop gros (plus de {mb} Mo)."),
                    Lang::En => format!("This file is too large (over {mb} MB)."),
                }
            }
            ImportError::DecompressedTooLarge { limit_bytes } => {
                let mb = limit_bytes / (1024 * 1024);
                match lang {
                    Lang::Fr => format!("Une fois décompressée, cette archive dépasse {mb} Mo : je la refuse."),
                    Lang::En => format!("Once decompressed, this archive is over {mb} MB: I won't open it."),
                }
            }
            ImportError::UnknownFormat => lang
                .pick(
                    "Je ne reconnais pas ce format. J'accepte les fichiers FIT, GPX, TCX, ZIP (export Garmin) et JSON Garmin Connect.",
                    "I don't recognise this format. I accept FIT, GPX, TCX, ZIP (Garmin export) and Garmin Connect JSON files.",
                )
                .to_owned(),
            ImportError::NotAnActivity { kind } => match lang {
                Lang::Fr => format!("Ce fichier FIT n'est pas une activité (type « {kind} »)."),
                Lang::En => format!("This FIT file is not an activity (type \"{kind}\")."),
            },
            ImportError::RouteWithoutTimes => lang
                .pick(
                    "Ce fichier est un parcours sans horaires : je ne peux pas en faire une activité.",
                    "This file is a route without timestamps: I can't turn it into an activity.",
                )
                .to_owned(),
            ImportError::NoTrackPoints => lang
                .pick("Ce fichier ne contient aucun point de trace.", "This file holds no track points.")
                .to_owned(),
            ImportError::Corrupt { format, .. } => match lang {
                Lang::Fr => format!("Ce fichier {format} est abîmé ou tronqué : je n'ai rien pu en tirer."),
                Lang::En => format!("This {format} file is damaged or truncated: I couldn't read anything from it."),
            },
            ImportError::NothingFound => lang
                .pick("Je n'ai trouvé aucune activité dans ce fichier.", "I found no activity in this file.")
                .to_owned(),
            ImportError::GarminJson { .. } => lang
                .pick(
                    "Je n'arrive pas à lire cette activité Garmin Connect.",
                    "I can't read this Garmin Connect activity.",
                )
                .to_owned(),
        }
    }
}

/// Something imported with a caveat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportWarning {
    /// The FIT checksum does not match: the data was read anyway.
    BadChecksum,
    /// The file ends early: everything up to the damage was imported.
    Truncated,
    /// No summary in the file: totals were computed from the recorded points.
    SummaryFromSamples,
    /// Points without a timestamp (or out of order) were left out.
    PointsDropped { count: usize },
    /// An archive entry or list item could not be imported.
    Skipped { item: String, code: &'static str },
}

impl ImportWarning {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ImportWarning::BadChecksum => "import_bad_checksum",
            ImportWarning::Truncated => "import_truncated",
            ImportWarning::SummaryFromSamples => "import_summary_from_samples",
            ImportWarning::PointsDropped { .. } => "import_points_dropped",
            ImportWarning::Skipped { .. } => "import_item_skipped",
        }
    }

    #[must_use]
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ImportWarning::BadChecksum => lang
                .pick(
                    "La somme de contrôle du fichier est fausse ; les données ont l'air correctes et je les ai gardées.",
                    "The file's checksum is wrong; the data looks fine and I kept it.",
                )
                .to_owned(),
            ImportWarning::Truncated => lang
                .pick(
                    "Le fichier est tronqué : j'ai importé tout ce qui précède la coupure.",
                    "The file is truncated: I imported everything before the cut.",
                )
                .to_owned(),
            ImportWarning::SummaryFromSamples => lang
                .pick(
                    "Pas de résumé dans le fichier : j'ai calculé les totaux à partir des points enregistrés.",
                    "No summary in the file: I computed the totals from the recorded points.",
                )
                .to_owned(),
            ImportWarning::PointsDropped { count } => match lang {
                Lang::Fr => format!("{count} points sans horodatage valide ont été ignorés."),
                Lang::En => format!("{count} points without a valid timestamp were left out."),
            },
            ImportWarning::Skipped { item, code } => match lang {
                Lang::Fr => format!("« {item} » ignoré ({code})."),
                Lang::En => format!("\"{item}\" skipped ({code})."),
            },
        }
    }
}

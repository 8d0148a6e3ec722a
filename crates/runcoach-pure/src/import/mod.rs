//! Activity files into [`NewActivity`] values: FIT (chained too), GPX 1.0/1.1, TCX, the ZIP Garmin's
//! download returns, gzip, and Garmin Connect activity JSON. The format is detected from the content.
//!
//! Conventions: `duration_s` is the timer time (what Garmin calls `duration`); running cadence is in
//! steps per minute (FIT, TCX and GPX store strides per minute: doubled here); `sport` is the
//! snake_case name of [`ActivityKind`].

mod error;
pub(crate) mod fit;
pub mod garmin_json;
mod gpx;
mod summary;
mod tcx;
mod xml;

use std::io::Read;

use chrono::{DateTime, Utc};

pub use error::{ImportError, ImportWarning};

use crate::domain::activity::NewActivity;
use crate::science::load::ActivityKind;

/// Largest file accepted, compressed or not.
pub const MAX_IMPORT_BYTES: usize = 25 * 1024 * 1024;
/// Largest total a ZIP or gzip file may expand to (zip bombs).
pub const MAX_DECOMPRESSED_BYTES: u64 = 100 * 1024 * 1024;
/// Entries read from one archive at most.
const MAX_ARCHIVE_ENTRIES: usize = 500;
/// Archives inside archives, at most this deep.
const MAX_NESTING: u8 = 2;

/// Source name of activities imported from files.
pub const SOURCE_FILE: &str = "file";

/// One activity read from a file, with what was noticed along the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub activity: NewActivity,
    pub warnings: Vec<ImportWarning>,
}

/// Imports every activity in `bytes` (several for a ZIP, a chained FIT or a Garmin activity list).
/// `file_name` only helps the error message when the content is not recognised.
pub fn import_bytes(file_name: &str, bytes: &[u8]) -> Result<Vec<Imported>, ImportError> {
    let mut budget = MAX_DECOMPRESSED_BYTES;
    import_nested(file_name, bytes, 0, &mut budget)
}

/// The FIT reader alone, without content sniffing (the fuzz targets call the readers directly).
pub fn import_fit(bytes: &[u8]) -> Result<Vec<Imported>, ImportError> {
    fit::import(bytes)
}

/// The GPX reader alone, without content sniffing.
pub fn import_gpx(bytes: &[u8]) -> Result<Vec<Imported>, ImportError> {
    gpx::import(bytes).map(|one| vec![one])
}

/// The TCX reader alone, without content sniffing.
pub fn import_tcx(bytes: &[u8]) -> Result<Vec<Imported>, ImportError> {
    tcx::import(bytes)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Fit,
    Gzip,
    Zip,
    Gpx,
    Tcx,
    Json,
}

fn import_nested(name: &str, bytes: &[u8], depth: u8, budget: &mut u64) -> Result<Vec<Imported>, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if bytes.len() > MAX_IMPORT_BYTES && depth == 0 {
        return Err(ImportError::TooLarge { limit_bytes: MAX_IMPORT_BYTES });
    }
    let Some(format) = detect(bytes) else {
        return Err(unknown_for_extension(name));
    };
    match format {
        Format::Fit => fit::import(bytes),
        Format::Gpx => gpx::import(bytes).map(|one| vec![one]),
        Format::Tcx => tcx::import(bytes),
        Format::Json => garmin_json::import_json(bytes),
        Format::Gzip | Format::Zip if depth >= MAX_NESTING => Err(ImportError::NothingFound),
        Format::Gzip => {
            let inner = gunzip(bytes, budget)?;
            let inner_name = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".GZ")).unwrap_or(name);
            import_nested(inner_name, &inner, depth + 1, budget)
        }
        Format::Zip => import_zip(bytes, depth, budget),
    }
}

/// Content sniffing: magic numbers first, then the XML root element, then JSON.
fn detect(bytes: &[u8]) -> Option<Format> {
    if bytes.get(8..12) == Some(b".FIT") {
        return Some(Format::Fit);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Gzip);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Format::Zip);
    }
    let text = strip_bom(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    match text.get(start)? {
        b'<' => match xml::root_name(text)?.as_str() {
            "gpx" => Some(Format::Gpx),
            "TrainingCenterDatabase" => Some(Format::Tcx),
            _ => None,
        },
        b'{' | b'[' => Some(Format::Json),
        _ => None,
    }
}

/// A file whose extension names a format we read but whose content is not that format is damaged.
fn unknown_for_extension(name: &str) -> ImportError {
    let ext = name.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    let format = match ext.as_str() {
        "fit" => "FIT",
        "gpx" => "GPX",
        "tcx" => "TCX",
        "zip" => "ZIP",
        "gz" => "gzip",
        _ => return ImportError::UnknownFormat,
    };
    ImportError::Corrupt { format, detail: "content does not match the extension".into() }
}

pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)
}

/// Reads at most `*budget` bytes from a decompressing reader, charging them to the budget.
fn read_limited(reader: impl Read, budget: &mut u64, format: &'static str) -> Result<Vec<u8>, ImportError> {
    let mut out = Vec::new();
    let limit = *budget;
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| ImportError::Corrupt { format, detail: e.to_string() })?;
    let used = u64::try_from(out.len()).unwrap_or(u64::MAX);
    if used > limit {
        return Err(ImportError::DecompressedTooLarge { limit_bytes: MAX_DECOMPRESSED_BYTES });
    }
    *budget = limit - used;
    Ok(out)
}

fn gunzip(bytes: &[u8], budget: &mut u64) -> Result<Vec<u8>, ImportError> {
    read_limited(flate2::read::MultiGzDecoder::new(bytes), budget, "gzip")
}

fn import_zip(bytes: &[u8], depth: u8, budget: &mut u64) -> Result<Vec<Imported>, ImportError> {
    let corrupt = |e: zip::result::ZipError| ImportError::Corrupt { format: "ZIP", detail: e.to_string() };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(corrupt)?;
    let mut out: Vec<Imported> = Vec::new();
    let mut skipped = Vec::new();
    let mut last_error = None;
    for index in 0..archive.len().min(MAX_ARCHIVE_ENTRIES) {
        let mut entry = archive.by_index(index).map_err(corrupt)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("entry {index}"));
        // The declared size can lie; read_limited enforces the budget on the real bytes.
        if entry.size() > *budget {
            return Err(ImportError::DecompressedTooLarge { limit_bytes: MAX_DECOMPRESSED_BYTES });
        }
        let data = read_limited(&mut entry, budget, "ZIP")?;
        match import_nested(&name, &data, depth + 1, budget) {
            Ok(found) => out.extend(found),
            Err(e @ ImportError::DecompressedTooLarge { .. }) => return Err(e),
            Err(e) => {
                skipped.push(ImportWarning::Skipped { item: name, code: e.code() });
                last_error = Some(e);
            }
        }
    }
    if let Some(first) = out.first_mut() {
        first.warnings.extend(skipped);
        return Ok(out);
    }
    match last_error {
        // One bad entry: its own reason says more than "nothing found".
        Some(e) if skipped.len() == 1 => Err(e),
        _ => Err(ImportError::NothingFound),
    }
}

/// An activity kind from a free label (GPX `<type>`, TCX `Sport`): Garmin keys first, then the
/// words other apps write.
fn kind_from_label(label: &str) -> ActivityKind {
    match ActivityKind::from_garmin_type_key(label) {
        ActivityKind::Other => match label.trim().to_ascii_lowercase().as_str() {
            "run" | "trail run" | "9" => ActivityKind::Running,
            "trailrun" | "trail" => ActivityKind::Trail,
            "ride" | "biking" | "bike" | "virtualride" | "1" => ActivityKind::Cycling,
            "walk" | "hike" => ActivityKind::Walking,
            "swim" => ActivityKind::Swimming,
            _ => ActivityKind::Other,
        },
        kind => kind,
    }
}

/// Whether cadence is counted per foot in files (strides/min) and must be doubled to steps/min.
fn cadence_in_strides(kind: ActivityKind) -> bool {
    kind.is_running() || kind == ActivityKind::Walking
}

/// A stable id for a file activity without a device serial: FNV-1a of the format and start time.
fn stable_id(format: &str, start: DateTime<Utc>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format.bytes().chain(start.timestamp_millis().to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{format}-{h:016x}")
}

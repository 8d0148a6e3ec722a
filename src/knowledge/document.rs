//! Knowledge base files: YAML front matter (read with serde-saphyr, a pure-Rust YAML parser that
//! reports malformed input as errors, never panics) and heading-aware chunks.

use std::path::Path;

use serde::Deserialize;

use crate::i18n::Lang;

use super::KbError;

/// Sections longer than this (in characters) are split at paragraph, then line, then sentence
/// boundaries: multilingual-e5-small reads at most 512 tokens, about 1,500 characters of French.
pub const MAX_CHUNK_CHARS: usize = 1200;

/// One knowledge base document (one markdown file).
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The file name without `.md`; the same slug names a document's translations.
    pub slug: String,
    pub lang: Lang,
    pub title: String,
    pub topic: Option<String>,
    pub tags: Vec<String>,
    pub sources: Vec<String>,
    /// The markdown after the front matter.
    pub body: String,
}

/// A passage to index: a `##` section (or part of one) of a document.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// Index of the document in the knowledge base's document list.
    pub doc_index: usize,
    pub doc: String,
    pub lang: Lang,
    pub title: String,
    pub topic: Option<String>,
    pub tags: Vec<String>,
    /// Headings from the section's `##` down (empty for the text before the first `##`).
    pub heading_path: Vec<String>,
    /// Ordinal of the `##` section in its document (0 for the text before the first one). The
    /// French and English versions of a document have the same sections in the same order, so
    /// `(doc, section)` names a passage's translation.
    pub section: usize,
    /// 0 for a whole section or its first part; 1, 2, … for the following parts of a long one.
    pub part: usize,
    pub text: String,
}

impl Chunk {
    /// The heading shown for a hit: the heading path, or the title for a document's introduction.
    #[must_use]
    pub fn heading(&self) -> String {
        if self.heading_path.is_empty() { self.title.clone() } else { self.heading_path.join(" > ") }
    }

    /// The text given to the embedder and hashed for the cache: the title and headings situate
    /// a passage whose own text may not name its subject.
    #[must_use]
    pub fn passage(&self) -> String {
        if self.heading_path.is_empty() {
            format!("{}\n{}", self.title, self.text)
        } else {
            format!("{} > {}\n{}", self.title, self.heading_path.join(" > "), self.text)
        }
    }
}

/// Parses one markdown file with front matter.
pub fn parse_document(slug: &str, source: &str, path: &Path) -> Result<Document, KbError> {
    let bad = |msg: &str| KbError::FrontMatter { path: path.to_path_buf(), msg: msg.to_owned() };
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let rest = source.strip_prefix("---").ok_or_else(|| bad("no front matter (the file must start with ---)"))?;
    let (front, body) = match rest.find("\n---") {
        Some(end) => {
            let after = rest.get(end + 4..).unwrap_or_default();
            (rest.get(..end).unwrap_or_default(), after.split_once('\n').map_or("", |(_, b)| b))
        }
        None => return Err(bad("unterminated front matter")),
    };
    let front: FrontMatter = serde_saphyr::from_str(front).map_err(|e| bad(&e.to_string()))?;
    let lang = front.language.ok_or_else(|| bad("missing `language`"))?;
    Ok(Document {
        slug: slug.to_owned(),
        lang: lang.parse::<Lang>().map_err(|e| bad(&e.to_string()))?,
        title: front.title.filter(|t| !t.is_empty()).ok_or_else(|| bad("missing `title`"))?,
        topic: front.topic.filter(|t| !t.is_empty()),
        tags: front.tags,
        sources: front.sources,
        body: body.to_owned(),
    })
}

/// The keys a document's front matter may have; others are ignored.
#[derive(Deserialize)]
struct FrontMatter {
    title: Option<String>,
    language: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
}

/// Splits a document into chunks: one per `##` section (`###` and deeper start sub-chunks that
/// keep their parents in the heading path), long sections split further. The `#` title line is
/// dropped (the title is in every chunk's metadata); headings inside code fences are text.
#[must_use]
pub fn chunk_document(doc_index: usize, doc: &Document) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut in_fence = false;
    let mut section = 0;
    let flush = |path: &[String], section: usize, buf: &mut String, chunks: &mut Vec<Chunk>| {
        let text = buf.trim();
        if !text.is_empty() {
            for (part, piece) in split_long(text, MAX_CHUNK_CHARS).into_iter().enumerate() {
                chunks.push(Chunk {
                    doc_index,
                    doc: doc.slug.clone(),
                    lang: doc.lang,
                    title: doc.title.clone(),
                    topic: doc.topic.clone(),
                    tags: doc.tags.clone(),
                    heading_path: path.to_vec(),
                    section,
                    part,
                    text: piece,
                });
            }
        }
        buf.clear();
    };
    for line in doc.body.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let level = if in_fence { 0 } else { heading_level(line) };
        match level {
            0 => {
                buf.push_str(line);
                buf.push('\n');
            }
            1 => flush(&path, section, &mut buf, &mut chunks),
            _ => {
                flush(&path, section, &mut buf, &mut chunks);
                if level == 2 {
                    section += 1;
                }
                let title = line.trim_start_matches('#').trim().to_owned();
                // `##` is depth 1 of the path, `###` depth 2, …
                path.truncate(level - 2);
                path.push(title);
            }
        }
    }
    flush(&path, section, &mut buf, &mut chunks);
    chunks
}

/// ATX heading level (1 for `#`), or 0 when the line is not a heading.
fn heading_level(line: &str) -> usize {
    let hashes = line.chars().take_while(|c| *c == '#').count();
    let after = line.get(hashes..).unwrap_or_default();
    if (1..=6).contains(&hashes) && (after.starts_with(' ') || after.is_empty()) { hashes } else { 0 }
}

/// Splits `text` into pieces of at most `max` characters, packing whole paragraphs, else lines,
/// else sentences, else words.
fn split_long(text: &str, max: usize) -> Vec<String> {
    if text.chars().count() <= max {
        return vec![text.to_owned()];
    }
    let mut units = Vec::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        units_of(para, max, &mut units);
    }
    pack(units, max)
}

/// Breaks one paragraph into units of at most `max` characters, each tagged with the separator
/// that goes before it when packed (blank line between paragraphs, newline between lines, …).
fn units_of(para: &str, max: usize, out: &mut Vec<(&'static str, String)>) {
    let len = |s: &str| s.chars().count();
    if len(para) <= max {
        out.push(("\n\n", para.to_owned()));
        return;
    }
    let mut first = true;
    for line in para.lines().filter(|l| !l.trim().is_empty()) {
        let sep = if first { "\n\n" } else { "\n" };
        first = false;
        if len(line) <= max {
            out.push((sep, line.to_owned()));
            continue;
        }
        let mut sep = sep;
        for sentence in sentences(line) {
            if len(&sentence) <= max {
                out.push((sep, sentence));
            } else {
                let mut word_sep = sep;
                for word in sentence.split_whitespace() {
                    out.push((word_sep, word.to_owned()));
                    word_sep = " ";
                }
            }
            sep = " ";
        }
    }
}

fn sentences(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        if matches!(c, '.' | '!' | '?' | ';') && chars.peek().is_some_and(|n| n.is_whitespace()) {
            out.push(current.trim().to_owned());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

fn pack(units: Vec<(&'static str, String)>, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for (sep, unit) in units {
        if !current.is_empty() && current.chars().count() + sep.len() + unit.chars().count() > max {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str(sep);
        }
        current.push_str(&unit);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "---\ntitle: \"Tapering: how long\"\nlanguage: en\ntopic: racing\ntags: [taper, race]\nsources:\n  - \"Bosquet 2007\"\n  - 'Mujika 2003'\n---\n\n# Tapering: how long\n\nIntro text.\n\n## Why taper\n\nFatigue fades.\n\n### Glycogen\n\nStores refill.\n\n```\n## not a heading\n```\n\n## How long\n\nOne to three weeks.\n";

    fn doc() -> Document {
        parse_document("tapering", DOC, Path::new("en/tapering.md")).unwrap()
    }

    #[test]
    fn front_matter_is_read() {
        let d = doc();
        assert_eq!(d.title, "Tapering: how long");
        assert_eq!(d.lang, Lang::En);
        assert_eq!(d.topic.as_deref(), Some("racing"));
        assert_eq!(d.tags, vec!["taper", "race"]);
        assert_eq!(d.sources, vec!["Bosquet 2007", "Mujika 2003"]);
        assert!(d.body.contains("## Why taper"));
    }

    #[test]
    fn missing_language_or_front_matter_is_an_error() {
        assert!(parse_document("x", "# no front matter", Path::new("x.md")).is_err());
        assert!(parse_document("x", "---\ntitle: x\n---\nbody", Path::new("x.md")).is_err());
        assert!(parse_document("x", "---\ntitle: x\nlanguage: de\n---\nbody", Path::new("x.md")).is_err());
        // Malformed YAML is an error naming the file, not a panic.
        let e = parse_document("x", "---\ntitle: [unclosed\nlanguage: en\n---\nbody", Path::new("x.md")).unwrap_err();
        assert!(matches!(e, KbError::FrontMatter { .. }), "{e:?}");
    }

    #[test]
    fn chunks_follow_headings() {
        let chunks = chunk_document(3, &doc());
        let paths: Vec<Vec<&str>> =
            chunks.iter().map(|c| c.heading_path.iter().map(String::as_str).collect()).collect();
        assert_eq!(paths, vec![vec![], vec!["Why taper"], vec!["Why taper", "Glycogen"], vec!["How long"]]);
        assert_eq!(chunks.iter().map(|c| c.section).collect::<Vec<_>>(), vec![0, 1, 1, 2]);
        assert_eq!(chunks[0].text, "Intro text.");
        assert_eq!(chunks[0].heading(), "Tapering: how long");
        assert_eq!(chunks[2].heading(), "Why taper > Glycogen");
        assert!(chunks[2].text.contains("## not a heading"), "fenced text stays text");
        assert!(chunks.iter().all(|c| c.doc == "tapering" && c.lang == Lang::En && c.doc_index == 3));
        assert_eq!(chunks[1].passage(), "Tapering: how long > Why taper\nFatigue fades.");
    }

    #[test]
    fn long_sections_are_split_under_the_limit() {
        let para = "Easy running builds the aerobic base. ".repeat(20);
        let body = format!("## Long\n\n{para}\n\n{para}\n\n- a list line\n- another\n\n{}", "word ".repeat(400));
        let mut d = doc();
        d.body = body;
        let chunks = chunk_document(0, &d);
        assert!(chunks.len() >= 3, "{}", chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            assert!(c.text.chars().count() <= MAX_CHUNK_CHARS, "chunk {i} has {} chars", c.text.len());
            assert_eq!(c.heading_path, vec!["Long"]);
            assert_eq!(c.part, i);
        }
        let words: usize = chunks.iter().map(|c| c.text.split_whitespace().count()).sum();
        assert_eq!(words, 2 * 20 * 6 + 6 + 400, "no text is lost");
    }
}

//! A small streaming walk over GPX/TCX documents with quick-xml: namespace prefixes are dropped
//! (Garmin writes `gpxtpx:hr`, `ns3:hr` or `hr` for the same thing), element text is collected
//! across entity references, and the caller sees the path of local names.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{ImportError, strip_bom};

/// Deeper documents are not GPX or TCX; refusing them bounds the path's memory.
const MAX_DEPTH: usize = 64;

pub(super) enum Node<'a> {
    /// An element opens; its attributes as (local name, value).
    Open { attrs: &'a [(String, String)] },
    /// An element closes, with its text content (trimmed).
    Close { text: &'a str },
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn attributes(e: &BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .filter_map(Result::ok)
        .map(|a| {
            let key = local(a.key.as_ref()).to_owned();
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_or_else(|_| a.value.to_string(), |v| v.into_owned());
            (key, value)
        })
        .collect()
}

fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix('x').or_else(|| n.strip_prefix('X')) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Walks the document, calling `f(path, node)`; `path` ends with the current element's local name.
pub(super) fn walk(
    bytes: &[u8],
    format: &'static str,
    mut f: impl FnMut(&[String], Node<'_>) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let text = std::str::from_utf8(strip_bom(bytes))
        .map_err(|e| ImportError::Corrupt { format, detail: format!("not UTF-8: {e}") })?;
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| ImportError::Corrupt { format, detail: e.to_string() })?;
        match event {
            Event::Start(e) => {
                if path.len() >= MAX_DEPTH {
                    return Err(ImportError::Corrupt { format, detail: "nesting too deep".into() });
                }
                path.push(local(e.name().as_ref()).to_owned());
                texts.push(String::new());
                f(&path, Node::Open { attrs: &attributes(&e) })?;
            }
            Event::Empty(e) => {
                path.push(local(e.name().as_ref()).to_owned());
                f(&path, Node::Open { attrs: &attributes(&e) })?;
                f(&path, Node::Close { text: "" })?;
                path.pop();
            }
            Event::Text(t) => {
                if let Some(buf) = texts.last_mut() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(buf) = texts.last_mut() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let (Some(buf), Some(c)) = (texts.last_mut(), resolve_entity(&r)) {
                    buf.push(c);
                }
            }
            Event::End(_) => {
                let buf = texts.pop().unwrap_or_default();
                f(&path, Node::Close { text: buf.trim() })?;
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(ImportError::Corrupt { format, detail: "document ends early".into() });
    }
    Ok(())
}

/// The document's root element local name, if the start parses as XML.
pub(super) fn root_name(bytes: &[u8]) -> Option<String> {
    // The root is near the top: sniffing does not need the whole document to be valid UTF-8.
    let head = bytes.get(..bytes.len().min(4096)).unwrap_or(bytes);
    let head = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(head.get(..e.valid_up_to()).unwrap_or_default()).ok()?,
    };
    let mut reader = Reader::from_str(head);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => return Some(local(e.name().as_ref()).to_owned()),
            Event::Eof => return None,
            _ => {}
        }
    }
}

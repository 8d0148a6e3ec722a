//! The core's light markdown rendered for Telegram: HTML parse mode (three characters to escape,
//! no surprises with user text the way MarkdownV2's eighteen reserved characters have), and long
//! replies split below Telegram's 4,096-character limit.

/// Telegram's limit is 4,096 characters after entities are parsed; keep a margin for tags.
pub const MAX_CHUNK: usize = 3_800;

/// Escapes text for Telegram's HTML parse mode.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Converts `**bold**` and `` `code` `` to HTML, escaping everything else. Unpaired markers are
/// kept as literal text, so a stray `**` in user text cannot break the message.
#[must_use]
pub fn to_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut rest = markdown;
    while !rest.is_empty() {
        let bold = rest.find("**");
        let code = rest.find('`');
        let next = match (bold, code) {
            (Some(b), Some(c)) => Some(b.min(c)),
            (b, c) => b.or(c),
        };
        let Some(at) = next else {
            out.push_str(&escape(rest));
            break;
        };
        let (before, marked) = rest.split_at(at);
        out.push_str(&escape(before));
        let (marker, tag) = if marked.starts_with("**") { ("**", "b") } else { ("`", "code") };
        let inner_start = marker.len();
        match marked.get(inner_start..).and_then(|s| s.find(marker)) {
            Some(len) if len > 0 => {
                let inner = marked.get(inner_start..inner_start + len).unwrap_or_default();
                out.push_str(&format!("<{tag}>{}</{tag}>", escape(inner)));
                rest = marked.get(inner_start + len + marker.len()..).unwrap_or_default();
            }
            _ => {
                out.push_str(&escape(marker));
                rest = marked.get(inner_start..).unwrap_or_default();
            }
        }
    }
    out
}

/// Long text split below the platform's limit (the core's splitter, shared by the adapters).
pub use runcoach_core::chat::split_text as split;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_user_text_and_converts_markers() {
        assert_eq!(to_html("a < b & c > d"), "a &lt; b &amp; c &gt; d");
        assert_eq!(
            to_html("**Ton profil** : `/profile poids 70`"),
            "<b>Ton profil</b> : <code>/profile poids 70</code>"
        );
        assert_eq!(to_html("**<script>**"), "<b>&lt;script&gt;</b>");
        assert_eq!(to_html("2 ** 3 and a lone `"), "2 ** 3 and a lone `");
        assert_eq!(to_html("****"), "****");
        assert_eq!(to_html("max_hr_zone _x_"), "max_hr_zone _x_");
    }

    #[test]
    fn splits_at_natural_boundaries_within_the_limit() {
        let para = "word ".repeat(300);
        let text = format!("{para}\n\n{para}\n\n{para}");
        let chunks = split(&text, 2000);
        assert!(chunks.iter().all(|c| c.chars().count() <= 2000));
        assert_eq!(chunks.len(), 3);
        let joined: String = chunks.join(" ");
        assert_eq!(joined.split_whitespace().count(), 900, "no word lost");
        // One huge word is cut, not lost.
        let long = "é".repeat(9000);
        let chunks = split(&long, 4000);
        assert_eq!(chunks.iter().map(|c| c.chars().count()).sum::<usize>(), 9000);
        assert!(chunks.iter().all(|c| c.chars().count() <= 4000));
        assert_eq!(split("short", 10), vec!["short".to_owned()]);
    }
}

//! Making page and network strings safe to show as text (SPEC §9: "every string that came
//! from the network or the page is rendered as text"). The panel only ever inserts text nodes;
//! these helpers handle what text nodes alone do not:
//! * **Direction and invisible characters.** A URL or gadget name can hold bidi overrides
//!   (U+202E) that reorder what follows, or zero-width characters that hide a difference.
//!   They are shown as visible `⟨U+202E⟩` markers, so what the user reads is what was sent.
//! * **Size.** A 100 KB URL is clipped for rows (the details pane shows more, still bounded).

use crate::model::{Source, SourceKind};

/// Longest text a log row or group row shows (characters).
pub const ROW_CHARS: usize = 300;
/// Longest text the details pane shows for one field (characters).
pub const DETAIL_CHARS: usize = 8_192;

/// True for characters shown as `⟨U+XXXX⟩`: controls, bidi controls and invisible formatters.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// `text` as it should be displayed: hidden characters made visible, clipped to `max`
/// characters with `…` (the second value says whether it was clipped).
pub fn display(text: &str, max: usize) -> (String, bool) {
    let mut out = String::with_capacity(text.len().min(max * 4 + 8));
    for (shown, c) in text.chars().enumerate() {
        if shown >= max {
            out.push('…');
            return (out, true);
        }
        if is_hidden_char(c) {
            out.push_str(&format!("⟨U+{:04X}⟩", c as u32));
        } else {
            out.push(c);
        }
    }
    (out, false)
}

/// [`display`] for a row: clipped to [`ROW_CHARS`].
pub fn row_text(text: &str) -> String {
    display(text, ROW_CHARS).0
}

/// A stable identity of a source for grouping and filtering: its consent scope
/// (`gadget:NAME`, `user-script:PAGE`, `site-script`, `script:URL`), `extension:ID`, or `page`.
pub fn source_key(source: &Source) -> String {
    if let Some(scope) = source.scope() {
        return scope;
    }
    match (source.kind, source.name.as_deref()) {
        (SourceKind::Extension, Some(n)) => format!("extension:{n}"),
        (SourceKind::Extension, None) => "extension".to_string(),
        _ => "page".to_string(),
    }
}

/// What a stack frame's URL says about the ResourceLoader module or page behind it: the module
/// of a `load.php` URL naming exactly one (debug mode), the module of an `mw-module://` tag,
/// or the title of an `index.php?action=raw` script. `None` for a batch of several modules
/// (its position inside the batch decides, which the event does not record per frame).
pub fn frame_module(url: &str) -> Option<String> {
    if let Some(rest) = url.strip_prefix("mw-module://") {
        let name = rest.split(['/', '?', '#']).next().unwrap_or("");
        return (!name.is_empty()).then(|| name.to_string());
    }
    let parsed = url::Url::parse(url).ok()?;
    let path = parsed.path();
    let query = |key: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    if path.ends_with("/load.php") {
        let modules = crate::attribution::mediawiki::unpack_modules(&query("modules")?);
        return match modules.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
    }
    if path.ends_with("/index.php") && query("action").as_deref() == Some("raw") {
        return query("title").map(|t| t.replace('_', " "));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_become_visible() {
        assert_eq!(
            display("evil\u{202E}gpj.exe", 100),
            ("evil⟨U+202E⟩gpj.exe".to_string(), false)
        );
        assert_eq!(display("a\u{200B}b\nc", 100).0, "a⟨U+200B⟩b⟨U+000A⟩c");
        // Markup is only text here; nothing to change.
        assert_eq!(
            display("<img src=x onerror=alert(1)>", 100).0,
            "<img src=x onerror=alert(1)>"
        );
    }

    #[test]
    fn long_text_is_clipped_by_characters() {
        let long = "é".repeat(100_000);
        let (shown, clipped) = display(&long, ROW_CHARS);
        assert!(clipped);
        assert_eq!(shown.chars().count(), ROW_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(display("abc", 3), ("abc".to_string(), false));
        assert_eq!(display("abcd", 3), ("abc…".to_string(), true));
    }

    #[test]
    fn source_keys() {
        let g = Source::named(SourceKind::Gadget, Some("HotCat".into()));
        assert_eq!(source_key(&g), "gadget:HotCat");
        assert_eq!(source_key(&Source::page()), "page");
        let x = Source::named(SourceKind::Extension, Some("abc".into()));
        assert_eq!(source_key(&x), "extension:abc");
        let s = Source::named(SourceKind::SiteScript, Some("site".into()));
        assert_eq!(source_key(&s), "site-script");
    }

    #[test]
    fn frame_modules() {
        assert_eq!(
            frame_module(
                "https://w.example/w/load.php?debug=1&modules=ext.gadget.Foo&only=scripts"
            )
            .as_deref(),
            Some("ext.gadget.Foo")
        );
        assert_eq!(
            frame_module("https://w.example/w/load.php?modules=ext.gadget.A%2CB&skin=vector"),
            None
        );
        assert_eq!(
            frame_module("mw-module://ext.gadget.Bar/x").as_deref(),
            Some("ext.gadget.Bar")
        );
        assert_eq!(
            frame_module("https://w.example/w/index.php?title=User:A_B/common.js&action=raw")
                .as_deref(),
            Some("User:A B/common.js")
        );
        assert_eq!(frame_module("https://cdn.example/lib.js"), None);
        assert_eq!(frame_module("not a url"), None);
    }
}

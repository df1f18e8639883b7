//! A small CSS tokenizer for what loads: `@import`, `url()` and `@font-face` `src`.
//!
//! Hand-written rather than a CSS parser crate: only three constructs matter, and they must be
//! found in stylesheets as well as in CSS text built by JavaScript (`mw.util.addCSS`, `<style>`
//! contents, `style` attributes). Comments and strings are skipped properly (a URL in a comment
//! or in `content: "…"` is not a load); escapes are decoded in `url()` values.

use super::value::Str;
use super::{Output, RawFinding};
use crate::model::Channel;

/// What a URL in CSS is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CssKind {
    Import,
    Url,
    FontFace,
}

impl CssKind {
    pub fn channel(self) -> Channel {
        match self {
            CssKind::Import => Channel::CssImport,
            CssKind::Url => Channel::CssUrl,
            CssKind::FontFace => Channel::FontFace,
        }
    }

    pub fn api(self) -> &'static str {
        match self {
            CssKind::Import => "@import",
            CssKind::Url => "url()",
            CssKind::FontFace => "@font-face",
        }
    }
}

fn starts_with_ci(s: &[u8], at: usize, word: &[u8]) -> bool {
    s.len() >= at + word.len() && s[at..at + word.len()].eq_ignore_ascii_case(word)
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b >= 0x80 || b == b'\\'
}

/// Skips whitespace and comments from `i`.
fn skip_space(s: &[u8], mut i: usize) -> usize {
    loop {
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        if i + 1 < s.len() && s[i] == b'/' && s[i + 1] == b'*' {
            i = find_comment_end(s, i + 2);
        } else {
            return i;
        }
    }
}

fn find_comment_end(s: &[u8], from: usize) -> usize {
    let mut j = from;
    while j + 1 < s.len() {
        if s[j] == b'*' && s[j + 1] == b'/' {
            return j + 2;
        }
        j += 1;
    }
    s.len()
}

/// Reads a quoted string at `i` (which is the quote); returns the decoded value and the end.
fn read_string(text: &str, i: usize) -> (String, usize) {
    let s = text.as_bytes();
    let quote = s[i];
    let mut out = String::new();
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b if b == quote => return (out, j + 1),
            b'\n' => return (out, j),
            b'\\' => {
                let (c, next) = read_escape(text, j);
                if let Some(c) = c {
                    out.push(c);
                }
                j = next;
            }
            _ => {
                let c = text[j..].chars().next().unwrap_or('\u{fffd}');
                out.push(c);
                j += c.len_utf8();
            }
        }
    }
    (out, s.len())
}

/// A CSS escape at `i` (the backslash): hex digits with one optional space, or one character.
fn read_escape(text: &str, i: usize) -> (Option<char>, usize) {
    let s = text.as_bytes();
    let mut j = i + 1;
    if j >= s.len() {
        return (None, j);
    }
    if s[j] == b'\n' {
        return (None, j + 1);
    }
    let start = j;
    while j < s.len() && j - start < 6 && s[j].is_ascii_hexdigit() {
        j += 1;
    }
    if j > start {
        let code = u32::from_str_radix(&text[start..j], 16).unwrap_or(0xfffd);
        if j < s.len() && s[j].is_ascii_whitespace() {
            j += 1;
        }
        return (Some(char::from_u32(code).unwrap_or('\u{fffd}')), j);
    }
    let c = text[j..].chars().next().unwrap_or('\u{fffd}');
    (Some(c), j + c.len_utf8())
}

/// Reads `url(…)` whose `(` is at `open`; returns the value and the end.
fn read_url(text: &str, open: usize) -> (String, usize) {
    let s = text.as_bytes();
    let mut j = skip_space(s, open + 1);
    if j < s.len() && (s[j] == b'"' || s[j] == b'\'') {
        let (value, end) = read_string(text, j);
        let mut k = skip_space(s, end);
        // Skip to the closing parenthesis (url modifiers are rare).
        while k < s.len() && s[k] != b')' && s[k] != b';' && s[k] != b'}' {
            k += 1;
        }
        return (value, (k + 1).min(s.len()));
    }
    let mut out = String::new();
    while j < s.len() && s[j] != b')' {
        if s[j] == b'\\' {
            let (c, next) = read_escape(text, j);
            if let Some(c) = c {
                out.push(c);
            }
            j = next;
        } else {
            let c = text[j..].chars().next().unwrap_or('\u{fffd}');
            out.push(c);
            j += c.len_utf8();
        }
    }
    (out.trim().to_string(), (j + 1).min(s.len()))
}

/// Calls `found(kind, url, offset)` for each load in a stylesheet (or a declaration list).
pub fn scan_css(text: &str, mut found: impl FnMut(CssKind, String, usize)) {
    let s = text.as_bytes();
    let n = s.len();
    let mut i = 0;
    // Block stack: true for an `@font-face` block.
    let mut blocks: Vec<bool> = Vec::new();
    let mut font_face_next = false;
    while i < n {
        let b = s[i];
        match b {
            b'/' if i + 1 < n && s[i + 1] == b'*' => i = find_comment_end(s, i + 2),
            b'"' | b'\'' => i = read_string(text, i).1,
            b'\\' => i = read_escape(text, i).1,
            b'{' => {
                blocks.push(font_face_next);
                font_face_next = false;
                i += 1;
            }
            b'}' => {
                blocks.pop();
                i += 1;
            }
            b';' => {
                font_face_next = false;
                i += 1;
            }
            b'@' if starts_with_ci(s, i + 1, b"import")
                && !s.get(i + 7).is_some_and(|c| is_ident(*c)) =>
            {
                let start = i;
                let j = skip_space(s, i + 7);
                if j < n && (s[j] == b'"' || s[j] == b'\'') {
                    let (value, end) = read_string(text, j);
                    found(CssKind::Import, value, start);
                    i = end;
                } else if starts_with_ci(s, j, b"url(") {
                    let (value, end) = read_url(text, j + 3);
                    found(CssKind::Import, value, start);
                    i = end;
                } else {
                    i = j.max(i + 1);
                }
            }
            b'@' if starts_with_ci(s, i + 1, b"font-face") => {
                font_face_next = true;
                i += 10;
            }
            _ if is_ident(b) => {
                let start = i;
                while i < n && is_ident(s[i]) && s[i] != b'\\' {
                    i += 1;
                }
                if i < n && s[i] == b'(' && text[start..i].eq_ignore_ascii_case("url") {
                    let (value, end) = read_url(text, i);
                    let kind = if blocks.last().copied().unwrap_or(false) {
                        CssKind::FontFace
                    } else {
                        CssKind::Url
                    };
                    found(kind, value, start);
                    i = end;
                } else if i == start {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
}

/// A stylesheet: findings at their own positions.
pub fn scan_stylesheet(text: &str, out: &mut Output<'_>) {
    scan_css(text, |kind, url, offset| {
        out.push(RawFinding {
            api: kind.api(),
            channel: kind.channel(),
            directive: None,
            url: Str::lit(&url),
            carries: 0,
            offset,
            function: None,
            likely: false,
        });
    });
}

/// Placeholder for an unknown part of a string while it is scanned as text.
pub const HOLE: char = '\u{E000}';

/// Flattens a [`Str`] to text with [`HOLE`] for each unknown part.
pub fn flatten(value: &Str) -> String {
    let mut out = String::new();
    for p in &value.parts {
        match p {
            super::value::Part::Lit(s) => out.push_str(s),
            super::value::Part::Hole(_) => out.push(HOLE),
        }
    }
    out
}

/// The inverse of [`flatten`]: text with holes back to a [`Str`] (holes become unknown).
pub fn unflatten(text: &str, carries: u8) -> Str {
    let mut out = Str::default();
    let mut first = true;
    for piece in text.split(HOLE) {
        if !first {
            out.push_hole(super::value::Hole::Unknown);
        }
        first = false;
        out.push_lit(piece);
    }
    out.carries = carries;
    out
}

/// CSS built in JavaScript: every load it contains, as (kind, url).
pub fn scan_css_value(value: &Str) -> Vec<(CssKind, Str)> {
    let text = flatten(value);
    let mut found = Vec::new();
    scan_css(&text, |kind, url, _| {
        found.push((kind, unflatten(&url, value.carries)));
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(CssKind, String)> {
        let mut v = Vec::new();
        scan_css(text, |k, u, _| v.push((k, u)));
        v
    }

    #[test]
    fn imports_urls_fonts() {
        let css = r#"
            /* @import url(https://comment.example/x.css); */
            @import "https://a.example/a.css";
            @import url('https://b.example/b.css') screen;
            @IMPORT url(https://c.example/c.css);
            .x { background: url( "https://d.example/d.png" ) no-repeat; content: "url(https://no.example/)"; }
            @font-face { font-family: X; src: local(X), url(https://e.example/e.woff2) format("woff2"); }
            .y { background-image: URL(https://f.example/f\.png); }
        "#;
        let found = all(css);
        assert_eq!(
            found,
            vec![
                (CssKind::Import, "https://a.example/a.css".into()),
                (CssKind::Import, "https://b.example/b.css".into()),
                (CssKind::Import, "https://c.example/c.css".into()),
                (CssKind::Url, "https://d.example/d.png".into()),
                (CssKind::FontFace, "https://e.example/e.woff2".into()),
                (CssKind::Url, "https://f.example/f.png".into()),
            ]
        );
    }

    #[test]
    fn hostile_input_terminates() {
        for text in [
            "url(",
            "@import",
            "\"\\",
            "/*",
            "@font-face{url(",
            "\\",
            "url('x",
        ] {
            let _ = all(text);
        }
    }
}

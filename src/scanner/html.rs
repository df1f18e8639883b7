//! HTML given to `innerHTML`, `$()`, `.html()`, `.append()`, `document.write` …: a small tag
//! tokenizer (no tree, no entities beyond `&amp;`) that finds the attributes that load, and the
//! element → channel table shared with `document.createElement` / jQuery elements.

use crate::model::{Channel, Directive};

/// One start tag with its attributes (names lower-cased).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// Offset of `<` in the scanned text.
    pub offset: usize,
}

impl Tag {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Start tags of `text`, and the contents of its `<style>` elements.
pub fn tags(text: &str) -> (Vec<Tag>, Vec<String>) {
    let s = text.as_bytes();
    let n = s.len();
    let mut out = Vec::new();
    let mut styles = Vec::new();
    let mut i = 0;
    while i < n {
        let Some(lt) = text[i..].find('<').map(|p| p + i) else {
            break;
        };
        i = lt + 1;
        if text[i..].starts_with("!--") {
            i = text[i..].find("-->").map_or(n, |p| i + p + 3);
            continue;
        }
        if i >= n || !s[i].is_ascii_alphabetic() {
            continue;
        }
        let start = i;
        while i < n && (s[i].is_ascii_alphanumeric() || s[i] == b'-' || s[i] == b':') {
            i += 1;
        }
        let mut tag = Tag {
            name: text[start..i].to_ascii_lowercase(),
            attrs: Vec::new(),
            offset: lt,
        };
        // Attributes.
        loop {
            while i < n && (s[i].is_ascii_whitespace() || s[i] == b'/') {
                i += 1;
            }
            if i >= n || s[i] == b'>' {
                i += 1;
                break;
            }
            let name_start = i;
            while i < n && !s[i].is_ascii_whitespace() && !matches!(s[i], b'=' | b'>' | b'/') {
                i += 1;
            }
            if i == name_start {
                i += 1;
                continue;
            }
            let name = text[name_start..i].to_ascii_lowercase();
            while i < n && s[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < n && s[i] == b'=' {
                i += 1;
                while i < n && s[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < n && (s[i] == b'"' || s[i] == b'\'') {
                    let q = s[i];
                    let vs = i + 1;
                    let end = s[vs..].iter().position(|c| *c == q).map_or(n, |p| vs + p);
                    value = text[vs..end].to_string();
                    i = (end + 1).min(n);
                } else {
                    let vs = i;
                    while i < n && !s[i].is_ascii_whitespace() && s[i] != b'>' {
                        i += 1;
                    }
                    value = text[vs..i].to_string();
                }
            }
            tag.attrs.push((name, value.replace("&amp;", "&")));
        }
        if tag.name == "style" || tag.name == "script" {
            let close = format!("</{}", tag.name);
            let lower_rest = text[i.min(n)..].to_ascii_lowercase();
            let end = lower_rest.find(&close).map_or(n, |p| i + p);
            if tag.name == "style" {
                styles.push(text[i.min(n)..end].to_string());
            }
            i = end;
        }
        out.push(tag);
    }
    (out, styles)
}

/// Attributes of an element that make it load something (or navigate).
pub fn url_attrs(tag: &str) -> &'static [&'static str] {
    match tag {
        "script" | "img" | "iframe" | "frame" | "embed" | "audio" | "track" | "input" => {
            &["src", "srcset"]
        }
        "source" => &["src", "srcset"],
        "video" => &["src", "poster"],
        "link" | "a" | "area" | "image" => &["href"],
        "object" => &["data"],
        "form" => &["action"],
        _ => &[],
    }
}

/// The channel of `tag[attr]` (SPEC §4). `likely` when the element's role is guessed (a
/// `<link>` without `rel`).
pub fn channel_for(
    tag: &str,
    attr: &str,
    rel: Option<&str>,
    type_: Option<&str>,
    as_: Option<&str>,
) -> Option<(Channel, Option<Directive>, bool)> {
    let plain = |c: Channel| Some((c, None, false));
    match (tag, attr) {
        ("script", "src") => {
            if type_.is_some_and(|t| t.trim().eq_ignore_ascii_case("module")) {
                plain(Channel::Module)
            } else {
                plain(Channel::Script)
            }
        }
        ("link", "href") => {
            let rel = rel.map(str::to_ascii_lowercase);
            let has = |w: &str| {
                rel.as_deref()
                    .is_some_and(|r| r.split_ascii_whitespace().any(|t| t == w))
            };
            if has("stylesheet") {
                plain(Channel::Style)
            } else if has("modulepreload") {
                Some((Channel::Preload, Some(Directive::ScriptSrc), false))
            } else if has("preload") || has("prefetch") {
                Some((
                    Channel::Preload,
                    Some(Directive::for_preload_as(as_.unwrap_or(""))),
                    false,
                ))
            } else if has("preconnect") || has("dns-prefetch") {
                plain(Channel::Preload)
            } else if has("icon") || has("apple-touch-icon") {
                plain(Channel::Img)
            } else if has("manifest") {
                Some((Channel::Preload, Some(Directive::ManifestSrc), false))
            } else if rel.is_some() {
                // alternate, canonical, …: not loaded by the browser.
                None
            } else {
                Some((Channel::Style, None, true))
            }
        }
        ("img" | "input" | "image", _) => plain(Channel::Img),
        ("source", "srcset") => plain(Channel::Img),
        ("source" | "audio" | "track", _) | ("video", "src") => plain(Channel::Media),
        ("video", "poster") => plain(Channel::Img),
        ("iframe" | "frame", "src") => plain(Channel::Frame),
        ("object", "data") | ("embed", "src") => plain(Channel::Object),
        ("a" | "area", "href") | ("form", "action") => plain(Channel::Navigate),
        _ => None,
    }
}

/// The first URL of a `srcset` value (`a.png 1x, b.png 2x`).
pub fn first_srcset_url(value: &str) -> &str {
    value
        .trim()
        .split(',')
        .next()
        .unwrap_or("")
        .split_ascii_whitespace()
        .next()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tags_and_styles() {
        let (tags, styles) = tags(
            "<div class=x><img src='https://a/x.png' alt=\"<b>\"><!-- <script src=//c/> -->\
             <script type=module src=https://b/m.js></script><style>@import 'x.css'</style><a href=\"/wiki/X?a=1&amp;b=2\">x</a>",
        );
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["div", "img", "script", "style", "a"]);
        assert_eq!(tags[1].attr("src"), Some("https://a/x.png"));
        assert_eq!(tags[2].attr("type"), Some("module"));
        assert_eq!(tags[4].attr("href"), Some("/wiki/X?a=1&b=2"));
        assert_eq!(styles, ["@import 'x.css'"]);
    }

    #[test]
    fn hostile_html_terminates() {
        for t in [
            "<", "<a", "<a b", "<a b=", "<a b='", "<style>", "<!--", "<a/////>",
        ] {
            let _ = tags(t);
        }
    }
}

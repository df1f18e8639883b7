//! Translatable messages (SPEC §9, issue 3/7 item 7): MediaWiki "banana" JSON files in
//! `i18n/`, embedded at build time, looked up per key with a fallback to English.
//!
//! * Files: `i18n/en.json` (source), `i18n/qqq.json` (documentation for translators) and
//!   translations (`i18n/de.json`, partial). A translation may leave keys out: each missing
//!   key falls back to English on its own.
//! * Language choice: the page's user language (`wgUserLanguage`), then its base language
//!   (`de-at` → `de`), then English. `qqx` shows message keys, as MediaWiki's `uselang=qqx`.
//! * Syntax: `$1`…`$9` parameters and `{{PLURAL:$1|one|other}}` (the plural forms of the
//!   language; the last form is used when fewer are given). Parameter values are inserted
//!   once and never read as syntax, so a gadget named `}}|$2` stays that text.
//!
//! Every key used in code is a string literal starting with `tpr-` (the test `tests/i18n.rs`
//! scans `src/` for them and compares with the files).

use crate::json::JsonValue;
use std::collections::HashMap;

/// The embedded message files: (language code, JSON text).
const FILES: [(&str, &str); 2] = [
    ("en", include_str!("../../i18n/en.json")),
    ("de", include_str!("../../i18n/de.json")),
];

/// Parses one banana file: every string member except `@metadata`. Invalid files give an
/// empty table (a build-time test checks them all).
pub fn parse_messages(text: &str) -> HashMap<String, String> {
    let Ok(doc) = crate::json::parse(text) else {
        return HashMap::new();
    };
    let JsonValue::Object(members) = doc.value else {
        return HashMap::new();
    };
    members
        .into_iter()
        .filter(|(k, _)| !k.value.starts_with('@'))
        .filter_map(|(k, v)| match v.value {
            JsonValue::String(s) => Some((k.value, s)),
            _ => None,
        })
        .collect()
}

/// The languages with a message file.
pub fn languages() -> Vec<&'static str> {
    FILES.iter().map(|(l, _)| *l).collect()
}

/// Messages of one language with English behind it.
#[derive(Debug, Clone)]
pub struct Catalog {
    lang: String,
    own: HashMap<String, String>,
    en: HashMap<String, String>,
    show_keys: bool,
}

fn file_for(lang: &str) -> Option<&'static str> {
    FILES.iter().find(|(l, _)| *l == lang).map(|(_, t)| *t)
}

impl Catalog {
    /// The catalog for the user language `lang` (any case, `_` or `-`); English when there is
    /// no translation.
    pub fn new(lang: Option<&str>) -> Catalog {
        let en = parse_messages(file_for("en").unwrap_or("{}"));
        let wanted = lang
            .map(|l| l.trim().to_ascii_lowercase().replace('_', "-"))
            .unwrap_or_default();
        if wanted == "qqx" {
            return Catalog {
                lang: "qqx".into(),
                own: HashMap::new(),
                en,
                show_keys: true,
            };
        }
        let base = wanted.split('-').next().unwrap_or("").to_string();
        for candidate in [wanted.as_str(), base.as_str()] {
            if candidate.is_empty() || candidate == "en" {
                continue;
            }
            if let Some(text) = file_for(candidate) {
                return Catalog {
                    lang: candidate.to_string(),
                    own: parse_messages(text),
                    en,
                    show_keys: false,
                };
            }
        }
        Catalog {
            lang: "en".into(),
            own: HashMap::new(),
            en,
            show_keys: false,
        }
    }

    /// The language whose messages are used first (`en` when none matched).
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// The raw template of `key` (translation, else English), if any.
    pub fn template(&self, key: &str) -> Option<&str> {
        self.own
            .get(key)
            .or_else(|| self.en.get(key))
            .map(String::as_str)
    }

    /// A message without parameters. A missing key shows as `⧼key⧽`, as MediaWiki does.
    pub fn msg(&self, key: &str) -> String {
        self.fmt(key, &[])
    }

    /// A message with parameters `$1`, `$2`, … taken from `params`.
    pub fn fmt(&self, key: &str, params: &[&str]) -> String {
        if self.show_keys {
            return if params.is_empty() {
                format!("({key})")
            } else {
                format!("({key}: {})", params.join(", "))
            };
        }
        match self.template(key) {
            Some(t) => expand(t, params, &self.lang),
            None => format!("⧼{key}⧽"),
        }
    }
}

/// Index of the plural form for `n` in `lang` (0 = "one", 1 = "other" for the languages
/// shipped; French-style languages count 0 as "one").
pub fn plural_index(lang: &str, n: f64) -> usize {
    let one = match lang {
        "fr" | "pt" => n.abs() < 2.0 && n.fract() == 0.0,
        _ => n == 1.0,
    };
    if one {
        0
    } else {
        1
    }
}

/// Expands a template: `{{PLURAL:…|…}}` first (its number may be a parameter), `$N` by
/// the N-th parameter (kept as written when missing). Values are never re-scanned.
pub fn expand(template: &str, params: &[&str], lang: &str) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("{{PLURAL:") {
            if let Some(end) = after.find("}}") {
                let inner = &after[..end];
                let mut parts = inner.split('|');
                let head = parts.next().unwrap_or("").trim();
                let forms: Vec<&str> = parts.collect();
                let number_text = match param_index(head) {
                    Some(i) => params.get(i).copied().unwrap_or(""),
                    None => head,
                };
                let n = number_text
                    .chars()
                    .filter(|c| *c != ',' && !c.is_whitespace())
                    .collect::<String>()
                    .parse::<f64>()
                    .unwrap_or(0.0);
                if !forms.is_empty() {
                    let i = plural_index(lang, n).min(forms.len() - 1);
                    substitute(forms[i], params, &mut out);
                }
                rest = &after[end + 2..];
                continue;
            }
        }
        // Copy up to the next possible syntax start.
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let next = rest[first..]
            .find(['{', '$'])
            .map_or(rest.len(), |i| i + first);
        let (chunk, tail) = rest.split_at(next);
        substitute(chunk, params, &mut out);
        rest = tail;
    }
    out
}

/// `$1` → 0 for a whole `$N` text.
fn param_index(text: &str) -> Option<usize> {
    let digits = text.strip_prefix('$')?;
    let n: usize = digits.parse().ok()?;
    n.checked_sub(1)
}

fn substitute(text: &str, params: &[&str], out: &mut String) {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '$' {
            let start = i + 1;
            let mut end = start;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_digit() && j == end {
                    end = j + 1;
                    chars.next();
                } else {
                    break;
                }
            }
            if end > start {
                let value = text[start..end]
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|n| params.get(n));
                match value {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&text[i..end]),
                }
                continue;
            }
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_plural() {
        assert_eq!(expand("$1 of $2", &["3", "10"], "en"), "3 of 10");
        assert_eq!(
            expand("{{PLURAL:$1|one request|$1 requests}}", &["1"], "en"),
            "one request"
        );
        assert_eq!(
            expand("{{PLURAL:$1|one request|$1 requests}}", &["0"], "en"),
            "0 requests"
        );
        assert_eq!(
            expand("{{PLURAL:$1|one request|$1 requests}}", &["1,234"], "en"),
            "1,234 requests"
        );
        // A single form serves every number; a missing parameter stays as written.
        assert_eq!(expand("{{PLURAL:$1|x}} $3", &["5"], "en"), "x $3");
        // French counts 0 as singular.
        assert_eq!(expand("{{PLURAL:$1|a|b}}", &["0"], "fr"), "a");
        // Unterminated syntax is text.
        assert_eq!(expand("{{PLURAL:$1|a", &["1"], "en"), "{{PLURAL:1|a");
    }

    #[test]
    fn parameter_values_are_not_syntax() {
        assert_eq!(
            expand(
                "$1 and {{PLURAL:$2|one|many}}",
                &["$2 }}|{{PLURAL:1|x}}", "1"],
                "en"
            ),
            "$2 }}|{{PLURAL:1|x}} and one"
        );
        assert_eq!(expand("$10$1", &["a"], "en"), "$10a");
        assert_eq!(expand("cost: $", &[], "en"), "cost: $");
        assert_eq!(expand("ünïcødé $1 ✓", &["→"], "en"), "ünïcødé → ✓");
    }

    #[test]
    fn language_choice_and_fallback_per_key() {
        let de = Catalog::new(Some("de-AT"));
        assert_eq!(de.lang(), "de");
        assert_eq!(de.msg("tpr-tab-log"), "Protokoll");
        // A key German does not translate falls back to English.
        let en = Catalog::new(Some("en"));
        let untranslated = parse_messages(include_str!("../../i18n/en.json"))
            .into_keys()
            .find(|k| !parse_messages(include_str!("../../i18n/de.json")).contains_key(k))
            .expect("de.json is partial");
        assert_eq!(de.msg(&untranslated), en.msg(&untranslated));
        assert_eq!(Catalog::new(Some("xx")).lang(), "en");
        assert_eq!(Catalog::new(None).lang(), "en");
        // Built at run time: a key written out would count as used (tests/i18n.rs).
        let missing = ["tpr", "no-such-key"].join("-");
        assert_eq!(en.msg(&missing), format!("⧼{missing}⧽"));
        let qqx = Catalog::new(Some("qqx"));
        assert_eq!(
            qqx.fmt("tpr-log-count", &["1", "2"]),
            "(tpr-log-count: 1, 2)"
        );
    }

    #[test]
    fn metadata_and_non_strings_are_skipped() {
        let m = parse_messages(r#"{"@metadata":{"authors":["x"]},"a":"b","n":3}"#);
        assert_eq!(m.len(), 1);
        assert_eq!(m["a"], "b");
        assert!(parse_messages("not json").is_empty());
    }
}

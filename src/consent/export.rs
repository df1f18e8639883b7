//! Export formats of the consent list (SPEC §7) besides its JSON: a `Content-Security-Policy`
//! header value, a per-gadget declaration, and a human-readable table.
//!
//! None of them can express everything the list says (CSP has no scopes and no `block`), so
//! each is derived from the `allow` rules only and is an *allowlist* equivalent, never a
//! replacement for the list itself.

use super::{ConsentList, Defaults, DirectiveSet, Scope};
use crate::model::Directive;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// A load the auditor saw a gadget make, to fold into the declaration alongside the rules.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SeenLoad {
    pub gadget: String,
    pub directive: Directive,
    /// The destination's origin, e.g. `https://fonts.googleapis.com`.
    pub source: String,
}

/// Sources per directive, both sorted.
type Needs = BTreeMap<Directive, BTreeSet<String>>;

fn add(needs: &mut Needs, directives: &DirectiveSet, source: &str) {
    for d in Directive::ALL {
        if directives.covers(d) {
            needs.entry(d).or_default().insert(source.to_string());
        }
    }
}

// The maps below are filled by `insert`, not `collect`: serde_json's `Map` is a `BTreeMap`,
// whose `FromIterator` compiles a sort per iterator type (issue 8 item 9: size); the keys
// come from a `BTreeMap`, unique and in order, so the result is the same.
fn needs_json(needs: &Needs) -> Value {
    let mut map = Map::new();
    for (d, sources) in needs {
        let list = sources.iter().cloned().map(Value::String).collect();
        map.insert(d.as_str().to_string(), Value::Array(list));
    }
    Value::Object(map)
}

fn group_json(groups: &BTreeMap<String, Needs>) -> Value {
    let mut map = Map::new();
    for (name, needs) in groups {
        map.insert(name.clone(), needs_json(needs));
    }
    Value::Object(map)
}

impl ConsentList {
    /// A `Content-Security-Policy` value equivalent to the `allow` rules: every directive in
    /// model order, `'self'` first, then the sorted, deduplicated sources allowed for it.
    /// Scopes are ignored (CSP has none) and `["*"]` rules count for every directive. An
    /// `http://`/`ws://` (or scheme-less) source with an explicit port also gets its secure
    /// twin ([`super::SourceExpr::secure_twin`]), so Chromium admits the same-port upgrade
    /// that Firefox and the auditor admit. Sources are validated CSP source expressions (no whitespace, `;` or `,`), so they
    /// cannot break the header.
    pub fn to_csp_header(&self) -> String {
        self.to_csp_header_with(&[])
    }

    /// [`Self::to_csp_header`] with `first_party` sources (see
    /// [`crate::classify::PageContext::first_party_csp_sources`]) added to every directive
    /// when the `first` default is `allow`: what that default admits beyond `'self'`.
    pub fn to_csp_header_with(&self, first_party: &[String]) -> String {
        let first_allowed = self.defaults.first == crate::model::Verdict::Allow;
        Directive::ALL
            .iter()
            .map(|&d| {
                let mut sources: BTreeSet<Cow<str>> = BTreeSet::new();
                for r in self
                    .rules
                    .iter()
                    .filter(|r| r.decision == crate::model::Verdict::Allow)
                    .filter(|r| r.directives.covers(d))
                    .filter(|r| !r.source.as_str().eq_ignore_ascii_case("'self'"))
                {
                    sources.insert(Cow::Borrowed(r.source.as_str()));
                    // What Chromium would not admit of it without (see `secure_twin`).
                    if let Some(twin) = r.source.secure_twin() {
                        sources.insert(Cow::Owned(twin));
                    }
                }
                if first_allowed {
                    sources.extend(first_party.iter().map(|s| Cow::Borrowed(s.as_str())));
                }
                let mut parts = vec![d.as_str(), "'self'"];
                parts.extend(sources.iter().map(|s| s.as_ref()));
                parts.join(" ")
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// What each piece of user code needs, by directive, from the `allow` rules scoped to it
    /// and from the loads seen (`seen`, gadgets only):
    ///
    /// ```json
    /// {"gadgets": {"Charinsert": {"style-src": ["https://fonts.googleapis.com"]}},
    ///  "userScripts": {"User:X/a.js": {"connect-src": ["https://x.toolforge.org"]}},
    ///  "siteScript": {"img-src": ["https://tile.example"]}}
    /// ```
    ///
    /// All three keys are always present. Names, directives and sources are sorted and
    /// deduplicated; a `["*"]` rule lists its source under every directive. Rules scoped `*`
    /// or to an external `script:URL` belong to no gadget and are left out (the CSP export
    /// has them). Seen loads with an empty name or source, or with control characters in
    /// either (no real gadget name or origin has them), are dropped.
    pub fn per_gadget_declaration(&self, seen: &[SeenLoad]) -> Value {
        let mut gadgets: BTreeMap<String, Needs> = BTreeMap::new();
        let mut user_scripts: BTreeMap<String, Needs> = BTreeMap::new();
        let mut site = Needs::new();
        for rule in self
            .rules
            .iter()
            .filter(|r| r.decision == crate::model::Verdict::Allow)
        {
            let needs = match &rule.scope {
                Scope::Gadget(name) => gadgets.entry(name.clone()).or_default(),
                Scope::UserScript(page) => user_scripts.entry(page.clone()).or_default(),
                Scope::SiteScript => &mut site,
                Scope::All | Scope::Script(_) => continue,
            };
            add(needs, &rule.directives, rule.source.as_str());
        }
        let clean = |s: &str| !s.is_empty() && !s.chars().any(char::is_control);
        for load in seen.iter().filter(|l| clean(&l.gadget) && clean(&l.source)) {
            gadgets
                .entry(load.gadget.clone())
                .or_default()
                .entry(load.directive)
                .or_default()
                .insert(load.source.clone());
        }
        let mut out = Map::new();
        out.insert("gadgets".to_string(), group_json(&gadgets));
        out.insert("userScripts".to_string(), group_json(&user_scripts));
        out.insert("siteScript".to_string(), needs_json(&site));
        Value::Object(out)
    }

    /// A plain-text table: one row per rule (its index, decision, source, directives,
    /// scope, added, note), then the defaults and the mode. Cells are user text, so control
    /// and invisible formatting characters are shown escaped and notes are clipped to 60
    /// characters; a pasted note cannot forge rows or reorder text.
    pub fn to_table(&self) -> String {
        const HEADER: [&str; 7] = [
            "#",
            "decision",
            "source",
            "directives",
            "scope",
            "added",
            "note",
        ];
        let mut rows: Vec<[String; 7]> = vec![HEADER.map(str::to_string)];
        for (i, r) in self.rules.iter().enumerate() {
            rows.push([
                i.to_string(),
                r.decision.as_str().to_string(),
                cell(r.source.as_str(), 200),
                r.directives.names().join(","),
                cell(&r.scope.to_string(), 200),
                r.added.as_deref().map_or("-".to_string(), |a| cell(a, 40)),
                r.note.as_deref().map_or("-".to_string(), |n| cell(n, 60)),
            ]);
        }
        let mut widths = [0usize; 7];
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        for row in &rows {
            let mut line = String::new();
            for (i, (c, w)) in row.iter().zip(widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(c);
                line.extend(std::iter::repeat_n(' ', w - c.chars().count()));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if self.rules.is_empty() {
            out.push_str("(no rules)\n");
        }
        let defaults = Defaults::NAMES
            .iter()
            .map(|n| {
                let v = self.defaults.get(n).map_or("?", |v| v.as_str());
                format!("{n} {v}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "\ndefaults: {defaults}\nmode: {}\n",
            self.mode.as_str()
        ));
        out
    }
}

/// Zero-width, bidi-control and line/paragraph-separator characters: they print as nothing
/// or reorder what follows, so a note could hide or disguise text with them.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// User text made safe for one table cell: control characters and invisible formatting
/// characters become visible escapes (`\n`, `\u{202e}`), and the text is clipped to `max`
/// characters.
fn cell(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else if is_invisible_format(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_escape_invisible_characters() {
        assert_eq!(
            cell("a\nb\t\u{202e}c\u{200b}\"", 60),
            "a\\nb\\t\\u{202e}c\\u{200b}\""
        );
        assert_eq!(cell("abcdef", 3), "abc…");
    }
}

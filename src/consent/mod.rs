//! The consent list, version 1 (SPEC §7): parse and validate it, decide a request's verdict,
//! and export it ([`export`]).
//!
//! The document is user-edited or read back from storage that may be corrupted, so
//! [`ConsentList::parse`] never trusts it: it reports *every* problem at once, each with its
//! `line:column` and JSON pointer, and unknown fields are errors so a typo (`"decison"`)
//! cannot silently drop a rule's meaning. Duplicate members are errors too, because which of
//! two values a reader would pick is exactly the kind of ambiguity a consent must not have.
//!
//! Choices worth knowing:
//! - `version` is required and must be `1`; `mode` (default `audit`), `defaults` (SPEC values)
//!   and `rules` (empty) may be left out; a rule needs `source`, `directives`, `scope` and
//!   `decision`, and may carry `added` and `note` strings.
//! - `defaults` also accepts `first` (the page's own site), `allow` unless said otherwise.
//! - `directives` are stored sorted in model order and deduplicated; `["*"]` must stand alone.
//! - A `script:URL` scope is stored as the URL parser serialises it, because the scopes it is
//!   compared with come from the browser's URL parser.
//! - `user-script:PAGE` scopes compare `_` and space as equal, like MediaWiki titles do.

pub mod export;
pub mod merge;
pub mod prepared;
pub mod source_expr;

pub use export::SeenLoad;
pub use merge::{merge, merge_from};
pub use prepared::PreparedConsent;
pub use source_expr::{SourceExpr, Specificity};

use crate::json::{self, JsonValue, Pos, Spanned};
use crate::model::{Directive, Mode, Party, Tier, Verdict};
use serde::{Serialize, Serializer};
use std::fmt;
use url::Url;

/// The only document version this crate reads and writes.
pub const VERSION: u32 = 1;

/// A validated consent list.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConsentList {
    pub version: u32,
    pub mode: Mode,
    pub defaults: Defaults,
    pub rules: Vec<Rule>,
}

impl Default for ConsentList {
    fn default() -> Self {
        ConsentList {
            version: VERSION,
            mode: Mode::default(),
            defaults: Defaults::default(),
            rules: Vec::new(),
        }
    }
}

/// The verdict for each party when no rule matches.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Defaults {
    pub wikimedia: Verdict,
    pub local: Verdict,
    pub cloud: Verdict,
    pub third: Verdict,
    /// Third-party requests of the `executable` tier.
    #[serde(rename = "executable-third")]
    pub executable_third: Verdict,
    /// The page's own site.
    pub first: Verdict,
}

impl Default for Defaults {
    /// SPEC §7's defaults; the page's own site is allowed.
    fn default() -> Self {
        Defaults {
            wikimedia: Verdict::Allow,
            local: Verdict::Allow,
            cloud: Verdict::Ask,
            third: Verdict::Ask,
            executable_third: Verdict::Block,
            first: Verdict::Allow,
        }
    }
}

impl Defaults {
    /// The JSON keys, in output order.
    pub const NAMES: [&'static str; 6] = [
        "wikimedia",
        "local",
        "cloud",
        "third",
        "executable-third",
        "first",
    ];

    pub fn get(&self, name: &str) -> Option<Verdict> {
        Some(*self.slot(name)?)
    }

    fn slot(&self, name: &str) -> Option<&Verdict> {
        Some(match name {
            "wikimedia" => &self.wikimedia,
            "local" => &self.local,
            "cloud" => &self.cloud,
            "third" => &self.third,
            "executable-third" => &self.executable_third,
            "first" => &self.first,
            _ => return None,
        })
    }

    fn slot_mut(&mut self, name: &str) -> Option<&mut Verdict> {
        Some(match name {
            "wikimedia" => &mut self.wikimedia,
            "local" => &mut self.local,
            "cloud" => &mut self.cloud,
            "third" => &mut self.third,
            "executable-third" => &mut self.executable_third,
            "first" => &mut self.first,
            _ => return None,
        })
    }

    /// The default verdict for a request nobody wrote a rule for: the one
    /// [`Defaults::name_for`] names, without looking the name up.
    pub fn for_request(&self, party: Party, tier: Tier) -> Verdict {
        match (party, tier) {
            (Party::Local, _) => self.local,
            (Party::First, _) => self.first,
            (Party::Wikimedia, _) => self.wikimedia,
            (Party::Cloud, _) => self.cloud,
            (Party::Third, Tier::Executable) => self.executable_third,
            (Party::Third, _) => self.third,
        }
    }

    /// Which default applies to a request nobody wrote a rule for.
    pub fn name_for(party: Party, tier: Tier) -> &'static str {
        match (party, tier) {
            (Party::Local, _) => "local",
            (Party::First, _) => "first",
            (Party::Wikimedia, _) => "wikimedia",
            (Party::Cloud, _) => "cloud",
            (Party::Third, Tier::Executable) => "executable-third",
            (Party::Third, _) => "third",
        }
    }
}

/// One user decision about a destination.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub source: SourceExpr,
    pub directives: DirectiveSet,
    pub scope: Scope,
    pub decision: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Rule {
    /// Two rules speak about the same thing when source, directives and scope are equal;
    /// decision, date and note are what changes.
    pub fn same_identity(&self, other: &Rule) -> bool {
        self.source.as_str() == other.source.as_str()
            && self.directives == other.directives
            && self.scope == other.scope
    }
}

/// The directives a rule covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectiveSet {
    /// `["*"]`.
    All,
    /// Sorted in model order, without duplicates, never empty.
    Only(Vec<Directive>),
}

impl DirectiveSet {
    pub fn covers(&self, directive: Directive) -> bool {
        match self {
            DirectiveSet::All => true,
            DirectiveSet::Only(list) => list.contains(&directive),
        }
    }

    /// The names as they appear in the document.
    pub fn names(&self) -> Vec<String> {
        match self {
            DirectiveSet::All => vec!["*".to_string()],
            DirectiveSet::Only(list) => list.iter().map(|d| d.as_str().to_string()).collect(),
        }
    }
}

impl Serialize for DirectiveSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl Serialize for SourceExpr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which code a rule speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `*`: every source, the page included.
    All,
    Gadget(String),
    UserScript(String),
    SiteScript,
    /// An external script, by its URL.
    Script(String),
}

impl Scope {
    pub fn parse(text: &str) -> Result<Scope, String> {
        const EXPECTED: &str =
            "expected \"*\", \"gadget:NAME\", \"user-script:PAGE\", \"site-script\" or \"script:URL\"";
        let named = |prefix: &str| -> Option<Result<String, String>> {
            let name = text.strip_prefix(prefix)?;
            Some(if name.is_empty() {
                Err(format!("the name after {prefix:?} is empty"))
            } else if name.trim() != name {
                Err("the name has leading or trailing whitespace".to_string())
            } else if name.chars().any(char::is_control) {
                Err("the name contains a control character".to_string())
            } else {
                Ok(name.to_string())
            })
        };
        match text {
            "*" => return Ok(Scope::All),
            "site-script" => return Ok(Scope::SiteScript),
            _ => {}
        }
        if let Some(name) = named("gadget:") {
            return name.map(Scope::Gadget);
        }
        if let Some(page) = named("user-script:") {
            return page.map(Scope::UserScript);
        }
        if let Some(raw) = named("script:") {
            let raw = raw?;
            return match crate::urls::parse(&raw) {
                Ok(u) if u.has_host() => Ok(Scope::Script(u.to_string())),
                _ => Err(format!("{raw:?} is not an absolute URL")),
            };
        }
        Err(EXPECTED.to_string())
    }

    /// Does this scope cover a source whose own consent scope string is `s`?
    fn covers(&self, s: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::SiteScript => s == "site-script",
            Scope::Gadget(n) => s.strip_prefix("gadget:") == Some(n.as_str()),
            Scope::Script(u) => s.strip_prefix("script:") == Some(u.as_str()),
            Scope::UserScript(p) => s.strip_prefix("user-script:").is_some_and(|q| {
                q.len() == p.len()
                    && q.chars()
                        .zip(p.chars())
                        .all(|(a, b)| a == b || (a == '_' && b == ' ') || (a == ' ' && b == '_'))
            }),
        }
    }

    /// How narrowly this scope fits a request whose source answers to `scopes` (most
    /// specific first): `Some(0)` for `*`, higher for an earlier scope, `None` if it does not
    /// apply at all.
    fn rank(&self, scopes: &[String]) -> Option<usize> {
        if *self == Scope::All {
            return Some(0);
        }
        scopes
            .iter()
            .position(|s| self.covers(s))
            .map(|i| scopes.len() - i)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Gadget(n) => write!(f, "gadget:{n}"),
            Scope::UserScript(p) => write!(f, "user-script:{p}"),
            Scope::SiteScript => f.write_str("site-script"),
            Scope::Script(u) => write!(f, "script:{u}"),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One request, as the consent list needs to see it.
#[derive(Clone, Copy, Debug)]
pub struct ConsentQuery<'a> {
    pub url: &'a Url,
    /// The page URL; its origin is `'self'`.
    pub page_origin: &'a Url,
    pub directive: Directive,
    pub party: Party,
    pub tier: Tier,
    /// The request source's consent scopes, most specific first (empty for the page).
    pub scopes: &'a [String],
}

/// A verdict and what produced it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct VerdictRecord {
    pub verdict: Verdict,
    pub rule: RuleRef,
}

/// The rule or default behind a verdict (SPEC §8 `rule`).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RuleRef {
    Rule {
        /// Position in `rules`.
        index: usize,
        source: String,
        directives: Vec<String>,
        scope: String,
        decision: Verdict,
    },
    Default {
        /// `wikimedia`, `local`, `cloud`, `third`, `executable-third` or `first`.
        name: String,
    },
}

impl ConsentList {
    /// Adds `rule`, replacing a rule with the same identity (source, directives, scope): the
    /// latest decision about one destination for one piece of code wins, and the list never
    /// holds two contradicting copies. Returns the rule's index.
    pub fn upsert_rule(&mut self, rule: Rule) -> usize {
        match self.rules.iter().position(|r| r.same_identity(&rule)) {
            Some(i) => {
                self.rules[i] = rule;
                i
            }
            None => {
                self.rules.push(rule);
                self.rules.len() - 1
            }
        }
    }

    /// What to run with when the stored list cannot be read (SPEC §7): the defaults in `ask`
    /// mode, never an allow-all.
    pub fn fallback() -> ConsentList {
        ConsentList {
            mode: Mode::Ask,
            ..ConsentList::default()
        }
    }

    /// Parses and validates a document, reporting every error found.
    pub fn parse(text: &str) -> Result<ConsentList, Vec<ConsentError>> {
        let root = json::parse(text).map_err(|e| {
            vec![ConsentError::new(
                e.pos,
                String::new(),
                ConsentErrorKind::Syntax(e.message),
            )]
        })?;
        let mut v = Validator { errors: Vec::new() };
        let list = v.list(&root);
        if v.errors.is_empty() {
            Ok(list)
        } else {
            // Document order reads best; the sort is stable, so errors at one spot keep the
            // order they were found in.
            crate::sort::sort_by_key(&mut v.errors, |e| (e.line, e.column));
            Err(v.errors)
        }
    }

    /// The document as pretty JSON in a fixed key order; `parse` reads it back unchanged.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("{{\n  \"version\": {},\n", self.version));
        out.push_str(&format!("  \"mode\": \"{}\",\n", self.mode.as_str()));
        out.push_str("  \"defaults\": {\n");
        for (i, name) in Defaults::NAMES.iter().enumerate() {
            let verdict = self.defaults.get(name).unwrap_or(Verdict::Block);
            let comma = if i + 1 < Defaults::NAMES.len() {
                ","
            } else {
                ""
            };
            out.push_str(&format!(
                "    \"{name}\": \"{}\"{comma}\n",
                verdict.as_str()
            ));
        }
        out.push_str("  },\n  \"rules\": [");
        for (i, rule) in self.rules.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            let mut fields = vec![
                ("source", json::quote(rule.source.as_str())),
                (
                    "directives",
                    format!(
                        "[{}]",
                        rule.directives
                            .names()
                            .iter()
                            .map(|d| json::quote(d))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                ("scope", json::quote(&rule.scope.to_string())),
                ("decision", json::quote(rule.decision.as_str())),
            ];
            if let Some(added) = &rule.added {
                fields.push(("added", json::quote(added)));
            }
            if let Some(note) = &rule.note {
                fields.push(("note", json::quote(note)));
            }
            let body = fields
                .iter()
                .map(|(k, v)| format!("      \"{k}\": {v}"))
                .collect::<Vec<_>>()
                .join(",\n");
            out.push_str(&format!("    {{\n{body}\n    }}"));
        }
        if !self.rules.is_empty() {
            out.push_str("\n  ");
        }
        out.push_str("]\n}\n");
        out
    }

    /// The verdict for one request (SPEC §7 precedence): among the rules whose source,
    /// directives and scope match, the narrowest scope wins, then the most specific source,
    /// then the strictest decision; on a full tie the earlier rule. No match: the party's
    /// default.
    pub fn decide(&self, q: &ConsentQuery<'_>) -> VerdictRecord {
        let mut best: Option<((usize, Specificity, u8), usize)> = None;
        for (index, rule) in self.rules.iter().enumerate() {
            if !rule.directives.covers(q.directive) {
                continue;
            }
            let Some(scope_rank) = rule.scope.rank(q.scopes) else {
                continue;
            };
            if !rule.source.matches(q.url, q.page_origin) {
                continue;
            }
            let key = (
                scope_rank,
                rule.source.specificity(q.page_origin),
                rule.decision.strictness(),
            );
            if best.as_ref().is_none_or(|(k, _)| key > *k) {
                best = Some((key, index));
            }
        }
        if let Some((index, rule)) = best.and_then(|(_, i)| Some((i, self.rules.get(i)?))) {
            return VerdictRecord {
                verdict: rule.decision,
                rule: RuleRef::Rule {
                    index,
                    source: rule.source.as_str().to_string(),
                    directives: rule.directives.names(),
                    scope: rule.scope.to_string(),
                    decision: rule.decision,
                },
            };
        }
        self.default_record(q)
    }

    /// The record when no rule matches: the party's default.
    fn default_record(&self, q: &ConsentQuery<'_>) -> VerdictRecord {
        let name = Defaults::name_for(q.party, q.tier);
        VerdictRecord {
            verdict: self.defaults.for_request(q.party, q.tier),
            rule: RuleRef::Default {
                name: name.to_string(),
            },
        }
    }
}

/// One problem in a consent document, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentError {
    pub kind: ConsentErrorKind,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// JSON pointer to the offending value (`""` for the document, `/rules/2/directives/0`).
    pub path: String,
}

impl ConsentError {
    fn new(pos: Pos, path: String, kind: ConsentErrorKind) -> ConsentError {
        ConsentError {
            kind,
            line: pos.line,
            column: pos.column,
            path,
        }
    }
}

impl fmt::Display for ConsentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}:{}: {}", self.line, self.column, self.kind)
        } else {
            write!(
                f,
                "{}:{} {}: {}",
                self.line, self.column, self.path, self.kind
            )
        }
    }
}

impl std::error::Error for ConsentError {}

/// What is wrong. Offending values are stored clipped to 100 characters and shown quoted
/// and escaped, so a hostile value cannot flood or forge a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentErrorKind {
    Syntax(String),
    /// The `version` value as written.
    UnknownVersion(String),
    MissingField(String),
    WrongType {
        expected: String,
        found: String,
    },
    UnknownField(String),
    DuplicateField(String),
    UnknownDirective(String),
    /// An empty list, or `*` mixed with names.
    BadDirectives(String),
    BadSourceExpression {
        source: String,
        reason: String,
    },
    BadScope {
        scope: String,
        reason: String,
    },
    BadDecision(String),
    BadMode(String),
}

impl fmt::Display for ConsentErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConsentErrorKind as K;
        match self {
            K::Syntax(m) => write!(f, "syntax error: {m}"),
            K::UnknownVersion(v) => {
                write!(
                    f,
                    "unknown version {v}: this auditor reads version {VERSION}"
                )
            }
            K::MissingField(n) => write!(f, "missing field {n:?}"),
            K::WrongType { expected, found } => write!(f, "expected {expected}, found {found}"),
            K::UnknownField(n) => write!(f, "unknown field {n:?}"),
            K::DuplicateField(n) => write!(f, "duplicate field {n:?}"),
            K::UnknownDirective(n) => write!(f, "unknown directive {n:?}"),
            K::BadDirectives(reason) => f.write_str(reason),
            K::BadSourceExpression { source, reason } => {
                write!(f, "bad source expression {source:?}: {reason}")
            }
            K::BadScope { scope, reason } => write!(f, "bad scope {scope:?}: {reason}"),
            K::BadDecision(d) => {
                write!(
                    f,
                    "bad decision {d:?}: expected \"allow\", \"ask\" or \"block\""
                )
            }
            K::BadMode(m) => write!(
                f,
                "bad mode {m:?}: expected \"audit\", \"ask\" or \"block\""
            ),
        }
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 100;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}

/// A JSON pointer token (RFC 6901 escaping); control characters are made visible because
/// pointers end up in messages.
fn token(key: &str) -> String {
    let mut out = String::new();
    for c in clip(key).chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c if c.is_control() => out.extend(c.escape_debug()),
            c => out.push(c),
        }
    }
    out
}

struct Validator {
    errors: Vec<ConsentError>,
}

impl Validator {
    fn err(&mut self, pos: Pos, path: &str, kind: ConsentErrorKind) {
        self.errors
            .push(ConsentError::new(pos, path.to_string(), kind));
    }

    fn wrong_type(&mut self, value: &Spanned, path: &str, expected: &str) {
        self.err(
            value.pos,
            path,
            ConsentErrorKind::WrongType {
                expected: expected.to_string(),
                found: value.value.type_name().to_string(),
            },
        );
    }

    /// The members of an object, each key once; unknown and repeated keys are reported.
    fn members<'v>(
        &mut self,
        value: &'v Spanned,
        path: &str,
        known: &[&str],
    ) -> Option<Vec<(&'v str, String, &'v Spanned)>> {
        let JsonValue::Object(members) = &value.value else {
            self.wrong_type(value, path, "an object");
            return None;
        };
        let mut out: Vec<(&str, String, &Spanned)> = Vec::new();
        for (key, v) in members {
            let child = format!("{path}/{}", token(&key.value));
            if !known.contains(&key.value.as_str()) {
                self.err(
                    key.pos,
                    &child,
                    ConsentErrorKind::UnknownField(clip(&key.value)),
                );
            } else if out.iter().any(|(k, _, _)| *k == key.value) {
                self.err(
                    key.pos,
                    &child,
                    ConsentErrorKind::DuplicateField(key.value.clone()),
                );
            } else {
                out.push((key.value.as_str(), child, v));
            }
        }
        Some(out)
    }

    fn string<'v>(&mut self, value: &'v Spanned, path: &str) -> Option<&'v str> {
        match &value.value {
            JsonValue::String(s) => Some(s),
            _ => {
                self.wrong_type(value, path, "a string");
                None
            }
        }
    }

    fn verdict(&mut self, value: &Spanned, path: &str) -> Option<Verdict> {
        let s = self.string(value, path)?;
        let verdict = Verdict::parse(s);
        if verdict.is_none() {
            self.err(value.pos, path, ConsentErrorKind::BadDecision(clip(s)));
        }
        verdict
    }

    fn list(&mut self, root: &Spanned) -> ConsentList {
        let mut list = ConsentList::default();
        let Some(members) = self.members(root, "", &["version", "mode", "defaults", "rules"])
        else {
            return list;
        };
        if !members.iter().any(|(k, _, _)| *k == "version") {
            self.err(
                root.pos,
                "",
                ConsentErrorKind::MissingField("version".to_string()),
            );
        }
        for (key, path, value) in members {
            match key {
                "version" => match &value.value {
                    JsonValue::Number(raw) => {
                        if value.value.as_f64() != Some(f64::from(VERSION)) {
                            let kind = ConsentErrorKind::UnknownVersion(clip(raw));
                            self.err(value.pos, &path, kind);
                        }
                    }
                    _ => self.wrong_type(value, &path, "the number 1"),
                },
                "mode" => {
                    if let Some(s) = self.string(value, &path) {
                        match Mode::parse(s) {
                            Some(mode) => list.mode = mode,
                            None => self.err(value.pos, &path, ConsentErrorKind::BadMode(clip(s))),
                        }
                    }
                }
                "defaults" => {
                    if let Some(defaults) = self.members(value, &path, &Defaults::NAMES) {
                        for (name, path, v) in defaults {
                            if let (Some(verdict), Some(slot)) =
                                (self.verdict(v, &path), list.defaults.slot_mut(name))
                            {
                                *slot = verdict;
                            }
                        }
                    }
                }
                _ => match &value.value {
                    JsonValue::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Some(rule) = self.rule(item, &format!("{path}/{i}")) {
                                list.rules.push(rule);
                            }
                        }
                    }
                    _ => self.wrong_type(value, &path, "an array of rules"),
                },
            }
        }
        list
    }

    fn rule(&mut self, value: &Spanned, path: &str) -> Option<Rule> {
        const FIELDS: [&str; 6] = ["source", "directives", "scope", "decision", "added", "note"];
        let members = self.members(value, path, &FIELDS)?;
        let field = |name: &str| members.iter().find(|(k, _, _)| *k == name);
        let mut complete = true;
        for required in &FIELDS[..4] {
            if field(required).is_none() {
                self.err(
                    value.pos,
                    path,
                    ConsentErrorKind::MissingField(required.to_string()),
                );
                complete = false;
            }
        }
        // Every present field is checked even when another is missing, so all errors show.
        let source = field("source").and_then(|(_, p, v)| {
            let text = self.string(v, p)?;
            SourceExpr::parse(text)
                .map_err(|reason| {
                    self.err(
                        v.pos,
                        p,
                        ConsentErrorKind::BadSourceExpression {
                            source: clip(text),
                            reason,
                        },
                    )
                })
                .ok()
        });
        let directives = field("directives").and_then(|(_, p, v)| self.directives(v, p));
        let scope = field("scope").and_then(|(_, p, v)| {
            let text = self.string(v, p)?;
            Scope::parse(text)
                .map_err(|reason| {
                    self.err(
                        v.pos,
                        p,
                        ConsentErrorKind::BadScope {
                            scope: clip(text),
                            reason,
                        },
                    )
                })
                .ok()
        });
        let decision = field("decision").and_then(|(_, p, v)| self.verdict(v, p));
        let added = field("added").and_then(|(_, p, v)| self.string(v, p).map(str::to_string));
        let note = field("note").and_then(|(_, p, v)| self.string(v, p).map(str::to_string));
        // An optional field of the wrong type has already been reported.
        let optional_ok = |name: &str, got: &Option<String>| field(name).is_none() || got.is_some();
        if !complete || !optional_ok("added", &added) || !optional_ok("note", &note) {
            return None;
        }
        Some(Rule {
            source: source?,
            directives: directives?,
            scope: scope?,
            decision: decision?,
            added,
            note,
        })
    }

    fn directives(&mut self, value: &Spanned, path: &str) -> Option<DirectiveSet> {
        let JsonValue::Array(items) = &value.value else {
            self.wrong_type(value, path, "an array of directive names");
            return None;
        };
        if items.is_empty() {
            self.err(
                value.pos,
                path,
                ConsentErrorKind::BadDirectives(
                    "the directive list is empty: name directives, or [\"*\"] for all".to_string(),
                ),
            );
            return None;
        }
        let mut all = false;
        let mut list = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}/{i}");
            let Some(name) = self.string(item, &p) else {
                ok = false;
                continue;
            };
            if name == "*" {
                all = true;
            } else if let Some(d) = Directive::parse(name) {
                list.push(d);
            } else {
                self.err(item.pos, &p, ConsentErrorKind::UnknownDirective(clip(name)));
                ok = false;
            }
        }
        if all && (items.len() > 1) {
            self.err(
                value.pos,
                path,
                ConsentErrorKind::BadDirectives(
                    "\"*\" already means every directive and must stand alone".to_string(),
                ),
            );
            return None;
        }
        if !ok {
            return None;
        }
        if all {
            return Some(DirectiveSet::All);
        }
        crate::sort::sort(&mut list);
        list.dedup();
        Some(DirectiveSet::Only(list))
    }
}

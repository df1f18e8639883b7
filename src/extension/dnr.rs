//! The consent list compiled to `declarativeNetRequest` rules (issue 5/7 item 5).
//!
//! In `block` mode the page hooks deny unconsented requests they can see; the browser's
//! network layer must also stop those no hook can (CSS-referenced fonts and images,
//! parser-inserted resources, loads from before the core was ready). [`compile`] turns the
//! consent list into session rules that apply only to requests *initiated by the wikis*
//! (`initiatorDomains`), per resource type, never to navigations (`main_frame`).
//!
//! What the network layer can and cannot know decides the shape:
//! * It does not know which gadget made a request. A destination is therefore blocked only if
//!   *no* source may contact it: rules scoped to one source (`gadget:X`, …) that allow
//!   something become allow rules above everything else (the page hooks still enforce them per
//!   source), and scoped `block`/`ask` rules add nothing (another source may be allowed).
//! * Rules for every source (`scope: "*"`) keep SPEC §7 precedence exactly: their priority is
//!   their rank by (source specificity, strictness), so a more specific source wins and, at
//!   equal specificity, `block` beats `allow` (DNR itself prefers `allow` on a tie, which the
//!   ranks never leave).
//! * Party defaults are the floor: priority 1 blocks every sub-resource type whose
//!   third-party default (`third`, or `executable-third` for scripts, frames and objects) is
//!   not `allow`; priority 2 applies the `wikimedia` and `cloud` defaults to their domains;
//!   priority 3 the `first` (same site as the frame) and `local` defaults.
//! * `ask` is `block` here: in `block` mode an unanswered question denies.
//! * Sources are matched with RE2 `regexFilter`s built from the CSP source expression
//!   (scheme, host with a `*.` wildcard, port, path prefix), case-insensitive; `'self'` is the
//!   frame's own site (`domainType: firstParty`), the closest the network layer can express.
//!
//! Resource types: a type that several directives share (`other`: connect, worker, manifest;
//! `script`: scripts and workers) is used for *allow* rules of each of them but for *block*
//! rules only of the directive it certainly belongs to, so no directive's block can stop
//! another directive's consented load.

use crate::consent::source_expr::{HostPattern, Pattern, Port};
use crate::consent::{ConsentList, Scope, Specificity};
use crate::model::{Directive, Mode, Verdict};
use serde::Serialize;

/// Chrome's `MAX_NUMBER_OF_SESSION_RULES` (Firefox allows as many).
pub const MAX_SESSION_RULES: usize = 5_000;
/// Chrome's `MAX_NUMBER_OF_REGEX_RULES` (dynamic and session rules together).
pub const MAX_REGEX_RULES: usize = 1_000;

/// The preset's domains as `requestDomains`/`initiatorDomains` (which cover subdomains).
pub const WIKIMEDIA_DOMAINS: [&str; 15] = [
    "wikipedia.org",
    "wikimedia.org",
    "wikidata.org",
    "wiktionary.org",
    "wikibooks.org",
    "wikinews.org",
    "wikiquote.org",
    "wikisource.org",
    "wikiversity.org",
    "wikivoyage.org",
    "mediawiki.org",
    "wikifunctions.org",
    "wikimediafoundation.org",
    "wmfusercontent.org",
    "w.wiki",
];

/// Wikimedia Cloud Services (SPEC §3 party `cloud`).
pub const CLOUD_DOMAINS: [&str; 4] = [
    "toolforge.org",
    "wmcloud.org",
    "wmflabs.org",
    "wikimedia.cloud",
];

/// Every sub-resource type the rules use (no `main_frame`: navigation is never blocked).
pub const ALL_TYPES: [&str; 11] = [
    "sub_frame",
    "stylesheet",
    "script",
    "image",
    "font",
    "object",
    "xmlhttprequest",
    "ping",
    "media",
    "websocket",
    "other",
];

/// Resource types an *allow* for `d` must cover.
pub fn allow_types(d: Directive) -> &'static [&'static str] {
    match d {
        Directive::ScriptSrc => &["script"],
        Directive::StyleSrc => &["stylesheet"],
        Directive::ImgSrc => &["image"],
        Directive::FontSrc => &["font"],
        Directive::ConnectSrc => &["xmlhttprequest", "ping", "websocket", "other"],
        Directive::FrameSrc => &["sub_frame"],
        Directive::MediaSrc => &["media"],
        Directive::WorkerSrc => &["script", "other"],
        Directive::ObjectSrc => &["object"],
        Directive::ManifestSrc => &["other"],
    }
}

/// Resource types that certainly belong to `d`, the only ones a *block* for `d` may cover.
pub fn block_types(d: Directive) -> &'static [&'static str] {
    match d {
        Directive::ScriptSrc => &["script"],
        Directive::StyleSrc => &["stylesheet"],
        Directive::ImgSrc => &["image"],
        Directive::FontSrc => &["font"],
        Directive::ConnectSrc => &["xmlhttprequest", "ping", "websocket"],
        Directive::FrameSrc => &["sub_frame"],
        Directive::MediaSrc => &["media"],
        Directive::ObjectSrc => &["object"],
        Directive::WorkerSrc | Directive::ManifestSrc => &[],
    }
}

/// Directives whose third-party default is `executable-third` (SPEC §3 tier).
fn executable(d: Directive) -> bool {
    d.runs_code() || d == Directive::FrameSrc
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_url_filter_case_sensitive: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_domains: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_type: Option<&'static str>,
    pub initiator_domains: Vec<String>,
    pub resource_types: Vec<&'static str>,
}

/// One `declarativeNetRequest` rule, serialised exactly as `updateSessionRules` takes it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct DnrRule {
    pub id: u32,
    pub priority: u32,
    pub action: Action,
    pub condition: Condition,
}

/// Why the list cannot be compiled within the browser's limits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("the consent list needs {0} regular-expression rules; the browser allows {MAX_REGEX_RULES}: the network layer cannot enforce it (the page hooks still do)")]
    TooManyRegex(usize),
    #[error("the consent list needs {0} rules; the browser allows {MAX_SESSION_RULES}: the network layer cannot enforce it (the page hooks still do)")]
    TooManyRules(usize),
    #[error("no wiki to apply the rules to")]
    NoWikis,
}

fn action(v: Verdict) -> Action {
    Action {
        kind: if v == Verdict::Allow {
            "allow"
        } else {
            "block"
        },
    }
}

fn types_for(directives: &[Directive], allow: bool) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for d in directives {
        let list = if allow {
            allow_types(*d)
        } else {
            block_types(*d)
        };
        for t in list {
            if !out.contains(t) {
                out.push(t);
            }
        }
    }
    // A fixed order, so the output does not depend on how directives were listed.
    crate::sort::sort_by_key(&mut out, |t| ALL_TYPES.iter().position(|a| a == t));
    out
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The schemes a source's scheme admits (CSP3 scheme-part match; a missing scheme is the
/// page's, which on a wiki is `https` but may be `http` on a test wiki: both are admitted).
fn scheme_alternatives(scheme: Option<&str>) -> &'static str {
    match scheme {
        Some("http") => "(?:https?|wss?)",
        Some("https") => "(?:https|wss)",
        Some("ws") => "(?:https?|wss?)",
        Some("wss") => "(?:https|wss)",
        _ => "(?:https?|wss?)",
    }
}

/// The `regexFilter` for a source expression; `None` for `'self'` (see the module docs).
pub fn source_regex(pattern: &Pattern) -> Option<String> {
    Some(match pattern {
        Pattern::SelfOrigin => return None,
        Pattern::Any => "^(?:https?|wss?)://".to_string(),
        Pattern::Scheme(s) => match s.as_str() {
            "http" | "ws" => "^(?:https?|wss?):".to_string(),
            "https" | "wss" => "^(?:https|wss):".to_string(),
            other => format!("^{}:", regex_escape(other)),
        },
        Pattern::Host(h) => {
            let scheme = match h.scheme.as_deref() {
                Some(s @ ("http" | "https" | "ws" | "wss")) => {
                    scheme_alternatives(Some(s)).to_string()
                }
                Some(s) => regex_escape(s),
                None => scheme_alternatives(None).to_string(),
            };
            let host = match &h.host {
                HostPattern::Any => "[^/?#:@]+".to_string(),
                HostPattern::Exact(host) => regex_escape(host),
                HostPattern::Subdomains(host) => format!("[^/?#:@]+\\.{}", regex_escape(host)),
            };
            let port = match h.port {
                // Browsers drop a default port from the URL they report.
                Port::Default => "(?::(?:80|443))?".to_string(),
                Port::Any => "(?::[0-9]+)?".to_string(),
                Port::Number(n @ (80 | 443)) => format!("(?::{n})?"),
                Port::Number(n) => format!(":{n}"),
            };
            let path = match h.path.as_deref() {
                None | Some("/") => "(?:[/?#]|$)".to_string(),
                Some(p) if p.ends_with('/') => regex_escape(p),
                Some(p) => format!("{}(?:[?#]|$)", regex_escape(p)),
            };
            format!("^{scheme}://{host}{port}{path}")
        }
    })
}

/// The specificity rank key of a `*` rule: `'self'` counts as an exact host.
fn rank_key(pattern: &Pattern, spec: Option<Specificity>, decision: Verdict) -> (Specificity, u8) {
    let spec = spec.unwrap_or(Specificity {
        host_len: if matches!(pattern, Pattern::SelfOrigin) {
            253
        } else {
            0
        },
        exact_host: true,
        path_len: 0,
        explicit_port: false,
    });
    (spec, decision.strictness())
}

/// Compiles `list` for requests initiated by `wikis` (domains; subdomains included). Empty
/// unless the list's mode is `block`. Rule ids start at `first_id`.
pub fn compile(
    list: &ConsentList,
    wikis: &[String],
    first_id: u32,
) -> Result<Vec<DnrRule>, CompileError> {
    if list.mode != Mode::Block {
        return Ok(Vec::new());
    }
    let mut wikis: Vec<String> = wikis
        .iter()
        .map(|w| w.trim().trim_start_matches("*.").to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    crate::sort::sort(&mut wikis);
    wikis.dedup();
    if wikis.is_empty() {
        return Err(CompileError::NoWikis);
    }
    let mut rules: Vec<DnrRule> = Vec::new();
    let mut next = first_id;
    let mut push =
        |priority: u32, verdict: Verdict, condition: Condition, rules: &mut Vec<DnrRule>| {
            if condition.resource_types.is_empty() {
                return;
            }
            rules.push(DnrRule {
                id: next,
                priority,
                action: action(verdict),
                condition,
            });
            next += 1;
        };
    let base = |types: Vec<&'static str>| Condition {
        initiator_domains: wikis.clone(),
        resource_types: types,
        ..Condition::default()
    };
    let d = &list.defaults;

    // Priority 1: the third-party floor, per tier.
    let floor: Vec<Directive> = Directive::ALL
        .into_iter()
        .filter(|dir| {
            let v = if executable(*dir) {
                d.executable_third
            } else {
                d.third
            };
            v != Verdict::Allow
        })
        .collect();
    push(
        1,
        Verdict::Block,
        base(types_for(&floor, false)),
        &mut rules,
    );

    // Priority 2 and 3: the other parties' defaults.
    let all = |allow: bool| -> Vec<&'static str> {
        if allow {
            ALL_TYPES.to_vec()
        } else {
            types_for(&Directive::ALL, false)
        }
    };
    for (priority, verdict, domains) in [
        (2, d.wikimedia, &WIKIMEDIA_DOMAINS[..]),
        (2, d.cloud, &CLOUD_DOMAINS[..]),
        (3, d.local, &["localhost", "127.0.0.1"][..]),
    ] {
        let mut c = base(all(verdict == Verdict::Allow));
        c.request_domains = Some(domains.iter().map(|s| s.to_string()).collect());
        push(priority, verdict, c, &mut rules);
    }
    {
        // The rest of 127.0.0.0/8 and [::1].
        let mut c = base(all(d.local == Verdict::Allow));
        c.regex_filter = Some(
            "^(?:https?|wss?)://(?:127\\.[0-9]+\\.[0-9]+\\.[0-9]+|\\[::1\\])(?::[0-9]+)?(?:[/?#]|$)"
                .to_string(),
        );
        c.is_url_filter_case_sensitive = Some(false);
        push(3, d.local, c, &mut rules);
    }
    {
        let mut c = base(all(d.first == Verdict::Allow));
        c.domain_type = Some("firstParty");
        push(3, d.first, c, &mut rules);
    }

    // Rules for every source, ranked; scoped allows above them all.
    let mut ranked: Vec<((Specificity, u8), usize)> = list
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.scope == Scope::All)
        .map(|(i, r)| {
            (
                rank_key(
                    r.source.pattern(),
                    r.source.page_independent_specificity(),
                    r.decision,
                ),
                i,
            )
        })
        .collect();
    crate::sort::sort(&mut ranked);
    let mut rank = 0u32;
    let mut last: Option<(Specificity, u8)> = None;
    let mut ordered: Vec<(u32, usize)> = Vec::new();
    for (key, i) in ranked {
        if last != Some(key) {
            rank += 1;
            last = Some(key);
        }
        ordered.push((rank, i));
    }
    let scoped_priority = 10 + rank + 1;
    for (i, rule) in list.rules.iter().enumerate() {
        if rule.scope != Scope::All && rule.decision == Verdict::Allow {
            ordered.push((scoped_priority - 10, i));
        }
    }
    crate::sort::sort_by_key(&mut ordered, |(r, i)| (*r, *i));
    for (r, i) in ordered {
        let rule = &list.rules[i];
        let allow = rule.decision == Verdict::Allow;
        let directives: Vec<Directive> = Directive::ALL
            .into_iter()
            .filter(|dir| rule.directives.covers(*dir))
            .collect();
        let mut c = base(types_for(&directives, allow));
        match source_regex(rule.source.pattern()) {
            Some(re) => {
                c.regex_filter = Some(re);
                c.is_url_filter_case_sensitive = Some(false);
            }
            None => c.domain_type = Some("firstParty"),
        }
        push(10 + r, rule.decision, c, &mut rules);
    }

    let regex = rules
        .iter()
        .filter(|r| r.condition.regex_filter.is_some())
        .count();
    if regex > MAX_REGEX_RULES {
        return Err(CompileError::TooManyRegex(regex));
    }
    if rules.len() > MAX_SESSION_RULES {
        return Err(CompileError::TooManyRules(rules.len()));
    }
    Ok(rules)
}

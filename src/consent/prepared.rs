//! A consent list prepared for deciding many requests ([`PreparedConsent`]).
//!
//! [`ConsentList::decide`] scans every rule; with a few hundred rules that scan is most of a
//! request's cost. Preparing the list once groups the rules by directive and by the scope
//! they speak for, so a decision only looks at the rules that can apply to the request's
//! directive and source, and it keeps what [`ConsentList::decide`] would recompute per
//! request (source specificity, the [`RuleRef`] text). The verdict is the same, rule for rule:
//! the same precedence, the same tie-break (the earlier rule), the same default.
//!
//! The list can only be reached read-only (or replaced whole, or its mode changed), so the
//! index cannot go stale.

use super::{ConsentList, ConsentQuery, RuleRef, Scope, Specificity, VerdictRecord};
use crate::model::{Directive, Mode, Source, SourceKind};
use crate::psl::FastHash;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// A [`ConsentList`] with its rules indexed for [`PreparedConsent::decide`].
#[derive(Clone, Debug)]
pub struct PreparedConsent {
    list: ConsentList,
    /// One bucket per directive, in `Directive::ALL` order.
    buckets: Vec<Bucket>,
    /// Per rule: its specificity, `None` for `'self'` (which depends on the page).
    specificity: Vec<Option<Specificity>>,
    /// Per rule: the [`RuleRef`] a decision by it reports.
    refs: Vec<RuleRef>,
}

/// A rule in a bucket, with the cheap test of the request host that every match passes.
#[derive(Clone, Copy, Debug)]
struct Entry {
    slot: usize,
    gate: HostGate,
}

/// A necessary condition on the request's host (as the URL has it, trailing dot included,
/// compared without case, exactly as [`super::SourceExpr::matches`] compares it), checked
/// before the full match: most rules name another host, and this rules them out with a length
/// and one word.
#[derive(Clone, Copy, Debug)]
enum HostGate {
    /// The source does not name a host (`'self'`, `*`, `https:`, `https://*`).
    Open,
    /// `host` exactly: the same length and the same last (up to) 8 bytes.
    Exact { len: usize, tail: u64, mask: u64 },
    /// `*.host`: longer by a label and a dot, the dot in place, the same last bytes.
    Below { len: usize, tail: u64, mask: u64 },
}

/// The last (up to) 8 bytes of `bytes`, lower-cased, the last one lowest; and the mask of
/// the bits they fill.
fn tail(bytes: &[u8]) -> (u64, u64) {
    let start = bytes.len().saturating_sub(8);
    let word = match bytes.get(start..).and_then(|t| <[u8; 8]>::try_from(t).ok()) {
        // A whole word: lower-cased eight bytes at a time.
        Some(last) => ascii_lowercase_word(u64::from_be_bytes(last)),
        None => bytes[start..].iter().fold(0u64, |word, b| {
            word << 8 | u64::from(b.to_ascii_lowercase())
        }),
    };
    let filled = (bytes.len() - start) * 8;
    let mask = if filled >= 64 {
        u64::MAX
    } else {
        (1u64 << filled) - 1
    };
    (word, mask)
}

/// `u8::to_ascii_lowercase` of each byte of `word`: `A`..=`Z` gain 0x20, every other byte
/// (non-ASCII included) is kept.
fn ascii_lowercase_word(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let low = word & LOW7;
    // The high bit of each byte: its low seven bits are at least `A`, and more than `Z`.
    let at_least_a = low + (0x80 - u64::from(b'A')) * ONES;
    let above_z = low + (0x80 - u64::from(b'Z') - 1) * ONES;
    let upper = at_least_a & !above_z & !word & HIGH;
    word | upper >> 2
}

impl HostGate {
    fn of(source: &super::SourceExpr) -> HostGate {
        use super::source_expr::{HostPattern, Pattern};
        match source.pattern() {
            Pattern::Host(h) => match &h.host {
                HostPattern::Exact(name) => {
                    let (tail, mask) = tail(name.as_bytes());
                    HostGate::Exact {
                        len: name.len(),
                        tail,
                        mask,
                    }
                }
                HostPattern::Subdomains(name) => {
                    let (tail, mask) = tail(name.as_bytes());
                    HostGate::Below {
                        len: name.len(),
                        tail,
                        mask,
                    }
                }
                HostPattern::Any => HostGate::Open,
            },
            _ => HostGate::Open,
        }
    }

    /// `host` is the request's host, `host_tail` its [`tail`].
    #[inline]
    fn admits(self, host: &[u8], host_tail: u64) -> bool {
        match self {
            HostGate::Open => true,
            HostGate::Exact { len, tail, mask } => host.len() == len && host_tail & mask == tail,
            HostGate::Below { len, tail, mask } => {
                host.len() >= len + 2
                    && host.get(host.len() - len - 1) == Some(&b'.')
                    && host_tail & mask == tail
            }
        }
    }
}

/// The rules covering one directive, in document order.
#[derive(Clone, Debug, Default)]
struct Bucket {
    /// Rules with scope `*`.
    any_scope: Vec<Entry>,
    /// The other rules, by the [`ScopeKey`] of their scope: one table per [`KeyKind`], keyed
    /// by the name. The keys come from the user's own list, never from a page, so a fast hash
    /// is safe.
    scoped: [HashMap<String, Vec<Entry>, BuildHasherDefault<FastHash>>; KeyKind::COUNT],
    /// Whether any table of `scoped` holds a rule.
    has_scoped: bool,
}

/// The prefix of a consent scope string, which picks the table its name is filed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// `gadget:NAME`.
    Gadget,
    /// `user-script:PAGE`.
    UserScript,
    /// `script:URL`.
    Script,
    /// Anything else (`site-script`), whole.
    Other,
}

impl KeyKind {
    const COUNT: usize = 4;

    fn index(self) -> usize {
        self as usize
    }
}

/// A consent scope string as the index files it: its prefix and the rest. Splitting is
/// one-to-one (the prefixes do not start one another, and [`KeyKind::Other`] keeps the whole
/// string), so two scope strings are equal exactly when their keys are. `user-script:` pages
/// compare `_` and space as equal, so their name is spelt with spaces on both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeKey<'a> {
    pub kind: KeyKind,
    pub name: Cow<'a, str>,
}

impl<'a> ScopeKey<'a> {
    /// The key of a consent scope string (a source's, or a rule scope's text).
    pub fn of(scope: &'a str) -> ScopeKey<'a> {
        if let Some(name) = scope.strip_prefix("gadget:") {
            ScopeKey::named(KeyKind::Gadget, name)
        } else if let Some(page) = scope.strip_prefix("user-script:") {
            ScopeKey::named(KeyKind::UserScript, page)
        } else if let Some(url) = scope.strip_prefix("script:") {
            ScopeKey::named(KeyKind::Script, url)
        } else {
            ScopeKey::named(KeyKind::Other, scope)
        }
    }

    /// The key of [`Source::scope`], without writing that string out.
    pub fn of_source(source: &'a Source) -> Option<ScopeKey<'a>> {
        let name = source.name.as_deref();
        Some(match (source.kind, name) {
            (SourceKind::Gadget, Some(n)) => ScopeKey::named(KeyKind::Gadget, n),
            (SourceKind::UserScript, Some(n)) => ScopeKey::named(KeyKind::UserScript, n),
            (SourceKind::SiteScript, _) => ScopeKey::named(KeyKind::Other, "site-script"),
            (SourceKind::Script, Some(n)) => ScopeKey::named(KeyKind::Script, n),
            _ => return None,
        })
    }

    fn named(kind: KeyKind, name: &'a str) -> ScopeKey<'a> {
        let name = if kind == KeyKind::UserScript && name.contains('_') {
            Cow::Owned(name.replace('_', " "))
        } else {
            Cow::Borrowed(name)
        };
        ScopeKey { kind, name }
    }

    /// The key of a rule's scope; `None` for `*`, which every source answers to.
    fn of_rule(scope: &Scope) -> Option<ScopeKey<'static>> {
        match scope {
            Scope::All => None,
            other => {
                let text = other.to_string();
                let ScopeKey { kind, name } = ScopeKey::of(&text);
                Some(ScopeKey {
                    kind,
                    name: Cow::Owned(name.into_owned()),
                })
            }
        }
    }

    /// The scope string this key was made from (spaces for underscores in user-script pages).
    fn to_scope_string(&self) -> String {
        let prefix = match self.kind {
            KeyKind::Gadget => "gadget:",
            KeyKind::UserScript => "user-script:",
            KeyKind::Script => "script:",
            KeyKind::Other => "",
        };
        format!("{prefix}{}", self.name)
    }
}

impl PreparedConsent {
    pub fn new(list: ConsentList) -> PreparedConsent {
        let mut buckets: Vec<Bucket> = Directive::ALL.iter().map(|_| Bucket::default()).collect();
        let mut specificity = Vec::with_capacity(list.rules.len());
        let mut refs = Vec::with_capacity(list.rules.len());
        for (index, rule) in list.rules.iter().enumerate() {
            let key = ScopeKey::of_rule(&rule.scope);
            let entry = Entry {
                slot: index,
                gate: HostGate::of(&rule.source),
            };
            for (d, bucket) in Directive::ALL.iter().zip(&mut buckets) {
                if !rule.directives.covers(*d) {
                    continue;
                }
                match &key {
                    None => bucket.any_scope.push(entry),
                    Some(k) => {
                        bucket.scoped[k.kind.index()]
                            .entry(k.name.clone().into_owned())
                            .or_default()
                            .push(entry);
                        bucket.has_scoped = true;
                    }
                }
            }
            specificity.push(rule.source.page_independent_specificity());
            refs.push(RuleRef::Rule {
                index,
                source: rule.source.as_str().to_string(),
                directives: rule.directives.names(),
                scope: rule.scope.to_string(),
                decision: rule.decision,
            });
        }
        PreparedConsent {
            list,
            buckets,
            specificity,
            refs,
        }
    }

    /// The list as parsed.
    pub fn list(&self) -> &ConsentList {
        &self.list
    }

    pub fn into_list(self) -> ConsentList {
        self.list
    }

    pub fn mode(&self) -> Mode {
        self.list.mode
    }

    /// The mode is not part of the index, so it may change freely.
    pub fn set_mode(&mut self, mode: Mode) {
        self.list.mode = mode;
    }

    /// The same record as [`ConsentList::decide`] gives for `q`.
    pub fn decide(&self, q: &ConsentQuery<'_>) -> VerdictRecord {
        self.decide_keyed(q, q.scopes.len(), |i| {
            q.scopes.get(i).map(|s| ScopeKey::of(s))
        })
    }

    /// The record [`PreparedConsent::decide`] gives for `q` with its `scopes` replaced by
    /// [`crate::assess::consent_scopes`]`(source)` (`q.scopes` is not read). A source loaded
    /// by nothing, the usual case, answers to its own scope alone, which is looked up without
    /// writing it out as a string.
    pub fn decide_for(&self, q: &ConsentQuery<'_>, source: &Source) -> VerdictRecord {
        if source.chain.is_empty() {
            let own = ScopeKey::of_source(source);
            let n = usize::from(own.is_some());
            return self.decide_keyed(q, n, |_| own.clone());
        }
        let scopes = crate::assess::consent_scopes(source);
        self.decide(&ConsentQuery {
            scopes: &scopes,
            ..*q
        })
    }

    /// [`PreparedConsent::decide`] for a source whose consent scopes, most specific first,
    /// are `count` keys given by `key_at` (`q.scopes` is only read by `key_at`).
    fn decide_keyed<'k>(
        &self,
        q: &ConsentQuery<'_>,
        count: usize,
        key_at: impl Fn(usize) -> Option<ScopeKey<'k>>,
    ) -> VerdictRecord {
        let Some(bucket) = Directive::ALL
            .iter()
            .position(|d| *d == q.directive)
            .and_then(|i| self.buckets.get(i))
        else {
            let scopes: Vec<String> = (0..count)
                .filter_map(|i| key_at(i).map(|k| k.to_scope_string()))
                .collect();
            return self.list.decide(&ConsentQuery {
                scopes: &scopes,
                ..*q
            });
        };
        // (scope rank, specificity, strictness) and the rule's index: the largest key wins,
        // on a tie the earlier rule.
        let mut best: Option<((usize, Specificity, u8), usize)> = None;
        let host = q.url.host_str().unwrap_or("").as_bytes();
        let (host_tail, _) = tail(host);
        let mut consider = |rank: usize, slot: usize| {
            let Some(rule) = self.list.rules.get(slot) else {
                return;
            };
            if !rule.source.matches(q.url, q.page_origin) {
                return;
            }
            let specificity = match self.specificity.get(slot) {
                Some(Some(s)) => *s,
                _ => rule.source.specificity(q.page_origin),
            };
            let key = (rank, specificity, rule.decision.strictness());
            let better = match &best {
                None => true,
                Some((k, i)) => key > *k || (key == *k && slot < *i),
            };
            if better {
                best = Some((key, slot));
            }
        };
        for e in &bucket.any_scope {
            if e.gate.admits(host, host_tail) {
                consider(0, e.slot);
            }
        }
        if bucket.has_scoped {
            for i in 0..count {
                let Some(key) = key_at(i) else {
                    continue;
                };
                if let Some(entries) = bucket.scoped[key.kind.index()].get(key.name.as_ref()) {
                    for e in entries {
                        if e.gate.admits(host, host_tail) {
                            consider(count - i, e.slot);
                        }
                    }
                }
            }
        }
        match best.and_then(|(_, slot)| {
            let rule = self.list.rules.get(slot)?;
            Some((rule.decision, self.refs.get(slot)?.clone()))
        }) {
            Some((verdict, rule)) => VerdictRecord { verdict, rule },
            None => self.list.default_record(q),
        }
    }
}

impl From<ConsentList> for PreparedConsent {
    fn from(list: ConsentList) -> Self {
        PreparedConsent::new(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Party, Tier, Verdict};
    use url::Url;

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[(self.next() % items.len() as u64) as usize]
        }
    }

    const SOURCES: &[&str] = &[
        "'self'",
        "*",
        "https:",
        "wss:",
        "https://*",
        "https://x.toolforge.org",
        "https://*.toolforge.org",
        "*.toolforge.org",
        "https://fonts.googleapis.com",
        "fonts.googleapis.com/css",
        "https://fonts.googleapis.com/css2/",
        "https://en.wikipedia.org:*",
        "https://en.wikipedia.org/w/",
        "https://*.wikipedia.org",
        "http://localhost:5500",
        "https://*.example.com",
        "https://evil.example.com",
        "https://example.com:8443/",
    ];
    const SCOPES: &[&str] = &[
        "*",
        "*",
        "gadget:HotCat",
        "gadget:Twinkle",
        "gadget:Hot_Cat",
        "user-script:User:X/a b.js",
        "user-script:User:X/a_b.js",
        "user-script:User:Y/c.js",
        "site-script",
        "script:https://x.toolforge.org/lib.js",
    ];
    const PARTIES: [Party; 5] = [
        Party::First,
        Party::Wikimedia,
        Party::Cloud,
        Party::Third,
        Party::Local,
    ];
    const TIERS: [Tier; 3] = [Tier::Passive, Tier::Data, Tier::Executable];
    /// A query for a random URL of `urls`, directive, party and tier, with `scopes`.
    fn random_query<'a>(
        rng: &mut Rng,
        urls: &'a [Url],
        page: &'a Url,
        scopes: &'a [String],
    ) -> ConsentQuery<'a> {
        ConsentQuery {
            url: rng.pick(urls),
            page_origin: page,
            directive: *rng.pick(&Directive::ALL),
            party: *rng.pick(&PARTIES),
            tier: *rng.pick(&TIERS),
            scopes,
        }
    }
    const QUERY_SCOPES: &[&str] = &[
        "gadget:HotCat",
        "gadget:Twinkle",
        "gadget:Hot Cat",
        "gadget:Hot_Cat",
        "user-script:User:X/a b.js",
        "user-script:User:X/a_b.js",
        "user-script:User:Y/c.js",
        "user-script:User:Y/c_.js",
        "site-script",
        "script:https://x.toolforge.org/lib.js",
        "script:https://x.toolforge.org/other.js",
        "nonsense",
    ];
    const URLS: &[&str] = &[
        "https://x.toolforge.org/api",
        "https://y.toolforge.org/api",
        "https://x.toolforge.org./api",
        "https://X.TOOLFORGE.ORG/api",
        "https://toolforge.org/api",
        "https://.toolforge.org/api",
        "https://example.com.:8443/a/b",
        "https://127.0.0.1/x",
        "data:text/plain,x",
        "blob:https://en.wikipedia.org/uuid",
        "https://fonts.googleapis.com/css2/x?family=A",
        "https://fonts.googleapis.com/css",
        "https://en.wikipedia.org/w/api.php",
        "https://en.wikipedia.org:8443/w/x",
        "wss://en.wikipedia.org/ws",
        "http://en.wikipedia.org/x",
        "http://localhost:5500/dev.js",
        "https://evil.example.com/x.js",
        "https://a.b.example.com/x.js",
        "https://example.com:8443/a/b",
    ];

    fn random_list(rng: &mut Rng) -> ConsentList {
        let count = rng.next() % 40;
        let rules: Vec<String> = (0..count)
            .map(|_| {
                let mut directives: Vec<&str> = Vec::new();
                if rng.next().is_multiple_of(6) {
                    directives.push("*");
                } else {
                    for d in Directive::ALL {
                        if rng.next().is_multiple_of(4) {
                            directives.push(d.as_str());
                        }
                    }
                    if directives.is_empty() {
                        directives.push("connect-src");
                    }
                }
                format!(
                    r#"{{"source":{:?},"directives":{:?},"scope":{:?},"decision":{:?}}}"#,
                    rng.pick(SOURCES),
                    directives,
                    rng.pick(SCOPES),
                    rng.pick(&["allow", "ask", "block"]),
                )
            })
            .collect();
        let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
        ConsentList::parse(&text).expect("generated lists are valid")
    }

    #[test]
    fn decides_exactly_like_the_full_scan() {
        let page = Url::parse("https://en.wikipedia.org/wiki/X").expect("valid");
        let urls: Vec<Url> = URLS.iter().map(|u| Url::parse(u).expect("valid")).collect();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut by_rule = 0;
        for _ in 0..300 {
            let list = random_list(&mut rng);
            let prepared = PreparedConsent::new(list.clone());
            assert_eq!(prepared.list(), &list);
            for _ in 0..200 {
                let scopes: Vec<String> = (0..rng.next() % 4)
                    .map(|_| rng.pick(QUERY_SCOPES).to_string())
                    .collect();
                let q = random_query(&mut rng, &urls, &page, &scopes);
                let expected = list.decide(&q);
                by_rule += usize::from(matches!(expected.rule, RuleRef::Rule { .. }));
                assert_eq!(prepared.decide(&q), expected, "{q:?}\n{}", list.to_json());
            }
        }
        // The comparison means something only if rules decide a good share of the queries.
        assert!(by_rule > 10_000, "{by_rule}");
    }

    const SOURCE_NAMES: &[Option<&str>] = &[
        None,
        Some("HotCat"),
        Some("Hot_Cat"),
        Some("Hot Cat"),
        Some("Twinkle"),
        Some("User:X/a b.js"),
        Some("User:X/a_b.js"),
        Some("User:Y/c.js"),
        Some("User:Y/c_.js"),
        Some("site"),
        Some("https://x.toolforge.org/lib.js"),
        Some("https://x.toolforge.org/other.js"),
        Some("gadget:HotCat"),
        Some(""),
    ];

    fn random_source(rng: &mut Rng) -> Source {
        use crate::model::SourceKind as K;
        let kind = *rng.pick(&[
            K::Gadget,
            K::UserScript,
            K::SiteScript,
            K::Script,
            K::Extension,
            K::Page,
        ]);
        let mut source = Source::named(kind, rng.pick(SOURCE_NAMES).map(str::to_string));
        // Most sources are loaded by nothing, as on a real page.
        if rng.next().is_multiple_of(3) {
            source.chain = (0..1 + rng.next() % 3)
                .map(|_| rng.pick(QUERY_SCOPES).to_string())
                .collect();
        }
        source
    }

    #[test]
    fn scope_keys_agree_with_the_scope_strings() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for _ in 0..2_000 {
            let source = random_source(&mut rng);
            let scope = source.scope();
            assert_eq!(
                ScopeKey::of_source(&source),
                scope.as_deref().map(ScopeKey::of),
                "{source:?}"
            );
        }
        // Equal keys exactly for equal strings (user-script pages: `_` and space equal).
        let texts: Vec<String> = QUERY_SCOPES
            .iter()
            .chain(SCOPES)
            .map(|s| s.to_string())
            .chain(
                [
                    "site-script:x",
                    "gadget:",
                    "script:gadget:x",
                    "user-script:",
                ]
                .map(String::from),
            )
            .collect();
        for a in &texts {
            for b in &texts {
                let normal = |s: &str| {
                    if s.starts_with("user-script:") {
                        s.replace('_', " ")
                    } else {
                        s.to_string()
                    }
                };
                assert_eq!(
                    ScopeKey::of(a) == ScopeKey::of(b),
                    normal(a) == normal(b),
                    "{a:?} {b:?}"
                );
                assert_eq!(ScopeKey::of(a).to_scope_string(), normal(a));
            }
        }
    }

    #[test]
    fn decides_for_a_source_exactly_like_the_full_scan() {
        let page = Url::parse("https://en.wikipedia.org/wiki/X").expect("valid");
        let urls: Vec<Url> = URLS.iter().map(|u| Url::parse(u).expect("valid")).collect();
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        let mut by_rule = 0;
        for _ in 0..300 {
            let list = random_list(&mut rng);
            let prepared = PreparedConsent::new(list.clone());
            for _ in 0..200 {
                let source = random_source(&mut rng);
                let scopes = crate::assess::consent_scopes(&source);
                let q = random_query(&mut rng, &urls, &page, &scopes);
                let expected = list.decide(&q);
                by_rule += usize::from(matches!(expected.rule, RuleRef::Rule { .. }));
                // `scopes` is not read: the source's are.
                let unscoped = ConsentQuery { scopes: &[], ..q };
                assert_eq!(
                    prepared.decide_for(&unscoped, &source),
                    expected,
                    "{q:?}\n{source:?}\n{}",
                    list.to_json()
                );
            }
        }
        assert!(by_rule > 10_000, "{by_rule}");
    }

    #[test]
    fn default_verdicts_agree_with_the_named_defaults() {
        let verdicts = [Verdict::Allow, Verdict::Ask, Verdict::Block];
        let mut rng = Rng(7);
        for _ in 0..200 {
            let mut defaults = super::super::Defaults::default();
            for name in super::super::Defaults::NAMES {
                if let Some(slot) = defaults.slot_mut(name) {
                    *slot = *rng.pick(&verdicts);
                }
            }
            for party in Party::ALL {
                for tier in [Tier::Passive, Tier::Data, Tier::Executable] {
                    let name = super::super::Defaults::name_for(party, tier);
                    assert_eq!(Some(defaults.for_request(party, tier)), defaults.get(name));
                }
            }
        }
    }

    #[test]
    fn word_tail_agrees_with_the_byte_loop() {
        let reference = |bytes: &[u8]| {
            let start = bytes.len().saturating_sub(8);
            bytes[start..].iter().fold(0u64, |word, b| {
                word << 8 | u64::from(b.to_ascii_lowercase())
            })
        };
        // Every byte value in every position, next to letters of both cases.
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = *b"aZ@[`{Az";
                bytes[at] = b;
                let mut longer = b"x.".to_vec();
                longer.extend_from_slice(&bytes);
                for text in [&bytes[..], &longer[..], &bytes[..at]] {
                    assert_eq!(tail(text).0, reference(text), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn mode_changes_keep_the_index() {
        let mut p = PreparedConsent::new(ConsentList::default());
        p.set_mode(Mode::Block);
        assert_eq!(p.mode(), Mode::Block);
        assert_eq!(p.into_list().mode, Mode::Block);
    }
}

//! The consent list of SPEC §7: validation with positions, precedence, matching, exports.

use serde_json::json;
use tpr_auditor::consent::{
    ConsentErrorKind, ConsentList, ConsentQuery, DirectiveSet, RuleRef, Scope, SeenLoad,
    VerdictRecord,
};
use tpr_auditor::model::{Directive, Mode, Party, Tier, Verdict};
use url::Url;

/// The sample document of SPEC §7, verbatim.
const SPEC_SAMPLE: &str = r#"{
  "version": 1,
  "mode": "audit",
  "defaults": { "wikimedia": "allow", "local": "allow", "cloud": "ask", "third": "ask",
                "executable-third": "block" },
  "rules": [
    { "source": "https://fonts.googleapis.com", "directives": ["style-src"],
      "scope": "gadget:Charinsert", "decision": "allow",
      "added": "2026-11-28T12:00:00Z", "note": "fonts for the gadget" },
    { "source": "https://*.toolforge.org", "directives": ["connect-src"],
      "scope": "*", "decision": "allow" }
  ]
}"#;

const PAGE: &str = "https://en.wikipedia.org/wiki/Main_Page";

fn list(text: &str) -> ConsentList {
    match ConsentList::parse(text) {
        Ok(list) => list,
        Err(errors) => panic!("{text}\n{errors:#?}"),
    }
}

/// A list from rules given as JSON values, in `block` mode.
fn rules(rules: serde_json::Value) -> ConsentList {
    list(&json!({"version": 1, "mode": "block", "rules": rules}).to_string())
}

fn rule(source: &str, directives: &[&str], scope: &str, decision: &str) -> serde_json::Value {
    json!({"source": source, "directives": directives, "scope": scope, "decision": decision})
}

struct Ask<'a> {
    url: &'a str,
    directive: Directive,
    party: Party,
    tier: Tier,
    scopes: &'a [&'a str],
    page: &'a str,
}

impl<'a> Ask<'a> {
    fn new(url: &'a str, directive: Directive) -> Self {
        let tier = if directive.runs_code() {
            Tier::Executable
        } else {
            Tier::Passive
        };
        Ask {
            url,
            directive,
            party: Party::Third,
            tier,
            scopes: &[],
            page: PAGE,
        }
    }
    fn party(mut self, party: Party) -> Self {
        self.party = party;
        self
    }
    fn scopes(mut self, scopes: &'a [&'a str]) -> Self {
        self.scopes = scopes;
        self
    }
    fn page(mut self, page: &'a str) -> Self {
        self.page = page;
        self
    }
    fn to(&self, list: &ConsentList) -> VerdictRecord {
        let url = Url::parse(self.url).expect("test URL");
        let page = Url::parse(self.page).expect("test page");
        let scopes: Vec<String> = self.scopes.iter().map(|s| s.to_string()).collect();
        list.decide(&ConsentQuery {
            url: &url,
            page_origin: &page,
            directive: self.directive,
            party: self.party,
            tier: self.tier,
            scopes: &scopes,
        })
    }
}

fn by_rule(list: &ConsentList, index: usize) -> VerdictRecord {
    let r = &list.rules[index];
    VerdictRecord {
        verdict: r.decision,
        rule: RuleRef::Rule {
            index,
            source: r.source.as_str().to_string(),
            directives: r.directives.names(),
            scope: r.scope.to_string(),
            decision: r.decision,
        },
    }
}

fn by_default(verdict: Verdict, name: &str) -> VerdictRecord {
    VerdictRecord {
        verdict,
        rule: RuleRef::Default {
            name: name.to_string(),
        },
    }
}

/// Every error as its display string.
fn errors(text: &str) -> Vec<String> {
    match ConsentList::parse(text) {
        Ok(list) => panic!("accepted: {list:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn spec_sample_parses_to_exact_records() {
    let l = list(SPEC_SAMPLE);
    assert_eq!(l.version, 1);
    assert_eq!(l.mode, Mode::Audit);
    assert_eq!(l.defaults, Default::default());
    assert_eq!(l.rules.len(), 2);
    let r = &l.rules[0];
    assert_eq!(r.source.as_str(), "https://fonts.googleapis.com");
    assert_eq!(r.directives, DirectiveSet::Only(vec![Directive::StyleSrc]));
    assert_eq!(r.scope, Scope::Gadget("Charinsert".into()));
    assert_eq!(r.decision, Verdict::Allow);
    assert_eq!(r.added.as_deref(), Some("2026-11-28T12:00:00Z"));
    assert_eq!(r.note.as_deref(), Some("fonts for the gadget"));
    assert_eq!(l.rules[1].scope, Scope::All);
    assert_eq!(
        (l.rules[1].added.as_ref(), l.rules[1].note.as_ref()),
        (None, None)
    );
}

#[test]
fn toolforge_rule_covers_its_directive_only() {
    let l = list(SPEC_SAMPLE);
    let fetch = Ask::new("https://x.toolforge.org/api", Directive::ConnectSrc).party(Party::Cloud);
    let got = fetch.to(&l);
    assert_eq!(got, by_rule(&l, 1));
    assert_eq!(
        serde_json::to_value(&got).expect("serialises"),
        json!({"verdict": "allow", "rule": {"kind": "rule", "index": 1,
            "source": "https://*.toolforge.org", "directives": ["connect-src"],
            "scope": "*", "decision": "allow"}})
    );

    let l = rules(json!([rule(
        "https://*.toolforge.org",
        &["connect-src"],
        "*",
        "allow"
    )]));
    assert_eq!(fetch.to(&l), by_rule(&l, 0));
    assert_eq!(fetch.to(&l).verdict, Verdict::Allow);
    let script = Ask::new("https://x.toolforge.org/x.js", Directive::ScriptSrc).party(Party::Cloud);
    assert_eq!(script.to(&l), by_default(Verdict::Ask, "cloud"));
    assert_eq!(
        serde_json::to_value(script.to(&l)).expect("serialises"),
        json!({"verdict": "ask", "rule": {"kind": "default", "name": "cloud"}})
    );
    // The wildcard does not cover toolforge.org itself.
    let bare = Ask::new("https://toolforge.org/", Directive::ConnectSrc).party(Party::Cloud);
    assert_eq!(bare.to(&l), by_default(Verdict::Ask, "cloud"));
}

#[test]
fn narrower_scope_beats_wider() {
    let l = rules(json!([
        rule(
            "https://fonts.googleapis.com",
            &["style-src"],
            "gadget:HotCat",
            "allow"
        ),
        rule("https://fonts.googleapis.com", &["style-src"], "*", "block"),
    ]));
    let css = "https://fonts.googleapis.com/css?family=X";
    let hotcat = Ask::new(css, Directive::StyleSrc).scopes(&["gadget:HotCat"]);
    assert_eq!(hotcat.to(&l), by_rule(&l, 0));
    let other = Ask::new(css, Directive::StyleSrc).scopes(&["gadget:Other"]);
    assert_eq!(other.to(&l), by_rule(&l, 1));
    assert_eq!(other.to(&l).verdict, Verdict::Block);
    let page = Ask::new(css, Directive::StyleSrc);
    assert_eq!(page.to(&l), by_rule(&l, 1));

    // A script loaded by a gadget: its own scope first, then the gadget's, then '*'.
    let l = rules(json!([
        rule("https://api.example", &["connect-src"], "*", "allow"),
        rule(
            "https://api.example",
            &["connect-src"],
            "gadget:HotCat",
            "ask"
        ),
        rule(
            "https://api.example",
            &["connect-src"],
            "script:https://x.example/lib.js",
            "block"
        ),
    ]));
    let api = "https://api.example/q";
    let chain = ["script:https://x.example/lib.js", "gadget:HotCat"];
    assert_eq!(
        Ask::new(api, Directive::ConnectSrc).scopes(&chain).to(&l),
        by_rule(&l, 2)
    );
    assert_eq!(
        Ask::new(api, Directive::ConnectSrc)
            .scopes(&["script:https://y.example/", "gadget:HotCat"])
            .to(&l),
        by_rule(&l, 1)
    );
    // Scope beats specificity: the gadget's scheme-only rule beats a '*' exact-host rule.
    let l = rules(json!([
        rule("https://api.example", &["connect-src"], "*", "block"),
        rule("https:", &["connect-src"], "gadget:HotCat", "allow"),
    ]));
    assert_eq!(
        Ask::new(api, Directive::ConnectSrc)
            .scopes(&["gadget:HotCat"])
            .to(&l),
        by_rule(&l, 1)
    );
}

#[test]
fn scopes_of_every_kind() {
    let l = rules(json!([
        rule(
            "https://a.example",
            &["*"],
            "user-script:User:Jane Doe/common.js",
            "allow"
        ),
        rule("https://a.example", &["*"], "site-script", "ask"),
    ]));
    let a = |scopes: &'static [&'static str]| {
        Ask::new("https://a.example/", Directive::ImgSrc)
            .scopes(scopes)
            .to(&l)
    };
    assert_eq!(
        a(&["user-script:User:Jane_Doe/common.js"]),
        by_rule(&l, 0),
        "_ is a space"
    );
    assert_eq!(a(&["site-script"]), by_rule(&l, 1));
    assert_eq!(
        a(&["gadget:site-script"]),
        by_default(Verdict::Ask, "third")
    );
}

#[test]
fn more_specific_source_wins() {
    let l = rules(json!([
        rule("https://*.example.com", &["connect-src"], "*", "allow"),
        rule("https://evil.example.com", &["connect-src"], "*", "block"),
    ]));
    assert_eq!(
        Ask::new("https://evil.example.com/x", Directive::ConnectSrc).to(&l),
        by_rule(&l, 1)
    );
    assert_eq!(
        Ask::new("https://good.example.com/x", Directive::ConnectSrc).to(&l),
        by_rule(&l, 0)
    );
    assert_eq!(by_rule(&l, 1).verdict, Verdict::Block);

    // Then the path prefix, then an explicit port; scheme-only and '*' are the least specific.
    let l = rules(json!([
        rule("*", &["img-src"], "*", "block"),
        rule("https:", &["img-src"], "*", "ask"),
        rule("https://img.example", &["img-src"], "*", "allow"),
        rule("https://img.example/private/", &["img-src"], "*", "block"),
        rule("https://img.example:443/private/", &["img-src"], "*", "ask"),
    ]));
    let img = |u: &'static str| Ask::new(u, Directive::ImgSrc).to(&l);
    assert_eq!(img("https://img.example/public/a.png"), by_rule(&l, 2));
    assert_eq!(img("https://img.example/private/a.png"), by_rule(&l, 4));
    assert_eq!(
        img("https://other.example/a.png"),
        by_rule(&l, 0),
        "https: and * are equally unspecific: the stricter wins"
    );
}

#[test]
fn equal_specificity_the_stricter_decision_wins() {
    for order in [["allow", "block"], ["block", "allow"]] {
        let l = rules(json!([
            rule("https://cdn.example", &["script-src"], "*", order[0]),
            rule(
                "https://cdn.example",
                &["script-src", "style-src"],
                "*",
                order[1]
            ),
        ]));
        let got = Ask::new("https://cdn.example/x.js", Directive::ScriptSrc).to(&l);
        let blocking = if order[0] == "block" { 0 } else { 1 };
        assert_eq!(got, by_rule(&l, blocking));
    }
    let l = rules(json!([
        rule("https://cdn.example", &["*"], "*", "ask"),
        rule("https://cdn.example", &["*"], "*", "allow"),
    ]));
    assert_eq!(
        Ask::new("https://cdn.example/", Directive::FontSrc).to(&l),
        by_rule(&l, 0)
    );
}

#[test]
fn defaults_by_party_and_tier() {
    let l = ConsentList::default();
    assert_eq!(
        Ask::new("https://cdn.example/x.js", Directive::ScriptSrc).to(&l),
        by_default(Verdict::Block, "executable-third")
    );
    assert_eq!(
        Ask::new("https://cdn.example/x.png", Directive::ImgSrc).to(&l),
        by_default(Verdict::Ask, "third")
    );
    let cases = [
        (
            Party::Local,
            "http://localhost:8080/x.js",
            Verdict::Allow,
            "local",
        ),
        (
            Party::First,
            "https://en.wikipedia.org/x.js",
            Verdict::Allow,
            "first",
        ),
        (
            Party::Wikimedia,
            "https://upload.wikimedia.org/x.js",
            Verdict::Allow,
            "wikimedia",
        ),
        (
            Party::Cloud,
            "https://x.toolforge.org/x.js",
            Verdict::Ask,
            "cloud",
        ),
    ];
    for (party, url, verdict, name) in cases {
        let got = Ask::new(url, Directive::ScriptSrc).party(party).to(&l);
        assert_eq!(got, by_default(verdict, name));
    }
    let l = list(r#"{"version":1,"defaults":{"third":"block","first":"ask"}}"#);
    assert_eq!(l.defaults.third, Verdict::Block);
    assert_eq!(l.defaults.first, Verdict::Ask);
    assert_eq!(
        l.defaults.cloud,
        Verdict::Ask,
        "missing keys keep the SPEC default"
    );
    assert_eq!(l.mode, Mode::Audit);
    assert_eq!(ConsentList::fallback().mode, Mode::Ask);
}

#[test]
fn matching_self_schemes_ports_paths_and_websockets() {
    let l = rules(json!([
        rule("'self'", &["connect-src"], "*", "allow"),
        rule("https:", &["img-src"], "*", "allow"),
        rule("https://api.example:8443", &["connect-src"], "*", "allow"),
        rule("https://api.example/v1/", &["connect-src"], "*", "allow"),
        rule("https://api.example/exact", &["connect-src"], "*", "allow"),
        rule("stream.example", &["connect-src"], "*", "allow"),
        rule("http://old.example", &["connect-src"], "*", "allow"),
    ]));
    let c = |u: &'static str| Ask::new(u, Directive::ConnectSrc).to(&l).rule;
    let idx = |i: usize| by_rule(&l, i).rule;
    let none = by_default(Verdict::Ask, "third").rule;
    assert_eq!(c("https://en.wikipedia.org/w/api.php"), idx(0));
    assert_eq!(
        c("wss://en.wikipedia.org/socket"),
        idx(0),
        "'self' admits wss"
    );
    assert_eq!(
        c("https://en.wikipedia.org:8443/"),
        none,
        "'self' is the page's port only"
    );
    assert_eq!(c("http://en.wikipedia.org/"), none, "no downgrade");
    assert_eq!(
        Ask::new("https://any.example/p.png", Directive::ImgSrc)
            .to(&l)
            .rule,
        idx(1)
    );
    assert_eq!(
        Ask::new("http://any.example/p.png", Directive::ImgSrc)
            .to(&l)
            .rule,
        none
    );
    assert_eq!(c("https://api.example:8443/q"), idx(2));
    assert_eq!(c("https://api.example/v1/q"), idx(3));
    assert_eq!(c("https://api.example/v2/q"), none);
    assert_eq!(c("https://api.example/exact?x=1"), idx(4));
    assert_eq!(c("https://api.example/exact/more"), none);
    assert_eq!(
        c("https://api.example:9000/v1/q"),
        none,
        "no port: the scheme's default only"
    );
    assert_eq!(
        c("wss://stream.example/feed"),
        none,
        "scheme-less: the page scheme (https), which browsers never widen to wss"
    );
    assert_eq!(
        c("ws://stream.example/feed"),
        none,
        "https page: ws is a downgrade"
    );
    assert_eq!(
        c("https://old.example/"),
        idx(6),
        "http source admits https"
    );
    assert_eq!(
        c("ws://old.example/"),
        none,
        "http source does not admit ws"
    );
    assert_eq!(c("wss://OLD.example:443/"), none);
    assert_eq!(c("https://OLD.example:443/"), idx(6));
    // On an http page a scheme-less source means http (and its upgrades).
    let http = Ask::new("http://stream.example/", Directive::ConnectSrc).page("http://localhost/");
    assert_eq!(http.to(&l).rule, idx(5));
}

/// Paths are compared percent-decoded whole, the way Chromium and Firefox enforce the
/// exported header (tests/e2e/csp-oracle.mjs): `%2F` is a slash like any other.
#[test]
fn paths_match_percent_decoded_like_browsers() {
    let l = rules(json!([
        rule(
            "https://n.example/a%2Fb.json",
            &["connect-src"],
            "*",
            "allow"
        ),
        rule("https://api.example/v1/", &["connect-src"], "*", "allow"),
        rule("https://sp.example/a%20b/", &["connect-src"], "*", "allow"),
    ]));
    let c = |u: &'static str| Ask::new(u, Directive::ConnectSrc).to(&l).rule;
    let none = by_default(Verdict::Ask, "third").rule;
    assert_eq!(c("https://n.example/a%2Fb.json"), by_rule(&l, 0).rule);
    assert_eq!(
        c("https://n.example/a/b.json"),
        by_rule(&l, 0).rule,
        "%2F in the source matches a '/' in the request"
    );
    assert_eq!(c("https://n.example/a%2fb.json"), by_rule(&l, 0).rule);
    assert_eq!(c("https://n.example/a/b.jsonx"), none);
    assert_eq!(
        c("https://api.example/v1%2Fitems.json"),
        by_rule(&l, 1).rule,
        "%2F in the request continues the /v1/ prefix"
    );
    assert_eq!(
        c("https://api.example/v1"),
        none,
        "a prefix keeps its slash"
    );
    assert_eq!(c("https://api.example/v1%2F"), by_rule(&l, 1).rule);
    assert_eq!(c("https://api.example/V1/x"), none, "case-sensitive");
    assert_eq!(c("https://sp.example/a b/c"), by_rule(&l, 2).rule);
    assert_eq!(c("https://sp.example/a%20b/c"), by_rule(&l, 2).rule);
}

/// `http://h:PORT` admits `https://h:PORT` (CSP3, Firefox, the auditor), which Chromium
/// blocks: the exported header carries the secure twin, so both browsers admit what the
/// auditor admits. Likewise `ws` → `wss`, and scheme-less sources with a port. Sources with a
/// default or `*` port, or already secure, need no twin (Chromium upgrades those).
#[test]
fn explicit_port_upgrades_are_admitted_and_exported_with_a_secure_twin() {
    let l = rules(json!([
        rule("http://up.example:8080", &["script-src"], "*", "allow"),
        rule(
            "ws://sock.example:8081/feed/",
            &["connect-src"],
            "*",
            "allow"
        ),
        rule("exact.example:8443", &["img-src"], "*", "allow"),
        rule("http://plain.example", &["img-src"], "*", "allow"),
        rule("http://any.example:*", &["img-src"], "*", "allow"),
        rule("https://tls.example:9443", &["img-src"], "*", "allow"),
        rule("http://blocked.example:8080", &["img-src"], "*", "block"),
    ]));
    let http_page = "http://wiki.example/wiki/Main_Page";
    let at = |u: &'static str, d: Directive| Ask::new(u, d).page(http_page).to(&l).rule;
    assert_eq!(
        at("https://up.example:8080/js/up.js", Directive::ScriptSrc),
        by_rule(&l, 0).rule,
        "http source, https request on its explicit port"
    );
    assert_eq!(
        at("https://up.example:8081/js/up.js", Directive::ScriptSrc),
        by_default(Verdict::Block, "executable-third").rule,
        "the upgrade keeps the port"
    );
    assert_eq!(
        at("wss://sock.example:8081/feed/x", Directive::ConnectSrc),
        by_rule(&l, 1).rule,
        "ws source, wss request on its explicit port"
    );
    assert_eq!(
        at("https://exact.example:8443/i.png", Directive::ImgSrc),
        by_rule(&l, 2).rule,
        "scheme-less on an http page, https on its port"
    );
    let header = l.to_csp_header();
    let directive = |name: &str| {
        header
            .split("; ")
            .find(|d| d.starts_with(name))
            .unwrap_or_default()
            .split(' ')
            .skip(1)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        directive("script-src"),
        [
            "'self'",
            "http://up.example:8080",
            "https://up.example:8080"
        ]
    );
    assert_eq!(
        directive("connect-src"),
        [
            "'self'",
            "ws://sock.example:8081/feed/",
            "wss://sock.example:8081/feed/"
        ]
    );
    assert_eq!(
        directive("img-src"),
        [
            "'self'",
            "exact.example:8443",
            "http://any.example:*",
            "http://plain.example",
            "https://exact.example:8443",
            "https://tls.example:9443",
        ],
        "no twin for default or '*' ports, secure sources, or block rules"
    );
}

#[test]
fn errors_are_named_with_line_and_column() {
    let doc = r#"{
  "version": 2,
  "rules": [
    { "source": "https://a b", "directives": ["script-src", "scrpt-src"],
      "scope": "gadgt:HotCat", "decision": "alow" }
  ]
}"#;
    assert_eq!(
        errors(doc),
        [
            "2:14 /version: unknown version 2: this auditor reads version 1",
            r#"4:17 /rules/0/source: bad source expression "https://a b": it contains a space; write one source per rule"#,
            r#"4:61 /rules/0/directives/1: unknown directive "scrpt-src""#,
            r#"5:16 /rules/0/scope: bad scope "gadgt:HotCat": expected "*", "gadget:NAME", "user-script:PAGE", "site-script" or "script:URL""#,
            r#"5:44 /rules/0/decision: bad decision "alow": expected "allow", "ask" or "block""#,
        ]
    );
    let err = ConsentList::parse(doc).expect_err("invalid");
    assert_eq!(err[0].kind, ConsentErrorKind::UnknownVersion("2".into()));
    assert_eq!(
        (err[2].line, err[2].column, err[2].path.as_str()),
        (4, 61, "/rules/0/directives/1")
    );
    assert_eq!(
        err[2].kind,
        ConsentErrorKind::UnknownDirective("scrpt-src".into())
    );
    assert_eq!(
        err[1].kind,
        ConsentErrorKind::BadSourceExpression {
            source: "https://a b".into(),
            reason: "it contains a space; write one source per rule".into()
        }
    );
}

#[test]
fn structural_errors_are_all_reported() {
    let doc = "{\"version\": 1, \"mode\": \"strict\", \"rulez\": [],\n\"defaults\": {\"third\": \"deny\", \"thrid\": \"ask\"},\n\"rules\": [{\"source\": \"*.\", \"directives\": [], \"decision\": \"allow\", \"note\": 5},\n  \"x\", {\"source\": \"'unsafe-inline'\", \"directives\": [\"*\", \"img-src\"], \"scope\": \"gadget:\", \"decision\": \"block\", \"decision\": \"allow\"}]}";
    assert_eq!(
        errors(doc),
        [
            r#"1:24 /mode: bad mode "strict": expected "audit", "ask" or "block""#,
            r#"1:34 /rulez: unknown field "rulez""#,
            r#"2:23 /defaults/third: bad decision "deny": expected "allow", "ask" or "block""#,
            r#"2:31 /defaults/thrid: unknown field "thrid""#,
            r#"3:11 /rules/0: missing field "scope""#,
            r#"3:22 /rules/0/source: bad source expression "*.": a bare "*." needs a domain after it, like *.example.org"#,
            r#"3:42 /rules/0/directives: the directive list is empty: name directives, or ["*"] for all"#,
            "3:75 /rules/0/note: expected a string, found a number",
            "4:3 /rules/1: expected an object, found a string",
            r#"4:19 /rules/2/source: bad source expression "'unsafe-inline'": 'unsafe-inline' is not a destination; the only quoted keyword here is 'self'"#,
            r#"4:52 /rules/2/directives: "*" already means every directive and must stand alone"#,
            r#"4:79 /rules/2/scope: bad scope "gadget:": the name after "gadget:" is empty"#,
            r#"4:111 /rules/2/decision: duplicate field "decision""#,
        ]
    );
    assert_eq!(
        errors(r#"{"rules": {}}"#),
        [
            r#"1:1: missing field "version""#,
            "1:11 /rules: expected an array of rules, found an object",
        ]
    );
    assert_eq!(errors("[]"), ["1:1: expected an object, found an array"]);
    assert_eq!(
        errors(r#"{"version": "1"}"#),
        ["1:13 /version: expected the number 1, found a string"]
    );
    let err = ConsentList::parse(r#"{"version": 1, "mode": 3}"#).expect_err("invalid");
    assert_eq!(
        err[0].kind,
        ConsentErrorKind::WrongType {
            expected: "a string".into(),
            found: "a number".into()
        }
    );
}

#[test]
fn syntax_errors_carry_their_position() {
    let doc = "{\n  \"version\": 1,\n  \"rules\": [1 2]\n}";
    let err = ConsentList::parse(doc).expect_err("invalid");
    assert_eq!(err.len(), 1);
    assert_eq!(
        (err[0].line, err[0].column, err[0].path.as_str()),
        (3, 15, "")
    );
    assert_eq!(
        err[0].to_string(),
        "3:15: syntax error: expected ',' or ']', found '2'"
    );
    assert!(matches!(err[0].kind, ConsentErrorKind::Syntax(_)));
    assert_eq!(
        errors("{\"version\": 1,}"),
        ["1:15: syntax error: expected '\"' to start a member name, found '}'"]
    );
    // Hostile stored data: errors, never panics.
    for text in [
        "[".repeat(100_000),
        "{\"rules\":".repeat(50_000),
        "\u{0}".to_string(),
        "{\"version\":1e999999}".to_string(),
        "{\"version\":1,\"rules\":[{\"source\":\"\\ud800\"}]}".to_string(),
        String::new(),
    ] {
        assert!(ConsentList::parse(&text).is_err());
    }
    // Hostile but valid text in notes survives, escaped on the way out.
    let l = list(
        r#"{"version":1,"rules":[{"source":"https://a.example","directives":["*"],"scope":"*","decision":"allow","note":"a\u0000b\u202e\n"}]}"#,
    );
    assert_eq!(ConsentList::parse(&l.to_json()), Ok(l.clone()));
    assert!(!l.to_json().chars().any(|c| c.is_control() && c != '\n'));
    assert!(!l
        .to_table()
        .chars()
        .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'));
}

#[test]
fn json_round_trips_exactly() {
    let l = list(SPEC_SAMPLE);
    let text = l.to_json();
    assert_eq!(
        text,
        r#"{
  "version": 1,
  "mode": "audit",
  "defaults": {
    "wikimedia": "allow",
    "local": "allow",
    "cloud": "ask",
    "third": "ask",
    "executable-third": "block",
    "first": "allow"
  },
  "rules": [
    {
      "source": "https://fonts.googleapis.com",
      "directives": ["style-src"],
      "scope": "gadget:Charinsert",
      "decision": "allow",
      "added": "2026-11-28T12:00:00Z",
      "note": "fonts for the gadget"
    },
    {
      "source": "https://*.toolforge.org",
      "directives": ["connect-src"],
      "scope": "*",
      "decision": "allow"
    }
  ]
}
"#
    );
    assert_eq!(ConsentList::parse(&text), Ok(l.clone()));
    // The serde form (what crosses to JS) is the same document.
    let from_text: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(serde_json::to_value(&l).expect("serialises"), from_text);

    let odd = rules(json!([
        rule(
            "HTTPS://X.Example:*/a%20b/",
            &["style-src", "script-src", "style-src"],
            "script:HTTPS://CDN.example/lib.js",
            "ask"
        ),
        rule("'self'", &["*"], "user-script:User:Ünï/cødé.js", "block"),
    ]));
    assert_eq!(odd.rules[0].directives.names(), ["script-src", "style-src"]);
    assert_eq!(
        odd.rules[0].scope.to_string(),
        "script:https://cdn.example/lib.js"
    );
    assert_eq!(ConsentList::parse(&odd.to_json()), Ok(odd.clone()));
    let empty = ConsentList::default();
    assert_eq!(ConsentList::parse(&empty.to_json()), Ok(empty));
}

#[test]
fn csp_header_declaration_and_table() {
    let l = rules(json!([
        rule(
            "https://fonts.googleapis.com",
            &["style-src"],
            "gadget:Charinsert",
            "allow"
        ),
        rule("https://*.toolforge.org", &["connect-src"], "*", "allow"),
        rule("https://cdn.example", &["script-src"], "*", "block"),
        rule("'self'", &["*"], "*", "allow"),
        rule(
            "https://a.example",
            &["connect-src", "img-src"],
            "user-script:User:X/a.js",
            "allow"
        ),
        rule(
            "https://fonts.googleapis.com",
            &["style-src"],
            "site-script",
            "allow"
        ),
    ]));
    assert_eq!(
        l.to_csp_header(),
        "script-src 'self'; style-src 'self' https://fonts.googleapis.com; \
         img-src 'self' https://a.example; font-src 'self'; \
         connect-src 'self' https://*.toolforge.org https://a.example; frame-src 'self'; \
         media-src 'self'; worker-src 'self'; object-src 'self'; manifest-src 'self'"
    );
    let seen = [
        SeenLoad {
            gadget: "Charinsert".into(),
            directive: Directive::FontSrc,
            source: "https://fonts.gstatic.com".into(),
        },
        SeenLoad {
            gadget: "Charinsert".into(),
            directive: Directive::StyleSrc,
            source: "https://fonts.googleapis.com".into(),
        },
        SeenLoad {
            gadget: "HotCat".into(),
            directive: Directive::ConnectSrc,
            source: "https://x.toolforge.org".into(),
        },
        SeenLoad {
            gadget: "Bad\u{0}".into(),
            directive: Directive::ConnectSrc,
            source: "https://x.toolforge.org".into(),
        },
    ];
    assert_eq!(
        l.per_gadget_declaration(&seen),
        json!({
            "gadgets": {
                "Charinsert": {
                    "font-src": ["https://fonts.gstatic.com"],
                    "style-src": ["https://fonts.googleapis.com"]
                },
                "HotCat": {"connect-src": ["https://x.toolforge.org"]}
            },
            "userScripts": {
                "User:X/a.js": {"connect-src": ["https://a.example"], "img-src": ["https://a.example"]}
            },
            "siteScript": {"style-src": ["https://fonts.googleapis.com"]}
        })
    );
    assert_eq!(
        ConsentList::default().per_gadget_declaration(&[]),
        json!({"gadgets": {}, "userScripts": {}, "siteScript": {}})
    );

    let table = list(SPEC_SAMPLE).to_table();
    assert_eq!(
        table,
        "#  decision  source                        directives   scope              added                 note\n\
         0  allow     https://fonts.googleapis.com  style-src    gadget:Charinsert  2026-11-28T12:00:00Z  fonts for the gadget\n\
         1  allow     https://*.toolforge.org       connect-src  *                  -                     -\n\
         \n\
         defaults: wikimedia allow, local allow, cloud ask, third ask, executable-third block, first allow\n\
         mode: audit\n"
    );
    assert!(ConsentList::default().to_table().contains("(no rules)\n"));
}

//! SPEC §3 tier and carried-data vectors and §7 decisions through the whole pipeline
//! (issue 1/7, acceptance 1): each asserts the exact record.

use tpr_auditor::assess::{Auditor, RequestInput};
use tpr_auditor::carried::PageValues;
use tpr_auditor::classify::Preset;
use tpr_auditor::consent::{ConsentList, RuleRef};
use tpr_auditor::model::{
    CarryKind, Channel, Directive, Outcome, Party, Source, SourceKind, Tier, Verdict,
};

fn auditor(page: &str, values: PageValues, consent: &str) -> Auditor {
    let consent = ConsentList::parse(consent).expect("valid consent");
    Auditor::new(page, &[Preset::wikimedia_production()], &values, consent).expect("valid page")
}

fn main_page() -> Auditor {
    auditor(
        "https://en.wikipedia.org/wiki/Main_Page",
        PageValues {
            page_name: Some("Main_Page".into()),
            title: Some("Main Page".into()),
            ..PageValues::default()
        },
        r#"{"version":1,"mode":"audit","rules":[]}"#,
    )
}

fn jane() -> Auditor {
    auditor(
        "https://en.wikipedia.org/wiki/X",
        PageValues {
            user_name: Some("Jane Doe".into()),
            article_id: Some("1".into()),
            tokens: vec!["ab12cd34+\\".into()],
            ..PageValues::default()
        },
        r#"{"version":1,"mode":"audit","rules":[]}"#,
    )
}

fn page_source() -> Source {
    Source::page()
}

fn default_rule(name: &str) -> RuleRef {
    RuleRef::Default {
        name: name.to_string(),
    }
}

#[test]
fn tiers() {
    let a = main_page();
    let script = a
        .assess(
            &RequestInput::new("https://fonts.googleapis.com/x.js", Channel::Script),
            &page_source(),
        )
        .expect("assessed");
    assert_eq!(
        (
            script.party,
            script.directive,
            script.tier,
            script.carries.clone()
        ),
        (Party::Third, Directive::ScriptSrc, Tier::Executable, vec![])
    );
    assert_eq!(
        (script.verdict, script.rule),
        (Verdict::Block, default_rule("executable-third"))
    );
    assert_eq!(
        script.decision,
        Outcome::Unconsented,
        "audit mode lets it go, unconsented"
    );

    let font = a
        .assess(
            &RequestInput::new(
                "https://fonts.gstatic.com/s/roboto.woff2",
                Channel::FontFace,
            ),
            &page_source(),
        )
        .expect("assessed");
    assert_eq!(
        (font.party, font.site.as_str(), font.directive, font.tier),
        (
            Party::Third,
            "gstatic.com",
            Directive::FontSrc,
            Tier::Passive
        )
    );
    assert_eq!(
        (font.verdict, font.rule),
        (Verdict::Ask, default_rule("third"))
    );

    let fetch = a
        .assess(
            &RequestInput::new(
                "https://xtools.wmcloud.org/api?page=Main_Page",
                Channel::Fetch,
            ),
            &page_source(),
        )
        .expect("assessed");
    assert_eq!(
        (
            fetch.party,
            fetch.tool.as_deref(),
            fetch.tier,
            fetch.carries
        ),
        (
            Party::Cloud,
            Some("xtools"),
            Tier::Data,
            vec![CarryKind::Page]
        )
    );
    assert_eq!(
        (fetch.verdict, fetch.rule),
        (Verdict::Ask, default_rule("cloud"))
    );

    let mut frame = RequestInput::new("https://maps.example/embed", Channel::Frame);
    frame.sandbox = Some(String::new());
    let sandboxed = a.assess(&frame, &page_source()).expect("assessed");
    assert_eq!(
        (sandboxed.directive, sandboxed.tier),
        (Directive::FrameSrc, Tier::Passive)
    );
    frame.sandbox = Some("allow-scripts allow-popups".into());
    assert_eq!(
        a.assess(&frame, &page_source()).expect("assessed").tier,
        Tier::Executable
    );
    frame.sandbox = None;
    assert_eq!(
        a.assess(&frame, &page_source()).expect("assessed").tier,
        Tier::Executable
    );
}

#[test]
fn carried_data_for_jane_doe() {
    let a = jane();
    for url in [
        "https://api.example/x?user=Jane_Doe",
        "https://api.example/x?u=Jane%20Doe",
        "https://api.example/x?u=Jane+Doe",
    ] {
        let r = a
            .assess(&RequestInput::new(url, Channel::Fetch), &page_source())
            .expect("assessed");
        assert_eq!(
            (r.carries, r.tier),
            (vec![CarryKind::User], Tier::Data),
            "{url}"
        );
    }
    // The fragment is not sent.
    let frag = a
        .assess(
            &RequestInput::new("https://api.example/x#Jane_Doe", Channel::Fetch),
            &page_source(),
        )
        .expect("assessed");
    assert_eq!(frag.carries, vec![]);

    let mut post = RequestInput::new("https://api.example/submit", Channel::Xhr);
    post.method = Some("post".into());
    post.body = Some("action=edit&token=ab12cd34%2B%5C".into());
    let r = a.assess(&post, &page_source()).expect("assessed");
    assert_eq!(
        (r.method.as_str(), r.carries),
        ("POST", vec![CarryKind::Token])
    );

    // Article id 1 is too short to look for.
    let r = a
        .assess(
            &RequestInput::new("https://api.example/x?id=1", Channel::Fetch),
            &page_source(),
        )
        .expect("assessed");
    assert_eq!((r.carries, r.tier), (vec![], Tier::Passive));

    let mut cred = RequestInput::new("https://api.example/x", Channel::Fetch);
    cred.credentials = true;
    let r = a.assess(&cred, &page_source()).expect("assessed");
    assert_eq!((r.carries, r.tier), (vec![CarryKind::Cookies], Tier::Data));
    // Credentials to the page's own origin carry nothing new.
    let mut own = RequestInput::new("/w/api.php", Channel::Fetch);
    own.credentials = true;
    let r = a.assess(&own, &page_source()).expect("assessed");
    assert_eq!((r.party, r.carries), (Party::First, vec![]));
}

#[test]
fn decisions_through_the_pipeline() {
    let a = auditor(
        "https://en.wikipedia.org/wiki/X",
        PageValues::default(),
        r#"{"version":1,"mode":"block","rules":[
            {"source":"https://*.toolforge.org","directives":["connect-src"],"scope":"*","decision":"allow"},
            {"source":"https://fonts.googleapis.com","directives":["style-src"],"scope":"gadget:HotCat","decision":"allow"},
            {"source":"https://fonts.googleapis.com","directives":["style-src"],"scope":"*","decision":"block"}
        ]}"#,
    );
    let fetch = a
        .assess(
            &RequestInput::new("https://x.toolforge.org/api", Channel::Fetch),
            &page_source(),
        )
        .expect("assessed");
    assert_eq!(
        (fetch.verdict, fetch.decision),
        (Verdict::Allow, Outcome::Allowed)
    );
    assert!(
        matches!(fetch.rule, RuleRef::Rule { index: 0, .. }),
        "{:?}",
        fetch.rule
    );

    let script = a
        .assess(
            &RequestInput::new("https://x.toolforge.org/x.js", Channel::Script),
            &page_source(),
        )
        .expect("assessed");
    assert_eq!(
        (script.verdict, script.decision),
        (Verdict::Ask, Outcome::Blocked)
    );
    assert_eq!(script.rule, default_rule("cloud"));

    let css = RequestInput::new("https://fonts.googleapis.com/css?family=X", Channel::Style);
    let hotcat = Source::named(SourceKind::Gadget, Some("HotCat".into()));
    let other = Source::named(SourceKind::Gadget, Some("Other".into()));
    let r = a.assess(&css, &hotcat).expect("assessed");
    assert_eq!(r.verdict, Verdict::Allow);
    assert!(
        matches!(r.rule, RuleRef::Rule { index: 1, .. }),
        "{:?}",
        r.rule
    );
    let r = a.assess(&css, &other).expect("assessed");
    assert_eq!((r.verdict, r.decision), (Verdict::Block, Outcome::Blocked));
    assert!(
        matches!(r.rule, RuleRef::Rule { index: 2, .. }),
        "{:?}",
        r.rule
    );

    // A script loaded by HotCat answers to HotCat's rules too (nearest scope first).
    let mut lib = Source::named(
        SourceKind::Script,
        Some("https://cdn.example/lib.js".into()),
    );
    lib.chain = vec!["gadget:HotCat".into()];
    let r = a.assess(&css, &lib).expect("assessed");
    assert_eq!(r.verdict, Verdict::Allow);

    // Non-outbound schemes are refused with an error, not classified.
    assert!(a
        .assess(
            &RequestInput::new("blob:https://en.wikipedia.org/1", Channel::Worker),
            &page_source()
        )
        .is_err());
    assert!(a
        .assess(
            &RequestInput::new("javascript:alert(1)", Channel::Frame),
            &page_source()
        )
        .is_err());
}

#[test]
fn preload_directive_follows_as() {
    let a = main_page();
    let mut req = RequestInput::new("https://cdn.example/x.js", Channel::Preload);
    req.preload_as = Some("script".into());
    let r = a.assess(&req, &page_source()).expect("assessed");
    assert_eq!(
        (r.directive, r.tier),
        (Directive::ScriptSrc, Tier::Executable)
    );
    req.preload_as = Some("font".into());
    assert_eq!(
        a.assess(&req, &page_source()).expect("assessed").directive,
        Directive::FontSrc
    );
}

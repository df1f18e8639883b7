//! Native tests of the panel's view model, on events made by a real [`Session`].

use super::aggregate::{Counts, Risk, Seen, Tracker};
use super::groups::{destination_rows, source_rows, top_level_total, RowKind};
use super::i18n::Catalog;
use super::labels;
use super::log::{step, Filter, LogList, Viewport};
use super::rules::{destination_expr, rule_json, For, RuleTarget};
use super::summary_view;
use crate::assess::Auditor;
use crate::carried::PageValues;
use crate::classify::Preset;
use crate::consent::{ConsentList, RuleRef};
use crate::events::{Answer, Event, NoBatchSource, Observation, Session};
use crate::model::{Channel, Directive, Mode, Outcome, Party, Tier, Verdict};
use std::collections::HashSet;

const PAGE: &str = "https://en.wikipedia.org/wiki/Main_Page";

fn session() -> Session {
    let values = PageValues {
        user_name: Some("Jane Doe".into()),
        tokens: vec!["abcdef0123456789+\\".into()],
        ..PageValues::default()
    };
    let auditor = Auditor::new(
        PAGE,
        &[Preset::wikimedia_production()],
        &values,
        ConsentList::default(),
    )
    .expect("page URL");
    Session::new(auditor, &values)
}

fn gadget_stack(name: &str) -> String {
    format!("Error\n    at probe (https://en.wikipedia.org/w/load.php?debug=1&modules=ext.gadget.{name}&only=scripts:3:5)")
}

/// Observes one request from gadget `gadget` (or the page when `None`); returns the event id.
fn observe(s: &mut Session, channel: Channel, url: &str, gadget: Option<&str>) -> u64 {
    let mut obs = Observation::new(channel, url);
    obs.stack = gadget.map(gadget_stack);
    match s.observe(&obs, &mut NoBatchSource).expect("observe") {
        crate::events::Observed::New(id) | crate::events::Observed::Updated(id) => id,
        crate::events::Observed::Ignored => panic!("ignored: {url}"),
    }
}

/// Feeds every event to the tracker, as the page runtime's notify does.
fn sync(t: &mut Tracker, s: &Session) {
    for e in s.events() {
        t.observe(e);
    }
    if let Some(first) = s.events().next() {
        t.forget_before(first.id);
    }
}

fn held(s: &Session) -> Vec<&Event> {
    s.events().collect()
}

fn summary_counts(s: &Session) -> Counts {
    let m = s.summary();
    Counts {
        requests: m.requests,
        events: m.events,
        blocked: m.blocked,
        unconsented: m.unconsented,
        pending: m.pending,
        allowed: m.requests - m.blocked - m.unconsented - m.pending,
    }
}

/// A page with a mix: third-party script (executable), a beacon with a token, an image with
/// the user name, a Toolforge fetch, a Wikimedia image and a first-party API call.
fn mixed(s: &mut Session) -> Vec<u64> {
    vec![
        observe(
            s,
            Channel::Script,
            "https://cdn.example.net/lib.js",
            Some("HotCat"),
        ),
        observe(
            s,
            Channel::Beacon,
            "https://collect.example.org/b?t=abcdef0123456789%2B%5C",
            Some("Stats"),
        ),
        observe(
            s,
            Channel::Img,
            "https://pixel.example.org/p.gif?u=Jane_Doe",
            Some("Stats"),
        ),
        observe(
            s,
            Channel::Fetch,
            "https://hotcat.toolforge.org/api",
            Some("HotCat"),
        ),
        observe(s, Channel::Img, "https://upload.wikimedia.org/a.png", None),
        observe(
            s,
            Channel::Fetch,
            "https://en.wikipedia.org/w/api.php",
            Some("HotCat"),
        ),
    ]
}

#[test]
fn aggregates_match_the_session_and_count_risks() {
    let mut s = session();
    mixed(&mut s);
    let mut t = Tracker::new();
    sync(&mut t, &s);
    assert_eq!(t.agg.total, summary_counts(&s));
    assert_eq!(t.untracked(s.summary()), Counts::default());
    // Audit mode: third-party and cloud requests went out unconsented.
    let exec = t.agg.risk(Risk::ExecutableThird);
    assert_eq!((exec.requests, exec.unconsented), (1, 1));
    let tokens = t.agg.risk(Risk::Tokens);
    assert_eq!((tokens.requests, tokens.unconsented), (1, 1));
    assert_eq!(t.agg.risk(Risk::UserData).requests, 1);
    assert_eq!(t.agg.risk(Risk::ExecutableCloud).requests, 0);
    // The beacon (token) and the pixel (user name) are both "other third-party".
    assert_eq!(t.agg.risk(Risk::OtherThird).requests, 2);
    assert_eq!(t.agg.risk(Risk::OtherCloud).requests, 1);

    let view = summary_view(&t, s.summary());
    assert_eq!(
        view.risks.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        Risk::ALL.to_vec()
    );
    assert_eq!(
        view.parties.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        vec![
            Party::Third,
            Party::Cloud,
            Party::Wikimedia,
            Party::Local,
            Party::First
        ]
    );
    assert_eq!(view.parties[0].1.unconsented, 3);
    assert_eq!(view.parties[1].1.unconsented, 1);
    assert_eq!(view.parties[2].1.allowed, 1);
    assert_eq!(view.parties[4].1.allowed, 1);
    assert_eq!(view.flagged, 4);
    assert_eq!(
        (view.requests, view.events, view.dropped, view.untracked),
        (6, 6, 0, 0)
    );
}

#[test]
fn updates_move_counts_without_double_counting() {
    let mut s = session();
    s.auditor_mut().set_mode(Mode::Ask);
    let id = observe(
        &mut s,
        Channel::Fetch,
        "https://api.example.com/x",
        Some("Foo"),
    );
    let mut t = Tracker::new();
    assert_eq!(
        t.observe(s.event(id).expect("event")),
        Seen::New { blocked: false }
    );
    assert_eq!(t.agg.total.pending, 1);
    // The same event again, unchanged: nothing moves.
    assert_eq!(t.observe(s.event(id).expect("event")), Seen::Same);
    // A repeat folds into the event: count 2, both pending.
    observe(
        &mut s,
        Channel::Fetch,
        "https://api.example.com/x",
        Some("Foo"),
    );
    assert_eq!(
        t.observe(s.event(id).expect("event")),
        Seen::Changed {
            newly_blocked: false
        }
    );
    assert_eq!(
        (
            t.agg.total.requests,
            t.agg.total.events,
            t.agg.total.pending
        ),
        (2, 1, 2)
    );
    assert_eq!(t.version(id), Some(1));
    // The user blocks it: the counts move from pending to blocked.
    s.answer(id, Answer::Block, None).expect("answer");
    assert_eq!(
        t.observe(s.event(id).expect("event")),
        Seen::Changed {
            newly_blocked: true
        }
    );
    assert_eq!(t.agg.total, summary_counts(&s));
    assert_eq!((t.agg.total.pending, t.agg.total.blocked), (0, 2));
    let site = t.agg.names.get("example.com").expect("site");
    assert_eq!(t.agg.sites[&site].counts.blocked, 2);
}

#[test]
fn aggregates_keep_counting_beyond_the_ring_buffer() {
    let mut s = session();
    s.set_cap(10);
    let mut t = Tracker::new();
    for i in 0..100 {
        let host = ["a.example.com", "b.example.org", "hotcat.toolforge.org"][i % 3];
        let id = observe(
            &mut s,
            Channel::Img,
            &format!("https://{host}/{i}.png"),
            Some("G"),
        );
        t.observe(s.event(id).expect("event"));
        let first = s.events().next().expect("event").id;
        t.forget_before(first);
    }
    assert_eq!(s.events().count(), 10);
    assert_eq!(s.summary().dropped, 90);
    assert_eq!(t.agg.total, summary_counts(&s));
    assert_eq!(t.tracked(), 10, "per-event records are bounded by the ring");
    let rows = destination_rows(
        &t.agg,
        &HashSet::new(),
        &held(&s),
        &t.untracked(s.summary()),
    );
    assert_eq!(top_level_total(&rows), summary_counts(&s));
    assert_eq!(rows.len(), 3);
    // An open origin lists the requests still held and says how many are gone.
    let key = "site:example.com".to_string();
    let okey = format!("{key}\u{1}origin:https://a.example.com");
    let rows = destination_rows(
        &t.agg,
        &HashSet::from([key, okey]),
        &held(&s),
        &Counts::default(),
    );
    let requests: Vec<&RowKind> = rows
        .iter()
        .filter(|r| r.depth == 2)
        .map(|r| &r.kind)
        .collect();
    // Ids 91..=100 are held; a.example.com got i % 3 == 0, i.e. ids 91, 94, 97, 100.
    assert_eq!(
        requests,
        vec![
            &RowKind::Request(100),
            &RowKind::Request(97),
            &RowKind::Request(94),
            &RowKind::Request(91),
            &RowKind::Dropped(30)
        ]
    );
}

#[test]
fn a_burst_larger_than_the_ring_is_shown_as_untracked() {
    let mut s = session();
    s.set_cap(5);
    let mut t = Tracker::new();
    // 20 new events in one task: the panel hears of them only afterwards.
    for i in 0..20 {
        observe(
            &mut s,
            Channel::Img,
            &format!("https://x.example.com/{i}.png"),
            None,
        );
    }
    sync(&mut t, &s);
    assert_eq!(t.agg.total.requests, 5);
    let untracked = t.untracked(s.summary());
    assert_eq!(
        (untracked.requests, untracked.events, untracked.unconsented),
        (15, 15, 15)
    );
    let rows = destination_rows(&t.agg, &HashSet::new(), &held(&s), &untracked);
    assert_eq!(rows.last().map(|r| &r.kind), Some(&RowKind::Untracked));
    assert_eq!(top_level_total(&rows), summary_counts(&s));
    let rows = source_rows(&t.agg, &HashSet::new(), &held(&s), &untracked);
    assert_eq!(top_level_total(&rows), summary_counts(&s));
    assert_eq!(summary_view(&t, s.summary()).untracked, 15);
}

#[test]
fn groupings_nest_sort_riskiest_first_and_sum() {
    let mut s = session();
    mixed(&mut s);
    observe(
        &mut s,
        Channel::Fetch,
        "https://cdn.example.net/data.json",
        Some("Other"),
    );
    let mut t = Tracker::new();
    sync(&mut t, &s);
    let rows = destination_rows(&t.agg, &HashSet::new(), &held(&s), &Counts::default());
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    // Executable third party first, then third-party data, cloud, wikimedia, the wiki.
    assert_eq!(
        labels,
        vec![
            "example.net",
            "example.org",
            "hotcat.toolforge.org",
            "wikimedia.org",
            "wikipedia.org"
        ]
    );
    assert_eq!(top_level_total(&rows), summary_counts(&s));
    assert!(rows.iter().all(|r| r.expanded == Some(false)));

    let open = HashSet::from(["site:example.net".to_string()]);
    let rows = destination_rows(&t.agg, &open, &held(&s), &Counts::default());
    assert_eq!(rows[1].label, "https://cdn.example.net");
    assert_eq!(rows[1].depth, 1);
    assert_eq!(rows[1].counts.requests, 2);
    let target = rows[1].target.as_ref().expect("target");
    assert_eq!(target.destination, "https://cdn.example.net");
    assert_eq!(
        target.directives,
        vec![Directive::ScriptSrc, Directive::ConnectSrc]
    );
    assert_eq!(target.scope, None);

    let rows = source_rows(&t.agg, &HashSet::new(), &held(&s), &Counts::default());
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        vec!["gadget:HotCat", "gadget:Stats", "gadget:Other", "page"]
    );
    assert_eq!(top_level_total(&rows), summary_counts(&s));
    let open = HashSet::from([
        "source:gadget:HotCat".to_string(),
        "source:gadget:HotCat\u{1}origin:https://hotcat.toolforge.org".to_string(),
    ]);
    let rows = source_rows(&t.agg, &open, &held(&s), &Counts::default());
    let hotcat: Vec<(u8, &str)> = rows
        .iter()
        .take_while(|r| r.label != "gadget:Stats")
        .map(|r| (r.depth, r.label.as_str()))
        .collect();
    assert_eq!(
        hotcat,
        vec![
            (0, "gadget:HotCat"),
            (1, "https://cdn.example.net"),
            (1, "https://hotcat.toolforge.org"),
            (2, "https://hotcat.toolforge.org/api"),
            (1, "https://en.wikipedia.org"),
        ]
    );
    let toolforge = &rows[2];
    let target = toolforge.target.as_ref().expect("target");
    assert_eq!(target.scope.as_deref(), Some("gadget:HotCat"));
    assert_eq!(
        rule_json(target, Verdict::Allow, For::ThisSource, None).as_deref(),
        Some(
            r#"{"source":"https://hotcat.toolforge.org","directives":["connect-src"],"scope":"gadget:HotCat","decision":"allow"}"#
        )
    );
}

#[test]
fn rule_json_for_actions_is_exact_and_valid() {
    let mut s = session();
    let id = observe(
        &mut s,
        Channel::Script,
        "https://cdn.example.net/lib.js?v=1",
        Some("HotCat"),
    );
    let e = s.event(id).expect("event").clone();
    let target = RuleTarget::for_event(&e);
    assert_eq!(
        rule_json(
            &target,
            Verdict::Allow,
            For::ThisSource,
            Some("2026-11-28T12:00:00Z")
        )
        .as_deref(),
        Some(
            r#"{"source":"https://cdn.example.net","directives":["script-src"],"scope":"gadget:HotCat","decision":"allow","added":"2026-11-28T12:00:00Z"}"#
        )
    );
    assert_eq!(
        rule_json(&target, Verdict::Block, For::Everyone, None).as_deref(),
        Some(
            r#"{"source":"https://cdn.example.net","directives":["script-src"],"scope":"*","decision":"block"}"#
        )
    );
    // The written rule is a valid rule and changes the verdict of the next identical request.
    let json = rule_json(&target, Verdict::Allow, For::ThisSource, None).expect("rule");
    let doc = format!("{{\"version\":1,\"rules\":[{json}]}}");
    let list = ConsentList::parse(&doc).expect("valid rule");
    s.auditor_mut().set_consent(list);
    let again = observe(
        &mut s,
        Channel::Script,
        "https://cdn.example.net/lib.js?v=2",
        Some("HotCat"),
    );
    let e2 = s.event(again).expect("event");
    assert_eq!(e2.verdict, Verdict::Allow);
    assert!(matches!(e2.rule, RuleRef::Rule { index: 0, .. }));
    // …for that gadget only.
    let other = observe(
        &mut s,
        Channel::Script,
        "https://cdn.example.net/lib.js?v=3",
        Some("X"),
    );
    assert_eq!(s.event(other).expect("event").verdict, Verdict::Block);

    // The page has no scope: only rules for everyone.
    let page = observe(&mut s, Channel::Img, "https://img.example.com/a.png", None);
    let t = RuleTarget::for_event(s.event(page).expect("event"));
    assert_eq!(rule_json(&t, Verdict::Allow, For::ThisSource, None), None);
    assert!(rule_json(&t, Verdict::Allow, For::Everyone, None).is_some());
    // Hostile scope text is escaped JSON, never broken out of.
    let t = RuleTarget {
        destination: "https://a.example".into(),
        directives: vec![],
        scope: Some("gadget:\"},{\"x".into()),
        source_key: String::new(),
    };
    assert_eq!(
        rule_json(&t, Verdict::Block, For::ThisSource, None).as_deref(),
        Some(
            r#"{"source":"https://a.example","directives":["*"],"scope":"gadget:\"},{\"x","decision":"block"}"#
        )
    );
}

#[test]
fn legacy_toolforge_paths_stay_per_tool() {
    assert_eq!(
        destination_expr(
            "https://tools.wmflabs.org",
            Party::Cloud,
            Some("geohack"),
            "https://tools.wmflabs.org/geohack/geohack.php?x=1"
        ),
        "https://tools.wmflabs.org/geohack/"
    );
    assert_eq!(
        destination_expr(
            "https://geohack.toolforge.org",
            Party::Cloud,
            Some("geohack"),
            "https://geohack.toolforge.org/x"
        ),
        "https://geohack.toolforge.org"
    );
    assert_eq!(
        destination_expr(
            "https://a.example",
            Party::Third,
            None,
            "https://a.example/x"
        ),
        "https://a.example"
    );
}

#[test]
fn log_list_filters_and_follows_updates() {
    let mut s = session();
    let ids = mixed(&mut s);
    let mut list = LogList::default();
    let all = Filter::default();
    list.rebuild(s.events(), &all);
    assert_eq!(list.len(), 6);
    assert_eq!(list.at(0), Some(ids[5]), "newest first");
    assert_eq!(list.at(5), Some(ids[0]));
    assert_eq!(list.at(6), None);
    assert_eq!(list.position(ids[0]), Some(5));

    let mut third = Filter {
        party: Some(Party::Third),
        ..Filter::default()
    };
    list.rebuild(s.events(), &third);
    assert_eq!(list.len(), 3);
    third.set_text("  PIXEL ");
    assert_eq!(third.text(), "pixel");
    list.rebuild(s.events(), &third);
    assert_eq!((list.len(), list.at(0)), (1, Some(ids[2])));

    let by_source = Filter {
        source: Some("gadget:HotCat".into()),
        ..Filter::default()
    };
    list.rebuild(s.events(), &by_source);
    assert_eq!(list.len(), 3);
    let exec = Filter {
        tier: Some(Tier::Executable),
        channel: Some(Channel::Script),
        ..Filter::default()
    };
    list.rebuild(s.events(), &exec);
    assert_eq!(list.len(), 1);

    // A decision change takes an event in or out of a decision filter.
    s.auditor_mut().set_mode(Mode::Ask);
    let pending = Filter {
        decision: Some(Outcome::Pending),
        ..Filter::default()
    };
    list.rebuild(s.events(), &pending);
    assert!(list.is_empty());
    let id = observe(&mut s, Channel::Fetch, "https://q.example.com/", Some("Q"));
    assert!(list.update(s.event(id).expect("event"), &pending));
    assert!(
        !list.update(s.event(id).expect("event"), &pending),
        "no change twice"
    );
    s.answer(id, Answer::Once, None).expect("answer");
    assert!(list.update(s.event(id).expect("event"), &pending));
    assert!(!list.contains(id));

    list.rebuild(s.events(), &all);
    assert_eq!(list.forget_before(ids[2]), 2);
    assert_eq!(list.len(), 5);
}

#[test]
fn free_text_matches_source_and_is_case_insensitive() {
    let mut s = session();
    mixed(&mut s);
    let mut f = Filter::default();
    f.set_text("hotcat");
    let n = s.events().filter(|e| f.matches(e)).count();
    // Three requests by gadget HotCat (one of them to hotcat.toolforge.org).
    assert_eq!(n, 3);
    f.set_text("IMG-SRC");
    assert_eq!(s.events().filter(|e| f.matches(e)).count(), 2);
    assert!(!f.is_empty());
    assert!(Filter::default().is_empty());
}

#[test]
fn virtual_window_math() {
    let vp = Viewport {
        row_height: 28.0,
        scroll_top: 0.0,
        height: 280.0,
    };
    assert_eq!(vp.range(10_000, 0), 0..10);
    assert_eq!(vp.range(10_000, 5), 0..15);
    assert_eq!(vp.range(3, 5), 0..3);
    assert_eq!(vp.range(0, 5), 0..0);
    let scrolled = Viewport {
        scroll_top: 28.0 * 5000.0 + 14.0,
        ..vp
    };
    assert_eq!(scrolled.range(10_000, 0), 5000..5011);
    assert_eq!(scrolled.range(10_000, 5), 4995..5016);
    let end = Viewport {
        scroll_top: 28.0 * 9990.0,
        ..vp
    };
    assert_eq!(end.range(10_000, 5), 9985..10_000);
    // Nonsense scroll values (a page that broke layout) stay in range.
    let bad = Viewport {
        scroll_top: f64::NAN,
        height: -5.0,
        ..vp
    };
    assert_eq!(bad.range(100, 2), 0..2);
    assert_eq!(vp.pool_size(5), 21);
    assert_eq!(vp.content_height(10_000), 280_000.0);
    assert_eq!(vp.reveal(3), None);
    assert_eq!(vp.reveal(10), Some(28.0));
    assert_eq!(scrolled.reveal(10), Some(280.0));

    assert_eq!(step(None, 100, "ArrowDown", 10), Some(0));
    assert_eq!(step(Some(0), 100, "ArrowUp", 10), Some(0));
    assert_eq!(step(Some(5), 100, "ArrowDown", 10), Some(6));
    assert_eq!(step(Some(99), 100, "ArrowDown", 10), Some(99));
    assert_eq!(step(Some(95), 100, "PageDown", 10), Some(99));
    assert_eq!(step(Some(5), 100, "PageUp", 10), Some(0));
    assert_eq!(step(Some(5), 100, "End", 10), Some(99));
    assert_eq!(step(Some(5), 100, "Home", 10), Some(0));
    assert_eq!(step(Some(5), 100, "Enter", 10), None);
    assert_eq!(step(Some(5), 0, "ArrowDown", 10), None);
    // A stale position past the end is clamped first.
    assert_eq!(step(Some(500), 100, "ArrowUp", 10), Some(98));
}

fn event_of(s: &Session, id: u64) -> Event {
    s.event(id).expect("event").clone()
}

#[test]
fn every_tier_and_party_has_a_distinct_glyph_and_a_name() {
    let cat = Catalog::new(Some("en"));
    let tiers: Vec<_> = [
        Some(Tier::Executable),
        Some(Tier::Data),
        Some(Tier::Passive),
        None,
    ]
    .into_iter()
    .map(|t| (labels::tier_icon(t), labels::tier_name(&cat, t)))
    .collect();
    let parties: Vec<_> = Party::ALL
        .iter()
        .map(|p| (labels::party_icon(*p), labels::party_name(&cat, *p)))
        .collect();
    assert_eq!(parties.len(), 5);
    for set in [&tiers, &parties] {
        let glyphs: HashSet<_> = set.iter().map(|(g, _)| *g).collect();
        assert_eq!(glyphs.len(), set.len(), "glyphs differ: {set:?}");
        for (g, name) in set.iter() {
            assert_eq!(g.chars().count(), 1, "{g}");
            assert!(!name.is_empty() && !name.starts_with('⧼'), "{name}");
        }
    }
    assert_eq!(labels::party_icon(Party::Third), "↗");
    assert_eq!(labels::party_icon(Party::Cloud), "☁");
    assert_eq!(labels::party_name(&cat, Party::Cloud), "Cloud Services");
}

#[test]
fn labels_prompts_and_details_read_right() {
    let cat = Catalog::new(Some("en"));
    let mut s = session();
    s.auditor_mut().set_mode(Mode::Ask);
    let id = observe(
        &mut s,
        Channel::Script,
        "https://cdn.example.net/lib.js",
        Some("HotCat"),
    );
    let e = event_of(&s, id);
    assert_eq!(
        labels::prompt_text(&cat, &e),
        "Gadget HotCat wants to load a script from https://cdn.example.net"
    );
    let id2 = observe(
        &mut s,
        Channel::Fetch,
        "https://api.example.com/q",
        Some("HotCat"),
    );
    assert_eq!(
        labels::prompt_text(&cat, &event_of(&s, id2)),
        "Gadget HotCat wants to connect to https://api.example.com"
    );
    let de = Catalog::new(Some("de"));
    assert_eq!(
        labels::prompt_text(&de, &e),
        "Helferlein HotCat möchte ein Skript von https://cdn.example.net laden"
    );

    // Executable third-party code is blocked by default, even in ask mode.
    assert_eq!(e.decision, Outcome::Blocked);
    assert_eq!(
        labels::rule_text(&cat, &e.rule),
        "Default: code from third parties"
    );
    let (fields, frames) = labels::details(&cat, &e);
    let get = |id: &str| {
        fields
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.value.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("url"), "https://cdn.example.net/lib.js");
    assert_eq!(get("method"), "GET");
    assert_eq!(get("directive"), "script-src");
    assert_eq!(get("party"), "Third party, site example.net");
    assert_eq!(get("tier"), "▲ Runs code");
    assert_eq!(get("carries"), "none found");
    assert_eq!(
        get("source"),
        "Gadget HotCat — https://en.wikipedia.org/w/load.php?debug=1&modules=ext.gadget.HotCat&only=scripts, line 3, column 5"
    );
    assert_eq!(get("verdict"), "block");
    assert_eq!(get("decision"), "⊘ Blocked");
    assert_eq!(get("rule"), "Default: code from third parties");
    assert_eq!(get("blocked-by"), "your consent list");
    assert_eq!(get("observed-by"), "the auditor's hooks");
    assert_eq!(
        frames,
        vec!["probe at https://en.wikipedia.org/w/load.php?debug=1&modules=ext.gadget.HotCat&only=scripts:3:5 (module ext.gadget.HotCat)".to_string()]
    );

    // A rule behind a verdict is named with its number, decision, destination and scope.
    let rule = RuleRef::Rule {
        index: 2,
        source: "https://cdn.example.net".into(),
        directives: vec!["script-src".into()],
        scope: "gadget:HotCat".into(),
        decision: Verdict::Allow,
    };
    assert_eq!(
        labels::rule_text(&cat, &rule),
        "Rule 3: allow https://cdn.example.net for gadget:HotCat (script-src)"
    );
    let target = RuleTarget::for_event(&e);
    assert_eq!(
        labels::action_label(&cat, &target, Verdict::Allow, For::ThisSource),
        "Allow https://cdn.example.net (script-src) for Gadget HotCat"
    );
    assert_eq!(
        labels::action_label(&cat, &target, Verdict::Block, For::Everyone),
        "Block https://cdn.example.net (script-src) for every source"
    );
    assert_eq!(
        cat.fmt("tpr-badge-label", &["1", &labels::tier_name(&cat, Some(Tier::Data))]),
        "TPR Auditor: 1 request unconsented or blocked; riskiest kind: Sends your data. Press Alt+Shift+A to open."
    );
}

#[test]
fn hostile_names_are_text_with_visible_controls() {
    let cat = Catalog::new(Some("en"));
    let mut s = session();
    let stack = "Error\n    at x (https://en.wikipedia.org/w/index.php?title=User:Evil/%3Cimg%20src=x%20onerror=alert(1)%3E%E2%80%AE.js&action=raw&ctype=text/javascript:1:1)";
    let mut obs = Observation::new(Channel::Img, "https://evil.example/a.png");
    obs.stack = Some(stack.into());
    s.observe(&obs, &mut NoBatchSource).expect("observe");
    let e = s.events().next().expect("event").clone();
    let label = labels::source_label(&cat, &e.source);
    assert_eq!(
        label,
        "User script User:Evil/<img src=x onerror=alert(1)>⟨U+202E⟩.js"
    );
    // Parameters never act as message syntax either.
    assert_eq!(
        cat.fmt("tpr-source-gadget", &["{{PLURAL:1|a|b}} $2"]),
        "Gadget {{PLURAL:1|a|b}} $2"
    );
}

/// Beyond the row limits a grouping ends with one "more" row that sums the rest, at the
/// top level and inside an open group, so it still adds up to the summary.
#[test]
fn groupings_cap_rows_and_sum_the_rest() {
    use super::groups::{MAX_CHILDREN, MAX_GROUPS};
    let mut s = session();
    s.set_cap(10_000);
    // MAX_GROUPS + 2 sites; one of them with MAX_CHILDREN + 3 origins.
    for i in 0..MAX_GROUPS + 2 {
        observe(
            &mut s,
            Channel::Img,
            &format!("https://site{i}.example/x.png"),
            Some("G"),
        );
    }
    for i in 0..MAX_CHILDREN + 3 {
        observe(
            &mut s,
            Channel::Img,
            &format!("https://o{i}.many.example/x.png"),
            Some("G"),
        );
    }
    let mut t = Tracker::new();
    sync(&mut t, &s);
    let total = summary_counts(&s);

    let rows = destination_rows(&t.agg, &HashSet::new(), &held(&s), &Counts::default());
    assert_eq!(rows.len(), MAX_GROUPS + 1);
    let last = rows.last().expect("rows");
    assert_eq!(last.key, "more");
    assert_eq!(last.kind, RowKind::More(3), "{} sites hidden", 3);
    assert_eq!(top_level_total(&rows), total);

    let open = HashSet::from(["site:many.example".to_string()]);
    let rows = destination_rows(&t.agg, &open, &held(&s), &Counts::default());
    let inner: Vec<_> = rows.iter().filter(|r| r.depth == 1).collect();
    assert_eq!(inner.len(), MAX_CHILDREN + 1);
    let more = inner.last().expect("inner rows");
    assert_eq!(more.key, "site:many.example\u{1}more");
    assert_eq!(more.kind, RowKind::More(3));
    let inner_sum = inner
        .iter()
        .fold(Counts::default(), |acc, r| acc.plus(&r.counts));
    let site = rows
        .iter()
        .find(|r| r.key == "site:many.example")
        .expect("site row");
    assert_eq!(inner_sum, site.counts);

    let open = HashSet::from(["source:gadget:G".to_string()]);
    let rows = source_rows(&t.agg, &open, &held(&s), &Counts::default());
    assert_eq!(rows[0].label, "gadget:G");
    let inner: Vec<_> = rows.iter().filter(|r| r.depth == 1).collect();
    assert_eq!(inner.len(), MAX_CHILDREN + 1);
    assert_eq!(
        inner.last().expect("inner").kind,
        RowKind::More((MAX_GROUPS + 2 + MAX_CHILDREN + 3 - MAX_CHILDREN) as u64)
    );
    assert_eq!(top_level_total(&rows), total);
}

/// The interner's recent-name cache answers exactly as its map does: same ids for the same
/// names, in first-seen order, whatever the cache slots (names sharing a slot, same tails and
/// lengths, repeats, interleaving).
#[test]
fn interner_cache_agrees_with_plain_interning() {
    use super::aggregate::Interner;
    use std::collections::HashMap;
    let mut names: Vec<String> = Vec::new();
    for i in 0..400 {
        names.push(format!("https://h{i}.example.org"));
        // Same length and last 8 bytes as another name: the same cache slot.
        names.push(format!("https://a{:03}.wikimedia.org", i % 50));
        names.push(format!("https://b{:03}.wikimedia.org", i % 50));
        names.push(String::new());
        names.push("x".repeat(i % 13));
    }
    let mut interner = Interner::default();
    let mut plain: HashMap<String, u32> = HashMap::new();
    for round in 0..3 {
        for (k, name) in names.iter().enumerate() {
            // Interleave: every name twice, the second time after another one.
            let other = &names[(k * 7 + round) % names.len()];
            for n in [name, other, name] {
                let next = plain.len() as u32;
                let want = *plain.entry(n.clone()).or_insert(next);
                assert_eq!(interner.id(n), want, "{n:?}");
                assert_eq!(interner.name(want), n.as_str());
                assert_eq!(interner.get(n), Some(want));
            }
        }
    }
}

/// `directive_bit` and the risk lines' places use declaration order: it must be the order of
/// `Directive::ALL` and `Risk::ALL` (one distinct bit per directive, in list order).
#[test]
fn directive_bits_and_risk_order_follow_the_lists() {
    use super::aggregate::{directive_bit, directives_of};
    for (i, d) in Directive::ALL.into_iter().enumerate() {
        assert_eq!(directive_bit(d), 1 << i, "{d:?}");
        assert_eq!(directives_of(directive_bit(d)), vec![d]);
    }
    let all: u16 = Directive::ALL
        .into_iter()
        .map(directive_bit)
        .fold(0, |a, b| a | b);
    assert_eq!(directives_of(all), Directive::ALL.to_vec());
    for (i, r) in Risk::ALL.into_iter().enumerate() {
        assert_eq!(r as usize, i, "{r:?}");
    }
}

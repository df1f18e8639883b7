//! The panel's Scan view logic (issue 7/7 item 6, `tpr_auditor::panel::scan`): gadget list and
//! page-text parsing, batching, findings per gadget, and the user-script tree (what to fetch
//! next, cycles, repeats, depth limit, other wikis). Reports come from the real scanner.
#![cfg(feature = "scanner")]

use tpr_auditor::model::{Channel, Party};
use tpr_auditor::panel::scan::*;
use tpr_auditor::scanner::{scan, Lang, ScanOptions};

const WIKI: &str = "http://127.0.0.1:8088/index.php?title=Main_Page";
const WP: &str = "https://en.wikipedia.org/wiki/Main_Page";

fn outcome(page: &str, text: &str, wiki: &str) -> PageOutcome {
    let lang = if page.ends_with(".css") {
        Lang::Css
    } else {
        Lang::Js
    };
    let report = scan(text, &ScanOptions::new(lang, wiki)).expect("scan");
    let json = serde_json::to_string(&report).expect("json");
    outcome_from_report(page, serde_json::from_str(&json).expect("report"))
}

#[test]
fn urls_are_first_party_api_queries() {
    let api = api_url("http://127.0.0.1:8088", "");
    assert_eq!(api, "http://127.0.0.1:8088/api.php");
    assert_eq!(
        api_url("https://en.wikipedia.org", "/w"),
        "https://en.wikipedia.org/w/api.php"
    );
    assert_eq!(
        gadgets_url(&api),
        "http://127.0.0.1:8088/api.php?action=query&list=gadgets&gaprop=id%7Cmetadata&format=json&formatversion=2"
    );
    let u = revisions_url(
        &api,
        &["MediaWiki:Gadget-a.js".into(), "User:X/b c.js".into()],
        false,
    );
    assert!(u.starts_with(
        "http://127.0.0.1:8088/api.php?action=query&prop=revisions&rvprop=content&rvslots=main"
    ));
    assert!(
        u.ends_with("&titles=MediaWiki%3AGadget%2Da%2Ejs%7CUser%3AX%2Fb%20c%2Ejs"),
        "{u}"
    );
    assert!(!u.contains("origin="));
    assert!(revisions_url(&api, &[], true).contains("&origin=*"));
}

#[test]
fn gadget_list_is_read_with_pages_and_flags() {
    let json = r#"{"batchcomplete":true,"query":{"gadgets":[
        {"id":"probe-fetch","metadata":{"settings":{"default":false,"hidden":false},"module":{"scripts":["Gadget-probe-fetch.js"],"styles":[]}}},
        {"id":"both","metadata":{"settings":{"default":true,"hidden":true},"module":{"scripts":["Gadget-both.js","Gadget-shared.js"],"styles":["Gadget-both.css"],"datas":["Gadget-both.json"]}}},
        {"id":"old","metadata":{"settings":{"default":""},"module":{"scripts":["MediaWiki:Gadget-old.js"]}}},
        {"noid":true}
    ]}}"#;
    let g = parse_gadgets(json).expect("parse");
    assert_eq!(g.len(), 3);
    assert_eq!(g[0].id, "probe-fetch");
    assert_eq!(g[0].pages, ["MediaWiki:Gadget-probe-fetch.js"]);
    assert!(!g[0].default && !g[0].hidden);
    assert_eq!(
        g[1].pages,
        [
            "MediaWiki:Gadget-both.js",
            "MediaWiki:Gadget-shared.js",
            "MediaWiki:Gadget-both.css"
        ]
    );
    assert!(g[1].default && g[1].hidden);
    assert_eq!(g[2].pages, ["MediaWiki:Gadget-old.js"]);
    assert!(g[2].default, "formatversion 1 flag");
    assert!(
        parse_gadgets(r#"{"error":{"code":"badvalue","info":"nope"}}"#)
            .unwrap_err()
            .contains("badvalue")
    );
    assert!(parse_gadgets("<html>").is_err());
    assert!(parse_gadgets(r#"{"query":{}}"#).is_err());
}

#[test]
fn page_texts_map_back_to_the_asked_titles() {
    let asked = vec![
        "MediaWiki:Gadget-a.js".to_string(),
        "User:Admin/missing.js".to_string(),
        "user:admin/x.js".to_string(),
        "MediaWiki:Gadget-late.js".to_string(),
    ];
    let json = r#"{"query":{"normalized":[{"fromencoded":false,"from":"user:admin/x.js","to":"User:Admin/x.js"}],
      "pages":[
        {"pageid":1,"ns":8,"title":"MediaWiki:Gadget-a.js","revisions":[{"slots":{"main":{"contentmodel":"javascript","content":"fetch('/x')"}}}]},
        {"ns":2,"title":"User:Admin/missing.js","missing":true},
        {"pageid":3,"ns":2,"title":"User:Admin/x.js","revisions":[{"slots":{"main":{"content":"1"}}}]},
        {"pageid":4,"ns":8,"title":"MediaWiki:Gadget-late.js"},
        {"pageid":5,"ns":8,"title":"Unasked"}
      ]},"continue":{"rvcontinue":"x"}}"#;
    let pages = parse_revisions(json, &asked).expect("parse");
    assert_eq!(
        pages,
        [
            PageText {
                asked: asked[0].clone(),
                content: Some("fetch('/x')".into())
            },
            PageText {
                asked: asked[1].clone(),
                content: None
            },
            PageText {
                asked: asked[2].clone(),
                content: Some("1".into())
            },
        ]
    );
    assert!(parse_revisions(r#"{"error":{"code":"x","info":"y"}}"#, &asked).is_err());
}

#[test]
fn gadgets_are_fetched_once_in_batches_of_fifty_and_grouped() {
    let mut gadgets: Vec<Gadget> = (0..60)
        .map(|i| Gadget {
            id: format!("g{i}"),
            pages: vec![
                format!("MediaWiki:Gadget-g{i}.js"),
                format!("MediaWiki:Gadget-g{i}.json"),
            ],
            default: false,
            hidden: false,
        })
        .collect();
    gadgets.push(Gadget {
        id: "shared".into(),
        pages: vec![
            "MediaWiki:Gadget-g0.js".into(),
            "MediaWiki:Gadget-s.css".into(),
        ],
        default: false,
        hidden: false,
    });
    let mut s = GadgetScan::new(gadgets);
    let b = s.batches();
    assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [50, 11]);
    assert!(
        b.iter().flatten().all(|t| !t.ends_with(".json")),
        "data pages are not code"
    );
    s.record(
        "MediaWiki:Gadget-g0.js",
        outcome(
            "MediaWiki:Gadget-g0.js",
            "fetch('https://api.example/x'); fetch('https://' + window.someHost + '/y')",
            WIKI,
        ),
    );
    s.record(
        "MediaWiki:Gadget-s.css",
        outcome(
            "MediaWiki:Gadget-s.css",
            "@import url(https://fonts.example/a.css);",
            WIKI,
        ),
    );
    assert_eq!(s.batches().iter().map(Vec::len).sum::<usize>(), 59);
    let view = s.view();
    let g0 = &view[0];
    assert_eq!(g0.rows.len(), 2);
    assert_eq!(g0.rows[0].destination, "https://api.example");
    assert_eq!(g0.rows[0].party, Some(Party::Third));
    assert!(!g0.rows[0].dynamic);
    assert!(g0.rows[1].dynamic, "{:?}", g0.rows[1]);
    let shared = view
        .iter()
        .find(|v| v.gadget.id == "shared")
        .expect("shared");
    let dests: Vec<&str> = shared.rows.iter().map(|r| r.destination.as_str()).collect();
    assert_eq!(
        dests,
        ["https://api.example", "dynamic", "https://fonts.example"]
    );
    assert_eq!(shared.rows[2].page, "MediaWiki:Gadget-s.css");
}

#[test]
fn site_scripts_are_one_more_group_named_like_their_module() {
    assert_eq!(
        site_pages(Some("vector-2022")),
        [
            "MediaWiki:Common.js",
            "MediaWiki:Vector-2022.js",
            "MediaWiki:Common.css",
            "MediaWiki:Vector-2022.css"
        ]
    );
    assert_eq!(
        site_pages(Some("a/../b")),
        ["MediaWiki:Common.js", "MediaWiki:Common.css"],
        "no odd skin names in titles"
    );
    assert_eq!(site_pages(None), site_pages(Some("")));
    let gadget = Gadget {
        id: "g".into(),
        pages: vec!["MediaWiki:Gadget-g.js".into(), "MediaWiki:Common.js".into()],
        default: false,
        hidden: false,
    };
    let plain = GadgetScan::new(vec![gadget.clone()]);
    assert!(plain.site_view().is_none());
    let mut s = GadgetScan::new(vec![gadget]).with_site(site_pages(Some("vector")));
    // Gadget pages first, the site's after, each page once.
    assert_eq!(
        s.batches(),
        [[
            "MediaWiki:Gadget-g.js",
            "MediaWiki:Common.js",
            "MediaWiki:Vector.js",
            "MediaWiki:Common.css",
            "MediaWiki:Vector.css"
        ]]
    );
    s.record(
        "MediaWiki:Common.js",
        outcome(
            "MediaWiki:Common.js",
            "fetch('http://api.thirdparty.test:8089/api/site');",
            WIKI,
        ),
    );
    s.record("MediaWiki:Vector.js", PageOutcome::Missing);
    let site = s.site_view().expect("site");
    assert_eq!(site.gadget.id, SITE);
    assert_eq!(SITE, "site", "the source name of site-script requests");
    let dests: Vec<&str> = site.rows.iter().map(|r| r.destination.as_str()).collect();
    assert_eq!(dests, ["http://api.thirdparty.test:8089"]);
    assert_eq!(
        site.pages[1],
        ("MediaWiki:Vector.js", Some(&PageOutcome::Missing))
    );
    assert_eq!(site.pages[2], ("MediaWiki:Common.css", None));
    assert!(s.view().iter().all(|v| v.gadget.id != SITE), "not a gadget");
    assert_eq!(
        s.batches(),
        [[
            "MediaWiki:Gadget-g.js",
            "MediaWiki:Common.css",
            "MediaWiki:Vector.css"
        ]]
    );
}

#[test]
fn raw_page_loads_name_their_wiki_page() {
    assert_eq!(
        wiki_page_of(
            WIKI,
            "/w/index.php?title=User:Admin/extra.js&action=raw&ctype=text/javascript"
        ),
        Some(("http://127.0.0.1:8088".into(), "User:Admin/extra.js".into()))
    );
    assert_eq!(
        wiki_page_of(
            WP,
            "//meta.wikimedia.org/wiki/User:X/global_tools.js?action=raw&ctype=text/javascript"
        ),
        Some((
            "https://meta.wikimedia.org".into(),
            "User:X/global tools.js".into()
        ))
    );
    assert_eq!(wiki_page_of(WP, "https://x.example/a.js"), None);
    assert_eq!(
        wiki_page_of(WP, "https://w.example/index.php?title=Foo&action=edit"),
        None
    );
    assert_eq!(
        wiki_page_of(WP, "https://w.example/index.php?title=Foo&action=raw"),
        None,
        "not code"
    );
    assert_eq!(normalize_title("user:admin/x_y.js"), "user:Admin/x y.js");
}

#[test]
fn user_scripts_follow_imports_with_cycles_repeats_and_depth() {
    let mut t = ScriptTree::new(WIKI, "Admin", Some("vector"));
    // Roots: common.js and vector.js here; global.js skipped (not a Wikimedia wiki).
    assert_eq!(t.nodes.len(), 3);
    assert_eq!(t.nodes[2].state, NodeState::Skipped(Skip::NotWikimedia));
    let (wiki, titles) = t.next_batch().expect("batch");
    assert_eq!(wiki, None);
    assert_eq!(titles, ["User:Admin/common.js", "User:Admin/vector.js"]);
    t.record(
        None,
        "User:Admin/common.js",
        outcome(
            "User:Admin/common.js",
            "importScript('User:Admin/a.js'); importScript('User:Admin/common.js'); \
             mw.loader.load('https://meta.wikimedia.org/w/index.php?title=User:Admin/m.js&action=raw&ctype=text/javascript'); \
             fetch('https://api.example/x');",
            WIKI,
        ),
    );
    t.record(None, "User:Admin/vector.js", PageOutcome::Missing);
    let titles: Vec<(&str, &NodeState)> = t
        .nodes
        .iter()
        .map(|n| (n.title.as_str(), &n.state))
        .collect();
    assert_eq!(titles[3].0, "User:Admin/a.js");
    assert_eq!(titles[3].1, &NodeState::Waiting);
    assert_eq!(titles[4], ("User:Admin/common.js", &NodeState::Cycle));
    assert_eq!(
        titles[5],
        ("User:Admin/m.js", &NodeState::Skipped(Skip::OtherWiki))
    );
    // a.js imports b.js and a.js again (cycle through the path), b.js imports common.js (cycle).
    t.record(
        None,
        "User:Admin/a.js",
        outcome(
            "User:Admin/a.js",
            "importScript('User:Admin/b.js'); importScript('User:Admin/a.js');",
            WIKI,
        ),
    );
    t.record(
        None,
        "User:Admin/b.js",
        outcome(
            "User:Admin/b.js",
            "importScript('User:Admin/common.js'); importScript('User:Admin/vector.js')",
            WIKI,
        ),
    );
    assert_eq!(t.next_batch(), None, "nothing left to fetch: {:?}", t.nodes);
    let by_title = |title: &str, depth: usize| {
        t.nodes
            .iter()
            .find(|n| n.title == title && n.depth == depth)
            .map(|n| n.state.clone())
    };
    assert_eq!(by_title("User:Admin/a.js", 2), Some(NodeState::Cycle));
    assert_eq!(by_title("User:Admin/common.js", 3), Some(NodeState::Cycle));
    assert_eq!(
        by_title("User:Admin/vector.js", 3),
        Some(NodeState::Repeat(1))
    );
    // Display order is depth first.
    let order: Vec<(usize, &str)> = t
        .display_order()
        .into_iter()
        .map(|i| (t.nodes[i].depth, t.nodes[i].title.as_str()))
        .collect();
    assert_eq!(order[0], (0, "User:Admin/common.js"));
    assert_eq!(order[1], (1, "User:Admin/a.js"));
    assert_eq!(order[2], (2, "User:Admin/b.js"));
    assert_eq!(order.last().map(|o| o.1), Some("User:Admin/global.js"));
}

#[test]
fn depth_is_limited() {
    let mut t = ScriptTree::new(WIKI, "U", None).with_max_depth(2);
    for i in 0..5 {
        let Some((_, titles)) = t.next_batch() else {
            break;
        };
        let title = titles[0].clone();
        let text = format!("importScript('User:U/{}.js')", i);
        t.record(None, &title, outcome(&title, &text, WIKI));
    }
    assert_eq!(t.nodes.iter().map(|n| n.depth).max(), Some(3));
    assert!(t.nodes.iter().any(|n| n.state == NodeState::TooDeep));
    assert_eq!(t.next_batch(), None);
}

#[test]
fn global_js_comes_from_meta_on_wikimedia_wikis() {
    let mut t = ScriptTree::new(WP, "Example", Some("vector-2022"));
    assert_eq!(t.nodes[2].wiki.as_deref(), Some(META_ORIGIN));
    assert_eq!(t.nodes[2].state, NodeState::Waiting);
    let own = api_url("https://en.wikipedia.org", "/w");
    t.record(None, "User:Example/common.js", PageOutcome::Missing);
    t.record(None, "User:Example/vector-2022.js", PageOutcome::Missing);
    let (wiki, titles) = t.next_batch().expect("meta");
    assert_eq!(wiki.as_deref(), Some(META_ORIGIN));
    assert_eq!(titles, ["User:Example/global.js"]);
    let (api, cors) = t.api_for(wiki.as_deref(), &own);
    assert_eq!(
        (api.as_str(), cors),
        ("https://meta.wikimedia.org/w/api.php", true)
    );
    // global.js on Meta imports a page on Meta (followed there) and one on a CDN (a finding only).
    t.record(
        Some(META_ORIGIN),
        "User:Example/global.js",
        outcome(
            "User:Example/global.js",
            "mw.loader.load('//meta.wikimedia.org/w/index.php?title=User:Example/tools.js&action=raw&ctype=text/javascript');",
            "https://meta.wikimedia.org/wiki/User:Example/global.js",
        ),
    );
    let n = t.nodes.iter().find(|n| n.depth == 1).expect("child");
    assert_eq!(
        (n.wiki.as_deref(), n.title.as_str(), &n.state),
        (
            Some(META_ORIGIN),
            "User:Example/tools.js",
            &NodeState::Waiting
        )
    );
    assert!(t
        .nodes
        .iter()
        .all(|n| n.state != NodeState::Skipped(Skip::NotWikimedia)));
    let _ = Channel::Script;
}

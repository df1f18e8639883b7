//! The extension's pure logic (issue 5/7): DNR compilation of the consent list and the
//! `storage.sync` chunking, with exact outputs.

use serde_json::{json, Map, Value};
use tpr_auditor::consent::ConsentList;
use tpr_auditor::extension::dnr::{self, compile, CompileError};
use tpr_auditor::extension::sync_store::{self, plan, SyncLimits};

fn list(text: &str) -> ConsentList {
    ConsentList::parse(text).expect("valid consent list")
}

fn wikis() -> Vec<String> {
    vec!["wikipedia.org".to_string(), "wiki.example".to_string()]
}

fn rules_json(l: &ConsentList) -> Value {
    serde_json::to_value(compile(l, &wikis(), 1).unwrap()).unwrap()
}

#[test]
fn audit_and_ask_modes_compile_to_nothing() {
    for mode in ["audit", "ask"] {
        let l = list(&format!(r#"{{"version":1,"mode":"{mode}","rules":[]}}"#));
        assert_eq!(compile(&l, &wikis(), 1).unwrap(), vec![]);
    }
}

#[test]
fn block_mode_defaults_give_the_floor_and_party_rules() {
    let l = list(r#"{"version":1,"mode":"block","rules":[]}"#);
    let init = json!(["wiki.example", "wikipedia.org"]);
    let block_all = json!([
        "sub_frame",
        "stylesheet",
        "script",
        "image",
        "font",
        "object",
        "xmlhttprequest",
        "ping",
        "media",
        "websocket"
    ]);
    let allow_all = json!([
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
        "other"
    ]);
    assert_eq!(
        rules_json(&l),
        json!([
            {"id": 1, "priority": 1, "action": {"type": "block"},
             "condition": {"initiatorDomains": init, "resourceTypes": block_all}},
            {"id": 2, "priority": 2, "action": {"type": "allow"},
             "condition": {"requestDomains": dnr::WIKIMEDIA_DOMAINS, "initiatorDomains": init,
                           "resourceTypes": allow_all}},
            {"id": 3, "priority": 2, "action": {"type": "block"},
             "condition": {"requestDomains": dnr::CLOUD_DOMAINS, "initiatorDomains": init,
                           "resourceTypes": block_all}},
            {"id": 4, "priority": 3, "action": {"type": "allow"},
             "condition": {"requestDomains": ["localhost", "127.0.0.1"], "initiatorDomains": init,
                           "resourceTypes": allow_all}},
            {"id": 5, "priority": 3, "action": {"type": "allow"},
             "condition": {"regexFilter": "^(?:https?|wss?)://(?:127\\.[0-9]+\\.[0-9]+\\.[0-9]+|\\[::1\\])(?::[0-9]+)?(?:[/?#]|$)",
                           "isUrlFilterCaseSensitive": false, "initiatorDomains": init,
                           "resourceTypes": allow_all}},
            {"id": 6, "priority": 3, "action": {"type": "allow"},
             "condition": {"domainType": "firstParty", "initiatorDomains": init,
                           "resourceTypes": allow_all}},
        ])
    );
}

#[test]
fn third_allowed_keeps_only_the_executable_floor() {
    let l = list(
        r#"{"version":1,"mode":"block","defaults":{"third":"allow","cloud":"allow"},"rules":[]}"#,
    );
    let rules = compile(&l, &wikis(), 1).unwrap();
    assert_eq!(rules[0].priority, 1);
    assert_eq!(
        rules[0].condition.resource_types,
        vec!["sub_frame", "script", "object"]
    );
    assert_eq!(rules[2].action.kind, "allow");
}

#[test]
fn star_rules_keep_precedence_and_scoped_allows_rank_above() {
    let l = list(
        r#"{"version":1,"mode":"block","rules":[
          {"source":"https://*.example.com","directives":["img-src","font-src"],"scope":"*","decision":"allow"},
          {"source":"https://evil.example.com","directives":["*"],"scope":"*","decision":"block"},
          {"source":"https://fonts.gstatic.com/s/","directives":["font-src"],"scope":"gadget:Fonts","decision":"allow"},
          {"source":"https://tracker.example","directives":["connect-src"],"scope":"gadget:X","decision":"block"},
          {"source":"https://cdn.example/lib.js","directives":["script-src"],"scope":"*","decision":"ask"}
        ]}"#,
    );
    let rules = compile(&l, &wikis(), 100).unwrap();
    let user: Vec<Value> = rules[6..]
        .iter()
        .map(|r| {
            json!([
                r.id,
                r.priority,
                r.action.kind,
                r.condition.regex_filter,
                r.condition.resource_types
            ])
        })
        .collect();
    assert_eq!(rules[0].id, 100);
    assert_eq!(
        user,
        vec![
            // *.example.com (host length 11, wildcard) ranks lowest.
            json!([
                106,
                11,
                "allow",
                "^(?:https|wss)://[^/?#:@]+\\.example\\.com(?::(?:80|443))?(?:[/?#]|$)",
                ["image", "font"]
            ]),
            // Exact hosts: cdn.example (11, exact) then evil.example.com (16, exact).
            json!([
                107,
                12,
                "block",
                "^(?:https|wss)://cdn\\.example(?::(?:80|443))?/lib\\.js(?:[?#]|$)",
                ["script"]
            ]),
            json!([
                108,
                13,
                "block",
                "^(?:https|wss)://evil\\.example\\.com(?::(?:80|443))?(?:[/?#]|$)",
                [
                    "sub_frame",
                    "stylesheet",
                    "script",
                    "image",
                    "font",
                    "object",
                    "xmlhttprequest",
                    "ping",
                    "media",
                    "websocket"
                ]
            ]),
            // The scoped allow above every `*` rule; the scoped block adds nothing.
            json!([
                109,
                14,
                "allow",
                "^(?:https|wss)://fonts\\.gstatic\\.com(?::(?:80|443))?/s/",
                ["font"]
            ]),
        ]
    );
    assert_eq!(rules.len(), 10);
}

#[test]
fn equal_specificity_block_ranks_above_allow() {
    let l = list(
        r#"{"version":1,"mode":"block","rules":[
          {"source":"https://a.example","directives":["img-src"],"scope":"*","decision":"block"},
          {"source":"https://a.example","directives":["img-src"],"scope":"*","decision":"allow"}
        ]}"#,
    );
    let rules = compile(&l, &wikis(), 1).unwrap();
    let last: Vec<(u32, &str)> = rules[6..]
        .iter()
        .map(|r| (r.priority, r.action.kind))
        .collect();
    assert_eq!(last, vec![(11, "allow"), (12, "block")]);
}

#[test]
fn self_any_scheme_and_port_sources() {
    let l = list(
        r#"{"version":1,"mode":"block","rules":[
          {"source":"'self'","directives":["connect-src"],"scope":"*","decision":"block"},
          {"source":"*","directives":["media-src"],"scope":"*","decision":"allow"},
          {"source":"https:","directives":["frame-src"],"scope":"*","decision":"allow"},
          {"source":"http://h.example:8080/api/","directives":["worker-src"],"scope":"*","decision":"allow"},
          {"source":"h.example:*","directives":["manifest-src"],"scope":"*","decision":"block"}
        ]}"#,
    );
    let rules = compile(&l, &wikis(), 1).unwrap();
    let got: Vec<Value> = rules[6..]
        .iter()
        .map(|r| {
            json!([
                r.action.kind,
                r.condition.regex_filter,
                r.condition.domain_type,
                r.condition.resource_types
            ])
        })
        .collect();
    assert_eq!(
        got,
        vec![
            json!(["allow", "^(?:https?|wss?)://", null, ["media"]]),
            json!(["allow", "^(?:https|wss):", null, ["sub_frame"]]),
            // manifest-src has no type of its own: a block for it compiles to nothing.
            json!([
                "allow",
                "^(?:https?|wss?)://h\\.example:8080/api/",
                null,
                ["script", "other"]
            ]),
            json!([
                "block",
                null,
                "firstParty",
                ["xmlhttprequest", "ping", "websocket"]
            ]),
        ]
    );
}

#[test]
fn source_regexes_match_what_csp_matches() {
    // A tiny RE2-compatible check through the regex of the standard library is not available;
    // check the shapes instead: anchored, escaped, wildcard only before a dot.
    let l = list(
        r#"{"version":1,"mode":"block","rules":[
          {"source":"https://*.toolforge.org","directives":["connect-src"],"scope":"*","decision":"allow"}
        ]}"#,
    );
    let rules = compile(&l, &wikis(), 1).unwrap();
    assert_eq!(
        rules[6].condition.regex_filter.as_deref(),
        Some("^(?:https|wss)://[^/?#:@]+\\.toolforge\\.org(?::(?:80|443))?(?:[/?#]|$)")
    );
    assert_eq!(rules[6].condition.is_url_filter_case_sensitive, Some(false));
}

#[test]
fn limits_and_wikis() {
    let l = list(r#"{"version":1,"mode":"block","rules":[]}"#);
    assert_eq!(compile(&l, &[], 1), Err(CompileError::NoWikis));
    assert_eq!(
        compile(
            &l,
            &[" *.Wiki.Example ".to_string(), "wiki.example".to_string()],
            1
        )
        .unwrap()[0]
            .condition
            .initiator_domains,
        vec!["wiki.example"]
    );
    let many: Vec<String> = (0..1001)
        .map(|i| format!(r#"{{"source":"https://h{i}.example","directives":["img-src"],"scope":"*","decision":"allow"}}"#))
        .collect();
    let l = list(&format!(
        r#"{{"version":1,"mode":"block","rules":[{}]}}"#,
        many.join(",")
    ));
    assert_eq!(
        compile(&l, &wikis(), 1),
        Err(CompileError::TooManyRegex(1002))
    );
    assert_eq!(
        CompileError::TooManyRegex(1002).to_string(),
        "the consent list needs 1002 regular-expression rules; the browser allows 1000: the network layer cannot enforce it (the page hooks still do)"
    );
}

// ----- storage.sync --------------------------------------------------------------------

fn as_map(items: &[(String, Value)]) -> Map<String, Value> {
    items.iter().cloned().collect()
}

#[test]
fn compact_removes_only_whitespace_outside_strings() {
    assert_eq!(
        sync_store::compact("{\n  \"a b\": [1, \"x\\\" y\"],\t\"c\" : null }\n"),
        "{\"a b\":[1,\"x\\\" y\"],\"c\":null}"
    );
    assert_eq!(
        sync_store::compact("\"unterminated  x"),
        "\"unterminated  x"
    );
}

#[test]
fn small_document_is_one_chunk_and_joins_back() {
    let doc = ConsentList::default().to_json();
    let p = plan(&doc, 0, SyncLimits::default()).unwrap();
    assert_eq!(p.chunks, 1);
    assert_eq!(p.items.len(), 2);
    assert_eq!(p.items[0].0, "consent.0");
    assert_eq!(p.items[1].0, "consent");
    let compacted = sync_store::compact(&doc);
    assert_eq!(
        p.items[1].1,
        json!({"format": "tpr-consent/chunks", "version": 1, "chunks": 1,
               "length": compacted.chars().count(), "checksum": sync_store::checksum(&compacted)})
    );
    let text = sync_store::join(&as_map(&p.items)).unwrap();
    assert_eq!(text, compacted);
    assert_eq!(ConsentList::parse(&text).unwrap(), ConsentList::default());
    assert_eq!(p.bytes, sync_store::consent_bytes(&as_map(&p.items)));
}

#[test]
fn large_document_splits_within_the_item_limit() {
    let notes: Vec<String> = (0..60)
        .map(|i| format!(r#"{{"source":"https://h{i}.example","directives":["img-src"],"scope":"*","decision":"allow","note":"ünïcödé \"quoted\" \\ {}"}}"#, "x".repeat(200)))
        .collect();
    let doc = format!(
        r#"{{"version":1,"mode":"audit","rules":[{}]}}"#,
        notes.join(",")
    );
    let limits = SyncLimits::default();
    let p = plan(&doc, 0, limits).unwrap();
    assert!(p.chunks >= 3, "{} chunks", p.chunks);
    for (k, v) in &p.items {
        assert!(sync_store::item_bytes(k, v) <= limits.per_item, "{k}");
    }
    // Every chunk but the last is full to within one escaped character.
    for (k, v) in &p.items[..p.chunks - 1] {
        assert!(sync_store::item_bytes(k, v) > limits.per_item - 7, "{k}");
    }
    let back = sync_store::join(&as_map(&p.items)).unwrap();
    assert_eq!(
        ConsentList::parse(&back).unwrap(),
        ConsentList::parse(&doc).unwrap()
    );
}

#[test]
fn over_quota_is_refused_with_the_numbers() {
    let big = format!(
        r#"{{"version":1,"rules":[],"x":"{}"}}"#,
        "y".repeat(120_000)
    );
    let e = plan(&big, 0, SyncLimits::default()).unwrap_err();
    assert_eq!(e.available, 102_400);
    assert_eq!(e.items, 16);
    assert!(e.needed > 120_000);
    assert_eq!(
        e.to_string(),
        format!("the consent list needs {} bytes (16 items) of the browser's sync storage but only 102400 bytes are free (the browser allows 102400 bytes and 512 items in total): nothing was saved and the stored list is unchanged; remove rules or shorten their notes, or export the list to keep a copy", e.needed)
    );
    // What other items use counts.
    let doc = ConsentList::default().to_json();
    let need = plan(&doc, 0, SyncLimits::default()).unwrap().bytes;
    assert!(plan(&doc, 102_400 - need, SyncLimits::default()).is_ok());
    assert_eq!(
        plan(&doc, 102_401 - need, SyncLimits::default())
            .unwrap_err()
            .available,
        need - 1
    );
}

#[test]
fn torn_or_foreign_items_are_not_read() {
    let doc = ConsentList::default().to_json();
    let p = plan(
        &doc,
        0,
        SyncLimits {
            per_item: 200,
            ..SyncLimits::default()
        },
    )
    .unwrap();
    assert!(p.chunks > 1);
    let full = as_map(&p.items);
    assert_eq!(
        sync_store::join(&Map::new()),
        Err(sync_store::JoinError::Missing)
    );
    let mut missing = full.clone();
    missing.remove("consent.1");
    assert_eq!(
        sync_store::join(&missing),
        Err(sync_store::JoinError::Incomplete(
            "consent.1 is missing".to_string()
        ))
    );
    let mut changed = full.clone();
    let first = changed["consent.0"]
        .as_str()
        .unwrap()
        .replace("audit", "block");
    changed.insert("consent.0".into(), Value::String(first));
    assert_eq!(
        sync_store::join(&changed),
        Err(sync_store::JoinError::Incomplete(
            "the checksum does not match".to_string()
        ))
    );
    let mut foreign = full;
    foreign.insert("consent".into(), json!({"format": "other"}));
    assert_eq!(
        sync_store::join(&foreign),
        Err(sync_store::JoinError::BadMeta(
            "expected format \"tpr-consent/chunks\", found \"other\"".to_string()
        ))
    );
    assert_eq!(
        sync_store::stale_keys(
            [
                "consent",
                "consent.0",
                "consent.3",
                "consent.10",
                "settings",
                "consent.x"
            ],
            3
        ),
        vec!["consent.10".to_string(), "consent.3".to_string()]
    );
}

// ----- a page's save merged into the stored list ----------------------------------------

#[test]
fn page_save_keeps_a_mode_set_elsewhere_and_every_rule() {
    use tpr_auditor::extension::merge_page_save;
    let base = list(r#"{"version":1,"mode":"audit","rules":[]}"#);
    // The page added a rule, knowing the stored list as `base`.
    let page = list(
        r#"{"version":1,"mode":"audit","rules":[
          {"source":"https://a.example","directives":["img-src"],"scope":"*","decision":"allow","added":"2026-11-29T01:00:00Z"}]}"#,
    );
    // Meanwhile the options page switched to block mode and changed a default, and another
    // tab added a rule.
    let stored = list(
        r#"{"version":1,"mode":"block","defaults":{"cloud":"allow"},"rules":[
          {"source":"https://b.example","directives":["font-src"],"scope":"*","decision":"allow","added":"2026-11-29T00:30:00Z"}]}"#,
    );
    let merged = merge_page_save(&page, &base, Some(&stored));
    assert_eq!(merged.mode.as_str(), "block");
    assert_eq!(merged.defaults.cloud.as_str(), "allow");
    let sources: Vec<&str> = merged.rules.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(sources, vec!["https://b.example", "https://a.example"]);
    // A mode the page itself changed wins.
    let page_block = list(r#"{"version":1,"mode":"ask","rules":[]}"#);
    assert_eq!(
        merge_page_save(&page_block, &base, Some(&stored))
            .mode
            .as_str(),
        "ask"
    );
    // Nothing stored: the page's list as it is.
    assert_eq!(merge_page_save(&page, &base, None), page);
}

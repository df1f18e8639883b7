//! The panel's messages (SPEC §9, issue 3/7 item 7): every key the code uses exists in
//! `i18n/en.json` and is documented in `i18n/qqq.json`; every English key is used and
//! documented; translations only hold known keys with the same parameters; every language
//! file is embedded.
//!
//! A message key in code is a string literal `"tpr-…"` (lower case, digits, hyphens) that
//! does not start with `tpr-auditor`, which is kept for names that are not messages (the
//! host element, storage keys, module names). Keys are always written out whole in code
//! (no `format!`), so this scan sees every one. The scan covers the code that shows
//! messages ([`MESSAGE_CODE`]); code elsewhere that starts using messages is added there.
//!
//! Native only: it reads the source tree.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The code that uses messages (files or directories under the crate root).
const MESSAGE_CODE: [&str; 3] = ["src/panel", "src/web/panel", "src/web/panel.rs"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `"tpr-…"` literals in `text`, message keys only (see the module docs).
fn keys_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("\"tpr-") {
        let start = i + at + 1;
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_lowercase()
                || bytes[end].is_ascii_digit()
                || bytes[end] == b'-')
        {
            end += 1;
        }
        if end < bytes.len() && bytes[end] == b'"' {
            let key = &text[start..end];
            if !key.starts_with("tpr-auditor") {
                out.push(key.to_string());
            }
        }
        i = end.max(start);
    }
    out
}

/// Keys used in [`MESSAGE_CODE`], each with the first file that uses it.
fn used_keys() -> BTreeMap<String, String> {
    let mut files = Vec::new();
    for place in MESSAGE_CODE {
        let p = root().join(place);
        if p.is_dir() {
            rust_files(&p, &mut files);
        } else {
            files.push(p);
        }
    }
    let mut used = BTreeMap::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        for k in keys_in(&text) {
            used.entry(k)
                .or_insert_with(|| f.strip_prefix(root()).unwrap_or(&f).display().to_string());
        }
    }
    used
}

/// A message file: every member except `@metadata`, which must all be strings.
fn messages(name: &str) -> BTreeMap<String, String> {
    let path = root().join("i18n").join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
    let map = value
        .as_object()
        .unwrap_or_else(|| panic!("{name} is not a JSON object"));
    map.iter()
        .filter(|(k, _)| k.as_str() != "@metadata")
        .map(|(k, v)| {
            let s = v
                .as_str()
                .unwrap_or_else(|| panic!("{name}: {k} is not a string"));
            (k.clone(), s.to_string())
        })
        .collect()
}

/// The `$N` parameters a message uses.
fn params(text: &str) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'$' {
            let digits: String = b[i + 1..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .map(|d| *d as char)
                .collect();
            if let Ok(n) = digits.parse() {
                out.insert(n);
            }
        }
    }
    out
}

#[test]
fn the_key_scanner_reads_keys_and_skips_other_names() {
    let text = r#"cat.msg("tpr-tab-log"); x("tpr-auditor-panel"); y("tpr-Bad"); format!("tpr-tab-{}"); "tpr-a1-b""#;
    assert_eq!(
        keys_in(text),
        vec!["tpr-tab-log".to_string(), "tpr-a1-b".to_string()]
    );
}

#[test]
fn every_key_used_in_code_is_in_en_and_qqq() {
    let used = used_keys();
    assert!(
        used.len() > 100,
        "the scan found only {} keys: is the pattern still right?",
        used.len()
    );
    let en = messages("en.json");
    let qqq = messages("qqq.json");
    let missing_en: Vec<String> = used
        .iter()
        .filter(|(k, _)| !en.contains_key(*k))
        .map(|(k, f)| format!("{k} ({f})"))
        .collect();
    let missing_qqq: Vec<String> = used
        .iter()
        .filter(|(k, _)| !qqq.contains_key(*k))
        .map(|(k, f)| format!("{k} ({f})"))
        .collect();
    assert!(
        missing_en.is_empty(),
        "keys used in code but missing from i18n/en.json:\n{}",
        missing_en.join("\n")
    );
    assert!(
        missing_qqq.is_empty(),
        "keys used in code but undocumented in i18n/qqq.json:\n{}",
        missing_qqq.join("\n")
    );
}

#[test]
fn every_english_key_is_used_and_documented() {
    let used = used_keys();
    let en = messages("en.json");
    let qqq = messages("qqq.json");
    let unused: Vec<&String> = en.keys().filter(|k| !used.contains_key(*k)).collect();
    assert!(
        unused.is_empty(),
        "keys in i18n/en.json that no code uses: {unused:?}"
    );
    let undocumented: Vec<&String> = en
        .keys()
        .filter(|k| qqq.get(*k).is_none_or(|d| d.trim().is_empty()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "keys in i18n/en.json without documentation in qqq.json: {undocumented:?}"
    );
    let stray: Vec<&String> = qqq.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(
        stray.is_empty(),
        "keys documented in qqq.json that en.json does not have: {stray:?}"
    );
}

#[test]
fn translations_hold_known_keys_with_the_same_parameters() {
    let en = messages("en.json");
    let dir = root().join("i18n");
    let mut langs: Vec<String> = fs::read_dir(&dir)
        .expect("i18n/")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".json") && n != "qqq.json")
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    langs.sort();
    for lang in &langs {
        let m = messages(&format!("{lang}.json"));
        for (k, v) in &m {
            let source = en
                .get(k)
                .unwrap_or_else(|| panic!("{lang}.json has {k}, which en.json does not"));
            assert!(
                params(v).is_subset(&params(source)),
                "{lang}.json {k}: parameters {:?} not in English {:?}",
                params(v),
                params(source)
            );
            assert_eq!(
                v.matches("{{").count(),
                v.matches("}}").count(),
                "{lang}.json {k}: unbalanced braces"
            );
        }
    }
    // Every language file is embedded in the panel (and nothing else is).
    let mut embedded: Vec<String> = tpr_auditor::panel::i18n::languages()
        .iter()
        .map(|s| s.to_string())
        .collect();
    embedded.sort();
    assert_eq!(
        embedded, langs,
        "i18n/*.json files and the languages embedded in src/panel/i18n.rs differ"
    );
}

#[test]
fn every_english_message_expands_without_leftover_syntax() {
    let en = messages("en.json");
    let cat = tpr_auditor::panel::i18n::Catalog::new(Some("en"));
    for (k, v) in &en {
        let n = params(v).into_iter().max().unwrap_or(0) as usize;
        let args: Vec<String> = (1..=n).map(|i| format!("<{i}>")).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cat.fmt(k, &refs);
        assert!(
            !out.contains("{{") && !out.contains("}}") && !out.contains('$'),
            "{k} expands to {out:?}"
        );
        assert!(!out.trim().is_empty(), "{k} is empty");
    }
}

//! Issue 7/7 in WebAssembly (browser): the scanner answers, and hostile nesting is refused by
//! the pre-check before it can overflow the wasm stack, leaving the module usable. (This test
//! build is unoptimised; the release module is checked up to the budget by
//! `scripts/scanner-depth.js --sweep`.)
#![cfg(all(target_arch = "wasm32", feature = "scanner"))]

use tpr_auditor::scanner::{scan, Lang, ScanError, ScanOptions, DEFAULT_WIKI_URL};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn scans_in_webassembly() {
    let r = scan(
        "mw.loader.load('https://x.toolforge.org/a.js'); fetch('//cdn.example/b?u=' + mw.user.getName());",
        &ScanOptions::new(Lang::Js, DEFAULT_WIKI_URL),
    )
    .expect("scan");
    let got: Vec<&str> = r.findings.iter().map(|f| f.destination.as_str()).collect();
    assert_eq!(got, ["https://x.toolforge.org", "https://cdn.example"]);
}

#[wasm_bindgen_test]
fn hostile_nesting_is_refused_and_the_module_survives() {
    let n = 200_000;
    for text in [
        format!("x={}a{};", "(".repeat(n), ")".repeat(n)),
        format!("x={}a;", "!".repeat(n)),
        format!("{}a;", "if(a)".repeat(n)),
        format!("x=f{};", "()".repeat(n)),
        format!("x=a{};", ".b".repeat(n)),
    ] {
        let r = scan(&text, &ScanOptions::new(Lang::Js, DEFAULT_WIKI_URL));
        assert!(matches!(r, Err(ScanError::TooDeep { .. })), "{:?}", r.err());
    }
    let r = scan(
        "fetch('https://alive.example/')",
        &ScanOptions::new(Lang::Js, DEFAULT_WIKI_URL),
    )
    .expect("still works");
    assert_eq!(r.findings[0].destination, "https://alive.example");
}

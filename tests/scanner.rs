//! Issue 7/7: the scanner's contract and robustness (items 1–5, 7) beyond the fixture corpus.
#![cfg(all(feature = "scanner", not(target_arch = "wasm32")))]

use std::time::{Duration, Instant};
use tpr_auditor::model::{CarryKind, Channel, Party, Tier};
use tpr_auditor::scanner::{
    scan, Confidence, Lang, ScanError, ScanOptions, ScanReport, DEFAULT_WIKI_URL,
};

const WIKI: &str = "https://en.wikipedia.org/wiki/Main_Page";

fn js(text: &str) -> ScanReport {
    scan(text, &ScanOptions::new(Lang::Js, WIKI)).expect("scan")
}

fn destinations(r: &ScanReport) -> Vec<(String, String)> {
    r.findings
        .iter()
        .map(|f| (f.channel.as_str().to_string(), f.destination.clone()))
        .collect()
}

#[test]
fn finding_fields() {
    let r = js("function init() {\n  mw.loader.load('https://x.toolforge.org/a.js?u=' + mw.config.get('wgUserName'));\n}\ninit();\n");
    assert_eq!(r.findings.len(), 1, "{r:#?}");
    let f = &r.findings[0];
    assert_eq!(f.api, "mw.loader.load");
    assert_eq!(f.channel, Channel::Script);
    assert_eq!(f.directive.as_str(), "script-src");
    assert_eq!(f.destination, "https://x.toolforge.org");
    assert_eq!(f.url, "https://x.toolforge.org/a.js?u=…");
    assert_eq!(f.party, Some(Party::Cloud));
    assert_eq!(f.tool.as_deref(), Some("x"));
    assert_eq!(f.tier, Tier::Executable);
    assert_eq!(f.carries, vec![CarryKind::User]);
    assert_eq!((f.line, f.column), (2, 3));
    assert_eq!(f.function.as_deref(), Some("init"));
    assert_eq!(f.confidence, Confidence::Certain);
    assert!(f.excerpt.starts_with("mw.loader.load("), "{}", f.excerpt);
    assert!(!f.excerpt.contains('\n'));
    // JSON shape (camelCase, like the page API).
    let json = serde_json::to_value(&r).expect("json");
    assert!(json["findings"][0]["destination"].is_string());
    assert!(json["dynamicCode"].is_array());
}

#[test]
fn excerpt_of_a_minified_line_is_short() {
    let mut text = "var a=1;".repeat(5000);
    text.push_str("fetch('https://long.example/x');");
    text.push_str(&"var b=2;".repeat(5000));
    let r = js(&text);
    let f = &r.findings[0];
    assert!(f.excerpt.chars().count() <= 110, "{}", f.excerpt);
    assert!(f.excerpt.contains("fetch('https://long.example/x')"));
    assert_eq!(f.line, 1);
    assert_eq!(f.column, 40_001);
}

#[test]
fn not_loads_are_not_findings() {
    let r = js(r#"
        // mw.loader.load('https://comment.example/x.js');
        var msg = 'Visit https://message.example/';
        var list = ['https://deny.example/'];
        console.log('https://log.example/');
        window.open('https://open.example/');
        $('<a>').attr('href', 'https://link.example/');
    "#);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let nav: Vec<&str> = r
        .navigations
        .iter()
        .map(|f| f.destination.as_str())
        .collect();
    assert_eq!(nav, ["https://open.example", "https://link.example"]);
}

#[test]
fn dynamic_hosts_and_dynamic_code() {
    let r = js("fetch(server + '/x'); eval(s); new Function('a', 'b'); setTimeout('go()', 1); setTimeout(go, 1); document.write(x);");
    assert_eq!(destinations(&r), [("fetch".into(), "dynamic".into())]);
    assert_eq!(r.findings[0].confidence, Confidence::Dynamic);
    let codes: Vec<&str> = r.dynamic_code.iter().map(|c| c.api.as_str()).collect();
    assert_eq!(codes, ["eval", "Function", "setTimeout", "document.write"]);
}

#[test]
fn relative_urls_resolve_against_the_wiki() {
    let options = ScanOptions::new(Lang::Js, "http://127.0.0.1:8080/index.php?title=Main_Page");
    let r = scan("importScript('User:X/y.js'); fetch('/api.php');", &options).expect("scan");
    assert_eq!(
        destinations(&r),
        [
            ("script".into(), "http://127.0.0.1:8080".into()),
            ("fetch".into(), "http://127.0.0.1:8080".into())
        ]
    );
    assert_eq!(
        r.findings[0].url,
        "/index.php?title=User:X/y.js&action=raw&ctype=text/javascript"
    );
}

#[test]
fn css_findings() {
    let r = scan(
        "@import url(https://a.example/x.css);\n.x{background:url(//b.example/y.png)}\n@font-face{src:url(https://c.example/z.woff2)}",
        &ScanOptions::new(Lang::Css, WIKI),
    )
    .expect("css");
    let got: Vec<(String, String, u32)> = r
        .findings
        .iter()
        .map(|f| {
            (
                f.channel.as_str().to_string(),
                f.destination.clone(),
                f.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("css-import".into(), "https://a.example".into(), 1),
            ("css-url".into(), "https://b.example".into(), 2),
            ("font-face".into(), "https://c.example".into(), 3)
        ]
    );
}

#[test]
fn syntax_errors_are_reported_with_position_and_partial_findings() {
    let r = js("var u = 'https://partial.example/x';\nfunction (\n");
    assert!(r.partial);
    assert!(!r.errors.is_empty());
    assert_eq!(r.errors[0].line, 2, "{:?}", r.errors);
    assert_eq!(
        destinations(&r),
        [("other".into(), "https://partial.example".into())]
    );
}

#[test]
fn module_goal_and_modern_syntax() {
    let r = js("import x from 'https://esm.example/a.js';\nexport const y = async () => { for await (const z of w) {} return import('https://esm.example/b.js'); };\nclass A { #p = 1; static { fetch(`https://static-block.example/`); } }\nconst o = { ...p, q: a?.b ?? c };\n");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(
        destinations(&r),
        [
            ("module".into(), "https://esm.example".into()),
            ("module".into(), "https://esm.example".into()),
            ("fetch".into(), "https://static-block.example".into()),
        ]
    );
}

#[test]
fn unknown_language_and_bad_wiki_url_are_errors() {
    assert!(matches!(
        Lang::parse("cobol"),
        Err(ScanError::UnknownLang(_))
    ));
    assert!(matches!(
        scan("x", &ScanOptions::new(Lang::Js, "not a url")),
        Err(ScanError::WikiUrl(_))
    ));
}

/// Deep nesting of every kind is refused with a clear error, never a crash.
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let n = 100_000;
    let cases = [
        format!("x={}a{};", "(".repeat(n), ")".repeat(n)),
        format!("x={}a{};", "[".repeat(n), "]".repeat(n)),
        format!("{}{}", "{".repeat(n), "}".repeat(n)),
        format!("x={}1{};", "{a:".repeat(n), "}".repeat(n)),
        format!("x={}a;", "!".repeat(n)),
        format!("{}a;", "a=".repeat(n)),
        format!("x={}a;", "a?b:".repeat(n)),
        format!("x={}a;", "a=>".repeat(n)),
        format!("{}a;", "if(a)".repeat(n)),
        format!("if(a)b;{}", "else if(a)b;".repeat(n)),
        format!("x={}a;", "new ".repeat(n)),
        format!("{}{}", "function f(){".repeat(n), "}".repeat(n)),
        format!("x={}{};", "`${".repeat(n), "}`".repeat(n)),
        format!("x=a{};", "+a".repeat(n)),
        format!("x=a{};", ".b".repeat(n)),
        format!("x=f{};", "()".repeat(n)),
        format!("x=a{};", "[0]".repeat(n)),
        format!("x={}a;", "typeof ".repeat(n)),
        format!("{}a;", (0..n).map(|i| format!("l{i}:")).collect::<String>()),
    ];
    for text in &cases {
        let start = Instant::now();
        match scan(text, &ScanOptions::new(Lang::Js, WIKI)) {
            Err(ScanError::TooDeep { line, column, .. }) => {
                assert!(line >= 1 && column >= 1);
            }
            other => panic!("{}…: expected TooDeep, got {other:?}", &text[..40]),
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{}…", &text[..40]);
    }
}

/// Just under the limits: parses and walks without trouble (on the native test stack).
#[test]
fn nesting_below_the_limit_scans() {
    for depth in [50, 150] {
        let text = format!(
            "x={}fetch('https://deep.example/'){};",
            "f(function(){return ".repeat(depth),
            "})".repeat(depth)
        );
        let r = scan(&text, &ScanOptions::new(Lang::Js, WIKI));
        match r {
            Ok(r) => assert_eq!(
                destinations(&r),
                [("fetch".into(), "https://deep.example".into())]
            ),
            Err(ScanError::TooDeep { .. }) => assert!(depth > 100),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn ten_megabytes_scan() {
    let unit = "(function(){ var u = 'https://big.example/' + mw.config.get('wgPageName'); $.get(u); if (a) { b(); } else { c(); } })();\n";
    let text = unit.repeat(10 * 1024 * 1024 / unit.len() + 1);
    assert!(text.len() >= 10 * 1024 * 1024);
    let start = Instant::now();
    let r = js(&text);
    assert!(r.errors.is_empty());
    assert!(!r.findings.is_empty());
    println!("10 MB scanned in {:?}", start.elapsed());
    let css_unit = ".a{background:url(https://big.example/x.png)} /* c */ @import 'y.css';\n";
    let css = css_unit.repeat(10 * 1024 * 1024 / css_unit.len() + 1);
    let r = scan(&css, &ScanOptions::new(Lang::Css, WIKI)).expect("css");
    assert!(!r.findings.is_empty());
}

#[test]
fn too_large_is_an_error() {
    let text = " ".repeat(tpr_auditor::scanner::MAX_INPUT_BYTES + 1);
    assert!(matches!(
        scan(&text, &ScanOptions::new(Lang::Js, WIKI)),
        Err(ScanError::TooLarge { .. })
    ));
}

/// Quadratic traps: string doubling, many alternatives, many functions.
#[test]
fn no_blow_ups() {
    let mut text = String::from("var s = 'https://x.example/';\n");
    for _ in 0..64 {
        text.push_str("s = s + s;\n");
    }
    text.push_str("fetch(s);\n");
    for i in 0..2000 {
        text.push_str(&format!(
            "function f{i}(u) {{ return f{}(u + 'x'); }}\n",
            i + 1
        ));
    }
    text.push_str(
        "var a = c ? 'https://1.example' : c2 ? 'https://2.example' : 'https://3.example';\n",
    );
    for _ in 0..20 {
        text.push_str("a = a + (d ? '/x' : '/y');\n");
    }
    text.push_str("fetch(a);\n");
    let start = Instant::now();
    let r = js(&text);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(r
        .findings
        .iter()
        .any(|f| f.destination == "https://x.example"));
}

/// Every fixture, cut and mutated at many points, scans without panicking (a small,
/// deterministic stand-in for the cargo-fuzz target in fuzz/).
#[test]
fn mutated_fixtures_never_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scanner");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let inserts = [
        "(", ")", "{", "}", "`", "'", "\"", "/", "/*", "${", "<", "\\", "\u{2028}", "é", "\0",
    ];
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        let lang = match path.extension().and_then(|e| e.to_str()) {
            Some("js") => Lang::Js,
            Some("css") => Lang::Css,
            _ => continue,
        };
        let text = std::fs::read_to_string(&path).expect("read");
        for _ in 0..40 {
            let mut t = text.clone();
            let mut at = (next() as usize) % (t.len() + 1);
            while !t.is_char_boundary(at) {
                at -= 1;
            }
            match next() % 3 {
                0 => t.truncate(at),
                1 => t.insert_str(at, inserts[(next() as usize) % inserts.len()]),
                _ => {
                    let mut end = (at + (next() as usize) % 50).min(t.len());
                    while !t.is_char_boundary(end) {
                        end -= 1;
                    }
                    t.replace_range(at..end, "");
                }
            }
            let _ = scan(&t, &ScanOptions::new(lang, WIKI));
        }
    }
}

#[cfg(feature = "scanner-typescript")]
#[test]
fn typescript_syntax() {
    let r = scan(
        "interface C { api: string }\nconst c: C = { api: 'https://ts.example' };\nfetch((c.api as string) + '/x');\n",
        &ScanOptions::new(Lang::Ts, WIKI),
    )
    .expect("ts");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(
        destinations(&r),
        [("fetch".into(), "https://ts.example".into())]
    );
}

#[cfg(not(feature = "scanner-typescript"))]
#[test]
fn typescript_needs_its_feature() {
    assert!(matches!(
        scan("let x: number = 1;", &ScanOptions::new(Lang::Ts, WIKI)),
        Err(ScanError::TypescriptDisabled)
    ));
}

#[test]
fn element_role_from_the_caller_is_paired_with_its_url() {
    // The MediaWiki harness's consent-kinds gadget: `document.createElement(tag)` in a helper.
    let r = js("function el(tag, url) { var e = document.createElement(tag); e.src = url; document.body.appendChild(e); }\n\
        el('script', 'https://s.example/a.js'); el('img', 'https://i.example/p.png'); el('div', 'https://d.example/x');\n\
        el(window.someTag, 'https://u.example/x');\n\
        function never(tag) { var e = document.createElement(tag); e.src = 'https://never.example/x'; }\n\
        function css(rel, href) { var l = document.createElement('link'); l.rel = rel; l.href = href; document.head.appendChild(l); }\n\
        css('stylesheet', 'https://c.example/a.css'); css('preconnect', 'https://p.example');");
    let d = destinations(&r);
    let has = |c: &str, o: &str| d.contains(&(c.to_string(), o.to_string()));
    assert!(has("script", "https://s.example"), "{d:?}");
    assert!(has("img", "https://i.example"), "{d:?}");
    assert!(has("style", "https://c.example"), "{d:?}");
    assert!(has("preload", "https://p.example"), "{d:?}");
    // Each call's tag goes with that call's URL only; a <div src> loads nothing.
    assert!(
        !has("script", "https://i.example") && !has("img", "https://s.example"),
        "{d:?}"
    );
    assert!(!d.iter().any(|(_, o)| o == "https://d.example"), "{d:?}");
    // A tag that is not a constant: the URL is still found, its role is not known.
    assert!(has("other", "https://u.example"), "{d:?}");
    assert!(has("other", "https://never.example"), "{d:?}");
    let script = r
        .findings
        .iter()
        .find(|f| f.destination == "https://s.example")
        .expect("script");
    assert_eq!(script.tier, Tier::Executable);
    assert_eq!(script.confidence, Confidence::Certain);
    assert_eq!(d.len(), 6, "{d:?}");
}

/// Inputs the fuzzer (fuzz/) found, kept as regressions. `swc-regexp-after-assign.bin` trips a
/// `debug_assert` inside swc's lexer (it re-reads `/=`… as a regular expression): with debug
/// assertions (this test, cargo-fuzz without `-O`) the parser thread panics and the scanner
/// answers its typed error; in release builds (the WebAssembly, the CLI) there is no
/// assertion and the scan ends normally. Either way: an answer, never a crash.
#[test]
fn fuzz_regressions_get_an_answer() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fuzz");
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        // The fuzz target's encoding: the first byte picks the language, the rest is text.
        let Some((&which, rest)) = data.split_first() else {
            continue;
        };
        let lang = if which % 4 == 0 { Lang::Css } else { Lang::Js };
        let text = String::from_utf8_lossy(rest);
        match scan(&text, &ScanOptions::new(lang, DEFAULT_WIKI_URL)) {
            Ok(_) => {}
            Err(e) => assert!(matches!(e, ScanError::Thread(_)), "{}: {e}", path.display()),
        }
    }
}

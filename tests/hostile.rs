//! Hostile input never panics and gives a clear error (issue 1/7, SPEC §11).
//!
//! Everything a page or a corrupted store can hand the core is thrown at it here: random and
//! mutated text from a small deterministic PRNG (the same cases on every run, so a failure
//! reproduces), inputs nested past every limit, multi-megabyte strings, invalid UTF-16
//! escapes, every byte value. Where the behaviour is specified (the JSON depth limit, the
//! stack caps, the URL errors) the exact error or result is asserted, not just "no panic".

use std::time::{Duration, Instant};
use tpr_auditor::assess::{Auditor, RequestError, RequestInput};
use tpr_auditor::attribution::stack::{MAX_EVAL_DEPTH, MAX_FRAMES, MAX_LINES, MAX_LINE_BYTES};
use tpr_auditor::attribution::{
    mediawiki::{MAX_MODULES, MAX_WRAPPERS},
    parse_stack, resolve_stack, unpack_modules, AttributionContext, BatchIndex,
};
use tpr_auditor::carried::PageValues;
use tpr_auditor::classify::{PageContext, Preset, UrlError};
use tpr_auditor::consent::{ConsentErrorKind, ConsentList};
use tpr_auditor::json::MAX_DEPTH;
use tpr_auditor::model::{Channel, Party, Source, SourceKind};
use tpr_auditor::psl;
use url::Url;

/// SplitMix64: tiny, deterministic, good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `pieces` random picks from `alphabet`, concatenated.
    fn text(&mut self, alphabet: &[&str], pieces: usize) -> String {
        (0..pieces).map(|_| *self.pick(alphabet)).collect()
    }

    /// Any char, biased towards the ones parsers trip over.
    fn char(&mut self) -> char {
        match self.below(4) {
            0 => char::from(self.below(0x80) as u8),
            1 => char::from(self.below(0x100) as u8),
            2 => *self.pick(&[
                '\u{2028}', '\u{2029}', '\u{feff}', '\u{202e}', '😀', '\u{fffd}',
            ]),
            _ => char::from_u32(self.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
        }
    }
}

/// Runs `f`, failing with `what` if it takes absurdly long: every input here is linear work,
/// so a quadratic path would blow far past this bound, not brush against it.
fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(20), "{what} took {took:?}");
    out
}

// ---------------------------------------------------------------------------------------
// Consent list: JSON and validation
// ---------------------------------------------------------------------------------------

const RULE_PREFIX: &str = r#"{"version":1,"rules":[{"source":"https://a.example","directives":["*"],"scope":"*","decision":"allow","note":""#;
const RULE_SUFFIX: &str = r#""}]}"#;

/// A valid document whose one rule's note is `note` (raw JSON string content).
fn with_note(note: &str) -> String {
    format!("{RULE_PREFIX}{note}{RULE_SUFFIX}")
}

fn parse_errors(text: &str) -> Vec<tpr_auditor::consent::ConsentError> {
    match ConsentList::parse(text) {
        Ok(list) => panic!("accepted: {list:?}"),
        Err(errors) => errors,
    }
}

/// The one error of a document that has exactly one problem.
fn only_error(text: &str) -> tpr_auditor::consent::ConsentError {
    let mut errors = parse_errors(text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

fn syntax_message(e: &tpr_auditor::consent::ConsentError) -> &str {
    match &e.kind {
        ConsentErrorKind::Syntax(m) => m,
        other => panic!("not a syntax error: {other:?}"),
    }
}

/// Every error of every hostile document is well-formed: a real position, a short message.
fn check_errors_are_sane(text: &str, errors: &[tpr_auditor::consent::ConsentError]) {
    assert!(!errors.is_empty());
    let lines = text.split('\n').count();
    for e in errors {
        assert!(e.line >= 1 && e.column >= 1, "{e:?}");
        assert!(e.line <= lines, "line {} of {lines}: {e}", e.line);
        let shown = e.to_string();
        assert!(!shown.is_empty());
        // Offending values are clipped, so a message stays readable whatever the input.
        assert!(shown.chars().count() < 1_000, "{} chars", shown.len());
    }
}

#[test]
fn depth_limit_is_an_error_naming_its_position() {
    let depth_error = format!("nested deeper than {MAX_DEPTH} arrays or objects");

    // Exactly at the limit is fine as JSON (then wrong as a consent list: not an object).
    let at_limit = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    let e = only_error(&at_limit);
    assert!(
        matches!(e.kind, ConsentErrorKind::WrongType { .. }),
        "{e:?}"
    );

    // One past it: the error sits on the bracket that went too deep.
    for extra in [1, 2, 1_000_000] {
        let text = "[".repeat(MAX_DEPTH + extra);
        let e = bounded("deep brackets", || only_error(&text));
        assert_eq!(syntax_message(&e), depth_error);
        assert_eq!((e.line, e.column, e.path.as_str()), (1, MAX_DEPTH + 1, ""));
        assert_eq!(
            e.to_string(),
            format!("1:{}: syntax error: {depth_error}", MAX_DEPTH + 1)
        );
    }

    // Objects count too, and so does the document's own nesting, on a later line.
    let members = "{\"a\":".repeat(MAX_DEPTH + 5);
    let e = only_error(&members);
    assert_eq!(syntax_message(&e), depth_error);
    assert_eq!((e.line, e.column), (1, "{\"a\":".len() * MAX_DEPTH + 1));

    let head = "{\n  \"version\": 1,\n  \"rules\": ";
    let text = format!("{head}{}", "[".repeat(500));
    let e = only_error(&text);
    assert_eq!(syntax_message(&e), depth_error);
    // The root object is level 1, so the bracket that reaches level MAX_DEPTH + 1 is the
    // MAX_DEPTH-th one.
    let last_line = head.rsplit('\n').next().unwrap_or_default();
    assert_eq!((e.line, e.column), (3, last_line.len() + MAX_DEPTH));

    // Columns count characters: multibyte text before the nesting moves it by one each.
    let text = format!("[\"é😀\",{}", "[".repeat(MAX_DEPTH + 1));
    let e = only_error(&text);
    assert_eq!(syntax_message(&e), depth_error);
    assert_eq!(e.column, "[\"é😀\",".chars().count() + MAX_DEPTH);
}

#[test]
fn huge_strings_are_handled_and_clipped_in_messages() {
    let big = "x".repeat(8 << 20);

    // A huge note is valid data, kept exactly and round-tripped.
    let list = bounded("huge note", || {
        ConsentList::parse(&with_note(&big)).expect("a long note is valid")
    });
    assert_eq!(list.rules[0].note.as_deref(), Some(big.as_str()));
    assert_eq!(ConsentList::parse(&list.to_json()), Ok(list));

    // A huge bad source expression: named, clipped to 100 characters.
    let source = format!("https://{big} x");
    let text = format!(
        r#"{{"version":1,"rules":[{{"source":"{source}","directives":["*"],"scope":"*","decision":"allow"}}]}}"#
    );
    let e = bounded("huge source", || only_error(&text));
    match &e.kind {
        ConsentErrorKind::BadSourceExpression { source, reason } => {
            assert_eq!(
                source.chars().count(),
                101,
                "100 characters and an ellipsis"
            );
            assert!(source.ends_with('…'));
            assert!(reason.contains("space"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.path, "/rules/0/source");
    check_errors_are_sane(&text, &[e]);

    // A huge unknown field name, a huge unknown directive, a huge scope, a huge version.
    for (text, path) in [
        (
            format!(r#"{{"version":1,"{big}":1}}"#),
            format!("/{}…", "x".repeat(100)),
        ),
        (
            format!(
                r#"{{"version":1,"rules":[{{"source":"*","directives":["{big}"],"scope":"*","decision":"allow"}}]}}"#
            ),
            "/rules/0/directives/0".to_string(),
        ),
        (
            format!(
                r#"{{"version":1,"rules":[{{"source":"*","directives":["*"],"scope":"gadget:{big} ","decision":"allow"}}]}}"#
            ),
            "/rules/0/scope".to_string(),
        ),
        (
            format!(r#"{{"version":{}}}"#, "9".repeat(1 << 20)),
            "/version".to_string(),
        ),
    ] {
        let e = bounded("huge value", || only_error(&text));
        assert_eq!(e.path, path, "{e}");
        check_errors_are_sane(&text, &[e]);
    }

    // An unterminated huge string says where it started.
    let text = format!("{{\"version\":1,\"x\":\"{big}");
    let e = only_error(&text);
    assert_eq!(
        syntax_message(&e),
        "unterminated string (it starts at 1:18)"
    );
}

#[test]
fn invalid_utf16_escapes_are_named() {
    let column_of_note = RULE_PREFIX.chars().count() + 1;
    // (note content, message, offset of the reported escape inside the note)
    let cases: [(&str, &str, usize); 9] = [
        (
            r"\uD800",
            r"lone surrogate \uD800: a high surrogate must be followed by a \uDC00-\uDFFF escape",
            0,
        ),
        (
            r"ab\uDBFFcd",
            r"lone surrogate \uDBFF: a high surrogate must be followed by a \uDC00-\uDFFF escape",
            2,
        ),
        (
            r"\uDC00",
            r"lone surrogate \uDC00: a low surrogate must follow a high one",
            0,
        ),
        (
            r"\uDFFF\uD800",
            r"lone surrogate \uDFFF: a low surrogate must follow a high one",
            0,
        ),
        (
            r"\uD800\u0041",
            r"\u0041 is not a low surrogate after \uD800",
            6,
        ),
        (
            r"\uD83D\uD83D",
            r"\uD83D is not a low surrogate after \uD83D",
            6,
        ),
        (r"\u12", r#"\u escape needs four hex digits, found '"'"#, 0),
        (r"\uZZZZ", r"\u escape needs four hex digits, found 'Z'", 0),
        (r"\x41", r"invalid escape \x", 0),
    ];
    for (note, message, at) in cases {
        let text = with_note(note);
        let e = only_error(&text);
        assert_eq!(syntax_message(&e), message, "{note}");
        assert_eq!((e.line, e.column), (1, column_of_note + at), "{note}");
    }
    // A high surrogate right at the end of the text.
    let e = only_error(&format!("{RULE_PREFIX}\\uD800"));
    assert!(syntax_message(&e).starts_with(r"lone surrogate \uD800"));
    // Valid pairs, in either case of hex digit, decode to the one character.
    let list = ConsentList::parse(&with_note(r"\uD83D\uDE00 \ud83d\ude00")).expect("valid pair");
    assert_eq!(list.rules[0].note.as_deref(), Some("😀 😀"));
}

#[test]
fn every_byte_value() {
    for b in 0..=255u8 {
        let c = char::from(b);
        let escaped = format!("\\u{:04x}", b);

        // As a \u escape in a note: always valid, and it survives export and re-parsing.
        let list = ConsentList::parse(&with_note(&escaped)).expect("escaped byte");
        assert_eq!(list.rules[0].note, Some(c.to_string()));
        assert_eq!(ConsentList::parse(&list.to_json()), Ok(list), "byte {b}");

        // Raw inside a string: control characters are named errors, everything else is data
        // (except the quote and backslash, which change the string itself).
        let raw_text = with_note(&c.to_string());
        match (b, ConsentList::parse(&raw_text)) {
            (0..=0x1f, Err(errors)) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(
                    syntax_message(&errors[0]),
                    format!("raw control character U+{b:04X} in a string (write it as an escape)")
                );
                assert_eq!(errors[0].column, RULE_PREFIX.chars().count() + 1);
            }
            (b'"' | b'\\', Err(errors)) => check_errors_are_sane(&raw_text, &errors),
            (0x20.., Ok(list)) if b != b'"' && b != b'\\' => {
                assert_eq!(list.rules[0].note, Some(c.to_string()));
            }
            (_, other) => panic!("byte {b}: {other:?}"),
        }

        // Between tokens: only JSON whitespace is allowed.
        let text = format!("{{{c}\"version\":1}}");
        let outside = ConsentList::parse(&text);
        if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            assert!(outside.is_ok(), "byte {b}");
        } else {
            let errors = outside.expect_err("stray byte");
            check_errors_are_sane(&text, &errors);
            let found = match c {
                '"' => "expected ':', found 'v'".to_string(),
                '}' => "unexpected '\"' after the end of the JSON value".to_string(),
                _ => format!("expected '\"' to start a member name, found {c:?}"),
            };
            assert_eq!(syntax_message(&errors[0]), found, "byte {b}");
        }

        // As the whole document, and as raw bytes decoded lossily (what a corrupted store
        // read through a lenient decoder would hand over).
        for text in [
            c.to_string(),
            String::from_utf8_lossy(&[b]).into_owned(),
            String::from_utf8_lossy(&[b'{', b, b'}']).into_owned(),
            String::from_utf8_lossy(&[0xEF, 0xBB, 0xBF, b]).into_owned(),
        ] {
            let errors = ConsentList::parse(&text).expect_err("not a consent list");
            check_errors_are_sane(&text, &errors);
        }
    }
}

#[test]
fn random_and_mutated_documents() {
    let mut rng = Rng(1);
    let alphabet = [
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\\",
        "\\u",
        "D800",
        "DC00",
        "0",
        "1",
        "-",
        "e",
        ".",
        "true",
        "null",
        " ",
        "\n",
        "\r\n",
        "\t",
        "\"version\"",
        "\"rules\"",
        "\"source\"",
        "\"directives\"",
        "\"scope\"",
        "\"decision\"",
        "\"mode\"",
        "\"defaults\"",
        "\"*\"",
        "\"allow\"",
        "\"block\"",
        "é",
        "😀",
        "\u{2028}",
        "\u{0}",
        "\u{feff}",
        "\u{7f}",
    ];
    for _ in 0..3_000 {
        let pieces = rng.below(60);
        let text = rng.text(&alphabet, pieces);
        if let Err(errors) = ConsentList::parse(&text) {
            check_errors_are_sane(&text, &errors);
        }
    }

    let valid = r#"{
  "version": 1,
  "mode": "ask",
  "defaults": {"wikimedia": "allow", "third": "ask", "executable-third": "block"},
  "rules": [
    {"source": "https://*.toolforge.org", "directives": ["connect-src"], "scope": "*", "decision": "allow"},
    {"source": "https://fonts.googleapis.com", "directives": ["style-src", "font-src"], "scope": "gadget:HotCat", "decision": "block", "note": "é😀"},
    {"source": "'self'", "directives": ["*"], "scope": "user-script:User:X/a b.js", "decision": "ask"}
  ]
}"#;
    assert!(ConsentList::parse(valid).is_ok());
    let chars: Vec<char> = valid.chars().collect();
    for _ in 0..5_000 {
        let mut mutated = chars.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(mutated.len());
            match rng.below(3) {
                0 => {
                    mutated.remove(at);
                }
                1 => mutated.insert(at, rng.char()),
                _ => mutated[at] = rng.char(),
            }
        }
        let text: String = mutated.into_iter().collect();
        match ConsentList::parse(&text) {
            Ok(list) => {
                // Whatever got through must survive its own export.
                assert_eq!(ConsentList::parse(&list.to_json()), Ok(list));
            }
            Err(errors) => check_errors_are_sane(&text, &errors),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Stacks
// ---------------------------------------------------------------------------------------

const PAGE: &str = "https://en.wikipedia.org/wiki/X";

/// `eval at f1 (eval at f2 (… (https://x/deep.js:7:9) …), <anonymous>:1:1)`, `levels` deep.
fn nested_eval(levels: usize) -> String {
    let mut e = "eval at f1 (https://x/deep.js:7:9)".to_string();
    for i in 2..=levels {
        e = format!("eval at f{i} ({e}, <anonymous>:1:1)");
    }
    format!("Error\n    at eval ({e}, <anonymous>:2:3)")
}

#[test]
fn stack_limits_are_kept() {
    // Eval chains are followed MAX_EVAL_DEPTH levels down to the calling script, no further.
    let frames = parse_stack(&nested_eval(MAX_EVAL_DEPTH));
    assert_eq!(frames.len(), 1);
    assert_eq!((frames[0].url.as_str(), frames[0].line), ("<anonymous>", 2));
    let origin = frames[0]
        .eval
        .as_ref()
        .expect("eval origin within the limit");
    assert_eq!(
        (origin.url.as_str(), origin.line, origin.column),
        ("https://x/deep.js", 7, Some(9))
    );
    let frames = parse_stack(&nested_eval(MAX_EVAL_DEPTH + 1));
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].eval, None, "past the limit the caller is unknown");
    let frames = bounded("deep eval", || parse_stack(&nested_eval(2_000)));
    assert_eq!(frames.len(), 1);

    // Over-long frame lines become a flagged frame in both formats.
    let long_url = format!("https://x/{}.js", "a".repeat(MAX_LINE_BYTES));
    for text in [
        format!("Error\n    at f ({long_url}:1:2)"),
        format!("f@{long_url}:1:2"),
    ] {
        let frames = parse_stack(&text);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].url, "<too-long>");
        let (source, _) = resolve_stack(&text, &AttributionContext::new(PAGE));
        assert!(source.spoofable, "a frame nobody could read is not trusted");
    }

    // Only the first MAX_LINES lines are read; at most MAX_FRAMES frames come back.
    let late = format!(
        "{}f@https://x/late.js:1:1\n",
        "message line\n".repeat(MAX_LINES)
    );
    assert!(parse_stack(&late).is_empty());
    let many_sm = "f@https://x/a.js:1:2\n".repeat(MAX_FRAMES * 3);
    assert_eq!(parse_stack(&many_sm).len(), MAX_FRAMES);
    let many_v8 = format!(
        "Error\n{}",
        "    at f (https://x/a.js:1:2)\n".repeat(MAX_FRAMES * 3)
    );
    assert_eq!(parse_stack(&many_v8).len(), MAX_FRAMES);

    // Positions past u32 saturate instead of gluing digits onto the URL.
    let frames = parse_stack("    at f (https://x/a.js:99999999999:4294967296)");
    assert_eq!(
        (frames[0].url.as_str(), frames[0].line, frames[0].column),
        ("https://x/a.js", u32::MAX, u32::MAX)
    );
}

#[test]
fn random_stacks_never_panic() {
    let mut rng = Rng(2);
    let alphabet = [
        "    at ",
        "at ",
        "async ",
        "new ",
        "eval at ",
        " (",
        "(",
        ")",
        ")",
        ", ",
        ":",
        ":1",
        ":4294967296",
        "@",
        "async*",
        " line 3 > eval",
        " > Function",
        " > injectedScript",
        "\n",
        "\r\n",
        "\u{2028}",
        "https://x/a.js",
        "https://w/load.php?modules=ext.gadget.A%2CB",
        "mw-module://site?tpr=n",
        "chrome-extension://abc/x.js",
        "<anonymous>",
        "native",
        "index 0",
        "[as x]",
        "é",
        "😀",
        "\u{0}",
        " ",
        "%",
        "|",
        ",",
    ];
    let batches = std::collections::HashMap::from([(
        "https://w/load.php?modules=ext.gadget.A%2CB".to_string(),
        BatchIndex::new(
            "mw.loader.implement(\"ext.gadget.A@1\");\nmw.loader.implement(\"ext.gadget.B@1\");",
        ),
    )]);
    let own = ["https://x/own.js"];
    let ctx = AttributionContext {
        page_url: PAGE,
        user_name: Some("Jane Doe"),
        own_prefixes: &own,
        tag_nonce: Some("n"),
        batches: &batches,
        script_loaders: &tpr_auditor::attribution::NoLoaders,
    };
    for _ in 0..5_000 {
        let pieces = rng.below(80);
        let mut text = rng.text(&alphabet, pieces);
        if rng.below(4) == 0 {
            text.push(rng.char());
        }
        let frames = parse_stack(&text);
        assert!(frames.len() <= MAX_FRAMES);
        let (source, kept) = resolve_stack(&text, &ctx);
        assert!(kept.len() <= frames.len());
        assert!(kept.iter().all(|f| !f.url.starts_with(own[0])));
        // Whatever was found serialises (it crosses into JS as JSON).
        serde_json::to_string(&source).expect("serialisable source");
    }
    // Every char of the first 256 code points in every position of a frame.
    for b in 0..=255u8 {
        let c = char::from(b);
        for text in [
            format!("    at f{c} (https://x/a{c}.js:1:2)"),
            format!("    at f (https://x/a.js:1{c}:2)"),
            format!("{c}@https://x/a.js:{c}1:2"),
            format!("f@https://x/a.js line 1 > eval{c}:1:1"),
            format!("    at eval (eval at f (https://x/a.js:1:2){c}, <anonymous>:1:1)"),
        ] {
            let _ = resolve_stack(&text, &ctx);
        }
    }
}

// ---------------------------------------------------------------------------------------
// MediaWiki: packed module lists and batch indexes
// ---------------------------------------------------------------------------------------

#[test]
fn packed_module_lists() {
    let many: Vec<String> = (0..10_000).map(|i| format!("m{i}")).collect();
    let packed = format!("ext.gadget.{}", many.join(","));
    let modules = bounded("many modules", || unpack_modules(&packed));
    assert_eq!(modules.len(), MAX_MODULES);
    assert_eq!(modules[1], "ext.gadget.m1");
    // The same list percent-encoded.
    let encoded = packed.replace(',', "%2C");
    assert_eq!(unpack_modules(&encoded), modules);

    assert_eq!(unpack_modules(&"x".repeat(4 << 20)).len(), 1);
    assert_eq!(unpack_modules(&"|,".repeat(1 << 20)), Vec::<String>::new());

    let mut rng = Rng(3);
    let alphabet = [
        "a", ".", ",", "|", "%", "%2C", "%7C", "%2", "%zz", "%FF", "%C3%A9", "é", "😀", "@", " ",
    ];
    for _ in 0..5_000 {
        let pieces = rng.below(40);
        let packed = rng.text(&alphabet, pieces);
        let modules = unpack_modules(&packed);
        assert!(modules.len() <= MAX_MODULES);
        assert!(
            modules.iter().all(|m| !m.is_empty()),
            "{packed:?} → {modules:?}"
        );
    }
    for b in 0..=255u8 {
        let _ = unpack_modules(&format!("ext.gadget.a%{b:02X},b%{b:02x}|c"));
        let _ = unpack_modules(&format!("ext.gadget.a{},b", char::from(b)));
    }
}

#[test]
fn batch_indexes() {
    // The wrapper cap.
    let text = "mw.loader.implement(\"m@1\",function(){});\n".repeat(MAX_WRAPPERS + 100);
    let idx = bounded("many wrappers", || BatchIndex::new(&text));
    assert_eq!(idx.len(), MAX_WRAPPERS);
    assert_eq!(idx.module_at(u32::MAX, u32::MAX), Some("m"));
    assert_eq!(idx.module_at(0, 0), None);

    // A key longer than any module name is not a wrapper.
    let long = format!("mw.loader.implement(\"{}@1\");", "n".repeat(600));
    assert!(BatchIndex::new(&long).is_empty());

    // Unterminated wrappers and keys, repeated: linear, nothing found.
    for junk in [
        "mw.loader.implement(\"",
        "mw.loader.impl(function(){return[\"",
        "mw.loader.impl(",
        "mw.",
        "loader.impl",
    ] {
        let text = junk.repeat(200_000);
        let _ = bounded(junk, || BatchIndex::new(&text));
    }

    // Random text made of wrapper fragments: starts come out in text order, and module_at
    // agrees with a plain scan of them for any position.
    let mut rng = Rng(4);
    let alphabet = [
        "mw.",
        "mediaWiki.",
        "loader.",
        "impl",
        "ement",
        "(",
        "function",
        "(){",
        "return",
        "[",
        "\"",
        "'",
        "ext.gadget.A@1",
        "B@2",
        "@",
        " ",
        "\n",
        "\r",
        "\r\n",
        "\u{2028}",
        "\u{2029}",
        "é",
        "😀",
        "\\",
    ];
    for _ in 0..3_000 {
        let pieces = rng.below(100);
        let text = rng.text(&alphabet, pieces);
        let idx = BatchIndex::new(&text);
        let starts = idx.starts();
        assert!(starts
            .windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)));
        for _ in 0..10 {
            let line = rng.below(6) as u32;
            let column = match rng.below(3) {
                0 => u32::MAX,
                _ => rng.below(60) as u32,
            };
            let expected = starts
                .iter()
                .rev()
                .find(|s| (s.line, s.column) <= (line, column))
                .map(|s| s.module.as_str());
            assert_eq!(
                idx.module_at(line, column),
                expected,
                "{text:?} {line}:{column}"
            );
            let _ = idx.module_at_line(line);
        }
        let _ = BatchIndex::for_url(&text, "https://w/load.php?modules=ext.gadget.A%2CB|B");
        let _ = BatchIndex::with_expected(&text, &["B".to_string(), "ext.gadget.A".to_string()]);
    }
}

// ---------------------------------------------------------------------------------------
// Requests: malformed URLs, giant hosts
// ---------------------------------------------------------------------------------------

fn auditor() -> Auditor {
    let values = PageValues {
        user_name: Some("Jane Doe".into()),
        page_name: Some("Main_Page".into()),
        tokens: vec!["ab12cd34+\\".into()],
        ..PageValues::default()
    };
    Auditor::new(
        "https://en.wikipedia.org/wiki/Main_Page",
        &[Preset::wikimedia_production()],
        &values,
        ConsentList::parse(
            r#"{"version":1,"mode":"block","rules":[{"source":"https://*.toolforge.org","directives":["connect-src"],"scope":"*","decision":"allow"}]}"#,
        )
        .expect("valid consent"),
    )
    .expect("valid page")
}

#[test]
fn malformed_request_urls_are_named_errors() {
    let a = auditor();
    let page = Source::page();
    let assess = |url: &str| a.assess(&RequestInput::new(url, Channel::Fetch), &page);

    for url in [
        "http://[::1",
        "https://exa mple.com/",
        "http://",
        "https://x:99999/",
        "https://%zz/",
        "http://a b/",
        "https://[12345::]/",
        "https://0x100000000/",
        "https://xn--/",
    ] {
        match assess(url) {
            Err(RequestError::Url(UrlError::Malformed { url: shown, reason })) => {
                assert_eq!(shown, url);
                assert!(!reason.is_empty());
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    for (url, scheme) in [
        ("javascript:alert(1)", "javascript"),
        ("data:text/plain,x", "data"),
        ("blob:https://en.wikipedia.org/uuid", "blob"),
        ("about:blank", "about"),
        ("file:///etc/passwd", "file"),
        ("ftp://example.com/x", "ftp"),
        ("mailto:x@example.com", "mailto"),
    ] {
        let err = assess(url).expect_err("not outbound");
        assert_eq!(err, RequestError::NotOutbound(scheme.to_string()), "{url}");
        assert_eq!(
            err.to_string(),
            format!("{scheme}: URLs are not outbound requests")
        );
    }

    // A 4 MB URL: the message quotes at most 200 characters of it.
    let giant = format!("https://a b.example/{}", "x".repeat(4 << 20));
    let err = bounded("giant bad URL", || assess(&giant)).expect_err("space in the host");
    assert!(
        err.to_string().chars().count() < 400,
        "{} chars",
        err.to_string().len()
    );
    match err {
        RequestError::Url(UrlError::Malformed { url, .. }) => {
            assert!(url.ends_with('…') && url.chars().count() == 201)
        }
        other => panic!("{other:?}"),
    }

    // A 4 MB valid URL, a 4 MB body and a hostile method are assessed.
    let mut req = RequestInput::new(
        format!(
            "https://x.toolforge.org/api?q={}",
            "Jane_Doe%".repeat(1 << 19)
        ),
        Channel::Fetch,
    );
    req.body = Some("%%+\u{0}token=ab12cd34%2B%5C".repeat(1 << 17));
    req.method = Some("pÖst\u{0}".repeat(1000));
    let r = bounded("giant request", || a.assess(&req, &page)).expect("assessed");
    assert_eq!(r.party, Party::Cloud);
    assert_eq!(r.tool.as_deref(), Some("x"));

    assert!(matches!(
        Auditor::new(
            "not a url",
            &[],
            &PageValues::default(),
            ConsentList::default()
        ),
        Err(UrlError::Malformed { .. })
    ));
    assert!(matches!(
        Auditor::new(
            "data:text/html,x",
            &[],
            &PageValues::default(),
            ConsentList::default()
        ),
        Err(UrlError::NoHost(_))
    ));
}

#[test]
fn random_urls_never_panic() {
    let a = auditor();
    let sources = [
        Source::page(),
        Source::named(SourceKind::Gadget, Some("é😀\u{0}".into())),
        Source::named(SourceKind::UserScript, Some("User:X/a_b.js".into())),
        Source {
            chain: vec!["gadget:A".into(), "\u{0}".into(), String::new()],
            ..Source::named(SourceKind::Script, Some("https://x/lib.js".into()))
        },
    ];
    let mut rng = Rng(5);
    let alphabet = [
        "https:",
        "http:",
        "ws:",
        "wss:",
        "//",
        "/",
        "\\",
        "[",
        "]",
        "::1",
        ":",
        "@",
        "?",
        "#",
        "%",
        "%2e",
        "%00",
        ".",
        "..",
        "a",
        "xn--",
        "toolforge.org",
        "wmflabs.org",
        "wikimedia.cloud",
        "wikipedia.org",
        "localhost",
        "127.0.0.1",
        "0x7f.1",
        " ",
        "\t",
        "\n",
        "é",
        "😀",
        "\u{0}",
        "\u{202e}",
        "user=Jane_Doe",
        "+",
    ];
    let channels = Channel::ALL;
    for _ in 0..10_000 {
        let pieces = rng.below(30);
        let mut req = RequestInput::new(rng.text(&alphabet, pieces), *rng.pick(&channels));
        if rng.below(3) == 0 {
            req.body = Some(rng.text(&alphabet, pieces));
        }
        if rng.below(5) == 0 {
            req.sandbox = Some(rng.text(&alphabet, 3));
        }
        if rng.below(5) == 0 {
            req.preload_as = Some(rng.text(&alphabet, 2));
        }
        req.credentials = rng.below(2) == 0;
        match a.assess(&req, rng.pick(&sources)) {
            Ok(r) => {
                assert!(r.origin.contains("://"), "{r:?}");
                assert!(!r.site.is_empty(), "{r:?}");
                serde_json::to_string(&r).expect("serialisable");
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn giant_hosts_are_classified() {
    let ctx = PageContext::new(
        "https://en.wikipedia.org/wiki/X",
        &[Preset::wikimedia_production()],
    )
    .expect("valid page");
    let classify = |url: &str| {
        let parsed = Url::parse(url).expect("valid URL");
        bounded("giant host", || ctx.destination(&parsed)).expect("classified")
    };
    let labels = "a.".repeat(400_000);

    let d = classify(&format!("https://{labels}example.com/x"));
    assert_eq!((d.party, d.site.as_str()), (Party::Third, "example.com"));
    let d = classify(&format!("https://{labels}upload.wikimedia.org/x"));
    assert_eq!(
        (d.party, d.site.as_str()),
        (Party::Wikimedia, "wikimedia.org")
    );
    let d = classify(&format!("https://{labels}toolforge.org/x"));
    assert_eq!((d.party, d.tool.as_deref()), (Party::Cloud, Some("a")));
    let d = classify(&format!("https://{}.github.io/", "b".repeat(1 << 20)));
    assert_eq!(d.party, Party::Third);
    assert_eq!(d.site.len(), (1 << 20) + ".github.io".len());
    let d = classify(&format!("https://{labels}localhost:8080/"));
    assert_eq!(d.party, Party::Local);

    // The registrable-domain lookup itself, on hosts no URL parser would produce.
    for host in [
        ".".repeat(1 << 20),
        format!("{labels}co.uk"),
        format!("{}co.uk", ".".repeat(1 << 20)),
        "é.".repeat(100_000),
    ] {
        let _ = bounded("registrable domain", || psl::registrable_domain(&host));
    }
    assert_eq!(
        psl::registrable_domain(&format!("{labels}www.bbc.co.uk")),
        Some("bbc.co.uk")
    );
}

//! The WebAssembly API in real browsers (issue 1/7, acceptance 2). Run by `scripts/test.sh` in
//! headless Chromium and in headless Firefox through `wasm-bindgen-test-runner`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Error, Reflect, JSON};
use tpr_auditor::web::{parse_consent, unpack_modules, version, Core};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |acc, key| {
        Reflect::get(&acc, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    })
}

fn text(v: &JsValue, path: &str) -> Option<String> {
    get(v, path).as_string()
}

fn json(v: &JsValue) -> String {
    JSON::stringify(v).map(String::from).unwrap_or_default()
}

fn request(url: &str, channel: &str) -> JsValue {
    let o = js_sys::Object::new();
    let _ = Reflect::set(&o, &"url".into(), &url.into());
    let _ = Reflect::set(&o, &"channel".into(), &channel.into());
    o.into()
}

fn core(consent: Option<&str>) -> Core {
    let values = JSON::parse(r#"{"wgUserName":"Jane Doe","wgUserId":4242,"wgPageName":"Main_Page","tokens":["ab12cd34+\\"]}"#)
        .expect("valid JSON");
    Core::new(
        "https://en.wikipedia.org/wiki/Main_Page",
        values,
        consent.map(str::to_string),
    )
    .expect("core starts")
}

const TOOLFORGE_ALLOW: &str = r#"{"version":1,"mode":"block","rules":[
  {"source":"https://*.toolforge.org","directives":["connect-src"],"scope":"*","decision":"allow"}]}"#;

#[wasm_bindgen_test]
fn version_is_the_crate_version() {
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn classification_is_a_plain_object() {
    let c = core(None);
    let d = c
        .classify("https://tools.wmflabs.org/geohack/x")
        .expect("classifies");
    // A plain object (not a Map), with the SPEC §8 field names.
    assert!(d.is_instance_of::<js_sys::Object>() && !d.is_instance_of::<js_sys::Map>());
    assert_eq!(text(&d, "party").as_deref(), Some("cloud"));
    assert_eq!(text(&d, "tool").as_deref(), Some("geohack"));
    assert_eq!(
        text(&d, "origin").as_deref(),
        Some("https://tools.wmflabs.org")
    );
    let third = c
        .classify("https://fonts.googleapis.com/css?family=X")
        .expect("classifies");
    assert_eq!(text(&third, "site").as_deref(), Some("googleapis.com"));
    assert_eq!(text(&third, "party").as_deref(), Some("third"));
}

#[wasm_bindgen_test]
fn consent_decision_says_which_rule() {
    let c = core(Some(TOOLFORGE_ALLOW));
    let fetch = c
        .assess(
            request("https://x.toolforge.org/api?page=Main_Page", "fetch"),
            JsValue::UNDEFINED,
        )
        .expect("assessed");
    assert_eq!(text(&fetch, "verdict").as_deref(), Some("allow"));
    assert_eq!(text(&fetch, "decision").as_deref(), Some("allowed"));
    assert_eq!(text(&fetch, "rule.kind").as_deref(), Some("rule"));
    assert_eq!(get(&fetch, "rule.index").as_f64(), Some(0.0));
    assert_eq!(text(&fetch, "tier").as_deref(), Some("data"));
    assert_eq!(json(&get(&fetch, "carries")), r#"["page"]"#);

    let script = c
        .assess(
            request("https://x.toolforge.org/lib.js", "script"),
            JsValue::UNDEFINED,
        )
        .expect("assessed");
    assert_eq!(text(&script, "verdict").as_deref(), Some("ask"));
    assert_eq!(text(&script, "decision").as_deref(), Some("blocked"));
    assert_eq!(text(&script, "rule.kind").as_deref(), Some("default"));
    assert_eq!(text(&script, "rule.name").as_deref(), Some("cloud"));
}

#[wasm_bindgen_test]
fn stack_resolution_names_the_gadget() {
    let mut c = core(None);
    c.set_own_code(
        Some("n0nce".into()),
        vec!["https://en.wikipedia.org/tpr/".into()],
    );
    let stack = "Error\n    at hook (https://en.wikipedia.org/tpr/bootstrap.js:1:100)\n    at https://en.wikipedia.org/w/load.php?debug=1&lang=en&modules=ext.gadget.Foo&only=scripts:3:9";
    let r = c.resolve_stack(stack).expect("resolves");
    assert_eq!(text(&r, "source.kind").as_deref(), Some("gadget"));
    assert_eq!(text(&r, "source.name").as_deref(), Some("Foo"));
    assert_eq!(get(&r, "source.line").as_f64(), Some(3.0));

    let ff = c
        .resolve_stack("@mw-module://site?tpr=n0nce:2:5\n")
        .expect("resolves");
    assert_eq!(text(&ff, "source.kind").as_deref(), Some("site-script"));
    assert_eq!(get(&ff, "source.spoofable").as_bool(), Some(false));
    assert_eq!(
        json(&unpack_modules("jquery,mediawiki.base|ext.gadget.A,B").expect("unpacks")),
        r#"["jquery","mediawiki.base","ext.gadget.A","ext.gadget.B"]"#
    );
}

#[wasm_bindgen_test]
fn errors_cross_the_boundary_as_exceptions() {
    // An invalid consent document: an Error listing every problem, with records attached.
    let err = parse_consent(r#"{"version":2,"rules":[{"source":"https://a b","directives":["scrpt-src"],"scope":"*","decision":"allow"}]}"#)
        .expect_err("invalid");
    let e: Error = err.clone().dyn_into().expect("an Error object");
    let message = String::from(e.message());
    assert!(message.contains("version"), "{message}");
    assert!(message.contains("scrpt-src"), "{message}");
    let records = get(&err, "errors");
    assert!(js_sys::Array::is_array(&records));
    assert!(
        js_sys::Array::from(&records).length() >= 3,
        "{}",
        json(&records)
    );

    // Malformed input from the page: exceptions, not panics.
    let c = core(None);
    let bad = c.classify("http://[::1").expect_err("malformed URL");
    let bad: Error = JsValue::from(bad).dyn_into().expect("an Error object");
    assert!(String::from(bad.message()).contains("malformed URL"));
    assert!(c
        .assess(JsValue::from_str("nope"), JsValue::UNDEFINED)
        .is_err());
    assert!(c
        .assess(request("data:text/plain,x", "img"), JsValue::UNDEFINED)
        .is_err());
    let mut c = c;
    assert!(c.set_mode("panic").is_err());
    assert!(c.set_consent("{").is_err());
    assert_eq!(c.mode(), "audit", "a failed update changes nothing");
    assert!(Core::new("not a url", JsValue::UNDEFINED, None).is_err());
}

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

/// Unicode hosts (issue 8 item 9, src/urls.rs): the core has no IDNA tables in the browser;
/// the browser's own URL parser maps the host (UTS 46, nontransitional) and the core classifies
/// the ASCII form it gives, exactly as the request will be made.
#[wasm_bindgen_test]
fn internationalised_hosts_through_the_browser() {
    tpr_auditor::web::start();
    let c = core(None);
    let classify = |url: &str| {
        c.classify(url).map_err(|e| {
            JsValue::from(e)
                .dyn_into::<Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_default()
        })
    };
    for (url, host, site) in [
        (
            "https://bücher.example/x",
            "xn--bcher-kva.example",
            "xn--bcher-kva.example",
        ),
        // Full-width letters and full stop, upper case, ß (nontransitional), dotted capital I.
        ("https://ＥＸＡＭＰＬＥ．com/", "example.com", "example.com"),
        ("https://straße.de/", "xn--strae-oqa.de", "xn--strae-oqa.de"),
        (
            "https://EN.WIKIPEDİA.org/w/api.php",
            "en.xn--wikipedia-dkf.org",
            "xn--wikipedia-dkf.org",
        ),
        // Right-to-left labels; an IDN public suffix (公司.香港) from the PSL.
        (
            "https://مثال.إختبار/",
            "xn--mgbh0fb.xn--kgbechtv",
            "xn--mgbh0fb.xn--kgbechtv",
        ),
        (
            "https://a.b.公司.香港/x",
            "a.b.xn--55qx5d.xn--j6w193g",
            "b.xn--55qx5d.xn--j6w193g",
        ),
        // Relative to the page: a protocol-relative Unicode host.
        (
            "//www.bücher.example/",
            "www.xn--bcher-kva.example",
            "xn--bcher-kva.example",
        ),
    ] {
        let d = classify(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(text(&d, "party").as_deref(), Some("third"), "{url}");
        assert_eq!(text(&d, "site").as_deref(), Some(site), "{url}");
        assert_eq!(
            text(&d, "origin").as_deref(),
            Some(format!("https://{host}").as_str()),
            "{url}"
        );
    }
    // Refused by the browser too: a leading combining mark, U+FFFD.
    for url in ["https://\u{0301}a.example/", "https://a\u{FFFD}b.example/"] {
        let err = classify(url).expect_err(url);
        assert!(
            err.contains("invalid international domain name"),
            "{url}: {err}"
        );
    }
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

// ---- The page runtime (`window.tprAuditor`) on a page with a mocked MediaWiki ----------
//
// The page is a *temporary* user's (`wgUserIsTemp`): a user name, but no account whose
// preferences could hold consent. `mw.loader` says `user.options` is ready, so a runtime that
// took the user name for an account would pick the preferences (and fail the storage test).

use js_sys::{Function, Object, Promise};
use std::cell::Cell;
use tpr_auditor::web::install_page;
use wasm_bindgen_futures::JsFuture;

const BOOTSTRAP: &str = include_str!("../src/js/bootstrap.js");
/// The temporary user's CSRF token (`mw.user.tokens`): never in an export.
const CSRF: &str = "5f3e2d1c0b9a8f7e6d5c4b3a29180716+\\";
const CSRF_CORE: &str = "5f3e2d1c0b9a8f7e6d5c4b3a29180716";

thread_local! {
    static PAGE_INSTALLED: Cell<bool> = const { Cell::new(false) };
    static PAGE_BUSY: Cell<bool> = const { Cell::new(false) };
}

/// The runner polls async tests concurrently; the page tests share one consent list.
struct Exclusive;

impl Drop for Exclusive {
    fn drop(&mut self) {
        PAGE_BUSY.set(false);
    }
}

async fn exclusive() -> Exclusive {
    while PAGE_BUSY.get() {
        sleep(10).await;
    }
    PAGE_BUSY.set(true);
    Exclusive
}

fn global() -> JsValue {
    js_sys::global().into()
}

fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(target, name).unchecked_into();
    f.apply(target, &args.iter().collect::<js_sys::Array>())
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let _ = call(&global(), "setTimeout", &[resolve.into(), ms.into()]);
    });
    let _ = JsFuture::from(p).await;
}

fn origin() -> String {
    text(&global(), "location.origin").unwrap_or_default()
}

/// Installs the mocked `mw`, the bootstrap, the runtime (storage `auto`, as the gadget does)
/// and a gadget `Exporter` (tagged like ResourceLoader's domEval), once per page.
fn page_api() -> JsValue {
    let w = global();
    if !PAGE_INSTALLED.get() {
        PAGE_INSTALLED.set(true);
        Function::new_with_args(
            "csrf",
            "try { localStorage.removeItem('userjs-tpr-auditor'); } catch (e) {}
             var config = { wgServer: '//wiki.test', wgScriptPath: '/w', wgPageName: 'Main_Page',
               wgTitle: 'Main Page', wgUserName: '~2026-12345', wgUserId: 77, wgUserIsTemp: true };
             window.mw = {
               config: { get: function (k) { return k in config ? config[k] : null; } },
               user: { tokens: { get: function (k) { return k === 'csrfToken' ? csrf : null; } },
                       options: { get: function () { return null; } } },
               loader: { getState: function () { return 'ready'; } } };",
        )
        .call1(&JsValue::UNDEFINED, &CSRF.into())
        .expect("mock mw");
        Function::new_no_args(BOOTSTRAP)
            .call0(&JsValue::UNDEFINED)
            .expect("bootstrap runs");
        let api = Object::new();
        let runtime = install_page(api.clone(), Object::new().into()).expect("installPage");
        std::mem::forget(runtime);
        let _ = Reflect::set(&w, &"tprPage".into(), &api);
        let handle = Reflect::get(&w, &js_sys::Symbol::for_("tpr-auditor.bootstrap").into())
            .unwrap_or(JsValue::UNDEFINED);
        let nonce = text(&handle, "nonce").unwrap_or_default();
        let code = format!(
            "window.exporterGadget = {{ fetch: function (u) {{ return fetch(u); }} }};\n//# sourceURL=mw-module://ext.gadget.Exporter?tpr={nonce}"
        );
        Function::new_with_args(
            "code",
            "var s = document.createElement('script'); s.text = code; document.head.appendChild(s);",
        )
        .call1(&JsValue::UNDEFINED, &code.into())
        .expect("load gadget");
    }
    get(&w, "tprPage")
}

fn export(format: &str) -> String {
    let consent = get(&page_api(), "consent");
    call(&consent, "export", &[format.into()])
        .expect("export")
        .as_string()
        .expect("export text")
}

/// Structural equality of two JSON values, object keys in any order.
fn deep_equal(a: &JsValue, b: &JsValue) -> bool {
    Function::new_with_args(
        "a, b",
        "function canon(v) {
           if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
           if (v && typeof v === 'object')
             return '{' + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ':' + canon(v[k]); }).join(',') + '}';
           return JSON.stringify(v);
         }
         return canon(a) === canon(b);",
    )
    .call2(&JsValue::UNDEFINED, a, b)
    .ok()
    .and_then(|v| v.as_bool())
    .unwrap_or(false)
}

#[wasm_bindgen_test]
async fn page_exports_json_declaration_table_and_report_without_tokens() {
    let _one_at_a_time = exclusive().await;
    let api = page_api();
    let consent = get(&api, "consent");
    let doc = r#"{"version":1,"mode":"audit","rules":[
      {"source":"https://fonts.example.net","directives":["style-src"],"scope":"gadget:Exporter","decision":"allow","note":"fonts for the exporter"},
      {"source":"https://*.toolforge.org","directives":["connect-src"],"scope":"*","decision":"block"}]}"#;
    call(&consent, "set", &[doc.into()]).expect("consent.set");

    // The gadget loads from this origin with the CSRF token in the URL.
    let url = format!(
        "{}/tpr-export?token={}",
        origin(),
        CSRF.replace('+', "%2B").replace('\\', "%5C")
    );
    let p = call(&get(&global(), "exporterGadget"), "fetch", &[url.into()]).expect("fetch");
    let _ = JsFuture::from(Promise::from(p)).await;

    // json: the document itself.
    let json_export = JSON::parse(&export("json")).expect("json export parses");
    let current = call(&consent, "get", &[]).expect("consent.get");
    assert!(
        deep_equal(&json_export, &current),
        "{} vs {}",
        json(&json_export),
        json(&current)
    );
    assert_eq!(
        text(&get(&current, "rules"), "0.note").as_deref(),
        Some("fonts for the exporter")
    );

    // declaration: the gadget's sources by directive, from its rule and from what it loaded.
    let decl = JSON::parse(&export("declaration")).expect("declaration parses");
    let exporter = get(&get(&decl, "gadgets"), "Exporter");
    assert_eq!(
        json(&get(&exporter, "style-src")),
        r#"["https://fonts.example.net"]"#,
        "from its rule: {}",
        json(&decl)
    );
    assert_eq!(
        json(&get(&exporter, "connect-src")),
        format!(r#"["{}"]"#, origin()),
        "from what it was seen to load: {}",
        json(&decl)
    );

    // table: one row per rule.
    let table = export("table");
    let row = table
        .lines()
        .find(|l| l.contains("https://*.toolforge.org"))
        .unwrap_or_else(|| panic!("no row for the rule in {table}"));
    for cell in ["block", "connect-src", "*"] {
        assert!(row.contains(cell), "{cell} in {row:?}");
    }

    // report: the request is there, its token replaced, and no token value anywhere.
    let report = export("report");
    assert!(report.contains("/tpr-export?token=[token]"), "{report}");
    assert!(!report.contains(CSRF_CORE), "token value leaked: {report}");
    let parsed = JSON::parse(&report).expect("report parses");
    let events: js_sys::Array = get(&parsed, "events").unchecked_into();
    let carries = events
        .iter()
        .find(|e| {
            text(e, "url")
                .as_deref()
                .is_some_and(|u| u.contains("tpr-export"))
        })
        .map(|e| json(&get(&e, "carries")))
        .unwrap_or_default();
    assert!(carries.contains("token"), "carries {carries}");
}

/// Temporary users have no account preferences: consent goes to `localStorage` (SPEC §7),
/// written once the batch delay has passed.
#[wasm_bindgen_test]
async fn temporary_user_consent_is_kept_in_local_storage() {
    let _one_at_a_time = exclusive().await;
    let api = page_api();
    let consent = get(&api, "consent");
    assert_eq!(
        call(&consent, "storage", &[])
            .expect("storage()")
            .as_string()
            .as_deref(),
        Some("local-storage")
    );
    let doc = r#"{"version":1,"mode":"audit","rules":[
      {"source":"https://temp-user.example","directives":["img-src"],"scope":"*","decision":"allow"}]}"#;
    call(&consent, "set", &[doc.into()]).expect("consent.set");
    let read = Function::new_no_args("return localStorage.getItem('userjs-tpr-auditor');");
    let mut stored = None;
    for _ in 0..120 {
        stored = read
            .call0(&JsValue::UNDEFINED)
            .ok()
            .and_then(|v| v.as_string());
        if stored
            .as_deref()
            .is_some_and(|s| s.contains("https://temp-user.example"))
        {
            break;
        }
        sleep(25).await;
    }
    let stored = stored.unwrap_or_default();
    assert!(
        stored.contains("https://temp-user.example"),
        "localStorage holds {stored:?}"
    );
    assert!(JSON::parse(&stored).is_ok(), "a JSON document");
}

//! Channel coverage in real browsers (issue 2/7 item 11): for each row of SPEC §4, one test
//! triggers the channel from page code and asserts exactly one event with the right fields.
//! Runs through `wasm-bindgen-test-runner` in headless Chromium and Firefox (scripts/test.sh).
//!
//! The test page gets the real bootstrap (`src/js/bootstrap.js`, evaluated as a classic
//! script) and the real page runtime (`installPage`), once for all tests. Every request goes
//! to 127.0.0.1: the runner's own origin (same-origin loads, 404s are fine) or port 9, where
//! nothing listens, so nothing leaves the machine. Each test uses a unique path and looks
//! only at its own events.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Promise, Reflect};
use std::cell::Cell;
use tpr_auditor::web::install_page;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const BOOTSTRAP: &str = include_str!("../src/js/bootstrap.js");
/// Nothing listens there: requests fail at once, locally.
const DEAD: &str = "http://127.0.0.1:9";

thread_local! {
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
    static COUNTER: Cell<u32> = const { Cell::new(0) };
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn window() -> JsValue {
    js_sys::global().into()
}

/// The page API object, installing bootstrap and runtime on first use.
fn api() -> JsValue {
    let w = window();
    if !INSTALLED.get() {
        Function::new_no_args(BOOTSTRAP)
            .call0(&JsValue::UNDEFINED)
            .expect("bootstrap runs");
        let api = Object::new();
        let runtime = install_page(api.clone(), JsValue::UNDEFINED).expect("installPage");
        // The runtime lives as long as the page.
        std::mem::forget(runtime);
        Reflect::set(&w, &"tprTestApi".into(), &api).expect("set");
        INSTALLED.set(true);
    }
    get(&w, "tprTestApi")
}

fn unique(tag: &str) -> String {
    let n = COUNTER.get() + 1;
    COUNTER.set(n);
    format!(
        "tpr-{tag}-{n}-{}",
        js_sys::Math::random().to_bits() % 1_000_000
    )
}

fn origin() -> String {
    get(&get(&window(), "location"), "origin")
        .as_string()
        .expect("origin")
}

/// Runs page code (a function body) as the page would.
fn run(code: &str) {
    api(); // the hooks must be in place before the page code runs
    Function::new_no_args(code)
        .call0(&JsValue::UNDEFINED)
        .unwrap_or_else(|e| panic!("trigger threw: {e:?}\n{code}"));
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let set_timeout: Function = get(&window(), "setTimeout").unchecked_into();
        let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &JsValue::from(ms));
    });
    let _ = JsFuture::from(p).await;
}

/// Events whose URL contains `needle`, once at least one is there (or after ~3 s).
async fn events_for(needle: &str) -> Vec<JsValue> {
    let api = api();
    let report: Function = get(&api, "report").unchecked_into();
    for _ in 0..60 {
        let r = report.call0(&api).expect("report()");
        let events: js_sys::Array = get(&r, "events").unchecked_into();
        let mine: Vec<JsValue> = events
            .iter()
            .filter(|e| {
                get(e, "url")
                    .as_string()
                    .is_some_and(|u| u.contains(needle))
            })
            .collect();
        if !mine.is_empty() {
            // Let late sightings (catch-alls) arrive, then read again.
            sleep(150).await;
            let r = report.call0(&api).expect("report()");
            let events: js_sys::Array = get(&r, "events").unchecked_into();
            return events
                .iter()
                .filter(|e| {
                    get(e, "url")
                        .as_string()
                        .is_some_and(|u| u.contains(needle))
                })
                .collect();
        }
        sleep(50).await;
    }
    Vec::new()
}

fn s(e: &JsValue, key: &str) -> String {
    get(e, key).as_string().unwrap_or_default()
}

/// Exactly one event for `needle`, with this channel, directive and party, seen by a hook.
async fn expect_one(needle: &str, channel: &str, directive: &str, party: &str) -> JsValue {
    let events = events_for(needle).await;
    let summary: Vec<String> = events
        .iter()
        .map(|e| {
            js_sys::JSON::stringify(e)
                .map(String::from)
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(events.len(), 1, "events for {needle}: {summary:#?}");
    let e = &events[0];
    assert_eq!(s(e, "channel"), channel, "{summary:?}");
    assert_eq!(s(e, "directive"), directive, "{summary:?}");
    assert_eq!(s(e, "party"), party, "{summary:?}");
    let observed: js_sys::Array = get(e, "observedBy").unchecked_into();
    assert!(
        observed
            .iter()
            .any(|o| o.as_string().as_deref() == Some("hook")),
        "a hook must see it: {summary:?}"
    );
    assert_eq!(get(e, "count").as_f64(), Some(1.0), "{summary:?}");
    e.clone()
}

#[wasm_bindgen_test]
async fn fetch() {
    let id = unique("fetch");
    run(&format!(
        "fetch('{DEAD}/{id}', {{method: 'POST', body: 'x=1'}}).catch(function () {{}});"
    ));
    let e = expect_one(&id, "fetch", "connect-src", "local").await;
    assert_eq!(s(&e, "method"), "POST");
    assert_eq!(s(&e, "decision"), "allowed");
}

#[wasm_bindgen_test]
async fn xhr() {
    let id = unique("xhr");
    run(&format!(
        "var x = new XMLHttpRequest(); x.open('GET', '{DEAD}/{id}'); x.onerror = function () {{}}; x.send();"
    ));
    expect_one(&id, "xhr", "connect-src", "local").await;
}

#[wasm_bindgen_test]
async fn beacon() {
    let id = unique("beacon");
    run(&format!("navigator.sendBeacon('{DEAD}/{id}', 'payload');"));
    let e = expect_one(&id, "beacon", "connect-src", "local").await;
    assert_eq!(s(&e, "method"), "POST");
}

#[wasm_bindgen_test]
async fn websocket() {
    let id = unique("ws");
    run(&format!(
        "var w = new WebSocket('ws://127.0.0.1:9/{id}'); w.onerror = function () {{}};"
    ));
    expect_one(&id, "websocket", "connect-src", "local").await;
}

#[wasm_bindgen_test]
async fn eventsource() {
    let id = unique("es");
    run(&format!(
        "var es = new EventSource('{DEAD}/{id}'); es.onerror = function () {{ es.close(); }};"
    ));
    expect_one(&id, "eventsource", "connect-src", "local").await;
}

#[wasm_bindgen_test]
async fn script_element() {
    let id = unique("script");
    run(&format!(
        "var s = document.createElement('script'); s.src = '{DEAD}/{id}.js'; document.head.appendChild(s);"
    ));
    let e = expect_one(&id, "script", "script-src", "local").await;
    assert_eq!(s(&e, "tier"), "executable");
}

#[wasm_bindgen_test]
async fn script_by_inner_html_is_not_a_load_but_img_is() {
    // Scripts inserted through innerHTML never run (HTML spec); images load.
    let id = unique("markup");
    run(&format!(
        "var d = document.createElement('div'); document.body.appendChild(d); d.innerHTML = '<img src=\"{DEAD}/{id}.png\">';"
    ));
    expect_one(&id, "img", "img-src", "local").await;
}

#[wasm_bindgen_test]
async fn module_import() {
    let id = unique("module");
    run(&format!(
        "var s = document.createElement('script'); s.type = 'module'; s.src = '{DEAD}/{id}.mjs'; document.head.appendChild(s);"
    ));
    expect_one(&id, "module", "script-src", "local").await;
}

#[wasm_bindgen_test]
async fn stylesheet_link() {
    let id = unique("style");
    run(&format!(
        "var l = document.createElement('link'); l.rel = 'stylesheet'; l.href = '{DEAD}/{id}.css'; document.head.appendChild(l);"
    ));
    expect_one(&id, "style", "style-src", "local").await;
}

#[wasm_bindgen_test]
async fn css_import_in_inserted_style() {
    let id = unique("cssimport");
    run(&format!(
        "var st = document.createElement('style'); st.textContent = '@import url(\"{DEAD}/{id}.css\");'; document.head.appendChild(st);"
    ));
    expect_one(&id, "css-import", "style-src", "local").await;
}

#[wasm_bindgen_test]
async fn css_url_in_inserted_style() {
    let id = unique("cssurl");
    run(&format!(
        "var st = document.createElement('style'); st.textContent = 'body {{ background-image: url({DEAD}/{id}.png); }}'; document.head.appendChild(st);"
    ));
    expect_one(&id, "css-url", "img-src", "local").await;
}

#[wasm_bindgen_test]
async fn font_face() {
    let id = unique("font");
    run(&format!(
        "var f = new FontFace('TprTest{id}', 'url({DEAD}/{id}.woff2)'); document.fonts.add(f); f.load().catch(function () {{}});"
    ));
    expect_one(&id, "font-face", "font-src", "local").await;
}

#[wasm_bindgen_test]
async fn image() {
    let id = unique("img");
    run(&format!("new Image().src = '{DEAD}/{id}.png';"));
    let e = expect_one(&id, "img", "img-src", "local").await;
    assert_eq!(s(&e, "tier"), "passive");
}

#[wasm_bindgen_test]
async fn media() {
    let id = unique("media");
    run(&format!(
        "var a = new Audio('{DEAD}/{id}.ogg'); a.onerror = function () {{}};"
    ));
    expect_one(&id, "media", "media-src", "local").await;
}

#[wasm_bindgen_test]
async fn frame() {
    let id = unique("frame");
    run(&format!(
        "var f = document.createElement('iframe'); f.src = '{DEAD}/{id}.html'; document.body.appendChild(f);"
    ));
    expect_one(&id, "frame", "frame-src", "local").await;
}

#[wasm_bindgen_test]
async fn object() {
    let id = unique("object");
    run(&format!(
        "var o = document.createElement('object'); o.data = '{DEAD}/{id}.swf'; document.body.appendChild(o);"
    ));
    expect_one(&id, "object", "object-src", "local").await;
}

#[wasm_bindgen_test]
async fn worker() {
    // Workers must be same-origin: a 404 on the runner's own server is fine.
    let id = unique("worker");
    let origin = origin();
    run(&format!(
        "var w = new Worker('{origin}/{id}.js'); w.onerror = function (e) {{ e.preventDefault(); }};"
    ));
    expect_one(&id, "worker", "worker-src", "local").await;
}

#[wasm_bindgen_test]
async fn preload_link_uses_its_as_directive() {
    let id = unique("preload");
    run(&format!(
        "var l = document.createElement('link'); l.rel = 'preload'; l.as = 'font'; l.crossOrigin = ''; l.href = '{DEAD}/{id}.woff2'; document.head.appendChild(l);"
    ));
    expect_one(&id, "preload", "font-src", "local").await;
}

#[wasm_bindgen_test]
async fn fetch_from_a_fresh_iframe_does_not_escape() {
    let id = unique("realm");
    run(&format!(
        "var f = document.createElement('iframe'); document.body.appendChild(f); f.contentWindow.fetch('{DEAD}/{id}').catch(function () {{}});"
    ));
    let e = expect_one(&id, "fetch", "connect-src", "local").await;
    assert_eq!(s(&e, "realm"), "iframe");
}

#[wasm_bindgen_test]
async fn repeats_fold_into_count() {
    let id = unique("repeat");
    run(&format!(
        "for (var i = 0; i < 3; i++) fetch('{DEAD}/{id}').catch(function () {{}});"
    ));
    let events = events_for(&id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(get(&events[0], "count").as_f64(), Some(3.0));
}

#[wasm_bindgen_test]
async fn events_are_dispatched_to_the_page() {
    let id = unique("dispatch");
    api();
    run(&format!(
        "window.tprSeen = []; window.addEventListener('tpr-auditor:event', function (e) {{ if (e.detail.url.indexOf('{id}') >= 0) window.tprSeen.push(e.detail.channel); }});
         fetch('{DEAD}/{id}').catch(function () {{}});"
    ));
    events_for(&id).await;
    let seen: js_sys::Array = get(&window(), "tprSeen").unchecked_into();
    assert!(seen.length() >= 1);
    assert_eq!(seen.get(0).as_string().as_deref(), Some("fetch"));
}

#[wasm_bindgen_test]
async fn event_details_are_the_events_of_the_report() {
    // The detail is built from one JSON text (a flood dispatches thousands): it must be the
    // very object `report()` gives for that event, field for field and in the same order.
    let id = unique("detail");
    api();
    run(&format!(
        "window.tprDetails = []; window.addEventListener('tpr-auditor:event', function (e) {{
           if (e.detail.url.indexOf('{id}') < 0) return;
           var mine = window.tprTestApi.report().events.filter(function (x) {{ return x.id === e.detail.id; }});
           window.tprDetails.push([JSON.stringify(e.detail), JSON.stringify(mine[0]),
             Object.getPrototypeOf(e.detail) === Object.prototype, Array.isArray(e.detail.frames)]);
         }});
         fetch('{DEAD}/{id}?a=1', {{method: 'POST', body: 'x=1'}}).catch(function () {{}});
         var s = document.createElement('script'); s.src = '{DEAD}/{id}.js'; document.head.appendChild(s);"
    ));
    events_for(&id).await;
    sleep(50).await;
    let seen: js_sys::Array = get(&window(), "tprDetails").unchecked_into();
    assert!(seen.length() >= 2, "{} details", seen.length());
    for d in seen.iter() {
        let d: js_sys::Array = d.unchecked_into();
        assert_eq!(d.get(0).as_string(), d.get(1).as_string());
        assert!(d.get(0).as_string().unwrap().contains("\"frames\":["));
        assert_eq!(d.get(2).as_bool(), Some(true));
        assert_eq!(d.get(3).as_bool(), Some(true));
    }
}

// --- The other triggers of SPEC §4's rows ---------------------------------------------------

#[wasm_bindgen_test]
async fn constructed_stylesheet_replace_sync() {
    let id = unique("cssom");
    run(&format!(
        "var sh = new CSSStyleSheet(); sh.replaceSync('body {{ background-image: url({DEAD}/{id}.png); }}'); document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sh]);"
    ));
    expect_one(&id, "css-url", "img-src", "local").await;
}

#[wasm_bindgen_test]
async fn insert_rule_into_a_page_stylesheet() {
    let id = unique("insertrule");
    run(&format!(
        "var st = document.createElement('style'); document.head.appendChild(st); st.sheet.insertRule('body {{ background-image: url({DEAD}/{id}.png); }}', 0);"
    ));
    expect_one(&id, "css-url", "img-src", "local").await;
}

#[wasm_bindgen_test]
async fn image_srcset() {
    let id = unique("srcset");
    run(&format!(
        "var i = document.createElement('img'); i.srcset = '{DEAD}/{id}.png 1x'; document.body.appendChild(i);"
    ));
    expect_one(&id, "img", "img-src", "local").await;
}

#[wasm_bindgen_test]
async fn picture_source_srcset() {
    let id = unique("picture");
    run(&format!(
        "var p = document.createElement('picture'); var s = document.createElement('source'); s.srcset = '{DEAD}/{id}.webp'; p.appendChild(s); p.appendChild(document.createElement('img')); document.body.appendChild(p);"
    ));
    expect_one(&id, "img", "img-src", "local").await;
}

#[wasm_bindgen_test]
async fn svg_image_href() {
    let id = unique("svgimage");
    run(&format!(
        "var NS = 'http://www.w3.org/2000/svg'; var svg = document.createElementNS(NS, 'svg'); var im = document.createElementNS(NS, 'image'); im.setAttribute('href', '{DEAD}/{id}.png'); svg.appendChild(im); document.body.appendChild(svg);"
    ));
    expect_one(&id, "img", "img-src", "local").await;
}

#[wasm_bindgen_test]
async fn inline_style_background() {
    let id = unique("styleattr");
    run(&format!(
        "var d = document.createElement('div'); d.setAttribute('style', 'background-image: url({DEAD}/{id}.png)'); d.textContent = 'x'; document.body.appendChild(d);"
    ));
    let e = events_for(&id).await;
    assert_eq!(e.len(), 1, "one event");
    assert_eq!(s(&e[0], "directive"), "img-src");
}

#[wasm_bindgen_test]
async fn video_poster() {
    let id = unique("poster");
    run(&format!(
        "var v = document.createElement('video'); v.poster = '{DEAD}/{id}.jpg'; document.body.appendChild(v);"
    ));
    expect_one(&id, "media", "media-src", "local").await;
}

#[wasm_bindgen_test]
async fn media_source_element() {
    let id = unique("source");
    run(&format!(
        "var v = document.createElement('video'); var s = document.createElement('source'); s.src = '{DEAD}/{id}.webm'; v.appendChild(s); v.onerror = function () {{}}; document.body.appendChild(v);"
    ));
    expect_one(&id, "media", "media-src", "local").await;
}

/// What a `srcdoc` document will load is observed when the page sets `srcdoc` (the markup is
/// read like `innerHTML`'s), so it is attributed to the caller; in Chromium the frame's own
/// catch-all sighting merges into that event.
#[wasm_bindgen_test]
async fn srcdoc_content_loads() {
    let id = unique("srcdoc");
    run(&format!(
        "var f = document.createElement('iframe'); f.srcdoc = '<img src=\"{DEAD}/{id}.png\">'; document.body.appendChild(f);"
    ));
    let e = expect_one(&id, "img", "img-src", "local").await;
    assert_eq!(s(&e, "path"), "srcdoc");
}

#[wasm_bindgen_test]
async fn srcdoc_by_set_attribute() {
    let id = unique("srcdocattr");
    run(&format!(
        "var f = document.createElement('iframe'); document.body.appendChild(f); f.setAttribute('srcdoc', '<script src=\"{DEAD}/{id}.js\"></script>');"
    ));
    let e = expect_one(&id, "script", "script-src", "local").await;
    assert_eq!(s(&e, "path"), "srcdoc");
}

#[wasm_bindgen_test]
async fn embed_element() {
    let id = unique("embed");
    run(&format!(
        "var e = document.createElement('embed'); e.src = '{DEAD}/{id}.swf'; document.body.appendChild(e);"
    ));
    expect_one(&id, "object", "object-src", "local").await;
}

#[wasm_bindgen_test]
async fn modulepreload_link() {
    let id = unique("modulepreload");
    run(&format!(
        "var l = document.createElement('link'); l.rel = 'modulepreload'; l.href = '{DEAD}/{id}.mjs'; document.head.appendChild(l);"
    ));
    expect_one(&id, "preload", "script-src", "local").await;
}

#[wasm_bindgen_test]
async fn shared_worker() {
    let id = unique("sharedworker");
    let origin = origin();
    run(&format!(
        "try {{ var w = new SharedWorker('{origin}/{id}.js'); w.onerror = function (e) {{ e.preventDefault(); }}; }} catch (e) {{}}"
    ));
    expect_one(&id, "worker", "worker-src", "local").await;
}

#[wasm_bindgen_test]
async fn insert_adjacent_html_image() {
    let id = unique("adjacent");
    run(&format!(
        "document.body.insertAdjacentHTML('beforeend', '<img src=\"{DEAD}/{id}.png\">');"
    ));
    expect_one(&id, "img", "img-src", "local").await;
}

/// A frame's catch-all sighting is on the frame's own clock: made more than the merge window
/// after the page started, it must still merge with the hook's event (one event, not two).
#[wasm_bindgen_test]
async fn late_frame_sightings_merge_with_the_hook() {
    let perf = get(&window(), "performance");
    let now: Function = get(&perf, "now").unchecked_into();
    while now
        .call0(&perf)
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
        < 6_000.0
    {
        sleep(200).await;
    }
    let id = unique("lateframe");
    let origin = origin();
    run(&format!(
        "var f = document.createElement('iframe'); document.body.appendChild(f); f.contentWindow.fetch('{origin}/{id}').catch(function () {{}});"
    ));
    let e = expect_one(&id, "fetch", "connect-src", "local").await;
    let observed: Vec<String> = js_sys::Array::from(&get(&e, "observedBy"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert!(
        observed.iter().any(|o| o == "performance"),
        "the frame's resource entry merged in: {observed:?}"
    );
}

//! `ask` and `block` modes in real browsers (issue 4/7 items 1, 2, 6, 7): each hold mechanism
//! of the bootstrap, driven through the real page runtime, in Chromium and Firefox.
//!
//! Sources: two gadgets, `gadgetA` and `gadgetB`, are inline scripts tagged the way the
//! bootstrap tags ResourceLoader's `domEval` (`//# sourceURL=mw-module://ext.gadget.NAME?tpr=
//! NONCE`), so their frames name them: answering for one must not answer for the other. Destinations
//! are the runner's own origin (a 404 is a *successful* network answer, so "let through" and
//! "denied" are told apart: a denied fetch rejects, a let-through one resolves with 404). The
//! consent list sets the `local` default to `ask` (the runner is on 127.0.0.1).
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Promise, Reflect};
use std::cell::Cell;
use tpr_auditor::web::install_page;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const BOOTSTRAP: &str = include_str!("../src/js/bootstrap.js");
const STRICT: &str = r#"{"version":1,"mode":"audit","defaults":{"first":"ask","wikimedia":"ask","local":"ask","cloud":"ask","third":"ask","executable-third":"block"},"rules":[]}"#;

thread_local! {
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
    static COUNTER: Cell<u32> = const { Cell::new(0) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// The runner polls async tests concurrently; these share one page and switch its mode, so
/// each holds this for its whole run.
struct Exclusive;

impl Drop for Exclusive {
    fn drop(&mut self) {
        BUSY.set(false);
    }
}

async fn exclusive() -> Exclusive {
    while BUSY.get() {
        sleep(10).await;
    }
    BUSY.set(true);
    // Every test starts from the strict list: rules written by earlier answers are gone.
    let api = api().await;
    call(&get(&api, "consent"), "set", &[STRICT.into()]).expect("consent.set");
    Exclusive
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn global() -> JsValue {
    js_sys::global().into()
}

fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(target, name).unchecked_into();
    f.apply(target, &args.iter().collect::<js_sys::Array>())
}

/// Installs bootstrap + runtime once, with the strict defaults, and the two gadgets.
async fn api() -> JsValue {
    let w = global();
    if !INSTALLED.get() {
        INSTALLED.set(true);
        Function::new_no_args(BOOTSTRAP)
            .call0(&JsValue::UNDEFINED)
            .expect("bootstrap runs");
        let api = Object::new();
        let options = Object::new();
        Reflect::set(&options, &"consent".into(), &STRICT.into()).expect("set");
        Reflect::set(&options, &"storage".into(), &"memory".into()).expect("set");
        let runtime = install_page(api.clone(), options.into()).expect("installPage");
        std::mem::forget(runtime);
        Reflect::set(&w, &"tprApi".into(), &api).expect("set");
        // Each gadget exposes small request helpers; their frames carry the blob URL.
        for name in ["gadgetA", "gadgetB"] {
            let code = format!(
                "window.{name} = {{
                   fetch: function (u) {{ return fetch(u); }},
                   xhr: function (u, done) {{ var x = new XMLHttpRequest(); x.open('GET', u);
                     x.onload = function () {{ done('load:' + x.status); }};
                     x.onerror = function () {{ done('error:' + x.readyState + ':' + x.status); }};
                     x.send(); return x; }},
                   beacon: function (u) {{ return navigator.sendBeacon(u, 'x'); }},
                   ws: function (u) {{ return new WebSocket(u); }},
                   es: function (u) {{ return new EventSource(u); }},
                   frame: function (u) {{ var f = document.createElement('iframe'); f.src = u; document.body.appendChild(f); return f; }},
                   img: function (u) {{ var i = document.createElement('img'); i.src = u; document.body.appendChild(i); return i; }},
                   script: function (u) {{ var s = document.createElement('script'); s.src = u; document.head.appendChild(s); return s; }}
                 }};"
            );
            // Tagged the way the bootstrap tags ResourceLoader's domEval of a gadget module,
            // with this page's nonce: a trusted `gadget:NAME` source.
            let handle = Reflect::get(&w, &js_sys::Symbol::for_("tpr-auditor.bootstrap").into())
                .unwrap_or(JsValue::UNDEFINED);
            let nonce = get(&handle, "nonce").as_string().unwrap_or_default();
            let tagged = format!("{code}\n//# sourceURL=mw-module://ext.gadget.{name}?tpr={nonce}");
            Function::new_with_args(
                "code",
                "var s = document.createElement('script'); s.text = code; document.head.appendChild(s);",
            )
            .call1(&JsValue::UNDEFINED, &tagged.into())
            .expect("load gadget");
        }
    }
    get(&w, "tprApi")
}

fn unique(tag: &str) -> String {
    let n = COUNTER.get() + 1;
    COUNTER.set(n);
    let origin = get(&get(&global(), "location"), "origin")
        .as_string()
        .unwrap_or_default();
    format!(
        "{origin}/tpr-{tag}-{n}-{}",
        js_sys::Math::random().to_bits() % 1_000_000
    )
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let _ = call(&global(), "setTimeout", &[resolve.into(), ms.into()]);
    });
    let _ = JsFuture::from(p).await;
}

async fn set_mode(mode: &str) {
    let api = api().await;
    call(&api, "setMode", &[mode.into()]).expect("setMode");
}

/// The events for exactly this URL.
fn events(url: &str) -> Vec<JsValue> {
    let api = get(&global(), "tprApi");
    let report = call(&api, "report", &[]).expect("report()");
    let list: js_sys::Array = get(&report, "events").unchecked_into();
    list.iter()
        .filter(|e| get(e, "url").as_string().as_deref() == Some(url))
        .collect()
}

/// Waits for the one event of `url` and returns (id, decision, source name).
async fn event(url: &str) -> (f64, String, String) {
    for _ in 0..60 {
        let list = events(url);
        if let Some(e) = list.first() {
            assert_eq!(list.len(), 1, "one event for {url}");
            return (
                get(e, "id").as_f64().unwrap_or(0.0),
                get(e, "decision").as_string().unwrap_or_default(),
                get(&get(e, "source"), "name")
                    .as_string()
                    .unwrap_or_default(),
            );
        }
        sleep(25).await;
    }
    panic!("no event for {url}");
}

async fn answer(id: f64, how: &str) {
    let api = api().await;
    call(&api, "answer", &[id.into(), how.into()]).expect("answer");
}

/// Resolves to "resolved:STATUS" or "rejected:NAME" when `p` settles, or "pending" after `ms`.
async fn settle(p: &JsValue, ms: i32) -> String {
    let race = Function::new_with_args(
        "p, ms",
        "return Promise.race([
           Promise.resolve(p).then(function (r) { return 'resolved:' + r.status; },
                                   function (e) { return 'rejected:' + e.name; }),
           new Promise(function (r) { setTimeout(function () { r('pending'); }, ms); })]);",
    )
    .call2(&JsValue::UNDEFINED, p, &ms.into())
    .expect("race");
    JsFuture::from(Promise::from(race))
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn gadget(name: &str) -> JsValue {
    get(&global(), name)
}

#[wasm_bindgen_test]
async fn ask_fetch_answer_for_one_gadget_then_block_another() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-fetch");
    let a1 = call(&gadget("gadgetA"), "fetch", &[url.clone().into()]).expect("fetch");
    let (id, decision, source) = event(&url).await;
    assert_eq!(decision, "pending");
    assert_eq!(source, "gadgetA", "attributed to gadget A");
    assert_eq!(settle(&a1, 200).await, "pending", "held until answered");

    answer(id, "source").await;
    assert_eq!(
        settle(&a1, 2000).await,
        "resolved:404",
        "let through after consent"
    );
    let (_, decision, _) = event(&url).await;
    assert_eq!(decision, "allowed");

    // The same gadget's next identical request goes through at once (folded into the event).
    let a2 = call(&gadget("gadgetA"), "fetch", &[url.clone().into()]).expect("fetch");
    assert_eq!(settle(&a2, 2000).await, "resolved:404");

    // Gadget B's identical request is still held: the rule is scoped to gadget A.
    let b = call(&gadget("gadgetB"), "fetch", &[url.clone().into()]).expect("fetch");
    assert_eq!(settle(&b, 200).await, "pending");
    let b_event = events(&url)
        .into_iter()
        .find(|e| get(e, "decision").as_string().as_deref() == Some("pending"))
        .expect("B's pending event");
    answer(get(&b_event, "id").as_f64().unwrap_or(0.0), "block").await;
    assert_eq!(
        settle(&b, 2000).await,
        "rejected:TypeError",
        "a blocked fetch fails like a network error"
    );
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn ask_xhr_send_is_deferred_then_errors_when_blocked() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-xhr");
    let result = Function::new_with_args(
        "g, u",
        "return new Promise(function (resolve) { g.xhr(u, resolve); });",
    )
    .call2(&JsValue::UNDEFINED, &gadget("gadgetA"), &url.clone().into())
    .expect("xhr");
    let (id, decision, _) = event(&url).await;
    assert_eq!(decision, "pending");
    assert_eq!(settle_value(&result, 200).await, "pending");
    answer(id, "block").await;
    assert_eq!(settle_value(&result, 2000).await, "error:4:0");
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn ask_xhr_once_lets_it_through() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-xhr-once");
    let result = Function::new_with_args(
        "g, u",
        "return new Promise(function (resolve) { g.xhr(u, resolve); });",
    )
    .call2(&JsValue::UNDEFINED, &gadget("gadgetA"), &url.clone().into())
    .expect("xhr");
    let (id, _, _) = event(&url).await;
    answer(id, "once").await;
    assert_eq!(settle_value(&result, 2000).await, "load:404");
    set_mode("audit").await;
}

/// Like [`settle`] for promises of plain strings.
async fn settle_value(p: &JsValue, ms: i32) -> String {
    let race = Function::new_with_args(
        "p, ms",
        "return Promise.race([Promise.resolve(p),
           new Promise(function (r) { setTimeout(function () { r('pending'); }, ms); })]);",
    )
    .call2(&JsValue::UNDEFINED, p, &ms.into())
    .expect("race");
    JsFuture::from(Promise::from(race))
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn ask_beacon_cannot_wait_returns_false_and_prompts() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-beacon");
    let sent = call(&gadget("gadgetA"), "beacon", &[url.clone().into()]).expect("beacon");
    assert_eq!(sent.as_bool(), Some(false), "a held beacon reports failure");
    let (id, decision, _) = event(&url).await;
    assert_eq!(decision, "blocked", "it could not wait, so it was not sent");
    let first = events(&url).remove(0);
    assert_eq!(
        get(&first, "asked").as_bool(),
        Some(true),
        "its question is queued (listed in the prompts)"
    );

    // Answering for the source writes the rule: the denied beacon stays denied (it is gone),
    // the question is answered, and the next beacon is sent.
    answer(id, "source").await;
    let first = events(&url).remove(0);
    assert_eq!(
        get(&first, "decision").as_string().as_deref(),
        Some("blocked")
    );
    assert_eq!(get(&first, "asked").as_bool(), Some(false));
    assert_eq!(get(&first, "answer").as_string().as_deref(), Some("source"));
    let sent = call(&gadget("gadgetA"), "beacon", &[url.clone().into()]).expect("beacon");
    assert_eq!(sent.as_bool(), Some(true), "the next beacon goes out");
    let decisions: Vec<String> = events(&url)
        .iter()
        .map(|e| get(e, "decision").as_string().unwrap_or_default())
        .collect();
    assert_eq!(decisions, vec!["blocked", "allowed"]);
    // Gadget B's beacon is still denied and asks: the rule is gadget A's.
    let sent = call(&gadget("gadgetB"), "beacon", &[url.clone().into()]).expect("beacon");
    assert_eq!(sent.as_bool(), Some(false));
    let b = events(&url).remove(2);
    assert_eq!(get(&b, "asked").as_bool(), Some(true));
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn ask_websocket_is_connecting_then_errors_when_blocked() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-ws").replacen("http", "ws", 1);
    let ws = call(&gadget("gadgetA"), "ws", &[url.clone().into()]).expect("ws");
    let closed = Function::new_with_args(
        "ws",
        "return new Promise(function (resolve) { var log = [];
           ws.onerror = function () { log.push('error'); };
           ws.onclose = function (e) { log.push('close:' + e.code); resolve(log.join(',')); }; });",
    )
    .call1(&JsValue::UNDEFINED, &ws)
    .expect("listen");
    let (id, decision, _) = event(&url).await;
    assert_eq!(decision, "pending");
    assert_eq!(
        get(&ws, "readyState").as_f64(),
        Some(0.0),
        "CONNECTING while held"
    );
    answer(id, "block").await;
    assert_eq!(settle_value(&closed, 2000).await, "error,close:1006");
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn ask_eventsource_errors_and_closes_when_blocked() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-es");
    let es = call(&gadget("gadgetA"), "es", &[url.clone().into()]).expect("es");
    let errored = Function::new_with_args(
        "es",
        "return new Promise(function (resolve) { es.onerror = function () { resolve('error:' + es.readyState); }; });",
    )
    .call1(&JsValue::UNDEFINED, &es)
    .expect("listen");
    let (id, decision, _) = event(&url).await;
    assert_eq!(decision, "pending");
    assert_eq!(get(&es, "readyState").as_f64(), Some(0.0));
    answer(id, "block").await;
    assert_eq!(settle_value(&errored, 2000).await, "error:2");
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn ask_element_src_is_withheld_then_applied() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-frame");
    let frame = call(&gadget("gadgetA"), "frame", &[url.clone().into()]).expect("frame");
    let loaded = Function::new_with_args(
        "f",
        "return new Promise(function (resolve) { f.onload = function () { resolve('load'); }; f.onerror = function () { resolve('error'); }; });",
    )
    .call1(&JsValue::UNDEFINED, &frame)
    .expect("listen");
    let (id, decision, _) = event(&url).await;
    assert_eq!(decision, "pending");
    assert_eq!(settle_value(&loaded, 200).await, "pending");
    answer(id, "once").await;
    assert_eq!(settle_value(&loaded, 3000).await, "load");
    assert_eq!(get(&frame, "src").as_string(), Some(url));
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn block_mode_denies_element_loads_with_an_error_event() {
    let _one_at_a_time = exclusive().await;
    set_mode("block").await;
    for kind in ["img", "script", "frame"] {
        let url = unique(&format!("block-{kind}"));
        let el = call(&gadget("gadgetB"), kind, &[url.clone().into()]).expect("insert");
        let outcome = Function::new_with_args(
            "el",
            "return new Promise(function (resolve) { el.addEventListener('load', function () { resolve('load'); }); el.addEventListener('error', function () { resolve('error'); }); });",
        )
        .call1(&JsValue::UNDEFINED, &el)
        .expect("listen");
        assert_eq!(settle_value(&outcome, 2000).await, "error", "{kind} denied");
        let (_, decision, _) = event(&url).await;
        assert_eq!(decision, "blocked", "{kind}");
        let e = events(&url).remove(0);
        assert_eq!(get(&e, "blockedBy").as_string().as_deref(), Some("consent"));
    }
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn block_mode_denies_xhr_and_lets_consented_through() {
    let _one_at_a_time = exclusive().await;
    set_mode("block").await;
    let url = unique("block-xhr");
    let result = Function::new_with_args(
        "g, u",
        "return new Promise(function (resolve) { g.xhr(u, resolve); });",
    )
    .call2(&JsValue::UNDEFINED, &gadget("gadgetB"), &url.clone().into())
    .expect("xhr");
    assert_eq!(settle_value(&result, 2000).await, "error:4:0");

    // A consented destination loads in block mode.
    let api = api().await;
    let consent = get(&api, "consent");
    let origin = get(&get(&global(), "location"), "origin")
        .as_string()
        .unwrap_or_default();
    let doc = STRICT.replace(
        r#""rules":[]"#,
        &format!(
            r#""mode":"block","rules":[{{"source":"{origin}/tpr-consented/","directives":["connect-src"],"scope":"*","decision":"allow"}}]"#
        ),
    )
    .replacen(r#""mode":"audit","#, "", 1);
    call(&consent, "set", &[doc.into()]).expect("consent.set");
    let ok_url = format!("{origin}/tpr-consented/{}", COUNTER.get());
    let p = call(&gadget("gadgetB"), "fetch", &[ok_url.clone().into()]).expect("fetch");
    assert_eq!(settle(&p, 2000).await, "resolved:404");
    let (_, decision, _) = event(&ok_url).await;
    assert_eq!(decision, "allowed");
    call(&consent, "set", &[STRICT.into()]).expect("consent.set");
    set_mode("audit").await;
}

/// Waits (up to ~3 s) until the browser's resource timing lists `url`: the browser itself
/// requested it (a withheld or denied load never is).
async fn requested_by_browser(url: &str) -> bool {
    for _ in 0..120 {
        if entries_for(url) > 0 {
            return true;
        }
        sleep(25).await;
    }
    false
}

fn entries_for(url: &str) -> u32 {
    let perf = get(&global(), "performance");
    call(&perf, "getEntriesByName", &[url.into()])
        .map(|l| js_sys::Array::from(&l).length())
        .unwrap_or(0)
}

/// Listens on a socket-like object: resolves with the events it fired, at `until`.
fn listen(target: &JsValue, types: &str, until: &str) -> JsValue {
    Function::new_with_args(
        "t, types, until",
        "return new Promise(function (resolve) { var log = [];
           types.split(',').forEach(function (type) {
             t.addEventListener(type, function (e) {
               log.push(type + (type === 'close' ? ':' + e.code : '') + (type === 'error' && t.readyState !== undefined ? ':' + t.readyState : ''));
               if (type === until) resolve(log.join(','));
             });
           }); });",
    )
    .call3(&JsValue::UNDEFINED, target, &types.into(), &until.into())
    .expect("listen")
}

#[wasm_bindgen_test]
async fn ask_eventsource_connects_after_consent() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-es-allow");
    let es = call(&gadget("gadgetA"), "es", &[url.clone().into()]).expect("es");
    let failed = listen(&es, "open,error", "error");
    let (id, decision, _) = event(&url).await;
    assert_eq!(decision, "pending");
    assert_eq!(
        get(&es, "readyState").as_f64(),
        Some(0.0),
        "CONNECTING while held"
    );
    assert_eq!(settle_value(&failed, 200).await, "pending");
    assert_eq!(entries_for(&url), 0, "nothing requested while held");

    answer(id, "source").await;
    // The runner answers 404, so the real connection fails the way a browser fails it; what
    // tells it from a denial is that the browser did request the URL.
    assert_eq!(settle_value(&failed, 3000).await, "error:2");
    assert!(
        requested_by_browser(&url).await,
        "connected after consent: the browser requested {url}"
    );
    let (_, decision, _) = event(&url).await;
    assert_eq!(decision, "allowed");
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn ask_eventsource_block_fires_error_without_a_request() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-es-block");
    let es = call(&gadget("gadgetA"), "es", &[url.clone().into()]).expect("es");
    let failed = listen(&es, "open,error", "error");
    let (id, _, _) = event(&url).await;
    answer(id, "block").await;
    assert_eq!(settle_value(&failed, 2000).await, "error:2");
    // Give a request that should not exist the time one that does needs.
    assert!(
        !requested_by_browser(&url).await,
        "a denied EventSource never reaches the network"
    );
    set_mode("audit").await;
}

/// `always`: a rule for every source. The answered socket connects (a real `WebSocket`: on a
/// closed real socket `send` adds to `bufferedAmount`, on a denied facade it stays 0), and
/// gadget B's identical connection is not held at all.
#[wasm_bindgen_test]
async fn ask_websocket_connects_after_always_for_every_source() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-ws-allow").replacen("http", "ws", 1);
    let ws = call(&gadget("gadgetA"), "ws", &[url.clone().into()]).expect("ws");
    let closed = listen(&ws, "open,error,close", "close");
    let (id, decision, _) = event(&url).await;
    assert_eq!(decision, "pending");
    assert_eq!(settle_value(&closed, 200).await, "pending");
    answer(id, "always").await;
    // The runner is no WebSocket server: the real handshake fails (error, then close 1006).
    assert_eq!(settle_value(&closed, 3000).await, "error:3,close:1006");
    call(&ws, "send", &["abcd".into()]).expect("send on a closed socket");
    assert_eq!(
        get(&ws, "bufferedAmount").as_f64(),
        Some(4.0),
        "a real socket was connected after consent"
    );
    let (_, decision, _) = event(&url).await;
    assert_eq!(decision, "allowed");
    let doc = get(&api().await, "consent");
    let rules: js_sys::Array = get(&call(&doc, "get", &[]).expect("get"), "rules").unchecked_into();
    let scopes: Vec<String> = rules
        .iter()
        .map(|r| get(&r, "scope").as_string().unwrap_or_default())
        .collect();
    assert_eq!(scopes, vec!["*"], "`always` writes a rule for every source");

    let b = call(&gadget("gadgetB"), "ws", &[url.clone().into()]).expect("ws");
    let b_closed = listen(&b, "open,error,close", "close");
    let b_event = events(&url)
        .into_iter()
        .find(|e| get(&get(e, "source"), "name").as_string().as_deref() == Some("gadgetB"))
        .expect("gadget B's event");
    assert_eq!(
        get(&b_event, "decision").as_string().as_deref(),
        Some("allowed"),
        "another source is let through by the `*` rule"
    );
    assert_eq!(settle_value(&b_closed, 3000).await, "error:3,close:1006");
    set_mode("audit").await;
}

#[wasm_bindgen_test]
async fn ask_websocket_block_is_a_facade_that_never_connects() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    let url = unique("ask-ws-block").replacen("http", "ws", 1);
    let ws = call(&gadget("gadgetA"), "ws", &[url.clone().into()]).expect("ws");
    let closed = listen(&ws, "open,error,close", "close");
    let (id, _, _) = event(&url).await;
    answer(id, "block").await;
    assert_eq!(settle_value(&closed, 2000).await, "error:3,close:1006");
    call(&ws, "send", &["abcd".into()]).expect("send on a closed socket");
    assert_eq!(
        get(&ws, "bufferedAmount").as_f64(),
        Some(0.0),
        "no real socket"
    );
    set_mode("audit").await;
}

/// Element loads: the `src` is withheld while held (nothing requested), applied on consent
/// (the browser requests it), and a denial fires `error` without a request.
#[wasm_bindgen_test]
async fn ask_img_and_script_src_withheld_then_applied_or_denied() {
    let _one_at_a_time = exclusive().await;
    set_mode("ask").await;
    for kind in ["img", "script"] {
        // Gadget B for the denial: gadget A's `source` answer allowed the origin for A.
        for (how, who, requested) in [("source", "gadgetA", true), ("block", "gadgetB", false)] {
            let url = unique(&format!("ask-{kind}-{how}"));
            let el = call(&gadget(who), kind, &[url.clone().into()]).expect("insert");
            let outcome = listen(&el, "load,error", "error");
            let (id, decision, _) = event(&url).await;
            assert_eq!(decision, "pending", "{kind}");
            assert_eq!(settle_value(&outcome, 200).await, "pending", "{kind} held");
            assert_eq!(entries_for(&url), 0, "{kind}: withheld, not requested");
            answer(id, how).await;
            // The runner answers 404, so even an applied load ends in `error`.
            assert_eq!(settle_value(&outcome, 3000).await, "error", "{kind} {how}");
            assert_eq!(
                requested_by_browser(&url).await,
                requested,
                "{kind} {how}: requested by the browser"
            );
            let src = call(&el, "getAttribute", &["src".into()]).expect("getAttribute");
            assert_eq!(
                src.as_string().is_some_and(|s| s == url),
                requested,
                "{kind} {how}: the src attribute applied"
            );
        }
    }
    set_mode("audit").await;
}

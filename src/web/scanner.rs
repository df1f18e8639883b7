//! Loads the separate scanner WebAssembly module on first use (issue 7/7 items 6 and 11) and
//! publishes `tprAuditor.scan(text, {lang, name})`.
//!
//! The scanner module (feature `scan-module`, built by scripts/build.sh into `pkg-scanner/`,
//! bundled by `scripts/bundle.py --scanner` with `src/js/scanner.js`) is a classic script that
//! keeps wasm-bindgen's glue inside its own closure and registers one frozen object under the
//! registered symbol `Symbol.for('tpr-auditor.scanner')` on `window`: `{version, load()}`,
//! `load()` compiling the module once and resolving to its `scan` function. No global name is
//! taken, so it cannot clash with the page module's glue or with page globals.
//!
//! How the script gets into the page is the packaging's small config (install option
//! `scanner`), never a browser check:
//!
//! | config | packaging | how |
//! |---|---|---|
//! | `{module: NAME}` | gadget | `mw.loader.using(NAME)`: a hidden gadget on the same wiki |
//! | `{url: URL}` | demo | a `<script>` of a **same-origin** URL (anything else is refused) |
//! | `{load: FUNCTION}` | extension | the prelude asks the background to inject the file of the package into this frame's page world (`scripting.executeScript`, no web-accessible resource) |
//!
//! The first failure is not cached: a later call tries again.

use js_sys::{Function, Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The symbol the scanner script registers under.
const KEY: &str = "tpr-auditor.scanner";

/// The packaging's way to the scanner script.
#[derive(Clone)]
enum Source {
    Module(String),
    Url(String),
    Load(Function),
    None,
}

/// The lazily loaded scanner: shared by `tprAuditor.scan` and the panel's Scan view.
pub struct ScannerLoader {
    source: Source,
    /// The scan function once loaded, or the load in flight.
    state: RefCell<Option<Promise>>,
}

fn err(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

use super::prop as get;

/// An `Error` for anything thrown (a string, a jQuery rejection, an `Error`).
fn as_error(e: JsValue, context: &str) -> JsValue {
    if e.is_instance_of::<js_sys::Error>() {
        let message = get(&e, "message").as_string().unwrap_or_default();
        return err(&format!("{context}: {message}"));
    }
    let text = e
        .as_string()
        .or_else(|| js_sys::JSON::stringify(&e).ok().map(String::from))
        .unwrap_or_else(|| "unknown error".to_string());
    err(&format!("{context}: {text}"))
}

impl ScannerLoader {
    /// `config` is the install option `scanner` (see the module docs); anything else means
    /// this packaging has no scanner, and every scan rejects saying so.
    pub fn new(config: &JsValue) -> ScannerLoader {
        let source = if let Some(name) = get(config, "module").as_string() {
            Source::Module(name)
        } else if let Some(url) = get(config, "url").as_string() {
            Source::Url(url)
        } else if let Ok(f) = get(config, "load").dyn_into::<Function>() {
            Source::Load(f)
        } else {
            Source::None
        };
        ScannerLoader {
            source,
            state: RefCell::new(None),
        }
    }

    /// A Promise of the scanner's `scan(text, options)` function.
    pub fn scan_function(self: &Rc<Self>) -> Promise {
        if let Some(p) = self.state.borrow().as_ref() {
            return p.clone();
        }
        let me = self.clone();
        let promise = wasm_bindgen_futures::future_to_promise(async move {
            let result = me.load().await;
            if result.is_err() {
                // Not cached: the next call tries again.
                me.state.borrow_mut().take();
            }
            result
        });
        *self.state.borrow_mut() = Some(promise.clone());
        promise
    }

    async fn load(&self) -> Result<JsValue, JsValue> {
        let w: JsValue = web_sys::window().ok_or_else(|| err("no window"))?.into();
        if registered(&w).is_none() {
            match &self.source {
                Source::None => return Err(err(
                    "the scanner module is not available in this packaging (no `scanner` option)",
                )),
                Source::Module(name) => load_module(&w, name).await?,
                Source::Url(url) => load_script(url).await?,
                Source::Load(f) => {
                    let p = f
                        .call0(&JsValue::UNDEFINED)
                        .map_err(|e| as_error(e, "cannot load the scanner module"))?;
                    JsFuture::from(Promise::resolve(&p))
                        .await
                        .map_err(|e| as_error(e, "cannot load the scanner module"))?;
                }
            }
        }
        let entry = registered(&w)
            .ok_or_else(|| err("the scanner module loaded but did not register itself"))?;
        let version = get(&entry, "version").as_string().unwrap_or_default();
        if version != env!("CARGO_PKG_VERSION") {
            return Err(err(&format!(
                "the scanner module is version {version:?}, the auditor {:?}: deploy both from one build",
                env!("CARGO_PKG_VERSION")
            )));
        }
        let load: Function = get(&entry, "load")
            .dyn_into()
            .map_err(|_| err("the scanner module has no load()"))?;
        let p = load
            .call0(&entry)
            .map_err(|e| as_error(e, "the scanner module could not start"))?;
        let scan = JsFuture::from(Promise::resolve(&p))
            .await
            .map_err(|e| as_error(e, "the scanner module could not start"))?;
        if !scan.is_function() {
            return Err(err("the scanner module gave no scan function"));
        }
        Ok(scan)
    }
}

fn registered(w: &JsValue) -> Option<JsValue> {
    let key = js_sys::Symbol::for_(KEY);
    Reflect::get(w, &key).ok().filter(JsValue::is_object)
}

/// `mw.loader.using(name)` (a jQuery promise, adopted by a native one).
async fn load_module(w: &JsValue, name: &str) -> Result<(), JsValue> {
    let loader = get(&get(w, "mw"), "loader");
    let using: Function = get(&loader, "using")
        .dyn_into()
        .map_err(|_| err("cannot load the scanner module: mw.loader is not available"))?;
    let p = using
        .call1(&loader, &JsValue::from_str(name))
        .map_err(|e| as_error(e, &format!("cannot load the scanner module {name}")))?;
    JsFuture::from(Promise::resolve(&p))
        .await
        .map_err(|e| as_error(e, &format!("cannot load the scanner module {name}")))?;
    Ok(())
}

/// A classic `<script>` of a same-origin URL; resolves on `load`, rejects on `error`.
async fn load_script(url: &str) -> Result<(), JsValue> {
    let w = web_sys::window().ok_or_else(|| err("no window"))?;
    let base = w.location().href()?;
    let abs = web_sys::Url::new_with_base(url, &base)
        .map_err(|_| err(&format!("invalid scanner URL {url:?}")))?;
    if abs.origin() != w.location().origin()? {
        return Err(err(&format!(
            "the scanner URL {url:?} is not on this site: refused (nothing is loaded from elsewhere)"
        )));
    }
    let doc = w.document().ok_or_else(|| err("no document"))?;
    let script = doc.create_element("script")?;
    script.set_attribute("src", &abs.href())?;
    script.set_attribute("data-tpr-auditor", "scanner")?;
    let target: web_sys::EventTarget = script.clone().into();
    let done = Promise::new(&mut |resolve, reject| {
        let _ = target.add_event_listener_with_callback("load", &resolve);
        let _ = target.add_event_listener_with_callback("error", &reject);
    });
    let parent = doc
        .query_selector("head")
        .ok()
        .flatten()
        .or_else(|| doc.document_element())
        .ok_or_else(|| err("no document element"))?;
    parent.append_child(&script)?;
    JsFuture::from(done).await.map_err(|_| {
        err(&format!(
            "cannot load the scanner module from {}",
            abs.href()
        ))
    })?;
    Ok(())
}

/// `tprAuditor.scan(text, {lang, name})`: a Promise of the scan report (plain object);
/// rejects with an `Error` for a non-string text, bad options, a text the scanner refuses, or
/// a scanner that cannot be loaded.
pub fn scan_promise(loader: &Rc<ScannerLoader>, text: JsValue, options: JsValue) -> Promise {
    let loader = loader.clone();
    wasm_bindgen_futures::future_to_promise(async move {
        if !text.is_string() {
            return Err(err("scan(text, options): text must be a string"));
        }
        let opts = Object::new();
        if !options.is_undefined() && !options.is_null() {
            if !options.is_object() {
                return Err(err(
                    "scan(text, options): options must be an object {lang, name}",
                ));
            }
            for key in ["lang", "name"] {
                let v = get(&options, key);
                if v.is_undefined() || v.is_null() {
                    continue;
                }
                if !v.is_string() {
                    return Err(err(&format!(
                        "scan(text, options): options.{key} must be a string"
                    )));
                }
                Reflect::set(&opts, &JsValue::from_str(key), &v)?;
            }
        }
        // Relative URLs and parties are relative to this page's wiki.
        if let Some(w) = web_sys::window() {
            if let Ok(href) = w.location().href() {
                Reflect::set(&opts, &JsValue::from_str("wikiUrl"), &href.into())?;
            }
        }
        let scan: Function = JsFuture::from(loader.scan_function())
            .await?
            .dyn_into()
            .map_err(|_| err("the scanner module gave no scan function"))?;
        scan.call2(&JsValue::UNDEFINED, &text, &opts)
            .map_err(|e| as_error(e, "scan failed"))
    })
}

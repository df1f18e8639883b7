//! The WebAssembly API (issue 1/7 item 4): a thin layer over the pure core.
//!
//! Records cross the boundary as plain JS objects (serde-wasm-bindgen's JSON-compatible
//! serializer, so maps become objects, not `Map`s); every failure is a thrown `Error` with a
//! readable message, never a panic: inputs from the page are validated and their errors
//! returned. The panic hook is still installed so that a bug shows a Rust message in the
//! console instead of `unreachable`.
//!
//! Three WebAssembly modules are built from this crate (scripts/build.sh):
//! * the **page module** (default features): [`core`], the page runtime (`page`), the panel,
//!   the consent stores and the extension's helpers;
//! * the **gadget module** (feature `gadget-module`): the page module without the extension's
//!   helpers (`extension`), which only the extension's own pages call: the on-wiki gadget's;
//! * the **scanner module** (feature `scan-module`): only `scan` (`scan.rs`) and [`start`];
//!   everything else here is compiled out, so the linker drops it and the module stays small.
//!   The page module loads it lazily (`page::scanner`) the first time `tprAuditor.scan` or the
//!   panel's Scan view is used.

use serde::Serialize;
use wasm_bindgen::prelude::*;

#[cfg(not(feature = "scan-module"))]
pub mod core;
#[cfg(not(any(feature = "scan-module", feature = "gadget-module")))]
mod extension;
#[cfg(not(feature = "scan-module"))]
mod page;
#[cfg(not(feature = "scan-module"))]
pub mod panel;
#[cfg(feature = "web-scan")]
mod scan;
#[cfg(not(feature = "scan-module"))]
mod scanner;
#[cfg(not(feature = "scan-module"))]
mod store;
#[cfg(not(feature = "scan-module"))]
pub(crate) use self::core::consent_error;
#[cfg(not(feature = "scan-module"))]
pub use self::core::{parse_consent, unpack_modules, Core};
#[cfg(not(any(feature = "scan-module", feature = "gadget-module")))]
pub use extension::RemoteSession;
#[cfg(not(feature = "scan-module"))]
pub use page::{install_page, PageRuntime};

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    crate::urls::set_host_normalizer(Some(browser_url));
}

/// The browser's URL parser, for hosts the core's stub IDNA back end refuses (src/urls.rs):
/// `new URL(raw, base).href`, `None` when it throws. `URL` exists in pages, workers and the
/// extension's service worker alike.
fn browser_url(base: Option<&str>, raw: &str) -> Option<String> {
    let url = match base {
        Some(base) => web_sys::Url::new_with_base(raw, base),
        None => web_sys::Url::new(raw),
    };
    url.ok().map(|u| u.href())
}

/// The crate version, as `tprAuditor.version` reports it.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[cfg_attr(feature = "scan-module", allow(dead_code))]
/// `target[key]`, or `undefined` when it is not there or `target` is not an object.
/// Reflect.get throws on a primitive (no `mw` yet is the common case, asked on every request
/// until the consent store is known), and a thrown exception costs a stack capture: so only
/// objects are asked.
pub(crate) fn prop(target: &JsValue, key: &str) -> JsValue {
    prop_key(target, &JsValue::from_str(key))
}

#[cfg_attr(feature = "scan-module", allow(dead_code))]
/// [`prop`] with the key already a JS string: on the request path a key made per call is a
/// string conversion across the boundary per call.
pub(crate) fn prop_key(target: &JsValue, key: &JsValue) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(target, key).unwrap_or(JsValue::UNDEFINED)
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("cannot convert record to JS: {e}")))
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
}

#[cfg(not(feature = "scan-module"))]
thread_local! {
    /// [`Observation`](crate::events::Observation)'s field names as JS strings, made once.
    static OBSERVATION_KEYS: [JsValue; 15] = [
        "channel", "url", "method", "body", "credentials", "sandbox", "as", "stack", "t",
        "observedBy", "blockedBy", "realm", "path", "enforceable", "canHold",
    ]
    .map(JsValue::from_str);
}

/// A raw observation (the bootstrap's shape, `makeObs` in `src/js/bootstrap.js`), as
/// serde-wasm-bindgen reads it. This runs once per request (twice with the resource-timing
/// sighting): serde-wasm-bindgen makes each field name a JS string again and dispatches per
/// field, a quarter of the sink's time in a profile; here the names are made once and each
/// field is read by type. Only the plain case is read here: every field of its own type, or
/// `null` / `undefined` for an `Option`. Anything else (a missing or `undefined` field that
/// has a non-`None` default, a value of another type, a throwing getter) goes through
/// serde-wasm-bindgen, so what it accepts, defaults and reports is unchanged.
#[cfg(not(feature = "scan-module"))]
fn observation_from_js(
    raw: JsValue,
) -> Result<crate::events::Observation, serde_wasm_bindgen::Error> {
    match plain_observation(&raw) {
        Some(obs) => Ok(obs),
        None => serde_wasm_bindgen::from_value(raw),
    }
}

#[cfg(not(feature = "scan-module"))]
fn plain_observation(raw: &JsValue) -> Option<crate::events::Observation> {
    /// A unit enum by its serde name: serde-wasm-bindgen's own reading of the field's value
    /// (the code the struct's reader uses for it; no second copy in the module).
    fn named<T: serde::de::DeserializeOwned>(v: JsValue) -> Option<T> {
        serde_wasm_bindgen::from_value(v).ok()
    }
    /// An `Option`: `null` and `undefined` are `None` (missing or not).
    fn optional<T>(v: JsValue, read: impl FnOnce(JsValue) -> Option<T>) -> Option<Option<T>> {
        if v.is_null() || v.is_undefined() {
            Some(None)
        } else {
            read(v).map(Some)
        }
    }
    if !raw.is_object() {
        return None;
    }
    OBSERVATION_KEYS.with(|keys| {
        let [channel, url, method, body, credentials, sandbox, preload_as, stack, t, observed_by, blocked_by, realm, path, enforceable, can_hold] =
            keys;
        let get = |key: &JsValue| js_sys::Reflect::get(raw, key).ok();
        let string = |v: JsValue| v.as_string();
        Some(crate::events::Observation {
            channel: named(get(channel)?)?,
            url: get(url)?.as_string()?,
            method: optional(get(method)?, string)?,
            body: optional(get(body)?, string)?,
            credentials: get(credentials)?.as_bool()?,
            sandbox: optional(get(sandbox)?, string)?,
            preload_as: optional(get(preload_as)?, string)?,
            stack: optional(get(stack)?, string)?,
            t: get(t)?.as_f64()?,
            observed_by: named(get(observed_by)?)?,
            blocked_by: optional(get(blocked_by)?, named)?,
            realm: optional(get(realm)?, string)?,
            path: optional(get(path)?, string)?,
            enforceable: get(enforceable)?.as_bool()?,
            can_hold: get(can_hold)?.as_bool()?,
        })
    })
}

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
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("cannot convert record to JS: {e}")))
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
}

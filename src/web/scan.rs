//! `scan(text, {lang, name, wikiUrl})` for the page (issue 7/7 item 6), feature `scanner`.
//!
//! The page wires it as `tprAuditor.scan`. Options are optional: `lang` defaults to `"js"`
//! (`"css"`, and `"ts"` with the feature `scanner-typescript`), `wikiUrl` to the Wikimedia
//! default ([`crate::scanner::DEFAULT_WIKI_URL`]); the page passes `location.href`. Returns the
//! [`ScanReport`](crate::scanner::ScanReport) as a plain object (camelCase: `findings`,
//! `navigations`, `dynamicCode`, `errors`, `partial`); throws an `Error` for input that cannot
//! be scanned at all (too large, nested deeper than the limit, unknown language, bad wiki URL).

use super::from_js;
use crate::scanner::{self, Lang, ScanOptions};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Options {
    lang: Option<String>,
    name: Option<String>,
    wiki_url: Option<String>,
}

/// Scans gadget JavaScript or CSS for the destinations it can contact.
#[wasm_bindgen(js_name = scan)]
pub fn scan(text: &str, options: JsValue) -> Result<JsValue, JsError> {
    let options: Options = if options.is_undefined() || options.is_null() {
        Options::default()
    } else {
        from_js(options, "scan options")?
    };
    let lang = Lang::parse(options.lang.as_deref().unwrap_or("js"))
        .map_err(|e| JsError::new(&e.to_string()))?;
    let mut scan_options = ScanOptions::new(
        lang,
        options
            .wiki_url
            .as_deref()
            .unwrap_or(scanner::DEFAULT_WIKI_URL),
    );
    scan_options.name = options.name;
    let report = scanner::scan(text, &scan_options).map_err(|e| JsError::new(&e.to_string()))?;
    // One JSON text parsed by the engine is much faster than building the objects field by
    // field across the boundary (thousands of findings on a large script).
    let json = serde_json::to_string(&report)
        .map_err(|e| JsError::new(&format!("cannot convert scan report: {e}")))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("cannot parse scan report"))
}

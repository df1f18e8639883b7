//! The core's own WebAssembly API for packagings and tests: [`Core`] (one page's auditor as an
//! opaque handle), `parseConsent`, `unpackModules`. Not part of the scanner module (feature
//! `scan-module`), which exports only `scan`.

use super::{from_js, to_js};
use crate::assess::{Auditor, RequestInput};
use crate::attribution::{self, AttributionContext, BatchIndex, BatchLookup, LoaderLookup};
use crate::carried::PageValues;
use crate::classify::Preset;
use crate::consent::{ConsentError, ConsentList};
use crate::model::{Mode, Source};
use serde::Serialize;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

/// Consent errors become one `Error` whose message lists every error and whose `errors`
/// property holds them as records (kind, line, column, path, message) for the panel.
pub(crate) fn consent_error(errors: &[ConsentError]) -> JsValue {
    let message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let error = js_sys::Error::new(&format!("invalid consent list:\n{message}"));
    let records: Vec<ErrorRecord> = errors.iter().map(ErrorRecord::from).collect();
    if let Ok(list) = to_js(&records) {
        // Setting a property on a fresh Error cannot fail in practice; if it did, the
        // message still carries everything.
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str("errors"), &list);
    }
    error.into()
}

#[derive(Serialize)]
struct ErrorRecord {
    message: String,
    line: usize,
    column: usize,
    path: String,
}

impl From<&ConsentError> for ErrorRecord {
    fn from(e: &ConsentError) -> Self {
        ErrorRecord {
            message: e.to_string(),
            line: e.line,
            column: e.column,
            path: e.path.clone(),
        }
    }
}

/// Parses and validates a consent document; returns it normalised, throws with every error.
#[wasm_bindgen(js_name = parseConsent)]
pub fn parse_consent(text: &str) -> Result<JsValue, JsValue> {
    let list = ConsentList::parse(text).map_err(|errs| consent_error(&errs))?;
    let json: serde_json::Value = serde_json::from_str(&list.to_json())
        .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?;
    to_js(&json).map_err(JsValue::from)
}

/// Expands ResourceLoader's packed module list (`a.b,c|d`).
#[wasm_bindgen(js_name = unpackModules)]
pub fn unpack_modules(packed: &str) -> Result<JsValue, JsError> {
    to_js(&attribution::mediawiki::unpack_modules(packed))
}

#[derive(Default)]
struct Batches(HashMap<String, BatchIndex>);

impl BatchLookup for Batches {
    fn batch(&self, url: &str) -> Option<&BatchIndex> {
        self.0.get(url)
    }
}

#[derive(Default)]
struct Loaders(HashMap<String, Source>);

impl LoaderLookup for Loaders {
    fn loader(&self, script_url: &str) -> Option<Source> {
        self.0.get(script_url).cloned()
    }
}

/// One page's auditor: an opaque handle owned by the page glue.
#[wasm_bindgen]
pub struct Core {
    auditor: Auditor,
    user_name: Option<String>,
    nonce: Option<String>,
    own_prefixes: Vec<String>,
    batches: Batches,
    loaders: Loaders,
}

#[wasm_bindgen]
impl Core {
    /// `values` are the page's `mw.config` values (`wgUserName`, … and `tokens`); `consent`
    /// the stored consent document, or `undefined` for the defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(page_url: &str, values: JsValue, consent: Option<String>) -> Result<Core, JsValue> {
        let values: PageValues = if values.is_undefined() || values.is_null() {
            PageValues::default()
        } else {
            from_js(values, "page values")?
        };
        let consent = match consent {
            Some(text) => ConsentList::parse(&text).map_err(|errs| consent_error(&errs))?,
            None => ConsentList::default(),
        };
        let auditor = Auditor::new(
            page_url,
            &[Preset::wikimedia_production()],
            &values,
            consent,
        )
        .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Core {
            auditor,
            user_name: values.user_name.clone(),
            nonce: None,
            own_prefixes: Vec::new(),
            batches: Batches::default(),
            loaders: Loaders::default(),
        })
    }

    /// Party, site, tool and origin of a URL (relative URLs resolve against the page).
    pub fn classify(&self, url: &str) -> Result<JsValue, JsError> {
        let (_, destination) = self
            .auditor
            .destination(url)
            .map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&destination)
    }

    /// The full assessment (classification, carried data, verdict, decision) of a request
    /// `{url, channel, method?, body?, credentials?, sandbox?, as?}` made by `source`
    /// (a SPEC §8 source record, or `undefined` for the page).
    pub fn assess(&self, request: JsValue, source: JsValue) -> Result<JsValue, JsError> {
        let request: RequestInput = from_js(request, "request")?;
        let source: Source = if source.is_undefined() || source.is_null() {
            Source::page()
        } else {
            from_js(source, "source")?
        };
        let assessment = self
            .auditor
            .assess(&request, &source)
            .map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&assessment)
    }

    /// Replaces the consent list; on error nothing changes and every error is thrown.
    #[wasm_bindgen(js_name = setConsent)]
    pub fn set_consent(&mut self, text: &str) -> Result<(), JsValue> {
        let list = ConsentList::parse(text).map_err(|errs| consent_error(&errs))?;
        self.auditor.set_consent(list);
        Ok(())
    }

    #[wasm_bindgen(js_name = getConsent)]
    pub fn get_consent(&self) -> String {
        self.auditor.consent().to_json()
    }

    /// `json`, `csp`, `declaration` or `table` (SPEC §7 exports).
    #[wasm_bindgen(js_name = exportConsent)]
    pub fn export_consent(&self, format: &str) -> Result<String, JsError> {
        let consent = self.auditor.consent();
        match format {
            "json" => Ok(consent.to_json()),
            "csp" => Ok(consent.to_csp_header_with(&self.auditor.page().first_party_csp_sources())),
            "declaration" => serde_json::to_string_pretty(&consent.per_gadget_declaration(&[]))
                .map_err(|e| JsError::new(&e.to_string())),
            "table" => Ok(consent.to_table()),
            other => Err(JsError::new(&format!(
                "unknown export format {other:?}: expected json, csp, declaration or table"
            ))),
        }
    }

    pub fn mode(&self) -> String {
        self.auditor.mode().as_str().to_string()
    }

    #[wasm_bindgen(js_name = setMode)]
    pub fn set_mode(&mut self, mode: &str) -> Result<(), JsError> {
        let mode = Mode::parse(mode).ok_or_else(|| {
            JsError::new(&format!(
                "unknown mode {mode:?}: expected audit, ask or block"
            ))
        })?;
        self.auditor.set_mode(mode);
        Ok(())
    }

    /// The nonce of genuine `mw-module://` tags (see the bootstrap) and the URL prefixes of
    /// the auditor's own code, whose frames are never a source.
    #[wasm_bindgen(js_name = setOwnCode)]
    pub fn set_own_code(&mut self, nonce: Option<String>, own_prefixes: Vec<String>) {
        self.nonce = nonce;
        self.own_prefixes = own_prefixes;
    }

    /// Indexes a production `load.php` response so positions in it map to modules.
    #[wasm_bindgen(js_name = addBatch)]
    pub fn add_batch(&mut self, url: &str, text: &str) {
        self.batches
            .0
            .insert(url.to_string(), BatchIndex::new(text));
    }

    /// Records which source inserted an external script, for chains.
    #[wasm_bindgen(js_name = setLoader)]
    pub fn set_loader(&mut self, script_url: &str, source: JsValue) -> Result<(), JsError> {
        let source: Source = from_js(source, "source")?;
        self.loaders.0.insert(script_url.to_string(), source);
        Ok(())
    }

    /// Resolves a JS stack (V8 or SpiderMonkey text) to `{source, frames}`.
    #[wasm_bindgen(js_name = resolveStack)]
    pub fn resolve_stack(&self, stack: &str) -> Result<JsValue, JsError> {
        let prefixes: Vec<&str> = self.own_prefixes.iter().map(String::as_str).collect();
        let ctx = AttributionContext {
            page_url: self.auditor.page().url().as_str(),
            user_name: self.user_name.as_deref(),
            own_prefixes: &prefixes,
            tag_nonce: self.nonce.as_deref(),
            batches: &self.batches,
            script_loaders: &self.loaders,
        };
        let (source, frames) = attribution::resolve_stack(stack, &ctx);
        #[derive(Serialize)]
        struct Resolved {
            source: Source,
            frames: Vec<attribution::stack::Frame>,
        }
        to_js(&Resolved { source, frames })
    }
}

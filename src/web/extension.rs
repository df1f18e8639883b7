//! The extension's WebAssembly API (issue 5/7): what its background, options page and
//! fallback core host call. Thin wrappers over `crate::extension` and `crate::events`.
//!
//! * `compileDnr`, `planSync`, `joinSync`, `staleSyncKeys`, `consentBytes`, `mergeConsent`:
//!   pure functions (see `crate::extension`).
//! * `RemoteSession`: the page's event log kept in an extension context when the page's CSP
//!   forbids WebAssembly in the page (SPEC §10): the page forwards the bootstrap's raw
//!   observations, this session turns them into events exactly as the page runtime would
//!   (same `Session`), and the host sends the changed events back for the page API.

use super::{consent_error, from_js, observation_from_js, to_js};
use crate::assess::Auditor;
use crate::carried::PageValues;
use crate::classify::Preset;
use crate::consent::{merge, ConsentList};
use crate::events::{BatchSource, NoBatchSource, Observed, OwnCode, Session};
use crate::extension::{dnr, sync_store};
use serde::Serialize;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// `compileDnr(consentText, wikiDomains, firstId)` → the session rules (an array), `[]`
/// unless the list is in `block` mode. Throws on an invalid list or when the browser's rule
/// limits would be exceeded.
#[wasm_bindgen(js_name = compileDnr)]
pub fn compile_dnr(consent: &str, wikis: Vec<String>, first_id: u32) -> Result<JsValue, JsValue> {
    let list = ConsentList::parse(consent).map_err(|e| consent_error(&e))?;
    let rules = dnr::compile(&list, &wikis, first_id).map_err(|e| error(&e.to_string()))?;
    to_js(&rules).map_err(JsValue::from)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanRecord {
    items: serde_json::Map<String, serde_json::Value>,
    bytes: usize,
    chunks: usize,
}

/// `planSync(text, usedByOthers)` → `{items, bytes, chunks}` to `storage.sync.set` in one
/// call; throws an Error with `quota: true` and the full message when it does not fit.
#[wasm_bindgen(js_name = planSync)]
pub fn plan_sync(text: &str, used_by_others: usize) -> Result<JsValue, JsValue> {
    match sync_store::plan(text, used_by_others, sync_store::SyncLimits::default()) {
        Ok(p) => to_js(&PlanRecord {
            // Inserted, not collected: `Map::from_iter` compiles a sort of its own (size).
            items: p
                .items
                .into_iter()
                .fold(serde_json::Map::new(), |mut m, (k, v)| {
                    m.insert(k, v);
                    m
                }),
            bytes: p.bytes,
            chunks: p.chunks,
        })
        .map_err(JsValue::from),
        Err(e) => {
            let err = js_sys::Error::new(&e.to_string());
            let _ = js_sys::Reflect::set(&err, &"quota".into(), &JsValue::TRUE);
            let _ = js_sys::Reflect::set(&err, &"needed".into(), &(e.needed as f64).into());
            let _ = js_sys::Reflect::set(&err, &"available".into(), &(e.available as f64).into());
            Err(err.into())
        }
    }
}

/// `joinSync(items)` → the stored document text, `null` when nothing is stored; throws when
/// the items are incomplete (still syncing) or not ours.
#[wasm_bindgen(js_name = joinSync)]
pub fn join_sync(items: JsValue) -> Result<Option<String>, JsValue> {
    let map: serde_json::Map<String, serde_json::Value> = from_js(items, "storage items")?;
    match sync_store::join(&map) {
        Ok(text) => Ok(Some(text)),
        Err(sync_store::JoinError::Missing) => Ok(None),
        Err(e) => Err(error(&e.to_string())),
    }
}

/// `staleSyncKeys(keys, chunks)` → the chunk keys an older, longer document left.
#[wasm_bindgen(js_name = staleSyncKeys)]
pub fn stale_sync_keys(keys: Vec<String>, chunks: usize) -> Vec<String> {
    sync_store::stale_keys(keys.iter().map(String::as_str), chunks)
}

/// `consentBytes(items)` → bytes the consent items among `items` take.
#[wasm_bindgen(js_name = consentBytes)]
pub fn consent_bytes(items: JsValue) -> Result<usize, JsValue> {
    let map: serde_json::Map<String, serde_json::Value> = from_js(items, "storage items")?;
    Ok(sync_store::consent_bytes(&map))
}

/// `mergeConsent(local, stored)` → the merged document (SPEC §7 merge across tabs: the newer
/// decision about one destination wins, nothing is dropped). A broken `stored` is replaced.
#[wasm_bindgen(js_name = mergeConsent)]
pub fn merge_consent(local: &str, stored: Option<String>) -> Result<String, JsValue> {
    let local = ConsentList::parse(local).map_err(|e| consent_error(&e))?;
    let merged = match stored.as_deref().map(ConsentList::parse) {
        Some(Ok(remote)) => merge(&local, &remote),
        _ => local,
    };
    Ok(merged.to_json())
}

/// `mergePageSave(local, base?, stored?)` → the document to store for a page's save (see
/// `crate::extension::merge_page_save`): `base` is the stored text the page last adopted
/// (none: it started from the defaults); a broken `stored` is replaced.
#[wasm_bindgen(js_name = mergePageSave)]
pub fn merge_page_save(
    local: &str,
    base: Option<String>,
    stored: Option<String>,
) -> Result<String, JsValue> {
    let local = ConsentList::parse(local).map_err(|e| consent_error(&e))?;
    let base = base
        .as_deref()
        .and_then(|t| ConsentList::parse(t).ok())
        .unwrap_or_default();
    let stored = stored.as_deref().and_then(|t| ConsentList::parse(t).ok());
    Ok(crate::extension::merge_page_save(&local, &base, stored.as_ref()).to_json())
}

/// Batch texts the page sent along (`mw-batch://` inline batches) and the `load.php` URLs the
/// host must fetch.
struct RemoteBatches<'a> {
    inline: &'a HashMap<String, String>,
    to_fetch: Vec<String>,
}

impl BatchSource for RemoteBatches<'_> {
    fn batch_text(&mut self, url: &str) -> Option<String> {
        if let Some(t) = self.inline.get(url) {
            return Some(t.clone());
        }
        if url.starts_with("http://") || url.starts_with("https://") {
            self.to_fetch.push(url.to_string());
        }
        None
    }
}

#[derive(Serialize)]
struct BatchResult {
    /// Changed event ids.
    ids: Vec<u64>,
    /// Batch URLs to fetch and pass to `addBatch`.
    fetch: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObserveResult {
    /// Changed event ids.
    ids: Vec<u64>,
    /// `proceed` or `block`: what the page's hook should do.
    decision: &'static str,
    /// Batch URLs to fetch and pass to `addBatch`.
    fetch: Vec<String>,
    error: Option<String>,
}

/// Event ids as JS numbers (ids stay far below 2^53; `u64` would cross as BigInt).
fn ids(list: Vec<u64>) -> Vec<f64> {
    list.into_iter().map(|id| id as f64).collect()
}

/// One page's event log, kept where WebAssembly may run.
#[wasm_bindgen]
pub struct RemoteSession {
    session: Session,
    inline: HashMap<String, String>,
}

#[wasm_bindgen]
impl RemoteSession {
    /// `new RemoteSession(pageUrl, consentText?, nonce?, ownPrefixes)`; an invalid consent
    /// text runs the strict fallback (`ask` defaults), as the page runtime does.
    #[wasm_bindgen(constructor)]
    pub fn new(
        page_url: &str,
        consent: Option<String>,
        nonce: Option<String>,
        own_prefixes: Vec<String>,
    ) -> Result<RemoteSession, JsValue> {
        let list = consent
            .as_deref()
            .map(|t| ConsentList::parse(t).unwrap_or_else(|_| ConsentList::fallback()))
            .unwrap_or_default();
        let values = PageValues::default();
        let auditor = Auditor::new(page_url, &[Preset::wikimedia_production()], &values, list)
            .map_err(|e| error(&e.to_string()))?;
        let mut session = Session::new(auditor, &values);
        session.set_own_code(OwnCode {
            nonce,
            prefixes: own_prefixes,
            ..OwnCode::default()
        });
        Ok(RemoteSession {
            session,
            inline: HashMap::new(),
        })
    }

    /// Records one raw observation (the bootstrap's shape); `inline` maps `mw-batch://` URLs
    /// to their texts. Returns `{ids, decision, fetch, error}`.
    pub fn observe(&mut self, obs: JsValue, inline: JsValue) -> Result<JsValue, JsValue> {
        if inline.is_object() {
            let more: HashMap<String, String> = from_js(inline, "inline batches")?;
            self.inline.extend(more);
        }
        let obs = observation_from_js(obs)
            .map_err(|e| JsError::new(&format!("invalid observation: {e}")))?;
        let mut batches = RemoteBatches {
            inline: &self.inline,
            to_fetch: Vec::new(),
        };
        let result = self.session.observe(&obs, &mut batches);
        let fetch = batches.to_fetch;
        let out = match result {
            Ok(Observed::New(id)) | Ok(Observed::Updated(id)) => {
                let blocked = self
                    .session
                    .event(id)
                    .is_some_and(|e| e.decision == crate::model::Outcome::Blocked);
                ObserveResult {
                    ids: vec![id],
                    decision: if blocked { "block" } else { "proceed" },
                    fetch,
                    error: None,
                }
            }
            Ok(Observed::Ignored) => ObserveResult {
                ids: vec![],
                decision: "proceed",
                fetch,
                error: None,
            },
            Err(e) => ObserveResult {
                ids: vec![],
                decision: "proceed",
                fetch,
                error: Some(e.to_string()),
            },
        };
        to_js(&out).map_err(JsValue::from)
    }

    /// A batch text arrived (`null`: it could not be read). Returns `{ids, fetch}`: the
    /// changed event ids, and further batch URLs attribution now waits for (fetch them and
    /// pass them here in turn).
    #[wasm_bindgen(js_name = addBatch)]
    pub fn add_batch(&mut self, url: &str, text: Option<String>) -> Result<JsValue, JsValue> {
        let mut batches = RemoteBatches {
            inline: &self.inline,
            to_fetch: Vec::new(),
        };
        let changed = self.session.add_batch(url, text.as_deref(), &mut batches);
        let out = BatchResult {
            ids: changed,
            fetch: batches.to_fetch,
        };
        to_js(&out).map_err(JsValue::from)
    }

    /// The page's `mw.config` values and tokens (the page reads them; `carries` needs them).
    #[wasm_bindgen(js_name = setValues)]
    pub fn set_values(&mut self, values: JsValue) -> Result<(), JsValue> {
        let values: PageValues = from_js(values, "page values")?;
        self.session.set_values(&values);
        Ok(())
    }

    /// The stored consent changed; returns the changed event ids. Invalid text: the strict
    /// fallback, as at start.
    pub fn adopt(&mut self, consent: &str) -> Vec<f64> {
        let list = ConsentList::parse(consent).unwrap_or_else(|_| ConsentList::fallback());
        self.session.auditor_mut().set_consent(list);
        ids(self.session.redecide())
    }

    /// The events with these ids (those still in the log), SPEC §8 records.
    pub fn events(&self, ids: Vec<f64>) -> Result<JsValue, JsValue> {
        let list: Vec<_> = ids
            .iter()
            .filter(|id| **id >= 1.0 && id.fract() == 0.0)
            .filter_map(|id| self.session.event(*id as u64))
            .collect();
        to_js(&list).map_err(JsValue::from)
    }

    #[wasm_bindgen(js_name = allEvents)]
    pub fn all_events(&self) -> Result<JsValue, JsValue> {
        let list: Vec<_> = self.session.events().collect();
        to_js(&list).map_err(JsValue::from)
    }

    pub fn summary(&self) -> Result<JsValue, JsValue> {
        to_js(self.session.summary()).map_err(JsValue::from)
    }

    pub fn mode(&self) -> String {
        self.session.mode().as_str().to_string()
    }

    /// `json`, `csp`, `table` or `declaration` (SPEC §7 exports).
    #[wasm_bindgen(js_name = exportConsent)]
    pub fn export_consent(&self, format: &str) -> Result<String, JsValue> {
        let list = self.session.auditor().consent();
        match format {
            "json" => Ok(list.to_json()),
            "csp" => Ok(list.to_csp_header()),
            "table" => Ok(list.to_table()),
            "declaration" => {
                let seen = crate::events::seen_loads(self.session.events());
                serde_json::to_string_pretty(&list.per_gadget_declaration(&seen))
                    .map_err(|e| error(&e.to_string()))
            }
            other => Err(error(&format!(
                "unknown export format {other:?}: expected json, csp, declaration or table"
            ))),
        }
    }
}

/// `wikimediaDomains()` → the Wikimedia preset's domains, as DNR `initiatorDomains`.
#[wasm_bindgen(js_name = wikimediaDomains)]
pub fn wikimedia_domains() -> Vec<String> {
    dnr::WIKIMEDIA_DOMAINS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The panel for a page whose core runs in the extension (SPEC §10: "the panel still
/// works"): an extension page (`panel.html?tab=ID`) keeps a replica of that page's session,
/// fed with the same raw observations the core host gets (replayed from the page's start,
/// then live), and mounts the live panel on it. The panel's actions write the consent list
/// through `actions` (`{setMode(mode), saveConsent(text)}`, the extension's storage), from
/// where every tab and this replica adopt it. Requests are not held in this mode (the page
/// cannot wait for an answer from outside), so prompts cannot be answered.
#[wasm_bindgen]
pub struct RemotePanel {
    state: std::rc::Rc<PanelState>,
}

struct PanelState {
    session: std::cell::RefCell<Session>,
    inline: std::cell::RefCell<HashMap<String, String>>,
    actions: JsValue,
    panel: std::cell::RefCell<Option<super::panel::Panel>>,
}

struct RemoteHost(std::rc::Weak<PanelState>);

fn call_action(actions: &JsValue, name: &str, arg: &str) {
    let f = js_sys::Reflect::get(actions, &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(f) = f {
        let _ = f.call1(actions, &JsValue::from_str(arg));
    }
}

impl super::panel::PanelHost for RemoteHost {
    fn with_session(&self, f: &mut dyn FnMut(&Session)) {
        if let Some(st) = self.0.upgrade() {
            if let Ok(session) = st.session.try_borrow() {
                f(&session);
            }
        }
    }

    fn set_mode(&self, mode: crate::model::Mode) {
        if let Some(st) = self.0.upgrade() {
            call_action(&st.actions, "setMode", mode.as_str());
        }
    }

    fn add_rule(&self, rule_json: &str) -> Result<(), Vec<crate::consent::ConsentError>> {
        let Some(st) = self.0.upgrade() else {
            return Ok(());
        };
        let mut list = match st.session.try_borrow() {
            Ok(s) => s.auditor().consent().clone(),
            Err(_) => return Ok(()),
        };
        // One rule is validated exactly as a document holding it would be.
        let parsed = ConsentList::parse(&format!("{{\"version\":1,\"rules\":[{rule_json}]}}"))?;
        for rule in parsed.rules {
            list.upsert_rule(rule);
        }
        call_action(&st.actions, "saveConsent", &list.to_json());
        Ok(())
    }

    /// No scan from the extension's own panel page: the Scan view needs the wiki page (its
    /// API, same origin); it says so.
    fn scanner(&self) -> Option<js_sys::Promise> {
        None
    }

    fn fetch_own(&self, _url: &str) -> Option<js_sys::Promise> {
        None
    }

    fn answer(&self, _id: u64, _answer: crate::events::Answer) -> Result<(), String> {
        Err("requests are not held while the core runs in the extension (the wiki's CSP forbids WebAssembly in the page): write a rule instead".to_string())
    }

    fn import(&self, text: &str) -> Result<(), Vec<crate::consent::ConsentError>> {
        let list = ConsentList::parse(text)?;
        if let Some(st) = self.0.upgrade() {
            call_action(&st.actions, "saveConsent", &list.to_json());
        }
        Ok(())
    }

    fn export(&self, format: &str) -> Result<String, String> {
        let st = self.0.upgrade().ok_or("the panel has stopped")?;
        let session = st.session.try_borrow().map_err(|_| "the panel is busy")?;
        let list = session.auditor().consent();
        match format {
            "json" => Ok(list.to_json()),
            "csp" => Ok(list.to_csp_header()),
            "table" => Ok(list.to_table()),
            "declaration" => {
                let seen = crate::events::seen_loads(session.events());
                serde_json::to_string_pretty(&list.per_gadget_declaration(&seen))
                    .map_err(|e| e.to_string())
            }
            "report" => {
                let events: Vec<_> = session.events().collect();
                serde_json::to_string_pretty(&serde_json::json!({
                    "version": env!("CARGO_PKG_VERSION"),
                    "packaging": "extension",
                    "remote": true,
                    "mode": session.mode().as_str(),
                    "events": events,
                    "summary": session.summary(),
                }))
                .map_err(|e| e.to_string())
            }
            other => Err(format!(
                "unknown export format {other:?}: expected json, csp, declaration, table or report"
            )),
        }
    }

    fn consent_problem(&self) -> Option<String> {
        None
    }
}

#[wasm_bindgen]
impl RemotePanel {
    /// `new RemotePanel(pageUrl, consentText?, nonce?, actions, lang?)`: the replica and the
    /// mounted panel (in this extension page's document).
    #[wasm_bindgen(constructor)]
    pub fn new(
        page_url: &str,
        consent: Option<String>,
        nonce: Option<String>,
        actions: JsValue,
        lang: Option<String>,
    ) -> Result<RemotePanel, JsValue> {
        let remote = RemoteSession::new(page_url, consent, nonce, Vec::new())?;
        let state = std::rc::Rc::new(PanelState {
            session: std::cell::RefCell::new(remote.session),
            inline: std::cell::RefCell::new(HashMap::new()),
            actions,
            panel: std::cell::RefCell::new(None),
        });
        let host: std::rc::Rc<dyn super::panel::PanelHost> =
            std::rc::Rc::new(RemoteHost(std::rc::Rc::downgrade(&state)));
        let panel = super::panel::Panel::mount(host, lang)?;
        *state.panel.borrow_mut() = Some(panel);
        Ok(RemotePanel { state })
    }

    fn notify(&self, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        if let Ok(mut panel) = self.state.panel.try_borrow_mut() {
            if let Some(p) = panel.as_mut() {
                p.notify(ids);
            }
        }
    }

    /// Replays / adds one raw observation (as the core host got it).
    pub fn observe(&self, obs: JsValue, inline: JsValue) -> Result<(), JsValue> {
        if inline.is_object() {
            let more: HashMap<String, String> = from_js(inline, "inline batches")?;
            self.state.inline.borrow_mut().extend(more);
        }
        let obs = observation_from_js(obs)
            .map_err(|e| JsError::new(&format!("invalid observation: {e}")))?;
        let ids = {
            let inline = self.state.inline.borrow();
            let mut batches = RemoteBatches {
                inline: &inline,
                to_fetch: Vec::new(),
            };
            let mut session = self.state.session.borrow_mut();
            match session.observe(&obs, &mut batches) {
                Ok(Observed::New(id)) | Ok(Observed::Updated(id)) => vec![id],
                _ => Vec::new(),
            }
        };
        self.notify(&ids);
        Ok(())
    }

    /// A batch text the core host fetched.
    #[wasm_bindgen(js_name = addBatch)]
    pub fn add_batch(&self, url: &str, text: Option<String>) {
        let ids = self
            .state
            .session
            .borrow_mut()
            // The extension's core host fetches every batch and forwards it here.
            .add_batch(url, text.as_deref(), &mut NoBatchSource);
        self.notify(&ids);
    }

    #[wasm_bindgen(js_name = setValues)]
    pub fn set_values(&self, values: JsValue) -> Result<(), JsValue> {
        let values: PageValues = from_js(values, "page values")?;
        self.state.session.borrow_mut().set_values(&values);
        Ok(())
    }

    /// The stored consent changed.
    pub fn adopt(&self, consent: &str) {
        let list = ConsentList::parse(consent).unwrap_or_else(|_| ConsentList::fallback());
        let ids = {
            let mut session = self.state.session.borrow_mut();
            session.auditor_mut().set_consent(list);
            session.redecide()
        };
        self.notify(&ids);
    }

    /// Events in the replica (for checks).
    #[wasm_bindgen(js_name = eventCount)]
    pub fn event_count(&self) -> usize {
        self.state.session.borrow().events().count()
    }
}

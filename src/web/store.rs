//! Where the page keeps the consent list (SPEC §7 "Stored", issue 4/7 item 3).
//!
//! * Logged-in users: the user's preferences on the wiki (`action=options`, key
//!   `userjs-tpr-auditor`), so consent follows the user to every browser. Read at start from
//!   `mw.user.options` (already in the page), written through the API with the CSRF token.
//! * Logged-out and temporary users: `localStorage` under the same key.
//! * A packaging with its own storage (the extension's `storage.sync`) passes an object with
//!   `save(text)`; it merges and persists on its side.
//!
//! Writes are batched (one write per [`SAVE_DELAY_MS`] however many rules changed) and merged
//! with what is stored at that moment ([`crate::consent::merge`]), so two tabs adding rules
//! at once keep both. A stored text that does not parse is never overwritten silently: before
//! the first write over it, it is copied to `userjs-tpr-auditor-broken` (or the same key with
//! `-broken` in localStorage) for recovery.

use crate::consent::{merge_from, ConsentList};
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub const KEY: &str = "userjs-tpr-auditor";
pub const BROKEN_KEY: &str = "userjs-tpr-auditor-broken";
/// Consent changes within this time are written together.
pub const SAVE_DELAY_MS: i32 = 400;

/// Where consent lives for this page.
#[derive(Clone)]
pub enum Backend {
    /// The wiki's user preferences, through `api` (the wiki's `api.php` URL).
    UserOptions {
        api: String,
    },
    LocalStorage,
    /// The packaging's own store object (`save(text)`).
    External(JsValue),
    /// Tests and the demo without storage.
    Memory,
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::UserOptions { .. } => "user-options",
            Backend::LocalStorage => "local-storage",
            Backend::External(_) => "external",
            Backend::Memory => "memory",
        }
    }
}

use super::prop as get;

fn mw_config(key: &str) -> JsValue {
    let mw = get(&js_sys::global(), "mw");
    let config = get(&mw, "config");
    match get(&config, "get").dyn_into::<Function>() {
        Ok(f) => f
            .call1(&config, &JsValue::from_str(key))
            .unwrap_or(JsValue::NULL),
        Err(_) => JsValue::UNDEFINED,
    }
}

/// Picks the backend: `storage` is the packaging's choice (`auto`, `user-options`,
/// `local-storage`, `memory`); `external` a store object, which wins. `None` when the choice
/// needs `mw.config` and the page has none yet (an auditor started at `document_start`): the
/// runtime asks again once `mw` exists.
pub fn choose(storage: Option<&str>, external: Option<JsValue>) -> Option<Backend> {
    if let Some(store) = external {
        return Some(Backend::External(store));
    }
    let storage = storage.unwrap_or("auto");
    let needs_mw = matches!(storage, "auto" | "user-options");
    if needs_mw && !mw_config("wgScriptPath").is_string() {
        return None;
    }
    let logged_in = mw_config("wgUserName").as_string().is_some()
        && mw_config("wgUserIsTemp").as_bool() != Some(true);
    // The user's preferences reach mw.user.options when the `user.options` module runs
    // (inlined in the page but executed by mw.loader, after mw.config is set): not before.
    if logged_in && matches!(storage, "auto" | "user-options") && !user_options_ready() {
        return None;
    }
    let api = match (
        mw_config("wgServer").as_string(),
        mw_config("wgScriptPath").as_string(),
    ) {
        // wgServer may be protocol-relative; the API must be the page's own origin.
        (Some(_), Some(path)) => Some(format!("{path}/api.php")),
        _ => None,
    };
    Some(match (storage, api) {
        ("memory", _) => Backend::Memory,
        ("local-storage", _) => Backend::LocalStorage,
        ("user-options", Some(api)) => Backend::UserOptions { api },
        ("auto", Some(api)) if logged_in => Backend::UserOptions { api },
        ("auto", _) => Backend::LocalStorage,
        _ => Backend::Memory,
    })
}

/// Whether the consent lives in the user's preferences and only ResourceLoader's
/// `user.options` module stands between the page and it: a MediaWiki page (its `mw.config`
/// is set), a logged-in user, the module not run yet. Requests made meanwhile can wait for
/// it (`Session::wait_for_consent`); on a page without `mw` nothing is awaited.
pub fn awaits_user_options(storage: Option<&str>) -> bool {
    matches!(storage.unwrap_or("auto"), "auto" | "user-options")
        && mw_config("wgScriptPath").is_string()
        && mw_config("wgUserName").as_string().is_some()
        && mw_config("wgUserIsTemp").as_bool() != Some(true)
        && !user_options_ready()
}

/// Whether ResourceLoader's `user.options` module has run (`mw.user.options` is filled).
fn user_options_ready() -> bool {
    let mw = get(&js_sys::global(), "mw");
    let loader = get(&mw, "loader");
    match get(&loader, "getState").dyn_into::<Function>() {
        Ok(f) => f
            .call1(&loader, &JsValue::from_str("user.options"))
            .ok()
            .and_then(|v| v.as_string())
            .is_some_and(|s| s == "ready"),
        Err(_) => false,
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    // Access can throw (disabled storage, sandboxed frames): no storage then.
    web_sys::window()?.local_storage().ok().flatten()
}

/// The stored text, if any, read synchronously at start.
pub fn load(backend: &Backend) -> Option<String> {
    match backend {
        Backend::UserOptions { .. } => {
            let mw = get(&js_sys::global(), "mw");
            let options = get(&get(&mw, "user"), "options");
            let f: Function = get(&options, "get").dyn_into().ok()?;
            f.call1(&options, &JsValue::from_str(KEY)).ok()?.as_string()
        }
        Backend::LocalStorage => local_storage()?.get_item(KEY).ok().flatten(),
        Backend::External(store) => {
            let f: Function = get(store, "load").dyn_into().ok()?;
            f.call0(store).ok()?.as_string()
        }
        Backend::Memory => None,
    }
}

/// Stored text now (async for the wiki: another tab may have written since the page loaded).
async fn read_current(backend: &Backend, handle: &JsValue) -> Result<Option<String>, String> {
    match backend {
        Backend::UserOptions { api } => {
            let body = "action=query&meta=userinfo&uiprop=options&format=json&formatversion=2";
            let text = post(handle, api, body).await?;
            let doc: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("API answer: {e}"))?;
            Ok(doc
                .pointer(&format!("/query/userinfo/options/{KEY}"))
                .and_then(|v| v.as_str())
                .map(str::to_string))
        }
        Backend::LocalStorage => Ok(load(backend)),
        // The packaging's store merges on its side (the extension's background merges a
        // page's save three ways against storage.sync), so the page sends its list as is.
        Backend::External(_) | Backend::Memory => Ok(None),
    }
}

async fn write(backend: &Backend, handle: &JsValue, key: &str, text: &str) -> Result<(), String> {
    match backend {
        Backend::UserOptions { api } => {
            let token = csrf_token().ok_or("no CSRF token in the page (mw.user.tokens)")?;
            let body = form(&[
                ("action", "options"),
                ("format", "json"),
                ("formatversion", "2"),
                ("optionname", key),
                ("optionvalue", text),
                ("token", &token),
            ]);
            let answer = post(handle, api, &body).await?;
            let doc: serde_json::Value =
                serde_json::from_str(&answer).map_err(|e| format!("API answer: {e}"))?;
            if doc.get("options").and_then(|v| v.as_str()) == Some("success") {
                Ok(())
            } else {
                // The answer never holds the token; its error code is what matters.
                let code = doc
                    .pointer("/error/code")
                    .and_then(|v| v.as_str())
                    .unwrap_or("unknown");
                Err(format!(
                    "the wiki refused to save the consent list ({code})"
                ))
            }
        }
        Backend::LocalStorage => local_storage()
            .ok_or("localStorage is not available")?
            .set_item(key, text)
            .map_err(|_| "localStorage refused the write (full?)".to_string()),
        Backend::External(store) => {
            let f: Function = get(store, "save")
                .dyn_into()
                .map_err(|_| "the store has no save()".to_string())?;
            f.call1(store, &JsValue::from_str(text))
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        }
        Backend::Memory => Ok(()),
    }
}

fn csrf_token() -> Option<String> {
    let mw = get(&js_sys::global(), "mw");
    let tokens = get(&get(&mw, "user"), "tokens");
    let f: Function = get(&tokens, "get").dyn_into().ok()?;
    let t = f
        .call1(&tokens, &JsValue::from_str("csrfToken"))
        .ok()?
        .as_string()?;
    (t.len() > 2).then_some(t)
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v))))
        .collect::<Vec<_>>()
        .join("&")
}

async fn post(handle: &JsValue, url: &str, body: &str) -> Result<String, String> {
    let f: Function = get(handle, "postForm")
        .dyn_into()
        .map_err(|_| "the bootstrap cannot post".to_string())?;
    let promise: js_sys::Promise = f
        .call2(handle, &JsValue::from_str(url), &JsValue::from_str(body))
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "postForm did not return a Promise".to_string())?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| format!("no answer from {url}"))
}

/// Waits `ms` milliseconds (a timer; the page keeps running).
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// How many read-merge-write rounds one save may take (another tab writing in between).
const SAVE_ROUNDS: usize = 4;

/// Merges `local` with what is stored now and writes the result; returns the merged list
/// (the caller adopts it: rules another tab added appear here too).
///
/// The wiki has no compare-and-set for preferences, so two tabs saving at once may each read
/// the list before the other's write and overwrite it. After writing, the stored list is read
/// again (after a random pause, so two tabs do not stay in step): while it lacks something of
/// ours, merge and write again.
pub async fn save(
    backend: &Backend,
    handle: &JsValue,
    base: Option<&ConsentList>,
    local: &ConsentList,
) -> Result<ConsentList, String> {
    let mut ours = local.clone();
    for round in 0..SAVE_ROUNDS {
        let stored = read_current(backend, handle).await?;
        let merged = match stored.as_deref().map(ConsentList::parse) {
            None => ours.clone(),
            Some(Ok(remote)) => {
                let merged = merge_from(base, &ours, &remote);
                if merged == remote {
                    return Ok(merged); // everything of ours is stored
                }
                merged
            }
            Some(Err(_)) => {
                // Keep the broken text before replacing it (SPEC §7: never lost silently).
                if let Some(text) = stored.as_deref() {
                    write(backend, handle, BROKEN_KEY, text).await?;
                }
                ours.clone()
            }
        };
        write(backend, handle, KEY, &merged.to_json()).await?;
        ours = merged;
        if round + 1 < SAVE_ROUNDS {
            sleep_ms(100 + (js_sys::Math::random() * 300.0) as i32).await;
        }
    }
    Ok(ours)
}

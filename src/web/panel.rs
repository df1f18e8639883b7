//! The live panel (SPEC §9, issue 3/7): a badge and a panel rendered into a closed shadow
//! root. STUB: the interface the page runtime uses; the rendering comes with issue 3/7.
//!
//! The page runtime owns the [`Session`]; the panel never holds events of its own beyond what
//! it shows. It reads through [`PanelHost::with_session`] (only while open, or to update the
//! badge's counts) and acts through the host's methods, which write consent and re-decide.

use crate::consent::ConsentError;
use crate::events::{Answer, Session};
use crate::model::Mode;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// What the panel may read and do; implemented by the page runtime (`web::page`).
pub trait PanelHost {
    /// Calls `f` with the session (events, summary, consent, mode), read-only.
    fn with_session(&self, f: &mut dyn FnMut(&Session));
    fn set_mode(&self, mode: Mode);
    /// Adds or replaces a consent rule (JSON of one rule, SPEC §7), then re-decides.
    fn add_rule(&self, rule_json: &str) -> Result<(), Vec<ConsentError>>;
    /// Answers a held request's prompt.
    fn answer(&self, id: u64, answer: Answer) -> Result<(), String>;
    /// Replaces the consent list with an imported document; nothing changes on error.
    fn import(&self, text: &str) -> Result<(), Vec<ConsentError>>;
    /// `json`, `csp`, `declaration`, `table` (consent) or `report` (the session's events).
    fn export(&self, format: &str) -> Result<String, String>;
    /// Why the stored consent could not be used, if it could not (corrupted storage).
    fn consent_problem(&self) -> Option<String>;
}

/// The mounted badge and panel. Dropping it removes its DOM and listeners.
pub struct Panel {
    _host: Rc<dyn PanelHost>,
}

impl Panel {
    /// Mounts the badge (the panel opens from it). `lang` is the page's user language.
    pub fn mount(host: Rc<dyn PanelHost>, _lang: Option<String>) -> Result<Panel, JsValue> {
        Ok(Panel { _host: host })
    }

    /// Events changed (new or updated ids, in order). Called once per microtask at most; the
    /// panel renders on its own animation frame and only if something visible changed.
    pub fn notify(&mut self, _changed: &[u64]) {}
}

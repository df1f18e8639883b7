//! The live panel (SPEC §9, issue 3/7): a badge on the page and a panel rendered by the core
//! through web-sys into a **closed** shadow root, so the wiki's CSS cannot break it and page
//! scripts cannot reach in. The view model lives in [`crate::panel`] (native tests); this
//! module only draws it and sends the user's actions to the page runtime.
//!
//! The page runtime owns the [`Session`]; the panel never holds events of its own beyond what
//! it shows. It reads through [`PanelHost::with_session`] (to count changed events, and to draw
//! while open) and acts through the host's methods, which write consent and re-decide.
//!
//! Costs: while the panel is closed, [`Panel::notify`] only counts the changed events into the
//! aggregates (a few hash lookups each) and, at most once per animation frame, updates the
//! badge. The panel's DOM is built the first time it opens; while open, changes are drawn once
//! per animation frame and only what changed is written.
//!
//! Safety rules: page and network strings become text nodes or plain attribute values, never
//! markup; nothing is drawn while the session is borrowed (the bootstrap's DOM hooks may call
//! into the runtime); every listener is removed when the panel is dropped.

use crate::consent::ConsentError;
use crate::events::{Answer, Session};
use crate::model::Mode;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;

mod dom;
mod ui;

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
    /// The stored consent text as found (the broken text, when there is a problem), for the
    /// problem box's "edit the text".
    fn stored_consent(&self) -> Option<String> {
        None
    }
    /// The wiki's own `Content-Security-Policy` header for this page, when the packaging
    /// knows it (the extension's background captures it); shown as text in the consent tab.
    fn wiki_csp(&self) -> Option<String> {
        None
    }
    /// A Promise of the scanner module's `scan(text, options)` function, loaded on first use.
    fn scanner(&self) -> Option<js_sys::Promise>;
    /// The auditor's own same-origin read (revalidated; never a page event): a Promise of the
    /// text, or of null on failure.
    fn fetch_own(&self, url: &str) -> Option<js_sys::Promise>;
}

/// [`Panel::render_stats`]: frames drawn while open (count, max, p95 of the last 512, total
/// ms, and the last 512 draw times, oldest first), and `notify` calls, the events they carried
/// and their total ms.
#[derive(Clone, Debug, PartialEq)]
pub struct PanelStats {
    pub frames: u64,
    pub max_ms: f64,
    pub p95_ms: f64,
    pub total_ms: f64,
    pub notify_calls: u64,
    pub notify_events: u64,
    pub notify_ms: f64,
    pub recent_ms: Vec<f64>,
}

/// The mounted badge and panel. Dropping it removes its DOM and listeners.
pub struct Panel {
    ui: Rc<RefCell<ui::Ui>>,
    /// Ids notified while the panel was busy (drawing): counted at the next notify or frame.
    backlog: Rc<RefCell<Vec<u64>>>,
}

impl Panel {
    /// Mounts the badge (the panel opens from it). `lang` is the page's user language; when
    /// `None`, `mw.config`'s `wgUserLanguage` is used once it exists, else the page's `lang`.
    pub fn mount(host: Rc<dyn PanelHost>, lang: Option<String>) -> Result<Panel, JsValue> {
        let backlog = Rc::new(RefCell::new(Vec::new()));
        let ui = ui::Ui::mount(host, lang, backlog.clone())?;
        Ok(Panel { ui, backlog })
    }

    /// Events changed (new or updated ids, in order). Called once per microtask at most; the
    /// panel renders on its own animation frame and only if something visible changed.
    pub fn notify(&mut self, changed: &[u64]) {
        match self.ui.try_borrow_mut() {
            Ok(mut ui) => ui.notify(changed),
            Err(_) => {
                if let Ok(mut b) = self.backlog.try_borrow_mut() {
                    b.extend_from_slice(changed);
                }
            }
        }
    }
}

impl Panel {
    /// Opens the panel and focuses it (the extension's popup button, `tprAuditor.panel.open()`).
    pub fn open(&self) {
        if let Ok(mut ui) = self.ui.try_borrow_mut() {
            ui.open(true);
        }
    }
}

impl Panel {
    /// Debug counters: how long drawing the open panel took per animation frame, and the
    /// time spent counting changed events (`notify`, open or closed).
    pub fn render_stats(&self) -> Option<PanelStats> {
        let ui = self.ui.try_borrow().ok()?;
        let s = &ui.render_stats;
        Some(PanelStats {
            frames: s.frames,
            max_ms: s.max_ms,
            p95_ms: s.p95_ms(),
            total_ms: s.total_ms,
            notify_calls: s.notify_calls,
            notify_events: s.notify_events,
            notify_ms: s.notify_ms,
            recent_ms: s.recent_ms(),
        })
    }
}

impl Drop for Panel {
    fn drop(&mut self) {
        if let Ok(mut ui) = self.ui.try_borrow_mut() {
            ui.unmount();
        }
    }
}

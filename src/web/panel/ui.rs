//! The panel's state and DOM: badge, live region, panel shell, tabs, action menu, details
//! pane. The log grid is in [`logview`], the other views in [`views`].

use super::dom::{
    attr, button_in, clear, data_index, el_in, focus, handler, set_hidden, style, target_el,
    text_in, AttrCell, Listeners, TextCell, R,
};
use super::PanelHost;
use crate::events::Answer;
use crate::model::{Mode, Tier, Verdict};
use crate::panel::aggregate::{Seen, Tracker};
use crate::panel::i18n::Catalog;
use crate::panel::labels;
use crate::panel::rules::{rule_json, For, RuleTarget};
use crate::panel::state::{
    clamp_position, default_placement, PanelState, Placement, Rect, Tab, STORAGE_KEY,
};
use crate::panel::text::row_text;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlSelectElement, KeyboardEvent, Window};

mod logview;
mod scanview;
mod views;

use logview::LogDom;
use scanview::ScanDom;
use views::{ConsentDom, GroupDom, GroupView, PromptsDom, SummaryDom};

/// The panel's CSS (Codex tokens; no URLs).
const CSS: &str = include_str!("panel.css");
/// The grouped and summary views redraw at most this often while events stream (ms).
const VIEWS_EVERY_MS: f64 = 200.0;
/// Frames spent looking for `mw.config` to learn the user language.
const LANG_TRIES: u32 = 600;
/// The wiki's edit controls the panel keeps clear of by default (source editor, its toolbar,
/// CodeMirror, summary, options and buttons; VisualEditor's surface and toolbar).
const EDIT_CONTROLS: [&str; 13] = [
    "#wpTextbox1",
    ".wikiEditor-ui-toolbar",
    ".CodeMirror",
    ".cm-editor",
    "#wpSummary",
    "#wpSummaryWidget",
    ".editOptions",
    ".editButtons",
    "#wpSave",
    "#wpPreview",
    "#wpDiff",
    ".ve-init-target",
    ".ve-ui-toolbar",
];
/// Open-panel frame render times kept for the percentile (a debug counter, not asserted).
const RENDER_SAMPLES: usize = 512;

/// How long drawing the open panel takes per animation frame (`tprAuditor.panel.stats()`).
#[derive(Default)]
pub(super) struct RenderStats {
    pub(super) frames: u64,
    pub(super) max_ms: f64,
    pub(super) total_ms: f64,
    recent: Vec<f64>,
    next: usize,
    /// Time in `notify` (the per-event work, open or closed), its calls and the events they
    /// carried: the closed panel's whole cost per event, measured where it runs.
    pub(super) notify_calls: u64,
    pub(super) notify_events: u64,
    pub(super) notify_ms: f64,
}

impl RenderStats {
    fn add(&mut self, ms: f64) {
        self.frames += 1;
        self.total_ms += ms;
        self.max_ms = self.max_ms.max(ms);
        if self.recent.len() < RENDER_SAMPLES {
            self.recent.push(ms);
        } else {
            self.recent[self.next] = ms;
        }
        self.next = (self.next + 1) % RENDER_SAMPLES;
    }

    /// The draw times of the last frames (at most 512), oldest first.
    pub(super) fn recent_ms(&self) -> Vec<f64> {
        if self.recent.len() < RENDER_SAMPLES {
            return self.recent.clone();
        }
        let (newer, older) = self.recent.split_at(self.next);
        older.iter().chain(newer).copied().collect()
    }

    /// The 95th percentile of the last frames.
    pub(super) fn p95_ms(&self) -> f64 {
        let mut v = self.recent.clone();
        crate::sort::sort_by(&mut v, f64::total_cmp);
        v.get((v.len() * 95 / 100).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    }
}

/// A request blocked since the last announcement.
struct Announce {
    count: u64,
    source: String,
    dest: String,
}

/// The open menu of consent actions.
struct MenuState {
    target: RuleTarget,
    items: Vec<(Verdict, For)>,
    return_focus: Option<Element>,
}

struct MenuDom {
    root: Element,
    state: Option<MenuState>,
}

struct DetailsDom {
    root: Element,
    title: Element,
    close: Element,
    body: Element,
    id: Option<u64>,
    version: Option<u32>,
    actions: Vec<(Verdict, For)>,
    target: Option<RuleTarget>,
    return_focus: Option<Element>,
}

struct Badge {
    el: Element,
    icon: TextCell,
    count: TextCell,
    pending_el: Element,
    pending: TextCell,
    tier: AttrCell,
    label: AttrCell,
    title: AttrCell,
    expanded: AttrCell,
}

/// The panel's DOM, built the first time it opens.
struct PanelDom {
    panel: Element,
    header: Element,
    mode: HtmlSelectElement,
    collapse_label: TextCell,
    collapse_btn: Element,
    problem: Element,
    problem_text: TextCell,
    tabs: Vec<Element>,
    tab_labels: Vec<TextCell>,
    panels: Vec<Element>,
    summary: SummaryDom,
    log: LogDom,
    dest: GroupDom,
    src: GroupDom,
    prompts: PromptsDom,
    consent: ConsentDom,
    scan: ScanDom,
    details: DetailsDom,
    status: TextCell,
}

struct Drag {
    pointer: i32,
    dx: f64,
    dy: f64,
}

pub(in crate::web) struct Ui {
    me: Weak<RefCell<Ui>>,
    host: Rc<dyn PanelHost>,
    backlog: Rc<RefCell<Vec<u64>>>,
    win: Window,
    doc: Document,
    host_el: Element,
    shell: Element,
    badge: Badge,
    live: TextCell,
    menu: MenuDom,
    cat: Catalog,
    lang_tries: u32,
    lang_final: bool,
    theme: &'static str,
    tracker: Tracker,
    state: PanelState,
    p: Option<PanelDom>,
    raf_id: Option<i32>,
    raf_cb: Option<Closure<dyn FnMut(f64)>>,
    /// Watches `<html class>` for Vector's night-mode classes.
    theme_watch: Option<(web_sys::MutationObserver, Closure<dyn FnMut()>)>,
    listeners: Listeners,
    badge_values: (u64, u64, Option<Tier>),
    badge_dirty: bool,
    announce: Option<Announce>,
    /// Ids changed since the last frame (while open).
    changed: Vec<u64>,
    /// The log list must be rebuilt from the session (filters changed, or it was not kept).
    log_stale: bool,
    views_dirty: bool,
    last_views: f64,
    drag: Option<Drag>,
    /// Collapsed by the default placement (no room clear of the edit controls), not by the
    /// user: not stored.
    auto_collapsed: bool,
    /// The user expanded the auto-collapsed panel: the stylesheet's place from then on.
    avoid_off: bool,
    pub(super) render_stats: RenderStats,
    /// Remembered open, mounted before the document had a body: opened at DOMContentLoaded,
    /// when the page's language (and its edit form) can be read.
    open_on_ready: bool,
}

fn perf_now(win: &Window) -> f64 {
    win.performance().map_or(0.0, |p| p.now())
}

/// `mw.config.get('wgUserLanguage')`, when MediaWiki is there.
fn mw_user_language() -> Option<String> {
    let get = |t: &JsValue, k: &str| js_sys::Reflect::get(t, &JsValue::from_str(k)).ok();
    let mw = get(&js_sys::global(), "mw")?;
    let config = get(&mw, "config")?;
    let f: js_sys::Function = get(&config, "get")?.dyn_into().ok()?;
    f.call1(&config, &JsValue::from_str("wgUserLanguage"))
        .ok()?
        .as_string()
        .filter(|s| !s.is_empty() && s.len() < 40)
}

fn storage(win: &Window) -> Option<web_sys::Storage> {
    win.local_storage().ok().flatten()
}

/// A closed shadow root made by the bootstrap's native `attachShadow` (captured before page
/// code ran, so a later patch of `Element.prototype.attachShadow` cannot keep the root);
/// the current `attachShadow` only when no bootstrap is there.
fn closed_shadow(host_el: &web_sys::Element) -> R<web_sys::ShadowRoot> {
    use wasm_bindgen::JsCast;
    let handle = js_sys::Reflect::get(
        &js_sys::global(),
        &js_sys::Symbol::for_("tpr-auditor.bootstrap").into(),
    )
    .unwrap_or(JsValue::UNDEFINED);
    let native = js_sys::Reflect::get(&handle, &JsValue::from_str("attachClosedShadow"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match native {
        Some(f) => Ok(f.call1(&handle, host_el)?.dyn_into()?),
        None => host_el.attach_shadow(&web_sys::ShadowRootInit::new(
            web_sys::ShadowRootMode::Closed,
        )),
    }
}

impl Ui {
    pub(super) fn mount(
        host: Rc<dyn PanelHost>,
        lang: Option<String>,
        backlog: Rc<RefCell<Vec<u64>>>,
    ) -> R<Rc<RefCell<Ui>>> {
        let win = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let doc = win
            .document()
            .ok_or_else(|| JsValue::from_str("no document"))?;
        let host_el = doc.create_element("tpr-auditor")?;
        let root = closed_shadow(&host_el)?;
        // Styles: a constructed sheet (CSSOM, allowed under any style-src), else <style>.
        let adopted = web_sys::CssStyleSheet::new().and_then(|sheet| {
            sheet.replace_sync(CSS)?;
            root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
            Ok(())
        });
        if adopted.is_err() {
            let s = el_in(&doc, &root, "style", "")?;
            s.set_text_content(Some(CSS));
        }
        let shell = el_in(&doc, &root, "div", "shell")?;
        attr(&shell, "data-theme", "auto");
        let mw_lang = if lang.is_none() {
            mw_user_language()
        } else {
            None
        };
        let lang_final = lang.is_some() || mw_lang.is_some();
        let first_lang = lang.or(mw_lang).or_else(|| {
            doc.document_element()
                .and_then(|h| h.get_attribute("lang"))
                .filter(|l| !l.is_empty())
        });
        let cat = Catalog::new(first_lang.as_deref());

        // The badge.
        let b = el_in(&doc, &shell, "button", "badge")?;
        attr(&b, "type", "button");
        attr(&b, "data-act", "badge");
        attr(&b, "aria-keyshortcuts", "Alt+Shift+A");
        attr(&b, "aria-controls", "pnl-panel");
        let ic = el_in(&doc, &b, "span", "tier")?;
        attr(&ic, "aria-hidden", "true");
        let icon = TextCell::new_in(&doc, &ic, labels::tier_icon(None))?;
        let cnt = el_in(&doc, &b, "span", "n")?;
        attr(&cnt, "aria-hidden", "true");
        let count = TextCell::new_in(&doc, &cnt, "0")?;
        let pending_el = el_in(&doc, &b, "span", "pending")?;
        attr(&pending_el, "aria-hidden", "true");
        let pending = TextCell::new_in(&doc, &pending_el, "")?;
        set_hidden(&pending_el, true);
        let badge = Badge {
            icon,
            count,
            pending_el,
            pending,
            tier: AttrCell::new(&b, "data-tier"),
            label: AttrCell::new(&b, "aria-label"),
            title: AttrCell::new(&b, "title"),
            expanded: AttrCell::new(&b, "aria-expanded"),
            el: b,
        };
        // The polite live region (announces newly blocked requests, open or not).
        let live_el = el_in(&doc, &shell, "div", "sr")?;
        attr(&live_el, "role", "status");
        attr(&live_el, "aria-live", "polite");
        attr(&live_el, "data-live", "blocked");
        let live = TextCell::new_in(&doc, &live_el, "")?;
        // The action menu (shared by rows, groups and details).
        let menu_root = el_in(&doc, &shell, "div", "menu")?;
        attr(&menu_root, "role", "menu");
        set_hidden(&menu_root, true);

        let state = PanelState::parse(
            storage(&win)
                .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
                .as_deref(),
        );
        let ui = Rc::new(RefCell::new(Ui {
            me: Weak::new(),
            host,
            backlog,
            win,
            doc,
            host_el,
            shell,
            badge,
            live,
            menu: MenuDom {
                root: menu_root,
                state: None,
            },
            cat,
            lang_tries: 0,
            lang_final,
            theme: "auto",
            tracker: Tracker::new(),
            state,
            p: None,
            raf_id: None,
            raf_cb: None,
            theme_watch: None,
            listeners: Listeners::default(),
            badge_values: (0, 0, None),
            badge_dirty: true,
            announce: None,
            changed: Vec::new(),
            log_stale: true,
            views_dirty: true,
            last_views: f64::NEG_INFINITY,
            drag: None,
            auto_collapsed: false,
            avoid_off: false,
            render_stats: RenderStats::default(),
            open_on_ready: false,
        }));
        {
            let weak = Rc::downgrade(&ui);
            let mut u = ui.borrow_mut();
            u.me = weak.clone();
            let w = weak.clone();
            u.raf_cb = Some(Closure::wrap(Box::new(move |_t: f64| {
                if let Some(rc) = w.upgrade() {
                    if let Ok(mut u) = rc.try_borrow_mut() {
                        u.frame();
                    }
                }
            }) as Box<dyn FnMut(f64)>));
            let win_t: web_sys::EventTarget = u.win.clone().into();
            let doc_t: web_sys::EventTarget = u.doc.clone().into();
            let shell_t: web_sys::EventTarget = u.shell.clone().into();
            u.listeners
                .add(&win_t, "keydown", true, handler(&weak, Ui::on_global_key));
            u.listeners
                .add(&win_t, "resize", false, handler(&weak, Ui::on_resize));
            u.listeners.add(
                &doc_t,
                "DOMContentLoaded",
                false,
                handler(&weak, Ui::on_dom_ready),
            );
            u.listeners
                .add(&win_t, "load", false, handler(&weak, Ui::on_dom_ready));
            u.listeners
                .add(&shell_t, "click", false, handler(&weak, Ui::on_click));
            u.listeners
                .add(&shell_t, "keydown", false, handler(&weak, Ui::on_key));
            u.listeners
                .add(&shell_t, "input", false, handler(&weak, Ui::on_input));
            u.listeners
                .add(&shell_t, "change", false, handler(&weak, Ui::on_change));
            // Vector switches night mode by changing classes on <html>: follow it.
            let w = weak.clone();
            let on_class = Closure::wrap(Box::new(move || {
                if let Some(rc) = w.upgrade() {
                    if let Ok(mut u) = rc.try_borrow_mut() {
                        u.sync_theme();
                    }
                }
            }) as Box<dyn FnMut()>);
            if let (Ok(obs), Some(html)) = (
                web_sys::MutationObserver::new(on_class.as_ref().unchecked_ref()),
                u.doc.document_element(),
            ) {
                let init = web_sys::MutationObserverInit::new();
                init.set_attributes(true);
                init.set_attribute_filter(&js_sys::Array::of1(&JsValue::from_str("class")));
                if obs.observe_with_options(&html, &init).is_ok() {
                    u.theme_watch = Some((obs, on_class));
                }
            }
            u.ensure_attached();
            u.sync_theme();
            u.initial_count();
            if u.state.open {
                if u.doc.body().is_some() {
                    u.open(false);
                } else {
                    u.open_on_ready = true;
                }
            }
            u.schedule();
        }
        Ok(ui)
    }

    pub(super) fn unmount(&mut self) {
        if let Some(id) = self.raf_id.take() {
            let _ = self.win.cancel_animation_frame(id);
        }
        if let Some((obs, _)) = self.theme_watch.take() {
            obs.disconnect();
        }
        self.host_el.remove();
        self.listeners = Listeners::default();
    }

    /// Attaches the host element to the page once there is a body.
    fn ensure_attached(&mut self) {
        if self.host_el.is_connected() {
            return;
        }
        if let Some(body) = self.doc.body() {
            let _ = body.append_child(&self.host_el);
        }
    }

    /// `DOMContentLoaded` and `load`: attach, and place an open panel again (the edit form,
    /// or its toolbar, may exist only now).
    fn on_dom_ready(&mut self, _ev: &web_sys::Event) {
        self.ensure_attached();
        if std::mem::take(&mut self.open_on_ready) && self.state.open {
            if !self.lang_final && self.p.is_none() {
                let lang = mw_user_language().or_else(|| {
                    self.doc
                        .document_element()
                        .and_then(|h| h.get_attribute("lang"))
                        .filter(|l| !l.is_empty())
                });
                if let Some(l) = lang {
                    if Catalog::new(Some(&l)).lang() != self.cat.lang() {
                        self.cat = Catalog::new(Some(&l));
                    }
                }
            }
            self.open(false);
        } else if self.state.open {
            self.apply_position();
        }
        self.badge_dirty = true;
        self.schedule();
    }

    fn schedule(&mut self) {
        if self.raf_id.is_some() {
            return;
        }
        if let Some(cb) = &self.raf_cb {
            if let Ok(id) = self
                .win
                .request_animation_frame(cb.as_ref().unchecked_ref())
            {
                self.raf_id = Some(id);
            }
        }
    }

    /// Counts what the session holds already (events recorded before the panel mounted).
    fn initial_count(&mut self) {
        let Ui { host, tracker, .. } = self;
        let mut values = (0, 0, None);
        host.with_session(&mut |s| {
            for e in s.events() {
                tracker.observe(e);
            }
            let m = s.summary();
            values = (m.unconsented + m.blocked, m.pending, m.worst_tier);
        });
        self.badge_values = values;
        self.badge_dirty = true;
    }

    /// Events changed: count them now (the ring may drop them before the next frame), draw
    /// at the next frame.
    pub(super) fn notify(&mut self, ids: &[u64]) {
        let t = perf_now(&self.win);
        let events = self.notify_inner(ids);
        let s = &mut self.render_stats;
        s.notify_calls += 1;
        s.notify_events += events as u64;
        s.notify_ms += perf_now(&self.win) - t;
    }

    /// [`Ui::notify`]'s work; returns how many event ids it looked at.
    fn notify_inner(&mut self, ids: &[u64]) -> usize {
        let mut ids = ids.to_vec();
        if let Ok(mut b) = self.backlog.try_borrow_mut() {
            if !b.is_empty() {
                let mut all = std::mem::take(&mut *b);
                all.extend(ids);
                ids = all;
            }
        }
        let Ui {
            host,
            tracker,
            cat,
            announce,
            ..
        } = self;
        let mut values = self.badge_values;
        let mut newly_blocked: u64 = 0;
        let mut last: Option<(String, String)> = None;
        host.with_session(&mut |s| {
            for &id in &ids {
                if let Some(e) = s.event(id) {
                    match tracker.observe(e) {
                        Seen::New { blocked: true }
                        | Seen::Changed {
                            newly_blocked: true,
                        } => {
                            newly_blocked += 1;
                            last =
                                Some((labels::source_label(cat, &e.source), row_text(&e.origin)));
                        }
                        _ => {}
                    }
                }
            }
            if let Some(first) = s.events().next() {
                tracker.forget_before(first.id);
            }
            let m = s.summary();
            values = (m.unconsented + m.blocked, m.pending, m.worst_tier);
        });
        if let Some((source, dest)) = last {
            let count = announce.as_ref().map_or(0, |a| a.count) + newly_blocked;
            *announce = Some(Announce {
                count,
                source,
                dest,
            });
        }
        if values != self.badge_values {
            self.badge_values = values;
            self.badge_dirty = true;
        }
        let open = self.state.open && self.p.is_some();
        if open {
            self.changed.extend_from_slice(&ids);
            self.views_dirty = true;
        } else {
            self.log_stale = true;
            self.views_dirty = true;
        }
        if self.badge_dirty || self.announce.is_some() || open {
            self.schedule();
        }
        ids.len()
    }

    /// One animation frame: the badge, announcements, and the open panel's visible parts.
    fn frame(&mut self) {
        self.raf_id = None;
        let backlog = self
            .backlog
            .try_borrow()
            .map(|b| !b.is_empty())
            .unwrap_or(false);
        if backlog {
            self.notify(&[]);
        }
        if !self.lang_final && self.lang_tries < LANG_TRIES {
            self.lang_tries += 1;
            if let Some(l) = mw_user_language() {
                self.lang_final = true;
                if self.p.is_none() && Catalog::new(Some(&l)).lang() != self.cat.lang() {
                    self.cat = Catalog::new(Some(&l));
                    self.badge_dirty = true;
                }
            }
        }
        if self.badge_dirty {
            self.badge_dirty = false;
            self.render_badge();
        }
        if let Some(a) = self.announce.take() {
            self.render_live(&a);
        }
        if self.state.open && self.p.is_some() {
            let t = perf_now(&self.win);
            self.sync_theme();
            self.render_open();
            let ms = perf_now(&self.win) - t;
            self.render_stats.add(ms);
        }
    }

    fn sync_theme(&mut self) {
        let theme = match self.doc.document_element() {
            Some(h) => {
                let c = h.class_list();
                if c.contains("skin-theme-clientpref-night") {
                    "night"
                } else if c.contains("skin-theme-clientpref-day") {
                    "day"
                } else {
                    "auto"
                }
            }
            None => "auto",
        };
        if theme != self.theme {
            self.theme = theme;
            attr(&self.shell, "data-theme", theme);
        }
    }

    fn render_badge(&mut self) {
        let (flagged, pending, worst) = self.badge_values;
        let b = &mut self.badge;
        b.icon.set(labels::tier_icon(worst));
        b.count.set(&flagged.to_string());
        b.tier.set(worst.map_or("none", Tier::as_str));
        let mut label = self.cat.fmt(
            "tpr-badge-label",
            &[&flagged.to_string(), &labels::tier_name(&self.cat, worst)],
        );
        if pending > 0 {
            label.push(' ');
            label.push_str(&self.cat.fmt("tpr-badge-pending", &[&pending.to_string()]));
            // Only a mark: the count is in the name and tooltip. A visible number here would
            // not be part of the name in order (WCAG 2.5.3 label in name; axe-core checks it).
            b.pending.set("?");
        }
        set_hidden(&b.pending_el, pending == 0);
        b.label.set(&label);
        b.title.set(&label);
        b.expanded
            .set(if self.state.open { "true" } else { "false" });
    }

    fn render_live(&mut self, a: &Announce) {
        let mut msg = if a.count <= 1 {
            self.cat.fmt("tpr-live-blocked", &[&a.source, &a.dest])
        } else {
            self.cat.fmt(
                "tpr-live-blocked-many",
                &[&a.count.to_string(), &a.source, &a.dest],
            )
        };
        // The same text again would not be announced: make it differ.
        if msg == self.live.get() {
            msg.push('\u{00A0}');
        }
        self.live.set(&msg);
    }

    fn save_state(&self) {
        if let Some(s) = storage(&self.win) {
            let _ = s.set_item(STORAGE_KEY, &self.state.to_json());
        }
    }

    fn status(&mut self, text: &str) {
        if let Some(p) = self.p.as_mut() {
            p.status.set(text);
        }
    }

    // --- open, close, collapse, move ------------------------------------------------------

    fn toggle(&mut self) {
        if self.state.open {
            self.close(true);
        } else {
            self.open(true);
        }
    }

    pub(super) fn open(&mut self, give_focus: bool) {
        self.open_on_ready = false;
        self.ensure_attached();
        if self.p.is_none() {
            match self.build() {
                Ok(p) => self.p = Some(p),
                Err(_) => return,
            }
            let weak = self.me.clone();
            if let Some(p) = &self.p {
                let header: web_sys::EventTarget = p.header.clone().into();
                let viewport: web_sys::EventTarget = p.log.viewport.clone().into();
                self.listeners.add(
                    &header,
                    "pointerdown",
                    false,
                    handler(&weak, Ui::on_drag_start),
                );
                self.listeners.add(
                    &header,
                    "pointermove",
                    false,
                    handler(&weak, Ui::on_drag_move),
                );
                self.listeners
                    .add(&header, "pointerup", false, handler(&weak, Ui::on_drag_end));
                self.listeners.add(
                    &header,
                    "pointercancel",
                    false,
                    handler(&weak, Ui::on_drag_end),
                );
                self.listeners
                    .add(&viewport, "scroll", false, handler(&weak, Ui::on_scroll));
            }
        }
        self.state.open = true;
        self.log_stale = true;
        self.views_dirty = true;
        self.last_views = f64::NEG_INFINITY;
        self.changed.clear();
        if let Some(p) = &self.p {
            set_hidden(&p.panel, false);
        }
        self.apply_collapsed();
        self.apply_position();
        self.show_tab(self.state.tab, false);
        self.badge_dirty = true;
        self.save_state();
        self.sync_theme();
        self.render_open();
        if give_focus {
            if let Some(p) = &self.p {
                focus(&p.tabs[self.state.tab.index()]);
            }
        }
        self.schedule();
    }

    fn close(&mut self, focus_badge: bool) {
        self.close_menu(false);
        self.close_details(false);
        self.state.open = false;
        if let Some(p) = &self.p {
            set_hidden(&p.panel, true);
        }
        self.badge_dirty = true;
        self.save_state();
        if focus_badge {
            focus(&self.badge.el);
        }
        self.schedule();
    }

    fn is_collapsed(&self) -> bool {
        self.state.collapsed || self.auto_collapsed
    }

    fn apply_collapsed(&mut self) {
        let collapsed = self.is_collapsed();
        let Some(p) = self.p.as_mut() else { return };
        let _ = p
            .panel
            .class_list()
            .toggle_with_force("collapsed", collapsed);
        p.collapse_label.set(&self.cat.msg(if collapsed {
            "tpr-panel-expand"
        } else {
            "tpr-panel-collapse"
        }));
        attr(
            &p.collapse_btn,
            "aria-expanded",
            if collapsed { "false" } else { "true" },
        );
    }

    fn viewport_size(&self) -> (f64, f64) {
        let w = self
            .win
            .inner_width()
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(1024.0);
        let h = self
            .win
            .inner_height()
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(768.0);
        (w, h)
    }

    /// The boxes of the wiki's edit controls on screen, and the badge's.
    fn controls_to_avoid(&self) -> Vec<Rect> {
        let mut out = Vec::new();
        let rect = |e: &Element| {
            let r = e.get_bounding_client_rect();
            Rect {
                x: r.left(),
                y: r.top(),
                w: r.width(),
                h: r.height(),
            }
        };
        // The first match of each (a page has one edit form).
        for sel in EDIT_CONTROLS {
            if let Ok(Some(e)) = self.doc.query_selector(sel) {
                out.push(rect(&e));
            }
        }
        if !out.is_empty() {
            out.push(rect(&self.badge.el));
        }
        out
    }

    fn apply_position(&mut self) {
        let (vw, vh) = self.viewport_size();
        let placement = match (self.state.x, self.state.y, self.avoid_off) {
            (Some(_), Some(_), _) | (_, _, true) => None,
            _ => Some(default_placement(&self.controls_to_avoid(), vw, vh)),
        };
        if let Some(placement) = placement {
            let auto = matches!(placement, Placement::Collapsed(_));
            if auto != self.auto_collapsed {
                self.auto_collapsed = auto;
                self.apply_collapsed();
            }
        }
        let Some(p) = &self.p else { return };
        if let Some(Placement::At(b) | Placement::Collapsed(b)) = placement {
            style(&p.panel, "left", &format!("{}px", b.x));
            style(&p.panel, "top", &format!("{}px", b.y));
            style(&p.panel, "width", &format!("{}px", b.w));
            let h = matches!(placement, Some(Placement::At(_)));
            style(
                &p.panel,
                "height",
                &if h {
                    format!("{}px", b.h)
                } else {
                    String::new()
                },
            );
            let _ = p.panel.class_list().add_1("moved");
            return;
        }
        match (self.state.x, self.state.y) {
            (Some(x), Some(y)) => {
                // Where the user put it, at full size (a size fitted by the default placement
                // is not remembered, so the place is kept the same across reloads).
                style(&p.panel, "width", "");
                style(&p.panel, "height", "");
                let rect = p.panel.get_bounding_client_rect();
                let (x, y) = clamp_position(x, y, rect.width(), rect.height(), vw, vh);
                style(&p.panel, "left", &format!("{x}px"));
                style(&p.panel, "top", &format!("{y}px"));
                let _ = p.panel.class_list().add_1("moved");
            }
            _ => {
                for prop in ["left", "top", "width", "height"] {
                    style(&p.panel, prop, "");
                }
                let _ = p.panel.class_list().remove_1("moved");
            }
        }
    }

    fn on_resize(&mut self, _ev: &web_sys::Event) {
        if self.state.open {
            self.apply_position();
            self.schedule();
        }
    }

    fn on_drag_start(&mut self, ev: &web_sys::Event) {
        let Some(pe) = ev.dyn_ref::<web_sys::PointerEvent>() else {
            return;
        };
        let Some(t) = target_el(ev) else { return };
        if matches!(t.closest("button, select, input, label"), Ok(Some(_))) || pe.button() != 0 {
            return;
        }
        let Some(p) = &self.p else { return };
        let rect = p.panel.get_bounding_client_rect();
        self.drag = Some(Drag {
            pointer: pe.pointer_id(),
            dx: pe.client_x() as f64 - rect.left(),
            dy: pe.client_y() as f64 - rect.top(),
        });
        let _ = p.header.set_pointer_capture(pe.pointer_id());
        ev.prevent_default();
    }

    fn on_drag_move(&mut self, ev: &web_sys::Event) {
        let Some(pe) = ev.dyn_ref::<web_sys::PointerEvent>() else {
            return;
        };
        let Some(d) = &self.drag else { return };
        if d.pointer != pe.pointer_id() {
            return;
        }
        self.state.x = Some(pe.client_x() as f64 - d.dx);
        self.state.y = Some(pe.client_y() as f64 - d.dy);
        self.apply_position();
        // Remember where it is shown (kept inside the window), not where the pointer went.
        if let Some(p) = &self.p {
            let r = p.panel.get_bounding_client_rect();
            self.state.x = Some(r.left());
            self.state.y = Some(r.top());
        }
    }

    fn on_drag_end(&mut self, ev: &web_sys::Event) {
        if self.drag.take().is_some() {
            if let (Some(pe), Some(p)) = (ev.dyn_ref::<web_sys::PointerEvent>(), &self.p) {
                let _ = p.header.release_pointer_capture(pe.pointer_id());
            }
            self.save_state();
        }
    }

    // --- tabs ---------------------------------------------------------------------------

    fn show_tab(&mut self, tab: Tab, give_focus: bool) {
        let changed = self.state.tab != tab;
        self.state.tab = tab;
        let Some(p) = &self.p else { return };
        for (i, t) in Tab::ALL.iter().enumerate() {
            let selected = *t == tab;
            attr(
                &p.tabs[i],
                "aria-selected",
                if selected { "true" } else { "false" },
            );
            attr(&p.tabs[i], "tabindex", if selected { "0" } else { "-1" });
            set_hidden(&p.panels[i], !selected);
        }
        if give_focus {
            focus(&p.tabs[tab.index()]);
        }
        if changed {
            self.save_state();
            self.log_stale = true;
            self.views_dirty = true;
            self.last_views = f64::NEG_INFINITY;
            self.close_menu(false);
            self.render_open();
        }
    }

    // --- drawing the open panel ---------------------------------------------------------

    fn render_open(&mut self) {
        if self.p.is_none() {
            return;
        }
        let now = perf_now(&self.win);
        let mut mode = Mode::Audit;
        let mut pending = 0;
        self.host.with_session(&mut |s| {
            mode = s.mode();
            // The questions listed: held requests and the queued questions of requests that
            // could not wait (a beacon's), which the summary counts as blocked.
            pending = s.prompts().count() as u64;
        });
        let problem = self.host.consent_problem();
        let cat = &self.cat;
        if let Some(p) = self.p.as_mut() {
            if p.mode.value() != mode.as_str() {
                p.mode.set_value(mode.as_str());
            }
            let i = Tab::Prompts.index();
            p.tab_labels[i].set(&cat.fmt("tpr-tab-prompts", &[&pending.to_string()]));
            match &problem {
                Some(m) => {
                    p.problem_text
                        .set(&cat.fmt("tpr-consent-problem", &[&row_text(m)]));
                    set_hidden(&p.problem, false);
                }
                None => set_hidden(&p.problem, true),
            }
        }
        if self.is_collapsed() {
            // Only the title bar shows: draw the views when it opens again.
            self.changed.clear();
            self.log_stale = true;
            self.views_dirty = true;
            return;
        }
        match self.state.tab {
            Tab::Log => self.render_log(),
            tab => {
                if self.views_dirty {
                    if now - self.last_views >= VIEWS_EVERY_MS {
                        self.views_dirty = false;
                        self.last_views = now;
                        self.changed.clear();
                        match tab {
                            Tab::Summary => self.render_summary(),
                            Tab::Destinations => self.render_groups(GroupView::Destinations),
                            Tab::Sources => self.render_groups(GroupView::Sources),
                            Tab::Prompts => self.render_prompts(mode),
                            Tab::Consent => self.render_consent(),
                            _ => {}
                        }
                    } else {
                        self.schedule();
                    }
                }
            }
        }
        self.refresh_details();
    }

    // --- events ---------------------------------------------------------------------------

    fn on_global_key(&mut self, ev: &web_sys::Event) {
        let Some(k) = ev.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        if k.alt_key() && k.shift_key() && !k.ctrl_key() && !k.meta_key() && k.code() == "KeyA" {
            ev.prevent_default();
            self.toggle();
        }
    }

    fn on_key(&mut self, ev: &web_sys::Event) {
        let Some(k) = ev.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        let Some(t) = target_el(ev) else { return };
        let key = k.key();
        if key == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            if self.menu.state.is_some() {
                self.close_menu(true);
            } else if self.p.as_ref().is_some_and(|p| p.details.id.is_some()) {
                self.close_details(true);
            } else if self.state.open {
                self.close(true);
            }
            return;
        }
        if matches!(t.closest(".menu"), Ok(Some(_))) {
            self.menu_key(&key, ev);
            return;
        }
        if t.get_attribute("role").as_deref() == Some("tab") {
            let delta = match key.as_str() {
                "ArrowRight" => Some(1),
                "ArrowLeft" => Some(-1),
                "Home" => Some(-(self.state.tab.index() as isize)),
                "End" => Some((Tab::ALL.len() - 1 - self.state.tab.index()) as isize),
                _ => None,
            };
            if let Some(d) = delta {
                ev.prevent_default();
                let tab = self.state.tab.step(d);
                self.show_tab(tab, true);
            }
            return;
        }
        if t.get_attribute("data-grid").is_some() {
            self.grid_key(k, ev);
        }
    }

    fn on_input(&mut self, ev: &web_sys::Event) {
        let Some(t) = target_el(ev) else { return };
        if t.get_attribute("data-filter").as_deref() == Some("text") {
            self.filters_changed();
        }
    }

    fn on_change(&mut self, ev: &web_sys::Event) {
        let Some(t) = target_el(ev) else { return };
        if t.get_attribute("data-act").as_deref() == Some("mode") {
            if let Some(sel) = t.dyn_ref::<HtmlSelectElement>() {
                if let Some(mode) = Mode::parse(&sel.value()) {
                    self.host.set_mode(mode);
                    self.views_dirty = true;
                    self.schedule();
                }
            }
            return;
        }
        if t.get_attribute("data-filter").is_some() {
            self.filters_changed();
        }
    }

    fn on_click(&mut self, ev: &web_sys::Event) {
        let Some(t) = target_el(ev) else { return };
        if self.menu.state.is_some() && !matches!(t.closest(".menu"), Ok(Some(_))) {
            self.close_menu(false);
        }
        let act_el = match t.closest("[data-act]") {
            Ok(Some(a)) => a,
            _ => {
                if let Ok(Some(row)) = t.closest(".row") {
                    self.row_clicked(&row);
                }
                return;
            }
        };
        let act = act_el.get_attribute("data-act").unwrap_or_default();
        let i = data_index(&act_el, "data-i");
        match act.as_str() {
            "badge" => self.toggle(),
            "close" => self.close(true),
            "collapse" => {
                if self.auto_collapsed {
                    // Expanding what the default placement collapsed: the user's choice.
                    self.auto_collapsed = false;
                    self.avoid_off = true;
                    self.state.collapsed = false;
                    self.apply_position();
                } else {
                    self.state.collapsed = !self.state.collapsed;
                }
                self.apply_collapsed();
                self.save_state();
                if !self.is_collapsed() {
                    self.last_views = f64::NEG_INFINITY;
                    self.render_open();
                }
            }
            "tab" => {
                if let Some(tab) = i.and_then(|i| Tab::ALL.get(i)) {
                    self.show_tab(*tab, false);
                }
            }
            "row-menu" => {
                if let Ok(Some(row)) = act_el.closest(".row") {
                    self.row_menu(&row, &act_el);
                }
            }
            "menu" => {
                if let Some(i) = i {
                    self.menu_pick(i);
                }
            }
            "details-close" => self.close_details(true),
            "details-act" => {
                if let Some(i) = i {
                    self.details_action(i);
                }
            }
            "group-toggle" | "group-menu" | "group-details" => {
                let view = if act_el.get_attribute("data-v").as_deref() == Some("s") {
                    GroupView::Sources
                } else {
                    GroupView::Destinations
                };
                if let Some(i) = i {
                    self.group_action(view, &act, i, &act_el);
                }
            }
            "prompt" => {
                let answer = act_el
                    .get_attribute("data-a")
                    .as_deref()
                    .and_then(Answer::parse);
                if let (Some(i), Some(a)) = (i, answer) {
                    self.prompt_answer(i, a);
                }
            }
            "export" => {
                let how = act_el.get_attribute("data-m").unwrap_or_default();
                if let Some(i) = i {
                    self.export(i, &how);
                }
            }
            "import" => self.import(),
            "consent-restore" => self.restore_defaults(),
            "consent-edit" => self.edit_stored(),
            "scan-start" => self.start_scan(),
            "filter-clear" => self.clear_filters(),
            _ => {}
        }
    }

    // --- consent actions ----------------------------------------------------------------

    /// The problem box's "restore the defaults": the default list replaces the broken one
    /// (saved; the broken text was copied aside by the store before the write).
    fn restore_defaults(&mut self) {
        let json = crate::consent::ConsentList::default().to_json();
        let msg = match self.host.import(&json) {
            Ok(()) => self.cat.msg("tpr-consent-restored"),
            Err(errors) => {
                let reason = errors
                    .iter()
                    .map(|e| e.kind.to_string())
                    .collect::<Vec<_>>();
                self.cat
                    .fmt("tpr-action-failed", &[&row_text(&reason.join("; "))])
            }
        };
        self.status(&msg);
        self.views_dirty = true;
        self.schedule();
    }

    /// The problem box's "edit the text": the stored text goes into the consent tab's import
    /// box, which shows every error with its position when imported.
    fn edit_stored(&mut self) {
        let text = self.host.stored_consent().unwrap_or_default();
        if let Some(p) = self.p.as_ref() {
            p.consent.input.set_value(&text);
        }
        self.show_tab(Tab::Consent, false);
        if let Some(p) = self.p.as_ref() {
            focus(&p.consent.input);
        }
    }

    /// Writes the rule of an action; says what happened in the status line.
    fn apply_rule(&mut self, target: &RuleTarget, decision: Verdict, who: For) {
        let added = js_sys::Date::new_0().to_iso_string().as_string();
        let Some(json) = rule_json(target, decision, who, added.as_deref()) else {
            return;
        };
        let label = labels::action_label(&self.cat, target, decision, who);
        match self.host.add_rule(&json) {
            Ok(()) => {
                let msg = self.cat.fmt("tpr-action-done", &[&label]);
                self.status(&msg);
            }
            Err(errors) => {
                let reason = errors
                    .iter()
                    .map(|e| e.kind.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                let msg = self.cat.fmt("tpr-action-failed", &[&row_text(&reason)]);
                self.status(&msg);
            }
        }
        self.views_dirty = true;
        self.schedule();
    }

    /// The actions a target offers: for its source (when it has a scope) and for everyone.
    fn actions_for(target: &RuleTarget) -> Vec<(Verdict, For)> {
        let mut v = Vec::new();
        if target.has_scope() {
            v.push((Verdict::Allow, For::ThisSource));
        }
        v.push((Verdict::Allow, For::Everyone));
        if target.has_scope() {
            v.push((Verdict::Block, For::ThisSource));
        }
        v.push((Verdict::Block, For::Everyone));
        v
    }

    fn open_menu(&mut self, target: RuleTarget, anchor: &Element) {
        self.close_menu(false);
        let items = Ui::actions_for(&target);
        let root = self.menu.root.clone();
        clear(&root);
        attr(&root, "aria-label", &self.cat.msg("tpr-menu-label"));
        let mut first = None;
        for (i, (v, who)) in items.iter().enumerate() {
            let label = labels::action_label(&self.cat, &target, *v, *who);
            let class = if *v == Verdict::Block {
                "destructive"
            } else {
                "progressive"
            };
            if let Ok(b) = button_in(&self.doc, &root, class, "menu", &label) {
                attr(&b, "role", "menuitem");
                attr(&b, "data-i", &i.to_string());
                attr(&b, "tabindex", "-1");
                first.get_or_insert(b);
            }
        }
        set_hidden(&root, false);
        let (vw, vh) = self.viewport_size();
        let a = anchor.get_bounding_client_rect();
        let m = root.get_bounding_client_rect();
        let x = (a.right() - m.width())
            .max(4.0)
            .min((vw - m.width() - 4.0).max(4.0));
        let below = a.bottom() + 2.0;
        let y = if below + m.height() > vh - 4.0 {
            (a.top() - m.height() - 2.0).max(4.0)
        } else {
            below
        };
        style(&root, "left", &format!("{x}px"));
        style(&root, "top", &format!("{y}px"));
        attr(anchor, "aria-expanded", "true");
        self.menu.state = Some(MenuState {
            target,
            items,
            return_focus: Some(anchor.clone()),
        });
        if let Some(b) = first {
            focus(&b);
        }
    }

    fn close_menu(&mut self, restore_focus: bool) {
        let Some(state) = self.menu.state.take() else {
            return;
        };
        set_hidden(&self.menu.root, true);
        clear(&self.menu.root);
        if let Some(anchor) = state.return_focus {
            attr(&anchor, "aria-expanded", "false");
            if restore_focus {
                focus(&anchor);
            }
        }
    }

    fn menu_pick(&mut self, i: usize) {
        let Some(state) = self.menu.state.as_ref() else {
            return;
        };
        let Some((v, who)) = state.items.get(i).copied() else {
            return;
        };
        let target = state.target.clone();
        self.close_menu(true);
        self.apply_rule(&target, v, who);
    }

    fn menu_key(&mut self, key: &str, ev: &web_sys::Event) {
        let items: Vec<Element> = {
            let list = self.menu.root.children();
            (0..list.length()).filter_map(|i| list.item(i)).collect()
        };
        if items.is_empty() {
            return;
        }
        let current = ev
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| items.iter().position(|i| *i == t));
        let next = match key {
            "ArrowDown" => Some(current.map_or(0, |c| (c + 1) % items.len())),
            "ArrowUp" => {
                Some(current.map_or(items.len() - 1, |c| (c + items.len() - 1) % items.len()))
            }
            "Home" => Some(0),
            "End" => Some(items.len() - 1),
            "Tab" => {
                self.close_menu(false);
                return;
            }
            _ => None,
        };
        if let Some(n) = next {
            ev.prevent_default();
            focus(&items[n]);
        }
    }

    // --- details pane ---------------------------------------------------------------------

    fn open_details(&mut self, id: u64, from: Option<Element>) {
        let Some(p) = self.p.as_mut() else { return };
        p.details.id = Some(id);
        p.details.version = None;
        p.details.return_focus = from;
        set_hidden(&p.details.root, false);
        self.refresh_details();
        if let Some(p) = &self.p {
            focus(&p.details.close);
        }
    }

    fn close_details(&mut self, restore_focus: bool) {
        let Some(p) = self.p.as_mut() else { return };
        if p.details.id.take().is_none() {
            return;
        }
        set_hidden(&p.details.root, true);
        let back = p.details.return_focus.take();
        if restore_focus {
            if let Some(e) = back.filter(|e| e.is_connected()) {
                focus(&e);
            } else if self.state.tab == Tab::Log {
                focus(&p.log.grid);
            } else {
                focus(&p.tabs[self.state.tab.index()]);
            }
        }
    }

    /// Redraws the details pane if its event changed (or it was just opened).
    fn refresh_details(&mut self) {
        let Some(p) = self.p.as_ref() else { return };
        let Some(id) = p.details.id else { return };
        let version = self.tracker.version(id);
        if p.details.version.is_some() && p.details.version == version {
            return;
        }
        let cat = &self.cat;
        let mut data = None;
        self.host.with_session(&mut |s| {
            data = s
                .event(id)
                .map(|e| (labels::details(cat, e), RuleTarget::for_event(e)));
        });
        let doc = self.doc.clone();
        let Some(p) = self.p.as_mut() else { return };
        let d = &mut p.details;
        d.version = version.or(Some(u32::MAX));
        clear(&d.body);
        d.title
            .set_text_content(Some(&cat.msg("tpr-details-title")));
        let Some(((fields, frames), target)) = data else {
            if let Ok(e) = el_in(&doc, &d.body, "p", "note") {
                let _ = text_in(&doc, &e, &cat.msg("tpr-details-gone"));
            }
            d.actions.clear();
            d.target = None;
            return;
        };
        let _ = (|| -> R<()> {
            let dl = el_in(&doc, &d.body, "dl", "")?;
            for f in &fields {
                let dt = el_in(&doc, &dl, "dt", "")?;
                text_in(&doc, &dt, &f.label)?;
                let class = match f.tone {
                    labels::Tone::Normal => "",
                    labels::Tone::Code => "code",
                    labels::Tone::Warning => "warning",
                    labels::Tone::Danger => "danger",
                };
                let dd = el_in(&doc, &dl, "dd", class)?;
                attr(&dd, "data-field", f.id);
                let span = el_in(&doc, &dd, "span", "data")?;
                text_in(&doc, &span, &f.value)?;
            }
            let h = el_in(&doc, &d.body, "h3", "")?;
            text_in(&doc, &h, &cat.msg("tpr-details-frames"))?;
            if frames.is_empty() {
                let n = el_in(&doc, &d.body, "p", "note")?;
                text_in(&doc, &n, &cat.msg("tpr-details-frames-none"))?;
            } else {
                let ol = el_in(&doc, &d.body, "ol", "")?;
                attr(&ol, "data-field", "frames");
                for f in &frames {
                    let li = el_in(&doc, &ol, "li", "data")?;
                    text_in(&doc, &li, f)?;
                }
            }
            let acts = el_in(&doc, &d.body, "div", "actions")?;
            d.actions = Ui::actions_for(&target);
            for (i, (v, who)) in d.actions.iter().enumerate() {
                let label = labels::action_label(cat, &target, *v, *who);
                let class = if *v == Verdict::Block {
                    "destructive"
                } else {
                    "progressive"
                };
                let b = button_in(&doc, &acts, class, "details-act", &label)?;
                attr(&b, "data-i", &i.to_string());
            }
            Ok(())
        })();
        d.target = Some(target);
    }

    fn details_action(&mut self, i: usize) {
        let Some(p) = self.p.as_ref() else { return };
        let (Some(target), Some((v, who))) =
            (p.details.target.clone(), p.details.actions.get(i).copied())
        else {
            return;
        };
        self.apply_rule(&target, v, who);
    }

    fn prompt_answer(&mut self, i: usize, a: Answer) {
        let Some(id) = self.p.as_ref().and_then(|p| p.prompts.ids.get(i).copied()) else {
            return;
        };
        if let Err(m) = self.host.answer(id, a) {
            let msg = self.cat.fmt("tpr-action-failed", &[&row_text(&m)]);
            self.status(&msg);
        }
        self.views_dirty = true;
        self.last_views = f64::NEG_INFINITY;
        self.schedule();
    }

    // --- building the panel -----------------------------------------------------------------

    fn build(&mut self) -> R<PanelDom> {
        let doc = self.doc.clone();
        let cat = self.cat.clone();
        let panel = el_in(&doc, &self.shell, "div", "panel")?;
        attr(&panel, "id", "pnl-panel");
        attr(&panel, "role", "dialog");
        attr(&panel, "aria-modal", "false");
        attr(&panel, "aria-labelledby", "pnl-title");
        attr(&panel, "lang", cat.lang());
        set_hidden(&panel, true);
        // Move the menu after the panel so it stacks above it.
        let _ = self.shell.append_child(&self.menu.root);

        let header = el_in(&doc, &panel, "div", "header")?;
        attr(&header, "title", &cat.msg("tpr-panel-move"));
        let h2 = el_in(&doc, &header, "h2", "")?;
        attr(&h2, "id", "pnl-title");
        text_in(&doc, &h2, &cat.msg("tpr-panel-title"))?;
        let ml = el_in(&doc, &header, "label", "")?;
        attr(&ml, "for", "pnl-mode");
        text_in(&doc, &ml, &cat.msg("tpr-mode-label"))?;
        let mode_el = el_in(&doc, &header, "select", "")?;
        attr(&mode_el, "id", "pnl-mode");
        attr(&mode_el, "data-act", "mode");
        for m in [Mode::Audit, Mode::Ask, Mode::Block] {
            let o = el_in(&doc, &mode_el, "option", "")?;
            attr(&o, "value", m.as_str());
            text_in(&doc, &o, &labels::mode_name(&cat, m))?;
        }
        let mode: HtmlSelectElement = mode_el.dyn_into()?;
        let collapse_btn = el_in(&doc, &header, "button", "quiet")?;
        attr(&collapse_btn, "type", "button");
        attr(&collapse_btn, "data-act", "collapse");
        attr(&collapse_btn, "aria-controls", "pnl-body");
        let collapse_label = TextCell::new_in(&doc, &collapse_btn, &cat.msg("tpr-panel-collapse"))?;
        let close = button_in(&doc, &header, "quiet icon", "close", "✕")?;
        attr(&close, "aria-label", &cat.msg("tpr-panel-close"));
        attr(&close, "title", &cat.msg("tpr-panel-close"));

        let body = el_in(&doc, &panel, "div", "body")?;
        attr(&body, "id", "pnl-body");
        let problem = el_in(&doc, &body, "div", "problem")?;
        attr(&problem, "role", "alert");
        let problem_text = TextCell::new_in(&doc, &problem, "")?;
        // SPEC §7 recovery: start again from the defaults, or fix the kept text by hand.
        let bar = el_in(&doc, &problem, "div", "actions")?;
        let restore = cat.msg("tpr-consent-problem-restore");
        button_in(&doc, &bar, "destructive", "consent-restore", &restore)?;
        let edit = cat.msg("tpr-consent-problem-edit");
        button_in(&doc, &bar, "progressive", "consent-edit", &edit)?;
        set_hidden(&problem, true);

        let tablist = el_in(&doc, &body, "div", "tabs")?;
        attr(&tablist, "role", "tablist");
        attr(&tablist, "aria-label", &cat.msg("tpr-tabs-label"));
        let mut tabs = Vec::new();
        let mut tab_labels = Vec::new();
        let mut panels = Vec::new();
        for (i, tab) in Tab::ALL.iter().enumerate() {
            let key = match tab {
                Tab::Summary => "tpr-tab-summary",
                Tab::Log => "tpr-tab-log",
                Tab::Destinations => "tpr-tab-destinations",
                Tab::Sources => "tpr-tab-sources",
                Tab::Prompts => "tpr-tab-prompts",
                Tab::Consent => "tpr-tab-consent",
                Tab::Scan => "tpr-tab-scan",
            };
            let b = el_in(&doc, &tablist, "button", "tab")?;
            attr(&b, "type", "button");
            attr(&b, "role", "tab");
            attr(&b, "id", &format!("pnl-tab-{}", tab.as_str()));
            attr(
                &b,
                "aria-controls",
                &format!("pnl-tabpanel-{}", tab.as_str()),
            );
            attr(&b, "data-act", "tab");
            attr(&b, "data-i", &i.to_string());
            let label = if *tab == Tab::Prompts {
                cat.fmt(key, &["0"])
            } else {
                cat.msg(key)
            };
            tab_labels.push(TextCell::new_in(&doc, &b, &label)?);
            tabs.push(b);
        }
        for tab in Tab::ALL {
            let class = if tab == Tab::Log {
                "tabpanel log"
            } else {
                "tabpanel"
            };
            let tp = el_in(&doc, &body, "div", class)?;
            attr(&tp, "role", "tabpanel");
            attr(&tp, "id", &format!("pnl-tabpanel-{}", tab.as_str()));
            attr(&tp, "aria-labelledby", &format!("pnl-tab-{}", tab.as_str()));
            if tab != Tab::Log {
                attr(&tp, "tabindex", "0");
            }
            set_hidden(&tp, true);
            panels.push(tp);
        }
        let summary = SummaryDom::build(&doc, &cat, &panels[Tab::Summary.index()])?;
        let log = LogDom::build(&doc, &cat, &panels[Tab::Log.index()])?;
        let dest = GroupDom::build(
            &doc,
            &cat,
            &panels[Tab::Destinations.index()],
            GroupView::Destinations,
        )?;
        let src = GroupDom::build(
            &doc,
            &cat,
            &panels[Tab::Sources.index()],
            GroupView::Sources,
        )?;
        let prompts = PromptsDom::build(&doc, &cat, &panels[Tab::Prompts.index()])?;
        let consent = ConsentDom::build(&doc, &cat, &panels[Tab::Consent.index()])?;
        let scan = ScanDom::build(&doc, &cat, &panels[Tab::Scan.index()])?;

        // The details pane: a non-modal dialog over the body.
        let droot = el_in(&doc, &body, "div", "details")?;
        attr(&droot, "role", "dialog");
        attr(&droot, "aria-modal", "false");
        attr(&droot, "aria-labelledby", "pnl-dtitle");
        set_hidden(&droot, true);
        let dhead = el_in(&doc, &droot, "div", "dhead")?;
        let dtitle = el_in(&doc, &dhead, "h3", "")?;
        attr(&dtitle, "id", "pnl-dtitle");
        text_in(&doc, &dtitle, &cat.msg("tpr-details-title"))?;
        let dclose = button_in(&doc, &dhead, "quiet icon", "details-close", "✕")?;
        attr(&dclose, "aria-label", &cat.msg("tpr-details-close"));
        attr(&dclose, "title", &cat.msg("tpr-details-close"));
        let dbody = el_in(&doc, &droot, "div", "dbody")?;
        attr(&dbody, "tabindex", "0");

        let footer = el_in(&doc, &panel, "div", "footer")?;
        let st = el_in(&doc, &footer, "span", "status")?;
        attr(&st, "role", "status");
        attr(&st, "aria-live", "polite");
        let status = TextCell::new_in(&doc, &st, "")?;
        let hint = el_in(&doc, &footer, "span", "")?;
        text_in(&doc, &hint, &cat.msg("tpr-panel-shortcut"))?;

        Ok(PanelDom {
            panel,
            header,
            mode,
            collapse_label,
            collapse_btn,
            problem,
            problem_text,
            tabs,
            tab_labels,
            panels,
            summary,
            log,
            dest,
            src,
            prompts,
            consent,
            scan,
            details: DetailsDom {
                root: droot,
                title: dtitle,
                close: dclose,
                body: dbody,
                id: None,
                version: None,
                actions: Vec::new(),
                target: None,
                return_focus: None,
            },
            status,
        })
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        if let Some(id) = self.raf_id.take() {
            let _ = self.win.cancel_animation_frame(id);
        }
        if let Some((obs, _)) = self.theme_watch.take() {
            obs.disconnect();
        }
    }
}

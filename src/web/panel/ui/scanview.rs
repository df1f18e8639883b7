//! The Scan tab (issue 7/7 item 6): on request, lists this wiki's gadgets and the user's own
//! scripts with every destination their code can reach. What to fetch, the batches, the
//! grouping and the user-script tree are decided by [`crate::panel::scan`]; this module only
//! fetches (the auditor's own same-origin reads through the bootstrap, never page events;
//! Meta's API for `global.js` only when Meta is this wiki's Wikimedia party), runs the lazily
//! loaded scanner module on each text, and draws the result as text nodes.

use super::super::dom::{attr, button_in, clear, el_in, style, text_in, TextCell, R};
use super::super::PanelHost;
use super::Ui;
use crate::panel::i18n::Catalog;
use crate::panel::labels;
use crate::panel::scan::{
    api_url, gadgets_url, lang_of, outcome_from_report, parse_gadgets, parse_revisions,
    revisions_url, site_pages, GadgetScan, GadgetView, NodeState, PageOutcome, ScanRow, ScriptTree,
    Skip, MAX_DEPTH,
};
use crate::panel::text::row_text;
use js_sys::{Function, Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Element};

pub(in crate::web::panel) struct ScanDom {
    start: Element,
    /// The status line; its `data-scan-state` is `idle`, `running`, `done` or `failed`.
    status_el: Element,
    status: TextCell,
    results: Element,
    running: bool,
}

impl ScanDom {
    pub(super) fn build(doc: &Document, cat: &Catalog, parent: &Element) -> R<ScanDom> {
        let intro = el_in(doc, parent, "p", "")?;
        text_in(doc, &intro, &cat.msg("tpr-scan-intro"))?;
        let start = button_in(
            doc,
            parent,
            "progressive",
            "scan-start",
            &cat.msg("tpr-scan-start"),
        )?;
        let st = el_in(doc, parent, "p", "status")?;
        attr(&st, "role", "status");
        attr(&st, "data-scan-status", "");
        attr(&st, "data-scan-state", "idle");
        let status = TextCell::new_in(doc, &st, "")?;
        let results = el_in(doc, parent, "div", "scan")?;
        Ok(ScanDom {
            start,
            status_el: st,
            status,
            results,
            running: false,
        })
    }
}

/// What the scan found so far.
#[derive(Default)]
struct ScanState {
    gadgets: Option<GadgetScan>,
    gadget_error: Option<String>,
    tree: Option<ScriptTree>,
    /// Why the user's scripts were not scanned (logged out).
    user_note: Option<String>,
    pages: usize,
    findings: usize,
}

impl Ui {
    pub(super) fn start_scan(&mut self) {
        let Some(p) = self.p.as_mut() else { return };
        if p.scan.running {
            return;
        }
        p.scan.running = true;
        attr(&p.scan.start, "disabled", "");
        attr(&p.scan.status_el, "data-scan-state", "running");
        p.scan.status.set(&self.cat.msg("tpr-scan-loading"));
        let me = self.me.clone();
        let host = self.host.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut state = ScanState::default();
            let result = drive(&me, &host, &mut state).await;
            let Some(ui) = me.upgrade() else { return };
            let Ok(mut ui) = ui.try_borrow_mut() else {
                return;
            };
            ui.draw_scan(&state);
            let Ui { p, cat, .. } = &mut *ui;
            if let Some(p) = p.as_mut() {
                p.scan.running = false;
                let _ = p.scan.start.remove_attribute("disabled");
                let (text, end) = match result {
                    Ok(()) => (
                        cat.fmt(
                            "tpr-scan-done",
                            &[&state.pages.to_string(), &state.findings.to_string()],
                        ),
                        "done",
                    ),
                    Err(m) => (cat.fmt("tpr-scan-failed", &[&row_text(&m)]), "failed"),
                };
                p.scan.status.set(&text);
                attr(&p.scan.status_el, "data-scan-state", end);
            }
        });
    }

    fn scan_status(&mut self, text: &str) {
        if let Some(p) = self.p.as_mut() {
            p.scan.status.set(text);
        }
    }

    /// Redraws the results (a few hundred nodes at most; text only).
    fn draw_scan(&mut self, state: &ScanState) {
        let Ui { p, doc, cat, .. } = self;
        let Some(p) = p.as_mut() else { return };
        let root = &p.scan.results;
        clear(root);
        let _ = draw(doc, cat, root, state);
    }
}

fn message(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(e, &JsValue::from_str("message"))
                .ok()?
                .as_string()
        })
        .unwrap_or_else(|| "unknown error".to_string())
}

fn mw_config(key: &str) -> Option<String> {
    let get = |t: &JsValue, k: &str| Reflect::get(t, &JsValue::from_str(k)).ok();
    let mw = get(&js_sys::global(), "mw")?;
    let config = get(&mw, "config")?;
    let f: Function = get(&config, "get")?.dyn_into().ok()?;
    f.call1(&config, &JsValue::from_str(key)).ok()?.as_string()
}

/// Calls `f` with the panel if it still exists and is not busy.
fn with_ui(me: &Weak<RefCell<Ui>>, f: impl FnOnce(&mut Ui)) -> Result<(), String> {
    let ui = me.upgrade().ok_or("the panel was closed")?;
    if let Ok(mut ui) = ui.try_borrow_mut() {
        f(&mut ui);
    }
    Ok(())
}

fn progress(me: &Weak<RefCell<Ui>>, state: &ScanState) -> Result<(), String> {
    with_ui(me, |ui| {
        let text = ui.cat.fmt("tpr-scan-progress", &[&state.pages.to_string()]);
        ui.scan_status(&text);
        ui.draw_scan(state);
    })
}

/// The auditor's own same-origin read (never an event).
async fn own_text(host: &Rc<dyn PanelHost>, url: &str) -> Result<String, String> {
    let p = host
        .fetch_own(url)
        .ok_or("the wiki's API cannot be read from here")?;
    JsFuture::from(p)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| format!("could not read {}", crate::classify::excerpt(url)))
}

/// An anonymous cross-origin read of another Wikimedia wiki's API (`origin=*`): Meta's
/// `global.js` only. Made through the page's `fetch`, so the auditor's log shows it.
async fn cors_text(url: &str) -> Result<String, String> {
    let fail = || format!("could not read {}", crate::classify::excerpt(url));
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &JsValue::from_str("fetch"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(fail)?;
    let init = Object::new();
    let _ = Reflect::set(&init, &"credentials".into(), &"omit".into());
    let p: Promise = fetch
        .call2(&global, &JsValue::from_str(url), &init)
        .ok()
        .and_then(|p| p.dyn_into().ok())
        .ok_or_else(fail)?;
    let resp = JsFuture::from(p).await.map_err(|_| fail())?;
    let ok = Reflect::get(&resp, &"ok".into())
        .ok()
        .and_then(|v| v.as_bool());
    if ok != Some(true) {
        return Err(fail());
    }
    let text: Function = Reflect::get(&resp, &"text".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(fail)?;
    let p: Promise = text
        .call0(&resp)
        .ok()
        .and_then(|p| p.dyn_into().ok())
        .ok_or_else(fail)?;
    JsFuture::from(p)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(fail)
}

/// Scans one page's text with the scanner module.
fn scan_page(scan: &Function, title: &str, text: &str, wiki_url: &str) -> PageOutcome {
    let Some(lang) = lang_of(title) else {
        return PageOutcome::Failed("not JavaScript or CSS".to_string());
    };
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"lang".into(), &lang.into());
    let _ = Reflect::set(&opts, &"name".into(), &title.into());
    let _ = Reflect::set(&opts, &"wikiUrl".into(), &wiki_url.into());
    match scan.call2(&JsValue::UNDEFINED, &JsValue::from_str(text), &opts) {
        Ok(report) => match serde_wasm_bindgen::from_value(report) {
            Ok(r) => outcome_from_report(title, r),
            Err(e) => PageOutcome::Failed(format!("unreadable scan report: {e}")),
        },
        Err(e) => PageOutcome::Failed(message(&e)),
    }
}

async fn drive(
    me: &Weak<RefCell<Ui>>,
    host: &Rc<dyn PanelHost>,
    state: &mut ScanState,
) -> Result<(), String> {
    let scanner = host
        .scanner()
        .ok_or("the scanner is not available in this panel")?;
    let scan: Function = JsFuture::from(scanner)
        .await
        .map_err(|e| message(&e))?
        .dyn_into()
        .map_err(|_| "the scanner module gave no scan function".to_string())?;
    let win = web_sys::window().ok_or("no window")?;
    let page_url = win.location().href().map_err(|e| message(&e))?;
    let origin = win.location().origin().map_err(|e| message(&e))?;
    let api = api_url(&origin, &mw_config("wgScriptPath").unwrap_or_default());

    // 1. Gadgets: the list, then their pages in batches, with the site scripts' pages.
    let skin = mw_config("skin");
    let list = match own_text(host, &gadgets_url(&api))
        .await
        .and_then(|t| parse_gadgets(&t))
    {
        Ok(list) => list,
        Err(e) => {
            state.gadget_error = Some(e);
            Vec::new()
        }
    };
    state.gadgets = Some(GadgetScan::new(list).with_site(site_pages(skin.as_deref())));
    progress(me, state)?;
    while let Some(batch) = state
        .gadgets
        .as_ref()
        .and_then(|g| g.batches().into_iter().next())
    {
        let texts = match own_text(host, &revisions_url(&api, &batch, false)).await {
            Ok(json) => parse_revisions(&json, &batch),
            Err(e) => Err(e),
        };
        let Some(g) = state.gadgets.as_mut() else {
            break;
        };
        let mut answered = Vec::new();
        match texts {
            Ok(pages) => {
                for page in pages {
                    let outcome = match &page.content {
                        Some(text) => scan_page(&scan, &page.asked, text, &page_url),
                        None => PageOutcome::Missing,
                    };
                    state.pages += 1;
                    state.findings += outcome.rows().len();
                    answered.push(page.asked.clone());
                    g.record(&page.asked, outcome);
                }
            }
            Err(e) => {
                for t in &batch {
                    g.record(t, PageOutcome::Failed(e.clone()));
                    answered.push(t.clone());
                }
            }
        }
        // A page the answer did not hold (cut short) is not asked for forever.
        for t in batch.iter().filter(|t| !answered.contains(t)) {
            g.record(
                t,
                PageOutcome::Failed("the API did not return it".to_string()),
            );
        }
        progress(me, state)?;
    }

    // 2. The user's own scripts, following imports of wiki pages.
    let Some(user) = mw_config("wgUserName") else {
        state.user_note = Some(String::new());
        return Ok(());
    };
    let mut tree = ScriptTree::new(&page_url, &user, skin.as_deref());
    while let Some((wiki, titles)) = tree.next_batch() {
        let (wiki_api, cors) = tree.api_for(wiki.as_deref(), &api);
        let url = revisions_url(&wiki_api, &titles, cors);
        let got = if cors {
            cors_text(&url).await
        } else {
            own_text(host, &url).await
        };
        let base = match &wiki {
            Some(o) => format!("{o}/wiki/"),
            None => page_url.clone(),
        };
        match got.and_then(|json| parse_revisions(&json, &titles)) {
            Ok(pages) => {
                let mut answered = Vec::new();
                for page in pages {
                    let outcome = match &page.content {
                        Some(text) => scan_page(&scan, &page.asked, text, &base),
                        None => PageOutcome::Missing,
                    };
                    state.pages += 1;
                    state.findings += outcome.rows().len();
                    answered.push(page.asked.clone());
                    tree.record(wiki.as_deref(), &page.asked, outcome);
                }
                let rest: Vec<String> = titles
                    .into_iter()
                    .filter(|t| !answered.contains(t))
                    .collect();
                tree.fail(wiki.as_deref(), &rest, "the API did not return it");
            }
            Err(e) => tree.fail(wiki.as_deref(), &titles, &e),
        }
        state.tree = Some(tree.clone());
        progress(me, state)?;
    }
    state.tree = Some(tree);
    Ok(())
}

// ---- drawing --------------------------------------------------------------------------------

fn short_page(title: &str) -> &str {
    title.strip_prefix("MediaWiki:").unwrap_or(title)
}

fn findings_table(
    doc: &Document,
    cat: &Catalog,
    parent: &Element,
    label: &str,
    rows: &[&ScanRow],
) -> R<()> {
    if rows.is_empty() {
        let p = el_in(doc, parent, "p", "empty")?;
        text_in(doc, &p, &cat.msg("tpr-scan-none"))?;
        return Ok(());
    }
    let table = el_in(doc, parent, "table", "findings")?;
    attr(&table, "aria-label", label);
    let thead = el_in(doc, &table, "thead", "")?;
    let tr = el_in(doc, &thead, "tr", "")?;
    for key in [
        "tpr-scan-col-destination",
        "tpr-scan-col-directive",
        "tpr-scan-col-channel",
        "tpr-scan-col-party",
        "tpr-scan-col-where",
        "tpr-scan-col-confidence",
    ] {
        let th = el_in(doc, &tr, "th", "")?;
        attr(&th, "scope", "col");
        text_in(doc, &th, &cat.msg(key))?;
    }
    let tbody = el_in(doc, &table, "tbody", "")?;
    for r in rows {
        let tr = el_in(doc, &tbody, "tr", if r.dynamic { "dynamic" } else { "" })?;
        attr(&tr, "data-destination", &r.destination);
        attr(
            &tr,
            "data-dynamic",
            if r.dynamic { "true" } else { "false" },
        );
        attr(&tr, "data-directive", r.directive.as_str());
        let td = el_in(doc, &tr, "td", "name")?;
        if r.dynamic {
            text_in(doc, &td, &cat.fmt("tpr-scan-dynamic", &[&row_text(&r.url)]))?;
        } else {
            text_in(doc, &td, &row_text(&r.destination))?;
        }
        attr(&td, "title", &row_text(&r.url));
        let td = el_in(doc, &tr, "td", "")?;
        text_in(doc, &td, r.directive.as_str())?;
        let td = el_in(doc, &tr, "td", "")?;
        // The API only when it says more than the channel (`script (mw.loader.load)`).
        let channel = r.channel.as_str();
        if r.api.is_empty() || r.api == channel {
            text_in(doc, &td, channel)?;
        } else {
            text_in(doc, &td, &format!("{channel} ({})", row_text(&r.api)))?;
        }
        let td = el_in(doc, &tr, "td", "")?;
        let party = r
            .party
            .map(|p| labels::party_name(cat, p))
            .unwrap_or_else(|| "—".to_string());
        text_in(
            doc,
            &td,
            &format!("{party} · {}", labels::tier_name(cat, Some(r.tier))),
        )?;
        let td = el_in(doc, &tr, "td", "num")?;
        text_in(
            doc,
            &td,
            &format!("{}:{}:{}", row_text(short_page(&r.page)), r.line, r.column),
        )?;
        let td = el_in(doc, &tr, "td", "")?;
        let confidence = match r.confidence.as_str() {
            "certain" => cat.msg("tpr-scan-confidence-certain"),
            "likely" => cat.msg("tpr-scan-confidence-likely"),
            "dynamic" => cat.msg("tpr-scan-confidence-dynamic"),
            other => row_text(other),
        };
        text_in(doc, &td, &confidence)?;
    }
    Ok(())
}

/// One group of the gadget list (a gadget, or the site scripts): its pages' notes and table.
fn group(doc: &Document, cat: &Catalog, sec: &Element, v: &GadgetView<'_>, label: &str) -> R<()> {
    for (page, outcome) in &v.pages {
        if let Some(o) = outcome {
            page_note(doc, cat, sec, page, o)?;
        }
    }
    findings_table(doc, cat, sec, label, &v.rows)
}

/// Notes about a page that was not (fully) read.
fn page_note(
    doc: &Document,
    cat: &Catalog,
    parent: &Element,
    title: &str,
    outcome: &PageOutcome,
) -> R<()> {
    let text = match outcome {
        PageOutcome::Missing => cat.fmt("tpr-scan-page-missing", &[&row_text(title)]),
        PageOutcome::Failed(m) => {
            cat.fmt("tpr-scan-page-failed", &[&row_text(title), &row_text(m)])
        }
        PageOutcome::Scanned {
            partial: true,
            errors,
            ..
        } => cat.fmt(
            "tpr-scan-page-partial",
            &[&row_text(title), &row_text(&errors.join("; "))],
        ),
        PageOutcome::Scanned { .. } => return Ok(()),
    };
    let p = el_in(doc, parent, "p", "note")?;
    text_in(doc, &p, &text)?;
    Ok(())
}

fn draw(doc: &Document, cat: &Catalog, root: &Element, state: &ScanState) -> R<()> {
    // Gadgets.
    let h = el_in(doc, root, "h3", "")?;
    let count = state.gadgets.as_ref().map_or(0, |g| g.gadgets.len());
    text_in(doc, &h, &cat.fmt("tpr-scan-gadgets", &[&count.to_string()]))?;
    if let Some(e) = &state.gadget_error {
        let p = el_in(doc, root, "p", "note")?;
        text_in(
            doc,
            &p,
            &cat.fmt("tpr-scan-page-failed", &["list=gadgets", &row_text(e)]),
        )?;
    }
    if let Some(g) = &state.gadgets {
        for v in g.view() {
            let sec = el_in(doc, root, "section", "scan-gadget")?;
            attr(&sec, "data-gadget", &v.gadget.id);
            let h4 = el_in(doc, &sec, "h4", "")?;
            let mut title = row_text(&v.gadget.id);
            if v.gadget.default {
                title.push_str(&format!(" ({})", cat.msg("tpr-scan-gadget-default")));
            }
            if v.gadget.hidden {
                title.push_str(&format!(" ({})", cat.msg("tpr-scan-gadget-hidden")));
            }
            text_in(doc, &h4, &title)?;
            group(doc, cat, &sec, &v, &row_text(&v.gadget.id))?;
        }
    }
    // The site scripts (ResourceLoader's `site` module: MediaWiki:Common.js, the skin's).
    if let Some(v) = state.gadgets.as_ref().and_then(GadgetScan::site_view) {
        let h = el_in(doc, root, "h3", "")?;
        let label = cat.msg("tpr-scan-site");
        text_in(doc, &h, &label)?;
        let sec = el_in(doc, root, "section", "scan-gadget")?;
        attr(&sec, "data-site-script", &v.gadget.id);
        group(doc, cat, &sec, &v, &label)?;
    }
    // The user's scripts, as an indented tree.
    let h = el_in(doc, root, "h3", "")?;
    text_in(doc, &h, &cat.msg("tpr-scan-user"))?;
    if state.user_note.is_some() {
        let p = el_in(doc, root, "p", "note")?;
        text_in(doc, &p, &cat.msg("tpr-scan-user-anon"))?;
    }
    let Some(tree) = &state.tree else {
        return Ok(());
    };
    let list = el_in(doc, root, "div", "scan-tree")?;
    attr(&list, "role", "list");
    for i in tree.display_order() {
        let n = &tree.nodes[i];
        let item = el_in(doc, &list, "div", "scan-node")?;
        attr(&item, "role", "listitem");
        attr(&item, "data-title", &n.title);
        attr(&item, "data-depth", &n.depth.to_string());
        let node_state = match &n.state {
            NodeState::Waiting => "waiting",
            NodeState::Done(PageOutcome::Scanned { .. }) => "scanned",
            NodeState::Done(PageOutcome::Missing) => "missing",
            NodeState::Done(PageOutcome::Failed(_)) => "failed",
            NodeState::Cycle => "cycle",
            NodeState::TooDeep => "deep",
            NodeState::Repeat(_) => "repeat",
            NodeState::Skipped(_) => "skipped",
        };
        attr(&item, "data-state", node_state);
        style(
            &item,
            "padding-inline-start",
            &format!("{}px", n.depth * 20),
        );
        let title = row_text(&n.title);
        let where_ = n.wiki.as_deref().map(row_text);
        let label = match (&n.state, &where_) {
            (NodeState::Skipped(Skip::NotWikimedia), _) => {
                cat.fmt("tpr-scan-node-not-wikimedia", &[&title])
            }
            (NodeState::Skipped(Skip::OtherWiki), w) => cat.fmt(
                "tpr-scan-node-other-wiki",
                &[&title, w.as_deref().unwrap_or("")],
            ),
            (NodeState::Cycle, _) => cat.fmt("tpr-scan-node-cycle", &[&title]),
            (NodeState::Repeat(_), _) => cat.fmt("tpr-scan-node-repeat", &[&title]),
            (NodeState::TooDeep, _) => {
                cat.fmt("tpr-scan-node-deep", &[&title, &MAX_DEPTH.to_string()])
            }
            (_, Some(w)) => cat.fmt("tpr-scan-node-on-wiki", &[&title, w]),
            _ => title.clone(),
        };
        let h5 = el_in(doc, &item, "h5", "")?;
        text_in(doc, &h5, &label)?;
        if let NodeState::Done(outcome) = &n.state {
            page_note(doc, cat, &item, &n.title, outcome)?;
            if matches!(outcome, PageOutcome::Scanned { .. }) {
                let rows: Vec<&ScanRow> = outcome.rows().iter().collect();
                findings_table(doc, cat, &item, &title, &rows)?;
            }
        }
    }
    Ok(())
}

//! The live log: an ARIA grid whose rows are virtual. Only the rows in view (plus a few
//! above and below) exist in the DOM; each row element is kept for the event it shows and
//! only moved (a transform) when newer events push it down, refilled only when its event
//! changed, and recycled when its event scrolls out of view.

use super::super::dom::{
    attr, button_in, el_in, set_hidden, style, text_in, AttrCell, TextCell, R,
};
use super::Ui;
use crate::events::Event;
use crate::model::{Channel, Outcome, Party, Tier};
use crate::panel::aggregate::DECISIONS;
use crate::panel::i18n::Catalog;
use crate::panel::labels;
use crate::panel::log::{step, Filter, LogList, Viewport};
use crate::panel::text::{display, row_text};
use std::collections::{HashMap, HashSet};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlInputElement, HtmlSelectElement, KeyboardEvent};

/// Row height in CSS pixels (matches `--row-height` in panel.css).
pub(super) const ROW_H: f64 = 28.0;
/// Rows kept above and below the visible ones.
const OVERSCAN: usize = 4;
/// Longest URL in a row's tooltip.
const TITLE_CHARS: usize = 2_000;

struct RowDom {
    el: Element,
    id: Option<u64>,
    version: Option<u32>,
    pos: Option<usize>,
    d_icon: TextCell,
    d_icon_class: AttrCell,
    d_text: TextCell,
    t_icon: TextCell,
    t_text: TextCell,
    p_icon: TextCell,
    party: TextCell,
    directive: TextCell,
    url: TextCell,
    url_title: AttrCell,
    source: TextCell,
    count: TextCell,
    tier_attr: AttrCell,
    decision_attr: AttrCell,
    rowindex: AttrCell,
    selected: AttrCell,
}

/// What a row shows, computed while the session is borrowed (drawn after).
struct RowData {
    id: u64,
    version: Option<u32>,
    decision: Outcome,
    tier: Tier,
    d_text: String,
    t_text: String,
    party: String,
    party_icon: &'static str,
    directive: &'static str,
    url: String,
    url_title: String,
    source: String,
    count: String,
}

impl RowData {
    fn new(cat: &Catalog, e: &Event, version: Option<u32>) -> RowData {
        RowData {
            id: e.id,
            version,
            decision: e.decision,
            tier: e.tier,
            d_text: labels::decision_name(cat, e.decision),
            t_text: labels::tier_name(cat, Some(e.tier)),
            party: labels::party_name(cat, e.party),
            party_icon: labels::party_icon(e.party),
            directive: e.directive.as_str(),
            url: row_text(&e.url),
            url_title: display(&e.url, TITLE_CHARS).0,
            source: labels::source_label(cat, &e.source),
            count: if e.count > 1 {
                format!("×{}", e.count)
            } else {
                String::new()
            },
        }
    }
}

pub(super) struct FilterDom {
    party: HtmlSelectElement,
    tier: HtmlSelectElement,
    decision: HtmlSelectElement,
    channel: HtmlSelectElement,
    source: HtmlSelectElement,
    text: HtmlInputElement,
    /// Source keys of the source filter's options (index 0 is "all", value ""); each
    /// option's value is its source key, so re-sorting the options never changes which
    /// source a selected value means.
    source_keys: Vec<String>,
}

pub(super) struct LogDom {
    filters: FilterDom,
    count: TextCell,
    pub(super) grid: Element,
    pub(super) viewport: Element,
    spacer: Element,
    empty: Element,
    rows: Vec<RowDom>,
    list: LogList,
    filter: Filter,
    active: Option<u64>,
    rowcount: AttrCell,
    activedescendant: AttrCell,
    spacer_rows: Option<usize>,
}

fn select_in(
    doc: &Document,
    parent: &Element,
    cat: &Catalog,
    label_key: &str,
    name: &str,
) -> R<HtmlSelectElement> {
    let label = el_in(doc, parent, "label", "")?;
    text_in(doc, &label, &cat.msg(label_key))?;
    let s = el_in(doc, &label, "select", "")?;
    attr(&s, "data-filter", name);
    let o = el_in(doc, &s, "option", "")?;
    attr(&o, "value", "");
    text_in(doc, &o, &cat.msg("tpr-filter-any"))?;
    s.dyn_into::<HtmlSelectElement>().map_err(Into::into)
}

fn option_in(doc: &Document, s: &HtmlSelectElement, value: &str, label: &str) -> R<()> {
    let o = el_in(doc, s, "option", "")?;
    attr(&o, "value", value);
    text_in(doc, &o, label)?;
    Ok(())
}

impl LogDom {
    pub(super) fn build(doc: &Document, cat: &Catalog, parent: &Element) -> R<LogDom> {
        let bar = el_in(doc, parent, "div", "filters")?;
        let party = select_in(doc, &bar, cat, "tpr-filter-party", "party")?;
        for p in [
            Party::Third,
            Party::Cloud,
            Party::Wikimedia,
            Party::Local,
            Party::First,
        ] {
            option_in(doc, &party, p.as_str(), &labels::party_name(cat, p))?;
        }
        let tier = select_in(doc, &bar, cat, "tpr-filter-tier", "tier")?;
        for t in [Tier::Executable, Tier::Data, Tier::Passive] {
            option_in(doc, &tier, t.as_str(), &labels::tier_name(cat, Some(t)))?;
        }
        let decision = select_in(doc, &bar, cat, "tpr-filter-decision", "decision")?;
        for d in DECISIONS {
            option_in(doc, &decision, d.as_str(), &labels::decision_name(cat, d))?;
        }
        let channel = select_in(doc, &bar, cat, "tpr-filter-channel", "channel")?;
        for c in Channel::ALL {
            option_in(doc, &channel, c.as_str(), c.as_str())?;
        }
        let source = select_in(doc, &bar, cat, "tpr-filter-source", "source")?;
        let tl = el_in(doc, &bar, "label", "")?;
        text_in(doc, &tl, &cat.msg("tpr-filter-text"))?;
        let text_el = el_in(doc, &tl, "input", "")?;
        attr(&text_el, "type", "search");
        attr(&text_el, "data-filter", "text");
        attr(
            &text_el,
            "placeholder",
            &cat.msg("tpr-filter-text-placeholder"),
        );
        attr(&text_el, "spellcheck", "false");
        let text: HtmlInputElement = text_el.dyn_into()?;
        button_in(
            doc,
            &bar,
            "quiet",
            "filter-clear",
            &cat.msg("tpr-filter-clear"),
        )?;
        let c = el_in(doc, &bar, "span", "count")?;
        attr(&c, "aria-live", "off");
        let count = TextCell::new_in(doc, &c, "")?;

        let grid = el_in(doc, parent, "div", "grid")?;
        attr(&grid, "role", "grid");
        attr(&grid, "tabindex", "0");
        attr(&grid, "data-grid", "log");
        attr(&grid, "aria-label", &cat.msg("tpr-log-label"));
        attr(&grid, "aria-readonly", "true");
        let head = el_in(doc, &grid, "div", "gridhead cols")?;
        attr(&head, "role", "row");
        attr(&head, "aria-rowindex", "1");
        for key in [
            "tpr-col-decision",
            "tpr-col-tier",
            "tpr-col-party",
            "tpr-col-directive",
            "tpr-col-url",
            "tpr-col-source",
            "tpr-col-count",
            "tpr-col-actions",
        ] {
            let h = el_in(doc, &head, "div", "cell")?;
            attr(&h, "role", "columnheader");
            let label = cat.msg(key);
            if key == "tpr-col-tier" || key == "tpr-col-actions" {
                // Narrow columns: the header text is for assistive technology.
                let s = el_in(doc, &h, "span", "sr")?;
                text_in(doc, &s, &label)?;
            } else {
                text_in(doc, &h, &label)?;
            }
        }
        let viewport = el_in(doc, &grid, "div", "viewport")?;
        attr(&viewport, "role", "rowgroup");
        let spacer = el_in(doc, &viewport, "div", "spacer")?;
        attr(&spacer, "role", "presentation");
        let empty = el_in(doc, &viewport, "div", "empty")?;
        text_in(doc, &empty, &cat.msg("tpr-log-empty"))?;
        set_hidden(&empty, true);
        Ok(LogDom {
            filters: FilterDom {
                party,
                tier,
                decision,
                channel,
                source,
                text,
                source_keys: vec![String::new()],
            },
            count,
            rowcount: AttrCell::new(&grid, "aria-rowcount"),
            activedescendant: AttrCell::new(&grid, "aria-activedescendant"),
            grid,
            viewport,
            spacer,
            empty,
            rows: Vec::new(),
            list: LogList::default(),
            filter: Filter::default(),
            active: None,
            spacer_rows: None,
        })
    }

    fn new_row(&mut self, doc: &Document, cat: &Catalog) -> R<()> {
        let slot = self.rows.len();
        let el = el_in(doc, &self.spacer, "div", "row cols")?;
        attr(&el, "role", "row");
        attr(&el, "id", &format!("pnl-r{slot}"));
        attr(&el, "data-slot", &slot.to_string());
        let cell = |class: &str| -> R<Element> {
            let c = el_in(doc, &el, "div", class)?;
            attr(&c, "role", "gridcell");
            Ok(c)
        };
        let dc = cell("cell")?;
        let di = el_in(doc, &dc, "span", "ico")?;
        attr(&di, "aria-hidden", "true");
        let d_icon = TextCell::new_in(doc, &di, "")?;
        let d_text = TextCell::new_in(doc, &dc, "")?;
        let tc = cell("cell")?;
        let ti = el_in(doc, &tc, "span", "ico t-ico")?;
        attr(&ti, "aria-hidden", "true");
        let t_icon = TextCell::new_in(doc, &ti, "")?;
        let ts = el_in(doc, &tc, "span", "sr")?;
        let t_text = TextCell::new_in(doc, &ts, "")?;
        let pc = cell("cell")?;
        let pi = el_in(doc, &pc, "span", "ico p-ico")?;
        attr(&pi, "aria-hidden", "true");
        let p_icon = TextCell::new_in(doc, &pi, "")?;
        let party = TextCell::new_in(doc, &pc, "")?;
        let directive = {
            let c = cell("cell mono")?;
            TextCell::new_in(doc, &c, "")?
        };
        let uc = cell("cell url data")?;
        let url = TextCell::new_in(doc, &uc, "")?;
        let source = {
            let c = cell("cell data")?;
            TextCell::new_in(doc, &c, "")?
        };
        let count = {
            let c = cell("cell count")?;
            TextCell::new_in(doc, &c, "")?
        };
        let ac = cell("cell")?;
        let b = button_in(doc, &ac, "quiet", "row-menu", "⋯")?;
        attr(&b, "aria-label", &cat.msg("tpr-row-actions"));
        attr(&b, "title", &cat.msg("tpr-row-actions"));
        attr(&b, "aria-haspopup", "menu");
        attr(&b, "aria-expanded", "false");
        attr(&b, "tabindex", "-1");
        set_hidden(&el, true);
        self.rows.push(RowDom {
            d_icon_class: AttrCell::new(&di, "class"),
            url_title: AttrCell::new(&uc, "title"),
            tier_attr: AttrCell::new(&tc, "data-tier"),
            decision_attr: AttrCell::new(&el, "data-decision"),
            rowindex: AttrCell::new(&el, "aria-rowindex"),
            selected: AttrCell::new(&el, "aria-selected"),
            el,
            id: None,
            version: None,
            pos: None,
            d_icon,
            d_text,
            t_icon,
            t_text,
            p_icon,
            party,
            directive,
            url,
            source,
            count,
        });
        Ok(())
    }
}

impl RowDom {
    fn fill(&mut self, d: &RowData) {
        self.id = Some(d.id);
        self.version = d.version;
        self.d_icon.set(labels::decision_icon(d.decision));
        self.d_icon_class
            .set(&format!("ico d-{}", d.decision.as_str()));
        self.d_text.set(&d.d_text);
        self.t_icon.set(labels::tier_icon(Some(d.tier)));
        self.t_text.set(&d.t_text);
        self.tier_attr.set(d.tier.as_str());
        self.decision_attr.set(d.decision.as_str());
        self.p_icon.set(d.party_icon);
        self.party.set(&d.party);
        self.directive.set(d.directive);
        self.url.set(&d.url);
        self.url_title.set(&d.url_title);
        self.source.set(&d.source);
        self.count.set(&d.count);
    }

    fn place(&mut self, pos: usize) {
        if self.pos != Some(pos) {
            self.pos = Some(pos);
            style(
                &self.el,
                "transform",
                &format!("translateY({}px)", pos as f64 * ROW_H),
            );
            // Row 1 is the header.
            self.rowindex.set(&(pos + 2).to_string());
        }
        set_hidden(&self.el, false);
    }

    fn release(&mut self) {
        if self.id.take().is_some() || self.pos.is_some() {
            self.pos = None;
            self.version = None;
            set_hidden(&self.el, true);
        }
    }
}

impl Ui {
    /// Brings the log list up to date and draws the rows in view.
    pub(super) fn render_log(&mut self) {
        let Some(p) = self.p.as_mut() else { return };
        let log = &mut p.log;
        let scroll_top = log.viewport.scroll_top() as f64;
        let height = log.viewport.client_height() as f64;
        let before = Viewport {
            row_height: ROW_H,
            scroll_top,
            height,
        };
        let first_before = before.range(log.list.len(), 0).start;
        let anchor = log.list.at(first_before);
        let changed = std::mem::take(&mut self.changed);
        let stale = std::mem::take(&mut self.log_stale);
        let mut held = 0u64;
        {
            let list = &mut log.list;
            let filter = &log.filter;
            self.host.with_session(&mut |s| {
                if stale {
                    list.rebuild(s.events(), filter);
                } else {
                    for id in &changed {
                        if let Some(e) = s.event(*id) {
                            list.update(e, filter);
                        }
                    }
                    match s.events().next() {
                        Some(first) => {
                            list.forget_before(first.id);
                        }
                        None => list.rebuild(std::iter::empty(), filter),
                    }
                }
                let m = s.summary();
                held = m.events - m.dropped;
            });
        }
        // Keep what the user is reading in place when newer rows arrive above it.
        let mut scroll_top = scroll_top;
        if scroll_top > 0.0 {
            if let Some(pos) = anchor.and_then(|id| log.list.position(id)) {
                if pos != first_before {
                    scroll_top = (scroll_top + (pos as f64 - first_before as f64) * ROW_H).max(0.0);
                    log.viewport.set_scroll_top(scroll_top.round() as i32);
                }
            }
        }
        let n = log.list.len();
        if log.spacer_rows != Some(n) {
            log.spacer_rows = Some(n);
            style(&log.spacer, "height", &format!("{}px", n as f64 * ROW_H));
            log.rowcount.set(&(n + 1).to_string());
        }
        set_hidden(&log.empty, n != 0);
        log.count.set(
            &self
                .cat
                .fmt("tpr-log-count", &[&n.to_string(), &held.to_string()]),
        );
        let vp = Viewport {
            row_height: ROW_H,
            scroll_top,
            height,
        };
        let range = vp.range(n, OVERSCAN);
        let wanted: Vec<(usize, u64)> = range
            .filter_map(|i| log.list.at(i).map(|id| (i, id)))
            .collect();
        let wanted_ids: HashSet<u64> = wanted.iter().map(|(_, id)| *id).collect();
        let mut slot_of: HashMap<u64, usize> = HashMap::new();
        let mut free: Vec<usize> = Vec::new();
        for (slot, r) in log.rows.iter_mut().enumerate() {
            match r.id {
                Some(id) if wanted_ids.contains(&id) => {
                    slot_of.insert(id, slot);
                }
                _ => {
                    r.release();
                    free.push(slot);
                }
            }
        }
        free.reverse();
        // Rows to (re)fill: new in view, or their event changed.
        let mut fills: Vec<(usize, u64, Option<u32>)> = Vec::new();
        let mut places: Vec<(usize, usize)> = Vec::new();
        for (pos, id) in &wanted {
            let version = self.tracker.version(*id);
            let slot = match slot_of.get(id) {
                Some(&slot) => {
                    if log.rows[slot].version != version || version.is_none() {
                        fills.push((slot, *id, version));
                    }
                    slot
                }
                None => {
                    let slot = match free.pop() {
                        Some(s) => s,
                        None => {
                            if log.new_row(&self.doc, &self.cat).is_err() {
                                continue;
                            }
                            log.rows.len() - 1
                        }
                    };
                    fills.push((slot, *id, version));
                    slot
                }
            };
            places.push((slot, *pos));
        }
        let cat = &self.cat;
        let mut data: Vec<(usize, RowData)> = Vec::with_capacity(fills.len());
        self.host.with_session(&mut |s| {
            for (slot, id, version) in &fills {
                if let Some(e) = s.event(*id) {
                    data.push((*slot, RowData::new(cat, e, *version)));
                }
            }
        });
        for (slot, d) in &data {
            log.rows[*slot].fill(d);
        }
        for (slot, pos) in places {
            if log.rows[slot].id.is_some() {
                log.rows[slot].place(pos);
            }
        }
        // The active row (keyboard): marked, and named as the grid's active descendant.
        let active = log.active;
        let mut active_slot = None;
        for (slot, r) in log.rows.iter_mut().enumerate() {
            let is_active = r.id.is_some() && r.id == active;
            let _ = r.el.class_list().toggle_with_force("active", is_active);
            r.selected.set(if is_active { "true" } else { "false" });
            if is_active {
                active_slot = Some(slot);
            }
        }
        match active_slot {
            Some(slot) => log.activedescendant.set(&format!("pnl-r{slot}")),
            None => log.activedescendant.remove(),
        }
        self.refresh_source_filter();
    }

    /// Keeps the source filter's options in step with the sources seen.
    fn refresh_source_filter(&mut self) {
        let Some(p) = self.p.as_mut() else { return };
        let f = &mut p.log.filters;
        if self.tracker.agg.sources.len() + 1 == f.source_keys.len() {
            return;
        }
        let mut keys: Vec<(String, String)> = self
            .tracker
            .agg
            .sources
            .keys()
            .map(|id| {
                let key = self.tracker.agg.names.name(*id).to_string();
                (labels::source_key_label(&self.cat, &key), key)
            })
            .collect();
        crate::sort::sort(&mut keys);
        let current = f.source.value();
        // Rebuild the options: each option's value is its source key.
        while f.source.length() > 1 {
            f.source.remove_with_index(1);
        }
        f.source_keys.truncate(1);
        for (label, key) in keys {
            let _ = option_in(&self.doc, &f.source, &key, &label);
            f.source_keys.push(key);
        }
        if !current.is_empty() {
            f.source.set_value(&current);
        }
    }

    pub(super) fn filters_changed(&mut self) {
        let Some(p) = self.p.as_mut() else { return };
        let f = &p.log.filters;
        let mut filter = Filter::default();
        filter.party = [
            Party::Third,
            Party::Cloud,
            Party::Wikimedia,
            Party::Local,
            Party::First,
        ]
        .into_iter()
        .find(|x| x.as_str() == f.party.value());
        filter.tier = [Tier::Executable, Tier::Data, Tier::Passive]
            .into_iter()
            .find(|x| x.as_str() == f.tier.value());
        filter.decision = DECISIONS
            .into_iter()
            .find(|x| x.as_str() == f.decision.value());
        filter.channel = Channel::parse(&f.channel.value());
        let source = f.source.value();
        filter.source = f.source_keys[1..]
            .iter()
            .find(|k| !source.is_empty() && **k == source)
            .cloned();
        filter.set_text(&f.text.value());
        if filter != p.log.filter {
            p.log.filter = filter;
            self.log_stale = true;
            p.log.viewport.set_scroll_top(0);
            self.schedule();
        }
    }

    pub(super) fn clear_filters(&mut self) {
        let Some(p) = self.p.as_mut() else { return };
        let f = &p.log.filters;
        for s in [&f.party, &f.tier, &f.decision, &f.channel, &f.source] {
            s.set_value("");
        }
        f.text.set_value("");
        self.filters_changed();
    }

    pub(super) fn on_scroll(&mut self, _ev: &web_sys::Event) {
        self.schedule();
    }

    /// The event shown in a row element.
    fn row_event(&self, row: &Element) -> Option<u64> {
        let slot: usize = row.get_attribute("data-slot")?.parse().ok()?;
        self.p.as_ref()?.log.rows.get(slot)?.id
    }

    pub(super) fn row_clicked(&mut self, row: &Element) {
        let Some(id) = self.row_event(row) else {
            return;
        };
        if let Some(p) = self.p.as_mut() {
            p.log.active = Some(id);
        }
        self.render_log();
        let grid = self.p.as_ref().map(|p| p.log.grid.clone());
        self.open_details(id, grid);
    }

    pub(super) fn row_menu(&mut self, row: &Element, button: &Element) {
        let Some(id) = self.row_event(row) else {
            return;
        };
        if let Some(p) = self.p.as_mut() {
            p.log.active = Some(id);
        }
        let mut target = None;
        self.host.with_session(&mut |s| {
            target = s.event(id).map(crate::panel::rules::RuleTarget::for_event);
        });
        if let Some(t) = target {
            self.open_menu(t, button);
        }
    }

    pub(super) fn grid_key(&mut self, k: &KeyboardEvent, ev: &web_sys::Event) {
        let key = k.key();
        let Some(p) = self.p.as_mut() else { return };
        let log = &mut p.log;
        let n = log.list.len();
        let current = log.active.and_then(|id| log.list.position(id));
        let height = log.viewport.client_height() as f64;
        let page = ((height / ROW_H).floor() as usize).saturating_sub(1).max(1);
        match key.as_str() {
            "Enter" | " " => {
                ev.prevent_default();
                let id = match log.active {
                    Some(id) if log.list.contains(id) => id,
                    _ => return,
                };
                let grid = log.grid.clone();
                self.open_details(id, Some(grid));
            }
            "ContextMenu" => self.grid_menu(ev),
            "F10" if k.shift_key() => self.grid_menu(ev),
            _ => {
                let Some(next) = step(current, n, &key, page) else {
                    return;
                };
                ev.prevent_default();
                log.active = log.list.at(next);
                let vp = Viewport {
                    row_height: ROW_H,
                    scroll_top: log.viewport.scroll_top() as f64,
                    height,
                };
                if let Some(top) = vp.reveal(next) {
                    log.viewport.set_scroll_top(top.round() as i32);
                }
                self.render_log();
            }
        }
    }

    fn grid_menu(&mut self, ev: &web_sys::Event) {
        ev.prevent_default();
        let Some(p) = self.p.as_ref() else { return };
        let Some(id) = p.log.active else { return };
        let Some(r) = p.log.rows.iter().find(|r| r.id == Some(id)) else {
            return;
        };
        let row = r.el.clone();
        let button = row
            .query_selector("button")
            .ok()
            .flatten()
            .unwrap_or_else(|| row.clone());
        self.row_menu(&row, &button);
    }
}

//! The summary, the two groupings, the questions (ask mode) and the consent/export tab.

use super::super::dom::{
    attr, button_in, clear, el_in, set_hidden, text_in, AttrCell, TextCell, R,
};
use super::Ui;
use crate::events::{Answer, Event};
use crate::model::Mode;
use crate::panel::aggregate::{Counts, DECISIONS};
use crate::panel::groups::{destination_rows, source_rows, GroupRow, RowKind};
use crate::panel::i18n::Catalog;
use crate::panel::labels;
use crate::panel::rules::RuleTarget;
use crate::panel::summary_view;
use crate::panel::text::row_text;
use std::collections::{HashMap, HashSet};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlTextAreaElement};

/// Questions shown at once in the questions tab.
const MAX_PROMPTS: usize = 20;
/// Export formats: (host format, message key, file name, MIME type).
const FORMATS: [(&str, &str, &str, &str); 5] = [
    (
        "json",
        "tpr-export-json",
        "tpr-auditor-consent.json",
        "application/json",
    ),
    ("csp", "tpr-export-csp", "tpr-auditor-csp.txt", "text/plain"),
    (
        "declaration",
        "tpr-export-declaration",
        "tpr-auditor-declaration.json",
        "application/json",
    ),
    (
        "table",
        "tpr-export-table",
        "tpr-auditor-rules.txt",
        "text/plain",
    ),
    (
        "report",
        "tpr-export-report",
        "tpr-auditor-report.json",
        "application/json",
    ),
];

/// One line of numbers: requests, then per decision (blocked, unconsented, pending, allowed).
struct CountCells {
    cells: Vec<(TextCell, AttrCell)>,
}

impl CountCells {
    fn build(doc: &Document, tr: &Element) -> R<CountCells> {
        let mut cells = Vec::new();
        for _ in 0..5 {
            let td = el_in(doc, tr, "td", "num")?;
            let a = AttrCell::new(&td, "class");
            cells.push((TextCell::new_in(doc, &td, "0")?, a));
        }
        Ok(CountCells { cells })
    }

    fn set(&mut self, c: &Counts) {
        let values = [c.requests, c.blocked, c.unconsented, c.pending, c.allowed];
        for (i, (v, (t, a))) in values.iter().zip(self.cells.iter_mut()).enumerate() {
            t.set(&v.to_string());
            let hot = *v > 0 && (i == 1 || i == 2);
            a.set(if *v == 0 {
                "num zero"
            } else if hot {
                "num hot"
            } else {
                "num"
            });
        }
    }
}

fn count_header(doc: &Document, cat: &Catalog, tr: &Element) -> R<()> {
    let th = el_in(doc, tr, "th", "num")?;
    attr(&th, "scope", "col");
    text_in(doc, &th, &cat.msg("tpr-summary-col-requests"))?;
    for d in DECISIONS {
        let th = el_in(doc, tr, "th", "num")?;
        attr(&th, "scope", "col");
        let i = el_in(doc, &th, "span", &format!("ico d-{}", d.as_str()))?;
        attr(&i, "aria-hidden", "true");
        text_in(doc, &i, labels::decision_icon(d))?;
        text_in(doc, &th, &labels::decision_name(cat, d))?;
    }
    Ok(())
}

pub(super) struct SummaryDom {
    risks: Vec<CountCells>,
    parties: Vec<CountCells>,
    totals: TextCell,
    untracked_el: Element,
    untracked: TextCell,
}

impl SummaryDom {
    pub(super) fn build(doc: &Document, cat: &Catalog, parent: &Element) -> R<SummaryDom> {
        let make = |heading: &str, rows: Vec<(String, &'static str)>| -> R<Vec<CountCells>> {
            let h = el_in(doc, parent, "h3", "")?;
            text_in(doc, &h, heading)?;
            let table = el_in(doc, parent, "table", "")?;
            attr(&table, "aria-label", heading);
            let thead = el_in(doc, &table, "thead", "")?;
            let tr = el_in(doc, &thead, "tr", "")?;
            let th = el_in(doc, &tr, "th", "")?;
            attr(&th, "scope", "col");
            text_in(doc, &th, &cat.msg("tpr-summary-col-what"))?;
            count_header(doc, cat, &tr)?;
            let tbody = el_in(doc, &table, "tbody", "")?;
            let mut out = Vec::new();
            for (label, icon) in rows {
                let tr = el_in(doc, &tbody, "tr", "")?;
                let th = el_in(doc, &tr, "th", "")?;
                attr(&th, "scope", "row");
                if !icon.is_empty() {
                    let i = el_in(doc, &th, "span", "ico")?;
                    attr(&i, "aria-hidden", "true");
                    text_in(doc, &i, icon)?;
                }
                text_in(doc, &th, &label)?;
                out.push(CountCells::build(doc, &tr)?);
            }
            Ok(out)
        };
        let risks = make(
            &cat.msg("tpr-summary-risk-heading"),
            crate::panel::aggregate::Risk::ALL
                .iter()
                .map(|r| (labels::risk_name(cat, *r), ""))
                .collect(),
        )?;
        let parties = make(
            &cat.msg("tpr-summary-party-heading"),
            summary_parties()
                .iter()
                .map(|p| (labels::party_name(cat, *p), labels::party_icon(*p)))
                .collect(),
        )?;
        let p = el_in(doc, parent, "p", "note")?;
        let totals = TextCell::new_in(doc, &p, "")?;
        let untracked_el = el_in(doc, parent, "p", "note")?;
        let untracked = TextCell::new_in(doc, &untracked_el, "")?;
        set_hidden(&untracked_el, true);
        Ok(SummaryDom {
            risks,
            parties,
            totals,
            untracked_el,
            untracked,
        })
    }
}

fn summary_parties() -> Vec<crate::model::Party> {
    use crate::model::Party;
    let mut v = Party::ALL.to_vec();
    crate::sort::sort_by_key(&mut v, |p| crate::panel::aggregate::party_rank(*p));
    v
}

/// Which grouping.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum GroupView {
    Destinations,
    Sources,
}

struct GroupRowDom {
    key: String,
    tr: Element,
    toggle: Option<(AttrCell, TextCell)>,
    label: TextCell,
    tier_icon: Option<(TextCell, AttrCell)>,
    requests: TextCell,
    flagged: TextCell,
    flagged_class: AttrCell,
    index_attrs: Vec<AttrCell>,
}

pub(super) struct GroupDom {
    view: GroupView,
    tbody: Element,
    empty: Element,
    rows: Vec<GroupRowDom>,
    pub(super) model: Vec<GroupRow>,
    expanded: HashSet<String>,
}

impl GroupDom {
    pub(super) fn build(
        doc: &Document,
        cat: &Catalog,
        parent: &Element,
        view: GroupView,
    ) -> R<GroupDom> {
        let (label, col) = match view {
            GroupView::Destinations => {
                ("tpr-groups-destination-label", "tpr-group-col-destination")
            }
            GroupView::Sources => ("tpr-groups-source-label", "tpr-group-col-source"),
        };
        let table = el_in(doc, parent, "table", "groups")?;
        attr(&table, "aria-label", &cat.msg(label));
        let thead = el_in(doc, &table, "thead", "")?;
        let tr = el_in(doc, &thead, "tr", "")?;
        for (key, class) in [
            (col, ""),
            ("tpr-summary-col-requests", "num"),
            ("tpr-group-col-flagged", "num"),
            ("tpr-col-actions", ""),
        ] {
            let th = el_in(doc, &tr, "th", class)?;
            attr(&th, "scope", "col");
            text_in(doc, &th, &cat.msg(key))?;
        }
        let tbody = el_in(doc, &table, "tbody", "")?;
        let empty = el_in(doc, parent, "p", "empty")?;
        text_in(doc, &empty, &cat.msg("tpr-groups-empty"))?;
        Ok(GroupDom {
            view,
            tbody,
            empty,
            rows: Vec::new(),
            model: Vec::new(),
            expanded: HashSet::new(),
        })
    }

    fn view_code(&self) -> &'static str {
        match self.view {
            GroupView::Destinations => "d",
            GroupView::Sources => "s",
        }
    }

    fn make_row(&self, doc: &Document, cat: &Catalog, row: &GroupRow) -> R<GroupRowDom> {
        let v = self.view_code();
        let tr = crate::web::panel::dom::el(doc, "tr", &format!("depth-{}", row.depth))?;
        let name = el_in(doc, &tr, "td", "name")?;
        let mut index_attrs = Vec::new();
        let mut toggle = None;
        let mut tier_icon = None;
        let info = matches!(
            row.kind,
            RowKind::More(_) | RowKind::Dropped(_) | RowKind::Untracked
        );
        if info {
            let _ = tr.class_list().add_1("info");
        }
        if row.expanded.is_some() {
            let b = button_in(doc, &name, "quiet toggle", "group-toggle", "")?;
            attr(&b, "data-v", v);
            attr(
                &b,
                "aria-label",
                &cat.fmt("tpr-group-toggle", &[&row.label]),
            );
            let glyph = TextCell::new_in(doc, &b, "▸")?;
            index_attrs.push(AttrCell::new(&b, "data-i"));
            toggle = Some((AttrCell::new(&b, "aria-expanded"), glyph));
        }
        if !info {
            let i = el_in(doc, &name, "span", "ico")?;
            attr(&i, "aria-hidden", "true");
            tier_icon = Some((TextCell::new_in(doc, &i, "")?, AttrCell::new(&i, "class")));
        }
        if let (false, Some(party)) = (info, row.party) {
            // The party's glyph, its name as the text alternative (fixed per row key).
            let i = el_in(doc, &name, "span", "ico p-ico")?;
            attr(&i, "aria-hidden", "true");
            attr(&i, "title", &labels::party_name(cat, party));
            text_in(doc, &i, labels::party_icon(party))?;
            let sr = el_in(doc, &name, "span", "sr")?;
            text_in(doc, &sr, &labels::party_name(cat, party))?;
        }
        let label = if let RowKind::Request(_) = row.kind {
            let b = button_in(doc, &name, "linklike data", "group-details", "")?;
            attr(&b, "data-v", v);
            index_attrs.push(AttrCell::new(&b, "data-i"));
            TextCell::new_in(doc, &b, "")?
        } else {
            let s = el_in(doc, &name, "span", "data")?;
            TextCell::new_in(doc, &s, "")?
        };
        let td = el_in(doc, &tr, "td", "num")?;
        let requests = TextCell::new_in(doc, &td, "")?;
        let td = el_in(doc, &tr, "td", "num")?;
        let flagged_class = AttrCell::new(&td, "class");
        let flagged = TextCell::new_in(doc, &td, "")?;
        let td = el_in(doc, &tr, "td", "")?;
        if row.target.is_some() {
            let b = button_in(doc, &td, "quiet", "group-menu", "⋯")?;
            attr(&b, "data-v", v);
            attr(&b, "aria-haspopup", "menu");
            attr(&b, "aria-expanded", "false");
            attr(&b, "aria-label", &cat.msg("tpr-row-actions"));
            attr(&b, "title", &cat.msg("tpr-row-actions"));
            index_attrs.push(AttrCell::new(&b, "data-i"));
        }
        Ok(GroupRowDom {
            key: row.key.clone(),
            tr,
            toggle,
            label,
            tier_icon,
            requests,
            flagged,
            flagged_class,
            index_attrs,
        })
    }
}

impl GroupRowDom {
    fn update(&mut self, cat: &Catalog, row: &GroupRow, index: usize) {
        let label = match row.kind {
            RowKind::More(n) => cat.fmt("tpr-group-more", &[&n.to_string()]),
            RowKind::Dropped(n) => cat.fmt("tpr-group-dropped", &[&n.to_string()]),
            RowKind::Untracked => cat.msg("tpr-group-untracked"),
            RowKind::Group if row.key.starts_with("source:") => {
                labels::source_key_label(cat, row.key.trim_start_matches("source:"))
            }
            _ => row.label.clone(),
        };
        self.label.set(&label);
        if let Some((expanded, glyph)) = &mut self.toggle {
            let open = row.expanded == Some(true);
            expanded.set(if open { "true" } else { "false" });
            glyph.set(if open { "▾" } else { "▸" });
        }
        if let Some((icon, class)) = &mut self.tier_icon {
            icon.set(labels::tier_icon(row.worst));
            class.set(&format!(
                "ico t-{}",
                row.worst.map_or("none", |t| t.as_str())
            ));
        }
        let shown = !matches!(row.kind, RowKind::Dropped(_));
        self.requests.set(&if shown {
            row.counts.requests.to_string()
        } else {
            String::new()
        });
        let flagged = row.counts.flagged();
        self.flagged.set(&if shown {
            flagged.to_string()
        } else {
            String::new()
        });
        self.flagged_class
            .set(if flagged > 0 { "num hot" } else { "num zero" });
        let i = index.to_string();
        for a in &mut self.index_attrs {
            a.set(&i);
        }
    }
}

pub(super) struct PromptsDom {
    hint: Element,
    empty: Element,
    list: Element,
    more_el: Element,
    more: TextCell,
    pub(super) ids: Vec<u64>,
    versions: Vec<Option<u32>>,
}

impl PromptsDom {
    pub(super) fn build(doc: &Document, cat: &Catalog, parent: &Element) -> R<PromptsDom> {
        let hint = el_in(doc, parent, "p", "note")?;
        text_in(doc, &hint, &cat.msg("tpr-prompts-not-ask"))?;
        let empty = el_in(doc, parent, "p", "empty")?;
        text_in(doc, &empty, &cat.msg("tpr-prompts-empty"))?;
        let list = el_in(doc, parent, "ul", "prompts")?;
        let more_el = el_in(doc, parent, "p", "note")?;
        let more = TextCell::new_in(doc, &more_el, "")?;
        set_hidden(&more_el, true);
        Ok(PromptsDom {
            hint,
            empty,
            list,
            more_el,
            more,
            ids: Vec::new(),
            versions: Vec::new(),
        })
    }
}

pub(super) struct ConsentDom {
    /// The wiki's own Content-Security-Policy (extension only), hidden while unknown.
    wiki_csp_el: Element,
    wiki_csp: TextCell,
    output: HtmlTextAreaElement,
    status: TextCell,
    /// The import box (the problem box's "edit the text" fills it).
    pub(super) input: HtmlTextAreaElement,
    errors: Element,
    import_status: TextCell,
}

impl ConsentDom {
    pub(super) fn build(doc: &Document, cat: &Catalog, parent: &Element) -> R<ConsentDom> {
        let h = el_in(doc, parent, "h3", "")?;
        text_in(doc, &h, &cat.msg("tpr-export-heading"))?;
        let table = el_in(doc, parent, "table", "formats")?;
        attr(&table, "aria-label", &cat.msg("tpr-export-heading"));
        let tbody = el_in(doc, &table, "tbody", "")?;
        for (i, (_, key, _, _)) in FORMATS.iter().enumerate() {
            let tr = el_in(doc, &tbody, "tr", "")?;
            let th = el_in(doc, &tr, "th", "")?;
            attr(&th, "scope", "row");
            let name = cat.msg(key);
            text_in(doc, &th, &name)?;
            let td = el_in(doc, &tr, "td", "")?;
            for (how, label) in [
                ("show", "tpr-export-show"),
                ("copy", "tpr-export-copy"),
                ("download", "tpr-export-download"),
            ] {
                let b = button_in(doc, &td, "quiet progressive", "export", &cat.msg(label))?;
                attr(&b, "data-i", &i.to_string());
                attr(&b, "data-m", how);
                attr(&b, "aria-label", &format!("{} — {}", cat.msg(label), name));
            }
        }
        let st = el_in(doc, parent, "p", "status")?;
        attr(&st, "role", "status");
        let status = TextCell::new_in(doc, &st, "")?;
        let l = el_in(doc, parent, "label", "")?;
        attr(&l, "for", "pnl-export-out");
        text_in(doc, &l, &cat.msg("tpr-export-output"))?;
        let out = el_in(doc, parent, "textarea", "")?;
        attr(&out, "id", "pnl-export-out");
        attr(&out, "readonly", "");
        attr(&out, "spellcheck", "false");
        let output: HtmlTextAreaElement = out.dyn_into()?;

        let h = el_in(doc, parent, "h3", "")?;
        text_in(doc, &h, &cat.msg("tpr-import-heading"))?;
        let l = el_in(doc, parent, "label", "")?;
        attr(&l, "for", "pnl-import-in");
        text_in(doc, &l, &cat.msg("tpr-import-label"))?;
        let inp = el_in(doc, parent, "textarea", "")?;
        attr(&inp, "id", "pnl-import-in");
        attr(&inp, "spellcheck", "false");
        let input: HtmlTextAreaElement = inp.dyn_into()?;
        let bar = el_in(doc, parent, "div", "actions")?;
        button_in(
            doc,
            &bar,
            "progressive",
            "import",
            &cat.msg("tpr-import-button"),
        )?;
        let st = el_in(doc, parent, "p", "status")?;
        attr(&st, "role", "status");
        let import_status = TextCell::new_in(doc, &st, "")?;
        let errors = el_in(doc, parent, "ul", "errors")?;
        attr(&errors, "data-field", "import-errors");
        let wiki_csp_el = el_in(doc, parent, "div", "")?;
        attr(&wiki_csp_el, "data-field", "wiki-csp");
        set_hidden(&wiki_csp_el, true);
        let h = el_in(doc, &wiki_csp_el, "h3", "")?;
        text_in(doc, &h, &cat.msg("tpr-wiki-csp-heading"))?;
        let p = el_in(doc, &wiki_csp_el, "p", "data code")?;
        let wiki_csp = TextCell::new_in(doc, &p, "")?;
        let p = el_in(doc, &wiki_csp_el, "p", "note")?;
        text_in(doc, &p, &cat.msg("tpr-wiki-csp-note"))?;
        Ok(ConsentDom {
            wiki_csp_el,
            wiki_csp,
            output,
            status,
            input,
            errors,
            import_status,
        })
    }
}

impl Ui {
    /// The consent tab: the wiki's own policy, when the packaging knows it (text only).
    pub(super) fn render_consent(&mut self) {
        let csp = self.host.wiki_csp();
        let Some(p) = self.p.as_mut() else { return };
        let c = &mut p.consent;
        if let Some(text) = &csp {
            c.wiki_csp.set(text);
        }
        set_hidden(&c.wiki_csp_el, csp.is_none());
    }

    pub(super) fn render_summary(&mut self) {
        let mut view = None;
        let tracker = &self.tracker;
        self.host.with_session(&mut |s| {
            view = Some(summary_view(tracker, s.summary()));
        });
        let Some(v) = view else { return };
        let cat = &self.cat;
        let Some(p) = self.p.as_mut() else { return };
        let d = &mut p.summary;
        for ((_, c), cells) in v.risks.iter().zip(d.risks.iter_mut()) {
            cells.set(c);
        }
        for ((_, c), cells) in v.parties.iter().zip(d.parties.iter_mut()) {
            cells.set(c);
        }
        d.totals.set(&cat.fmt(
            "tpr-summary-totals",
            &[
                &v.requests.to_string(),
                &v.events.to_string(),
                &v.dropped.to_string(),
            ],
        ));
        set_hidden(&d.untracked_el, v.untracked == 0);
        if v.untracked > 0 {
            d.untracked
                .set(&cat.fmt("tpr-summary-untracked", &[&v.untracked.to_string()]));
        }
    }

    fn group_dom(&mut self, view: GroupView) -> Option<&mut GroupDom> {
        let p = self.p.as_mut()?;
        Some(match view {
            GroupView::Destinations => &mut p.dest,
            GroupView::Sources => &mut p.src,
        })
    }

    pub(super) fn render_groups(&mut self, view: GroupView) {
        let expanded = match self.group_dom(view) {
            Some(g) => g.expanded.clone(),
            None => return,
        };
        let tracker = &self.tracker;
        let mut rows = Vec::new();
        self.host.with_session(&mut |s| {
            let held: Vec<&Event> = s.events().collect();
            let untracked = tracker.untracked(s.summary());
            rows = match view {
                GroupView::Destinations => {
                    destination_rows(&tracker.agg, &expanded, &held, &untracked)
                }
                GroupView::Sources => source_rows(&tracker.agg, &expanded, &held, &untracked),
            };
        });
        let Ui { p, doc, cat, .. } = self;
        let Some(p) = p.as_mut() else { return };
        let g = match view {
            GroupView::Destinations => &mut p.dest,
            GroupView::Sources => &mut p.src,
        };
        let same_keys =
            g.rows.len() == rows.len() && g.rows.iter().zip(&rows).all(|(d, r)| d.key == r.key);
        if !same_keys {
            let mut old: HashMap<String, GroupRowDom> =
                g.rows.drain(..).map(|r| (r.key.clone(), r)).collect();
            let mut fresh = Vec::with_capacity(rows.len());
            for r in &rows {
                let dom = match old.remove(&r.key) {
                    Some(d) => d,
                    None => match g.make_row(doc, cat, r) {
                        Ok(d) => d,
                        Err(_) => continue,
                    },
                };
                let _ = g.tbody.append_child(&dom.tr);
                fresh.push(dom);
            }
            for (_, d) in old {
                d.tr.remove();
            }
            g.rows = fresh;
        }
        // `rows` and `g.rows` line up (a row whose DOM could not be made was skipped).
        let mut k = 0;
        for (i, r) in rows.iter().enumerate() {
            if let Some(d) = g.rows.get_mut(k) {
                if d.key == r.key {
                    d.update(cat, r, i);
                    k += 1;
                }
            }
        }
        set_hidden(&g.empty, !rows.is_empty());
        g.model = rows;
    }

    pub(super) fn group_action(&mut self, view: GroupView, act: &str, i: usize, el: &Element) {
        let Some(g) = self.group_dom(view) else {
            return;
        };
        let Some(row) = g.model.get(i).cloned() else {
            return;
        };
        match act {
            "group-toggle" => {
                if !g.expanded.remove(&row.key) {
                    g.expanded.insert(row.key.clone());
                }
                self.render_groups(view);
            }
            "group-menu" => {
                if let Some(t) = row.target {
                    self.open_menu(t, el);
                }
            }
            "group-details" => {
                if let RowKind::Request(id) = row.kind {
                    self.open_details(id, Some(el.clone()));
                }
            }
            _ => {}
        }
    }

    pub(super) fn render_prompts(&mut self, mode: Mode) {
        let mut items: Vec<(u64, Option<u32>, String, String, bool)> = Vec::new();
        let mut total = 0usize;
        let cat = &self.cat;
        let tracker = &self.tracker;
        self.host.with_session(&mut |s| {
            for e in s.prompts() {
                total += 1;
                if items.len() < MAX_PROMPTS {
                    items.push((
                        e.id,
                        tracker.version(e.id),
                        labels::prompt_text(cat, e),
                        row_text(&e.url),
                        RuleTarget::for_event(e).has_scope(),
                    ));
                }
            }
        });
        let Ui { p, doc, cat, .. } = self;
        let Some(p) = p.as_mut() else { return };
        let d = &mut p.prompts;
        set_hidden(&d.hint, mode == Mode::Ask);
        set_hidden(&d.empty, total != 0);
        let more = total.saturating_sub(items.len());
        set_hidden(&d.more_el, more == 0);
        if more > 0 {
            d.more
                .set(&cat.fmt("tpr-prompts-more", &[&more.to_string()]));
        }
        let ids: Vec<u64> = items.iter().map(|i| i.0).collect();
        let versions: Vec<Option<u32>> = items.iter().map(|i| i.1).collect();
        if ids == d.ids && versions == d.versions {
            return;
        }
        clear(&d.list);
        for (i, (_, _, question, url, scoped)) in items.iter().enumerate() {
            let _ = (|| -> R<()> {
                let li = el_in(doc, &d.list, "li", "")?;
                let q = el_in(doc, &li, "p", "q data")?;
                text_in(doc, &q, question)?;
                let u = el_in(doc, &li, "p", "u data")?;
                text_in(doc, &u, url)?;
                let bar = el_in(doc, &li, "div", "actions")?;
                for (answer, key, class) in [
                    (Answer::Once, "tpr-prompt-once", "progressive"),
                    (Answer::Source, "tpr-prompt-source", "progressive"),
                    (Answer::Always, "tpr-prompt-always", "progressive"),
                    (Answer::Block, "tpr-prompt-block", "destructive"),
                ] {
                    if answer == Answer::Source && !scoped {
                        continue;
                    }
                    let b = button_in(doc, &bar, class, "prompt", &cat.msg(key))?;
                    attr(&b, "data-i", &i.to_string());
                    attr(&b, "data-a", answer_code(answer));
                }
                Ok(())
            })();
        }
        d.ids = ids;
        d.versions = versions;
    }

    pub(super) fn export(&mut self, i: usize, how: &str) {
        let Some((format, key, file, mime)) = FORMATS.get(i).copied() else {
            return;
        };
        let name = self.cat.msg(key);
        let text = match self.host.export(format) {
            Ok(t) => t,
            Err(m) => {
                let msg = self.cat.fmt("tpr-export-failed", &[&row_text(&m)]);
                if let Some(p) = self.p.as_mut() {
                    p.consent.status.set(&msg);
                }
                return;
            }
        };
        let Some(p) = self.p.as_mut() else { return };
        p.consent.output.set_value(&text);
        match how {
            "copy" => {
                let copied = self.cat.fmt("tpr-export-copied", &[&name]);
                let failed = self.cat.msg("tpr-export-copy-failed");
                self.copy(&text, copied, failed);
            }
            "download" => {
                let msg = match download(&self.doc, &self.shell, &text, file, mime) {
                    Ok(()) => self.cat.fmt("tpr-export-downloaded", &[file]),
                    Err(e) => self.cat.fmt(
                        "tpr-export-failed",
                        &[&row_text(
                            &e.as_string().unwrap_or_else(|| format!("{e:?}")),
                        )],
                    ),
                };
                p.consent.status.set(&msg);
            }
            _ => {
                p.consent.status.set(&name);
            }
        }
    }

    /// Copies through `navigator.clipboard` when the page has it (secure contexts); the text
    /// is in the output box either way.
    fn copy(&mut self, text: &str, done: String, failed: String) {
        let get = |t: &JsValue, k: &str| {
            js_sys::Reflect::get(t, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
        };
        let clipboard = get(&get(&self.win, "navigator"), "clipboard");
        let write = get(&clipboard, "writeText").dyn_into::<js_sys::Function>();
        let promise = write
            .ok()
            .and_then(|f| f.call1(&clipboard, &JsValue::from_str(text)).ok())
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
        let Some(promise) = promise else {
            self.copy_done(false, &failed);
            return;
        };
        let weak = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
            if let Some(rc) = weak.upgrade() {
                if let Ok(mut ui) = rc.try_borrow_mut() {
                    ui.copy_done(ok, if ok { &done } else { &failed });
                }
            }
        });
    }

    fn copy_done(&mut self, ok: bool, msg: &str) {
        let Some(p) = self.p.as_mut() else { return };
        p.consent.status.set(msg);
        if !ok {
            p.consent.output.select();
        }
    }

    pub(super) fn import(&mut self) {
        let Some(p) = self.p.as_ref() else { return };
        let text = p.consent.input.value();
        let result = self.host.import(&text);
        let Ui {
            p,
            doc,
            cat,
            views_dirty,
            ..
        } = self;
        let Some(p) = p.as_mut() else { return };
        let c = &mut p.consent;
        clear(&c.errors);
        match result {
            Ok(()) => {
                c.import_status.set(&cat.msg("tpr-import-done"));
                *views_dirty = true;
                self.schedule();
            }
            Err(errors) => {
                c.import_status
                    .set(&cat.fmt("tpr-import-errors", &[&errors.len().to_string()]));
                for e in &errors {
                    if let Ok(li) = el_in(doc, &c.errors, "li", "data") {
                        let path = if e.path.is_empty() {
                            "/"
                        } else {
                            e.path.as_str()
                        };
                        let _ = text_in(
                            doc,
                            &li,
                            &cat.fmt(
                                "tpr-import-error-at",
                                &[
                                    &e.line.to_string(),
                                    &e.column.to_string(),
                                    &row_text(path),
                                    &row_text(&e.kind.to_string()),
                                ],
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn answer_code(a: Answer) -> &'static str {
    match a {
        Answer::Once => "once",
        Answer::Source => "source",
        Answer::Always => "always",
        Answer::Block => "block",
    }
}

/// Saves `text` as a file through a temporary `blob:` link.
fn download(doc: &Document, shell: &Element, text: &str, file: &str, mime: &str) -> R<()> {
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let a = crate::web::panel::dom::el(doc, "a", "")?;
    attr(&a, "href", &url);
    attr(&a, "download", file);
    set_hidden(&a, true);
    shell.append_child(&a)?;
    if let Some(h) = a.dyn_ref::<web_sys::HtmlElement>() {
        h.click();
    }
    a.remove();
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        if let Ok(f) = revoke.dyn_into::<js_sys::Function>() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&f, 10_000);
        }
    }
    Ok(())
}

//! The live log's model: which events the filters let through (newest first), kept up to date
//! one changed event at a time, and the virtual-window math that keeps only the visible rows
//! in the DOM (issue 3/7 item 4).

use crate::events::Event;
use crate::model::{Channel, Outcome, Party, Tier};
use crate::panel::text::source_key;
use std::ops::Range;

/// The log's filters (SPEC §9; issue 3/7 item 2). `None` lets everything through.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub party: Option<Party>,
    pub tier: Option<Tier>,
    pub decision: Option<Outcome>,
    pub channel: Option<Channel>,
    /// A source key ([`source_key`]).
    pub source: Option<String>,
    /// Free text, matched case-insensitively against URL, site, source and names.
    pub(in crate::panel) text: String,
}

impl Filter {
    pub fn set_text(&mut self, text: &str) {
        self.text = text.trim().to_lowercase();
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    pub fn matches(&self, e: &Event) -> bool {
        if self.party.is_some_and(|p| p != e.party)
            || self.tier.is_some_and(|t| t != e.tier)
            || self.decision.is_some_and(|d| d != e.decision)
            || self.channel.is_some_and(|c| c != e.channel)
        {
            return false;
        }
        if let Some(s) = &self.source {
            if *s != source_key(&e.source) {
                return false;
            }
        }
        if self.text.is_empty() {
            return true;
        }
        let t = self.text.as_str();
        let has = |s: &str| s.to_lowercase().contains(t);
        has(&e.url)
            || has(&e.site)
            || e.tool.as_deref().is_some_and(has)
            || e.source.name.as_deref().is_some_and(has)
            || e.source.url.as_deref().is_some_and(has)
            || has(e.channel.as_str())
            || has(e.directive.as_str())
            || has(e.method.as_str())
    }
}

/// Ids of the events the filter lets through, ascending (shown newest first).
#[derive(Default, Clone, Debug)]
pub struct LogList {
    ids: Vec<u64>,
}

impl LogList {
    /// Re-filters every event held.
    pub fn rebuild<'a>(&mut self, events: impl Iterator<Item = &'a Event>, f: &Filter) {
        self.ids.clear();
        self.ids
            .extend(events.filter(|e| f.matches(e)).map(|e| e.id));
        crate::sort::sort(&mut self.ids);
        self.ids.dedup();
    }

    /// One event is new or changed: adds or removes it as the filter says. Returns whether
    /// the list changed.
    pub fn update(&mut self, e: &Event, f: &Filter) -> bool {
        let wanted = f.matches(e);
        match (self.ids.binary_search(&e.id), wanted) {
            (Ok(_), true) | (Err(_), false) => false,
            (Ok(i), false) => {
                self.ids.remove(i);
                true
            }
            (Err(i), true) => {
                self.ids.insert(i, e.id);
                true
            }
        }
    }

    /// Drops the ids the ring buffer no longer holds. Returns how many.
    pub fn forget_before(&mut self, first_live: u64) -> usize {
        let n = self.ids.partition_point(|id| *id < first_live);
        self.ids.drain(..n);
        n
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id at display position `i` (0 = newest).
    pub fn at(&self, i: usize) -> Option<u64> {
        let n = self.ids.len();
        (i < n).then(|| self.ids[n - 1 - i])
    }

    /// The display position of `id`.
    pub fn position(&self, id: u64) -> Option<usize> {
        let i = self.ids.binary_search(&id).ok()?;
        Some(self.ids.len() - 1 - i)
    }

    pub fn contains(&self, id: u64) -> bool {
        self.ids.binary_search(&id).is_ok()
    }
}

/// A scrolled list of equal-height rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub row_height: f64,
    pub scroll_top: f64,
    pub height: f64,
}

impl Viewport {
    /// The rows to have in the DOM: those visible plus `overscan` on each side, within `total`.
    pub fn range(&self, total: usize, overscan: usize) -> Range<usize> {
        if total == 0 || self.row_height <= 0.0 || !self.row_height.is_finite() {
            return 0..0;
        }
        let top = if self.scroll_top.is_finite() {
            self.scroll_top.max(0.0)
        } else {
            0.0
        };
        let height = if self.height.is_finite() {
            self.height.max(0.0)
        } else {
            0.0
        };
        let first = (top / self.row_height).floor() as usize;
        let last = ((top + height) / self.row_height).ceil() as usize;
        let start = first.saturating_sub(overscan).min(total);
        let end = last.saturating_add(overscan).min(total).max(start);
        start..end
    }

    /// How many row elements a viewport of this height can ever need.
    pub fn pool_size(&self, overscan: usize) -> usize {
        if self.row_height <= 0.0 || !self.row_height.is_finite() || !self.height.is_finite() {
            return 2 * overscan + 1;
        }
        (self.height.max(0.0) / self.row_height).ceil() as usize + 1 + 2 * overscan
    }

    /// The scroll position that brings row `index` fully into view, if it is not.
    pub fn reveal(&self, index: usize) -> Option<f64> {
        let top = index as f64 * self.row_height;
        let bottom = top + self.row_height;
        if top < self.scroll_top {
            Some(top)
        } else if bottom > self.scroll_top + self.height {
            Some((bottom - self.height).max(0.0))
        } else {
            None
        }
    }

    /// Total scroll height of `total` rows.
    pub fn content_height(&self, total: usize) -> f64 {
        total as f64 * self.row_height
    }
}

/// Where a key press moves the active row (display positions, clamped to the list).
pub fn step(current: Option<usize>, total: usize, key: &str, page: usize) -> Option<usize> {
    if total == 0 {
        return None;
    }
    let last = total - 1;
    let cur = current.map(|c| c.min(last));
    Some(match (key, cur) {
        ("ArrowDown", None) | ("ArrowUp", None) | ("Home", _) => 0,
        ("ArrowDown", Some(c)) => (c + 1).min(last),
        ("ArrowUp", Some(c)) => c.saturating_sub(1),
        ("PageDown", c) => (c.unwrap_or(0) + page.max(1)).min(last),
        ("PageUp", c) => c.unwrap_or(0).saturating_sub(page.max(1)),
        ("End", _) => last,
        _ => return None,
    })
}

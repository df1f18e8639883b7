//! The grouped views (SPEC §9; issue 3/7 item 2): by destination (registrable domain → origin
//! → requests) and by source (gadget or script → origins → requests), riskiest first.
//!
//! Group counts come from the [`Aggregates`] (they count beyond the ring buffer); the request
//! rows under an open origin come from the events still held, with one line saying how many
//! older ones are no longer kept in full.

use crate::events::Event;
use crate::model::{Party, Tier};
use crate::panel::aggregate::{directives_of, party_rank, Aggregates, Counts, DestAgg, IdMap};
use crate::panel::rules::RuleTarget;
use crate::panel::text::{row_text, source_key};
use std::collections::HashSet;

/// Top-level groups shown at most (the rest are summed on one line).
pub const MAX_GROUPS: usize = 300;
/// Origins shown at most under one group.
pub const MAX_CHILDREN: usize = 200;
/// Requests shown at most under one open origin.
pub const MAX_LEAVES: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// A registrable domain (destination view) or a source (source view).
    Group,
    /// An origin under its group.
    Destination,
    /// One request (event id).
    Request(u64),
    /// `n` more groups or children not shown.
    More(u64),
    /// Requests counted under the origin but no longer held in full.
    Dropped(u64),
    /// Requests the panel never saw (see `aggregate::Tracker::untracked`).
    Untracked,
}

/// One line of a grouped view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRow {
    /// Stable identity (for keyed rendering and expansion state).
    pub key: String,
    pub depth: u8,
    pub kind: RowKind,
    /// Display text (already made safe, see `text::row_text`).
    pub label: String,
    pub counts: Counts,
    pub worst: Option<Tier>,
    pub party: Option<Party>,
    /// `Some(open)` for rows that open and close.
    pub expanded: Option<bool>,
    /// What the row's allow/block actions write a rule for.
    pub target: Option<RuleTarget>,
}

/// Riskiest first: destinations outside the wiki operator (third parties, Cloud Services)
/// before the rest; then by worst tier, party, flagged and total requests; then by name.
type SortKey = (bool, Tier, u8, u64, u64, String);

fn sort_key(worst: Tier, party: Party, counts: &Counts, label: &str) -> SortKey {
    (
        !matches!(party, Party::Third | Party::Cloud),
        worst,
        party_rank(party),
        u64::MAX - counts.flagged(),
        u64::MAX - counts.requests,
        label.to_string(),
    )
}

fn dest_target(
    agg: &Aggregates,
    origin: u32,
    d: &DestAgg,
    scope: Option<(String, String)>,
) -> RuleTarget {
    let name = agg.names.name(origin);
    // The legacy tool path form is per request; an origin group allows the whole origin
    // unless it is a legacy tools host, for which the tool's path is kept.
    let destination = match (&d.tool, d.party) {
        (Some(tool), Party::Cloud)
            if name.ends_with("://tools.wmflabs.org")
                || name.ends_with("://tools-static.wmflabs.org") =>
        {
            format!("{name}/{tool}/")
        }
        _ => name.to_string(),
    };
    let (scope, source_key) = match scope {
        Some((scope, key)) => (Some(scope), key),
        None => (None, String::new()),
    };
    RuleTarget {
        destination,
        directives: directives_of(d.directives),
        scope,
        source_key,
    }
}

fn leaves<'a>(
    rows: &mut Vec<GroupRow>,
    parent: &str,
    counts: &Counts,
    events: impl Iterator<Item = &'a Event>,
    depth: u8,
) {
    let mut held: Vec<&Event> = events.collect();
    crate::sort::sort_by_key(&mut held, |e| std::cmp::Reverse(e.id));
    let total_held = held.len() as u64;
    for e in held.iter().take(MAX_LEAVES) {
        let mut c = Counts {
            requests: e.count,
            events: 1,
            ..Counts::default()
        };
        match e.decision {
            crate::model::Outcome::Blocked => c.blocked = e.count,
            crate::model::Outcome::Unconsented => c.unconsented = e.count,
            crate::model::Outcome::Pending => c.pending = e.count,
            crate::model::Outcome::Allowed => c.allowed = e.count,
        }
        rows.push(GroupRow {
            key: format!("{parent}\u{1}event:{}", e.id),
            depth,
            kind: RowKind::Request(e.id),
            label: row_text(&e.url),
            counts: c,
            worst: Some(e.tier),
            party: Some(e.party),
            expanded: None,
            target: Some(RuleTarget::for_event(e)),
        });
    }
    if total_held > MAX_LEAVES as u64 {
        rows.push(GroupRow {
            key: format!("{parent}\u{1}more"),
            depth,
            kind: RowKind::More(total_held - MAX_LEAVES as u64),
            label: String::new(),
            counts: Counts::default(),
            worst: None,
            party: None,
            expanded: None,
            target: None,
        });
    }
    let dropped = counts.events.saturating_sub(total_held);
    if dropped > 0 {
        rows.push(GroupRow {
            key: format!("{parent}\u{1}dropped"),
            depth,
            kind: RowKind::Dropped(dropped),
            label: String::new(),
            counts: Counts::default(),
            worst: None,
            party: None,
            expanded: None,
            target: None,
        });
    }
}

fn more_row(key: &str, depth: u8, n: usize, counts: Counts) -> GroupRow {
    GroupRow {
        key: key.to_string(),
        depth,
        kind: RowKind::More(n as u64),
        label: String::new(),
        counts,
        worst: None,
        party: None,
        expanded: None,
        target: None,
    }
}

/// The entries of `map` that saw events, in display order (`order` gives each one's key).
fn ranked<T, K: Ord>(
    map: &IdMap<T>,
    counts: impl Fn(&T) -> &Counts,
    mut order: impl FnMut(u32, &T) -> K,
) -> Vec<(u32, &T)> {
    let mut items: Vec<(u32, &T)> = map
        .iter()
        .filter(|(_, v)| counts(v).events > 0)
        .map(|(k, v)| (*k, v))
        .collect();
    crate::sort::sort_by_cached_key(&mut items, |(id, v)| order(*id, v));
    items
}

/// Adds a row (or more) per item with `each`, at most `limit` items; the rest are summed on
/// one "more" row keyed `more_key` at `depth`, so a grouping still adds up to the summary.
fn capped<T>(
    rows: &mut Vec<GroupRow>,
    items: &[(u32, &T)],
    limit: usize,
    (more_key, depth): (&str, u8),
    counts: impl Fn(&T) -> &Counts,
    mut each: impl FnMut(&mut Vec<GroupRow>, u32, &T),
) {
    for (i, (id, item)) in items.iter().enumerate() {
        if i == limit {
            let rest = items[i..]
                .iter()
                .fold(Counts::default(), |acc, (_, v)| acc.plus(counts(v)));
            rows.push(more_row(more_key, depth, items.len() - i, rest));
            return;
        }
        each(rows, *id, item);
    }
}

fn untracked_row(untracked: &Counts) -> Option<GroupRow> {
    (untracked.requests > 0).then(|| GroupRow {
        key: "untracked".into(),
        depth: 0,
        kind: RowKind::Untracked,
        label: String::new(),
        counts: *untracked,
        worst: None,
        party: None,
        expanded: None,
        target: None,
    })
}

/// Destination view: site → origin → requests. `expanded` holds the keys of open rows;
/// `events` are the events held (ring buffer), in any order.
pub fn destination_rows(
    agg: &Aggregates,
    expanded: &HashSet<String>,
    events: &[&Event],
    untracked: &Counts,
) -> Vec<GroupRow> {
    let sites = ranked(
        &agg.sites,
        |s| &s.counts,
        |id, s| sort_key(s.worst, s.party, &s.counts, agg.names.name(id)),
    );
    let mut rows = Vec::new();
    capped(
        &mut rows,
        &sites,
        MAX_GROUPS,
        ("more", 0),
        |s| &s.counts,
        |rows, site_id, site| {
            let site_name = agg.names.name(site_id);
            let key = format!("site:{site_name}");
            let open = expanded.contains(&key);
            rows.push(GroupRow {
                key: key.clone(),
                depth: 0,
                kind: RowKind::Group,
                label: row_text(site_name),
                counts: site.counts,
                worst: Some(site.worst),
                party: Some(site.party),
                expanded: Some(open),
                target: None,
            });
            if open {
                let origins = ranked(&site.origins, |d| &d.counts, dest_order(agg));
                let more_key = format!("{key}\u{1}more");
                capped(
                    rows,
                    &origins,
                    MAX_CHILDREN,
                    (&more_key, 1),
                    |d| &d.counts,
                    |rows, origin_id, d| {
                        let origin = agg.names.name(origin_id);
                        destination_row(
                            rows,
                            (&key, origin),
                            d,
                            dest_target(agg, origin_id, d, None),
                            expanded,
                            events.iter().copied().filter(|e| e.origin == origin),
                        );
                    },
                );
            }
        },
    );
    rows.extend(untracked_row(untracked));
    rows
}

/// Source view: source → origins → requests.
pub fn source_rows(
    agg: &Aggregates,
    expanded: &HashSet<String>,
    events: &[&Event],
    untracked: &Counts,
) -> Vec<GroupRow> {
    // Sources: the riskiest destinations they reach first, then how much they sent.
    let sources = ranked(
        &agg.sources,
        |s| &s.counts,
        |id, s| {
            let party = s
                .dests
                .values()
                .map(|d| d.party)
                .min_by_key(|p| party_rank(*p))
                .unwrap_or(Party::First);
            sort_key(s.worst, party, &s.counts, agg.names.name(id))
        },
    );
    let mut rows = Vec::new();
    capped(
        &mut rows,
        &sources,
        MAX_GROUPS,
        ("more", 0),
        |s| &s.counts,
        |rows, src_id, src| {
            let skey = agg.names.name(src_id).to_string();
            let key = format!("source:{skey}");
            let open = expanded.contains(&key);
            rows.push(GroupRow {
                key: key.clone(),
                depth: 0,
                kind: RowKind::Group,
                label: row_text(&skey),
                counts: src.counts,
                worst: Some(src.worst),
                party: None,
                expanded: Some(open),
                target: None,
            });
            if !open {
                return;
            }
            let dests = ranked(&src.dests, |d| &d.counts, dest_order(agg));
            let scope = src.source.scope().map(|s| (s, skey.clone()));
            let more_key = format!("{key}\u{1}more");
            capped(
                rows,
                &dests,
                MAX_CHILDREN,
                (&more_key, 1),
                |d| &d.counts,
                |rows, origin_id, d| {
                    let origin = agg.names.name(origin_id);
                    let mut target = dest_target(agg, origin_id, d, scope.clone());
                    if target.source_key.is_empty() {
                        target.source_key = skey.clone();
                    }
                    destination_row(
                        rows,
                        (&key, origin),
                        d,
                        target,
                        expanded,
                        events
                            .iter()
                            .copied()
                            .filter(|e| e.origin == origin && source_key(&e.source) == skey),
                    );
                },
            );
        },
    );
    rows.extend(untracked_row(untracked));
    rows
}

/// Destinations in a group: riskiest first.
fn dest_order(agg: &Aggregates) -> impl FnMut(u32, &DestAgg) -> SortKey + '_ {
    |id, d| sort_key(d.worst, d.party, &d.counts, agg.names.name(id))
}

/// One origin row under the group `parent`, and its requests when it is open.
fn destination_row<'e>(
    rows: &mut Vec<GroupRow>,
    (parent, origin): (&str, &str),
    d: &DestAgg,
    target: RuleTarget,
    expanded: &HashSet<String>,
    events: impl Iterator<Item = &'e Event>,
) {
    let okey = format!("{parent}\u{1}origin:{origin}");
    let open = expanded.contains(&okey);
    rows.push(GroupRow {
        key: okey.clone(),
        depth: 1,
        kind: RowKind::Destination,
        label: row_text(origin),
        counts: d.counts,
        worst: Some(d.worst),
        party: Some(d.party),
        expanded: Some(open),
        target: Some(target),
    });
    if open {
        leaves(rows, &okey, &d.counts, events, 2);
    }
}

/// Sum of the top-level rows' counts (a grouping must add up to the summary).
pub fn top_level_total(rows: &[GroupRow]) -> Counts {
    rows.iter()
        .filter(|r| r.depth == 0)
        .fold(Counts::default(), |acc, r| acc.plus(&r.counts))
}

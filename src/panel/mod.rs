//! The live panel's view model (SPEC §9, issue 3/7): everything the panel decides that does
//! not need a browser, tested natively. The DOM side (`web::panel`) only draws what these
//! modules compute and sends the user's actions to the page runtime.
//!
//! | module | what it answers |
//! |---|---|
//! | [`aggregate`] | counts per risk, destination and source that outlive the ring buffer |
//! | [`log`] | the filtered log (newest first) and the virtual window over it |
//! | [`groups`] | the grouped views: by destination, by source |
//! | [`rules`] | the consent rule an allow/block action writes |
//! | [`labels`] | every visible text, through the message catalog |
//! | [`i18n`] | the message catalog (banana JSON, `$1`, `{{PLURAL}}`, fallback per key) |
//! | [`text`] | page strings made safe to read (bidi controls, size) |
//! | [`state`] | what the panel remembers (open, place, tab) |
//! | [`scan`] | the Scan view: what to fetch, batches, findings per gadget, the user-script tree |

pub mod aggregate;
pub mod groups;
pub mod i18n;
pub mod labels;
pub mod log;
pub mod rules;
pub mod scan;
pub mod state;
pub mod text;

use crate::events::Summary;
use crate::model::Party;
use aggregate::{party_counts, party_rank, Counts, Risk, Tracker};

/// The summary tab's numbers (SPEC §9: live counts by party and decision, riskiest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryView {
    /// Risk lines in the order shown (riskiest first).
    pub risks: Vec<(Risk, Counts)>,
    /// Parties, riskiest first (third parties first, the wiki itself last).
    pub parties: Vec<(Party, Counts)>,
    pub requests: u64,
    pub events: u64,
    pub dropped: u64,
    /// What the panel could not count per risk (see `aggregate::Tracker::untracked`).
    pub untracked: u64,
    /// The badge number: unconsented plus blocked requests.
    pub flagged: u64,
    pub pending: u64,
}

pub fn summary_view(tracker: &Tracker, summary: &Summary) -> SummaryView {
    let risks = Risk::ALL
        .iter()
        .map(|r| (*r, tracker.agg.risk(*r)))
        .collect();
    let mut parties: Vec<Party> = Party::ALL.to_vec();
    crate::sort::sort_by_key(&mut parties, |p| party_rank(*p));
    SummaryView {
        risks,
        parties: parties
            .into_iter()
            .map(|p| (p, party_counts(summary, p)))
            .collect(),
        requests: summary.requests,
        events: summary.events,
        dropped: summary.dropped,
        untracked: tracker.untracked(summary).requests,
        flagged: summary.unconsented + summary.blocked,
        pending: summary.pending,
    }
}

#[cfg(test)]
mod tests;

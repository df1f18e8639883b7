//! Counts the panel shows that must outlive the event ring buffer (issue 3/7 item 4): totals
//! per risk category, per destination (site → origin) and per source (→ origin).
//!
//! The page runtime tells the panel which events changed ([`Tracker::observe`] is called for
//! each of them, also while the panel is closed). The tracker keeps, per event still in the
//! ring, the small [`Contribution`] it last counted, so an update (a repeat, a re-attribution,
//! a decision) first takes the old contribution out, then adds the new one. Events the ring
//! has dropped keep counting: their last contribution stays in the aggregates for good.
//!
//! One limit, made visible instead of hidden: when more than the ring's capacity of events is
//! recorded within one task, some are dropped before the panel hears of them. The panel can
//! only count what it saw; [`Tracker::untracked`] compares with the session's own summary
//! (which counts everything) and the views show the difference as its own line, so every
//! grouping still sums to the summary's totals.

use crate::events::{Event, Summary};
use crate::model::{CarryKind, Directive, Outcome, Party, Source, SourceKind, Tier};
use crate::panel::text::source_key;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// Tables keyed by interned ids. The ids are handed out in order by [`Interner`], never
/// chosen by the page, so one multiply is hash enough (the interner itself, keyed by page
/// strings, keeps the standard keyed hash).
pub type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHash>>;

/// The hash of an interned id: a multiply by an odd constant (Fibonacci hashing), whose high
/// bits — the ones the table uses — depend on every bit of the id.
#[derive(Default, Clone, Copy, Debug)]
pub struct IdHash(u64);

impl Hasher for IdHash {
    fn write(&mut self, bytes: &[u8]) {
        // Only u32 keys are hashed here; any other input still hashes deterministically.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, id: u32) {
        self.0 = (self.0 ^ u64::from(id)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Requests (repeats included) and distinct events, with the requests split by decision.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Counts {
    pub requests: u64,
    pub events: u64,
    pub blocked: u64,
    pub unconsented: u64,
    pub pending: u64,
    pub allowed: u64,
}

impl Counts {
    fn apply(&mut self, decision: Outcome, count: u64, sign: i64) {
        let add = |v: &mut u64, n: u64| {
            *v = if sign >= 0 {
                v.saturating_add(n)
            } else {
                v.saturating_sub(n)
            }
        };
        add(&mut self.requests, count);
        add(&mut self.events, 1);
        match decision {
            Outcome::Blocked => add(&mut self.blocked, count),
            Outcome::Unconsented => add(&mut self.unconsented, count),
            Outcome::Pending => add(&mut self.pending, count),
            Outcome::Allowed => add(&mut self.allowed, count),
        }
    }

    pub fn get(&self, decision: Outcome) -> u64 {
        match decision {
            Outcome::Blocked => self.blocked,
            Outcome::Unconsented => self.unconsented,
            Outcome::Pending => self.pending,
            Outcome::Allowed => self.allowed,
        }
    }

    /// Requests that went out without consent or were stopped: what the badge counts.
    pub fn flagged(&self) -> u64 {
        self.blocked + self.unconsented
    }

    /// `self - other`, never below zero.
    pub fn minus(&self, other: &Counts) -> Counts {
        Counts {
            requests: self.requests.saturating_sub(other.requests),
            events: self.events.saturating_sub(other.events),
            blocked: self.blocked.saturating_sub(other.blocked),
            unconsented: self.unconsented.saturating_sub(other.unconsented),
            pending: self.pending.saturating_sub(other.pending),
            allowed: self.allowed.saturating_sub(other.allowed),
        }
    }

    pub fn plus(&self, other: &Counts) -> Counts {
        Counts {
            requests: self.requests + other.requests,
            events: self.events + other.events,
            blocked: self.blocked + other.blocked,
            unconsented: self.unconsented + other.unconsented,
            pending: self.pending + other.pending,
            allowed: self.allowed + other.allowed,
        }
    }
}

/// The decisions in the order the panel lists them (the worst first).
pub const DECISIONS: [Outcome; 4] = [
    Outcome::Blocked,
    Outcome::Unconsented,
    Outcome::Pending,
    Outcome::Allowed,
];

/// Summary lines, riskiest first (SPEC §9). One request can fall in several.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Risk {
    /// Third-party code running in the page: scripts, workers, objects, unsandboxed frames.
    ExecutableThird,
    /// Requests carrying a CSRF or other token.
    Tokens,
    /// Requests carrying the user name, page, revision or cookies.
    UserData,
    /// Code from Wikimedia Cloud Services (Toolforge tools and the like).
    ExecutableCloud,
    /// Every other third-party request.
    OtherThird,
    /// Every other Cloud Services request.
    OtherCloud,
}

impl Risk {
    pub const ALL: [Risk; 6] = [
        Risk::ExecutableThird,
        Risk::Tokens,
        Risk::UserData,
        Risk::ExecutableCloud,
        Risk::OtherThird,
        Risk::OtherCloud,
    ];

    /// Its place in [`Risk::ALL`] (declared in that order; a test checks).
    fn index(self) -> usize {
        self as usize
    }

    fn applies(self, c: &Contribution) -> bool {
        let exec = c.tier == Tier::Executable;
        match self {
            Risk::ExecutableThird => exec && c.party == Party::Third,
            Risk::Tokens => c.carries & CarryKind::Token.bit() != 0,
            Risk::UserData => c.carries & !CarryKind::Token.bit() != 0,
            Risk::ExecutableCloud => exec && c.party == Party::Cloud,
            Risk::OtherThird => !exec && c.party == Party::Third,
            Risk::OtherCloud => !exec && c.party == Party::Cloud,
        }
    }
}

/// Bit of a directive in a directive set (`u16`, one bit per [`Directive::ALL`] entry, which
/// lists them in declaration order; a test checks).
pub fn directive_bit(d: Directive) -> u16 {
    1 << (d as u16)
}

/// The directives of a set, in model order.
pub fn directives_of(bits: u16) -> Vec<Directive> {
    Directive::ALL
        .into_iter()
        .filter(|d| bits & directive_bit(*d) != 0)
        .collect()
}

/// Risk order of parties for sorting (third parties first, the wiki itself last).
pub fn party_rank(p: Party) -> u8 {
    match p {
        Party::Third => 0,
        Party::Cloud => 1,
        Party::Wikimedia => 2,
        Party::Local => 3,
        Party::First => 4,
    }
}

/// Interned strings (sites, origins, source keys): counted per id, named once.
///
/// Every event looks up its site, origin and source here, also while the panel is closed, so
/// a small direct-mapped cache of recent names (slot chosen by the length and the last bytes,
/// hit confirmed by comparing the whole name) answers most lookups without hashing the name.
/// The map behind it keeps the standard keyed hash: the names come from the page, and a page
/// choosing names that share a cache slot only makes lookups take the map's path.
#[derive(Debug, Clone)]
pub struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32>,
    recent: Vec<Option<(String, u32)>>,
}

/// Enough for the destinations of a busy page (a few hundred origins) to rarely share a slot.
const RECENT_SLOTS: usize = 512;

impl Default for Interner {
    fn default() -> Interner {
        Interner {
            names: Vec::new(),
            index: HashMap::new(),
            recent: vec![None; RECENT_SLOTS],
        }
    }
}

/// The cache slot of a name: its length and last 8 bytes (origins and sites differ at their
/// ends: the host's last labels, the port), mixed by one multiply.
fn recent_slot(name: &str) -> usize {
    let b = name.as_bytes();
    let mut tail = [0u8; 8];
    let n = b.len().min(8);
    tail[..n].copy_from_slice(&b[b.len() - n..]);
    let h = (u64::from_le_bytes(tail) ^ b.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 55) as usize % RECENT_SLOTS
}

impl Interner {
    pub fn id(&mut self, name: &str) -> u32 {
        let slot = recent_slot(name);
        if let Some(Some((n, id))) = self.recent.get(slot) {
            if n == name {
                return *id;
            }
        }
        let id = match self.index.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.names.push(name.to_string());
                self.index.insert(name.to_string(), id);
                id
            }
        };
        if let Some(entry) = self.recent.get_mut(slot) {
            match entry {
                Some((n, cached)) => {
                    n.clear();
                    n.push_str(name);
                    *cached = id;
                }
                None => *entry = Some((name.to_string(), id)),
            }
        }
        id
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// What one event adds to the aggregates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Contribution {
    pub site: u32,
    pub origin: u32,
    pub source: u32,
    pub directive: Directive,
    pub party: Party,
    pub tier: Tier,
    pub decision: Outcome,
    pub carries: u8,
    pub count: u64,
}

/// One destination (an origin), either under its site or under a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestAgg {
    pub counts: Counts,
    /// The riskiest tier ever seen.
    pub worst: Tier,
    /// Directives ever seen (see [`directive_bit`]).
    pub directives: u16,
    pub party: Party,
    pub site: u32,
    /// The Cloud Services tool, when there is one.
    pub tool: Option<String>,
}

impl DestAgg {
    fn new(c: &Contribution, tool: Option<&str>) -> DestAgg {
        DestAgg {
            counts: Counts::default(),
            worst: c.tier,
            directives: 0,
            party: c.party,
            site: c.site,
            tool: tool.map(str::to_string),
        }
    }

    fn apply(&mut self, c: &Contribution, sign: i64) {
        self.counts.apply(c.decision, c.count, sign);
        if sign > 0 {
            self.worst = self.worst.min(c.tier);
            self.directives |= directive_bit(c.directive);
        }
    }
}

/// A registrable domain and its origins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteAgg {
    pub counts: Counts,
    pub worst: Tier,
    pub party: Party,
    pub origins: IdMap<DestAgg>,
}

/// A source and the origins it contacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceAgg {
    pub counts: Counts,
    pub worst: Tier,
    /// The source as first seen (for its label and consent scope).
    pub source: Source,
    pub dests: IdMap<DestAgg>,
}

/// Everything counted so far.
#[derive(Default, Debug, Clone)]
pub struct Aggregates {
    pub names: Interner,
    pub total: Counts,
    risk: [Counts; 6],
    pub sites: IdMap<SiteAgg>,
    pub sources: IdMap<SourceAgg>,
    memo: Memo,
}

/// The last source interned, by what its key depends on (kind and name, see `source_key`):
/// events come in runs from one gadget, and the key is a formatted string, built only when
/// the source changes.
#[derive(Default, Debug, Clone)]
struct Memo {
    source: Option<(SourceKind, Option<String>, u32)>,
}

impl Aggregates {
    pub fn risk(&self, r: Risk) -> Counts {
        self.risk[r.index()]
    }

    fn contribution(&mut self, e: &Event) -> Contribution {
        let mut carries = 0;
        for k in &e.carries {
            carries |= k.bit();
        }
        let site_name = if e.site.is_empty() {
            &e.origin
        } else {
            &e.site
        };
        let site = self.names.id(site_name);
        let origin = self.names.id(&e.origin);
        // The key depends on the source's kind and name only (`source_key`).
        let source = match &self.memo.source {
            Some((kind, name, id)) if *kind == e.source.kind && *name == e.source.name => *id,
            _ => {
                let id = self.names.id(&source_key(&e.source));
                self.memo.source = Some((e.source.kind, e.source.name.clone(), id));
                id
            }
        };
        Contribution {
            site,
            origin,
            source,
            directive: e.directive,
            party: e.party,
            tier: e.tier,
            decision: e.decision,
            carries,
            count: e.count,
        }
    }

    fn apply(&mut self, c: &Contribution, e: Option<&Event>, sign: i64) {
        self.total.apply(c.decision, c.count, sign);
        for r in Risk::ALL {
            if r.applies(c) {
                self.risk[r.index()].apply(c.decision, c.count, sign);
            }
        }
        let tool = e.and_then(|e| e.tool.as_deref());
        let site = self.sites.entry(c.site).or_insert_with(|| SiteAgg {
            counts: Counts::default(),
            worst: c.tier,
            party: c.party,
            origins: IdMap::default(),
        });
        site.counts.apply(c.decision, c.count, sign);
        if sign > 0 {
            site.worst = site.worst.min(c.tier);
        }
        site.origins
            .entry(c.origin)
            .or_insert_with(|| DestAgg::new(c, tool))
            .apply(c, sign);
        let entry = match (self.sources.get_mut(&c.source), e) {
            (Some(s), _) => Some(s),
            (None, Some(e)) => Some(self.sources.entry(c.source).or_insert(SourceAgg {
                counts: Counts::default(),
                worst: c.tier,
                source: e.source.clone(),
                dests: IdMap::default(),
            })),
            (None, None) => None,
        };
        if let Some(src) = entry {
            src.counts.apply(c.decision, c.count, sign);
            if sign > 0 {
                src.worst = src.worst.min(c.tier);
            }
            src.dests
                .entry(c.origin)
                .or_insert_with(|| DestAgg::new(c, tool))
                .apply(c, sign);
            if src.counts.events == 0 {
                // A provisional source every event left (re-attributed to its gadget).
                self.sources.remove(&c.source);
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Snap {
    c: Contribution,
    version: u32,
}

/// What [`Tracker::observe`] found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Seen {
    New { blocked: bool },
    Changed { newly_blocked: bool },
    Same,
}

/// Keeps the aggregates in step with the session's events (see the module docs).
#[derive(Default, Debug, Clone)]
pub struct Tracker {
    pub agg: Aggregates,
    base: u64,
    snaps: VecDeque<Option<Snap>>,
}

/// Ids further than this before the oldest tracked one are not tracked (a bogus id).
const MAX_GAP: u64 = 1 << 20;

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    fn slot(&mut self, id: u64) -> Option<&mut Option<Snap>> {
        if self.snaps.is_empty() {
            self.base = id;
        }
        if id < self.base {
            let gap = self.base - id;
            if gap > MAX_GAP {
                return None;
            }
            for _ in 0..gap {
                self.snaps.push_front(None);
            }
            self.base = id;
        }
        let idx = usize::try_from(id - self.base).ok()?;
        if idx == self.snaps.len() {
            // The usual case: the next new event.
            self.snaps.push_back(None);
        } else if idx > self.snaps.len() {
            if (idx - self.snaps.len()) as u64 > MAX_GAP {
                return None;
            }
            self.snaps.resize(idx + 1, None);
        }
        self.snaps.get_mut(idx)
    }

    /// Counts a new or changed event.
    pub fn observe(&mut self, e: &Event) -> Seen {
        let c = self.agg.contribution(e);
        let Some(slot) = self.slot(e.id) else {
            return Seen::Same;
        };
        match *slot {
            Some(old) if old.c == c => Seen::Same,
            Some(old) => {
                *slot = Some(Snap {
                    c,
                    version: old.version.wrapping_add(1),
                });
                self.agg.apply(&old.c, None, -1);
                self.agg.apply(&c, Some(e), 1);
                Seen::Changed {
                    newly_blocked: old.c.decision != Outcome::Blocked
                        && c.decision == Outcome::Blocked,
                }
            }
            None => {
                *slot = Some(Snap { c, version: 0 });
                self.agg.apply(&c, Some(e), 1);
                Seen::New {
                    blocked: c.decision == Outcome::Blocked,
                }
            }
        }
    }

    /// Forgets the per-event records of events the ring has dropped (their counts stay).
    pub fn forget_before(&mut self, first_live: u64) {
        while self.base < first_live && !self.snaps.is_empty() {
            self.snaps.pop_front();
            self.base += 1;
        }
    }

    /// How often an event changed since the tracker first saw it (to skip unchanged rows).
    pub fn version(&self, id: u64) -> Option<u32> {
        let idx = usize::try_from(id.checked_sub(self.base)?).ok()?;
        self.snaps.get(idx)?.map(|s| s.version)
    }

    /// Per-event records held (bounded by the ring buffer).
    pub fn tracked(&self) -> usize {
        self.snaps.len()
    }

    /// What the session counted that the tracker never saw (see the module docs).
    pub fn untracked(&self, summary: &Summary) -> Counts {
        let counted = Counts {
            requests: summary.requests,
            events: summary.events,
            blocked: summary.blocked,
            unconsented: summary.unconsented,
            pending: summary.pending,
            allowed: summary
                .requests
                .saturating_sub(summary.blocked + summary.unconsented + summary.pending),
        };
        counted.minus(&self.agg.total)
    }
}

/// The session's own counts for one party, from its summary.
pub fn party_counts(summary: &Summary, party: Party) -> Counts {
    let mut c = Counts::default();
    if let Some(by) = summary.by_party.get(party.as_str()) {
        for d in DECISIONS {
            let n = by.get(d.as_str()).copied().unwrap_or(0);
            match d {
                Outcome::Blocked => c.blocked = n,
                Outcome::Unconsented => c.unconsented = n,
                Outcome::Pending => c.pending = n,
                Outcome::Allowed => c.allowed = n,
            }
            c.requests += n;
        }
    }
    c
}

//! The event log of one page (SPEC §8): turns the bootstrap's raw observations into events,
//! merges what several observers saw of one request, folds repeats, and keeps the summary.
//!
//! This is the runtime's brain, kept free of browser types so it is tested natively; the
//! page glue (`web::page`) only moves observations in and events out.
//!
//! Decisions recorded here:
//! * **One request, one event.** A hook sees a request when it starts; the catch-alls
//!   (`PerformanceObserver`, `securitypolicyviolation`) see it later. A catch-all sighting is
//!   merged into the oldest event for the same URL that this observer has not yet accounted
//!   for (`count` sightings per observer at most); only a sighting with no such event becomes
//!   an event of its own, with the honest source `page` (no stack: never a guess).
//! * **Repeats fold.** Hook sightings with the same channel, URL, method and source add to
//!   `count` of one event instead of adding rows (a polling gadget is one line, not 10,000).
//! * **Attribution can wait for a batch.** A frame inside a production `load.php` batch needs
//!   the batch text to map its position to a module. When the text is not known yet, the
//!   event is published with the honest provisional source (`script`, the batch URL), the
//!   [`BatchSource`] is asked to load it, and [`Session::add_batch`] re-attributes every
//!   waiting event when it arrives (the glue re-dispatches them as updates).
//! * **Bounded memory.** Full events live in a ring buffer (`cap`, default 5,000); the summary
//!   keeps counting what the ring has forgotten.

use crate::assess::{Auditor, RequestError, RequestInput};
use crate::attribution::{self, AttributionContext, BatchIndex, BatchLookup, Frame, FrameOrigin};
use crate::carried::PageValues;
use crate::consent::{DirectiveSet, Rule, RuleRef, Scope, SeenLoad, SourceExpr};
use crate::model::{
    CarryKind, Channel, Directive, Mode, Outcome, Party, Source, SourceKind, Tier, Verdict,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// Default number of full events kept (issue 3/7 item 4).
pub const DEFAULT_CAP: usize = 5_000;
/// Frames kept per event for the details pane; stacks can be thousands of frames deep.
const MAX_FRAMES: usize = 24;
/// Sightings of one request by two observers are at most this far apart (ms): a resource
/// entry's `startTime` is when the fetch started, close to the hook's call.
const MERGE_WINDOW_MS: f64 = 5_000.0;
/// Re-resolution rounds when a batch text becomes available synchronously.
const MAX_BATCH_ROUNDS: usize = 4;
/// Stacks whose attribution is kept (see [`Session::attributed`]); the cache is emptied when
/// it is full.
const ATTRIBUTION_CACHE: usize = 256;

/// Who saw a request (SPEC §8 `observedBy`).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Observer {
    Hook,
    Performance,
    Csp,
    Network,
}

/// Why a request did not load (SPEC §8 `blockedBy`).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum BlockedBy {
    #[serde(rename = "consent")]
    Consent,
    #[serde(rename = "wiki-csp")]
    WikiCsp,
}

/// One raw observation, as the bootstrap delivers it (`makeObs` in `src/js/bootstrap.js`).
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub channel: Channel,
    pub url: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub credentials: bool,
    #[serde(default)]
    pub sandbox: Option<String>,
    #[serde(default, rename = "as")]
    pub preload_as: Option<String>,
    #[serde(default)]
    pub stack: Option<String>,
    #[serde(default)]
    pub t: f64,
    #[serde(default = "hook")]
    pub observed_by: Observer,
    #[serde(default)]
    pub blocked_by: Option<BlockedBy>,
    #[serde(default)]
    pub realm: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default = "yes")]
    pub enforceable: bool,
    #[serde(default = "yes")]
    pub can_hold: bool,
}

fn hook() -> Observer {
    Observer::Hook
}

fn yes() -> bool {
    true
}

impl Observation {
    /// A hook observation with defaults, for tests and the glue.
    pub fn new(channel: Channel, url: impl Into<String>) -> Observation {
        Observation {
            channel,
            url: url.into(),
            method: None,
            body: None,
            credentials: false,
            sandbox: None,
            preload_as: None,
            stack: None,
            t: 0.0,
            observed_by: Observer::Hook,
            blocked_by: None,
            realm: None,
            path: None,
            enforceable: true,
            can_hold: true,
        }
    }

    fn request(&self) -> RequestInput {
        RequestInput {
            url: self.url.clone(),
            channel: self.channel,
            preload_as: self.preload_as.clone(),
            method: self.method.clone(),
            body: self.body.clone(),
            credentials: self.credentials,
            sandbox: self.sandbox.clone(),
        }
    }
}

/// A stack frame as the details pane shows it.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventFrame {
    pub function: Option<String>,
    pub url: String,
    pub line: u32,
    pub column: u32,
    /// The ResourceLoader module this position belongs to, when the URL or a batch index
    /// says (debug `load.php`, tags, production batches once their text is indexed).
    pub module: Option<String>,
}

impl From<&Frame> for EventFrame {
    fn from(f: &Frame) -> EventFrame {
        match &f.eval {
            Some(o) => EventFrame {
                function: f.function.clone(),
                url: o.url.clone(),
                line: o.line,
                column: o.column.unwrap_or(0),
                module: None,
            },
            None => EventFrame {
                function: f.function.clone(),
                url: f.url.clone(),
                line: f.line,
                column: f.column,
                module: None,
            },
        }
    }
}

/// One request as the page API reports it (SPEC §8; camelCase JSON; fields are only added).
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: u64,
    pub t: f64,
    /// Time of the latest repeat folded into this event.
    pub last_t: f64,
    pub channel: Channel,
    pub directive: Directive,
    pub url: String,
    pub origin: String,
    pub method: String,
    pub party: Party,
    pub site: String,
    pub tool: Option<String>,
    pub tier: Tier,
    pub carries: Vec<CarryKind>,
    pub source: Source,
    pub verdict: Verdict,
    pub decision: Outcome,
    pub rule: RuleRef,
    pub blocked_by: Option<BlockedBy>,
    pub enforceable: bool,
    pub observed_by: Vec<Observer>,
    pub count: u64,
    /// `top`, `iframe` or `worker`: the realm the request came from.
    pub realm: String,
    /// Which hook saw it first (`fetch`, `appendChild`, `performance`, …).
    pub path: Option<String>,
    /// True while the source is provisional, waiting for a batch text (see the module docs).
    pub attribution_pending: bool,
    /// The stack, innermost first, without the auditor's own frames (at most 24).
    pub frames: Vec<EventFrame>,
    /// True while the question about a request that could not wait (a beacon, a sync XHR) is
    /// queued: in `ask` mode it was denied at once (`decision: "blocked"`), and it is listed
    /// by [`Session::prompts`] until answered, so the answer can decide the *next* request.
    pub asked: bool,
    /// The user's answer to this event's prompt, once given.
    pub answer: Option<Answer>,
    #[serde(skip)]
    sightings: BTreeMap<Observer, u64>,
    /// Its entry in the fold index, removed with it when the ring drops it (O(1), not a scan).
    #[serde(skip)]
    fold_key: Option<FoldKey>,
    /// Held because the user's stored consent was not readable yet (see
    /// [`Session::wait_for_consent`]); decided when it is, or when the wait is given up.
    #[serde(skip)]
    waits_consent: bool,
}

impl Event {
    /// Still held until the user's stored consent is known ([`Session::wait_for_consent`]).
    pub fn waits_consent(&self) -> bool {
        self.waits_consent
    }
}

/// Counts over every event ever recorded, including those the ring buffer dropped.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Requests (repeats included).
    pub requests: u64,
    /// Distinct events.
    pub events: u64,
    /// Events no longer held in full (ring buffer).
    pub dropped: u64,
    /// Requests by party, then by decision.
    pub by_party: BTreeMap<String, BTreeMap<String, u64>>,
    /// Requests by tier.
    pub by_tier: BTreeMap<String, u64>,
    pub unconsented: u64,
    pub blocked: u64,
    pub pending: u64,
    /// Requests carrying a CSRF or other token.
    pub tokens: u64,
    /// The worst tier seen on a non-first-party request (the badge colour).
    pub worst_tier: Option<Tier>,
}

impl Summary {
    fn apply(&mut self, e: &Event, sign: i64) {
        let n = e.count as i64 * sign;
        let add = |v: &mut u64| *v = (*v as i64 + n).max(0) as u64;
        add(&mut self.requests);
        add(self
            .by_party
            .entry(e.party.as_str().to_string())
            .or_default()
            .entry(e.decision.as_str().to_string())
            .or_default());
        add(self.by_tier.entry(e.tier.as_str().to_string()).or_default());
        match e.decision {
            Outcome::Unconsented => add(&mut self.unconsented),
            Outcome::Blocked => add(&mut self.blocked),
            Outcome::Pending => add(&mut self.pending),
            Outcome::Allowed => {}
        }
        if e.carries.contains(&CarryKind::Token) {
            add(&mut self.tokens);
        }
        if sign > 0 && e.party != Party::First {
            self.worst_tier = Some(match self.worst_tier {
                Some(t) if t <= e.tier => t,
                _ => e.tier,
            });
        }
    }
}

/// The user's answer to an `ask` prompt (SPEC §9).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// Let this request through; ask again next time.
    Once,
    /// Allow this destination and directive for this source from now on.
    Source,
    /// Allow this destination and directive for every source.
    Always,
    /// Block this destination and directive for this source from now on.
    Block,
}

impl Answer {
    pub fn parse(text: &str) -> Option<Answer> {
        match text {
            "once" => Some(Answer::Once),
            "source" => Some(Answer::Source),
            "always" => Some(Answer::Always),
            "block" => Some(Answer::Block),
            _ => None,
        }
    }
}

/// Why an answer could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("no event {0} (answered already, or dropped from the log)")]
    NoSuchEvent(u64),
    #[error("cannot write a rule for this request: {0}")]
    Rule(String),
}

/// What [`Session::observe`] did with an observation.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// A new event (its id).
    New(u64),
    /// An existing event changed: a repeat, or another observer's sighting.
    Updated(u64),
    /// Not an outbound request (`data:`, `blob:`…): nothing recorded.
    Ignored,
}

/// Where the session gets batch texts it needs for attribution.
pub trait BatchSource {
    /// The text of the batch at `url`, if it is available now (`mw-batch://` inline batches
    /// are). For `load.php` URLs the glue starts loading the text, returns `None`, and calls
    /// [`Session::add_batch`] later. Called at most once per URL.
    fn batch_text(&mut self, url: &str) -> Option<String>;
}

/// A [`BatchSource`] that never has anything.
pub struct NoBatchSource;

impl BatchSource for NoBatchSource {
    fn batch_text(&mut self, _url: &str) -> Option<String> {
        None
    }
}

/// Records the batch URLs attribution asked for and did not find.
struct RecordingBatches<'a> {
    known: &'a HashMap<String, BatchIndex>,
    missed: RefCell<Vec<String>>,
}

impl BatchLookup for RecordingBatches<'_> {
    fn batch(&self, url: &str) -> Option<&BatchIndex> {
        let found = self.known.get(url);
        if found.is_none() {
            self.missed.borrow_mut().push(url.to_string());
        }
        found
    }
}

/// Fold key of hook events: the same request from the same source.
#[derive(Hash, PartialEq, Eq, Clone, Debug)]
struct FoldKey {
    channel: Channel,
    url: String,
    method: String,
    source: (SourceKind, Option<String>, Option<String>),
    observer: Observer,
}

/// Settings the glue gives the session.
#[derive(Debug, Clone, Default)]
pub struct OwnCode {
    /// Nonce of genuine `mw-module://` / `mw-batch://` tags.
    pub nonce: Option<String>,
    /// URL prefixes of the auditor's own scripts, skipped in stacks.
    pub prefixes: Vec<String>,
    /// ResourceLoader modules holding the auditor's own code (the gadget packaging,
    /// `ext.gadget.tpr-auditor`): it shares `load.php` batches with the gadgets it watches, so
    /// no URL prefix can name it; frames at positions of these modules are skipped.
    pub modules: Vec<String>,
}

/// The event log and attribution state of one page.
pub struct Session {
    auditor: Auditor,
    user_name: Option<String>,
    own: OwnCode,
    batches: HashMap<String, BatchIndex>,
    /// Batch URLs asked of the [`BatchSource`] (never asked twice).
    requested: HashSet<String>,
    /// Batch URLs whose text could not be read: nothing waits for them.
    unavailable: HashSet<String>,
    /// Events waiting for a batch, with the stack to resolve again.
    waiting: HashMap<String, Vec<(u64, String)>>,
    loaders: HashMap<String, Source>,
    /// Scripts whose loader's attribution still waits for a batch (script URL → that batch):
    /// a request such a script makes waits for the same batch, so its chain names the loader
    /// once known rather than the provisional batch URL.
    provisional_loaders: HashMap<String, String>,
    events: VecDeque<Event>,
    cap: usize,
    next_id: u64,
    folds: HashMap<FoldKey, u64>,
    by_url: HashMap<String, Vec<u64>>,
    summary: Summary,
    /// Finished attributions by stack text: the same call site makes the same stack, and
    /// resolving it (parsing frames and their URLs, looking up batches) was most of the cost
    /// of a request. Only results that asked for no unknown batch are kept (re-resolving them
    /// has no side effect), and the cache is emptied whenever anything attribution reads
    /// changes (batches, unavailable batches, script loaders, the user name, own code).
    attributed: HashMap<String, Attributed>,
}

/// A cached attribution: the source, the event's frames, the batch it waits for.
#[derive(Clone)]
struct Attributed {
    source: Source,
    frames: Vec<EventFrame>,
    pending: Option<String>,
}

impl Session {
    pub fn new(auditor: Auditor, values: &PageValues) -> Session {
        Session {
            auditor,
            user_name: values.user_name.clone(),
            own: OwnCode::default(),
            batches: HashMap::new(),
            requested: HashSet::new(),
            unavailable: HashSet::new(),
            waiting: HashMap::new(),
            loaders: HashMap::new(),
            provisional_loaders: HashMap::new(),
            events: VecDeque::new(),
            cap: DEFAULT_CAP,
            next_id: 1,
            folds: HashMap::new(),
            by_url: HashMap::new(),
            summary: Summary::default(),
            attributed: HashMap::new(),
        }
    }

    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    pub fn auditor_mut(&mut self) -> &mut Auditor {
        &mut self.auditor
    }

    /// The page values (`mw.config`) arrived or changed: later events use them.
    pub fn set_values(&mut self, values: &PageValues) {
        if self.user_name != values.user_name {
            self.user_name = values.user_name.clone();
            self.attributed.clear();
        }
        self.auditor.set_values(values);
    }

    pub fn set_own_code(&mut self, own: OwnCode) {
        self.own = own;
        self.attributed.clear();
    }

    /// Changes the ring buffer size (at least 1); the oldest events beyond it are dropped.
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
        self.evict();
    }

    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    pub fn event(&self, id: u64) -> Option<&Event> {
        let first = self.events.front()?.id;
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.events.get(idx)
    }

    fn event_mut(&mut self, id: u64) -> Option<&mut Event> {
        let first = self.events.front()?.id;
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.events.get_mut(idx)
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Batch URLs some event waits for.
    pub fn waiting_batches(&self) -> Vec<String> {
        self.waiting.keys().cloned().collect()
    }

    /// Records one observation. Errors are requests the core cannot read (a malformed URL):
    /// the glue reports them and lets the request fail or pass as the mode says.
    pub fn observe(
        &mut self,
        obs: &Observation,
        batch_source: &mut dyn BatchSource,
    ) -> Result<Observed, RequestError> {
        // The auditor's own script (demo, gadget page) is not something the page did.
        if self
            .own
            .prefixes
            .iter()
            .any(|p| !p.is_empty() && obs.url == *p)
        {
            return Ok(Observed::Ignored);
        }
        let request = obs.request();
        // Classification first: it validates the URL before anything is recorded.
        let page_source = Source::page();
        let mut assessment = match self.auditor.assess(&request, &page_source) {
            Ok(a) => a,
            Err(RequestError::NotOutbound(_)) => return Ok(Observed::Ignored),
            Err(e) => return Err(e),
        };
        if assessment.carries.contains(&CarryKind::Token) {
            if let Some(redacted) = self.auditor.redact(&assessment.url) {
                assessment.url = redacted;
            }
        }
        let (source, frames, pending) = match obs.stack.as_deref() {
            Some(stack) => self.attribute(stack, batch_source),
            None => (Source::page(), Vec::new(), None),
        };
        if let Some(id) = self.merge_sighting(&assessment.url, obs) {
            // A hook seeing a request a catch-all reported first (the mutation net runs
            // after the parser, sometimes after the resource entry): the hook knows better.
            if obs.observed_by == Observer::Hook && source != page_source {
                if let Some(mut e) = self.take_for_update(id) {
                    if let Ok(a) = self.auditor.assess(&request, &source) {
                        e.verdict = a.verdict;
                        e.rule = a.rule;
                    }
                    e.source = source;
                    e.frames = frames;
                    e.channel = obs.channel;
                    e.path = obs.path.clone();
                    self.put_back(e);
                }
            }
            return Ok(Observed::Updated(id));
        }
        if source != page_source {
            let url = std::mem::take(&mut assessment.url);
            assessment = self.auditor.assess(&request, &source)?;
            assessment.url = url;
        }
        // What the auditor did, not only what it would do: a request page code cannot stop
        // went out; one that cannot wait for an answer was denied, and its question is queued
        // (`asked`): the answer decides the next such request.
        let decision = match assessment.decision {
            Outcome::Blocked | Outcome::Pending if !obs.enforceable => Outcome::Unconsented,
            Outcome::Pending if !obs.can_hold => Outcome::Blocked,
            d => d,
        };
        let asked = assessment.decision == Outcome::Pending
            && obs.enforceable
            && !obs.can_hold
            && decision == Outcome::Blocked;
        // Attribution waits for a batch text: outside `audit` the glue holds a holdable
        // request until it arrives, so nothing is decided yet (the verdict is provisional).
        let provisional = pending.is_some();
        let decision =
            if provisional && obs.can_hold && obs.enforceable && self.auditor.mode() != Mode::Audit
            {
                Outcome::Pending
            } else {
                decision
            };
        let blocked_by = obs
            .blocked_by
            .or((decision == Outcome::Blocked).then_some(BlockedBy::Consent));
        if matches!(
            obs.channel,
            Channel::Script | Channel::Module | Channel::Worker
        ) && source.kind != SourceKind::Page
        {
            if !self.loaders.contains_key(&assessment.url) {
                self.loaders.insert(assessment.url.clone(), source.clone());
                self.attributed.clear();
            }
            if let Some(batch) = &pending {
                self.provisional_loaders
                    .insert(assessment.url.clone(), batch.clone());
                self.attributed.clear();
            }
        }

        let key = FoldKey {
            channel: obs.channel,
            url: assessment.url.clone(),
            method: assessment.method.clone(),
            source: (source.kind, source.name.clone(), source.wiki.clone()),
            observer: obs.observed_by,
        };
        // A provisional source (the batch URL) is shared by every module of the batch: never
        // fold on it, or another gadget's identical request would join this event. Nor fold
        // a repeat the auditor treats differently (the first was denied or allowed `once`,
        // the next is let through by a rule written since, or held again): it is a new row.
        let fold = self.folds.get(&key).copied().filter(|id| {
            !provisional
                && self.event(*id).is_some_and(|e| {
                    e.decision == decision && e.verdict == assessment.verdict && e.asked == asked
                })
        });
        if let Some(id) = fold {
            if let Some(mut e) = self.take_for_update(id) {
                e.count += 1;
                e.last_t = obs.t;
                *e.sightings.entry(obs.observed_by).or_default() += 1;
                if obs.blocked_by.is_some() {
                    e.blocked_by = obs.blocked_by;
                }
                self.put_back(e);
                return Ok(Observed::Updated(id));
            }
        }

        let id = self.next_id;
        self.next_id += 1;
        let event = Event {
            id,
            t: obs.t,
            last_t: obs.t,
            channel: assessment.channel,
            directive: assessment.directive,
            url: assessment.url,
            origin: assessment.origin,
            method: assessment.method,
            party: assessment.party,
            site: assessment.site,
            tool: assessment.tool,
            tier: assessment.tier,
            carries: assessment.carries,
            source,
            verdict: assessment.verdict,
            decision,
            rule: assessment.rule,
            blocked_by,
            enforceable: obs.enforceable,
            observed_by: vec![obs.observed_by],
            count: 1,
            realm: obs.realm.clone().unwrap_or_else(|| "top".to_string()),
            path: obs.path.clone(),
            attribution_pending: pending.is_some(),
            frames,
            asked,
            answer: None,
            sightings: BTreeMap::from([(obs.observed_by, 1)]),
            fold_key: (!provisional).then(|| key.clone()),
            waits_consent: false,
        };
        if let (Some(batch), Some(stack)) = (pending, obs.stack.as_ref()) {
            self.waiting
                .entry(batch)
                .or_default()
                .push((id, stack.clone()));
        }
        if !provisional {
            self.folds.insert(key, id);
        }
        self.by_url.entry(event.url.clone()).or_default().push(id);
        self.summary.events += 1;
        self.summary.apply(&event, 1);
        self.events.push_back(event);
        self.evict();
        Ok(Observed::New(id))
    }

    /// A catch-all sighting of a request a hook (or another catch-all) already recorded.
    fn merge_sighting(&mut self, url: &str, obs: &Observation) -> Option<u64> {
        let ids = self.by_url.get(url)?.clone();
        let observer = obs.observed_by;
        let target = ids.into_iter().find(|&id| {
            self.event(id).is_some_and(|e| {
                e.observed_by[0] != observer
                    && e.sightings.get(&observer).copied().unwrap_or(0) < e.count
                    && (obs.t - e.last_t).abs() <= MERGE_WINDOW_MS
            })
        })?;
        let mut e = self.take_for_update(target)?;
        *e.sightings.entry(observer).or_default() += 1;
        if !e.observed_by.contains(&observer) {
            e.observed_by.push(observer);
        }
        if obs.blocked_by.is_some() {
            e.blocked_by = obs.blocked_by;
        }
        if observer == Observer::Network {
            // The network layer is ground truth for what happened and what kind of load it
            // was: a request its rules blocked was blocked, whatever a catch-all assumed; and
            // where no hook saw the request, its resource type beats the performance entry's
            // initiator type (a font referenced from CSS is `font-face`, not `css-url`).
            if obs.blocked_by == Some(BlockedBy::Consent) {
                e.decision = Outcome::Blocked;
            }
            if !e.observed_by.contains(&Observer::Hook) && e.channel != obs.channel {
                let mut request = obs.request();
                request.url = e.url.clone();
                if let Ok(a) = self.auditor.assess(&request, &e.source) {
                    e.channel = a.channel;
                    e.directive = a.directive;
                    e.tier = a.tier;
                    e.verdict = a.verdict;
                    e.rule = a.rule;
                }
            }
        }
        self.put_back(e);
        Some(target)
    }

    /// Takes an event out of the summary so it can be changed, then [`Self::put_back`].
    fn take_for_update(&mut self, id: u64) -> Option<Event> {
        let e = self.event(id)?.clone();
        self.summary.apply(&e, -1);
        Some(e)
    }

    fn put_back(&mut self, e: Event) {
        self.summary.apply(&e, 1);
        if let Some(slot) = self.event_mut(e.id) {
            *slot = e;
        }
    }

    /// Resolves a stack into the source and the event's frames; the third value names the
    /// batch the source waits for, if any.
    fn attribute(
        &mut self,
        stack: &str,
        batch_source: &mut dyn BatchSource,
    ) -> (Source, Vec<EventFrame>, Option<String>) {
        if let Some(a) = self.attributed.get(stack) {
            return (a.source.clone(), a.frames.clone(), a.pending.clone());
        }
        let mut rounds = 0;
        loop {
            let (source, frames, missed) = self.resolve(stack);
            let fresh: Vec<String> = missed
                .into_iter()
                .filter(|u| !self.batches.contains_key(u) && !self.unavailable.contains(u))
                .collect();
            let mut found_any = false;
            for url in &fresh {
                if self.requested.insert(url.clone()) {
                    if let Some(text) = batch_source.batch_text(url) {
                        self.batches
                            .insert(url.clone(), BatchIndex::for_url(&text, url));
                        self.attributed.clear();
                        found_any = true;
                    }
                }
            }
            rounds += 1;
            if !found_any || rounds >= MAX_BATCH_ROUNDS {
                // The source waits for a batch only when attribution stopped at it.
                let cacheable = fresh.is_empty();
                let pending = fresh
                    .into_iter()
                    .find(|u| {
                        source.name.as_deref() == Some(attribution::without_fragment(u))
                            || source.url.as_deref().map(attribution::without_fragment)
                                == Some(attribution::without_fragment(u))
                    })
                    .or_else(|| self.loader_waits(&source));
                let frames = self.event_frames(&frames);
                if cacheable {
                    // Nothing unknown was asked for: resolving this stack again, until
                    // something it read changes, gives the same answer and does nothing else.
                    if self.attributed.len() >= ATTRIBUTION_CACHE {
                        self.attributed.clear();
                    }
                    self.attributed.insert(
                        stack.to_string(),
                        Attributed {
                            source: source.clone(),
                            frames: frames.clone(),
                            pending: pending.clone(),
                        },
                    );
                }
                return (source, frames, pending);
            }
        }
    }

    /// The batch the loader of `source`'s script still waits for, if its chain came from a
    /// provisional loader (see [`Session::provisional_loaders`]).
    fn loader_waits(&self, source: &Source) -> Option<String> {
        if source.chain.is_empty() {
            return None;
        }
        [source.url.as_deref(), source.name.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|u| {
                self.provisional_loaders
                    .get(attribution::without_fragment(u))
                    .or_else(|| self.provisional_loaders.get(u))
            })
            .cloned()
    }

    fn resolve(&self, stack: &str) -> (Source, Vec<Frame>, Vec<String>) {
        let prefixes: Vec<&str> = self.own.prefixes.iter().map(String::as_str).collect();
        let lookup = RecordingBatches {
            known: &self.batches,
            missed: RefCell::new(Vec::new()),
        };
        let page_url = self.auditor.page().url().as_str();
        let ctx = AttributionContext {
            page_url,
            user_name: self.user_name.as_deref(),
            own_prefixes: &prefixes,
            tag_nonce: self.own.nonce.as_deref(),
            batches: &lookup,
            script_loaders: &self.loaders,
        };
        let mut frames = attribution::parse_stack(stack);
        attribution::skip_own(&mut frames, &prefixes);
        if !self.own.modules.is_empty() {
            frames.retain(|f| !self.in_own_module(f, &lookup));
        }
        let source = attribution::attribute(&frames, &ctx);
        let mut missed = lookup.missed.into_inner();
        missed.dedup();
        (source, frames, missed)
    }

    /// Whether `frame` runs in one of [`OwnCode::modules`] (the page's own `load.php` only).
    /// A batch frame whose text is not indexed yet is not own: asking `batches` records the
    /// miss, so the batch is fetched and the stack resolved again.
    fn in_own_module(&self, frame: &Frame, batches: &dyn BatchLookup) -> bool {
        if frame.eval.is_some() {
            return false;
        }
        let own = |m: &str| self.own.modules.iter().any(|o| o == m);
        let page = self.auditor.page().url();
        let page_host = match (page.host_str(), page.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => return false,
        };
        match attribution::frame_origin(&frame.url, &page_host) {
            FrameOrigin::Module { name, wiki: None } => own(&name),
            FrameOrigin::Batch {
                url: batch_url,
                modules,
                wiki: None,
            } if modules.iter().any(|m| own(m)) => batches
                .batch(&frame.url)
                .or_else(|| batches.batch(&batch_url))
                .and_then(|idx| match frame.column {
                    0 => idx.module_at_line(frame.line),
                    c => idx.module_at(frame.line, c),
                })
                .is_some_and(own),
            _ => false,
        }
    }

    /// The frames an event keeps (at most [`MAX_FRAMES`]), each with its module when known.
    fn event_frames(&self, frames: &[Frame]) -> Vec<EventFrame> {
        let page_host = self.auditor.page().host().to_string();
        frames
            .iter()
            .take(MAX_FRAMES)
            .map(|f| {
                let mut out = EventFrame::from(f);
                out.module = self.frame_module(&out, &page_host);
                out
            })
            .collect()
    }

    fn frame_module(&self, f: &EventFrame, page_host: &str) -> Option<String> {
        use attribution::FrameOrigin;
        let at = |idx: &BatchIndex| match f.column {
            0 => idx.module_at_line(f.line).map(str::to_string),
            c => idx.module_at(f.line, c).map(str::to_string),
        };
        match attribution::frame_origin(&f.url, page_host) {
            FrameOrigin::Module { name, .. } | FrameOrigin::Tagged { name, .. } => Some(name),
            FrameOrigin::Batch { url, .. } => self
                .batches
                .get(&f.url)
                .or_else(|| self.batches.get(&url))
                .and_then(at),
            FrameOrigin::InlineBatch { url, .. } => self.batches.get(&url).and_then(at),
            _ => None,
        }
    }

    /// A batch text arrived: index it and re-attribute the events that waited for it.
    /// Returns the ids of the events that changed.
    pub fn add_batch(
        &mut self,
        url: &str,
        text: Option<&str>,
        batch_source: &mut dyn BatchSource,
    ) -> Vec<u64> {
        match text {
            Some(text) => {
                self.batches
                    .insert(url.to_string(), BatchIndex::for_url(text, url));
            }
            None => {
                self.unavailable.insert(url.to_string());
            }
        }
        self.attributed.clear();
        self.requested.insert(url.to_string());
        let Some(waiting) = self.waiting.remove(url) else {
            return Vec::new();
        };
        let mut changed = Vec::new();
        for (id, stack) in waiting {
            // This batch may only have been the first stop: its frame can be library code
            // (jQuery) called by a module of another batch not read yet, which then gets
            // asked for and waited on in turn.
            let (source, frames, pending) = self.attribute(&stack, batch_source);
            let Some(mut e) = self.take_for_update(id) else {
                continue;
            };
            let waits = pending.is_some();
            e.attribution_pending = waits;
            if matches!(
                e.channel,
                Channel::Script | Channel::Module | Channel::Worker
            ) {
                match &pending {
                    Some(next) => {
                        self.provisional_loaders.insert(e.url.clone(), next.clone());
                    }
                    None => {
                        self.provisional_loaders.remove(&e.url);
                    }
                }
                self.attributed.clear();
            }
            // Held while attribution waited (see `observe`): decide now, whatever the source,
            // unless it still waits (then it stays held, with the better provisional source).
            let held = e.decision == Outcome::Pending && e.enforceable;
            if let Some(next) = pending {
                self.waiting.entry(next).or_default().push((id, stack));
            }
            if source != e.source || (held && !waits) {
                let mut request = RequestInput::new(e.url.clone(), e.channel);
                request.method = Some(e.method.clone());
                if let Ok(a) = self.auditor.assess(&request, &source) {
                    // Carried data and tier do not depend on the source; the verdict does.
                    e.verdict = a.verdict;
                    e.rule = a.rule;
                    if !(held && waits)
                        && (e.decision != Outcome::Blocked || e.blocked_by.is_none())
                    {
                        // What the auditor did: a request it did not hold has gone out, so
                        // a verdict that would have held or denied it makes it unconsented.
                        e.decision = match a.decision {
                            Outcome::Pending | Outcome::Blocked if !held => Outcome::Unconsented,
                            d => d,
                        };
                        if held {
                            e.blocked_by = (a.decision == Outcome::Blocked)
                                .then_some(BlockedBy::Consent)
                                .or(e.blocked_by.filter(|b| *b == BlockedBy::WikiCsp));
                        }
                    }
                }
                if matches!(
                    e.channel,
                    Channel::Script | Channel::Module | Channel::Worker
                ) && source.kind != SourceKind::Page
                {
                    self.loaders.insert(e.url.clone(), source.clone());
                    self.attributed.clear();
                }
                e.source = source;
                e.frames = frames;
            }
            self.put_back(e);
            changed.push(id);
        }
        changed
    }

    /// Records that the auditor denied (or let through) a request after its event was made:
    /// an answered prompt, or a fail-closed error.
    pub fn set_decision(&mut self, id: u64, decision: Outcome) -> bool {
        let Some(mut e) = self.take_for_update(id) else {
            return false;
        };
        e.decision = decision;
        e.blocked_by = match decision {
            Outcome::Blocked => Some(BlockedBy::Consent),
            _ => e.blocked_by.filter(|b| *b == BlockedBy::WikiCsp),
        };
        self.put_back(e);
        true
    }

    /// Applies the user's answer to a prompt (SPEC §9): `Once` decides this event only; the
    /// others write a consent rule for the destination's origin and this directive (scoped to
    /// the event's source, or `*` for `Always`) and re-decide every event, so other requests
    /// held for the same reason are released too. `added` is the rule's timestamp (ISO 8601).
    /// Returns the ids whose decision changed, the answered event first.
    ///
    /// An [`Event::asked`] event (a beacon that could not wait) was denied already: the
    /// request is gone and stays `blocked` whatever the answer. `Source`/`Always` write the
    /// allow rule, so the *next* such request goes out; `Block` writes the block rule; `Once`
    /// only records the answer (there is nothing left to let through) and ends the prompt.
    pub fn answer(
        &mut self,
        id: u64,
        answer: Answer,
        added: Option<String>,
    ) -> Result<Vec<u64>, AnswerError> {
        let e = self.event(id).ok_or(AnswerError::NoSuchEvent(id))?;
        let (origin, directive, scope) = (e.origin.clone(), e.directive, e.source.scope());
        let outcome = match answer {
            _ if e.asked => e.decision,
            Answer::Block => Outcome::Blocked,
            _ => Outcome::Allowed,
        };
        if answer != Answer::Once {
            let scope = match (answer, scope) {
                (Answer::Always, _) | (_, None) => Scope::All,
                (_, Some(s)) => Scope::parse(&s).map_err(AnswerError::Rule)?,
            };
            let rule = Rule {
                source: SourceExpr::parse(&origin).map_err(AnswerError::Rule)?,
                directives: DirectiveSet::Only(vec![directive]),
                scope,
                decision: if answer == Answer::Block {
                    Verdict::Block
                } else {
                    Verdict::Allow
                },
                added,
                note: None,
            };
            let mut list = self.auditor.consent().clone();
            list.upsert_rule(rule);
            self.auditor.set_consent(list);
        }
        if let Some(mut e) = self.take_for_update(id) {
            e.asked = false;
            e.answer = Some(answer);
            self.put_back(e);
        }
        self.set_decision(id, outcome);
        let mut changed = vec![id];
        changed.extend(self.redecide().into_iter().filter(|c| *c != id));
        Ok(changed)
    }

    /// Events still waiting for the user's answer (ask mode), oldest first: held requests,
    /// and denied ones that could not wait ([`Event::asked`]).
    pub fn prompts(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(|e| e.decision == Outcome::Pending || e.asked)
    }

    /// Holds event `id` until the user's stored consent is known: the page runtime calls this
    /// for a request made before it could read it (logged in, ResourceLoader has not run the
    /// `user.options` module yet, which happens after the gadgets ran). Only a request the
    /// auditor can hold and that the defaults do not already decide for good: not the wiki's
    /// own (its `load.php` must never wait for the module that waits for it), not one already
    /// denied. Returns whether it is now held (`decision: "pending"`); [`Self::redecide`]
    /// decides it once the consent is adopted (or the wait given up).
    pub fn wait_for_consent(&mut self, id: u64) -> bool {
        let Some(e) = self.event(id) else {
            return false;
        };
        if !e.enforceable
            || e.party == Party::First
            || e.decision == Outcome::Blocked
            || e.waits_consent
            || e.count > 1
        {
            return e.waits_consent;
        }
        let Some(mut e) = self.take_for_update(id) else {
            return false;
        };
        e.waits_consent = true;
        e.decision = Outcome::Pending;
        self.put_back(e);
        true
    }
    /// Re-decides every held event after a consent or mode change; returns the changed ids.
    pub fn redecide(&mut self) -> Vec<u64> {
        let ids: Vec<u64> = self.events.iter().map(|e| e.id).collect();
        let mode = self.auditor.mode();
        let mut changed = Vec::new();
        for id in ids {
            let Some(e) = self.event(id) else { continue };
            let mut request = RequestInput::new(e.url.clone(), e.channel);
            request.method = Some(e.method.clone());
            let Ok(a) = self.auditor.assess(&request, &e.source) else {
                continue;
            };
            if e.waits_consent {
                // Held until the user's consent was known: decided by it now, whatever the
                // verdict was before (unless attribution still waits for a batch, which then
                // decides it).
                if let Some(mut e) = self.take_for_update(id) {
                    e.waits_consent = false;
                    e.verdict = a.verdict;
                    e.rule = a.rule;
                    if !e.attribution_pending {
                        e.decision = mode.outcome(a.verdict);
                        if e.decision == Outcome::Blocked {
                            e.blocked_by = Some(BlockedBy::Consent);
                        }
                    }
                    self.put_back(e);
                    changed.push(id);
                }
                continue;
            }
            if a.verdict == e.verdict && a.rule == e.rule {
                continue;
            }
            if let Some(mut e) = self.take_for_update(id) {
                e.verdict = a.verdict;
                e.rule = a.rule;
                // A rule now decides the question a denied beacon asked: no prompt any more.
                if e.asked && a.verdict != Verdict::Ask {
                    e.asked = false;
                }
                // What already happened stays: only pending requests take the new decision.
                if e.decision == Outcome::Pending {
                    e.decision = mode.outcome(a.verdict);
                    if e.decision == Outcome::Blocked {
                        e.blocked_by = Some(BlockedBy::Consent);
                    }
                }
                self.put_back(e);
                changed.push(id);
            }
        }
        changed
    }

    fn evict(&mut self) {
        while self.events.len() > self.cap {
            let Some(e) = self.events.pop_front() else {
                break;
            };
            self.summary.dropped += 1;
            if let Some(key) = &e.fold_key {
                if self.folds.get(key) == Some(&e.id) {
                    self.folds.remove(key);
                }
            }
            if let Some(ids) = self.by_url.get_mut(&e.url) {
                ids.retain(|id| *id != e.id);
                if ids.is_empty() {
                    self.by_url.remove(&e.url);
                }
            }
        }
    }

    pub fn mode(&self) -> Mode {
        self.auditor.mode()
    }
}

/// The loads gadgets were seen to make, for the per-gadget declaration export (SPEC §7).
pub fn seen_loads<'a>(events: impl Iterator<Item = &'a Event>) -> Vec<SeenLoad> {
    events
        .filter(|e| e.source.kind == SourceKind::Gadget)
        .filter_map(|e| {
            Some(SeenLoad {
                gadget: e.source.name.clone()?,
                directive: e.directive,
                source: e.origin.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Preset;
    use crate::consent::ConsentList;

    fn session() -> Session {
        let values = PageValues {
            user_name: Some("Jane Doe".into()),
            ..PageValues::default()
        };
        let auditor = Auditor::new(
            "https://en.wikipedia.org/wiki/Main_Page",
            &[Preset::wikimedia_production()],
            &values,
            ConsentList::default(),
        )
        .expect("page URL");
        Session::new(auditor, &values)
    }

    const GADGET_STACK: &str = "Error\n    at probe (https://en.wikipedia.org/w/load.php?debug=1&modules=ext.gadget.Foo&only=scripts:3:5)";

    #[test]
    fn hook_then_performance_is_one_event() {
        let mut s = session();
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/x");
        obs.stack = Some(GADGET_STACK.into());
        assert_eq!(s.observe(&obs, &mut NoBatchSource), Ok(Observed::New(1)));
        let mut perf = Observation::new(Channel::Fetch, "https://api.example.com/x");
        perf.observed_by = Observer::Performance;
        assert_eq!(
            s.observe(&perf, &mut NoBatchSource),
            Ok(Observed::Updated(1))
        );
        let e = s.event(1).expect("event");
        assert_eq!(e.observed_by, vec![Observer::Hook, Observer::Performance]);
        assert_eq!(e.count, 1);
        assert_eq!(e.source.name.as_deref(), Some("Foo"));
        // A second performance entry without a second hook sighting is a request of its own.
        assert_eq!(s.observe(&perf, &mut NoBatchSource), Ok(Observed::New(2)));
        assert_eq!(s.event(2).expect("event").source, Source::page());
    }

    #[test]
    fn repeats_fold_into_count() {
        let mut s = session();
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/x");
        obs.stack = Some(GADGET_STACK.into());
        for _ in 0..3 {
            s.observe(&obs, &mut NoBatchSource).expect("observe");
        }
        assert_eq!(s.events().count(), 1);
        assert_eq!(s.event(1).expect("event").count, 3);
        assert_eq!(s.summary().requests, 3);
        assert_eq!(s.summary().events, 1);
        // The `third` default is `ask`: in audit mode every repeat went out unconsented.
        assert_eq!(s.summary().unconsented, 3);
        assert_eq!(s.summary().by_party["third"]["unconsented"], 3);
    }

    #[test]
    fn data_urls_are_ignored_and_bad_urls_are_errors() {
        let mut s = session();
        let obs = Observation::new(Channel::Img, "data:image/png;base64,AAAA");
        assert_eq!(s.observe(&obs, &mut NoBatchSource), Ok(Observed::Ignored));
        let obs = Observation::new(Channel::Img, "http://[::1");
        assert!(s.observe(&obs, &mut NoBatchSource).is_err());
        assert_eq!(s.events().count(), 0);
    }

    struct OneBatch(&'static str);
    impl BatchSource for OneBatch {
        fn batch_text(&mut self, _url: &str) -> Option<String> {
            Some(self.0.to_string())
        }
    }

    const BATCH_URL: &str =
        "https://en.wikipedia.org/w/load.php?lang=en&modules=ext.gadget.A%2CB&skin=vector";
    const BATCH_TEXT: &str = "mw.loader.implement(\"ext.gadget.A@1\",function(){a()});mw.loader.implement(\"ext.gadget.B@2\",function(){fetch('x')});";

    fn batch_stack() -> String {
        let col = BATCH_TEXT.find("fetch").expect("fetch") + 1;
        format!("Error\n    at https://en.wikipedia.org/w/load.php?lang=en&modules=ext.gadget.A%2CB&skin=vector:1:{col}")
    }

    #[test]
    fn batch_available_now_attributes_at_once() {
        let mut s = session();
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/x");
        obs.stack = Some(batch_stack());
        s.observe(&obs, &mut OneBatch(BATCH_TEXT)).expect("observe");
        let e = s.event(1).expect("event");
        assert_eq!(e.source.kind, SourceKind::Gadget);
        assert_eq!(e.source.name.as_deref(), Some("B"));
        assert!(!e.attribution_pending);
        // The details pane names the module at the frame's position in the batch.
        assert_eq!(e.frames[0].module.as_deref(), Some("ext.gadget.B"));
    }

    /// The gadget packaging: the auditor's hooks live in a module of the same batch as the
    /// gadgets; a hook frame below anonymous code (a domEval'd inline script) is not a source.
    #[test]
    fn own_module_frames_are_skipped() {
        const TEXT: &str = "mw.loader.implement(\"ext.gadget.A@1\",function(){a()});mw.loader.implement(\"ext.gadget.tpr-auditor@2\",function(){hook()});";
        const URL: &str = "https://en.wikipedia.org/w/load.php?lang=en&modules=ext.gadget.A%2Ctpr-auditor&skin=vector";
        let col = TEXT.find("hook").expect("hook") + 1;
        let stack = format!(
            "Error\n    at <anonymous>:1:16\n    at HTMLHeadElement.appendChild ({URL}:1:{col})"
        );
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/x");
        obs.stack = Some(stack);

        let mut s = session();
        s.observe(&obs, &mut OneBatch(TEXT)).expect("observe");
        let e = s.event(1).expect("event");
        assert_eq!(
            e.source.name.as_deref(),
            Some("tpr-auditor"),
            "without own modules"
        );

        let mut s = session();
        s.set_own_code(OwnCode {
            modules: vec!["ext.gadget.tpr-auditor".into()],
            ..OwnCode::default()
        });
        s.observe(&obs, &mut OneBatch(TEXT)).expect("observe");
        let e = s.event(1).expect("event");
        assert_eq!(e.source.kind, SourceKind::Page);
        assert!(e.source.spoofable, "anonymous code remains flagged");
        assert!(!e.attribution_pending);
        // Other modules of the same batch are still sources.
        let col = TEXT.find("a()").expect("a") + 1;
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/y");
        obs.stack = Some(format!("Error\n    at {URL}:1:{col}"));
        s.observe(&obs, &mut NoBatchSource).expect("observe");
        assert_eq!(s.event(2).expect("event").source.name.as_deref(), Some("A"));
    }

    /// Records what the session asks for; has nothing at once (like `load.php` batches).
    #[derive(Default)]
    struct Asked(Vec<String>);
    impl BatchSource for Asked {
        fn batch_text(&mut self, url: &str) -> Option<String> {
            self.0.push(url.to_string());
            None
        }
    }

    /// MediaWiki 1.39 on a cold load: jQuery shares a batch with `site` (a user module), so
    /// its frames need that batch's text to be skipped; only then is the gadget's frame, in
    /// a second batch, reached. Each batch is asked for and waited on in turn, and a held
    /// request stays held until the last one arrived.
    #[test]
    fn attribution_waits_for_each_batch_in_turn() {
        const LIB_URL: &str =
            "https://en.wikipedia.org/w/load.php?lang=en&modules=jquery%2Csite&skin=vector";
        const LIB_TEXT: &str = "mw.loader.implement(\"jquery@1\",function(){ajax()});mw.loader.implement(\"site@2\",function(){s()});";
        let lib_col = LIB_TEXT.find("ajax").expect("ajax") + 1;
        let gadget_col = BATCH_TEXT.find("fetch").expect("fetch") + 1;
        let stack =
            format!("Error\n    at {LIB_URL}:1:{lib_col}\n    at {BATCH_URL}:1:{gadget_col}");
        for mode in [Mode::Audit, Mode::Block] {
            let mut s = session();
            s.auditor_mut().set_mode(mode);
            let mut obs = Observation::new(Channel::Xhr, "https://api.example.com/x");
            obs.stack = Some(stack.clone());
            obs.can_hold = true;
            let mut asked = Asked::default();
            s.observe(&obs, &mut asked).expect("observe");
            assert_eq!(asked.0, vec![LIB_URL.to_string()], "{mode:?}");
            let e = s.event(1).expect("event");
            assert_eq!(e.source.name.as_deref(), Some(LIB_URL));
            let held = mode != Mode::Audit;
            assert_eq!(e.decision == Outcome::Pending, held, "{mode:?}");

            let mut asked = Asked::default();
            assert_eq!(s.add_batch(LIB_URL, Some(LIB_TEXT), &mut asked), vec![1]);
            assert_eq!(
                asked.0,
                vec![BATCH_URL.to_string()],
                "the second batch is asked for"
            );
            let e = s.event(1).expect("event");
            assert!(e.attribution_pending, "{mode:?}: still waiting");
            assert_eq!(e.source.name.as_deref(), Some(BATCH_URL));
            assert_eq!(e.decision == Outcome::Pending, held, "{mode:?}: still held");
            assert_eq!(s.waiting_batches(), vec![BATCH_URL.to_string()]);

            assert_eq!(
                s.add_batch(BATCH_URL, Some(BATCH_TEXT), &mut NoBatchSource),
                vec![1]
            );
            let e = s.event(1).expect("event");
            assert!(!e.attribution_pending);
            assert_eq!(e.source.kind, SourceKind::Gadget);
            assert_eq!(e.source.name.as_deref(), Some("B"));
            assert_ne!(e.decision, Outcome::Pending, "{mode:?}: decided at last");
            assert!(s.waiting_batches().is_empty());
        }
    }

    /// A request that went out while attribution waited (audit mode, not held) stays what it
    /// was when the batch arrives, even if the mode changed meanwhile: it is not "pending".
    #[test]
    fn a_request_that_went_out_is_not_made_pending_by_a_late_batch() {
        let mut s = session();
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/x");
        obs.stack = Some(batch_stack());
        s.observe(&obs, &mut NoBatchSource).expect("observe");
        assert_eq!(s.event(1).expect("event").decision, Outcome::Unconsented);
        s.auditor_mut().set_mode(Mode::Ask);
        s.add_batch(BATCH_URL, Some(BATCH_TEXT), &mut NoBatchSource);
        let e = s.event(1).expect("event");
        assert_eq!(e.source.name.as_deref(), Some("B"));
        assert_eq!(e.decision, Outcome::Unconsented, "it went out");
    }

    /// A request made before the stored consent could be read waits for it: decided by the
    /// user's mode once adopted (held on in `ask`, released in `audit`), and the wiki's own
    /// requests never wait.
    #[test]
    fn requests_wait_for_the_stored_consent() {
        for (mode, expect) in [
            (Mode::Ask, Outcome::Pending),
            (Mode::Audit, Outcome::Unconsented),
            (Mode::Block, Outcome::Blocked),
        ] {
            let mut s = session();
            let obs = Observation::new(Channel::Fetch, "https://api.example.com/x");
            s.observe(&obs, &mut NoBatchSource).expect("observe");
            assert!(s.wait_for_consent(1), "{mode:?}");
            assert_eq!(s.event(1).expect("event").decision, Outcome::Pending);
            let own = Observation::new(Channel::Fetch, "https://en.wikipedia.org/w/api.php");
            s.observe(&own, &mut NoBatchSource).expect("observe");
            assert!(!s.wait_for_consent(2), "the wiki's own request never waits");
            // The stored consent arrives.
            s.auditor_mut().set_mode(mode);
            assert!(s.redecide().contains(&1));
            let e = s.event(1).expect("event");
            assert_eq!(e.decision, expect, "{mode:?}");
            assert!(!e.waits_consent);
            // Decided once: a later adoption changes nothing that happened.
            assert!(!s.redecide().contains(&1));
        }
    }

    /// A script whose loader is still provisional (its batch not read yet) makes a request:
    /// that request waits for the same batch, so its chain ends up naming the gadget, not the
    /// batch URL (a race the real wiki's debug mode showed).
    #[test]
    fn a_request_from_a_script_with_a_provisional_loader_waits_for_it() {
        let mut s = session();
        let mut load = Observation::new(Channel::Script, "https://cdn.example.net/lib.js");
        load.stack = Some(batch_stack());
        s.observe(&load, &mut NoBatchSource).expect("observe");
        assert!(s.event(1).expect("loader").attribution_pending);
        let mut inner = Observation::new(Channel::Fetch, "https://api.example.net/");
        inner.stack = Some("Error\n    at https://cdn.example.net/lib.js:1:10".into());
        s.observe(&inner, &mut NoBatchSource).expect("observe");
        let e = s.event(2).expect("inner");
        assert!(e.attribution_pending, "waits for its loader's batch");
        assert_eq!(e.source.chain, vec![format!("script:{BATCH_URL}")]);
        let changed = s.add_batch(BATCH_URL, Some(BATCH_TEXT), &mut NoBatchSource);
        assert_eq!(changed, vec![1, 2]);
        let e = s.event(2).expect("inner");
        assert!(!e.attribution_pending);
        assert_eq!(
            e.source.name.as_deref(),
            Some("https://cdn.example.net/lib.js")
        );
        assert_eq!(e.source.chain, vec!["gadget:B".to_string()]);
        assert!(s.waiting_batches().is_empty());
    }

    /// A batch that cannot be read ends the wait: the provisional source stays, honestly,
    /// and a later request from the same batch does not wait for it again.
    #[test]
    fn unreadable_batch_ends_the_wait() {
        let mut s = session();
        s.auditor_mut().set_mode(Mode::Block);
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/x");
        obs.stack = Some(batch_stack());
        obs.can_hold = true;
        s.observe(&obs, &mut NoBatchSource).expect("observe");
        assert_eq!(s.event(1).expect("event").decision, Outcome::Pending);
        assert_eq!(s.add_batch(BATCH_URL, None, &mut NoBatchSource), vec![1]);
        let e = s.event(1).expect("event");
        assert!(!e.attribution_pending);
        assert_eq!(e.source.kind, SourceKind::Script);
        assert_eq!(e.decision, Outcome::Blocked);
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/y");
        obs.stack = Some(batch_stack());
        obs.can_hold = true;
        s.observe(&obs, &mut NoBatchSource).expect("observe");
        let e = s.event(2).expect("event");
        assert!(
            !e.attribution_pending,
            "not waiting for a batch that will not come"
        );
        assert_eq!(e.decision, Outcome::Blocked);
        assert!(s.waiting_batches().is_empty());
    }

    #[test]
    fn batch_arriving_later_updates_the_event() {
        let mut s = session();
        let mut obs = Observation::new(Channel::Script, "https://cdn.example.net/lib.js");
        obs.stack = Some(batch_stack());
        s.observe(&obs, &mut NoBatchSource).expect("observe");
        let e = s.event(1).expect("event");
        assert!(e.attribution_pending);
        assert_eq!(e.source.kind, SourceKind::Script);
        assert_eq!(s.waiting_batches(), vec![BATCH_URL.to_string()]);
        assert_eq!(
            s.add_batch(BATCH_URL, Some(BATCH_TEXT), &mut NoBatchSource),
            vec![1]
        );
        let e = s.event(1).expect("event");
        assert!(!e.attribution_pending);
        assert_eq!(e.source.name.as_deref(), Some("B"));
        assert_eq!(
            e.rule,
            RuleRef::Default {
                name: "executable-third".into()
            }
        );
        // The script it loaded now has a loader: a request from it has the chain.
        let mut inner = Observation::new(Channel::Fetch, "https://api.example.net/");
        inner.stack = Some("Error\n    at https://cdn.example.net/lib.js:1:10".into());
        s.observe(&inner, &mut NoBatchSource).expect("observe");
        let e = s.event(2).expect("event");
        assert_eq!(
            e.source.name.as_deref(),
            Some("https://cdn.example.net/lib.js")
        );
        assert_eq!(e.source.chain, vec!["gadget:B".to_string()]);
    }

    #[test]
    fn a_cached_attribution_never_outlives_what_it_read() {
        // The same stack is resolved once, then answered from the cache, until something
        // attribution reads changes: here a script loader, then nothing (a cache hit).
        let mut s = session();
        let lib_stack = "Error\n    at https://cdn.example.net/lib.js:1:10".to_string();
        let mut first = Observation::new(Channel::Fetch, "https://api.example.net/1");
        first.stack = Some(lib_stack.clone());
        s.observe(&first, &mut NoBatchSource).expect("observe");
        let e = s.event(1).expect("event").clone();
        assert_eq!(e.source.kind, SourceKind::Script);
        assert!(e.source.chain.is_empty());
        // A gadget (debug mode: the module is in the URL) loads that script: it becomes the
        // script's loader, so the same stack now has a chain.
        let mut load = Observation::new(Channel::Script, "https://cdn.example.net/lib.js");
        load.stack = Some(
            "Error\n    at https://en.wikipedia.org/w/load.php?debug=1&modules=ext.gadget.C&only=scripts:3:5".into(),
        );
        s.observe(&load, &mut NoBatchSource).expect("observe");
        assert_eq!(s.event(2).expect("event").source.name.as_deref(), Some("C"));
        let mut second = Observation::new(Channel::Fetch, "https://api.example.net/2");
        second.stack = Some(lib_stack.clone());
        s.observe(&second, &mut NoBatchSource).expect("observe");
        let e2 = s.event(3).expect("event").clone();
        assert_eq!(e2.source.chain, vec!["gadget:C".to_string()]);
        // Unchanged state: the cached answer is the one a fresh resolution gives.
        let mut third = Observation::new(Channel::Fetch, "https://api.example.net/3");
        third.stack = Some(lib_stack.clone());
        s.observe(&third, &mut NoBatchSource).expect("observe");
        let e3 = s.event(4).expect("event").clone();
        assert_eq!(
            (e3.source, e3.frames),
            (e2.source.clone(), e2.frames.clone())
        );
        let mut fresh = session();
        fresh.loaders = s.loaders.clone();
        let (source, frames, pending) = fresh.attribute(&lib_stack, &mut NoBatchSource);
        assert_eq!((source, frames, pending), (e2.source, e2.frames, None));
    }

    #[test]
    fn ring_buffer_drops_oldest_but_summary_counts_all() {
        let mut s = session();
        s.set_cap(2);
        for i in 0..5 {
            let obs = Observation::new(Channel::Img, format!("https://img.example.com/{i}.png"));
            s.observe(&obs, &mut NoBatchSource).expect("observe");
        }
        assert_eq!(s.events().map(|e| e.id).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(s.summary().events, 5);
        assert_eq!(s.summary().dropped, 3);
        assert_eq!(s.summary().requests, 5);
        assert!(s.event(1).is_none());
    }

    #[test]
    fn network_sighting_is_ground_truth_for_kind_and_blocking() {
        let mut s = session();
        let mut perf = Observation::new(Channel::CssUrl, "https://fonts.example.net/a.woff2");
        perf.observed_by = Observer::Performance;
        perf.enforceable = false;
        s.observe(&perf, &mut NoBatchSource).expect("observe");
        let mut net = Observation::new(Channel::FontFace, "https://fonts.example.net/a.woff2");
        net.observed_by = Observer::Network;
        net.blocked_by = Some(BlockedBy::Consent);
        assert_eq!(
            s.observe(&net, &mut NoBatchSource),
            Ok(Observed::Updated(1))
        );
        let e = s.event(1).expect("event");
        assert_eq!(e.channel, Channel::FontFace);
        assert_eq!(e.directive, Directive::FontSrc);
        assert_eq!(e.decision, Outcome::Blocked);
        assert_eq!(e.blocked_by, Some(BlockedBy::Consent));
        assert_eq!(
            e.observed_by,
            vec![Observer::Performance, Observer::Network]
        );
        assert_eq!(s.summary().blocked, 1);
    }

    fn beacon(url: &str) -> Observation {
        let mut obs = Observation::new(Channel::Beacon, url);
        obs.stack = Some(GADGET_STACK.into());
        obs.can_hold = false;
        obs
    }

    /// SPEC §7 / issue 4/7 item 1: a beacon cannot wait. In `ask` mode it is denied at once,
    /// its question is queued (listed by `prompts()` until answered), and answering `source`
    /// lets the *next* beacon through while the denied one stays denied.
    #[test]
    fn beacon_is_denied_and_its_prompt_queued_until_answered() {
        let mut s = session();
        s.auditor_mut().set_mode(Mode::Ask);
        let url = "https://stats.example.com/b";
        assert_eq!(
            s.observe(&beacon(url), &mut NoBatchSource),
            Ok(Observed::New(1))
        );
        let e = s.event(1).expect("event");
        assert_eq!(e.decision, Outcome::Blocked);
        assert_eq!(e.blocked_by, Some(BlockedBy::Consent));
        assert!(e.asked);
        assert_eq!(s.prompts().map(|e| e.id).collect::<Vec<_>>(), vec![1]);
        // A repeat before the answer folds into the same denied, asked event: one prompt.
        assert_eq!(
            s.observe(&beacon(url), &mut NoBatchSource),
            Ok(Observed::Updated(1))
        );
        assert_eq!(s.prompts().count(), 1);

        assert_eq!(s.answer(1, Answer::Source, None), Ok(vec![1]));
        let e = s.event(1).expect("event");
        assert_eq!(e.decision, Outcome::Blocked, "the denied beacon is gone");
        assert!(!e.asked);
        assert_eq!(e.answer, Some(Answer::Source));
        assert_eq!(s.prompts().count(), 0, "answered: no longer asked");
        // The next beacon is let through by the rule: a new event, not a fold into the
        // denied one.
        assert_eq!(
            s.observe(&beacon(url), &mut NoBatchSource),
            Ok(Observed::New(2))
        );
        let e = s.event(2).expect("event");
        assert_eq!(e.decision, Outcome::Allowed);
        assert!(!e.asked);
        assert_eq!(s.summary().blocked, 2);
        assert_eq!(s.summary().by_party["third"]["allowed"], 1);
    }

    #[test]
    fn beacon_answers_block_always_and_once() {
        // `block`: stays denied, and the next one is denied without a question.
        let mut s = session();
        s.auditor_mut().set_mode(Mode::Ask);
        s.observe(&beacon("https://a.example.com/b"), &mut NoBatchSource)
            .expect("observe");
        s.answer(1, Answer::Block, None).expect("answer");
        assert_eq!(s.event(1).expect("event").decision, Outcome::Blocked);
        assert_eq!(s.prompts().count(), 0);
        s.observe(&beacon("https://a.example.com/b"), &mut NoBatchSource)
            .expect("observe");
        let e = s.events().last().expect("event");
        assert_eq!(e.decision, Outcome::Blocked);
        assert!(!e.asked, "a block rule decided it: nothing to ask");

        // `always`: a rule for every source, so another gadget's beacon goes out too.
        s.observe(&beacon("https://b.example.com/b"), &mut NoBatchSource)
            .expect("observe");
        let id = s.events().last().expect("event").id;
        s.answer(id, Answer::Always, None).expect("answer");
        let mut other = beacon("https://b.example.com/b");
        other.stack = None;
        s.observe(&other, &mut NoBatchSource).expect("observe");
        assert_eq!(
            s.events().last().expect("event").decision,
            Outcome::Allowed,
            "the `*` rule lets the page's beacon through"
        );

        // `once`: records the answer only; the next beacon is denied and asks again.
        s.observe(&beacon("https://c.example.com/b"), &mut NoBatchSource)
            .expect("observe");
        let id = s.events().last().expect("event").id;
        let rules = s.auditor().consent().rules.len();
        assert_eq!(s.answer(id, Answer::Once, None), Ok(vec![id]));
        let e = s.event(id).expect("event");
        assert_eq!(e.decision, Outcome::Blocked);
        assert_eq!(e.answer, Some(Answer::Once));
        assert_eq!(s.auditor().consent().rules.len(), rules, "no rule written");
        assert_eq!(s.prompts().count(), 0);
        s.observe(&beacon("https://c.example.com/b"), &mut NoBatchSource)
            .expect("observe");
        let next = s.events().last().expect("event");
        assert_ne!(next.id, id);
        assert!(next.asked);
        assert_eq!(s.prompts().map(|e| e.id).collect::<Vec<_>>(), vec![next.id]);
    }

    /// A rule written another way (the panel's rule editor, `consent.set`) answers the
    /// question a denied beacon asked.
    #[test]
    fn a_rule_ends_a_beacon_prompt() {
        let mut s = session();
        s.auditor_mut().set_mode(Mode::Ask);
        s.observe(&beacon("https://a.example.com/b"), &mut NoBatchSource)
            .expect("observe");
        let mut list = s.auditor().consent().clone();
        list.upsert_rule(Rule {
            source: SourceExpr::parse("https://a.example.com").expect("source"),
            directives: DirectiveSet::All,
            scope: Scope::All,
            decision: Verdict::Allow,
            added: None,
            note: None,
        });
        s.auditor_mut().set_consent(list);
        assert_eq!(s.redecide(), vec![1]);
        assert_eq!(s.prompts().count(), 0);
        assert_eq!(s.event(1).expect("event").decision, Outcome::Blocked);
    }

    /// `once` lets one request through: an identical repeat is held again, not folded into
    /// the allowed event (which would let it through unasked).
    #[test]
    fn once_does_not_let_repeats_through() {
        let mut s = session();
        s.auditor_mut().set_mode(Mode::Ask);
        let mut obs = Observation::new(Channel::Fetch, "https://api.example.com/x");
        obs.stack = Some(GADGET_STACK.into());
        s.observe(&obs, &mut NoBatchSource).expect("observe");
        assert_eq!(s.event(1).expect("event").decision, Outcome::Pending);
        s.answer(1, Answer::Once, None).expect("answer");
        assert_eq!(s.event(1).expect("event").decision, Outcome::Allowed);
        assert_eq!(s.observe(&obs, &mut NoBatchSource), Ok(Observed::New(2)));
        assert_eq!(s.event(2).expect("event").decision, Outcome::Pending);
        // A repeat of a held request joins it (one prompt, both released by one answer).
        assert_eq!(
            s.observe(&obs, &mut NoBatchSource),
            Ok(Observed::Updated(2))
        );
        assert_eq!(s.prompts().count(), 1);
    }

    #[test]
    fn csp_sighting_marks_blocked_by_wiki_csp() {
        let mut s = session();
        let obs = Observation::new(Channel::Script, "https://evil.example/x.js");
        s.observe(&obs, &mut NoBatchSource).expect("observe");
        let mut csp = Observation::new(Channel::Script, "https://evil.example/x.js");
        csp.observed_by = Observer::Csp;
        csp.blocked_by = Some(BlockedBy::WikiCsp);
        assert_eq!(
            s.observe(&csp, &mut NoBatchSource),
            Ok(Observed::Updated(1))
        );
        let e = s.event(1).expect("event");
        assert_eq!(e.blocked_by, Some(BlockedBy::WikiCsp));
        assert_eq!(e.observed_by, vec![Observer::Hook, Observer::Csp]);
    }
}

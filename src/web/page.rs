//! The page runtime (SPEC §4, §6, §8): connects the synchronous bootstrap's observations to
//! the core's [`Session`] and publishes the page API on `window.tprAuditor`.
//!
//! The loader (`src/js/loader.js`) creates `window.tprAuditor` with `version` and `ready`
//! before the WebAssembly is compiled, then calls [`install_page`] with that object; this
//! module adds the methods and attaches the sink to the bootstrap, which flushes everything it
//! queued meanwhile (nothing is lost in between).
//!
//! Rules this glue keeps:
//! * The sink never throws into the bootstrap: every failure becomes an entry of
//!   `report().errors` (and a `tpr-auditor:error` event) and the request proceeds in `audit`
//!   and `ask` modes or is denied in `block` mode.
//! * Page listeners never run inside a hook: `tpr-auditor:event` is dispatched from a
//!   microtask, once per changed event per turn (updates coalesce).
//! * The state is borrowed only inside the sink and the API calls; nothing calls back into
//!   page code while it is borrowed.

use super::panel::{Panel, PanelHost};
use super::scanner::{scan_promise, ScannerLoader};
use super::store;
use super::{consent_error, from_js, to_js};
use crate::assess::Auditor;
use crate::carried::PageValues;
use crate::classify::Preset;
use crate::consent::{ConsentError, ConsentList};
use crate::events::{Answer, BatchSource, Event, Observation, Observed, OwnCode, Session, Summary};
use crate::model::{Mode, Outcome};
use js_sys::{Function, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use std::cell::{BorrowError, BorrowMutError, Cell, Ref, RefCell, RefMut};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// How many internal errors `report()` keeps (the count goes on).
const MAX_ERRORS: usize = 200;
/// Look for the consent storage (which needs `mw`) at most this often (ms).
const VALUES_REFRESH_MS: u32 = 50;
/// The same while requests wait for it (they are held until it is read).
const WAITING_REFRESH_MS: u32 = 10;
/// How long requests made before the user's stored consent was readable wait for it at most;
/// then they are decided by what is known (the defaults) and released.
const CONSENT_WAIT_MS: f64 = 3_000.0;

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct InternalError {
    #[serde(rename = "where")]
    at: String,
    message: String,
    t: f64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct InstallOptions {
    /// Stored consent document (text); invalid → strict defaults, error reported.
    #[serde(default)]
    consent: Option<String>,
    /// URL prefixes of the auditor's own scripts.
    #[serde(default)]
    own_prefixes: Vec<String>,
    /// ResourceLoader modules holding the auditor's own code (gadget packaging).
    #[serde(default)]
    own_modules: Vec<String>,
    /// Ring buffer size.
    #[serde(default)]
    cap: Option<usize>,
    /// Packaging name for the report (`extension`, `gadget`, `demo`, `test`).
    #[serde(default)]
    packaging: Option<String>,
    /// `auto` (default), `user-options`, `local-storage` or `memory` (see `web::store`).
    #[serde(default)]
    storage: Option<String>,
    /// `false`: run without the badge and panel (nothing mounted; `panel.open()` returns
    /// false). For measuring what keeping the panel costs, and for embedders with their own UI.
    #[serde(default)]
    panel: Option<bool>,
}

struct State {
    session: Session,
    handle: JsValue,
    page_url: String,
    wiki: String,
    packaging: String,
    started_at: f64,
    values_complete: bool,
    errors: Vec<InternalError>,
    error_count: u64,
    /// Event ids to dispatch at the next microtask, in order, and the same ids as a set (a
    /// flood of requests in one task queues thousands: no linear search per request).
    dispatch: Vec<u64>,
    dispatch_set: HashSet<u64>,
    dispatch_scheduled: bool,
    /// Resolvers of held requests, by event id (ask mode, or waiting for a batch).
    held: HashMap<u64, Vec<Function>>,
    /// Batch fetches in flight, and `settled()` resolvers waiting for none.
    in_flight: usize,
    settled_waiters: Vec<Function>,
    /// Why the stored consent was not used (kept for the panel), if it was not.
    consent_problem: Option<String>,
    /// Where consent is kept (see `web::store`), the text read from it at start (kept for
    /// recovery when it was broken), and whether a batched write is scheduled.
    backend: Option<store::Backend>,
    /// The packaging's storage choice, for choosing the backend once `mw` exists.
    storage: Option<String>,
    stored_text: Option<String>,
    save_scheduled: bool,
    /// A consent change made before the storage was known: saved once it is.
    save_wanted: bool,
    /// The wait for the stored consent is over (read, or given up after [`CONSENT_WAIT_MS`]):
    /// no request waits for it any more.
    consent_wait_over: bool,
    /// When the first request started waiting for the stored consent.
    consent_wait_since: Option<f64>,
    /// `watch_backend` is scheduled.
    watching_backend: bool,
    /// The badge and panel; outside the borrow of `State` when called.
    panel: Rc<RefCell<Option<Panel>>>,
    /// The scanner module, loaded on first use (`tprAuditor.scan`, the panel's Scan view).
    scanner: Rc<ScannerLoader>,
    /// The extension's network layer reported a sighting (`PageRuntime::observe`): it can
    /// make a request `blocked` in any mode, so observations are no longer deferred.
    network_seen: bool,
    /// While a deferred observation runs: when the sink took it (its errors' time).
    replay_at: Option<f64>,
}

/// The runtime's state, and the observations the sink took without running the core yet
/// (see [`Shared::defer`]).
struct Runtime {
    state: RefCell<State>,
    deferred: RefCell<VecDeque<Deferred>>,
    /// The deferred observations are being run (the core's own borrows must not drain again).
    draining: Cell<bool>,
    /// A microtask will run them.
    drain_scheduled: Cell<bool>,
}

/// An observation the sink answered `proceed` without running the core: it runs later in the
/// same task, exactly as it would have run then.
struct Deferred {
    raw: JsValue,
    /// When the sink took it (the time its internal errors are recorded at).
    at: f64,
    /// What `State::refresh_values` answered when the sink took it (it read nothing and
    /// changed nothing then, see [`Shared::defer`]).
    mw_may_exist: bool,
}

/// The state as every part of the runtime reaches it. Each borrow first runs the deferred
/// observations, in order, so whatever reads or changes the state (the page API, the panel,
/// timers, batch texts arriving, the event dispatch, the next observation the core must run
/// at once) sees it exactly as if each observation had been run when it was made.
#[derive(Clone)]
struct Shared(Rc<Runtime>);

impl Shared {
    fn new(state: State) -> Shared {
        Shared(Rc::new(Runtime {
            state: RefCell::new(state),
            deferred: RefCell::new(VecDeque::new()),
            draining: Cell::new(false),
            drain_scheduled: Cell::new(false),
        }))
    }

    fn downgrade(&self) -> Weak<Runtime> {
        Rc::downgrade(&self.0)
    }

    fn try_borrow(&self) -> Result<Ref<'_, State>, BorrowError> {
        self.drain();
        self.0.state.try_borrow()
    }

    fn try_borrow_mut(&self) -> Result<RefMut<'_, State>, BorrowMutError> {
        self.drain();
        self.0.state.try_borrow_mut()
    }

    fn borrow(&self) -> Ref<'_, State> {
        self.drain();
        self.0.state.borrow()
    }

    fn borrow_mut(&self) -> RefMut<'_, State> {
        self.drain();
        self.0.state.borrow_mut()
    }

    /// Takes an observation without running the core when its answer is known to be
    /// `proceed` and running the core later changes nothing else (gives it back otherwise):
    /// * `audit` mode, nothing held: the core never answers `block` or a hold there (a new
    ///   event is `allowed` or `unconsented`, a repeat folds only into an event decided the
    ///   same way), except a request a catch-all saw first that the extension's network
    ///   layer reported blocked (so never once such a sighting came);
    /// * `State::refresh_values` would read and change nothing: the consent storage and the
    ///   page values are complete, or the page has no `mw` (and then no request waits for the
    ///   stored consent either);
    /// * nothing else is borrowing the state (a re-entered sink runs as before).
    ///
    /// A block-mode page never gets here: its decisions stay synchronous.
    fn defer(&self, raw: JsValue) -> Result<(), JsValue> {
        let mw_may_exist = {
            let Ok(st) = self.0.state.try_borrow() else {
                return Err(raw);
            };
            if st.session.mode() != Mode::Audit || !st.held.is_empty() || st.network_seen {
                return Err(raw);
            }
            if st.backend.is_some() && st.values_complete {
                true
            } else if !mw_may_exist() {
                false
            } else {
                return Err(raw);
            }
        };
        self.0.deferred.borrow_mut().push_back(Deferred {
            raw,
            at: now_ms(),
            mw_may_exist,
        });
        if !self.0.drain_scheduled.replace(true) {
            // Once per task at the latest; any borrow before that runs them first.
            let shared = self.clone();
            let cb = Closure::once_into_js(move |_: JsValue| {
                shared.0.drain_scheduled.set(false);
                shared.drain();
            });
            let _ = call1(&Promise::resolve(&JsValue::UNDEFINED).into(), "then", &cb);
        }
        Ok(())
    }

    /// Runs the deferred observations in order (not while the state is borrowed: whoever
    /// holds it cannot read it either, and the next borrow runs them).
    fn drain(&self) {
        if self.0.draining.get()
            || self.0.deferred.borrow().is_empty()
            || self.0.state.try_borrow_mut().is_err()
        {
            return;
        }
        self.0.draining.set(true);
        loop {
            let next = self.0.deferred.borrow_mut().pop_front();
            let Some(d) = next else { break };
            observation(self, d.raw, false, Some((d.at, d.mw_may_exist)));
        }
        self.0.draining.set(false);
    }
}

/// The installed runtime; dropping it detaches the sink. The API methods are closures owned
/// by the JS objects they sit on (`into_js_value`), so they live as long as `tprAuditor`.
#[wasm_bindgen]
pub struct PageRuntime {
    state: Shared,
    _sink: Closure<dyn FnMut(JsValue) -> JsValue>,
}

impl Drop for PageRuntime {
    fn drop(&mut self) {
        let handle = self.state.borrow().handle.clone();
        let _ = call0(&handle, "detach");
    }
}

fn window() -> Result<web_sys::Window, JsValue> {
    web_sys::window().ok_or_else(|| JsValue::from(js_sys::Error::new("no window")))
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    // The same error Reflect.get would throw for a primitive, without the thrown exception's
    // cost (this runs on the request path).
    if !target.is_object() && !target.is_function() {
        return Err(JsValue::from_str("not an object"));
    }
    Reflect::get(target, &JsValue::from_str(key))
}

fn call0(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    let f: Function = get(target, name)?.dyn_into()?;
    f.call0(target)
}

fn call1(target: &JsValue, name: &str, a: &JsValue) -> Result<JsValue, JsValue> {
    let f: Function = get(target, name)?.dyn_into()?;
    f.call1(target, a)
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn message_of(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    get(e, "message")
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

thread_local! {
    /// The sink's two answers, made once (a string made per request is a decode per request).
    static ANSWERS: [JsValue; 2] = [JsValue::from_str("proceed"), JsValue::from_str("block")];
}

fn proceed_value() -> JsValue {
    ANSWERS.with(|a| a[0].clone())
}

fn decision_value(outcome: Outcome) -> JsValue {
    ANSWERS.with(|a| a[usize::from(outcome == Outcome::Blocked)].clone())
}

/// Whether the page may have MediaWiki's `mw` (an object or a function). Without it there is
/// no `mw.config` to read and no stored consent to look for: one property read instead of
/// the dozen that would each find nothing.
fn mw_may_exist() -> bool {
    thread_local! {
        static MW: JsValue = JsValue::from_str("mw");
    }
    let mw = MW.with(|key| super::prop_key(&js_sys::global(), key));
    mw.is_object() || mw.is_function()
}

impl State {
    fn record_error(&mut self, at: &str, message: String) {
        self.error_count += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(InternalError {
                at: at.to_string(),
                message,
                t: self.replay_at.unwrap_or_else(now_ms) - self.started_at,
            });
        }
    }

    fn fail_value(&self) -> JsValue {
        decision_value(if self.session.mode() == Mode::Block {
            Outcome::Blocked
        } else {
            Outcome::Allowed
        })
    }

    /// Chooses the consent storage once `mw` exists and adopts what it holds; events decided
    /// before keep what happened, held ones are re-decided.
    fn resolve_backend(&mut self) {
        let Some(backend) = store::choose(self.storage.as_deref(), None) else {
            return;
        };
        let text = store::load(&backend);
        self.backend = Some(backend);
        if text.is_none() || self.stored_text.is_some() {
            return;
        }
        let (mut list, problem) = consent_from_stored(text.as_deref());
        if self.save_wanted && problem.is_none() {
            // The user changed consent before it was read: keep both.
            list = crate::consent::merge(self.session.auditor().consent(), &list);
        }
        self.stored_text = text;
        if let Some(p) = &problem {
            self.record_error("consent", p.clone());
        }
        self.consent_problem = problem;
        self.session.auditor_mut().set_consent(list);
        for id in self.session.redecide() {
            self.queue_dispatch(id);
        }
        self.sync_fail_closed();
    }

    /// Tells the bootstrap how to fail: closed in `block` mode, open otherwise.
    fn sync_fail_closed(&self) {
        let opts = Object::new();
        let fail_closed = JsValue::from_bool(self.session.mode() == Mode::Block);
        let _ = Reflect::set(&opts, &JsValue::from_str("failClosed"), &fail_closed);
        let _ = call1(&self.handle, "configure", &opts.into());
    }

    fn queue_dispatch(&mut self, id: u64) {
        if self.dispatch_set.insert(id) {
            self.dispatch.push(id);
        }
    }

    /// Reads `mw.config` and the user's tokens when they exist and are not complete yet.
    /// Returns false when the page has no `mw` (so nothing else needs to look for it now).
    fn refresh_values(&mut self) -> bool {
        if (self.backend.is_none() || !self.values_complete) && !mw_may_exist() {
            // What follows would find nothing: the store needs `mw.config` (a backend that
            // does not is chosen at install) and so do the page values.
            return false;
        }
        // Until the stored consent is known, every request asks (a few property reads): a
        // gadget batch running right after `user.options` must be decided by the user's own
        // mode and rules, not by the defaults of a check made a few milliseconds earlier.
        if self.backend.is_none() {
            self.resolve_backend();
        }
        // Values are read on every request until complete (a few property reads): a
        // request made right after `mw.config` is filled must already be checked against it.
        if self.values_complete {
            return true;
        }
        match read_page_values() {
            Ok(Some((values, complete))) => {
                self.session.set_values(&values);
                self.values_complete = complete;
            }
            Ok(None) => {}
            Err(e) => {
                self.values_complete = true; // do not retry a throwing mw.config forever
                self.record_error("page-values", message_of(&e));
            }
        }
        true
    }
}

/// The consent list a stored text gives, and why it was not usable if it was not: a broken
/// text runs the strict defaults in `ask` mode (SPEC §7), the text itself is kept elsewhere.
fn consent_from_stored(text: Option<&str>) -> (ConsentList, Option<String>) {
    let Some(text) = text else {
        return (ConsentList::default(), None);
    };
    match ConsentList::parse(text) {
        Ok(list) => (list, None),
        Err(errors) => {
            let strict = ConsentList {
                mode: Mode::Ask,
                ..ConsentList::default()
            };
            let problem = format!(
                "stored consent list is invalid ({} error(s)); running on strict defaults in ask mode; the stored text is kept: {}",
                errors.len(),
                errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            );
            (strict, Some(problem))
        }
    }
}

/// `mw.config` values and tokens, and whether the tokens were there too.
fn read_page_values() -> Result<Option<(PageValues, bool)>, JsValue> {
    let w: JsValue = window()?.into();
    let mw = get(&w, "mw")?;
    if !mw.is_object() {
        return Ok(None);
    }
    let config = get(&mw, "config")?;
    let Ok(getter) = get(&config, "get")?.dyn_into::<Function>() else {
        return Ok(None);
    };
    // mw.config exists before ResourceLoader's startup fills it (RLCONF): not read yet.
    if !getter
        .call1(&config, &JsValue::from_str("wgPageName"))?
        .is_string()
    {
        return Ok(None);
    }
    let out = Object::new();
    for key in [
        "wgUserName",
        "wgUserId",
        "wgPageName",
        "wgTitle",
        "wgRelevantPageName",
        "wgArticleId",
        "wgRevisionId",
        "wgCurRevisionId",
    ] {
        let v = getter.call1(&config, &JsValue::from_str(key))?;
        if v.as_string().is_some() || v.as_f64().is_some() {
            Reflect::set(&out, &JsValue::from_str(key), &v)?;
        }
    }
    let mut tokens = Vec::new();
    let user_tokens = get(&mw, "user")
        .and_then(|u| get(&u, "tokens"))
        .unwrap_or(JsValue::UNDEFINED);
    if let Ok(tget) = get(&user_tokens, "get").and_then(|f| f.dyn_into::<Function>()) {
        for name in ["csrfToken", "patrolToken", "watchToken", "rollbackToken"] {
            if let Some(t) = tget
                .call1(&user_tokens, &JsValue::from_str(name))?
                .as_string()
            {
                // `+\` is the anonymous placeholder, not a secret.
                if t.len() > 2 {
                    tokens.push(t);
                }
            }
        }
    }
    let mut values: PageValues = from_js(out.into(), "page values")?;
    let complete = !tokens.is_empty() || values.user_name.is_none();
    values.tokens = tokens;
    Ok(Some((values, complete)))
}

/// Batch texts for the session: inline batches from the bootstrap at once, `load.php`
/// batches fetched after the sink returns.
struct GlueBatches<'a> {
    handle: &'a JsValue,
    to_fetch: Vec<String>,
}

impl BatchSource for GlueBatches<'_> {
    fn batch_text(&mut self, url: &str) -> Option<String> {
        if url.starts_with("mw-batch://") {
            return call1(self.handle, "inlineSource", &JsValue::from_str(url))
                .ok()
                .and_then(|v| v.as_string());
        }
        if url.starts_with("http://") || url.starts_with("https://") {
            self.to_fetch.push(url.to_string());
        }
        None
    }
}

/// Records a bootstrap's `{kind: "internal-error", where, message}` record; false when `raw`
/// is not one.
fn internal_error_record(shared: &Shared, st: &mut State, raw: &JsValue) -> bool {
    let kind = get(raw, "kind").ok().and_then(|k| k.as_string());
    if kind.as_deref() != Some("internal-error") {
        return false;
    }
    let at = get(raw, "where")
        .ok()
        .and_then(|w| w.as_string())
        .unwrap_or_default();
    let message = get(raw, "message")
        .ok()
        .and_then(|w| w.as_string())
        .unwrap_or_default();
    st.record_error(&format!("bootstrap:{at}"), message);
    schedule_flush(shared, st);
    true
}

/// The sink: the bootstrap's observations (requests, and its internal-error records). In
/// `audit` mode most are only queued here and run once per task (see [`Shared::defer`]):
/// the core's work per request is most of the hook's synchronous cost.
fn on_observation(shared: &Shared, raw: JsValue) -> JsValue {
    match shared.defer(raw) {
        Ok(()) => proceed_value(),
        Err(raw) => observation(shared, raw, false, None),
    }
}

/// One observation. `kind_first`: look for an internal-error record before reading a request
/// (observations from outside the bootstrap); the bootstrap's internal-error records have no
/// `channel` or `url`, so for them reading the request fails first and `kind` is read only
/// then (one property read and string copy less per request).
/// `deferred`: the observation was taken by [`Shared::defer`] at that time, with what
/// `State::refresh_values` answered then (it is not asked again).
fn observation(
    shared: &Shared,
    raw: JsValue,
    kind_first: bool,
    deferred: Option<(f64, bool)>,
) -> JsValue {
    let Ok(mut st) = shared.try_borrow_mut() else {
        // Re-entered from inside our own call: cannot happen through the bootstrap (it queues
        // re-entrant observations), so say so and let it go.
        return proceed_value();
    };
    st.replay_at = deferred.map(|(at, _)| at);
    let value = observe_locked(shared, st, raw, kind_first, deferred.map(|(_, mw)| mw));
    if deferred.is_some() {
        if let Ok(mut st) = shared.0.state.try_borrow_mut() {
            st.replay_at = None;
        }
    }
    value
}

fn observe_locked(
    shared: &Shared,
    mut st: RefMut<'_, State>,
    raw: JsValue,
    kind_first: bool,
    mw_may_exist: Option<bool>,
) -> JsValue {
    if kind_first && internal_error_record(shared, &mut st, &raw) {
        return JsValue::UNDEFINED;
    }
    let obs: Observation = match super::observation_from_js(raw.clone()) {
        Ok(o) => o,
        Err(e) => {
            if !kind_first && internal_error_record(shared, &mut st, &raw) {
                return JsValue::UNDEFINED;
            }
            st.record_error("observation", e.to_string());
            let v = st.fail_value();
            schedule_flush(shared, &mut st);
            return v;
        }
    };
    let mut restart_watch = false;
    let had_backend = st.backend.is_some();
    let mw_may_exist = mw_may_exist.unwrap_or_else(|| st.refresh_values());
    // The stored consent became readable in this call: what waited for it is decided and
    // released at the end of this call, as `watch_backend` would at its next look (a
    // timer's delay later, on every page load of a logged-in user).
    let backend_found = !had_backend && st.backend.is_some();
    let handle = st.handle.clone();
    let mut batches = GlueBatches {
        handle: &handle,
        to_fetch: Vec::new(),
    };
    let result = st.session.observe(&obs, &mut batches);
    let to_fetch = batches.to_fetch;
    let value = match result {
        Ok(Observed::Ignored) => proceed_value(),
        Ok(Observed::New(id)) | Ok(Observed::Updated(id)) => {
            st.queue_dispatch(id);
            // Made before the user's stored consent could be read: it waits for it (at most
            // CONSENT_WAIT_MS, see `watch_backend`) rather than being judged by the defaults.
            if matches!(result, Ok(Observed::New(_)))
                && obs.can_hold
                && st.backend.is_none()
                && !st.consent_wait_over
                && mw_may_exist
                && store::awaits_user_options(st.storage.as_deref())
                && st.session.wait_for_consent(id)
            {
                st.consent_wait_since.get_or_insert_with(now_ms);
                restart_watch = !st.watching_backend;
            }
            let (decision, waits_batch) = match st.session.event(id) {
                Some(e) => (e.decision, e.attribution_pending),
                None => (Outcome::Allowed, false),
            };
            let mode = st.session.mode();
            let hold = obs.can_hold
                && obs.enforceable
                && (decision == Outcome::Pending || (waits_batch && mode != Mode::Audit));
            if hold {
                hold_promise(&mut st, id)
            } else {
                decision_value(decision)
            }
        }
        Err(e) => {
            st.record_error(
                "assess",
                format!("{}: {e}", crate::classify::excerpt(&obs.url)),
            );
            st.fail_value()
        }
    };
    st.in_flight += to_fetch.len();
    schedule_flush(shared, &mut st);
    drop(st);
    if backend_found {
        after_consent_change(shared, false);
    }
    for url in to_fetch {
        start_batch_fetch(shared, &handle, url);
    }
    if restart_watch {
        // A request waits for the stored consent: someone must look for it (and give up).
        watch_backend(shared, 0);
    }
    value
}

/// A Promise the bootstrap waits on; resolved with `proceed` / `block` later.
fn hold_promise(st: &mut State, id: u64) -> JsValue {
    let mut resolver: Option<Function> = None;
    let promise = Promise::new(&mut |resolve, _reject| resolver = Some(resolve));
    if let Some(r) = resolver {
        st.held.entry(id).or_default().push(r);
    }
    promise.into()
}

fn start_batch_fetch(shared: &Shared, handle: &JsValue, url: String) {
    let promise = match call1(handle, "fetchText", &JsValue::from_str(&url))
        .and_then(|p| p.dyn_into::<Promise>())
    {
        Ok(p) => p,
        Err(e) => {
            batch_arrived(shared, &url, None);
            if let Ok(mut st) = shared.try_borrow_mut() {
                st.record_error("batch-fetch", message_of(&e));
            }
            return;
        }
    };
    let shared = shared.clone();
    let on_done = Closure::once_into_js(move |text: JsValue| {
        batch_arrived(&shared, &url, text.as_string());
    });
    // `fetchText` never rejects (it resolves null on failure), so one callback is enough.
    let _ = call1(&promise.into(), "then", &on_done);
}

fn batch_arrived(shared: &Shared, url: &str, text: Option<String>) {
    let Ok(mut st) = shared.try_borrow_mut() else {
        return;
    };
    st.in_flight = st.in_flight.saturating_sub(1);
    let handle = st.handle.clone();
    let mut batches = GlueBatches {
        handle: &handle,
        to_fetch: Vec::new(),
    };
    let changed = st.session.add_batch(url, text.as_deref(), &mut batches);
    // Re-attribution can stop at a further batch (library frames called from a module of
    // another batch): its text is fetched in turn, and `settled` waits for it too.
    let to_fetch = batches.to_fetch;
    st.in_flight += to_fetch.len();
    for id in &changed {
        st.queue_dispatch(*id);
    }
    let resolve = release_decided(&mut st, &changed);
    let waiters = if st.in_flight == 0 {
        std::mem::take(&mut st.settled_waiters)
    } else {
        Vec::new()
    };
    schedule_flush(shared, &mut st);
    drop(st);
    for url in to_fetch {
        start_batch_fetch(shared, &handle, url);
    }
    for (f, v) in resolve {
        let _ = f.call1(&JsValue::UNDEFINED, &v);
    }
    for f in waiters {
        let _ = f.call0(&JsValue::UNDEFINED);
    }
}

fn schedule_flush(shared: &Shared, st: &mut State) {
    if st.dispatch_scheduled || (st.dispatch.is_empty() && st.errors.is_empty()) {
        return;
    }
    st.dispatch_scheduled = true;
    let shared = shared.clone();
    let cb = Closure::once_into_js(move |_: JsValue| flush(&shared));
    let _ = call1(&Promise::resolve(&JsValue::UNDEFINED).into(), "then", &cb);
}

/// Dispatches `tpr-auditor:event` for every event that changed since the last flush.
fn flush(shared: &Shared) {
    let details: Vec<JsValue> = {
        let Ok(mut st) = shared.try_borrow_mut() else {
            return;
        };
        st.dispatch_scheduled = false;
        let ids = std::mem::take(&mut st.dispatch);
        st.dispatch_set.clear();
        let events: Vec<&Event> = ids.iter().filter_map(|id| st.session.event(*id)).collect();
        let details = event_details(&events);
        let panel = st.panel.clone();
        drop(st);
        if let Ok(mut panel) = panel.try_borrow_mut() {
            if let Some(p) = panel.as_mut() {
                p.notify(&ids);
            }
        }
        details
    };
    let Ok(w) = window() else { return };
    for detail in details {
        let init = web_sys::CustomEventInit::new();
        init.set_detail(&detail);
        if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict("tpr-auditor:event", &init) {
            let _ = w.dispatch_event(&ev);
        }
    }
}

/// The events as the plain objects `tpr-auditor:event` carries. One JSON text parsed by the
/// browser instead of an object built field by field across the boundary (several string
/// copies and property sets per event, thousands of events in a request flood); the objects
/// are the same (JSON-compatible: objects, arrays, strings, finite numbers, booleans, null).
/// Field by field again if the text cannot be made or parsed.
fn event_details(events: &[&Event]) -> Vec<JsValue> {
    // JSON has no NaN or infinity (serde_json writes null): such a time goes field by field.
    let finite = events
        .iter()
        .all(|e| e.t.is_finite() && e.last_t.is_finite());
    let parsed = finite
        .then(|| serde_json::to_string(events).ok())
        .flatten()
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
        .filter(|a| a.length() as usize == events.len());
    match parsed {
        Some(array) => array.iter().collect(),
        None => events.iter().filter_map(|e| to_js(e).ok()).collect(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo<'a> {
    url: &'a str,
    wiki: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    version: &'static str,
    packaging: &'a str,
    page: PageInfo<'a>,
    mode: &'static str,
    started_at: f64,
    events: Vec<&'a Event>,
    summary: &'a Summary,
    errors: &'a [InternalError],
    error_count: u64,
    consent_problem: Option<&'a str>,
}

fn report_record(st: &State) -> Report<'_> {
    Report {
        version: env!("CARGO_PKG_VERSION"),
        packaging: &st.packaging,
        page: PageInfo {
            url: &st.page_url,
            wiki: &st.wiki,
        },
        mode: st.session.mode().as_str(),
        started_at: st.started_at,
        events: st.session.events().collect(),
        summary: st.session.summary(),
        errors: &st.errors,
        error_count: st.error_count,
        consent_problem: st.consent_problem.as_deref(),
    }
}

fn report(st: &State) -> Result<JsValue, JsError> {
    to_js(&report_record(st))
}

/// Applies a new consent list or mode: held requests the change decides are released.
fn after_consent_change(shared: &Shared, save: bool) {
    let resolve;
    {
        let Ok(mut st) = shared.try_borrow_mut() else {
            return;
        };
        st.sync_fail_closed();
        for id in st.session.redecide() {
            st.queue_dispatch(id);
        }
        let held: Vec<u64> = st.held.keys().copied().collect();
        resolve = release_decided(&mut st, &held);
        schedule_flush(shared, &mut st);
        if save {
            persist(shared, &mut st);
        }
    }
    for (f, v) in resolve {
        let _ = f.call1(&JsValue::UNDEFINED, &v);
    }
}

/// Until the consent storage is known (an auditor started before `mw`, or before the
/// `user.options` module ran), looks again every [`VALUES_REFRESH_MS`] (every
/// [`WAITING_REFRESH_MS`] while requests wait for it) without waiting for a request to
/// happen; then adopts what it holds, releases what that decides, and saves a change made
/// meanwhile. `watched_ms`: how long it has looked (it stops after a minute).
fn watch_backend(shared: &Shared, watched_ms: u32) {
    const MAX_WATCH_MS: u32 = 60_000;
    let mut give_up = false;
    let mut waiting = false;
    let resolved = match shared.try_borrow_mut() {
        Ok(mut st) => {
            if st.backend.is_none() {
                st.resolve_backend();
            }
            if st.backend.is_some() {
                st.consent_wait_over = true;
            } else if !st.consent_wait_over
                && st
                    .consent_wait_since
                    .is_some_and(|t0| now_ms() - t0 >= CONSENT_WAIT_MS)
            {
                st.consent_wait_over = true;
                give_up = true;
            } else {
                waiting = !st.consent_wait_over && st.consent_wait_since.is_some();
            }
            // Resolved here or by an observation meanwhile (`refresh_values`).
            st.backend
                .is_some()
                .then(|| std::mem::take(&mut st.save_wanted))
        }
        Err(_) => None,
    };
    if give_up {
        // Requests that waited for the stored consent are decided by what is known now.
        after_consent_change(shared, false);
    }
    let watching = resolved.is_none() && watched_ms < MAX_WATCH_MS;
    if let Ok(mut st) = shared.try_borrow_mut() {
        st.watching_backend = watching;
    }
    match resolved {
        Some(save) => after_consent_change(shared, save),
        None if watching => {
            // Requests waiting for the stored consent are held page loads: look more often.
            let delay = if waiting {
                WAITING_REFRESH_MS
            } else {
                VALUES_REFRESH_MS
            };
            let next = shared.clone();
            let cb = Closure::once_into_js(move || watch_backend(&next, watched_ms + delay));
            if let (Ok(w), Ok(f)) = (window(), cb.dyn_into::<Function>()) {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&f, delay as i32);
            }
        }
        None => {}
    }
}

/// Schedules one batched write of the consent list (see `web::store`).
fn persist(shared: &Shared, st: &mut State) {
    if st.backend.is_none() {
        st.save_wanted = true;
        return;
    }
    if st.save_scheduled || matches!(st.backend, Some(store::Backend::Memory)) {
        return;
    }
    st.save_scheduled = true;
    let shared = shared.clone();
    let run = Closure::once_into_js(move || {
        wasm_bindgen_futures::spawn_local(save_now(shared));
    });
    if let Ok(w) = window() {
        if let Ok(f) = run.dyn_into::<Function>() {
            let _ =
                w.set_timeout_with_callback_and_timeout_and_arguments_0(&f, store::SAVE_DELAY_MS);
        }
    }
}

async fn save_now(shared: Shared) {
    let (backend, handle, base, local) = {
        let Ok(mut st) = shared.try_borrow_mut() else {
            return;
        };
        st.save_scheduled = false;
        let Some(backend) = st.backend.clone() else {
            return;
        };
        // The stored list this page last read or wrote: what it changed is judged from it.
        let base = st
            .stored_text
            .as_deref()
            .and_then(|t| ConsentList::parse(t).ok());
        (
            backend,
            st.handle.clone(),
            base,
            st.session.auditor().consent().clone(),
        )
    };
    let result = store::save(&backend, &handle, base.as_ref(), &local).await;
    let adopt = {
        let Ok(mut st) = shared.try_borrow_mut() else {
            return;
        };
        match result {
            Ok(merged) => {
                st.stored_text = Some(merged.to_json());
                // Rules another tab wrote meanwhile join ours; the user's edits since the
                // snapshot are kept (merged again at the next write).
                let current = st.session.auditor().consent().clone();
                let adopted = crate::consent::merge_from(Some(&local), &current, &merged);
                if adopted != current {
                    st.session.auditor_mut().set_consent(adopted);
                    true
                } else {
                    false
                }
            }
            Err(message) => {
                st.record_error("consent-store", message);
                schedule_flush(&shared, &mut st);
                false
            }
        }
    };
    if adopt {
        after_consent_change(&shared, false);
    }
}

/// Releases held requests whose events are decided now.
/// In `audit` mode a request whose stored consent is known goes even while its attribution
/// still waits for a batch text (its event stays `pending` until the text decides between
/// `allowed` and `unconsented`): `audit` never holds a request for attribution, and either
/// outcome lets it through.
fn release_decided(st: &mut State, ids: &[u64]) -> Vec<(Function, JsValue)> {
    let audit = st.session.mode() == Mode::Audit;
    let mut resolve = Vec::new();
    for id in ids {
        let answer = st.session.event(*id).and_then(|e| match e.decision {
            Outcome::Pending if audit && !e.waits_consent() => Some(proceed_value()),
            Outcome::Pending => None,
            d => Some(decision_value(d)),
        });
        if let Some(answer) = answer {
            if let Some(list) = st.held.remove(id) {
                resolve.extend(list.into_iter().map(|f| (f, answer.clone())));
            }
        }
    }
    resolve
}

/// Answers a prompt: writes the rule (unless `once`), re-decides, releases what is decided.
fn apply_answer(shared: &Shared, id: u64, answer: Answer) -> Result<(), String> {
    let resolve = {
        let mut st = shared
            .try_borrow_mut()
            .map_err(|_| "the auditor is busy".to_string())?;
        let added = js_sys::Date::new_0().to_iso_string().as_string();
        let changed = st
            .session
            .answer(id, answer, added)
            .map_err(|e| e.to_string())?;
        for c in &changed {
            st.queue_dispatch(*c);
        }
        let resolve = release_decided(&mut st, &changed);
        schedule_flush(shared, &mut st);
        if answer != Answer::Once {
            persist(shared, &mut st);
        }
        resolve
    };
    for (f, v) in resolve {
        let _ = f.call1(&JsValue::UNDEFINED, &v);
    }
    Ok(())
}

/// The panel's view of the runtime. Holds the state weakly: the state owns the panel. The
/// second field is the page API object (`tprAuditor`), where the extension adds `extension`.
struct Host(Weak<Runtime>, Object);

impl Host {
    fn shared(&self) -> Option<Shared> {
        self.0.upgrade().map(Shared)
    }

    fn replace_consent(&self, list: ConsentList) {
        if let Some(shared) = self.shared() {
            if let Ok(mut st) = shared.try_borrow_mut() {
                st.session.auditor_mut().set_consent(list);
                st.consent_problem = None;
            }
            after_consent_change(&shared, true);
        }
    }
}

impl PanelHost for Host {
    fn with_session(&self, f: &mut dyn FnMut(&Session)) {
        if let Some(shared) = self.shared() {
            if let Ok(st) = shared.try_borrow() {
                f(&st.session);
            }
        }
    }

    fn set_mode(&self, mode: Mode) {
        if let Some(shared) = self.shared() {
            if let Ok(mut st) = shared.try_borrow_mut() {
                st.session.auditor_mut().set_mode(mode);
            }
            after_consent_change(&shared, true);
        }
    }

    fn add_rule(&self, rule_json: &str) -> Result<(), Vec<ConsentError>> {
        let Some(shared) = self.shared() else {
            return Ok(());
        };
        let mut list = match shared.try_borrow() {
            Ok(st) => st.session.auditor().consent().clone(),
            Err(_) => return Ok(()),
        };
        // One rule is validated exactly as a document holding it would be.
        let doc = format!("{{\"version\":1,\"rules\":[{rule_json}]}}");
        let parsed = ConsentList::parse(&doc)?;
        for rule in parsed.rules {
            list.upsert_rule(rule);
        }
        self.replace_consent(list);
        Ok(())
    }

    fn answer(&self, id: u64, answer: Answer) -> Result<(), String> {
        match self.shared() {
            Some(shared) => apply_answer(&shared, id, answer),
            None => Err("the auditor has stopped".to_string()),
        }
    }

    fn import(&self, text: &str) -> Result<(), Vec<ConsentError>> {
        let list = ConsentList::parse(text)?;
        self.replace_consent(list);
        Ok(())
    }

    fn export(&self, format: &str) -> Result<String, String> {
        let shared = self.shared().ok_or("the auditor has stopped")?;
        let st = shared.try_borrow().map_err(|_| "the auditor is busy")?;
        export(&st, format)
    }

    fn consent_problem(&self) -> Option<String> {
        self.shared().and_then(|s| {
            s.try_borrow()
                .ok()
                .and_then(|st| st.consent_problem.clone())
        })
    }

    fn stored_consent(&self) -> Option<String> {
        self.shared()
            .and_then(|s| s.try_borrow().ok().and_then(|st| st.stored_text.clone()))
    }

    fn wiki_csp(&self) -> Option<String> {
        // The extension's prelude (extension/page/prelude.js) defines a read-only, frozen
        // `extension` object on the API whose `pageCsp()` is the header the background saw;
        // the other packagings have none. Shown as text only.
        let ext = get(&self.1, "extension").ok().filter(JsValue::is_object)?;
        call0(&ext, "pageCsp")
            .ok()?
            .as_string()
            .filter(|s| !s.trim().is_empty())
    }

    fn scanner(&self) -> Option<Promise> {
        let shared = self.shared()?;
        let loader = shared.try_borrow().ok()?.scanner.clone();
        Some(loader.scan_function())
    }

    fn fetch_own(&self, url: &str) -> Option<Promise> {
        let shared = self.shared()?;
        let handle = shared.try_borrow().ok()?.handle.clone();
        let f: Function = get(&handle, "fetchText").ok()?.dyn_into().ok()?;
        f.call2(&handle, &JsValue::from_str(url), &JsValue::TRUE)
            .ok()?
            .dyn_into()
            .ok()
    }
}

/// The exports of SPEC §7 and the session report (JSON, tokens redacted in URLs).
fn export(st: &State, format: &str) -> Result<String, String> {
    let list = st.session.auditor().consent();
    match format {
        "json" => Ok(list.to_json()),
        "csp" => {
            Ok(list.to_csp_header_with(&st.session.auditor().page().first_party_csp_sources()))
        }
        "table" => Ok(list.to_table()),
        "declaration" => {
            let seen = crate::events::seen_loads(st.session.events());
            serde_json::to_string_pretty(&list.per_gadget_declaration(&seen))
                .map_err(|e| e.to_string())
        }
        "report" => serde_json::to_string_pretty(&report_record(st)).map_err(|e| e.to_string()),
        other => Err(format!(
            "unknown export format {other:?}: expected json, csp, declaration, table or report"
        )),
    }
}

fn consent_text(value: &JsValue) -> Result<String, JsValue> {
    if let Some(s) = value.as_string() {
        return Ok(s);
    }
    js_sys::JSON::stringify(value)
        .map(String::from)
        .map_err(|_| JsValue::from(js_sys::Error::new("consent must be JSON text or an object")))
}

/// Installs the runtime: `api` is the `window.tprAuditor` object the loader created.
#[wasm_bindgen(js_name = installPage)]
pub fn install_page(api: Object, options: JsValue) -> Result<PageRuntime, JsValue> {
    let w = window()?;
    let external_store =
        Some(Reflect::get(&options, &JsValue::from_str("store")).unwrap_or(JsValue::UNDEFINED))
            .filter(JsValue::is_object);
    let lang = Reflect::get(&options, &JsValue::from_str("lang"))
        .ok()
        .and_then(|l| l.as_string());
    // The packaging's way to the scanner module (may hold a function: read as is).
    let scanner = Rc::new(ScannerLoader::new(
        &Reflect::get(&options, &JsValue::from_str("scanner")).unwrap_or(JsValue::UNDEFINED),
    ));
    let options: InstallOptions = if options.is_undefined() || options.is_null() {
        InstallOptions::default()
    } else {
        from_js(options, "install options")?
    };
    let handle = Reflect::get(&w, &js_sys::Symbol::for_("tpr-auditor.bootstrap").into())?;
    if !handle.is_object() {
        return Err(js_sys::Error::new("the bootstrap is not installed in this window").into());
    }
    let page_url = w.location().href()?;
    let wiki = w.location().host().unwrap_or_default();

    let mut startup_errors = Vec::new();
    let backend = store::choose(options.storage.as_deref(), external_store);
    let stored_text = options
        .consent
        .clone()
        .or_else(|| backend.as_ref().and_then(store::load));
    let (consent, consent_problem) = consent_from_stored(stored_text.as_deref());
    if let Some(problem) = &consent_problem {
        startup_errors.push(problem.clone());
    }
    let values = PageValues::default();
    let auditor = Auditor::new(
        &page_url,
        &[Preset::wikimedia_production()],
        &values,
        consent,
    )
    .map_err(|e| js_sys::Error::new(&e.to_string()))?;
    let mut session = Session::new(auditor, &values);
    let nonce = get(&handle, "nonce")?.as_string();
    session.set_own_code(OwnCode {
        nonce,
        prefixes: options.own_prefixes.clone(),
        modules: options.own_modules.clone(),
    });
    if let Some(cap) = options.cap {
        session.set_cap(cap);
    }
    let started_at = w
        .performance()
        .map(|p| p.time_origin())
        .unwrap_or_else(now_ms);
    let mode = session.mode();
    let mut state = State {
        session,
        handle: handle.clone(),
        page_url,
        wiki,
        packaging: options.packaging.unwrap_or_else(|| "page".to_string()),
        started_at,
        values_complete: false,
        errors: Vec::new(),
        error_count: 0,
        dispatch: Vec::new(),
        dispatch_set: HashSet::new(),
        dispatch_scheduled: false,
        held: HashMap::new(),
        in_flight: 0,
        settled_waiters: Vec::new(),
        consent_problem,
        backend,
        storage: options.storage.clone(),
        stored_text,
        save_scheduled: false,
        save_wanted: false,
        consent_wait_over: false,
        consent_wait_since: None,
        watching_backend: false,
        panel: Rc::new(RefCell::new(None)),
        scanner: scanner.clone(),
        network_seen: false,
        replay_at: None,
    };
    for e in startup_errors {
        state.record_error("consent", e);
    }
    let shared = Shared::new(state);
    fn method(
        target: &Object,
        name: &str,
        f: Box<dyn FnMut(JsValue) -> JsValue>,
    ) -> Result<(), JsValue> {
        Reflect::set(
            target,
            &JsValue::from_str(name),
            &Closure::wrap(f).into_js_value(),
        )?;
        Ok(())
    }
    let throw = |e: JsValue| -> JsValue {
        // wasm-bindgen closures cannot return Result: throw through js_sys.
        wasm_bindgen::throw_val(e)
    };

    let s = shared.clone();
    method(
        &api,
        "report",
        Box::new(move |_| match s.try_borrow() {
            Ok(st) => report(&st).map_err(JsValue::from).unwrap_or_else(throw),
            Err(_) => throw(js_sys::Error::new("report() called re-entrantly").into()),
        }),
    )?;
    let s = shared.clone();
    method(
        &api,
        "mode",
        Box::new(move |_| match s.try_borrow() {
            Ok(st) => JsValue::from_str(st.session.mode().as_str()),
            Err(_) => JsValue::NULL,
        }),
    )?;
    let s = shared.clone();
    method(
        &api,
        "setMode",
        Box::new(move |m| {
            let Some(mode) = m.as_string().as_deref().and_then(Mode::parse) else {
                return throw(
                    js_sys::Error::new("setMode(mode): expected 'audit', 'ask' or 'block'").into(),
                );
            };
            if let Ok(mut st) = s.try_borrow_mut() {
                st.session.auditor_mut().set_mode(mode);
            }
            after_consent_change(&s, true);
            JsValue::UNDEFINED
        }),
    )?;
    let s = shared.clone();
    method(
        &api,
        "settled",
        Box::new(move |_| {
            let mut resolver: Option<Function> = None;
            let promise = Promise::new(&mut |resolve, _| resolver = Some(resolve));
            if let (Some(r), Ok(mut st)) = (resolver, s.try_borrow_mut()) {
                if st.in_flight == 0 {
                    let _ = r.call0(&JsValue::UNDEFINED);
                } else {
                    st.settled_waiters.push(r);
                }
            }
            promise.into()
        }),
    )?;
    let s = shared.clone();
    let answer = Closure::wrap(Box::new(move |id: JsValue, answer: JsValue| {
        // answer(id, 'once' | 'source' | 'always' | 'block'): the user answered a prompt.
        let Some(answer) = answer.as_string().as_deref().and_then(Answer::parse) else {
            return throw(
                js_sys::Error::new(
                    "answer(id, answer): answer is 'once', 'source', 'always' or 'block'",
                )
                .into(),
            );
        };
        let Some(id) = id.as_f64().filter(|v| *v >= 1.0 && v.fract() == 0.0) else {
            return throw(js_sys::Error::new("answer(id, answer): id is an event id").into());
        };
        match apply_answer(&s, id as u64, answer) {
            Ok(()) => JsValue::TRUE,
            Err(m) => throw(js_sys::Error::new(&m).into()),
        }
    }) as Box<dyn FnMut(JsValue, JsValue) -> JsValue>);
    Reflect::set(&api, &JsValue::from_str("answer"), &answer.into_js_value())?;
    // scan(text, {lang, name}): a Promise of the scan report (src/web/scanner.rs).
    let scan = Closure::wrap(Box::new(move |text: JsValue, options: JsValue| {
        JsValue::from(scan_promise(&scanner, text, options))
    }) as Box<dyn FnMut(JsValue, JsValue) -> JsValue>);
    Reflect::set(&api, &JsValue::from_str("scan"), &scan.into_js_value())?;

    let consent = Object::new();
    let s = shared.clone();
    method(
        &consent,
        "get",
        Box::new(move |_| match s.try_borrow() {
            Ok(st) => js_sys::JSON::parse(&st.session.auditor().consent().to_json())
                .unwrap_or(JsValue::NULL),
            Err(_) => JsValue::NULL,
        }),
    )?;
    let s = shared.clone();
    method(
        &consent,
        "set",
        Box::new(move |doc| {
            let text = match consent_text(&doc) {
                Ok(t) => t,
                Err(e) => return throw(e),
            };
            let list = match ConsentList::parse(&text) {
                Ok(l) => l,
                Err(errors) => return throw(consent_error(&errors)),
            };
            if let Ok(mut st) = s.try_borrow_mut() {
                st.session.auditor_mut().set_consent(list);
            }
            after_consent_change(&s, true);
            JsValue::UNDEFINED
        }),
    )?;
    // adopt(text): the packaging's storage changed (another tab, the options page): take the
    // list without writing it back (a write would echo between tabs forever). An invalid
    // document is reported, not adopted.
    let s = shared.clone();
    method(
        &consent,
        "adopt",
        Box::new(move |doc| {
            let text = match consent_text(&doc) {
                Ok(t) => t,
                Err(e) => return throw(e),
            };
            let (list, problem) = consent_from_stored(Some(&text));
            let changed = match s.try_borrow_mut() {
                Ok(mut st) => {
                    st.stored_text = Some(text);
                    if let Some(p) = &problem {
                        st.record_error("consent", p.clone());
                    }
                    st.consent_problem = problem;
                    let changed = st.session.auditor().consent() != &list;
                    if changed {
                        st.session.auditor_mut().set_consent(list);
                    }
                    changed
                }
                Err(_) => false,
            };
            if changed {
                after_consent_change(&s, false);
            }
            JsValue::from_bool(changed)
        }),
    )?;
    let s = shared.clone();
    method(
        &consent,
        "export",
        Box::new(move |format| {
            let Ok(st) = s.try_borrow() else {
                return JsValue::NULL;
            };
            let format = format.as_string().unwrap_or_else(|| "json".to_string());
            match export(&st, &format) {
                Ok(text) => JsValue::from_str(&text),
                Err(m) => throw(js_sys::Error::new(&m).into()),
            }
        }),
    )?;
    // Read-only views of the state: `null` when a text is absent (or the state is busy).
    fn text_or_null(t: Option<&str>) -> JsValue {
        t.map(JsValue::from_str).unwrap_or(JsValue::NULL)
    }
    let reader = |f: fn(&State) -> JsValue| -> Box<dyn FnMut(JsValue) -> JsValue> {
        let s = shared.clone();
        Box::new(move |_| s.try_borrow().map(|st| f(&st)).unwrap_or(JsValue::NULL))
    };
    method(
        &consent,
        "stored",
        reader(|st| text_or_null(st.stored_text.as_deref())),
    )?;
    method(
        &consent,
        "storage",
        reader(|st| JsValue::from_str(st.backend.as_ref().map_or("pending", |b| b.name()))),
    )?;
    method(
        &consent,
        "problem",
        reader(|st| text_or_null(st.consent_problem.as_deref())),
    )?;
    Reflect::set(&api, &JsValue::from_str("consent"), &consent)?;

    // Deferred observations may need texts of inline scripts the bootstrap keeps for a while
    // (`inlineSource`): they run before it drops them.
    let s = shared.clone();
    let before_reset = Closure::wrap(Box::new(move || s.drain()) as Box<dyn FnMut()>);
    let configure = Object::new();
    Reflect::set(
        &configure,
        &JsValue::from_str("beforeInlineReset"),
        &before_reset.into_js_value(),
    )?;
    let _ = call1(&handle, "configure", &configure.into());

    // The sink last: attaching flushes the bootstrap's queue through it.
    let s = shared.clone();
    let sink =
        Closure::wrap(Box::new(move |obs: JsValue| on_observation(&s, obs))
            as Box<dyn FnMut(JsValue) -> JsValue>);
    let attach_opts = Object::new();
    Reflect::set(
        &attach_opts,
        &JsValue::from_str("failClosed"),
        &JsValue::from_bool(mode == Mode::Block),
    )?;
    let attach: Function = get(&handle, "attach")?.dyn_into()?;
    attach.call2(&handle, sink.as_ref(), &attach_opts)?;

    // The badge last: a failure to draw it must not stop the auditing.
    let host: Rc<dyn PanelHost> = Rc::new(Host(shared.downgrade(), api.clone()));
    let panel_cell = shared.borrow().panel.clone();
    let panel_api = Object::new();
    let cell = panel_cell.clone();
    method(
        &panel_api,
        "open",
        Box::new(move |_| {
            if let Ok(p) = cell.try_borrow() {
                if let Some(p) = p.as_ref() {
                    p.open();
                    return JsValue::TRUE;
                }
            }
            JsValue::FALSE
        }),
    )?;
    let cell = panel_cell.clone();
    method(
        &panel_api,
        "stats",
        Box::new(move |_| {
            // Debug counters: drawing time of the open panel per animation frame, and the
            // time spent counting changed events (the closed panel's whole per-event cost).
            let stats = cell
                .try_borrow()
                .ok()
                .and_then(|p| p.as_ref().and_then(Panel::render_stats));
            let Some(s) = stats else {
                return JsValue::NULL;
            };
            let o = Object::new();
            for (k, v) in [
                ("frames", s.frames as f64),
                ("maxMs", s.max_ms),
                ("p95Ms", s.p95_ms),
                ("totalMs", s.total_ms),
                ("notifyCalls", s.notify_calls as f64),
                ("notifyEvents", s.notify_events as f64),
                ("notifyMs", s.notify_ms),
            ] {
                let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(v));
            }
            let recent: js_sys::Array = s
                .recent_ms
                .iter()
                .map(|&ms| JsValue::from_f64(ms))
                .collect();
            let _ = Reflect::set(&o, &JsValue::from_str("recentMs"), &recent);
            o.into()
        }),
    )?;
    Reflect::set(&api, &JsValue::from_str("panel"), &panel_api)?;
    if options.panel != Some(false) {
        match Panel::mount(host, lang) {
            Ok(panel) => *panel_cell.borrow_mut() = Some(panel),
            Err(e) => shared.borrow_mut().record_error("panel", message_of(&e)),
        }
    }

    watch_backend(&shared, 0);

    Ok(PageRuntime {
        state: shared,
        _sink: sink,
    })
}

#[wasm_bindgen]
impl PageRuntime {
    /// The bootstrap's counters (queued, delivered, internal errors…).
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        let handle = self.state.borrow().handle.clone();
        call0(&handle, "stats")
    }

    /// A sighting by the extension's network layer (`observedBy: "network"`, issue 5/7 item
    /// 4): merged into the hook's event for the same request, or a new event with the honest
    /// source `page` (CSS-referenced and parser-inserted loads). Returns what the sink returns
    /// (`proceed` / `block`); other observers are refused.
    pub fn observe(&self, obs: JsValue) -> Result<JsValue, JsValue> {
        let by = get(&obs, "observedBy")?.as_string();
        if by.as_deref() != Some("network") {
            return Err(
                js_sys::Error::new("observe(obs): only observedBy 'network' is accepted").into(),
            );
        }
        if let Ok(mut st) = self.state.try_borrow_mut() {
            st.network_seen = true;
        }
        Ok(observation(&self.state, obs, true, None))
    }
}

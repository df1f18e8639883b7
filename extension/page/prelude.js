/*
 * TPR Auditor extension — page-world prelude (issue 5/7 items 2, 3, 4, 6). Bundled by
 * scripts/bundle.py (--prelude) INSIDE the page bundle's closure, after the bootstrap and
 * before the loader, which reads `TPR_EXTENSION`:
 *
 *   TPR_EXTENSION.store      the consent store the core uses (src/web/store.rs, External):
 *                            load() → the stored text (sync), save(text) → to storage.sync
 *                            through the isolated world; `ready` resolves once the stored text
 *                            arrived (or after 1.5 s), and the loader waits for it.
 *   TPR_EXTENSION.loadScanner()  runs the package's scanner.js in this page world (through the
 *                            bridge and the background's scripting.executeScript): the lazily
 *                            loaded scanner module of tprAuditor.scan (src/web/scanner.rs).
 *   TPR_EXTENSION.fallback(api, handle, error)
 *                            called when the core cannot start in the page (a CSP without
 *                            'wasm-unsafe-eval'): the bootstrap's raw observations go to a core
 *                            running in the extension, which sends the events back; the page
 *                            API keeps working (report, events, mode, consent).
 *
 * The channel to the isolated world (bridge.js). window.postMessage reaches every listener
 * in the page, so a secret carried in it would be a secret no more after the first message.
 * Instead, both sides meet once, synchronously, at document_start, before any page script
 * can run: this side creates a detached comment node (the page has no reference to it) and
 * hands it over as the relatedTarget of a `hello` event; the bridge answers on that node with
 * a per-load random secret. From then on every message is a CustomEvent on the private node
 * whose detail is JSON text `{tag, secret, dir, type, data}`; each side checks the target,
 * the tag, the secret and the direction. The meeting events are listened to once only.
 *
 * Nothing here renders anything; the panel is the core's (src/web/panel.rs).
 */
const TPR_EXTENSION = (function tprExtensionPrelude(global) {
  'use strict';
  if (!global || !global.document) return null;
  const TAG = 'tpr-auditor-ext/1';
  const doc = global.document;
  const EventTargetProto = global.EventTarget.prototype;
  const addListener = EventTargetProto.addEventListener;
  const removeListener = EventTargetProto.removeEventListener;
  const dispatch = EventTargetProto.dispatchEvent;
  const CustomEventC = global.CustomEvent;
  const MouseEventC = global.MouseEvent;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const call = Function.prototype.call.bind(Function.prototype.call);
  const setTimeoutC = global.setTimeout.bind(global);
  const timeOrigin = global.performance ? global.performance.timeOrigin : 0;
  const detailGetter = Object.getOwnPropertyDescriptor(global.CustomEvent.prototype, 'detail').get;
  const targetGetter = Object.getOwnPropertyDescriptor(global.Event.prototype, 'target').get;
  const defineProperty = Object.defineProperty;

  const node = doc.createComment('tpr-auditor');
  let secret = null;
  const outbox = [];
  const handlers = Object.create(null);

  function send(type, data) {
    if (secret === null) { outbox.push([type, data]); return; }
    const ev = new CustomEventC(TAG, { detail: stringify({ tag: TAG, secret: secret, dir: 'up', type: type, data: data }) });
    call(dispatch, node, ev);
  }

  function onMessage(e) {
    let msg;
    try {
      if (call(targetGetter, e) !== node) return;
      const detail = call(detailGetter, e);
      if (typeof detail !== 'string') return;
      msg = parse(detail);
    } catch (x) { return; }
    if (!msg || msg.tag !== TAG || msg.dir !== 'down') return;
    if (secret === null) {
      if (msg.type !== 'welcome' || typeof msg.secret !== 'string' || msg.secret.length < 32) return;
      secret = msg.secret;
      call(removeListener, global, TAG + ':ping', onPing, true);
      while (outbox.length) { const m = outbox.shift(); send(m[0], m[1]); }
      return;
    }
    if (msg.secret !== secret) return;
    const h = handlers[msg.type];
    if (h) { try { h(msg.data); } catch (x) { /* a handler's failure is not the page's */ } }
  }
  call(addListener, node, TAG, onMessage);

  function hello() {
    if (secret !== null) return;
    call(dispatch, global, new MouseEventC(TAG + ':hello', { relatedTarget: node }));
  }
  function onPing() { hello(); }
  // Whichever world runs second completes the meeting: the bridge pings if it came first.
  call(addListener, global, TAG + ':ping', onPing, true);
  hello();

  // ---- consent store ------------------------------------------------------------------
  let storedText = null;
  let lastSent = null;
  let resolveReady;
  const ready = new Promise(function (r) { resolveReady = r; });
  setTimeoutC(function () { resolveReady(); }, 1500);
  let api = null; // window.tprAuditor once the loader made it
  const store = {
    ready: ready,
    load: function () { return storedText; },
    // `base`: the stored text this page last adopted, so the background can tell what the
    // page changed (its mode, defaults) from what was changed elsewhere meanwhile. The
    // core's store may offer the same snapshot again (it re-checks its writes); a repeat
    // would carry a newer base with an older list, so it is not sent.
    save: function (text) {
      text = String(text);
      if (text === lastSent) return;
      lastSent = text;
      send('save', { text: text, base: storedText });
    },
  };
  handlers.consent = function (data) {
    storedText = data && typeof data.text === 'string' ? data.text : null;
    resolveReady();
    // Before the core runs, load() hands the text over; afterwards the change is adopted
    // (never written back: the write came from storage). The remote core's host adopts
    // stored changes on its own.
    if (!remote && storedText !== null && api && api.status === 'running') api.consent.adopt(storedText);
  };
  handlers['save-result'] = function (data) {
    if (data && data.error) {
      lastSaveError = String(data.error);
      try { global.console.warn('TPR Auditor: ' + lastSaveError); } catch (x) { /* no console */ }
      // The page keeps running on what is stored: nothing unsaved pretends to be stored.
      if (api && api.consent && typeof api.consent.adopt === 'function' && storedText !== null) api.consent.adopt(storedText);
    } else {
      lastSaveError = null;
    }
  };
  let lastSaveError = null;

  // ---- network ground truth, CSP header, popup commands --------------------------------
  const networkQueue = [];
  let pageCsp = null;
  let networkScope = null;
  let networkSeen = 0;
  const networkUrls = []; // the first 5,000, for checks against the report (tests, support)
  function feedNetwork(obs) {
    networkSeen++;
    if (networkUrls.length < 5000) networkUrls.push(obs.url);
    obs.t = typeof obs.timeStamp === 'number' ? obs.timeStamp - timeOrigin : 0;
    delete obs.timeStamp;
    if (remote) { remote.observe(obs); return; }
    if (api && api.status === 'running' && api.runtime && typeof api.runtime.observe === 'function') {
      try { api.runtime.observe(obs); } catch (x) { /* refused: nothing to add */ }
    } else {
      networkQueue.push(obs);
    }
  }
  handlers.network = function (data) {
    const list = data && data.list;
    if (!list || typeof list.length !== 'number') return;
    for (let i = 0; i < list.length; i++) feedNetwork(list[i]);
    scheduleSummary();
  };
  handlers.csp = function (data) {
    pageCsp = data && typeof data.header === 'string' ? data.header : null;
    if (data && (data.networkScope === 'all-sites' || data.networkScope === 'wiki-hosts')) networkScope = data.networkScope;
  };
  handlers['open-panel'] = function () {
    if (api && api.panel && typeof api.panel.open === 'function') api.panel.open();
    else call(dispatch, global, new CustomEventC('tpr-auditor:open-panel'));
  };
  handlers['get-summary'] = function () { sendSummary(); };

  // ---- the badge: unconsented + blocked third-party requests ---------------------------
  const counted = new Map(); // event id -> [party, decision, count]
  let summaryScheduled = false;
  function scheduleSummary() {
    if (summaryScheduled) return;
    summaryScheduled = true;
    setTimeoutC(function () { summaryScheduled = false; sendSummary(); }, 150);
  }
  function sendSummary() {
    let third = 0;
    let requests = 0;
    counted.forEach(function (v) {
      requests += v[2];
      if ((v[0] === 'third' || v[0] === 'cloud') && (v[1] === 'unconsented' || v[1] === 'blocked')) third += v[2];
    });
    let mode = null;
    try { mode = api && typeof api.mode === 'function' ? api.mode() : null; } catch (x) { /* not ready */ }
    send('summary', {
      count: third, requests: requests, events: counted.size, network: networkSeen, mode: mode,
      status: api ? api.status : 'loading', remote: !!remote, url: global.location.href,
      saveError: lastSaveError, consentProblem: consentProblem(),
    });
  }
  function consentProblem() {
    try { return api && api.consent && typeof api.consent.problem === 'function' ? api.consent.problem() : null; } catch (x) { return null; }
  }
  call(addListener, global, 'tpr-auditor:event', function (e) {
    const ev = e.detail;
    if (!ev || typeof ev.id !== 'number') return;
    counted.set(ev.id, [ev.party, ev.decision, ev.count || 1]);
    scheduleSummary();
  });

  // ---- after the core started in the page ---------------------------------------------
  const extensionApi = Object.freeze({
    /** The Content-Security-Policy header(s) the wiki sent with this page, or null. */
    pageCsp: function () { return pageCsp; },
    /**
     * What the network layer can report: 'all-sites' (the user granted the optional access to
     * all sites) or 'wiki-hosts' (Wikimedia's and the added wikis' hosts only); null until the
     * extension answered.
     */
    networkScope: function () { return networkScope; },
    /** Requests of this frame the browser's network layer reported so far. */
    networkSeen: function () { return networkSeen; },
    /** The URLs the network layer reported (the first 5,000). */
    networkUrls: function () { return networkUrls.slice(); },
    /** The last consent save that failed, or null. */
    saveError: function () { return lastSaveError; },
  });
  // Read-only on the API: the in-page panel shows pageCsp() as the wiki's own policy, so a
  // page script must not swap it for another object.
  function attachExtensionApi(theApi) {
    try {
      defineProperty(theApi, 'extension', { value: extensionApi, enumerable: true, writable: false, configurable: false });
    } catch (x) { /* taken already: the panel shows no policy rather than someone else's */ }
  }
  function started(theApi) {
    api = theApi;
    attachExtensionApi(theApi);
    while (networkQueue.length) feedNetwork(networkQueue.shift());
    send('started', { remote: !!remote });
    scheduleSummary();
  }

  // ---- fallback: the core runs in the extension ---------------------------------------
  let remote = null;
  function fallback(theApi, handle, error) {
    api = theApi;
    attachExtensionApi(theApi);
    remote = makeRemote(theApi, handle, error);
    while (networkQueue.length) remote.observe(networkQueue.shift());
    send('started', { remote: true, error: error });
    scheduleSummary();
    return true;
  }

  function makeRemote(theApi, handle, error) {
    const events = new Map();
    let summary = null;
    let mode = 'audit';
    let outstanding = 0;
    let waiters = [];
    let batch = [];
    let flushScheduled = false;
    const BATCH_URL = /mw-(?:batch|module):\/\/[^\s)]+/g;

    function flush() {
      flushScheduled = false;
      if (!batch.length) return;
      outstanding++;
      send('obs', { list: batch, values: pageValues() });
      batch = [];
    }
    function queue(obs) {
      batch.push(obs);
      if (!flushScheduled) { flushScheduled = true; Promise.resolve().then(flush); }
    }
    function inlineTexts(stack) {
      const out = {};
      if (typeof stack !== 'string') return out;
      const found = stack.match(BATCH_URL) || [];
      for (let i = 0; i < found.length; i++) {
        const url = found[i].replace(/:\d+:\d+$/, '').replace(/:\d+$/, '');
        const text = handle.inlineSource(url);
        if (typeof text === 'string') out[url] = text;
      }
      return out;
    }
    handle.attach(function (obs) {
      if (!obs || obs.kind !== 'request') return undefined;
      queue({ obs: obs, inline: inlineTexts(obs.stack) });
      return undefined; // proceed: a remote answer cannot be waited for synchronously
    }, { failClosed: false });

    handlers.events = function (data) {
      if (!data) return;
      if (data.summary) summary = data.summary;
      if (typeof data.mode === 'string') mode = data.mode;
      const list = data.events || [];
      for (let i = 0; i < list.length; i++) {
        const ev = list[i];
        events.set(ev.id, ev);
        try { call(dispatch, global, new CustomEventC('tpr-auditor:event', { detail: ev })); } catch (x) { /* listener */ }
      }
      if (data.done) {
        outstanding = Math.max(0, outstanding - 1);
        if (!outstanding) { const w = waiters; waiters = []; for (let i = 0; i < w.length; i++) w[i](); }
      }
    };

    theApi.remote = true;
    theApi.report = function () {
      const list = [];
      events.forEach(function (e) { list.push(e); });
      list.sort(function (a, b) { return a.id - b.id; });
      return {
        version: theApi.version, packaging: 'extension', remote: true, coreError: error,
        page: { url: global.location.href, wiki: global.location.host }, mode: mode,
        startedAt: timeOrigin, events: list, summary: summary, errors: [], errorCount: 0,
        consentProblem: null,
      };
    };
    theApi.settled = function () {
      flush();
      return new Promise(function (resolve) { if (!outstanding) resolve(); else waiters.push(resolve); });
    };
    theApi.mode = function () { return mode; };
    theApi.setMode = function (m) {
      if (m !== 'audit' && m !== 'ask' && m !== 'block') throw new Error("setMode(mode): expected 'audit', 'ask' or 'block'");
      send('set-mode', { mode: m });
    };
    theApi.consent = {
      get: function () { try { return storedText === null ? null : parse(storedText); } catch (x) { return null; } },
      set: function (json) { store.save(typeof json === 'string' ? json : stringify(json)); },
      adopt: function () { return false; },
      stored: function () { return storedText; },
      storage: function () { return 'external'; },
      problem: function () { return null; },
      export: function (format) {
        if (format === undefined || format === 'json') return storedText;
        throw new Error('export(' + format + '): only json is available while the core runs in the extension');
      },
    };
    send('remote-start', { url: global.location.href, nonce: handle.nonce, consent: storedText });
    return {
      observe: function (obs) { queue({ obs: obs, inline: {} }); },
      adopt: function () { /* the extension's core host adopts stored changes itself */ },
    };
  }

  /** mw.config values and tokens for carried-data detection in the remote core. */
  function pageValues() {
    try {
      const mw = global.mw;
      if (!mw || !mw.config || typeof mw.config.get !== 'function') return null;
      const out = {};
      const keys = ['wgUserName', 'wgUserId', 'wgPageName', 'wgTitle', 'wgRelevantPageName',
        'wgArticleId', 'wgRevisionId', 'wgCurRevisionId'];
      for (let i = 0; i < keys.length; i++) {
        const v = mw.config.get(keys[i]);
        if (typeof v === 'string' || typeof v === 'number') out[keys[i]] = v;
      }
      const tokens = [];
      const t = mw.user && mw.user.tokens;
      if (t && typeof t.get === 'function') {
        ['csrfToken', 'patrolToken', 'watchToken', 'rollbackToken'].forEach(function (n) {
          const v = t.get(n);
          if (typeof v === 'string' && v.length > 2) tokens.push(v);
        });
      }
      out.tokens = tokens;
      return out;
    } catch (x) { return null; }
  }

  // ---- the scanner module (issue 7/7) ------------------------------------------------------
  // loadScanner(): asks the background to run the package's scanner.js in this frame's page
  // world (scripting.executeScript); a Promise resolved once it ran (it registers itself,
  // see src/js/scanner.js), rejected with the reason otherwise.
  const scannerWaiters = [];
  handlers['scanner-loaded'] = function (data) {
    const list = scannerWaiters.splice(0);
    for (let i = 0; i < list.length; i++) {
      if (data && data.ok) list[i].resolve();
      else list[i].reject(new Error(String(data && data.error || 'the extension could not load the scanner')));
    }
  };
  function loadScanner() {
    return new Promise(function (resolve, reject) {
      scannerWaiters.push({ resolve: resolve, reject: reject });
      if (scannerWaiters.length === 1) send('load-scanner', null);
    });
  }

  return {
    store: store,
    fallback: fallback,
    started: started,
    loadScanner: loadScanner,
  };
})(typeof window !== 'undefined' ? window : undefined);

/*
 * TPR Auditor — synchronous in-page bootstrap (SPEC §4, §6, §8; issues 3 and 5 item 1).
 *
 * One hand-written classic script, ES2017, strict, no modules, no build step. It must run
 * synchronously BEFORE any page script (extension content script at document_start in the
 * MAIN world, or first thing in the gadget). It:
 *
 *   1. captures the originals of every API it hooks and installs hooks for every channel of
 *      SPEC §4 (fetch, XHR, beacon, WebSocket, EventSource, loading elements created by any DOM
 *      path, markup sinks, CSS text and CSSOM, FontFace, Audio, preload links, workers),
 *   2. hooks same-origin iframe realms synchronously (on insertion of the frame element, and on
 *      contentWindow/contentDocument access),
 *   3. feeds two catch-alls: a buffered PerformanceObserver ('resource') and the
 *      `securitypolicyviolation` event,
 *   4. turns every request into a plain observation object (shape documented at `makeObs`),
 *   5. queues observations until the WebAssembly core attaches a sink, then calls the sink
 *      synchronously and enforces its decision (proceed / block / Promise = hold),
 *   6. never breaks the page: every hook body runs in try/catch, falls back to the native
 *      behaviour (or fails closed when the sink asked for it) and reports the internal error,
 *   7. tags inline scripts that MediaWiki's ResourceLoader evaluates through `domEval` with
 *      `//# sourceURL=mw-module://NAME?tpr=NONCE` so their frames can be attributed (SPEC §6).
 *
 * The private handle
 * ------------------
 * The bootstrap publishes exactly one thing: `window[Symbol.for('tpr-auditor.bootstrap')]`,
 * a non-enumerable, non-writable, non-configurable property. The core loader (a later script,
 * possibly from another packaging) and the browser tests need to find the handle; a registered
 * symbol is the only name they can share without a global variable. Page code CAN read it
 * (nothing in it is secret: observations are about the page's own requests), but it cannot
 * replace or delete it, so it cannot interpose a fake bootstrap in front of the core. A second
 * copy of the bootstrap (extension + gadget) sees the property and does nothing.
 *
 *   handle.version            string
 *   handle.nonce              random token of this page load; genuine sourceURL tags carry it
 *   handle.attach(sink, {failClosed})
 *                             flushes the queue in order through `sink`, then calls
 *                             `sink(obs)` synchronously for every new observation.
 *                             A second attach replaces the sink. Returns the handle.
 *   handle.detach()           stops delivering (new observations are queued again).
 *   handle.configure({holdUntilAttach, failClosed, maxQueue, wrapBlobWorkers, beforeInlineReset})
 *                             holdUntilAttach: holdable requests seen before attach are held
 *                             (a Promise) until the sink attached and decided them.
 *                             beforeInlineReset: called before the texts `inlineSource` answers
 *                             for are dropped (every 500 tagged scripts), while they still are.
 *   handle.stats()            {queued, dropped, delivered, internalErrors, realms}
 *   handle.fetchText(url, fresh) the auditor's own same-origin read (batch texts; with
 *                             `fresh`, revalidated: the Scan view's API queries): Promise of
 *                             text or null; not reported, its resource entry swallowed
 *   handle.postForm(url, body) the auditor's own same-origin form POST (consent saved to the
 *                             user's preferences): Promise of text or null; not reported
 *   handle.attachClosedShadow(el) a closed shadow root from the native attachShadow captured
 *                             at start (the panel's root cannot be stolen by a later patch)
 *   handle.inlineSource(url)  the text of an inline script the bootstrap tagged with a
 *                             `mw-module://` or `mw-batch://` sourceURL (for position mapping)
 *   handle.hookRealm(win)     hooks another same-origin window (idempotent; returns bool)
 *   handle.isHome(win)        true only for the window this bootstrap was started in. Same-origin
 *                             child realms hooked by it carry the SAME handle under the symbol
 *                             (so a second bootstrap there stays idle); a core loader running in
 *                             such a frame must not attach (it would replace the parent's sink).
 *                             A copy started in a same-origin about:blank / about:srcdoc / blob:
 *                             child frame (init scripts, match_about_blank) adopts the parent's
 *                             handle the same way instead of becoming a home of its own.
 *   handle.injectFault(where) test aid: the next hook body named `where` throws internally
 *
 * Sink decisions: `undefined`, 'proceed' or 'allow' → let it go; 'block' → deny now;
 * a thenable resolving to 'proceed'|'block' → hold (ask mode). See `decide`.
 * Observations are `{kind: 'request', …}` (shape at `makeObs`) or
 * `{kind: 'internal-error', message, where, stack, t}`.
 *
 * Hold / deny per channel (issue 5 item 1)
 *   fetch        hold: pending promise; deny: rejects TypeError('Failed to fetch')
 *   xhr          hold: send() deferred (abort() while held fires abort/loadend natively);
 *                deny: the browser's own network error (readyState 4, status 0, error +
 *                loadend; a sync XHR throws NetworkError). Sync XHR cannot be held (canHold
 *                false: a hold answer denies it).
 *   beacon       cannot wait (canHold false): held or denied → returns false, nothing sent
 *   websocket    hold: a facade (real EventTarget, WebSocket.prototype) in CONNECTING state,
 *                connected and forwarding events after consent; deny: error + close(1006)
 *   eventsource  hold: facade in CONNECTING, connected after consent (open/message/error and
 *                every type passed to addEventListener are forwarded); deny: error, CLOSED
 *   elements     hold: the URL attribute is withheld (not set / removed before insertion)
 *                and applied on consent; deny: never applied, `error` event at the element
 *   worker       blob: dedicated workers: wrapped, started behind a gate (page messages
 *                buffered) and instrumented; other workers cannot be held: deny loads a
 *                revoked blob URL so the worker fires its native `error`
 *   serviceWorker.register: held promise / rejected TypeError
 *   CSS text, CSSOM, style attributes, FontFace, catch-alls: enforceable false (observed only)
 */
(function tprAuditorBootstrap(global) {
  'use strict';

  const KEY = Symbol.for('tpr-auditor.bootstrap');
  const VERSION = '0.1.0';
  if (!global || Object.getOwnPropertyDescriptor(global, KEY)) return;

  // A copy started in a same-origin child frame that has no document of its own yet
  // (about:blank, about:srcdoc, blob:) — an init script or an extension content script with
  // match_about_blank runs there synchronously while the parent is still inside
  // appendChild, before the parent's hook could hook the new realm — hands the realm to the
  // parent's bootstrap: same handle, the parent's sink. Starting a second bootstrap there
  // would make a home without a core (such a URL has no host): its requests would only be
  // queued, and its loader would fail and write a failure note into the frame's document.
  try {
    const parentWin = global.parent;
    if (parentWin && parentWin !== global) {
      const href = String(global.location.href);
      if (href === 'about:blank' || href === 'about:srcdoc' || href.slice(0, 5) === 'blob:') {
        const ph = parentWin[KEY]; // a cross-origin parent throws here
        if (ph && typeof ph.hookRealm === 'function' && ph.hookRealm(global) &&
            Object.getOwnPropertyDescriptor(global, KEY)) return;
      }
    }
  } catch (e) { /* cross-origin parent, or no parent bootstrap: this frame is its own home */ }

  // ---------------------------------------------------------------------------------------
  // Captured intrinsics. Everything the hooks rely on is taken now, before page code runs,
  // and called through uncurried forms so later replacement of prototypes cannot blind us.
  // ---------------------------------------------------------------------------------------
  const ObjectC = Object;
  const defineProperty = ObjectC.defineProperty;
  const getOwnPropertyDescriptor = ObjectC.getOwnPropertyDescriptor;
  const getPrototypeOf = ObjectC.getPrototypeOf;
  const setPrototypeOf = ObjectC.setPrototypeOf;
  const objectCreate = ObjectC.create;
  const freeze = ObjectC.freeze;
  const ownKeys = Reflect.ownKeys;
  const apply = Reflect.apply;
  const construct = Reflect.construct;
  const FunctionProto = Function.prototype;
  const fnBind = FunctionProto.bind;
  const fnCall = FunctionProto.call;
  const uncurry = function (fn) { return apply(fnBind, fnCall, [fn]); };

  const wmGet = uncurry(WeakMap.prototype.get);
  const wmSet = uncurry(WeakMap.prototype.set);
  const wmHas = uncurry(WeakMap.prototype.has);
  const wmDelete = uncurry(WeakMap.prototype.delete);
  const WeakMapC = WeakMap;
  const WeakSetC = WeakSet;
  const wsAdd = uncurry(WeakSet.prototype.add);
  const wsHas = uncurry(WeakSet.prototype.has);
  const MapC = Map;
  const mapGet = uncurry(Map.prototype.get);
  const mapSet = uncurry(Map.prototype.set);
  const mapDelete = uncurry(Map.prototype.delete);
  const PromiseC = Promise;
  const promiseThen = uncurry(Promise.prototype.then);
  const StringC = String;
  const strSlice = uncurry(String.prototype.slice);
  const strIndexOf = uncurry(String.prototype.indexOf);
  const strToLower = uncurry(String.prototype.toLowerCase);
  const strToUpper = uncurry(String.prototype.toUpperCase);
  const strTrim = uncurry(String.prototype.trim);
  const strSplit = uncurry(String.prototype.split);
  const strCharCodeAt = uncurry(String.prototype.charCodeAt);
  const reExec = uncurry(RegExp.prototype.exec);
  const reTest = uncurry(RegExp.prototype.test);
  const arrJoin = uncurry(Array.prototype.join);
  const isArray = Array.isArray;
  const jsonStringify = JSON.stringify;
  const encodeURIComponentC = encodeURIComponent;
  const mathRandom = Math.random;
  const mathFloor = Math.floor;
  const ErrorC = Error;
  const TypeErrorC = TypeError;
  const captureStackTrace = typeof ErrorC.captureStackTrace === 'function' ? ErrorC.captureStackTrace : null;
  const URLC = global.URL;
  const urlHref = uncurry(getOwnPropertyDescriptor(URLC.prototype, 'href').get);
  const urlProtocol = uncurry(getOwnPropertyDescriptor(URLC.prototype, 'protocol').get);
  const urlOrigin = uncurry(getOwnPropertyDescriptor(URLC.prototype, 'origin').get);
  const urlHash = uncurry(getOwnPropertyDescriptor(URLC.prototype, 'hash').get);
  const createObjectURL = URLC.createObjectURL;
  const revokeObjectURL = URLC.revokeObjectURL;
  const BlobC = global.Blob;
  const setTimeoutC = global.setTimeout;
  const queueMicrotaskC = global.queueMicrotask;
  const perf = global.performance;
  const perfNow = perf && perf.now ? uncurry(perf.now) : null;
  const cryptoObj = global.crypto;
  const getRandomValues = cryptoObj && cryptoObj.getRandomValues ? uncurry(cryptoObj.getRandomValues) : null;
  const Uint8ArrayC = Uint8Array;
  const mathMin = Math.min;
  const BroadcastChannelC = global.BroadcastChannel;
  const TextDecoderC = global.TextDecoder;

  function getter(proto, name) {
    const d = proto && getOwnPropertyDescriptor(proto, name);
    return d && d.get ? uncurry(d.get) : null;
  }
  function method(proto, name) {
    const d = proto && getOwnPropertyDescriptor(proto, name);
    return d && typeof d.value === 'function' ? uncurry(d.value) : null;
  }

  // ---------------------------------------------------------------------------------------
  // Small utilities
  // ---------------------------------------------------------------------------------------
  function now() { return perfNow ? perfNow(perf) : 0; }
  function push(arr, v) { arr[arr.length] = v; }
  function later(fn) { apply(setTimeoutC, global, [fn, 0]); }
  function microtask(fn) {
    if (queueMicrotaskC) apply(queueMicrotaskC, global, [fn]);
    else promiseThen(PromiseC.resolve(), fn);
  }

  // The auditor's own reads (batch texts for attribution, SPEC §6) go through the native fetch
  // and are not reported; their resource-timing entries are swallowed by URL (ownFetches).
  const nativeFetch = typeof global.fetch === 'function' ? global.fetch : null;
  const responseText = global.Response ? method(global.Response.prototype, 'text') : null;
  const responseOk = global.Response ? getter(global.Response.prototype, 'ok') : null;
  const ownFetches = new MapC(); // absolute URL -> outstanding resource entries to swallow
  // The panel's closed shadow root must come from the native attachShadow: a page script
  // that replaced it later would otherwise be handed the root.
  const nativeAttachShadow = global.Element && global.Element.prototype.attachShadow;

  /** Native fetch of a same-origin URL for the auditor itself; resolves text or null. */
  function ownFetch(url, init) {
    const abs = resolveUrl(toStr(url), global.location.href);
    if (abs === null || !nativeFetch || !responseText) return PromiseC.resolve(null);
    if (strIndexOf(abs, global.location.origin + '/') !== 0) return PromiseC.resolve(null);
    mapSet(ownFetches, abs, (mapGet(ownFetches, abs) || 0) + 1);
    let p;
    try {
      p = apply(nativeFetch, global, [abs, init]);
    } catch (e) { return PromiseC.resolve(null); }
    return promiseThen(p, function (r) {
      return responseOk(r) ? responseText(r) : null;
    }, function () { return null; });
  }

  const NONCE = (function () {
    let s = '';
    if (getRandomValues) {
      const b = new Uint8ArrayC(12);
      getRandomValues(cryptoObj, b);
      for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
    } else {
      for (let i = 0; i < 24; i++) s += mathFloor(mathRandom() * 16).toString(16);
    }
    return s;
  })();

  /** String conversion that never throws (null when the value refuses conversion). */
  function toStr(v) {
    if (typeof v === 'string') return v;
    if (typeof v === 'symbol') return null;
    try { return '' + v; } catch (e) { return null; }
  }

  /** Resolves `u` against `base`; null for URLs the platform would reject. */
  function resolveUrl(u, base) {
    if (u === null) return null;
    try { return urlHref(new URLC(u, base)); } catch (e) { return null; }
  }

  function schemeOf(absUrl) {
    const i = strIndexOf(absUrl, ':');
    return i < 0 ? '' : strToLower(strSlice(absUrl, 0, i));
  }

  /** URLs that are not outbound requests by themselves (SPEC §3). */
  function isInertScheme(absUrl) {
    const s = schemeOf(absUrl);
    return s === 'data' || s === 'javascript' || s === 'about';
  }

  // ---------------------------------------------------------------------------------------
  // Function identity: wrappers keep name, length and the original's native toString().
  // ---------------------------------------------------------------------------------------
  const nativeOf = new WeakMapC(); // wrapper -> original
  const fnToString = uncurry(FunctionProto.toString);

  function disguise(wrapper, original, name) {
    try {
      defineProperty(wrapper, 'name', { value: name !== undefined ? name : original.name, configurable: true });
      defineProperty(wrapper, 'length', { value: original.length, configurable: true });
    } catch (e) { /* keep going: identity traits are best effort */ }
    wmSet(nativeOf, wrapper, original);
    return wrapper;
  }

  // ---------------------------------------------------------------------------------------
  // Stack capture (SPEC §6: stack taken synchronously inside the hook, own frames removed)
  // ---------------------------------------------------------------------------------------
  const OWN_URL = (function () {
    try {
      const lines = strSplit(StringC(new ErrorC().stack), '\n');
      for (let i = 0; i < lines.length; i++) {
        const m = reExec(/((?:[a-z][a-z0-9+.-]*):\/\/[^\s)]+?):\d+:\d+\)?\s*$/i, lines[i]);
        if (m) return m[1];
      }
    } catch (e) { /* unknown */ }
    return null;
  })();

  const STACK_LIMIT = 64;

  function lineCount(s) {
    let n = 0;
    for (let i = strIndexOf(s, '\n'); i >= 0; i = strIndexOf(s, '\n', i + 1)) n++;
    return n;
  }

  /**
   * The caller's stack as text. With V8's captureStackTrace the frames above and including
   * `skipFn` (our own) are left out; the holder is a plain object so no second stack is taken.
   * The page's Error.stackTraceLimit is raised only for a stack that hit it (and restored), and
   * a page-installed Error.prepareStackTrace is bypassed so the text has the standard format.
   */
  function captureStack(skipFn) {
    let oldPrepare;
    let restorePrepare = false;
    try {
      oldPrepare = ErrorC.prepareStackTrace;
      if (oldPrepare !== undefined) { ErrorC.prepareStackTrace = undefined; restorePrepare = true; }
    } catch (e) { /* frozen Error: take what we get */ }
    try {
      if (captureStackTrace && skipFn) {
        let holder = { name: 'Error', message: '' };
        apply(captureStackTrace, ErrorC, [holder, skipFn]);
        let s = StringC(holder.stack);
        const limit = ErrorC.stackTraceLimit;
        if (typeof limit === 'number' && limit < STACK_LIMIT && lineCount(s) >= limit) {
          try {
            ErrorC.stackTraceLimit = STACK_LIMIT;
            holder = { name: 'Error', message: '' };
            apply(captureStackTrace, ErrorC, [holder, skipFn]);
            s = StringC(holder.stack);
          } finally {
            ErrorC.stackTraceLimit = limit;
          }
        }
        if (strIndexOf(s, '\n') >= 0) return s;
      }
      const s = StringC(new ErrorC().stack);
      if (!OWN_URL) return s;
      // Fallback (no captureStackTrace or skip frame absent): drop our own leading frames.
      const lines = strSplit(s, '\n');
      const out = [];
      let skipping = true;
      for (let i = 0; i < lines.length; i++) {
        if (skipping && strIndexOf(lines[i], OWN_URL) >= 0) continue;
        if (skipping && i === 0 && reTest(/^\w*Error\b/, lines[i])) { push(out, lines[i]); continue; }
        skipping = false;
        push(out, lines[i]);
      }
      return arrJoin(out, '\n');
    } catch (e) {
      return '';
    } finally {
      try { if (restorePrepare) ErrorC.prepareStackTrace = oldPrepare; } catch (e) { /* ignore */ }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Sink, queue and decisions
  // ---------------------------------------------------------------------------------------
  const PROCEED = 0;
  const BLOCK = 1;
  const state = {
    sink: null,
    failClosed: false,
    holdUntilAttach: false,
    wrapBlobWorkers: true,
    maxQueue: 10000,
    queue: [],
    qHead: 0,
    dropped: 0,
    delivered: 0,
    internalErrors: 0,
    inSink: false,
    reentrant: [],
    faults: objectCreate(null),
    realms: 0,
    beforeInlineReset: null, // configure(): called before the inline script texts are dropped
  };

  function queueLength() { return state.queue.length - state.qHead; }

  function enqueue(obs, resolve) {
    if (queueLength() >= state.maxQueue) { state.dropped++; return false; }
    push(state.queue, { obs: obs, resolve: resolve });
    return true;
  }

  function callSink(obs) {
    const sink = state.sink;
    state.inSink = true;
    let r;
    try {
      r = sink(obs);
      state.delivered++;
    } catch (e) {
      state.inSink = false;
      internalError('sink', e);
      r = state.failClosed ? 'block' : undefined;
    }
    state.inSink = false;
    // Observations made by the sink itself (the core loading its own data, say) are
    // delivered after it returns, never recursively; their decision is "proceed".
    while (state.reentrant.length && !state.inSink && state.sink) {
      const next = state.reentrant;
      state.reentrant = [];
      for (let i = 0; i < next.length; i++) {
        state.inSink = true;
        try { state.sink(next[i]); state.delivered++; } catch (e) { /* reported once below */ }
        state.inSink = false;
      }
    }
    return r;
  }

  function isThenable(v) {
    return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
  }

  /** Final (non-promise) decision from a sink answer. */
  function finalDecision(v) {
    if (v === undefined || v === null || v === 'proceed' || v === 'allow' || v === 'allowed') return PROCEED;
    if (v === 'block' || v === 'blocked' || v === 'deny') return BLOCK;
    internalError('decision', new TypeErrorC('unknown sink decision: ' + toStr(v)));
    return state.failClosed ? BLOCK : PROCEED;
  }

  /**
   * Delivers an observation and returns PROCEED, BLOCK or a Promise<PROCEED|BLOCK> (hold).
   * Observations with `enforceable: false` are always PROCEED (nothing can be withheld);
   * with `canHold: false` a hold answer becomes BLOCK (the call cannot wait: sendBeacon,
   * synchronous XHR, non-blob workers — the prompt is still queued by the core).
   */
  function decide(obs) {
    if (!state.sink) {
      if (state.holdUntilAttach && obs.enforceable && obs.canHold) {
        let resolveHold;
        const p = new PromiseC(function (res) { resolveHold = res; });
        if (enqueue(obs, resolveHold)) return p;
        return state.failClosed ? BLOCK : PROCEED;
      }
      enqueue(obs, null);
      return PROCEED;
    }
    if (state.inSink) { push(state.reentrant, obs); return PROCEED; }
    return normalize(callSink(obs), obs);
  }

  function normalize(r, obs) {
    if (isThenable(r)) {
      if (!obs.enforceable) return PROCEED;
      if (!obs.canHold) return BLOCK;
      return new PromiseC(function (res) {
        try {
          r.then(function (v) { res(finalDecision(v)); }, function (e) {
            internalError('sink-promise', e);
            res(state.failClosed ? BLOCK : PROCEED);
          });
        } catch (e) {
          internalError('sink-promise', e);
          res(state.failClosed ? BLOCK : PROCEED);
        }
      });
    }
    const d = finalDecision(r);
    return obs.enforceable ? d : PROCEED;
  }

  /** Observation-only delivery (catch-alls, non-request records): no decision. */
  function report(obs) {
    if (!state.sink) { enqueue(obs, null); return; }
    if (state.inSink) { push(state.reentrant, obs); return; }
    callSink(obs);
  }

  let reportingError = false;
  function internalError(where, e) {
    state.internalErrors++;
    if (reportingError) return;
    reportingError = true;
    try {
      let message = 'unknown error';
      let stack = null;
      try { message = StringC(e && e.message !== undefined ? e.message : e); stack = e && e.stack ? StringC(e.stack) : null; } catch (x) { /* ignore */ }
      const rec = { kind: 'internal-error', message: message, where: where, stack: stack, t: now() };
      if (!state.sink) enqueue(rec, null);
      else if (state.inSink) push(state.reentrant, rec);
      else { try { state.sink(rec); } catch (x) { /* the sink cannot take it: drop */ } }
    } finally {
      reportingError = false;
    }
  }

  function faultPoint(where) {
    if (state.faults[where]) {
      state.faults[where] = false;
      throw new ErrorC('injected fault in ' + where);
    }
  }

  /** Runs `onProceed` / `onBlock` now or when a held decision resolves. */
  function whenDecided(d, onProceed, onBlock) {
    if (d === PROCEED) return onProceed();
    if (d === BLOCK) return onBlock();
    promiseThen(d, function (v) { if (v === BLOCK) onBlock(); else onProceed(); });
    return undefined;
  }

  /**
   * The observation shape (a plain object, every field always present for kind 'request'):
   *   kind         'request'
   *   channel      SPEC §4 channel name ('fetch', 'xhr', 'beacon', 'websocket', 'eventsource',
   *                'script', 'module', 'style', 'css-import', 'css-url', 'font-face', 'img',
   *                'media', 'frame', 'object', 'worker', 'preload', 'other')
   *   url          absolute URL, resolved against the base URL of the realm/element
   *   method       'GET' for loads, the request method for fetch/xhr, 'POST' for beacons
   *   body         string form of the body where readable, else null
   *   credentials  true for credentials:'include' / withCredentials
   *   sandbox      iframe sandbox attribute (string) or null
   *   as           <link rel=preload as=…> (or 'manifest'), else null
   *   rel          <link rel> when the element is a link, else null
   *   tag          element local name when an element made the request, else null
   *   attr         the URL-bearing attribute ('src', 'href', 'srcset', 'data', 'poster', …)
   *   stack        Error().stack captured synchronously inside the hook, own frames removed
   *                (null when observed asynchronously: catch-alls, MutationObserver)
   *   t            performance.now() at the call
   *   observedBy   'hook' | 'performance' | 'csp'
   *   blockedBy    null | 'wiki-csp'
   *   realm        'top' | 'iframe' | 'worker'
   *   path         which hook saw it ('fetch', 'src-setter', 'setAttribute', 'appendChild',
   *                'innerHTML', 'mutation', …)
   *   enforceable  false when page code cannot hold or deny it
   *   canHold      false when the call cannot wait (beacon, sync XHR, non-blob workers)
   */
  function makeObs(channel, url, realm, path, skipFn) {
    return {
      kind: 'request',
      channel: channel,
      url: url,
      method: 'GET',
      body: null,
      credentials: false,
      sandbox: null,
      as: null,
      rel: null,
      tag: null,
      attr: null,
      stack: skipFn === null ? null : captureStack(skipFn),
      t: now(),
      observedBy: 'hook',
      blockedBy: null,
      realm: realm,
      path: path,
      enforceable: true,
      canHold: true,
    };
  }

  // ---------------------------------------------------------------------------------------
  // Body to text (SPEC §3 carried data)
  // ---------------------------------------------------------------------------------------
  const uspToString = method(global.URLSearchParams && global.URLSearchParams.prototype, 'toString');
  const formDataEntries = method(global.FormData && global.FormData.prototype, 'entries');
  const blobSize = getter(BlobC && BlobC.prototype, 'size');
  const fileName = getter(global.File && global.File.prototype, 'name');
  const abByteLength = getter(ArrayBuffer.prototype, 'byteLength');
  const isView = ArrayBuffer.isView;
  const rsLocked = getter(global.ReadableStream && global.ReadableStream.prototype, 'locked');
  const MAX_BODY = 1 << 20;

  function brand(fn, obj) {
    // A primitive is never a platform object: skip the throwing call (an exception costs a
    // stack capture, the largest part of a `fetch(string)` hook otherwise).
    if (!fn || obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) return false;
    try { fn(obj); return true; } catch (e) { return false; }
  }

  function bodyText(b) {
    if (b === undefined || b === null) return null;
    if (typeof b === 'string') return b;
    if (typeof b !== 'object') return toStr(b);
    if (brand(uspToString, b)) return uspToString(b);
    if (brand(formDataEntries, b)) {
      const it = formDataEntries(b);
      const parts = [];
      for (let step = it.next(); !step.done; step = it.next()) {
        const k = step.value[0];
        const v = step.value[1];
        const val = typeof v === 'string' ? v : (brand(fileName, v) ? fileName(v) : '');
        push(parts, encodeURIComponentC(k) + '=' + encodeURIComponentC(val));
      }
      return arrJoin(parts, '&');
    }
    if (brand(blobSize, b)) return null;
    if (brand(rsLocked, b)) return null;
    if (brand(abByteLength, b) || isView(b)) {
      if (!TextDecoderC) return null;
      try {
        const len = brand(abByteLength, b) ? abByteLength(b) : b.byteLength;
        if (len > MAX_BODY) return null;
        return new TextDecoderC('utf-8').decode(b);
      } catch (e) { return null; }
    }
    return toStr(b);
  }

  // ---------------------------------------------------------------------------------------
  // Per-realm installation
  // ---------------------------------------------------------------------------------------
  const hookedRealms = new WeakSetC();
  // A realm is known by its window's Location object, not by the window: a frame's
  // WindowProxy stays the same object when the frame navigates, while each new Window (a new
  // realm, with nothing hooked) has a Location of its own, and a reused one (the initial
  // about:blank followed by a same-origin document) keeps it. `location` is unforgeable.
  function realmKey(W) { return W.location; }
  const seen = new WeakMapC(); // element -> dictionary of reported URLs (once per element+URL)
  const withheld = new WeakMapC(); // element -> dictionary attr -> {value, ns, qname, token}
  const inlineSources = new MapC(); // sourceURL -> script text, for tagged inline scripts
  let inlineBatchCounter = 0;

  function markSeen(el, url) {
    let d = wmGet(seen, el);
    if (!d) { d = objectCreate(null); wmSet(seen, el, d); }
    if (d[url]) return false;
    d[url] = true;
    return true;
  }
  function wasSeen(el, url) {
    const d = wmGet(seen, el);
    return !!(d && d[url]);
  }

  /** Defines `value` at obj[name] with the same attributes the original had. */
  function replaceValue(obj, name, makeHook) {
    const d = getOwnPropertyDescriptor(obj, name);
    if (!d || typeof d.value !== 'function') return null;
    const orig = d.value;
    const hook = makeHook(orig);
    disguise(hook, orig);
    defineProperty(obj, name, { value: hook, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
    return orig;
  }

  /** Wraps an accessor's setter (and optionally getter), keeping the descriptor attributes. */
  function replaceAccessor(obj, name, makeSet, makeGet) {
    const d = obj && getOwnPropertyDescriptor(obj, name);
    if (!d || (!d.set && !d.get)) return null;
    const nd = { enumerable: d.enumerable, configurable: d.configurable, get: d.get, set: d.set };
    if (makeSet && d.set) nd.set = disguise(makeSet(d.set, d.get), d.set, d.set.name);
    if (makeGet && d.get) nd.get = disguise(makeGet(d.get, d.set), d.get, d.get.name);
    defineProperty(obj, name, nd);
    return d;
  }

  /**
   * Wraps a constructor. `onConstruct(Orig, args, newTarget, wrapper)` returns the instance.
   * Keeps prototype identity (instanceof), statics, [[Prototype]], name, length, toString,
   * and the native TypeError when called without `new`.
   */
  function replaceConstructor(W, name, onConstruct) {
    const d = getOwnPropertyDescriptor(W, name);
    if (!d || typeof d.value !== 'function') return null;
    const Orig = d.value;
    const holder = {};
    holder[name] = function () {
      if (new.target === undefined) return apply(Orig, this, arguments);
      return onConstruct(Orig, arguments, new.target, wrapper);
    };
    const wrapper = holder[name];
    try {
      const keys = ownKeys(Orig);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (k === 'prototype' || k === 'name' || k === 'length' || k === 'arguments' || k === 'caller') continue;
        defineProperty(wrapper, k, getOwnPropertyDescriptor(Orig, k));
      }
      defineProperty(wrapper, 'prototype', { value: Orig.prototype, writable: false, enumerable: false, configurable: false });
      setPrototypeOf(wrapper, getPrototypeOf(Orig));
      const cd = getOwnPropertyDescriptor(Orig.prototype, 'constructor');
      if (cd && cd.value === Orig) {
        defineProperty(Orig.prototype, 'constructor', { value: wrapper, writable: cd.writable, enumerable: cd.enumerable, configurable: cd.configurable });
      }
    } catch (e) { internalError('install:' + name, e); }
    disguise(wrapper, Orig, name);
    defineProperty(W, name, { value: wrapper, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
    return Orig;
  }

  /** Installs every hook into window `W` (the top window or a same-origin frame's). */
  function installRealm(W, realm) {
    const key = realmKey(W);
    if (wsHas(hookedRealms, key)) return false;
    wsAdd(hookedRealms, key);
    state.realms++;
    const R = { W: W, realm: realm };
    const steps = [
      installToString, installFetch, installXhr, installBeacon, installSockets,
      installElements, installMarkup, installCss, installConstructors, installFrames,
      installBlobDocuments, installWorkers, installCatchAlls,
    ];
    for (let i = 0; i < steps.length; i++) {
      try { steps[i](R); } catch (e) { internalError('install:' + steps[i].name, e); }
    }
    return true;
  }

  // --- toString masking ------------------------------------------------------------------
  function installToString(R) {
    const proto = R.W.Function.prototype;
    replaceValue(proto, 'toString', function (orig) {
      return {
        toString() {
          const o = typeof this === 'function' ? wmGet(nativeOf, this) : undefined;
          return apply(orig, o !== undefined ? o : this, arguments);
        },
      }.toString;
    });
  }

  // --- fetch ----------------------------------------------------------------------------
  function realmBase(W) {
    try { return W.document.baseURI; } catch (e) { return global.document.baseURI; }
  }

  function installFetch(R) {
    const W = R.W;
    if (typeof W.fetch !== 'function' || !W.Request) return;
    const reqProto = W.Request.prototype;
    const reqUrl = getter(reqProto, 'url');
    const reqMethod = getter(reqProto, 'method');
    const reqCredentials = getter(reqProto, 'credentials');
    const reqBody = getter(reqProto, 'body');
    const reqBodyUsed = getter(reqProto, 'bodyUsed');
    const reqClone = method(reqProto, 'clone');
    const reqText = method(reqProto, 'text');
    const TypeErrorW = W.TypeError;
    const PromiseW = W.Promise;
    const promiseReject = PromiseW.reject;

    function fail() { return apply(promiseReject, PromiseW, [new TypeErrorW('Failed to fetch')]); }

    replaceValue(W, 'fetch', function (orig) {
      const hook = {
        fetch(input, init) {
          let d = PROCEED;
          let args = arguments;
          let obs = null;
          let pendingBody = null;
          if (arguments.length > 0) {
            try {
              faultPoint('fetch');
              let url;
              let method = 'GET';
              let credentials = false;
              let isReq = false;
              if (brand(reqUrl, input)) {
                isReq = true;
                url = reqUrl(input);
                method = reqMethod(input);
                credentials = reqCredentials(input) === 'include';
              } else {
                const s = toStr(input);
                url = resolveUrl(s, realmBase(W));
                if (url !== null) {
                  // Pass the converted string on so page toString() runs once, as natively.
                  args = arguments.length > 1 ? [s, init] : [s];
                  if (arguments.length > 2) args = arguments;
                }
              }
              if (url !== null) {
                obs = makeObs('fetch', url, R.realm, 'fetch', hook.fetch);
                if (init !== null && typeof init === 'object') {
                  if (init.method !== undefined) method = strToUpper(StringC(init.method));
                  if (init.credentials !== undefined) credentials = StringC(init.credentials) === 'include';
                  if (init.body !== undefined && init.body !== null) obs.body = bodyText(init.body);
                }
                obs.method = method;
                obs.credentials = credentials;
                // Firefox has no Request.prototype.body: there, any unused Request is read.
                if (isReq && obs.body === null && method !== 'GET' && method !== 'HEAD' &&
                    (reqBody === null || reqBody(input) !== null) && !(reqBodyUsed !== null && reqBodyUsed(input)) &&
                    reqClone !== null && reqText !== null) {
                  // A Request's body is a stream: read a clone, decide once it is read.
                  pendingBody = reqText(reqClone(input));
                } else {
                  d = decide(obs);
                }
              }
            } catch (e) {
              internalError('fetch', e);
              d = state.failClosed ? BLOCK : PROCEED;
              pendingBody = null;
              args = arguments;
            }
          }
          if (d === PROCEED && pendingBody === null) return apply(orig, this, args);
          if (d === BLOCK) return fail();
          const self = this;
          const callArgs = args;
          return new PromiseW(function (resolve, reject) {
            function go(v) {
              if (v === BLOCK) { reject(new TypeErrorW('Failed to fetch')); return; }
              try { resolve(apply(orig, self, callArgs)); } catch (e) { reject(e); }
            }
            if (pendingBody !== null) {
              promiseThen(PromiseC.resolve(pendingBody), function (text) {
                obs.body = text;
                return text;
              }, function () { return null; });
              promiseThen(promiseThen(PromiseC.resolve(pendingBody), function () {}, function () {}), function () {
                let dd;
                try { dd = decide(obs); } catch (e) { internalError('fetch', e); dd = state.failClosed ? BLOCK : PROCEED; }
                if (dd === PROCEED || dd === BLOCK) go(dd);
                else promiseThen(dd, go);
              });
            } else {
              promiseThen(d, go);
            }
          });
        },
      };
      return hook.fetch;
    });
  }

  // --- XMLHttpRequest --------------------------------------------------------------------
  function installXhr(R) {
    const W = R.W;
    const X = W.XMLHttpRequest;
    if (!X) return;
    const proto = X.prototype;
    const xhrState = new WeakMapC();
    const withCredentials = getter(proto, 'withCredentials');
    const readyState = getter(proto, 'readyState');
    const origOpen = getOwnPropertyDescriptor(proto, 'open').value;
    const origSend = getOwnPropertyDescriptor(proto, 'send').value;
    const origAbort = getOwnPropertyDescriptor(proto, 'abort').value;
    const DOMExceptionW = W.DOMException;
    const BLOCKED_URL = 'about:blank#blocked-by-tpr-auditor';

    // A denied XHR fails the browser's own way: re-open to a URL the browser refuses and
    // send, so readyState 4, status 0, readystatechange/error/loadend (async) or a
    // NetworkError DOMException (sync) all come from the platform itself.
    function failXhr(xhr, st) {
      apply(origOpen, xhr, [st.method, BLOCKED_URL, st.async]);
      return apply(origSend, xhr, []);
    }

    replaceValue(proto, 'open', function (orig) {
      return {
        open(method, url) {
          const r = apply(orig, this, arguments);
          try {
            const old = wmGet(xhrState, this);
            if (old) old.held = false;
            const st = {
              method: strToUpper(StringC(method)),
              url: resolveUrl(toStr(url), realmBase(W)),
              async: arguments.length < 3 ? true : !!arguments[2],
              held: false,
            };
            wmSet(xhrState, this, st);
          } catch (e) { internalError('xhr.open', e); }
          return r;
        },
      }.open;
    });

    const sendHook = {
      send(body) {
        const st = wmGet(xhrState, this);
        if (st && st.held) {
          throw new DOMExceptionW("Failed to execute 'send' on 'XMLHttpRequest': The object's state must be OPENED.", 'InvalidStateError');
        }
        let d = PROCEED;
        if (st && st.url !== null) {
          try {
            if (readyState(this) === 1) {
              faultPoint('xhr');
              const obs = makeObs('xhr', st.url, R.realm, 'xhr.send', sendHook.send);
              obs.method = st.method;
              obs.body = st.method === 'GET' || st.method === 'HEAD' ? null : bodyText(body);
              obs.credentials = !!withCredentials(this);
              obs.canHold = st.async;
              d = decide(obs);
            }
          } catch (e) {
            internalError('xhr', e);
            d = state.failClosed ? BLOCK : PROCEED;
          }
        }
        if (d === PROCEED) return apply(origSend, this, arguments);
        if (d === BLOCK) return failXhr(this, st);
        const self = this;
        const args = arguments;
        st.held = true;
        promiseThen(d, function (v) {
          if (!st.held) return;
          st.held = false;
          if (v === BLOCK) failXhr(self, st);
          else apply(origSend, self, args);
        });
        return undefined;
      },
    };
    disguise(sendHook.send, origSend);
    const sd = getOwnPropertyDescriptor(proto, 'send');
    defineProperty(proto, 'send', { value: sendHook.send, writable: sd.writable, enumerable: sd.enumerable, configurable: sd.configurable });

    replaceValue(proto, 'abort', function (orig) {
      return {
        abort() {
          const st = wmGet(xhrState, this);
          if (st && st.held) {
            // Natively a sent request aborts with readystatechange(4)/abort/loadend; reproduce
            // that with a request the platform starts and we abort at once.
            st.held = false;
            try {
              apply(origOpen, this, [st.method, BLOCKED_URL, true]);
              apply(origSend, this, []);
            } catch (e) { internalError('xhr.abort', e); }
          }
          return apply(orig, this, arguments);
        },
      }.abort;
    });
  }

  // --- sendBeacon ------------------------------------------------------------------------
  function installBeacon(R) {
    const W = R.W;
    const proto = W.Navigator && W.Navigator.prototype;
    if (!proto || !getOwnPropertyDescriptor(proto, 'sendBeacon')) return;
    replaceValue(proto, 'sendBeacon', function (orig) {
      const hook = {
        sendBeacon(url, data) {
          let d = PROCEED;
          let args = arguments;
          if (arguments.length > 0) {
            try {
              faultPoint('beacon');
              const s = toStr(url);
              const abs = resolveUrl(s, realmBase(W));
              if (abs !== null) {
                const obs = makeObs('beacon', abs, R.realm, 'sendBeacon', hook.sendBeacon);
                obs.method = 'POST';
                obs.body = bodyText(data);
                obs.canHold = false;
                args = arguments.length > 1 ? [s, data] : [s];
                d = decide(obs);
              }
            } catch (e) {
              internalError('beacon', e);
              d = state.failClosed ? BLOCK : PROCEED;
              args = arguments;
            }
          }
          if (d === PROCEED) return apply(orig, this, args);
          return false; // cannot wait: the beacon is refused, as when the queue is full
        },
      };
      return hook.sendBeacon;
    });
  }

  // --- WebSocket / EventSource ----------------------------------------------------------
  // Held or blocked connections get a facade: a genuine EventTarget whose prototype is the
  // interface prototype (so instanceof, addEventListener, toStringTag all work). The
  // interface's accessors and methods are wrapped to serve facades (emulated state while
  // held/failed, forwarded to the real object once consent arrived) and otherwise pass
  // straight through to the native code.
  function installSockets(R) {
    const W = R.W;
    const facades = new WeakMapC(); // facade -> record
    const EventTargetW = W.EventTarget;
    const dispatch = uncurry(EventTargetW.prototype.dispatchEvent);
    const addListener = uncurry(EventTargetW.prototype.addEventListener);
    const EventW = W.Event;
    const DOMExceptionW = W.DOMException;

    function patchProto(proto, spec) {
      const names = ownKeys(spec);
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        const s = spec[name];
        const d = getOwnPropertyDescriptor(proto, name);
        if (!d) continue;
        if (typeof d.value === 'function') {
          const orig = d.value;
          const h = {
            f() {
              const rec = wmGet(facades, this);
              if (!rec) return apply(orig, this, arguments);
              if (rec.real) return apply(orig, rec.real, arguments);
              return apply(s.call, this, [rec, arguments]);
            },
          }.f;
          disguise(h, orig);
          defineProperty(proto, name, { value: h, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
        } else {
          const nd = { enumerable: d.enumerable, configurable: d.configurable, get: d.get, set: d.set };
          if (d.get) {
            const og = d.get;
            nd.get = disguise({
              get() {
                const rec = wmGet(facades, this);
                if (!rec) return apply(og, this, arguments);
                if (rec.real && !s.local) return apply(og, rec.real, arguments);
                return s.get(rec);
              },
            }.get, og, og.name);
          }
          if (d.set) {
            const os = d.set;
            nd.set = disguise({
              set(v) {
                const rec = wmGet(facades, this);
                if (!rec) return apply(os, this, arguments);
                if (rec.real && !s.local) return apply(os, rec.real, arguments);
                return s.set(rec, v);
              },
            }.set, os, os.name);
          }
          defineProperty(proto, name, nd);
        }
      }
    }

    function handlerSpec(type) {
      return {
        local: true,
        get: function (rec) { return rec.handlers[type] === undefined ? null : rec.handlers[type]; },
        set: function (rec, v) { rec.handlers[type] = (typeof v === 'function' || (v !== null && typeof v === 'object')) ? v : null; },
      };
    }

    function makeFacade(newTarget, url, types, extra) {
      const facade = construct(EventTargetW, [], newTarget);
      const rec = { facade: facade, url: url, real: null, readyState: 0, handlers: objectCreate(null), extra: extra };
      for (let i = 0; i < types.length; i++) {
        const type = types[i];
        addListener(facade, type, function (ev) {
          const h = rec.handlers[type];
          if (typeof h === 'function') apply(h, facade, [ev]);
          else if (h && typeof h.handleEvent === 'function') h.handleEvent(ev);
        });
      }
      wmSet(facades, facade, rec);
      return rec;
    }

    function forward(rec, real, types, clone) {
      rec.real = real;
      for (let i = 0; i < types.length; i++) {
        const type = types[i];
        addListener(real, type, function (ev) { dispatch(rec.facade, clone(type, ev)); });
      }
    }

    // WebSocket
    if (W.WebSocket) {
      const wsProto = W.WebSocket.prototype;
      const CloseEventW = W.CloseEvent;
      const MessageEventW = W.MessageEvent;
      const wsTypes = ['open', 'message', 'error', 'close'];
      const cloneWs = function (type, ev) {
        if (type === 'message') return new MessageEventW('message', { data: ev.data, origin: ev.origin, lastEventId: ev.lastEventId });
        if (type === 'close') return new CloseEventW('close', { code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
        return new EventW(type);
      };
      function failWs(rec) {
        if (rec.readyState === 3) return;
        rec.readyState = 3;
        later(function () {
          dispatch(rec.facade, new EventW('error'));
          dispatch(rec.facade, new CloseEventW('close', { code: 1006, reason: '', wasClean: false }));
        });
      }
      patchProto(wsProto, {
        url: { get: function (rec) { return rec.url; } },
        readyState: { get: function (rec) { return rec.readyState; } },
        bufferedAmount: { get: function () { return 0; } },
        extensions: { get: function () { return ''; } },
        protocol: { get: function () { return ''; } },
        binaryType: { get: function (rec) { return rec.extra.binaryType; }, set: function (rec, v) { const s = StringC(v); if (s === 'blob' || s === 'arraybuffer') rec.extra.binaryType = s; } },
        onopen: handlerSpec('open'), onmessage: handlerSpec('message'), onerror: handlerSpec('error'), onclose: handlerSpec('close'),
        send: { call: function (rec) {
          if (rec.readyState === 0) throw new DOMExceptionW("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
        } },
        close: { call: function (rec) { rec.cancelled = true; failWs(rec); } },
      });
      replaceConstructor(W, 'WebSocket', function (Orig, args, newTarget, wrapper) {
        let d = PROCEED;
        let url = null;
        try {
          faultPoint('websocket');
          url = resolveUrl(toStr(args[0]), realmBase(W));
          if (url !== null) {
            const sch = schemeOf(url);
            if (sch === 'http') url = 'ws' + strSlice(url, 4);
            else if (sch === 'https') url = 'wss' + strSlice(url, 5);
            const s2 = schemeOf(url);
            if ((s2 === 'ws' || s2 === 'wss') && !urlHash(new URLC(url))) {
              d = decide(makeObs('websocket', url, R.realm, 'WebSocket', wrapper));
            }
          }
        } catch (e) {
          internalError('websocket', e);
          d = state.failClosed ? BLOCK : PROCEED;
        }
        if (d === PROCEED || url === null) return construct(Orig, args, newTarget);
        const rec = makeFacade(newTarget, url, wsTypes, { binaryType: 'blob' });
        const protocols = args.length > 1 ? args[1] : undefined;
        whenDecided(d, function () {
          if (rec.cancelled) return;
          try {
            const real = construct(Orig, protocols === undefined ? [url] : [url, protocols], Orig);
            real.binaryType = rec.extra.binaryType;
            forward(rec, real, wsTypes, cloneWs);
          } catch (e) { failWs(rec); }
        }, function () { failWs(rec); });
        return rec.facade;
      });
    }

    // EventSource
    if (W.EventSource) {
      const esProto = W.EventSource.prototype;
      const MessageEventW = W.MessageEvent;
      const baseTypes = ['open', 'message', 'error'];
      const cloneEs = function (type, ev) {
        if (type === 'open' || type === 'error') return new EventW(type);
        return new MessageEventW(type, { data: ev.data, origin: ev.origin, lastEventId: ev.lastEventId });
      };
      function failEs(rec) {
        if (rec.readyState === 2) return;
        rec.readyState = 2;
        later(function () { dispatch(rec.facade, new EventW('error')); });
      }
      patchProto(esProto, {
        url: { get: function (rec) { return rec.url; } },
        withCredentials: { get: function (rec) { return rec.extra.withCredentials; } },
        readyState: { get: function (rec) { return rec.readyState; } },
        onopen: handlerSpec('open'), onmessage: handlerSpec('message'), onerror: handlerSpec('error'),
        close: { call: function (rec) { rec.cancelled = true; rec.readyState = 2; } },
      });
      replaceConstructor(W, 'EventSource', function (Orig, args, newTarget, wrapper) {
        let d = PROCEED;
        let url = null;
        let withCreds = false;
        try {
          faultPoint('eventsource');
          url = resolveUrl(toStr(args[0]), realmBase(W));
          if (url !== null) {
            const obs = makeObs('eventsource', url, R.realm, 'EventSource', wrapper);
            const init = args[1];
            if (init !== null && typeof init === 'object' && init.withCredentials) withCreds = true;
            obs.credentials = withCreds;
            d = decide(obs);
          }
        } catch (e) {
          internalError('eventsource', e);
          d = state.failClosed ? BLOCK : PROCEED;
        }
        if (d === PROCEED || url === null) return construct(Orig, args, newTarget);
        const rec = makeFacade(newTarget, url, baseTypes, { withCredentials: withCreds, types: objectCreate(null) });
        // Named event types the page listens for are forwarded once connected.
        const facadeAdd = {
          addEventListener(type) {
            try { rec.extra.types[StringC(type)] = true; } catch (e) { /* ignore */ }
            return apply(EventTargetW.prototype.addEventListener, this, arguments);
          },
        }.addEventListener;
        disguise(facadeAdd, EventTargetW.prototype.addEventListener);
        defineProperty(rec.facade, 'addEventListener', { value: facadeAdd, writable: true, configurable: true, enumerable: false });
        whenDecided(d, function () {
          if (rec.cancelled) return;
          try {
            const real = construct(Orig, [url, { withCredentials: withCreds }], Orig);
            const types = baseTypes.slice();
            const extraTypes = ownKeys(rec.extra.types);
            for (let i = 0; i < extraTypes.length; i++) if (baseTypes.indexOf(extraTypes[i]) < 0) push(types, extraTypes[i]);
            forward(rec, real, types, cloneEs);
          } catch (e) { failEs(rec); }
        }, function () { failEs(rec); });
        return rec.facade;
      });
    }
  }

  // --- Elements: which attributes load what -------------------------------------------
  const HTML_NS = 'http://www.w3.org/1999/xhtml';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const XLINK_NS = 'http://www.w3.org/1999/xlink';

  // Per local name: attribute -> 1 (loads as soon as set, even detached) or 2 (loads when
  // the element is connected).
  const HTML_URL_ATTRS = {
    script: { src: 2 },
    link: { href: 2, imagesrcset: 2 },
    img: { src: 1, srcset: 1 },
    iframe: { src: 2 },
    frame: { src: 2 },
    object: { data: 2 },
    embed: { src: 2 },
    audio: { src: 1 },
    video: { src: 1, poster: 1 },
    source: { src: 2, srcset: 2 },
    track: { src: 2 },
    input: { src: 2 },
    body: { background: 2 },
    table: { background: 2 },
    td: { background: 2 },
    th: { background: 2 },
  };
  const SVG_URL_ATTRS = { image: { href: 1 }, script: { href: 2 }, feImage: { href: 1 } };
  const LOADING_SELECTOR = 'script,link,img,iframe,frame,object,embed,audio,video,source,track,input,body,table,td,th,image,feImage,style,[style]';

  const nodeIsConnected = getter(Node.prototype, 'isConnected');
  const nodeBaseURI = getter(Node.prototype, 'baseURI');
  const nodeType = getter(Node.prototype, 'nodeType');
  const nodeParent = getter(Node.prototype, 'parentNode');
  const nodeFirstChild = getter(Node.prototype, 'firstChild');
  const nodeNextSibling = getter(Node.prototype, 'nextSibling');
  const nodePrevSibling = getter(Node.prototype, 'previousSibling');
  const nodeLastChild = getter(Node.prototype, 'lastChild');
  const nodeTextContent = getter(Node.prototype, 'textContent');
  const nodeOwnerDocument = getter(Node.prototype, 'ownerDocument');
  const elLocalName = getter(Element.prototype, 'localName');
  const elNamespace = getter(Element.prototype, 'namespaceURI');
  const elFirstElementChild = getter(Element.prototype, 'firstElementChild');
  const elGetAttribute = method(Element.prototype, 'getAttribute');
  const elGetAttributeNS = method(Element.prototype, 'getAttributeNS');
  const elHasAttribute = method(Element.prototype, 'hasAttribute');
  const elSetAttributeRaw = Element.prototype.setAttribute;
  const elSetAttributeNSRaw = Element.prototype.setAttributeNS;
  const elRemoveAttribute = method(Element.prototype, 'removeAttribute');
  const elRemoveAttributeNS = method(Element.prototype, 'removeAttributeNS');
  const elQSA = method(Element.prototype, 'querySelectorAll');
  const elMatches = method(Element.prototype, 'matches');
  const fragQSA = method(DocumentFragment.prototype, 'querySelectorAll');
  const docQSA = method(Document.prototype, 'querySelectorAll');
  const nodeListLength = getter(NodeList.prototype, 'length');
  const nodeListItem = method(NodeList.prototype, 'item');
  const iframeContentWindowRaw = getOwnPropertyDescriptor(HTMLIFrameElement.prototype, 'contentWindow').get;
  const scriptTextGet = getter(HTMLScriptElement.prototype, 'text');
  const scriptTextSetRaw = getOwnPropertyDescriptor(HTMLScriptElement.prototype, 'text').set;
  const eventTargetDispatch = uncurry(EventTarget.prototype.dispatchEvent);

  function isElement(n) { return n !== null && typeof n === 'object' && nodeTypeSafe(n) === 1; }
  function nodeTypeSafe(n) { try { return nodeType(n); } catch (e) { return 0; } }

  function urlAttrKind(el, attr) {
    const ns = elNamespace(el);
    const name = elLocalName(el);
    let table;
    if (ns === HTML_NS) table = HTML_URL_ATTRS[name];
    else if (ns === SVG_NS) table = SVG_URL_ATTRS[name];
    if (!table) return 0;
    const a = ns === HTML_NS ? strToLower(attr) : attr;
    const k = table[a];
    if (!k) return 0;
    if (name === 'input' && strToLower(elGetAttribute(el, 'type') || '') !== 'image') return 0;
    return k;
  }

  function getUrlAttr(el, attr) {
    if (elNamespace(el) === SVG_NS && attr === 'href') {
      const v = elGetAttribute(el, 'href');
      return v !== null ? v : elGetAttributeNS(el, XLINK_NS, 'href');
    }
    return elGetAttribute(el, attr);
  }

  function linkChannel(el) {
    const rel = ' ' + strToLower(elGetAttribute(el, 'rel') || '') + ' ';
    const as = elGetAttribute(el, 'as');
    if (strIndexOf(rel, ' stylesheet ') >= 0) return { channel: 'style', as: null };
    if (strIndexOf(rel, ' modulepreload ') >= 0) return { channel: 'preload', as: as || 'script' };
    const pre = [' preload ', ' prefetch ', ' preconnect ', ' dns-prefetch ', ' prerender '];
    for (let i = 0; i < pre.length; i++) if (strIndexOf(rel, pre[i]) >= 0) return { channel: 'preload', as: as };
    if (strIndexOf(rel, ' icon ') >= 0 || strIndexOf(rel, ' apple-touch-icon ') >= 0) return { channel: 'img', as: null };
    if (strIndexOf(rel, ' manifest ') >= 0) return { channel: 'preload', as: 'manifest' };
    return null;
  }

  /** Channel info for a URL attribute of an element, or null when it loads nothing. */
  function elementChannel(el, attr) {
    const ns = elNamespace(el);
    const name = elLocalName(el);
    if (ns === SVG_NS) return { channel: name === 'script' ? 'script' : 'img', as: null };
    switch (name) {
      case 'script': {
        const type = strToLower(strTrim(elGetAttribute(el, 'type') || ''));
        return { channel: type === 'module' ? 'module' : 'script', as: null };
      }
      case 'link': return linkChannel(el);
      case 'img': case 'input': case 'body': case 'table': case 'td': case 'th':
        return { channel: 'img', as: null };
      case 'iframe': case 'frame': return { channel: 'frame', as: null };
      case 'object': case 'embed': return { channel: 'object', as: null };
      case 'audio': case 'video': case 'track': return { channel: 'media', as: null };
      case 'source': {
        const p = nodeParent(el);
        const inPicture = p && isElement(p) && elLocalName(p) === 'picture';
        return { channel: inPicture ? 'img' : 'media', as: null };
      }
      default: return null;
    }
  }

  /** The request URLs of an attribute value (srcset has several candidates). */
  function urlsOf(attr, value, base) {
    const out = [];
    if (value === null || value === undefined) return out;
    const v = toStr(value);
    if (v === null) return out;
    if (attr === 'srcset' || attr === 'imagesrcset') {
      const re = /\s*([^\s,][^\s]*?)(?:\s+[^,]*)?(?:,|$)/g;
      let m;
      let guard = 0;
      while ((m = reExec(re, v)) !== null && guard++ < 64) {
        if (m[0] === '') { re.lastIndex++; continue; }
        let cand = m[1];
        if (cand[cand.length - 1] === ',') cand = strSlice(cand, 0, -1);
        const abs = resolveUrl(cand, base);
        if (abs !== null && !isInertScheme(abs)) push(out, abs);
      }
      return out;
    }
    if (strTrim(v) === '') return out;
    const abs = resolveUrl(strTrim(v), base);
    if (abs !== null && !isInertScheme(abs)) push(out, abs);
    return out;
  }

  function elementRealm(el) {
    try {
      const doc = nodeOwnerDocument(el);
      return doc && doc.defaultView && doc.defaultView !== global ? 'iframe' : 'top';
    } catch (e) { return 'top'; }
  }

  function elementObs(el, attr, url, path, skipFn, info) {
    const obs = makeObs(info.channel, url, elementRealm(el), path, skipFn);
    obs.tag = elLocalName(el);
    obs.attr = attr;
    obs.as = info.as;
    if (obs.tag === 'link') obs.rel = elGetAttribute(el, 'rel');
    if (obs.tag === 'iframe' || obs.tag === 'frame') obs.sandbox = elGetAttribute(el, 'sandbox');
    return obs;
  }

  /**
   * Observes the URL attribute `attr` of `el` with value `value` (not yet applied).
   * Returns PROCEED, BLOCK or a hold Promise, combining every candidate URL.
   */
  function observeElementUrl(el, attr, value, path, skipFn, forceEnforceable) {
    const info = elementChannel(el, attr);
    if (!info) return PROCEED;
    const urls = urlsOf(attr, value, nodeBaseURI(el));
    let result = PROCEED;
    const holds = [];
    for (let i = 0; i < urls.length; i++) {
      if (!markSeen(el, urls[i])) continue;
      const obs = elementObs(el, attr, urls[i], path, skipFn, info);
      if (forceEnforceable === false) obs.enforceable = false;
      const d = decide(obs);
      if (d === BLOCK) result = BLOCK;
      else if (d !== PROCEED) push(holds, d);
    }
    if (result === BLOCK || holds.length === 0) return result;
    return promiseThen(PromiseC.all(holds), function (vs) {
      for (let i = 0; i < vs.length; i++) if (vs[i] === BLOCK) return BLOCK;
      return PROCEED;
    });
  }

  function fireElementError(el) {
    later(function () {
      try {
        const W = (nodeOwnerDocument(el) && nodeOwnerDocument(el).defaultView) || global;
        eventTargetDispatch(el, new W.Event('error'));
      } catch (e) { internalError('element-error', e); }
    });
  }

  function setAttr(el, attr, ns, value) {
    if (ns) apply(elSetAttributeNSRaw, el, [ns, attr, value]);
    else apply(elSetAttributeRaw, el, [attr, value]);
  }

  /** Withholds a URL attribute: stored now, applied (or failed) when the decision lands. */
  function withhold(el, attr, ns, qname, value, d) {
    let w = wmGet(withheld, el);
    if (!w) { w = objectCreate(null); wmSet(withheld, el, w); }
    const token = {};
    w[attr] = { value: value, token: token };
    whenDecided(d, function () {
      const cur = wmGet(withheld, el);
      if (!cur || !cur[attr] || cur[attr].token !== token) return;
      delete cur[attr];
      try { setAttr(el, qname || attr, ns, value); } catch (e) { internalError('apply-withheld', e); }
    }, function () {
      const cur = wmGet(withheld, el);
      if (cur && cur[attr] && cur[attr].token === token) delete cur[attr];
      fireElementError(el);
    });
  }

  function clearWithheld(el, attr) {
    const w = wmGet(withheld, el);
    if (w && w[attr]) delete w[attr];
  }

  /**
   * Central handler for every way a URL attribute gets a value (property setters,
   * setAttribute[NS], Attr.value, setNamedItem). `apply()` performs the native operation.
   */
  function onUrlSet(el, attr, ns, qname, value, path, skipFn, applyNative) {
    // A setter taken off a prototype and called on a non-element throws natively.
    if (!isElement(el)) return applyNative();
    let d = PROCEED;
    try {
      faultPoint('element');
      // Not a loading attribute: the native setter runs below, outside this try, so its own
      // exceptions (a setter called on the wrong kind of object) reach the page unchanged
      // and are not reported as ours, and it runs once.
      const kind = urlAttrKind(el, attr);
      if (kind !== 0) {
        clearWithheld(el, attr);
        let loadsNow = kind === 1;
        if (!loadsNow && nodeIsConnected(el)) {
          const name = elLocalName(el);
          if (name === 'script') {
            loadsNow = attr === 'src' && !elHasAttribute(el, 'src') && scriptTextGet(el) === '';
          } else if (name !== 'source') {
            loadsNow = true;
          }
        }
        if (loadsNow) d = observeElementUrl(el, attr, value, path, skipFn);
      }
    } catch (e) {
      internalError('element:' + path, e);
      d = state.failClosed ? BLOCK : PROCEED;
    }
    if (d === PROCEED) return applyNative();
    withhold(el, attr, ns, qname, toStr(value), d);
    return undefined;
  }

  // --- domEval tagging (SPEC §6) -------------------------------------------------------
  // Several modules can be in state 'executing' at once: execute() sets it before the
  // module's embedded CSS is added (asynchronously, on the next animation frame) and the
  // script only runs afterwards; 'user' also waits there for 'site'. So "the module in state
  // 'executing'" is ambiguous. ResourceLoader's domEval(code) runs a string script (site,
  // user: `registry[name].script` is that very string), so the module is the executing one
  // whose script IS the inserted text. Only when no module's script matches (code inserted
  // by a module running a function script) does the innermost executing module with a
  // function script decide.
  let lastExecuting = null;
  /** The module running `text`: {name, exact} (exact: its string script is `text`), or null. */
  function executingModule(text) {
    const mw = global.mw;
    if (!mw || !mw.loader) return null;
    const reg = mw.loader.moduleRegistry;
    if (!reg || typeof reg !== 'object') return null;
    if (lastExecuting !== null) {
      const e = reg[lastExecuting];
      if (e && e.state === 'executing' && e.script === text) return { name: lastExecuting, exact: true };
    }
    let exact = null;
    let found = null;
    for (const name in reg) {
      const e = reg[name];
      if (!e || e.state !== 'executing') continue;
      const script = e.script;
      if (typeof script === 'string') {
        if (script === text) exact = name;
        // Another string script is not running (its domEval text would be `script`).
      } else if (script) {
        found = name; // the innermost is registered last
      }
      // No script (styles-only modules waiting for their CSS): runs no code.
    }
    if (exact !== null) { lastExecuting = exact; return { name: exact, exact: true }; }
    return found === null ? null : { name: found, exact: false };
  }

  /** An mw.loader.store replay: a batch of module wrappers evaluated at once. */
  function isWrapperBatch(text) {
    return strIndexOf(text, 'mw.loader.implement(') >= 0 || strIndexOf(text, 'mw.loader.impl(') >= 0;
  }

  function tagInlineScript(el) {
    if (elHasAttribute(el, 'src')) return;
    const type = strToLower(strTrim(elGetAttribute(el, 'type') || ''));
    if (type !== '' && type !== 'text/javascript' && type !== 'application/javascript' && type !== 'module') return;
    const text = scriptTextGet(el);
    if (text === '' || strIndexOf(text, '//# sourceURL=') >= 0 && strIndexOf(text, 'tpr=' + NONCE) >= 0) return;
    // The batch test comes before the fallback of executingModule: a replay runs from an
    // idle callback while modules waiting for their CSS are still 'executing'.
    const mod = executingModule(text);
    let url = null;
    if (mod !== null && (mod.exact || !isWrapperBatch(text))) {
      url = 'mw-module://' + encodeURIComponentC(mod.name) + '?tpr=' + NONCE;
    } else if (isWrapperBatch(text)) {
      url = 'mw-batch://' + (++inlineBatchCounter) + '?tpr=' + NONCE;
    }
    if (url === null) return;
    apply(scriptTextSetRaw, el, [text + '\n//# sourceURL=' + url]);
    if (inlineSources.size > 500) {
      // The core may still have to read texts of this task's requests (it can run them once
      // per task): it does so now, before they are gone.
      if (state.beforeInlineReset) {
        try { state.beforeInlineReset(); } catch (e) { internalError('inline-reset', e); }
      }
      inlineSources.clear();
    }
    mapSet(inlineSources, url, text);
  }

  // --- CSS text ----------------------------------------------------------------------------
  const CSS_HINT = /url\s*\(|@import|image-set\s*\(/i;

  /** Requests named by CSS text: [{channel, url}] (data: URLs are not requests). */
  function cssUrls(text, base) {
    const out = [];
    if (typeof text !== 'string' || !reTest(CSS_HINT, text)) return out;
    // Strip comments first so commented-out URLs are not reported.
    let t = text;
    if (strIndexOf(t, '/*') >= 0) {
      let r = '';
      let i = 0;
      for (;;) {
        const a = strIndexOf(t, '/*', i);
        if (a < 0) { r += strSlice(t, i); break; }
        r += strSlice(t, i, a) + ' ';
        const b = strIndexOf(t, '*/', a + 2);
        if (b < 0) break;
        i = b + 2;
      }
      t = r;
    }
    const fontBlocks = [];
    const fre = /@font-face\s*\{[^}]*\}/gi;
    let m;
    while ((m = reExec(fre, t)) !== null) push(fontBlocks, [m.index, m.index + m[0].length]);
    const ire = /@import\s+(?:url\(\s*)?(["']?)([^"')\s;]+)\1/gi;
    const importPos = objectCreate(null);
    while ((m = reExec(ire, t)) !== null) {
      const abs = resolveUrl(m[2], base);
      importPos[m.index] = true;
      if (abs !== null && !isInertScheme(abs)) push(out, { channel: 'css-import', url: abs });
    }
    const ure = /(@import\s+)?url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)/gi;
    while ((m = reExec(ure, t)) !== null) {
      if (m[1]) continue; // @import url(...) handled above
      const raw = m[2] !== undefined ? m[2] : (m[3] !== undefined ? m[3] : m[4]);
      if (!raw) continue;
      const abs = resolveUrl(raw, base);
      if (abs === null || isInertScheme(abs)) continue;
      let channel = 'css-url';
      for (let i = 0; i < fontBlocks.length; i++) {
        if (m.index >= fontBlocks[i][0] && m.index < fontBlocks[i][1]) { channel = 'font-face'; break; }
      }
      push(out, { channel: channel, url: abs });
    }
    return out;
  }

  /** Reports CSS-derived requests (never enforceable from page code). */
  function reportCss(text, base, owner, path, skipFn, realm, tag) {
    const list = cssUrls(text, base);
    for (let i = 0; i < list.length; i++) {
      if (owner && !markSeen(owner, list[i].channel + ' ' + list[i].url)) continue;
      const obs = makeObs(list[i].channel, list[i].url, realm, path, skipFn);
      obs.enforceable = false;
      obs.tag = tag || null;
      decide(obs);
    }
  }

  function styleElementOf(node) {
    if (!node) return null;
    if (isElement(node)) return elLocalName(node) === 'style' ? node : null;
    const t = nodeTypeSafe(node);
    if (t === 3 || t === 4) {
      const p = nodeParent(node);
      return p && isElement(p) && elLocalName(p) === 'style' ? p : null;
    }
    return null;
  }

  function scanStyleElement(styleEl, path, skipFn) {
    if (!styleEl || !nodeIsConnected(styleEl)) return;
    reportCss(nodeTextContent(styleEl), nodeBaseURI(styleEl), styleEl, path, skipFn, elementRealm(styleEl), 'style');
  }

  function scanStyleAttr(el, value, path, skipFn) {
    if (value === null || value === undefined) return;
    const v = toStr(value);
    if (v === null || !reTest(CSS_HINT, v)) return;
    reportCss(v, nodeBaseURI(el), el, path, skipFn, elementRealm(el), elLocalName(el));
  }

  // --- Insertion ------------------------------------------------------------------------
  /** Elements of a subtree (root included) that may load something. */
  function candidates(root) {
    const out = [];
    const t = nodeTypeSafe(root);
    if (t === 1) {
      if (elMatches(root, LOADING_SELECTOR)) push(out, root);
      if (elFirstElementChild(root) === null) return out;
      const list = elQSA(root, LOADING_SELECTOR);
      const n = nodeListLength(list);
      for (let i = 0; i < n; i++) push(out, nodeListItem(list, i));
    } else if (t === 11) {
      const list = fragQSA(root, LOADING_SELECTOR);
      const n = nodeListLength(list);
      for (let i = 0; i < n; i++) push(out, nodeListItem(list, i));
    }
    return out;
  }

  /**
   * Called synchronously BEFORE a native insertion of `nodes` (an array, fragments
   * included) into `parent`. Observes unseen URL attributes of loading elements, withholds
   * those not allowed (removing the attribute before the browser sees it), tags domEval
   * scripts. Returns an `after` function to run once the native insertion has happened.
   */
  function beforeInsert(parent, nodes, path, skipFn) {
    let connected = false;
    try { connected = parent !== null && nodeIsConnected(parent); } catch (e) { connected = false; }
    const afterFrames = [];
    const afterStyles = [];
    const textIntoStyle = parent && isElement(parent) && elLocalName(parent) === 'style';
    if (!connected) return null;
    for (let n = 0; n < nodes.length; n++) {
      const node = nodes[n];
      if (node === null || typeof node !== 'object') continue;
      const list = candidates(node);
      for (let i = 0; i < list.length; i++) {
        const el = list[i];
        const name = elLocalName(el);
        const ns = elNamespace(el);
        if (name === 'style' && ns !== SVG_NS) { push(afterStyles, el); continue; }
        if (ns === HTML_NS && (name === 'iframe' || name === 'frame')) push(afterFrames, el);
        if (elHasAttribute(el, 'style')) scanStyleAttr(el, elGetAttribute(el, 'style'), path, skipFn);
        if (name === 'script' && ns === HTML_NS) tagInlineScript(el);
        const table = ns === HTML_NS ? HTML_URL_ATTRS[name] : (ns === SVG_NS ? SVG_URL_ATTRS[name] : null);
        if (!table) continue;
        const attrs = ownKeys(table);
        for (let a = 0; a < attrs.length; a++) {
          const attr = attrs[a];
          if (urlAttrKind(el, attr) === 0) continue;
          const value = getUrlAttr(el, attr);
          if (value === null) continue;
          const d = observeElementUrl(el, attr, value, path, skipFn);
          if (d === PROCEED) continue;
          // Withhold: take the attribute off before the browser sees the element connected.
          const xlink = ns === SVG_NS && attr === 'href' && elGetAttribute(el, 'href') === null;
          if (xlink) elRemoveAttributeNS(el, XLINK_NS, 'href');
          else elRemoveAttribute(el, attr);
          withhold(el, attr, xlink ? XLINK_NS : null, xlink ? 'xlink:href' : null, value, d);
        }
      }
    }
    return function after() {
      if (textIntoStyle) scanStyleElement(parent, path, skipFn);
      for (let i = 0; i < afterStyles.length; i++) scanStyleElement(afterStyles[i], path, skipFn);
      for (let i = 0; i < afterFrames.length; i++) hookFrameElement(afterFrames[i]);
    };
  }

  function insertionHook(orig, name, nodesOf, parentOf) {
    const h = {
      f() {
        let after = null;
        try {
          faultPoint('insert');
          after = beforeInsert(parentOf(this, arguments), nodesOf(this, arguments), name, h);
        } catch (e) {
          internalError('insert:' + name, e);
          if (state.failClosed) throw new TypeErrorC('TPR Auditor: insertion refused (internal error)');
        }
        const r = apply(orig, this, arguments);
        if (after) { try { after(); } catch (e) { internalError('insert-after:' + name, e); } }
        return r;
      },
    }.f;
    return h;
  }

  function argsArray(args, from) {
    const out = [];
    for (let i = from || 0; i < args.length; i++) push(out, args[i]);
    return out;
  }

  // --- Element hooks installation -----------------------------------------------------
  function installElements(R) {
    const W = R.W;
    const NodeP = W.Node.prototype;
    const ElementP = W.Element.prototype;
    const self = function (t) { return t; };
    const parentNodeOf = function (t) { try { return nodeParent(t); } catch (e) { return null; } };

    // Property setters on the prototypes.
    const props = [
      ['HTMLScriptElement', 'src'], ['HTMLLinkElement', 'href'], ['HTMLLinkElement', 'imageSrcset'],
      ['HTMLImageElement', 'src'], ['HTMLImageElement', 'srcset'], ['HTMLIFrameElement', 'src'],
      ['HTMLFrameElement', 'src'], ['HTMLObjectElement', 'data'], ['HTMLEmbedElement', 'src'],
      ['HTMLMediaElement', 'src'], ['HTMLVideoElement', 'poster'], ['HTMLSourceElement', 'src'],
      ['HTMLSourceElement', 'srcset'], ['HTMLTrackElement', 'src'], ['HTMLInputElement', 'src'],
      ['HTMLBodyElement', 'background'],
    ];
    for (let i = 0; i < props.length; i++) {
      const C = W[props[i][0]];
      const prop = props[i][1];
      const attr = strToLower(prop);
      if (!C) continue;
      replaceAccessor(C.prototype, prop, function (origSet) {
        const h = {
          set(v) {
            const el = this;
            const args = arguments;
            return onUrlSet(el, attr, null, null, v, 'property:' + prop, h, function () { return apply(origSet, el, args); });
          },
        }.set;
        return h;
      });
    }

    // Attribute APIs.
    replaceValue(ElementP, 'setAttribute', function (orig) {
      const h = {
        setAttribute(name, value) {
          const el = this;
          const args = arguments;
          const nat = function () { return apply(orig, el, args); };
          if (args.length < 2 || typeof name !== 'string' || !isElement(el)) return nat();
          const lname = strToLower(name);
          if (lname === 'style') {
            const r = nat();
            try { if (nodeIsConnected(el)) scanStyleAttr(el, value, 'setAttribute', h); } catch (e) { internalError('setAttribute:style', e); }
            return r;
          }
          if (lname === 'srcdoc' && elLocalName(el) === 'iframe') {
            const r = srcdocSink(value, h, function (html) { return html === null ? nat() : apply(orig, el, [name, html]); });
            try { if (nodeIsConnected(el)) hookFrameElement(el); } catch (e) { internalError('setAttribute:srcdoc', e); }
            return r;
          }
          return onUrlSet(el, elNamespace(el) === HTML_NS ? lname : name, null, null, value, 'setAttribute', h, nat);
        },
      }.setAttribute;
      return h;
    });
    replaceValue(ElementP, 'setAttributeNS', function (orig) {
      const h = {
        setAttributeNS(ns, qname, value) {
          const el = this;
          const args = arguments;
          const nat = function () { return apply(orig, el, args); };
          if (args.length < 3 || typeof qname !== 'string' || !isElement(el)) return nat();
          const i = strIndexOf(qname, ':');
          const local = i >= 0 ? strSlice(qname, i + 1) : qname;
          if (ns !== null && ns !== undefined && ns !== '' && ns !== XLINK_NS) return nat();
          if (ns === XLINK_NS && local !== 'href') return nat();
          if (local === 'style') {
            const r = nat();
            try { if (nodeIsConnected(el)) scanStyleAttr(el, value, 'setAttributeNS', h); } catch (e) { internalError('setAttributeNS:style', e); }
            return r;
          }
          return onUrlSet(el, local, ns === XLINK_NS ? XLINK_NS : null, qname, value, 'setAttributeNS', h, nat);
        },
      }.setAttributeNS;
      return h;
    });

    // Attr nodes: attr.value = x, attr.nodeValue, attr.textContent, setAttributeNode, setNamedItem.
    const attrOwner = getter(W.Attr.prototype, 'ownerElement');
    const attrLocal = getter(W.Attr.prototype, 'localName');
    const attrNs = getter(W.Attr.prototype, 'namespaceURI');
    function attrHook(origSet, path) {
      const h = {
        set(v) {
          const attrNode = this;
          const args = arguments;
          const nat = function () { return apply(origSet, attrNode, args); };
          let el = null;
          try { if (nodeTypeSafe(attrNode) === 2) el = attrOwner(attrNode); } catch (e) { el = null; }
          if (!el) return nat();
          const local = attrLocal(attrNode);
          if (local === 'style') {
            const r = nat();
            try { if (nodeIsConnected(el)) scanStyleAttr(el, v, path, h); } catch (e) { internalError(path, e); }
            return r;
          }
          return onUrlSet(el, local, attrNs(attrNode), null, v, path, h, nat);
        },
      }.set;
      return h;
    }
    replaceAccessor(W.Attr.prototype, 'value', function (origSet) { return attrHook(origSet, 'Attr.value'); });

    function attachAttrHook(orig, path) {
      const h = {
        f(attrNode) {
          const target = this;
          const args = arguments;
          const nat = function () { return apply(orig, target, args); };
          let el = null;
          try {
            el = path === 'setNamedItem' ? null : target;
            if (path === 'setNamedItem') el = namedMapOwner ? namedMapOwner(target) : null;
          } catch (e) { el = null; }
          if (!el || nodeTypeSafe(attrNode) !== 2 || attrOwner(attrNode) !== null) return nat();
          const local = attrLocal(attrNode);
          const value = attrNode.value;
          if (local === 'style') {
            const r = nat();
            try { if (nodeIsConnected(el)) scanStyleAttr(el, value, path, h); } catch (e) { internalError(path, e); }
            return r;
          }
          if (urlAttrKind(el, local) === 0) return nat();
          let d = PROCEED;
          try { d = (urlAttrKind(el, local) === 1 || nodeIsConnected(el)) ? observeElementUrl(el, local, value, path, h) : PROCEED; } catch (e) { internalError(path, e); d = state.failClosed ? BLOCK : PROCEED; }
          if (d === PROCEED) return nat();
          withhold(el, local, attrNs(attrNode), null, value, d);
          return null;
        },
      }.f;
      return h;
    }
    let namedMapOwner = null;
    // NamedNodeMap has no public owner getter: remember it when `attributes` is read.
    const nnmOwners = new WeakMapC();
    namedMapOwner = function (map) { return wmGet(nnmOwners, map) || null; };
    replaceAccessor(ElementP, 'attributes', null, function (origGet) {
      return getOwnPropertyDescriptor({
        get attributes() {
          const m = apply(origGet, this, arguments);
          try { if (m) wmSet(nnmOwners, m, this); } catch (e) { /* ignore */ }
          return m;
        },
      }, 'attributes').get;
    });
    replaceValue(ElementP, 'setAttributeNode', function (orig) { return attachAttrHook(orig, 'setAttributeNode'); });
    replaceValue(ElementP, 'setAttributeNodeNS', function (orig) { return attachAttrHook(orig, 'setAttributeNodeNS'); });
    replaceValue(W.NamedNodeMap.prototype, 'setNamedItem', function (orig) { return attachAttrHook(orig, 'setNamedItem'); });
    replaceValue(W.NamedNodeMap.prototype, 'setNamedItemNS', function (orig) { return attachAttrHook(orig, 'setNamedItem'); });

    // Insertion methods.
    replaceValue(NodeP, 'appendChild', function (orig) {
      return insertionHook(orig, 'appendChild', function (t, a) { return [a[0]]; }, self);
    });
    replaceValue(NodeP, 'insertBefore', function (orig) {
      return insertionHook(orig, 'insertBefore', function (t, a) { return [a[0]]; }, self);
    });
    replaceValue(NodeP, 'replaceChild', function (orig) {
      return insertionHook(orig, 'replaceChild', function (t, a) { return [a[0]]; }, self);
    });
    const parentish = [W.Element, W.Document, W.DocumentFragment];
    const methods = ['append', 'prepend', 'replaceChildren'];
    for (let i = 0; i < parentish.length; i++) {
      if (!parentish[i]) continue;
      for (let j = 0; j < methods.length; j++) {
        const mname = methods[j];
        replaceValue(parentish[i].prototype, mname, function (orig) {
          return insertionHook(orig, mname, function (t, a) { return argsArray(a); }, self);
        });
      }
    }
    const childish = [W.Element, W.CharacterData, W.DocumentType];
    const cmethods = ['before', 'after', 'replaceWith'];
    for (let i = 0; i < childish.length; i++) {
      if (!childish[i]) continue;
      for (let j = 0; j < cmethods.length; j++) {
        const mname = cmethods[j];
        replaceValue(childish[i].prototype, mname, function (orig) {
          return insertionHook(orig, mname, function (t, a) { return argsArray(a); }, parentNodeOf);
        });
      }
    }
    replaceValue(ElementP, 'insertAdjacentElement', function (orig) {
      return insertionHook(orig, 'insertAdjacentElement', function (t, a) { return [a[1]]; }, function (t, a) {
        const where = strToLower(StringC(a[0]));
        return where === 'beforebegin' || where === 'afterend' ? parentNodeOf(t) : t;
      });
    });
    if (W.Range) {
      const rangeContainer = getter(W.Range.prototype, 'startContainer');
      replaceValue(W.Range.prototype, 'insertNode', function (orig) {
        return insertionHook(orig, 'Range.insertNode', function (t, a) { return [a[0]]; }, function (t) { return rangeContainer(t); });
      });
      replaceValue(W.Range.prototype, 'surroundContents', function (orig) {
        return insertionHook(orig, 'Range.surroundContents', function (t, a) { return [a[0]]; }, function (t) { return rangeContainer(t); });
      });
    }

    // Clones and imports of images/media start loading at once (the clone is in a live document).
    function afterCreate(node, path, skipFn) {
      const list = candidates(node);
      for (let i = 0; i < list.length; i++) {
        const el = list[i];
        const ns = elNamespace(el);
        const table = ns === HTML_NS ? HTML_URL_ATTRS[elLocalName(el)] : (ns === SVG_NS ? SVG_URL_ATTRS[elLocalName(el)] : null);
        if (!table) continue;
        const attrs = ownKeys(table);
        for (let a = 0; a < attrs.length; a++) {
          if (urlAttrKind(el, attrs[a]) !== 1) continue;
          const value = getUrlAttr(el, attrs[a]);
          if (value === null) continue;
          const d = observeElementUrl(el, attrs[a], value, path, skipFn);
          if (d === PROCEED) continue;
          // Image and media loads start from a microtask / stable state: removing the
          // attribute synchronously still prevents the request.
          elRemoveAttribute(el, attrs[a]);
          withhold(el, attrs[a], null, null, value, d);
        }
      }
    }
    function createHook(orig, path) {
      const h = {
        f() {
          const r = apply(orig, this, arguments);
          try {
            const doc = nodeTypeSafe(r) === 0 ? null : nodeOwnerDocument(r);
            if (doc && doc.defaultView) afterCreate(r, path, h);
          } catch (e) { internalError(path, e); }
          return r;
        },
      }.f;
      return h;
    }
    replaceValue(NodeP, 'cloneNode', function (orig) { return createHook(orig, 'cloneNode'); });
    replaceValue(W.Document.prototype, 'importNode', function (orig) { return createHook(orig, 'importNode'); });
    replaceValue(W.Document.prototype, 'adoptNode', function (orig) { return createHook(orig, 'adoptNode'); });
  }

  // --- Markup sinks ------------------------------------------------------------------------
  // innerHTML & co. are parsed natively first when nothing needs withholding; otherwise the
  // markup is parsed inertly, withheld attributes are replaced by a marker, and the sanitized
  // markup goes to the native sink. Elements are reported against the REAL nodes.
  const MARKUP_HINT = /<(?:link|iframe|frame|object|embed|image|feimage|script|style|img|video|audio|source|track|input|body|table|td|th)\b|\bstyle\s*=|url\s*\(/i;
  const RAW_TEXT = { style: 1, script: 1, textarea: 1, title: 1, xmp: 1, iframe: 1, noembed: 1, noframes: 1, plaintext: 1, noscript: 1 };
  const inertDoc = document.implementation.createHTMLDocument('');
  const templateContent = getter(HTMLTemplateElement.prototype, 'content');
  const innerHTMLDesc = getOwnPropertyDescriptor(Element.prototype, 'innerHTML');
  const outerHTMLGet = getter(Element.prototype, 'outerHTML');
  const createElementInert = method(Document.prototype, 'createElement');
  const HELD_ATTR = 'data-tpr-held';
  let heldCounter = 0;
  const heldByToken = new MapC(); // token -> [{attr, ns, qname, value, d}]

  /**
   * Observes the URL attributes of markup parsed inertly; scripts only when `liveScripts`.
   * Returns {withhold: bool, html: sanitized markup or null}.
   */
  function preflightMarkup(html, liveScripts, path, skipFn, baseNode) {
    const tpl = createElementInert(inertDoc, 'template');
    apply(innerHTMLDesc.set, tpl, [html]);
    const frag = templateContent(tpl);
    const list = candidates(frag);
    let any = false;
    const base = baseNode ? nodeBaseURI(baseNode) : global.document.baseURI;
    for (let i = 0; i < list.length; i++) {
      const el = list[i];
      const name = elLocalName(el);
      const ns = elNamespace(el);
      if (name === 'style' && ns === HTML_NS) {
        reportCss(nodeTextContent(el), base, null, path, skipFn, 'top', 'style');
        continue;
      }
      if (elHasAttribute(el, 'style')) reportCss(elGetAttribute(el, 'style'), base, null, path, skipFn, 'top', name);
      if (name === 'script' && ns === HTML_NS && !liveScripts) continue;
      const table = ns === HTML_NS ? HTML_URL_ATTRS[name] : (ns === SVG_NS ? SVG_URL_ATTRS[name] : null);
      if (!table) continue;
      const attrs = ownKeys(table);
      let token = null;
      for (let a = 0; a < attrs.length; a++) {
        const attr = attrs[a];
        if (urlAttrKind(el, attr) === 0) continue;
        const value = getUrlAttr(el, attr);
        if (value === null) continue;
        const info = elementChannel(el, attr);
        if (!info) continue;
        const urls = urlsOf(attr, value, base);
        let d = PROCEED;
        const holds = [];
        for (let u = 0; u < urls.length; u++) {
          const obs = elementObs(el, attr, urls[u], path, skipFn, info);
          obs.realm = baseNode ? elementRealm(baseNode) : 'top';
          const one = decide(obs);
          if (one === BLOCK) d = BLOCK;
          else if (one !== PROCEED) push(holds, one);
          push(markupSeen, urls[u]);
        }
        if (d !== BLOCK && holds.length) {
          d = promiseThen(PromiseC.all(holds), function (vs) {
            for (let k = 0; k < vs.length; k++) if (vs[k] === BLOCK) return BLOCK;
            return PROCEED;
          });
        }
        if (d === PROCEED) continue;
        any = true;
        if (token === null) { token = 't' + (++heldCounter); mapSet(heldByToken, token, []); apply(elSetAttributeRaw, el, [HELD_ATTR, token]); }
        push(mapGet(heldByToken, token), { attr: attr, value: value, d: d });
        elRemoveAttribute(el, attr);
        if (ns === SVG_NS && attr === 'href') elRemoveAttributeNS(el, XLINK_NS, 'href');
      }
    }
    if (!any) return { withhold: false, html: null };
    let out = '';
    for (let n = nodeFirstChild(frag); n !== null; n = nodeNextSibling(n)) {
      const t = nodeTypeSafe(n);
      if (t === 1) out += outerHTMLGet(n);
      else {
        const holder = createElementInert(inertDoc, 'div');
        apply(Node.prototype.appendChild, holder, [apply(Node.prototype.cloneNode, n, [true])]);
        out += apply(innerHTMLDesc.get, holder, []);
      }
    }
    return { withhold: true, html: out };
  }

  // URLs reported by a preflight whose real elements get marked seen right after insertion.
  let markupSeen = [];

  function settleMarkup(root, skipFn) {
    // Re-associate withheld attributes with the real elements, mark preflighted URLs seen.
    const doc = root && nodeTypeSafe(root) === 9 ? root : null;
    const scope = doc ? doc.documentElement : root;
    if (!scope) return;
    if (heldByToken.size) {
      const list = doc ? docQSA(doc, '[' + HELD_ATTR + ']') : (nodeTypeSafe(scope) === 1 ? elQSA(scope, '[' + HELD_ATTR + ']') : fragQSA(scope, '[' + HELD_ATTR + ']'));
      const n = nodeListLength(list);
      for (let i = 0; i < n; i++) {
        const el = nodeListItem(list, i);
        const token = elGetAttribute(el, HELD_ATTR);
        const entries = mapGet(heldByToken, token);
        elRemoveAttribute(el, HELD_ATTR);
        if (!entries) continue;
        mapDelete(heldByToken, token);
        for (let k = 0; k < entries.length; k++) {
          const e = entries[k];
          const us = urlsOf(e.attr, e.value, nodeBaseURI(el));
          for (let u = 0; u < us.length; u++) markSeen(el, us[u]);
          withhold(el, e.attr, null, null, e.value, e.d);
        }
      }
    }
    if (markupSeen.length) {
      const pending = markupSeen;
      markupSeen = [];
      const list = candidates(scope);
      for (let i = 0; i < list.length; i++) {
        const el = list[i];
        const ns = elNamespace(el);
        const table = ns === HTML_NS ? HTML_URL_ATTRS[elLocalName(el)] : (ns === SVG_NS ? SVG_URL_ATTRS[elLocalName(el)] : null);
        if (!table) continue;
        const attrs = ownKeys(table);
        for (let a = 0; a < attrs.length; a++) {
          const us = urlsOf(attrs[a], getUrlAttr(el, attrs[a]), nodeBaseURI(el));
          for (let u = 0; u < us.length; u++) {
            for (let p = 0; p < pending.length; p++) if (pending[p] === us[u]) { markSeen(el, us[u]); break; }
          }
        }
        if (elLocalName(el) === 'style') markStyleSeen(el);
        else if (elHasAttribute(el, 'style')) markCssSeen(el, elGetAttribute(el, 'style'));
        if (ns === HTML_NS && (elLocalName(el) === 'iframe' || elLocalName(el) === 'frame')) hookFrameElement(el);
      }
    }
  }

  function markCssSeen(el, text) {
    const list = cssUrls(text, nodeBaseURI(el));
    for (let i = 0; i < list.length; i++) markSeen(el, list[i].channel + ' ' + list[i].url);
  }
  function markStyleSeen(el) { markCssSeen(el, nodeTextContent(el)); }

  /** Shared body of the markup hooks. `run(html)` performs the native sink. */
  function markupSink(html, liveScripts, path, skipFn, contextEl, run, settleRoots) {
    let pre = null;
    let s = null;
    try {
      faultPoint('markup');
      s = toStr(html);
      if (s !== null && reTest(MARKUP_HINT, s)) {
        if (contextEl && elNamespace(contextEl) === HTML_NS && RAW_TEXT[elLocalName(contextEl)]) {
          pre = null; // raw text: only a <style> matters, scanned after
        } else {
          markupSeen = [];
          pre = preflightMarkup(s, liveScripts, path, skipFn, contextEl);
        }
      }
    } catch (e) {
      internalError(path, e);
      pre = null;
      if (state.failClosed) throw new TypeErrorC('TPR Auditor: markup refused (internal error)');
    }
    const r = run(pre && pre.withhold ? pre.html : null);
    try {
      if (pre) {
        const roots = settleRoots();
        for (let i = 0; i < roots.length; i++) if (roots[i]) settleMarkup(roots[i], skipFn);
        markupSeen = [];
      }
      if (contextEl && elLocalName(contextEl) === 'style') scanStyleElement(contextEl, path, skipFn);
    } catch (e) { internalError(path + ':settle', e); }
    return r;
  }

  /**
   * `srcdoc` markup: its loads happen in the frame's new document, built by the parser where
   * no hook runs (and in Firefox no catch-all of ours sees them), so they are observed here,
   * against the caller's stack, as markup whose scripts run. A load that is blocked or waits
   * for an answer is left out of the document (the iframe's own realm cannot hold it); setting
   * `srcdoc` again after the answer builds it with the load.
   */
  function srcdocSink(value, skipFn, run) {
    return markupSink(value, true, 'srcdoc', skipFn, null, run, function () { return []; });
  }

  function installMarkup(R) {
    const W = R.W;
    const ElementP = W.Element.prototype;
    if (W.HTMLIFrameElement && getOwnPropertyDescriptor(W.HTMLIFrameElement.prototype, 'srcdoc')) {
      replaceAccessor(W.HTMLIFrameElement.prototype, 'srcdoc', function (origSet) {
        const h = {
          set(v) {
            const el = this;
            const args = arguments;
            const r = srcdocSink(v, h, function (html) { return apply(origSet, el, html === null ? args : [html]); });
            try { if (nodeIsConnected(el)) hookFrameElement(el); } catch (e) { internalError('srcdoc', e); }
            return r;
          },
        }.set;
        return h;
      });
    }
    replaceAccessor(ElementP, 'innerHTML', function (origSet) {
      const h = {
        set(v) {
          const el = this;
          const args = arguments;
          if (!isElement(el) || elLocalName(el) === 'template') return apply(origSet, el, args);
          return markupSink(v, false, 'innerHTML', h, el, function (html) {
            return apply(origSet, el, html === null ? args : [html]);
          }, function () { return [el]; });
        },
      }.set;
      return h;
    });
    if (W.ShadowRoot) {
      replaceAccessor(W.ShadowRoot.prototype, 'innerHTML', function (origSet) {
        const h = {
          set(v) {
            const root = this;
            const args = arguments;
            return markupSink(v, false, 'innerHTML', h, null, function (html) {
              return apply(origSet, root, html === null ? args : [html]);
            }, function () { return [root]; });
          },
        }.set;
        return h;
      });
    }
    replaceAccessor(ElementP, 'outerHTML', function (origSet) {
      const h = {
        set(v) {
          const el = this;
          const args = arguments;
          const parent = nodeParent(el);
          if (!parent) return apply(origSet, el, args);
          return markupSink(v, false, 'outerHTML', h, nodeTypeSafe(parent) === 1 ? parent : null, function (html) {
            return apply(origSet, el, html === null ? args : [html]);
          }, function () { return [parent]; });
        },
      }.set;
      return h;
    });
    replaceValue(ElementP, 'insertAdjacentHTML', function (orig) {
      const h = {
        insertAdjacentHTML(position, text) {
          const el = this;
          const args = arguments;
          if (args.length < 2) return apply(orig, el, args);
          let ctx = el;
          let root = el;
          try {
            const where = strToLower(StringC(position));
            if (where === 'beforebegin' || where === 'afterend') { root = nodeParent(el); ctx = root && nodeTypeSafe(root) === 1 ? root : null; }
          } catch (e) { /* native will throw */ }
          return markupSink(text, false, 'insertAdjacentHTML', h, ctx, function (html) {
            return apply(orig, el, html === null ? args : [args[0], html]);
          }, function () { return [root]; });
        },
      }.insertAdjacentHTML;
      return h;
    });
    const setHTMLUnsafeTargets = [W.Element, W.ShadowRoot];
    for (let i = 0; i < setHTMLUnsafeTargets.length; i++) {
      const C = setHTMLUnsafeTargets[i];
      if (!C || !getOwnPropertyDescriptor(C.prototype, 'setHTMLUnsafe')) continue;
      replaceValue(C.prototype, 'setHTMLUnsafe', function (orig) {
        const h = {
          setHTMLUnsafe(html) {
            const el = this;
            const args = arguments;
            return markupSink(html, false, 'setHTMLUnsafe', h, nodeTypeSafe(el) === 1 ? el : null, function (s) {
              return apply(orig, el, s === null ? args : [s]);
            }, function () { return [el]; });
          },
        }.setHTMLUnsafe;
        return h;
      });
    }
    // document.write / writeln: scripts run, so they are observed; the MutationObserver
    // later skips what the preflight already reported.
    const DocP = W.Document.prototype;
    const writeNames = ['write', 'writeln'];
    for (let i = 0; i < writeNames.length; i++) {
      const wname = writeNames[i];
      replaceValue(DocP, wname, function (orig) {
        const h = {
          f() {
            const doc = this;
            const args = arguments;
            if (args.length !== 1) return apply(orig, doc, args);
            return markupSink(args[0], true, 'document.' + wname, h, null, function (html) {
              return apply(orig, doc, html === null ? args : [html]);
            }, function () { return [doc]; });
          },
        }.f;
        return h;
      });
    }
    // createContextualFragment: scripts in the fragment run when it is inserted; the
    // insertion hooks see the fragment, so only tagging/observation on insertion is needed.
  }

  // --- CSSOM, style text, FontFace ---------------------------------------------------
  function installCss(R) {
    const W = R.W;
    const realm = R.realm;
    const sheetHref = getter(W.StyleSheet && W.StyleSheet.prototype, 'href');
    const sheetOwner = getter(W.StyleSheet && W.StyleSheet.prototype, 'ownerNode');
    function sheetBase(sheet) {
      try {
        const href = sheetHref(sheet);
        if (href) return href;
        const owner = sheetOwner(sheet);
        if (owner) return nodeBaseURI(owner);
      } catch (e) { /* fall through */ }
      return realmBase(W);
    }
    const SheetP = W.CSSStyleSheet && W.CSSStyleSheet.prototype;
    if (SheetP) {
      const names = ['insertRule', 'replace', 'replaceSync', 'addRule'];
      for (let i = 0; i < names.length; i++) {
        const mname = names[i];
        replaceValue(SheetP, mname, function (orig) {
          const h = {
            f(text) {
              try {
                faultPoint('css');
                const t = mname === 'addRule' ? toStr(arguments[0]) + '{' + toStr(arguments[1]) + '}' : toStr(text);
                if (t !== null) reportCss(t, sheetBase(this), null, 'CSSStyleSheet.' + mname, h, realm, null);
              } catch (e) { internalError('css:' + mname, e); }
              return apply(orig, this, arguments);
            },
          }.f;
          return h;
        });
      }
    }
    const DeclP = W.CSSStyleDeclaration && W.CSSStyleDeclaration.prototype;
    // Inline-style declarations remember their element, so a url() set through the CSSOM is
    // reported once (the MutationObserver sees the same change of the style attribute).
    const declOwner = new WeakMapC();
    const styleHosts = [W.HTMLElement, W.SVGElement, W.MathMLElement];
    for (let i = 0; i < styleHosts.length; i++) {
      if (!styleHosts[i]) continue;
      replaceAccessor(styleHosts[i].prototype, 'style', null, function (origGet) {
        return getOwnPropertyDescriptor({
          get style() {
            const decl = apply(origGet, this, arguments);
            try { if (decl) wmSet(declOwner, decl, this); } catch (e) { /* ignore */ }
            return decl;
          },
        }, 'style').get;
      });
    }
    function declCss(decl, text, path, skipFn) {
      const owner = wmGet(declOwner, decl) || null;
      reportCss(text, owner ? nodeBaseURI(owner) : realmBase(W), owner, path, skipFn, realm, owner ? elLocalName(owner) : null);
    }
    if (DeclP) {
      replaceValue(DeclP, 'setProperty', function (orig) {
        const h = {
          setProperty(name, value) {
            try {
              const t = toStr(value);
              if (t !== null && reTest(CSS_HINT, t)) declCss(this, t, 'style.setProperty', h);
            } catch (e) { internalError('css:setProperty', e); }
            return apply(orig, this, arguments);
          },
        }.setProperty;
        return h;
      });
      replaceAccessor(DeclP, 'cssText', function (origSet) {
        const h = {
          set(v) {
            try {
              const t = toStr(v);
              if (t !== null && reTest(CSS_HINT, t)) declCss(this, t, 'style.cssText', h);
            } catch (e) { internalError('css:cssText', e); }
            return apply(origSet, this, arguments);
          },
        }.set;
        return h;
      });
    }
    // Text changes of <style> elements.
    const NodeP = W.Node.prototype;
    replaceAccessor(NodeP, 'textContent', function (origSet) {
      const h = {
        set(v) {
          const r = apply(origSet, this, arguments);
          try {
            const t = nodeTypeSafe(this);
            if (t === 2) {
              // attr.textContent sets the attribute value
              const el = this.ownerElement;
              if (el) {
                if (this.localName === 'style') scanStyleAttr(el, v, 'Attr.textContent', h);
                else if (urlAttrKind(el, this.localName) === 1 || (urlAttrKind(el, this.localName) && nodeIsConnected(el))) observeElementUrl(el, this.localName, v, 'Attr.textContent', h, false);
              }
            } else {
              const st = styleElementOf(this);
              if (st) scanStyleElement(st, 'textContent', h);
            }
          } catch (e) { internalError('textContent', e); }
          return r;
        },
      }.set;
      return h;
    });
    replaceAccessor(NodeP, 'nodeValue', function (origSet) {
      const h = {
        set(v) {
          const r = apply(origSet, this, arguments);
          try {
            const st = styleElementOf(this);
            if (st) scanStyleElement(st, 'nodeValue', h);
          } catch (e) { internalError('nodeValue', e); }
          return r;
        },
      }.set;
      return h;
    });
    replaceAccessor(W.HTMLElement.prototype, 'innerText', function (origSet) {
      const h = {
        set(v) {
          const r = apply(origSet, this, arguments);
          try { const st = styleElementOf(this); if (st) scanStyleElement(st, 'innerText', h); } catch (e) { internalError('innerText', e); }
          return r;
        },
      }.set;
      return h;
    });
    const CD = W.CharacterData && W.CharacterData.prototype;
    if (CD) {
      replaceAccessor(CD, 'data', function (origSet) {
        const h = {
          set(v) {
            const r = apply(origSet, this, arguments);
            try { const st = styleElementOf(this); if (st) scanStyleElement(st, 'CharacterData.data', h); } catch (e) { internalError('data', e); }
            return r;
          },
        }.set;
        return h;
      });
      const cdMethods = ['appendData', 'insertData', 'replaceData'];
      for (let i = 0; i < cdMethods.length; i++) {
        const mname = cdMethods[i];
        replaceValue(CD, mname, function (orig) {
          const h = {
            f() {
              const r = apply(orig, this, arguments);
              try { const st = styleElementOf(this); if (st) scanStyleElement(st, 'CharacterData.' + mname, h); } catch (e) { internalError(mname, e); }
              return r;
            },
          }.f;
          return h;
        });
      }
    }
    // FontFace: new FontFace(family, 'url(...)') — declared now, fetched on load()/use.
    if (W.FontFace) {
      replaceConstructor(W, 'FontFace', function (Orig, args, newTarget, wrapper) {
        try {
          faultPoint('fontface');
          if (typeof args[1] === 'string' && reTest(CSS_HINT, args[1])) {
            const list = cssUrls(args[1], realmBase(W));
            for (let i = 0; i < list.length; i++) {
              const obs = makeObs('font-face', list[i].url, realm, 'FontFace', wrapper);
              obs.enforceable = false;
              decide(obs);
            }
          }
        } catch (e) { internalError('fontface', e); }
        return construct(Orig, args, newTarget);
      });
    }
  }

  // --- Audio() and other named constructors --------------------------------------------
  function installConstructors(R) {
    const W = R.W;
    if (W.Audio) {
      replaceConstructor(W, 'Audio', function (Orig, args, newTarget, wrapper) {
        let d = PROCEED;
        let el = null;
        let value = null;
        if (args.length > 0 && args[0] !== undefined) {
          try {
            faultPoint('audio');
            value = toStr(args[0]);
            el = construct(Orig, [], newTarget);
            d = observeElementUrl(el, 'src', value, 'Audio', wrapper);
          } catch (e) {
            internalError('audio', e);
            d = state.failClosed ? BLOCK : PROCEED;
            el = null;
          }
        }
        if (el === null) return construct(Orig, args, newTarget);
        if (d === PROCEED) { setAttr(el, 'src', null, value); return el; }
        withhold(el, 'src', null, null, value, d);
        return el;
      });
    }
  }

  // --- Same-origin frames --------------------------------------------------------------
  function hookWindow(win, realmName) {
    if (!win) return false;
    try {
      // Cross-origin windows throw on any property access: skip them.
      if (!win.document) return false;
      // A frame whose document started a bootstrap of its own (a wiki page with the gadget or
      // the extension) is its own home: hooking it again would report its requests twice.
      const mark = getOwnPropertyDescriptor(win, KEY);
      if (mark) return mark.value === handle;
      if (wsHas(hookedRealms, realmKey(win))) return true;
      const ok = installRealm(win, realmName);
      // A bootstrap copy later injected into this frame (extension all_frames) must not hook
      // it a second time: it finds the parent's handle and stops (see handle.isHome).
      if (ok && !getOwnPropertyDescriptor(win, KEY)) {
        defineProperty(win, KEY, { value: handle, enumerable: false, writable: false, configurable: false });
      }
      return ok;
    } catch (e) {
      return false;
    }
  }

  function hookFrameElement(el) {
    try {
      const win = apply(iframeContentWindowRaw, el, []);
      if (win) hookWindow(win, 'iframe');
    } catch (e) { internalError('frame', e); }
  }

  function installFrames(R) {
    const W = R.W;
    const frameClasses = [W.HTMLIFrameElement, W.HTMLFrameElement, W.HTMLObjectElement];
    for (let i = 0; i < frameClasses.length; i++) {
      const C = frameClasses[i];
      if (!C) continue;
      replaceAccessor(C.prototype, 'contentWindow', null, function (origGet) {
        return getOwnPropertyDescriptor({
          get contentWindow() {
            const win = apply(origGet, this, arguments);
            if (win) hookWindow(win, 'iframe');
            return win;
          },
        }, 'contentWindow').get;
      });
      replaceAccessor(C.prototype, 'contentDocument', null, function (origGet) {
        return getOwnPropertyDescriptor({
          get contentDocument() {
            const doc = apply(origGet, this, arguments);
            if (doc && doc.defaultView) hookWindow(doc.defaultView, 'iframe');
            return doc;
          },
        }, 'contentDocument').get;
      });
    }
    // window.open('') / ('about:blank') gives a same-origin realm too.
    replaceValue(W, 'open', function (orig) {
      return {
        open() {
          const win = apply(orig, this, arguments);
          if (win) hookWindow(win, 'iframe');
          return win;
        },
      }.open;
    });
  }

  // --- blob: documents ---------------------------------------------------------------------
  // A document loaded from a blob: URL (an <iframe>, window.open) parses and runs its own
  // inline scripts before the parent's hooks can reach its new realm: the initial about:blank
  // window hooked at insertion is replaced, unlike for srcdoc. An extension's content script
  // starts there first (match_origin_as_fallback); a gadget cannot. So an HTML blob the page
  // builds from text or bytes is given one small inline script, first in the document, that
  // hands the realm to this bootstrap (`hookRealm`, as a copy of the bootstrap started there
  // would) and removes itself. It goes after the doctype and any leading comments (the
  // document's mode is unchanged) and after a `<meta charset>` within the encoding prescan's
  // 1,024 bytes (the encoding is unchanged). Only `text/html`: an XML document could not take
  // an element before its root. A blob whose first part is not text (another blob, a stream)
  // cannot be read synchronously and is left alone (README, Known limits).
  const HAND_OVER = '<script>(function(d,w){try{var p=w.parent!==w?w.parent:w.opener;' +
    'p[Symbol.for("tpr-auditor.bootstrap")].hookRealm(w)}catch(e){}var s=d.currentScript;' +
    's&&s.parentNode&&s.parentNode.removeChild(s)})(document,window)</script>';
  const PRESCAN = 1024;
  const blobType = getter(BlobC && BlobC.prototype, 'type');
  const blobSlice = method(BlobC && BlobC.prototype, 'slice');
  const TextEncoderC = global.TextEncoder;
  const htmlBlobs = new WeakMapC(); // Blob → byte offset for HAND_OVER
  const META_CHARSET = /^<meta[\s/][^>]*charset/i;

  /** Where HAND_OVER goes in `text` (a prefix of the document): a char index, or -1. */
  function handOverIndex(text) {
    let i = text.charCodeAt(0) === 0xFEFF ? 1 : 0;
    for (;;) {
      while (i < text.length && strIndexOf(' \t\n\f\r', text[i]) >= 0) i++;
      if (strSlice(text, i, i + 4) !== '<!--') break;
      const end = strIndexOf(text, '-->', i + 4);
      if (end < 0) return -1; // the prefix ends inside a comment: undecidable
      i = end + 3;
    }
    if (strToLower(strSlice(text, i, i + 9)) === '<!doctype') {
      const end = strIndexOf(text, '>', i);
      if (end < 0) return -1;
      i = end + 1;
    }
    // A <meta charset> the prescan would find must stay within its reach: go after it, unless
    // a script comes first (that script would then run before the hand-over).
    const meta = strIndexOf(strToLower(strSlice(text, i, PRESCAN)), '<meta');
    if (meta >= 0) {
      const at = i + meta;
      const script = strIndexOf(strToLower(strSlice(text, i, at)), '<script');
      const end = strIndexOf(text, '>', at);
      if (script < 0 && end >= 0 && reExec(META_CHARSET, strSlice(text, at, end + 1)) !== null) i = end + 1;
    }
    return i;
  }

  /** Byte offset for HAND_OVER in a blob built from `parts`, or -1. */
  function handOverOffset(parts) {
    if (!isArray(parts) || parts.length === 0) return -1;
    const first = parts[0];
    if (typeof first === 'string') {
      // Blob encodes strings as UTF-8; the index is converted back to bytes.
      const i = handOverIndex(strSlice(first, 0, 4 * PRESCAN));
      if (i < 0 || !TextEncoderC) return -1;
      return new TextEncoderC().encode(strSlice(first, 0, i)).length;
    }
    if (brand(abByteLength, first) || isView(first)) {
      if (!TextDecoderC) return -1;
      // One character per byte, so the index is the byte offset.
      const bytes = isView(first)
        ? new Uint8ArrayC(first.buffer, first.byteOffset, mathMin(first.byteLength, 4 * PRESCAN))
        : new Uint8ArrayC(first, 0, mathMin(abByteLength(first), 4 * PRESCAN));
      const text = new TextDecoderC('latin1').decode(bytes);
      const bom = strSlice(text, 0, 3) === '\u00EF\u00BB\u00BF' ? 3 : 0;
      const i = handOverIndex(strSlice(text, bom));
      return i < 0 ? -1 : bom + i;
    }
    return -1;
  }

  function installBlobDocuments(R) {
    const W = R.W;
    if (!blobType || !blobSlice) return;
    const names = ['Blob', 'File'];
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      replaceConstructor(W, name, function (Orig, args, newTarget) {
        const blob = construct(Orig, args, newTarget);
        try {
          const type = blobType(blob);
          if (type === 'text/html' || strSlice(type, 0, 10) === 'text/html;') {
            const at = handOverOffset(args[0]);
            if (at >= 0) wmSet(htmlBlobs, blob, at);
          }
        } catch (e) { internalError('blob', e); }
        return blob;
      });
    }
    if (!W.URL) return;
    replaceValue(W.URL, 'createObjectURL', function (orig) {
      return {
        createObjectURL(obj) {
          let args = arguments;
          try {
            const at = obj !== null && typeof obj === 'object' ? wmGet(htmlBlobs, obj) : undefined;
            if (at !== undefined) {
              const type = blobType(obj);
              args = [new BlobC([blobSlice(obj, 0, at), HAND_OVER, blobSlice(obj, at)], { type: type })];
            }
          } catch (e) {
            internalError('createObjectURL', e);
            args = arguments;
          }
          return apply(orig, this, args);
        },
      }.createObjectURL;
    });
  }

  // --- Workers -----------------------------------------------------------------------------
  // Instrumentation run inside blob: workers the page creates. It reports fetch/XHR/
  // importScripts/WebSocket/EventSource/nested Worker back over a per-worker
  // BroadcastChannel and waits for the decision where the call can wait.
  function workerPrelude(channelName, gateName, target, isModule) {
    'use strict';
    var bc = new BroadcastChannel(channelName);
    var seq = 0;
    var waiting = new Map();
    var gate = null;
    bc.onmessage = function (e) {
      var m = e.data;
      if (!m) return;
      if (m.type === 'decision') {
        var r = waiting.get(m.id);
        if (r) { waiting.delete(m.id); r(m.decision); }
      } else if (m.type === 'gate' && gate) {
        gate(m.decision);
      }
    };
    function send(channel, url, extra, wait) {
      var obs = { channel: channel, url: String(url), method: 'GET', body: null, credentials: false, stack: new Error().stack, t: performance.now(), enforceable: !!wait, canHold: !!wait };
      if (extra) for (var k in extra) obs[k] = extra[k];
      var id = ++seq;
      var p = wait ? new Promise(function (res) { waiting.set(id, res); }) : null;
      bc.postMessage({ type: 'obs', id: id, obs: obs, wait: !!wait });
      return p;
    }
    function abs(u) { try { return new URL(u, self.location.href).href; } catch (e) { return null; } }
    function textOf(b) {
      if (b == null) return null;
      if (typeof b === 'string') return b;
      if (b instanceof URLSearchParams) return b.toString();
      return null;
    }
    var oFetch = self.fetch;
    if (oFetch) {
      self.fetch = function fetch(input, init) {
        var self2 = this;
        var args = arguments;
        var url = input instanceof Request ? input.url : abs(input);
        if (url === null) return oFetch.apply(self2, args);
        var method = input instanceof Request ? input.method : 'GET';
        if (init && init.method) method = String(init.method).toUpperCase();
        return send('fetch', url, { method: method, body: init ? textOf(init.body) : null, credentials: !!(init && init.credentials === 'include') }, true).then(function (d) {
          if (d === 'block') throw new TypeError('Failed to fetch');
          return oFetch.apply(self2, args);
        });
      };
    }
    if (self.XMLHttpRequest) {
      var XP = XMLHttpRequest.prototype;
      var oOpen = XP.open;
      var oSend = XP.send;
      var st = new WeakMap();
      XP.open = function open(m, u) {
        var r = oOpen.apply(this, arguments);
        st.set(this, { method: String(m).toUpperCase(), url: abs(u), async: arguments.length < 3 || !!arguments[2] });
        return r;
      };
      XP.send = function send2(body) {
        var s = st.get(this);
        var xhr = this;
        var args = arguments;
        if (!s || !s.url) return oSend.apply(this, args);
        if (!s.async) { send('xhr', s.url, { method: s.method, body: textOf(body) }, false); return oSend.apply(this, args); }
        send('xhr', s.url, { method: s.method, body: textOf(body), credentials: xhr.withCredentials }, true).then(function (d) {
          if (d === 'block') { oOpen.call(xhr, s.method, 'about:blank#blocked-by-tpr-auditor', true); oSend.call(xhr); } else oSend.apply(xhr, args);
        });
      };
    }
    if (self.importScripts) {
      var oImport = self.importScripts;
      self.importScripts = function importScripts() {
        for (var i = 0; i < arguments.length; i++) { var u = abs(arguments[i]); if (u) send('script', u, { path: 'importScripts' }, false); }
        return oImport.apply(this, arguments);
      };
    }
    ['WebSocket', 'EventSource', 'Worker'].forEach(function (name) {
      var O = self[name];
      if (!O) return;
      var W2 = function (url) {
        if (!new.target) return O.apply(this, arguments);
        var u = abs(url);
        if (u) send(name === 'Worker' ? 'worker' : name.toLowerCase(), u, { path: name }, false);
        return Reflect.construct(O, arguments, new.target);
      };
      W2.prototype = O.prototype;
      Object.defineProperty(W2, 'name', { value: name });
      self[name] = W2;
    });
    if (self.navigator && self.navigator.sendBeacon) {
      var oBeacon = Object.getPrototypeOf(self.navigator).sendBeacon;
      Object.getPrototypeOf(self.navigator).sendBeacon = function sendBeacon(u, data) {
        var a = abs(u);
        if (a) send('beacon', a, { method: 'POST', body: textOf(data) }, false);
        return oBeacon.apply(this, arguments);
      };
    }
    if (gateName === null) return null;
    // Held worker: buffer the page's messages until the gate opens, then run the script.
    var buffered = [];
    var capture = function (e) { buffered.push(e); e.stopImmediatePropagation(); };
    self.addEventListener('message', capture);
    return new Promise(function (res) { gate = res; }).then(function (d) {
      if (d === 'block') { self.close(); return null; }
      self.removeEventListener('message', capture);
      var replay = function () {
        for (var i = 0; i < buffered.length; i++) {
          var e = buffered[i];
          self.dispatchEvent(new MessageEvent('message', { data: e.data, ports: e.ports }));
        }
      };
      if (isModule) return replay; // the module wrapper imports the target, then replays
      importScripts(target);
      replay();
      return undefined;
    });
  }

  let workerCounter = 0;
  function installWorkers(R) {
    const W = R.W;
    const realm = R.realm;
    const workerSource = fnToString(workerPrelude);

    function listen(channelName, gateHolder) {
      const bc = new BroadcastChannelC(channelName);
      bc.onmessage = function (e) {
        const m = e.data;
        if (!m || m.type !== 'obs') return;
        try {
          const o = m.obs;
          const obs = makeObs(o.channel, o.url, 'worker', o.path || o.channel, null);
          obs.stack = o.stack;
          obs.method = o.method || 'GET';
          obs.body = o.body === undefined ? null : o.body;
          obs.credentials = !!o.credentials;
          obs.enforceable = !!o.enforceable;
          obs.canHold = !!o.canHold;
          const d = decide(obs);
          if (m.wait) {
            whenDecided(d, function () { bc.postMessage({ type: 'decision', id: m.id, decision: 'proceed' }); },
              function () { bc.postMessage({ type: 'decision', id: m.id, decision: 'block' }); });
          }
        } catch (err) {
          internalError('worker-obs', err);
          if (m.wait) bc.postMessage({ type: 'decision', id: m.id, decision: state.failClosed ? 'block' : 'proceed' });
        }
      };
      if (gateHolder) gateHolder.open = function (v) { bc.postMessage({ type: 'gate', decision: v }); };
      return bc;
    }

    function deadUrl() {
      const u = createObjectURL(new BlobC([''], { type: 'text/javascript' }));
      revokeObjectURL(u);
      return u;
    }

    const names = ['Worker', 'SharedWorker'];
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (!W[name]) continue;
      replaceConstructor(W, name, function (Orig, args, newTarget, wrapper) {
        let d = PROCEED;
        let url = null;
        let wrapped = null;
        try {
          faultPoint('worker');
          url = resolveUrl(toStr(args[0]), realmBase(W));
          if (url !== null) {
            const obs = makeObs('worker', url, realm, name, wrapper);
            const isBlob = schemeOf(url) === 'blob';
            const opts = args[1];
            const isModule = opts !== null && typeof opts === 'object' && StringC(opts.type) === 'module';
            // Only blob: dedicated workers are instrumented: wrapping keeps their origin and
            // base URL meaning (a blob URL cannot be a base for relative URLs anyway).
            const canWrap = isBlob && name === 'Worker' && state.wrapBlobWorkers && BroadcastChannelC;
            obs.canHold = !!canWrap;
            d = decide(obs);
            if (canWrap && d !== BLOCK) {
              const chan = 'tpr-auditor-' + NONCE + '-' + (++workerCounter);
              const held = d !== PROCEED;
              const gateHolder = held ? {} : null;
              listen(chan, gateHolder);
              const call = '(' + workerSource + ')(' + jsonStringify(chan) + ',' + (held ? jsonStringify(chan + '-gate') : 'null') + ',' + jsonStringify(url) + ',' + (isModule ? 'true' : 'false') + ')';
              let src;
              if (isModule) {
                src = held
                  ? 'const r = await ' + call + ';\nif (r) { await import(' + jsonStringify(url) + '); r(); }\n'
                  : call + ';\nawait import(' + jsonStringify(url) + ');\n';
              }
              else src = held ? call + ';\n' : call + ';\nimportScripts(' + jsonStringify(url) + ');\n';
              const blobUrl = createObjectURL(new BlobC([src], { type: 'text/javascript' }));
              const newArgs = argsArray(args);
              newArgs[0] = blobUrl;
              wrapped = { args: newArgs, gate: gateHolder };
            }
          }
        } catch (e) {
          internalError('worker', e);
          d = state.failClosed ? BLOCK : PROCEED;
          wrapped = null;
        }
        if (d === BLOCK) {
          // Fails the browser's way: the load of a revoked blob URL fires `error` at the worker.
          const a = argsArray(args);
          a[0] = deadUrl();
          return construct(Orig, a, newTarget);
        }
        if (wrapped) {
          const w = construct(Orig, wrapped.args, newTarget);
          if (wrapped.gate) {
            whenDecided(d, function () { wrapped.gate.open('proceed'); }, function () { wrapped.gate.open('block'); });
          }
          return w;
        }
        return construct(Orig, args, newTarget);
      });
    }

    // Service worker registration returns a promise: it can be held.
    const SWC = W.ServiceWorkerContainer;
    if (SWC && getOwnPropertyDescriptor(SWC.prototype, 'register')) {
      const PromiseW = W.Promise;
      const TypeErrorW = W.TypeError;
      replaceValue(SWC.prototype, 'register', function (orig) {
        const h = {
          register(scriptURL) {
            let d = PROCEED;
            try {
              const url = resolveUrl(toStr(scriptURL), realmBase(W));
              if (url !== null) d = decide(makeObs('worker', url, realm, 'serviceWorker.register', h));
            } catch (e) { internalError('serviceWorker', e); d = state.failClosed ? BLOCK : PROCEED; }
            if (d === PROCEED) return apply(orig, this, arguments);
            const self = this;
            const args = arguments;
            return new PromiseW(function (res, rej) {
              whenDecided(d, function () { try { res(apply(orig, self, args)); } catch (e) { rej(e); } },
                function () { rej(new TypeErrorW('Failed to register a ServiceWorker: blocked')); });
            });
          },
        }.register;
        return h;
      });
    }
  }

  // --- Catch-alls (top realm only) -------------------------------------------------------
  const INITIATOR_CHANNEL = {
    fetch: 'fetch', xmlhttprequest: 'xhr', beacon: 'beacon', script: 'script', link: 'style',
    css: 'css-url', img: 'img', image: 'img', input: 'img', iframe: 'frame', frame: 'frame',
    subdocument: 'frame', object: 'object', embed: 'object', video: 'media', audio: 'media',
    track: 'media', source: 'media', eventsource: 'eventsource', other: 'other',
    'early-hints': 'preload', navigation: 'other',
  };
  const DIRECTIVE_CHANNEL = {
    'script-src': 'script', 'script-src-elem': 'script', 'style-src': 'style', 'style-src-elem': 'style',
    'img-src': 'img', 'font-src': 'font-face', 'connect-src': 'fetch', 'frame-src': 'frame',
    'child-src': 'frame', 'media-src': 'media', 'worker-src': 'worker', 'object-src': 'object',
    'manifest-src': 'preload', 'default-src': 'other',
  };

  function installCatchAlls(R) {
    const W = R.W;
    const realm = R.realm;
    // A frame's resource entries count from the frame's own time origin: moved onto the top
    // page's clock so they merge with the hook's sighting of the same request.
    let clockOffset = 0;
    try {
      const o = W.performance.timeOrigin - perf.timeOrigin;
      if (o === o && o !== Infinity && o !== -Infinity) clockOffset = o;
    } catch (e) { /* no timeOrigin: same clock assumed */ }
    if (W.PerformanceObserver) {
      const onEntries = function (list) {
        try {
          const entries = list.getEntries();
          for (let i = 0; i < entries.length; i++) {
            const e = entries[i];
            if (e.initiatorType === 'fetch' && realm === 'top') {
              const own = mapGet(ownFetches, e.name);
              if (own !== undefined) {
                if (own <= 1) mapDelete(ownFetches, e.name); else mapSet(ownFetches, e.name, own - 1);
                continue;
              }
            }
            const obs = makeObs(INITIATOR_CHANNEL[e.initiatorType] || 'other', e.name, realm, 'performance', null);
            obs.observedBy = 'performance';
            obs.t = e.startTime + clockOffset;
            obs.enforceable = false;
            obs.canHold = false;
            obs.method = null;
            obs.initiatorType = e.initiatorType;
            obs.duration = e.duration;
            obs.responseStatus = e.responseStatus === undefined ? null : e.responseStatus;
            report(obs);
          }
        } catch (err) { internalError('performance', err); }
      };
      try {
        const po = new W.PerformanceObserver(onEntries);
        po.observe({ type: 'resource', buffered: true });
      } catch (e) { internalError('performance-observe', e); }
    }
    const addListener = uncurry(W.EventTarget.prototype.addEventListener);
    addListener(W, 'securitypolicyviolation', function (e) {
      try {
        const blocked = StringC(e.blockedURI || '');
        if (!blocked || strIndexOf(blocked, ':') < 0) return; // 'inline', 'eval', 'wasm-eval' …
        const dir = StringC(e.effectiveDirective || e.violatedDirective || '');
        const obs = makeObs(DIRECTIVE_CHANNEL[dir] || 'other', blocked, realm, 'securitypolicyviolation', null);
        obs.observedBy = 'csp';
        obs.enforceable = false;
        obs.canHold = false;
        obs.method = null;
        obs.blockedBy = e.disposition === 'report' ? null : 'wiki-csp';
        obs.directive = dir;
        obs.disposition = e.disposition;
        obs.sourceFile = e.sourceFile || null;
        obs.line = e.lineNumber || 0;
        obs.column = e.columnNumber || 0;
        report(obs);
      } catch (err) { internalError('csp', err); }
    }, true);
    if (realm === 'top') installMutationNet(W);
  }

  // Safety net: elements inserted or changed by paths no synchronous hook saw (the parser,
  // document.write, camelCase style properties…). Asynchronous: no stack, not enforceable.
  function installMutationNet(W) {
    if (!W.MutationObserver) return;
    const checkElement = function (el) {
      const list = candidates(el);
      for (let i = 0; i < list.length; i++) checkOne(list[i]);
    };
    const checkOne = function (el) {
      const ns = elNamespace(el);
      const name = elLocalName(el);
      if (name === 'style' && ns === HTML_NS) { scanStyleElement(el, 'mutation', null); return; }
      if (elHasAttribute(el, 'style')) scanStyleAttr(el, elGetAttribute(el, 'style'), 'mutation', null);
      const table = ns === HTML_NS ? HTML_URL_ATTRS[name] : (ns === SVG_NS ? SVG_URL_ATTRS[name] : null);
      if (!table) return;
      if (!nodeIsConnected(el) && name !== 'img') return;
      const attrs = ownKeys(table);
      for (let a = 0; a < attrs.length; a++) {
        if (urlAttrKind(el, attrs[a]) === 0) continue;
        const v = getUrlAttr(el, attrs[a]);
        if (v !== null) observeElementUrl(el, attrs[a], v, 'mutation', null, false);
      }
    };
    const mo = new W.MutationObserver(function (records) {
      try {
        for (let i = 0; i < records.length; i++) {
          const r = records[i];
          if (r.type === 'childList') {
            const added = r.addedNodes;
            for (let j = 0; j < added.length; j++) {
              const n = added[j];
              const t = nodeTypeSafe(n);
              if (t === 1) checkElement(n);
              else if (t === 3) { const st = styleElementOf(n); if (st) scanStyleElement(st, 'mutation', null); }
            }
            if (isElement(r.target) && elLocalName(r.target) === 'style') scanStyleElement(r.target, 'mutation', null);
          } else if (r.type === 'attributes' && isElement(r.target)) {
            checkOne(r.target);
          } else if (r.type === 'characterData') {
            const st = styleElementOf(r.target);
            if (st) scanStyleElement(st, 'mutation', null);
          }
        }
      } catch (e) { internalError('mutation', e); }
    });
    const start = function () {
      try {
        mo.observe(W.document, {
          childList: true, subtree: true, characterData: true, attributes: true,
          attributeFilter: ['src', 'href', 'srcset', 'data', 'poster', 'background', 'style', 'rel', 'imagesrcset'],
        });
        // Whatever the parser produced before we started.
        if (W.document.documentElement) checkElement(W.document.documentElement);
      } catch (e) { internalError('mutation-observe', e); }
    };
    start();
  }

  // ---------------------------------------------------------------------------------------
  // The handle
  // ---------------------------------------------------------------------------------------
  const handle = objectCreate(null);
  const api = {
    version: VERSION,
    nonce: NONCE,
    attach(sink, options) {
      if (typeof sink !== 'function') throw new TypeErrorC('attach(sink): sink must be a function');
      if (options && typeof options === 'object' && options.failClosed !== undefined) state.failClosed = !!options.failClosed;
      state.sink = sink;
      // Flush the queue in order; held entries are decided by the sink now.
      while (state.qHead < state.queue.length && state.sink === sink) {
        const entry = state.queue[state.qHead];
        state.queue[state.qHead] = undefined;
        state.qHead++;
        const r = callSink(entry.obs);
        if (entry.resolve) {
          const d = normalize(r, entry.obs);
          if (d === PROCEED || d === BLOCK) entry.resolve(d);
          else promiseThen(d, entry.resolve);
        }
      }
      if (state.qHead >= state.queue.length) { state.queue = []; state.qHead = 0; }
      return handle;
    },
    detach() { state.sink = null; return handle; },
    configure(options) {
      if (!options || typeof options !== 'object') return handle;
      if (options.holdUntilAttach !== undefined) state.holdUntilAttach = !!options.holdUntilAttach;
      if (options.failClosed !== undefined) state.failClosed = !!options.failClosed;
      if (options.wrapBlobWorkers !== undefined) state.wrapBlobWorkers = !!options.wrapBlobWorkers;
      if (typeof options.maxQueue === 'number' && options.maxQueue > 0) state.maxQueue = mathFloor(options.maxQueue);
      if (typeof options.beforeInlineReset === 'function') state.beforeInlineReset = options.beforeInlineReset;
      return handle;
    },
    stats() {
      return {
        queued: queueLength(), dropped: state.dropped, delivered: state.delivered,
        internalErrors: state.internalErrors, realms: state.realms, attached: !!state.sink,
        failClosed: state.failClosed,
      };
    },
    /** The auditor's own read of a same-origin text (a `load.php` batch, from the HTTP cache
     *  when it can; with `fresh`, revalidated: the Scan view's API queries): a Promise of the
     *  text, or of null on any failure. Never reported. */
    fetchText(url, fresh) {
      return ownFetch(url, { credentials: 'same-origin', cache: fresh ? 'no-cache' : 'force-cache' });
    },
    /** The auditor's own same-origin form POST (saving consent to the user's preferences
     *  through the wiki's API): a Promise of the response text, or null. Never reported. */
    postForm(url, body) {
      return ownFetch(url, {
        method: 'POST', credentials: 'same-origin', body: toStr(body),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
    },
    /** A closed shadow root on `el`, made by the attachShadow captured at start. */
    attachClosedShadow(el) {
      if (typeof nativeAttachShadow !== 'function') throw new TypeErrorC('attachShadow is not supported');
      return apply(nativeAttachShadow, el, [{ mode: 'closed' }]);
    },
    inlineSource(url) { const v = mapGet(inlineSources, StringC(url)); return v === undefined ? null : v; },
    hookRealm(win) { return hookWindow(win, 'iframe'); },
    isHome(win) { return win === global; },
    injectFault(where) { state.faults[StringC(where)] = true; return handle; },
  };
  const apiKeys = ownKeys(api);
  for (let i = 0; i < apiKeys.length; i++) {
    defineProperty(handle, apiKeys[i], { value: api[apiKeys[i]], enumerable: true, writable: false, configurable: false });
  }
  freeze(handle);

  installRealm(global, 'top');

  // Published last, once the hooks are in place (see the header for why it is public).
  defineProperty(global, KEY, { value: handle, enumerable: false, writable: false, configurable: false });
})(typeof window !== 'undefined' ? window : undefined);

/*
 * TPR Auditor extension — background (issue 5/7 items 3, 4, 5). Shared by Chromium (service
 * worker: service-worker.js imports it) and Firefox (event page). Listeners are registered
 * synchronously at the top level, as both require.
 *
 *   Badge         per tab: the sum over its frames of unconsented + blocked third-party
 *                 requests (events of party `third` or `cloud` whose decision is
 *                 `unconsented` or `blocked`), as each frame's auditor reports it.
 *   Network       webRequest (non-blocking) sees every request of every tab; once its outcome
 *                 is known (response, redirect, error, or 1.5 s without one) each sub-resource
 *                 request goes to the frame that made it as an observation with observedBy
 *                 'network' — blockedBy 'consent' and enforceable when the block-mode rules
 *                 stopped it — which the page core merges with the hook's event for the same
 *                 URL or records as an event of its own (CSS-referenced images and fonts,
 *                 parser-inserted loads, redirects). Frames not ready yet get theirs when they
 *                 say so ('frame-ready').
 *   CSP header    webRequest.onHeadersReceived of main_frame / sub_frame: the page's own
 *                 Content-Security-Policy, handed to the frame for the panel and the popup.
 *   Consent       storage.sync (chunked, see common.js), mirrored joined into storage.local
 *                 for the content scripts; changes from other devices are mirrored too.
 *   Enforcement   in block mode, the consent list compiled by the core (compileDnr) into
 *                 declarativeNetRequest session rules for the wikis; recompiled when consent
 *                 or the wiki list changes; removed when the mode is left.
 *   Wikis         user-added wikis get the content scripts through
 *                 scripting.registerContentScripts (the manifest covers Wikimedia).
 *   Host access   the manifest grants Wikimedia's wiki and Cloud hosts; all other sites are
 *                 an optional permission the options page asks for at the user's click.
 *                 webRequest reports a request only to an extension with access to its
 *                 host, so without that grant the network records cover Wikimedia hosts (and
 *                 added wikis) only: `networkScope` says which, to the page and the popup.
 */
'use strict';

const api = chrome;
const tabs = new Map(); // tabId -> {frames: Map(frameId -> Frame)}
let dnrActive = false;
const ALL_SITES = ['*://*/*'];
// 'all-sites' or 'wiki-hosts' (what webRequest can report): read once when the background
// starts and again on every permission change; messages wait for the latest read, not a
// query of their own (a frame-ready comes from every frame of every wiki tab).
let networkScope = Promise.resolve('wiki-hosts');
function readNetworkScope() {
  const previous = networkScope;
  networkScope = api.permissions.contains({ origins: ALL_SITES }).then(function (all) {
    return all ? 'all-sites' : 'wiki-hosts';
  }, function () { return previous; });
}
readNetworkScope();
api.permissions.onAdded.addListener(readNetworkScope);
api.permissions.onRemoved.addListener(readNetworkScope);
const MAX_PENDING = 5000;

function tabState(tabId) {
  let t = tabs.get(tabId);
  if (!t) { t = { frames: new Map() }; tabs.set(tabId, t); }
  return t;
}

function frameState(tabId, frameId) {
  const t = tabState(tabId);
  let f = t.frames.get(frameId);
  if (!f) {
    f = { pending: [], ready: false, absent: false, csp: null, summary: null, flush: null, network: 0 };
    t.frames.set(frameId, f);
  }
  return f;
}

// ---- network ground truth -----------------------------------------------------------
const CHANNELS = {
  script: 'script', stylesheet: 'style', image: 'img', imageset: 'img', font: 'font-face',
  xmlhttprequest: 'fetch', ping: 'beacon', beacon: 'beacon', media: 'media', sub_frame: 'frame',
  object: 'object', object_subrequest: 'object', websocket: 'websocket', web_manifest: 'preload',
  other: 'other',
};

/** The observation of a request, without its outcome yet. */
function observation(details) {
  if (details.tabId < 0 || details.type === 'main_frame' || details.type === 'csp_report') return null;
  const url = details.url;
  if (!/^(https?|wss?):/i.test(url)) return null;
  // A frame's own document request belongs to the frame that embeds it.
  const frameId = details.type === 'sub_frame' ? details.parentFrameId : details.frameId;
  if (frameId < 0) return null;
  return {
    tabId: details.tabId, frameId: frameId,
    obs: {
      kind: 'request', channel: CHANNELS[details.type] || 'other', url: url, method: details.method || 'GET',
      timeStamp: details.timeStamp, observedBy: 'network', blockedBy: null, realm: 'top',
      path: 'webRequest', enforceable: false, canHold: false, stack: null,
    },
  };
}

// Requests seen starting, waiting for their outcome (at most OUTCOME_WAIT_MS: a WebSocket or a
// long poll is reported without one).
const inflight = new Map(); // requestId -> {tabId, frameId, obs, timer}
const OUTCOME_WAIT_MS = 1500;

/**
 * Delivers a sighting with what happened to it: `blocked` (the browser's rules stopped it:
 * blockedBy consent, enforced), `went` (it went out: not enforced), or null (unknown yet:
 * enforced if block-mode rules are active).
 */
function finish(requestId, outcome) {
  const rec = inflight.get(requestId);
  if (!rec) return;
  inflight.delete(requestId);
  clearTimeout(rec.timer);
  rec.obs.enforceable = outcome === 'blocked' || (outcome === null && dnrActive);
  rec.obs.blockedBy = outcome === 'blocked' ? 'consent' : null;
  const f = frameState(rec.tabId, rec.frameId);
  f.network++;
  f.pending.push(rec.obs);
  if (f.pending.length > MAX_PENDING) f.pending.splice(0, f.pending.length - MAX_PENDING);
  scheduleFlush(rec.tabId, rec.frameId, f);
}

function start(details) {
  const rec = observation(details);
  if (!rec) return;
  // A redirect keeps the request id: the previous hop was finished by onBeforeRedirect.
  finish(details.requestId, 'went');
  rec.timer = setTimeout(function () { finish(details.requestId, null); }, OUTCOME_WAIT_MS);
  inflight.set(details.requestId, rec);
}

function blockedByRules(details) {
  return /ERR_BLOCKED_BY_CLIENT/.test(details.error || '') || (dnrActive && /NS_ERROR_ABORT/.test(details.error || ''));
}

function scheduleFlush(tabId, frameId, f) {
  if (f.flush || f.absent) return;
  f.flush = setTimeout(function () {
    f.flush = null;
    const list = f.pending.splice(0);
    if (!list.length) return;
    api.tabs.sendMessage(tabId, { type: 'network', data: { list: list } }, { frameId: frameId }).catch(function () {
      // No auditor in that frame (yet): keep them for its 'frame-ready'.
      f.pending = list.concat(f.pending);
      if (!f.ready) f.absent = true;
    });
  }, 60);
}

api.webRequest.onBeforeRequest.addListener(function (details) {
  if (details.tabId >= 0 && details.type === 'main_frame') {
    tabs.delete(details.tabId);
    setBadge(details.tabId, 0);
  } else if (details.tabId >= 0 && details.type === 'sub_frame') {
    const t = tabs.get(details.tabId);
    if (t) t.frames.delete(details.frameId); // a new document in that frame
  }
  start(details);
}, { urls: ['<all_urls>'] });

for (const event of ['onBeforeRedirect', 'onResponseStarted', 'onCompleted']) {
  api.webRequest[event].addListener(function (details) { finish(details.requestId, 'went'); }, { urls: ['<all_urls>'] });
}

api.webRequest.onErrorOccurred.addListener(function (details) {
  if (/ERR_CACHE_MISS/.test(details.error || '')) {
    // A cache-only attempt (Chromium tries a font from the cache first, then loads it as
    // another request): nothing went to the network.
    const rec = inflight.get(details.requestId);
    if (rec) { clearTimeout(rec.timer); inflight.delete(details.requestId); }
    return;
  }
  const blocked = blockedByRules(details);
  if (!inflight.has(details.requestId) && blocked) start(details); // never reported as starting
  finish(details.requestId, blocked ? 'blocked' : 'went');
}, { urls: ['<all_urls>'] });

api.webRequest.onHeadersReceived.addListener(function (details) {
  if (details.tabId < 0) return;
  const values = (details.responseHeaders || [])
    .filter(function (h) { return h.name.toLowerCase() === 'content-security-policy'; })
    .map(function (h) { return h.value; });
  const f = frameState(details.tabId, details.frameId);
  f.csp = values.length ? values.join(', ') : null;
}, { urls: ['<all_urls>'], types: ['main_frame', 'sub_frame'] }, ['responseHeaders']);

api.tabs.onRemoved.addListener(function (tabId) { tabs.delete(tabId); });

// ---- badge ------------------------------------------------------------------------
function setBadge(tabId, count) {
  const text = count > 0 ? String(count > 999 ? '999+' : count) : '';
  api.action.setBadgeText({ tabId: tabId, text: text }).catch(function () { /* tab gone */ });
  if (count > 0) {
    api.action.setBadgeBackgroundColor({ tabId: tabId, color: '#d73333' }).catch(function () { /* tab gone */ });
    api.action.setTitle({ tabId: tabId, title: api.i18n.getMessage('badgeTitle', [String(count)]) }).catch(function () { /* tab gone */ });
  }
}

function tabCount(tabId) {
  const t = tabs.get(tabId);
  if (!t) return 0;
  let n = 0;
  t.frames.forEach(function (f) { if (f.summary && typeof f.summary.count === 'number') n += f.summary.count; });
  return n;
}

// ---- messages from content scripts, the popup and the options page ---------------------
api.runtime.onMessage.addListener(function (msg, sender, reply) {
  if (!msg || typeof msg.type !== 'string') return false;
  const tabId = sender.tab ? sender.tab.id : -1;
  const frameId = typeof sender.frameId === 'number' ? sender.frameId : 0;
  switch (msg.type) {
    case 'frame-ready': {
      if (tabId < 0) return false;
      const f = frameState(tabId, frameId);
      f.ready = true;
      f.absent = false;
      f.remote = !!(msg.data && msg.data.remote);
      const list = f.pending.splice(0);
      networkScope.then(function (scope) { reply({ csp: f.csp, network: list, dnr: dnrActive, networkScope: scope }); });
      return true;
    }
    case 'summary': {
      if (tabId < 0) return false;
      frameState(tabId, frameId).summary = msg.data || null;
      setBadge(tabId, tabCount(tabId));
      return false;
    }
    case 'save-consent':
      serially(function () { return TPR.saveConsent(String(msg.text || ''), true, msg.base); }).then(function () { reply({ ok: true }); },
        function (e) { reply({ error: e.message }); });
      return true;
    case 'replace-consent':
      // The options page's editor: the whole list, validated, replacing what is stored.
      serially(function () { return TPR.saveConsent(String(msg.text || ''), false); }).then(function () { reply({ ok: true }); },
        function (e) { reply({ error: e.message, quota: !!e.quota }); });
      return true;
    case 'set-mode':
      serially(function () { return setMode(msg.mode); }).then(function () { reply({ ok: true }); }, function (e) { reply({ error: e.message }); });
      return true;
    case 'load-scanner':
      // The page world asked for the scanner module (issue 7/7): the file of this package is
      // run in the asking frame's page world. No web-accessible resource, no page request.
      if (tabId < 0) return false;
      api.scripting.executeScript({ target: { tabId: tabId, frameIds: [frameId] }, world: 'MAIN', files: ['scanner.js'] })
        .then(function () { reply({ ok: true }); }, function (e) { reply({ error: String(e && e.message || e) }); });
      return true;
    case 'core-host':
      PLATFORM.ensureCoreHost().then(function () { reply({ ok: true }); }, function (e) { reply({ error: e.message }); });
      return true;
    case 'tab-summary': {
      const t = tabs.get(msg.tabId);
      const frames = [];
      if (t) t.frames.forEach(function (f, id) { frames.push({ frameId: id, summary: f.summary, csp: f.csp, network: f.network, ready: f.ready }); });
      networkScope.then(function (scope) {
        reply({ count: tabCount(msg.tabId), frames: frames, dnr: dnrActive, networkScope: scope });
      });
      return true;
    }
    case 'dnr-state':
      api.declarativeNetRequest.getSessionRules().then(function (rules) { reply({ active: dnrActive, rules: rules }); });
      return true;
    case 'wikis-changed':
      serially(applyWikis).then(function () { reply({ ok: true }); }, function (e) { reply({ error: e.message }); });
      return true;
    default:
      return false;
  }
});

async function setMode(mode) {
  if (mode !== 'audit' && mode !== 'ask' && mode !== 'block') throw new Error('unknown mode ' + mode);
  let text = null;
  try { text = await TPR.storedConsent(); } catch (e) { text = null; }
  const doc = JSON.parse(text == null ? '{"version":1}' : text);
  doc.mode = mode;
  await TPR.saveConsent(JSON.stringify(doc), false);
}

// ---- consent mirror and DNR rules ----------------------------------------------------
async function mirror() {
  let text;
  try {
    text = await TPR.storedConsent();
  } catch (e) {
    return; // another device is still syncing its chunks: wait for the rest
  }
  const got = await api.storage.local.get('consentText');
  if (text != null && got.consentText !== text) await api.storage.local.set({ consentText: text });
}

async function wikiDomains() {
  const w = await TPR.core();
  const s = await TPR.settings();
  const domains = w.wikimediaDomains();
  for (const origin of s.wikis) {
    try { domains.push(new URL(origin).hostname); } catch (e) { /* skip */ }
  }
  return domains;
}

async function applyDnr() {
  const w = await TPR.core();
  const got = await api.storage.local.get('consentText');
  const text = typeof got.consentText === 'string' ? got.consentText : '{"version":1}';
  let rules = [];
  try {
    rules = w.compileDnr(text, await wikiDomains(), 1);
  } catch (e) {
    await TPR.recordError('rules', e.message);
    rules = [];
  }
  const existing = await api.declarativeNetRequest.getSessionRules();
  await api.declarativeNetRequest.updateSessionRules({
    removeRuleIds: existing.map(function (r) { return r.id; }),
    addRules: rules,
  });
  dnrActive = rules.length > 0;
}

async function applyWikis() {
  const s = await TPR.settings();
  const matches = s.wikis.map(TPR.wikiPattern);
  const registered = await api.scripting.getRegisteredContentScripts();
  const same = registered.length === (matches.length ? 2 : 0) && registered.every(function (r) {
    return JSON.stringify((r.matches || []).slice().sort()) === JSON.stringify(matches.slice().sort());
  });
  if (same) { await applyDnr(); return; }
  const ids = registered.map(function (r) { return r.id; });
  if (ids.length) await api.scripting.unregisterContentScripts({ ids: ids });
  if (matches.length) {
    await api.scripting.registerContentScripts([
      { id: 'wiki-isolated', matches: matches, js: ['bridge.js'], runAt: 'document_start', allFrames: true, matchOriginAsFallback: true, world: 'ISOLATED' },
      { id: 'wiki-main', matches: matches, js: ['page.js'], runAt: 'document_start', allFrames: true, matchOriginAsFallback: true, world: 'MAIN' },
    ]);
  }
  await applyDnr();
}

// Storage changes, messages and start-up all change the same browser state (registered
// scripts, session rules): one change at a time.
// A page's save, a mode change and the mirror all read the stored list and write it back:
// run at the same time, one could write over the other's change.
let queue = Promise.resolve();
function serially(fn) {
  const run = queue.then(fn);
  queue = run.catch(function (e) { return TPR.recordError('background', e && e.message); });
  return run; // the caller's to handle (the queue's own branch above keeps it handled)
}

api.storage.onChanged.addListener(function (changes, area) {
  const keys = Object.keys(changes);
  if (area === 'sync' && keys.some(function (k) { return k === 'consent' || k.indexOf('consent.') === 0; })) {
    serially(mirror);
  }
  if (area === 'sync' && changes.settings) serially(applyWikis);
  if (area === 'local' && changes.consentText) serially(applyDnr);
});

// Every start of the background (install, browser start, wake-up): state from storage.
serially(async function () {
  await mirror();
  await applyWikis();
});

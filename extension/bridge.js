/*
 * TPR Auditor extension — isolated-world bridge (issue 5/7 item 2). Runs at document_start
 * in every frame of a wiki page, next to the page-world bundle (page.js, whose prelude is
 * extension/page/prelude.js). It relays, and decides nothing:
 *
 *   page → background   summary (badge), save (consent), set-mode, started, remote-start, obs
 *   background → page   consent (stored text, live), network (webRequest sightings), csp,
 *                       open-panel, events (fallback core), save-result
 *
 * The meeting with the page world (see the prelude's header): the prelude sends `hello` with
 * a private detached node as relatedTarget; this side keeps the node and answers `welcome`
 * with a per-load random secret on it. Both meeting listeners are removed after one use, so a
 * page script (which cannot run before both content scripts) can never take part. Messages
 * are CustomEvents on the node with JSON text `{tag, secret, dir, type, data}`; the target,
 * tag, secret and direction are checked on both sides.
 */
(function tprAuditorBridge() {
  'use strict';
  const TAG = 'tpr-auditor-ext/1';
  const api = chrome; // promise-returning in Manifest V3, in Chromium and Firefox alike

  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  const secret = Array.from(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  let node = null;
  let port = null;
  const early = [];
  const earlyObs = [];

  function toPage(type, data) {
    if (!node) { early.push([type, data]); return; }
    node.dispatchEvent(new CustomEvent(TAG, { detail: JSON.stringify({ tag: TAG, secret: secret, dir: 'down', type: type, data: data }) }));
  }

  function fromPage(e) {
    let msg;
    try {
      if (e.target !== node || typeof e.detail !== 'string') return;
      msg = JSON.parse(e.detail);
    } catch (x) { return; }
    if (!msg || msg.tag !== TAG || msg.dir !== 'up' || msg.secret !== secret) return;
    onPageMessage(msg.type, msg.data);
  }

  function onHello(e) {
    const target = e.relatedTarget;
    if (node || !target || typeof target.dispatchEvent !== 'function') return;
    node = target;
    window.removeEventListener(TAG + ':hello', onHello, true);
    node.addEventListener(TAG, fromPage);
    node.dispatchEvent(new CustomEvent(TAG, { detail: JSON.stringify({ tag: TAG, secret: secret, dir: 'down', type: 'welcome', data: null }) }));
    while (early.length) { const m = early.shift(); toPage(m[0], m[1]); }
  }
  window.addEventListener(TAG + ':hello', onHello, true);
  // If the page world ran first, its hello went unheard: ask it to say it again.
  window.dispatchEvent(new CustomEvent(TAG + ':ping'));

  // ---- consent: the background mirrors the joined storage.sync document into
  // storage.local ("consentText"), which content scripts may read without waking it. ----
  let consentText = null;
  const consentRead = api.storage.local.get('consentText').then(function (got) {
    consentText = typeof got.consentText === 'string' ? got.consentText : null;
    toPage('consent', { text: consentText });
  }, function () { toPage('consent', { text: null }); });
  api.storage.onChanged.addListener(function (changes, area) {
    if (area === 'local' && changes.consentText && typeof changes.consentText.newValue === 'string') {
      consentText = changes.consentText.newValue;
      toPage('consent', { text: changes.consentText.newValue });
      if (port) port.postMessage({ type: 'adopt', text: changes.consentText.newValue });
    }
  });

  // ---- the background ---------------------------------------------------------------
  api.runtime.onMessage.addListener(function (msg) {
    if (!msg || typeof msg.type !== 'string') return undefined;
    if (msg.type === 'network' || msg.type === 'csp' || msg.type === 'open-panel' || msg.type === 'get-summary') {
      toPage(msg.type, msg.data || null);
    }
    return undefined;
  });

  function toBackground(msg) {
    return api.runtime.sendMessage(msg).catch(function () { return null; });
  }

  function onPageMessage(type, data) {
    switch (type) {
      case 'summary':
        toBackground({ type: 'summary', data: data });
        break;
      case 'save':
        toBackground({ type: 'save-consent', text: data && data.text, base: data && data.base }).then(function (r) {
          toPage('save-result', r || { error: 'the extension did not answer' });
        });
        break;
      case 'set-mode':
        toBackground({ type: 'set-mode', mode: data && data.mode }).then(function (r) {
          toPage('save-result', r || { error: 'the extension did not answer' });
        });
        break;
      case 'started':
        toBackground({ type: 'frame-ready', data: data }).then(function (r) {
          if (r && r.csp !== undefined) toPage('csp', { header: r.csp, networkScope: r.networkScope });
          if (r && r.network && r.network.length) toPage('network', { list: r.network });
        });
        break;
      case 'remote-start':
        startRemote(data);
        break;
      case 'load-scanner':
        toBackground({ type: 'load-scanner' }).then(function (r) {
          toPage('scanner-loaded', r || { error: 'the extension did not answer' });
        });
        break;
      case 'obs':
        if (port) port.postMessage({ type: 'obs', list: data.list, values: data.values });
        else earlyObs.push(data);
        break;
      default:
        break;
    }
  }

  // ---- fallback: the core in the extension (offscreen document / background page) -------
  function startRemote(data) {
    Promise.all([consentRead, toBackground({ type: 'core-host' })]).then(function () {
      port = api.runtime.connect({ name: 'tpr-core' });
      port.onMessage.addListener(function (msg) {
        if (msg && msg.type === 'events') toPage('events', msg.data);
      });
      port.postMessage({ type: 'start', url: data.url, nonce: data.nonce, consent: consentText });
      while (earlyObs.length) {
        const d = earlyObs.shift();
        port.postMessage({ type: 'obs', list: d.list, values: d.values });
      }
    });
  }
})();

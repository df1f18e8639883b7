/*
 * TPR Auditor extension — the fallback core host (issue 5/7 item 6). Runs where the
 * extension's own CSP allows WebAssembly ('wasm-unsafe-eval'): Chromium's offscreen document
 * (offscreen.html), Firefox's background page. A wiki page whose CSP forbids WebAssembly
 * cannot run the core, so its page-world part forwards the bootstrap's raw observations here
 * (through the isolated-world bridge, port 'tpr-core'); each port gets a RemoteSession (the
 * same Session the page runtime uses, src/web/extension.rs) and the changed events go back
 * for the page API (report(), tpr-auditor:event). Batch texts for attribution (load.php) are
 * fetched here, from the wiki, without credentials.
 *
 * The panel of such a page (panel.html?tab=ID, port 'tpr-panel') gets everything the page's
 * session got, from the start (kept here per tab and frame) and then live, to replay into its
 * own replica (RemotePanel).
 */
(function tprCoreHost() {
  'use strict';
  const MAX_RAW = 20000;
  const pages = new Map(); // 'tabId:frameId' -> {start, raw: [], values, batches: Map, panels: Set}

  function broadcast(rec, msg) {
    rec.panels.forEach(function (p) { try { p.postMessage(msg); } catch (e) { rec.panels.delete(p); } });
  }

  chrome.runtime.onConnect.addListener(function (port) {
    if (port.name === 'tpr-panel') { panelPort(port); return; }
    if (port.name !== 'tpr-core') return;
    const sender = port.sender || {};
    const key = (sender.tab ? sender.tab.id : -1) + ':' + (typeof sender.frameId === 'number' ? sender.frameId : 0);
    const rec = { start: null, raw: [], values: null, batches: new Map(), panels: new Set() };
    const old = pages.get(key);
    if (old) old.panels.forEach(function (p) { rec.panels.add(p); });
    pages.set(key, rec);
    let session = null;
    let w = null;
    const queue = [];
    let closed = false;

    function send(ids, done) {
      if (closed || !session) return;
      port.postMessage({
        type: 'events',
        data: { events: session.events(Array.from(ids)), summary: session.summary(), mode: session.mode(), done: !!done },
      });
    }

    function fetchBatch(url) {
      fetch(url, { credentials: 'omit' })
        .then(function (r) { return r.ok ? r.text() : null; }, function () { return null; })
        .then(function (text) {
          rec.batches.set(url, text);
          broadcast(rec, { type: 'batch', url: url, text: text });
          if (closed || !session) return;
          let r;
          try { r = session.addBatch(url, text === null ? undefined : text); } catch (e) { return; }
          // Attribution may now wait for a further batch (jQuery's, then the gadget's).
          r.fetch.forEach(fetchBatch);
          send(r.ids, false);
        });
    }

    function handle(msg) {
      if (msg.type === 'start') {
        rec.start = { url: String(msg.url), consent: typeof msg.consent === 'string' ? msg.consent : null, nonce: typeof msg.nonce === 'string' ? msg.nonce : null };
        session = new w.RemoteSession(rec.start.url, rec.start.consent === null ? undefined : rec.start.consent,
          rec.start.nonce === null ? undefined : rec.start.nonce, []);
        broadcast(rec, { type: 'init', start: rec.start, raw: [], values: null, batches: [] });
      } else if (msg.type === 'obs' && session) {
        if (msg.values) { rec.values = msg.values; try { session.setValues(msg.values); } catch (e) { /* odd values: ignored */ } }
        const changed = new Set();
        for (const item of msg.list || []) {
          if (rec.raw.length < MAX_RAW) rec.raw.push(item);
          let r;
          try { r = session.observe(item.obs, item.inline || {}); } catch (e) { continue; }
          r.ids.forEach(function (id) { changed.add(id); });
          r.fetch.forEach(fetchBatch);
        }
        broadcast(rec, { type: 'obs', list: msg.list || [], values: msg.values || null });
        send(changed, true);
      } else if (msg.type === 'adopt' && session && typeof msg.text === 'string') {
        send(session.adopt(msg.text), false);
      }
    }

    port.onMessage.addListener(function (msg) {
      if (!msg || typeof msg.type !== 'string') return;
      if (w) handle(msg); else queue.push(msg);
    });
    port.onDisconnect.addListener(function () {
      closed = true;
      if (session) { session.free(); session = null; }
      // The record stays for a panel opened later, until the frame starts a new session.
    });
    TPR.core().then(function (core) {
      w = core;
      while (queue.length && !closed) handle(queue.shift());
    });
  });

  /** A panel page asks for a page's session: {type: 'subscribe', tabId, frameId}. */
  function panelPort(port) {
    port.onMessage.addListener(function (msg) {
      if (!msg || msg.type !== 'subscribe') return;
      const rec = pages.get(msg.tabId + ':' + (msg.frameId || 0));
      if (!rec) { port.postMessage({ type: 'none' }); return; }
      rec.panels.add(port);
      port.onDisconnect.addListener(function () { rec.panels.delete(port); });
      if (rec.start) {
        port.postMessage({ type: 'init', start: rec.start, raw: rec.raw, values: rec.values, batches: Array.from(rec.batches) });
      }
    });
  }
})();

/*
 * TPR Auditor extension — the fallback core host (issue 5/7 item 6). Runs where the
 * extension's own CSP allows WebAssembly ('wasm-unsafe-eval'): Chromium's offscreen document
 * (offscreen.html), Firefox's background page. A wiki page whose CSP forbids WebAssembly
 * cannot run the core, so its page-world part forwards the bootstrap's raw observations here
 * (through the isolated-world bridge, port 'tpr-core'); each port gets a RemoteSession (the
 * same Session the page runtime uses, src/web/extension.rs) and the changed events go back
 * for the page API (report(), tpr-auditor:event). Batch texts for attribution (load.php) are
 * fetched here, from the wiki, without credentials.
 */
(function tprCoreHost() {
  'use strict';
  chrome.runtime.onConnect.addListener(function (port) {
    if (port.name !== 'tpr-core') return;
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
          if (closed || !session) return;
          send(session.addBatch(url, text === null ? undefined : text), false);
        });
    }

    function handle(msg) {
      if (msg.type === 'start') {
        session = new w.RemoteSession(String(msg.url), typeof msg.consent === 'string' ? msg.consent : undefined,
          typeof msg.nonce === 'string' ? msg.nonce : undefined, []);
      } else if (msg.type === 'obs' && session) {
        if (msg.values) { try { session.setValues(msg.values); } catch (e) { /* odd values: ignored */ } }
        const changed = new Set();
        for (const item of msg.list || []) {
          let r;
          try { r = session.observe(item.obs, item.inline || {}); } catch (e) { continue; }
          r.ids.forEach(function (id) { changed.add(id); });
          r.fetch.forEach(fetchBatch);
        }
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
    });
    TPR.core().then(function (core) {
      w = core;
      while (queue.length && !closed) handle(queue.shift());
    });
  });
})();

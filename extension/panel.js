/*
 * TPR Auditor extension — the panel of a page whose core runs in the extension
 * (panel.html?tab=ID[&frame=N], opened from the popup). The page's CSP forbids WebAssembly, so
 * the core's live panel cannot run in it; here it runs on a replica of the page's session
 * (RemotePanel, src/web/extension.rs), replayed from the core host and then kept live. Its
 * actions save the consent list to the extension's storage, which every tab adopts.
 */
(function tprRemotePanel() {
  'use strict';
  const api = chrome;
  document.querySelectorAll('[data-i18n]').forEach(function (el) {
    const text = api.i18n.getMessage(el.getAttribute('data-i18n'));
    if (text) el.textContent = text;
  });
  const params = new URLSearchParams(location.search);
  const tabId = Number(params.get('tab'));
  const frameId = Number(params.get('frame') || 0);
  let panel = null;
  window.tprRemotePanel = { events: function () { return panel ? panel.eventCount() : 0; } };

  const actions = {
    setMode: function (mode) { api.runtime.sendMessage({ type: 'set-mode', mode: mode }); },
    saveConsent: function (text) {
      TPR.saveConsent(text, false).catch(function (e) { document.getElementById('status').textContent = e.message; });
    },
  };

  function feed(list, values) {
    if (values) { try { panel.setValues(values); } catch (e) { /* odd values */ } }
    for (const item of list) { try { panel.observe(item.obs, item.inline || {}); } catch (e) { /* unreadable */ } }
  }

  Promise.all([TPR.core(), api.storage.local.get('consentText'), PLATFORM_READY()]).then(function (got) {
    const w = got[0];
    const port = api.runtime.connect({ name: 'tpr-panel' });
    port.onMessage.addListener(function (msg) {
      if (msg.type === 'none') { document.getElementById('status').textContent = api.i18n.getMessage('panelNone'); return; }
      if (msg.type === 'init') {
        if (panel) panel.free();
        const consent = typeof got[1].consentText === 'string' ? got[1].consentText : msg.start.consent;
        panel = new w.RemotePanel(msg.start.url, consent === null ? undefined : consent,
          msg.start.nonce === null ? undefined : msg.start.nonce, actions, undefined);
        document.getElementById('page').textContent = msg.start.url;
        feed(msg.raw, msg.values);
        for (const b of msg.batches) panel.addBatch(b[0], b[1] === null ? undefined : b[1]);
      } else if (msg.type === 'obs' && panel) {
        feed(msg.list, msg.values);
      } else if (msg.type === 'batch' && panel) {
        panel.addBatch(msg.url, msg.text === null ? undefined : msg.text);
      }
    });
    port.postMessage({ type: 'subscribe', tabId: tabId, frameId: frameId });
  });

  api.storage.onChanged.addListener(function (changes, area) {
    if (panel && area === 'local' && changes.consentText && typeof changes.consentText.newValue === 'string') {
      panel.adopt(changes.consentText.newValue);
    }
  });

  /** The core host must exist (Chromium: the offscreen document). */
  function PLATFORM_READY() { return api.runtime.sendMessage({ type: 'core-host' }); }
})();

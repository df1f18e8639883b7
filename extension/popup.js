/*
 * TPR Auditor extension — popup (issue 5/7 item 7): the active tab's summary as its frames'
 * auditors reported it to the background, the wiki's own CSP header, and buttons to open the
 * in-page panel and the options page. Text only (textContent).
 */
(function tprPopup() {
  'use strict';
  const api = chrome;
  const $ = function (id) { return document.getElementById(id); };
  const msg = function (name) { return api.i18n.getMessage(name) || name; };
  document.querySelectorAll('[data-i18n]').forEach(function (el) {
    const text = api.i18n.getMessage(el.getAttribute('data-i18n'));
    if (text) el.textContent = text;
  });

  function fact(label, value) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    $('facts').append(dt, dd);
  }

  // The popup of a tab, or ?tab=ID (tests open the popup page in a tab of its own).
  const given = Number(new URLSearchParams(location.search).get('tab'));
  const tabIdPromise = given > 0 ? Promise.resolve(given)
    : api.tabs.query({ active: true, currentWindow: true }).then(function (t) { return t[0] ? t[0].id : -1; });

  let remote = false;
  tabIdPromise.then(function (tabId) {
    $('open-panel').addEventListener('click', function () {
      if (remote) {
        // The page cannot run the panel (no WebAssembly there): the extension's panel page.
        api.tabs.create({ url: api.runtime.getURL('panel.html?tab=' + tabId + '&frame=0') });
      } else {
        api.tabs.sendMessage(tabId, { type: 'open-panel' }, { frameId: 0 }).catch(function () { /* no auditor */ });
      }
      window.close();
    });
    return api.runtime.sendMessage({ type: 'tab-summary', tabId: tabId });
  }).then(function (s) {
    const top = s && s.frames.find(function (f) { return f.frameId === 0; });
    const summary = top && top.summary;
    if (!summary) {
      $('note').textContent = msg('popupNotWiki');
      $('open-panel').disabled = true;
      return;
    }
    $('count').textContent = String(s.count);
    $('count').title = msg('popupThird');
    fact(msg('popupThird'), String(s.count));
    fact(msg('popupMode'), summary.mode || '?');
    let requests = 0;
    let network = 0;
    s.frames.forEach(function (f) { if (f.summary) requests += f.summary.requests; network += f.network; });
    fact(msg('popupRequests'), String(requests));
    fact(msg('popupNetwork'), String(network));
    fact(msg('popupNetworkScope'), msg(s.networkScope === 'all-sites' ? 'popupNetworkAll' : 'popupNetworkWikis'));
    fact(msg('popupCsp'), top.csp || msg('popupCspNone'));
    remote = !!summary.remote;
    if (summary.remote) $('note').textContent = msg('popupRemote');
    if (summary.saveError) $('note').textContent = summary.saveError;
  });
  $('options').addEventListener('click', function () { api.runtime.openOptionsPage(); window.close(); });
})();

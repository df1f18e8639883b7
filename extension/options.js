/*
 * TPR Auditor extension — options page (issue 5/7 item 7): the consent editor (validated by
 * the core's parseConsent, errors with line and column exactly as the panel's import shows
 * them), the mode, the wiki list (a new wiki's host permission is requested at the click),
 * import and export (JSON, CSP, per-gadget declaration, table, by the core's exporter).
 * Every text is set with textContent; nothing is parsed as HTML.
 */
(function tprOptions() {
  'use strict';
  const api = chrome;
  const $ = function (id) { return document.getElementById(id); };
  const msg = function (name, subs) { return api.i18n.getMessage(name, subs) || name; };

  document.querySelectorAll('[data-i18n]').forEach(function (el) {
    const text = api.i18n.getMessage(el.getAttribute('data-i18n'));
    if (text) el.textContent = text;
  });

  function status(el, text, ok) {
    el.textContent = text;
    el.className = ok ? 'ok' : (ok === false ? 'error' : '');
  }

  /** Validates the editor's text; shows every error; returns the errors (empty: valid). */
  async function validate() {
    const w = await TPR.core();
    const list = $('consent-errors');
    list.textContent = '';
    try {
      w.parseConsent($('consent').value);
      return [];
    } catch (e) {
      const errors = Array.isArray(e.errors) ? e.errors : [{ message: e.message, line: 0, column: 0, path: '' }];
      for (const err of errors) {
        const li = document.createElement('li');
        li.textContent = err.message;
        li.dataset.line = String(err.line);
        li.dataset.column = String(err.column);
        list.appendChild(li);
      }
      const first = errors[0];
      if (first && first.line > 0) selectPosition(first.line, first.column);
      return errors;
    }
  }

  function selectPosition(line, column) {
    const text = $('consent').value;
    let offset = 0;
    for (let l = 1; l < line && offset >= 0; l++) offset = text.indexOf('\n', offset) + 1;
    offset = Math.max(0, offset) + Math.max(0, column - 1);
    $('consent').setSelectionRange(offset, offset);
  }

  async function load() {
    const w = await TPR.core();
    let text = null;
    try { text = await TPR.storedConsent(); } catch (e) { status($('consent-status'), e.message, false); }
    const shown = text == null ? w.parseConsent('{"version":1}') : JSON.parse(text);
    $('consent').value = JSON.stringify(shown, null, 2) + '\n';
    $('consent-errors').textContent = '';
    const mode = shown.mode || 'audit';
    document.querySelectorAll('input[name=mode]').forEach(function (r) { r.checked = r.value === mode; });
    await showStorage();
    await showWikis();
    await showNetworkScope();
  }

  async function showStorage() {
    const items = await TPR.syncItems();
    let used = 0;
    for (const k of Object.keys(items)) used += TPR.itemBytes(k, items[k]);
    $('storage').textContent = msg('optionsStorage', [String(used), '102400']);
    const got = await api.storage.local.get('lastError');
    $('last-error').textContent = got.lastError ? msg('optionsLastError', [got.lastError.message]) : '';
  }

  async function save(text) {
    if ((await validate()).length) {
      status($('consent-status'), msg('optionsInvalid', [String($('consent-errors').children.length)]), false);
      return false;
    }
    // Through the background, one change at a time with the pages' saves.
    const res = await api.runtime.sendMessage({ type: 'replace-consent', text: text });
    await showStorage();
    if (res && res.ok) {
      status($('consent-status'), msg('optionsSaved'), true);
      return true;
    }
    status($('consent-status'), res ? res.error : 'the extension did not answer', false);
    return false;
  }

  $('save').addEventListener('click', function () { save($('consent').value); });
  $('revert').addEventListener('click', function () { load(); });
  $('consent').addEventListener('input', function () { status($('consent-status'), '', null); });
  $('import').addEventListener('change', function () {
    const file = $('import').files[0];
    if (!file) return;
    file.text().then(function (text) {
      $('consent').value = text;
      return save(text);
    });
  });
  $('export').addEventListener('click', async function () {
    const w = await TPR.core();
    if ((await validate()).length) return;
    const format = $('export-format').value;
    const core = new w.Core('https://wiki.invalid/', undefined, $('consent').value);
    const text = core.exportConsent(format);
    core.free();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: format === 'json' ? 'application/json' : 'text/plain' }));
    a.download = 'tpr-auditor-consent.' + (format === 'json' ? 'json' : 'txt');
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  });
  document.querySelectorAll('input[name=mode]').forEach(function (r) {
    r.addEventListener('change', function () {
      api.runtime.sendMessage({ type: 'set-mode', mode: r.value }).then(function (res) {
        if (res && res.error) status($('consent-status'), res.error, false); else load();
      });
    });
  });

  // ---- wikis ----
  async function showWikis() {
    const s = await TPR.settings();
    const items = []; // built first, then swapped in: two calls at once must not interleave
    for (const origin of s.wikis) {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = origin;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = msg('optionsRemoveWiki');
      remove.setAttribute('aria-label', msg('optionsRemoveWiki') + ' ' + origin);
      remove.addEventListener('click', async function () {
        const now = await TPR.settings();
        now.wikis = now.wikis.filter(function (x) { return x !== origin; });
        await TPR.saveSettings(now);
        await api.runtime.sendMessage({ type: 'wikis-changed' });
        showWikis();
      });
      li.append(code, ' ', remove);
      if (!(await api.permissions.contains({ origins: [TPR.wikiPattern(origin)] }))) {
        // The browser withdrew the access (its own settings): the auditor cannot run there.
        const note = document.createElement('span');
        note.className = 'error';
        note.textContent = ' ' + msg('optionsWikiNoAccess');
        li.appendChild(note);
      }
      items.push(li);
    }
    $('wikis').replaceChildren(...items);
  }

  $('add-wiki').addEventListener('click', function () {
    const origin = TPR.wikiOrigin($('wiki-url').value);
    if (!origin) { status($('wiki-status'), msg('optionsWikiBad', [$('wiki-url').value]), false); return; }
    // Asked at the click itself (the browser needs the user's gesture), unless the access to
    // all sites covers the wiki already (Chromium would prompt again for the one host).
    const asked = allSites ? Promise.resolve(true) : api.permissions.request({ origins: [TPR.wikiPattern(origin)] });
    asked.then(async function (granted) {
      if (!granted) { status($('wiki-status'), msg('optionsWikiRefused', [origin]), false); return; }
      const s = await TPR.settings();
      if (s.wikis.indexOf(origin) < 0) s.wikis.push(origin);
      await TPR.saveSettings(s);
      await api.runtime.sendMessage({ type: 'wikis-changed' });
      $('wiki-url').value = '';
      status($('wiki-status'), origin, true);
      showWikis();
    }, function (e) { status($('wiki-status'), e.message, false); });
  });

  // ---- network records: the optional access to all sites ----
  const ALL_SITES = ['*://*/*'];
  let allSites = false; // read at load and on every change: the click handlers need it at once
  async function showNetworkScope() {
    const all = await api.permissions.contains({ origins: ALL_SITES });
    allSites = all;
    const el = $('network-scope');
    el.textContent = msg(all ? 'optionsNetworkAll' : 'optionsNetworkWikis');
    el.dataset.scope = all ? 'all-sites' : 'wiki-hosts';
    $('grant-all-sites').disabled = all;
  }
  $('grant-all-sites').addEventListener('click', function () {
    // Asked at the click itself (the browser needs the user's gesture).
    api.permissions.request({ origins: ALL_SITES }).then(function (granted) {
      if (!granted) status($('network-scope'), msg('optionsNetworkRefused'), false);
      else showNetworkScope();
    }, function (e) { status($('network-scope'), e.message, false); });
  });
  // No button gives it back: in Chromium, permissions.remove of all sites also takes away the
  // manifest's own Wikimedia hosts until the extension restarts (and asking again prompts).
  // The browser's settings for the extension withdraw it cleanly; the help text says so.
  function accessChanged() { showNetworkScope(); showWikis(); }
  api.permissions.onAdded.addListener(accessChanged);
  api.permissions.onRemoved.addListener(accessChanged);

  load();
})();

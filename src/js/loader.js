/*
 * TPR Auditor — loader (SPEC §8). Runs inside the bundle's closure, right after the bootstrap
 * (hooks already installed) and wasm-bindgen's no-modules glue (`wasm_bindgen`, local to the
 * bundle, never a page global). It must stay synchronous up to the point where
 * `window.tprAuditor` exists, so that page code can always `await tprAuditor.ready`.
 *
 * Inputs, bound by scripts/bundle.py: `TPR_WASM_DEFLATE_BASE64` (the optimised .wasm,
 * deflate-raw compressed, as base64), `TPR_WASM_SIZE` (its unpacked length), `TPR_VERSION`, and
 * `tprInflateWasm` (src/js/inflate.js, which unpacks it with the browser's DecompressionStream).
 * Options come from the including <script> element's data attributes (gadget, demo) or from
 * `TPR_OPTIONS` set by a packaging's wrapper (extension, tests):
 *   data-packaging / packaging   name reported in report().packaging
 *   consent                      stored consent document (text)
 *   cap                          ring buffer size of the event log
 *   storage                      where consent is kept: auto (default), user-options,
 *                                local-storage, memory (src/web/store.rs)
 *   lang                         the panel's language (default: the wiki's user language)
 *   panel                        false: no badge or panel is mounted (auditing only)
 *   scanner / data-scanner-url   where the lazily loaded scanner module comes from
 *                                (src/web/scanner.rs): {module: NAME} (gadget: a hidden
 *                                gadget, mw.loader.using), {url: URL} (demo: same-origin
 *                                script); the extension's prelude gives {load: function}
 * The extension's prelude (extension/page/prelude.js, bundled with --prelude) defines
 * `TPR_EXTENSION` {store, fallback(api, handle, error), started(api)}: its `store` becomes
 * the consent store (the loader waits for `store.ready`), `fallback` takes over when the core
 * cannot start in the page (status 'remote', `ready` resolves), `started` is told when it did.
 *
 * Failure (no WebAssembly, CSP refusing compilation, a bug) never breaks the page: the hooks
 * keep letting requests through (audit), `tprAuditor.status` becomes 'failed' with `error`,
 * `ready` rejects (handled, so no console noise), and one console warning says why. Except in
 * the extension (which has its own badge), a minimal text note says so on the page too (the
 * panel needs the core): `<div id="tpr-auditor-failed" title="…">` holding a closed shadow
 * root; option `failureNote: false` turns it off.
 *
 * Gadget packaging: the code runs inside a ResourceLoader module (`ext.gadget.tpr-auditor`)
 * that shares `load.php` batches with the gadgets it watches, so no URL prefix names it; the
 * module running this very code is passed as `ownModules` and its frames are never a source.
 */
(function tprAuditorLoader(global, init, inflate, b64, size, version, given, ext) {
  'use strict';
  if (!global || !global.document) return;
  const handle = global[Symbol.for('tpr-auditor.bootstrap')];
  // A same-origin child frame shares its parent's handle: the parent's auditor owns it.
  if (!handle || !handle.isHome(global)) return;
  if (Object.prototype.hasOwnProperty.call(global, 'tprAuditor')) return; // another copy runs

  let resolveReady;
  let rejectReady;
  const ready = new Promise(function (resolve, reject) { resolveReady = resolve; rejectReady = reject; });
  ready.catch(function () { /* reported through status/error and the console */ });
  const api = { version: version, ready: ready, status: 'loading', error: null };
  Object.defineProperty(global, 'tprAuditor', { value: api, enumerable: false, writable: false, configurable: false });

  const script = global.document.currentScript;
  const options = Object.assign({}, given || {});
  if (script && script.dataset) {
    if (script.dataset.packaging && !options.packaging) options.packaging = script.dataset.packaging;
    if (script.dataset.scannerUrl && !options.scanner) options.scanner = { url: script.dataset.scannerUrl };
  }
  if (!options.scanner && ext && typeof ext.loadScanner === 'function') options.scanner = { load: ext.loadScanner };
  const ownPrefixes = [];
  if (script && script.src) ownPrefixes.push(script.src);
  const ownModules = executingOwnModules();

  /** The ResourceLoader module(s) executing this bundle: state 'executing' and a function (or
   *  package) script whose source holds a slice of our own embedded WebAssembly. */
  function executingOwnModules() {
    const found = [];
    try {
      const mw = global.mw;
      const reg = mw && mw.loader && mw.loader.moduleRegistry;
      if (!reg || typeof reg !== 'object') return found;
      const marker = b64.slice(b64.length >> 1, (b64.length >> 1) + 64);
      for (const name in reg) {
        const e = reg[name];
        if (!e || e.state !== 'executing' || !e.script || typeof e.script === 'string') continue;
        const fn = typeof e.script === 'function' ? e.script
          : e.script.files && e.script.files[e.script.main];
        if (typeof fn === 'function' && Function.prototype.toString.call(fn).indexOf(marker) >= 0) found.push(name);
      }
    } catch (e) { /* no mw, or an odd registry: no own module */ }
    return found;
  }

  function failureNote(reason) {
    if (options.failureNote === false || options.packaging === 'extension') return;
    const doc = global.document;
    const show = function () {
      try {
        if (!doc.body || doc.getElementById('tpr-auditor-failed')) return;
        const text = 'TPR Auditor is not running: its WebAssembly core could not start. The page works as usual, unaudited.';
        const host = doc.createElement('div');
        host.id = 'tpr-auditor-failed';
        host.title = text + ' (' + reason + ')';
        host.setAttribute('data-tpr-auditor', 'failed');
        const root = host.attachShadow ? host.attachShadow({ mode: 'closed' }) : host;
        const style = doc.createElement('style');
        style.textContent = ':host{all:initial}' +
          '.note{position:fixed;z-index:2147483000;right:12px;bottom:12px;max-width:22em;display:flex;gap:8px;' +
          'align-items:flex-start;padding:6px 8px;border:1px solid #a66200;border-radius:2px;background:#fdf2d5;' +
          'color:#202122;font:14px/1.4 sans-serif;box-shadow:0 1px 2px rgba(0,0,0,.25)}' +
          'button{all:unset;cursor:pointer;padding:0 4px;font-weight:bold}button:focus-visible{outline:2px solid #36c}' +
          '@media (prefers-color-scheme:dark){.note{background:#453217;color:#eaecf0;border-color:#d3a13b}}';
        const box = doc.createElement('div');
        box.className = 'note';
        box.setAttribute('role', 'status');
        const msg = doc.createElement('span');
        msg.textContent = text;
        const close = doc.createElement('button');
        close.type = 'button';
        close.textContent = '\u00d7';
        close.setAttribute('aria-label', 'Dismiss');
        close.addEventListener('click', function () { host.remove(); });
        box.appendChild(msg);
        box.appendChild(close);
        root.appendChild(style);
        root.appendChild(box);
        doc.body.appendChild(host);
      } catch (x) { /* the note is a courtesy: never an error of the page */ }
    };
    if (doc.body) show();
    else doc.addEventListener('DOMContentLoaded', show, { once: true });
  }

  function fail(e) {
    // The extension (TPR_EXTENSION, extension/page/prelude.js) can run the core in its own
    // context instead, fed with the bootstrap's observations: the page API keeps working.
    if (ext && typeof ext.fallback === 'function') {
      try {
        if (ext.fallback(api, handle, String(e && e.message !== undefined ? e.message : e))) {
          api.status = 'remote';
          resolveReady(api);
          return;
        }
      } catch (x) { /* no fallback after all: fail as usual */ }
    }
    api.status = 'failed';
    api.error = String(e && e.message !== undefined ? e.message : e);
    try { global.console.warn('TPR Auditor could not start its core: ' + api.error); } catch (x) { /* no console */ }
    failureNote(api.error);
    rejectReady(e);
  }

  // The embedded .wasm is deflate-raw compressed (src/js/inflate.js): a browser that cannot
  // inflate it fails here, on the usual path (console warning, note, `ready` rejects).
  inflate(global, b64, size).then(function (bytes) {
    return init({ module_or_path: bytes });
  }).then(function () {
    // The extension's consent store answers load() once storage.sync was read.
    return ext && ext.store && ext.store.ready;
  }).then(function () {
    api.runtime = init.installPage(api, {
      packaging: options.packaging || 'page',
      consent: typeof options.consent === 'string' ? options.consent : undefined,
      cap: typeof options.cap === 'number' ? options.cap : undefined,
      storage: typeof options.storage === 'string' ? options.storage : undefined,
      lang: typeof options.lang === 'string' ? options.lang : undefined,
      panel: options.panel === false ? false : undefined,
      scanner: options.scanner && typeof options.scanner === 'object' ? options.scanner : undefined,
      ownPrefixes: ownPrefixes,
      ownModules: ownModules,
      store: ext && ext.store ? ext.store : undefined,
    });
    api.status = 'running';
    if (ext && typeof ext.started === 'function') ext.started(api);
    resolveReady(api);
  }).catch(fail);
})(typeof window !== 'undefined' ? window : undefined, wasm_bindgen, tprInflateWasm,
  TPR_WASM_DEFLATE_BASE64, TPR_WASM_SIZE, TPR_VERSION,
  typeof TPR_OPTIONS !== 'undefined' ? TPR_OPTIONS : null,
  typeof TPR_EXTENSION !== 'undefined' ? TPR_EXTENSION : null);

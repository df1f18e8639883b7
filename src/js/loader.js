/*
 * TPR Auditor — loader (SPEC §8). Runs inside the bundle's closure, right after the bootstrap
 * (hooks already installed) and wasm-bindgen's no-modules glue (`wasm_bindgen`, local to the
 * bundle, never a page global). It must stay synchronous up to the point where
 * `window.tprAuditor` exists, so that page code can always `await tprAuditor.ready`.
 *
 * Inputs, bound by scripts/bundle.py: `TPR_WASM_BASE64` (the optimised .wasm), `TPR_VERSION`.
 * Options come from the including <script> element's data attributes (gadget, demo) or from
 * `TPR_OPTIONS` set by a packaging's wrapper (extension, tests):
 *   data-packaging / packaging   name reported in report().packaging
 *   consent                      stored consent document (text)
 *   cap                          ring buffer size of the event log
 *   storage                      where consent is kept: auto (default), user-options,
 *                                local-storage, memory (src/web/store.rs)
 *   lang                         the panel's language (default: the wiki's user language)
 *
 * Failure (no WebAssembly, CSP refusing compilation, a bug) never breaks the page: the hooks
 * keep letting requests through (audit), `tprAuditor.status` becomes 'failed' with `error`,
 * `ready` rejects (handled, so no console noise), and one console warning says why.
 */
(function tprAuditorLoader(global, init, b64, version, given) {
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
  }
  const ownPrefixes = [];
  if (script && script.src) ownPrefixes.push(script.src);

  function fail(e) {
    api.status = 'failed';
    api.error = String(e && e.message !== undefined ? e.message : e);
    try { global.console.warn('TPR Auditor could not start its core: ' + api.error); } catch (x) { /* no console */ }
    rejectReady(e);
  }

  let bytes;
  try {
    const bin = global.atob(b64);
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  } catch (e) { fail(e); return; }

  init({ module_or_path: bytes }).then(function () {
    api.runtime = init.installPage(api, {
      packaging: options.packaging || 'page',
      consent: typeof options.consent === 'string' ? options.consent : undefined,
      cap: typeof options.cap === 'number' ? options.cap : undefined,
      storage: typeof options.storage === 'string' ? options.storage : undefined,
      lang: typeof options.lang === 'string' ? options.lang : undefined,
      ownPrefixes: ownPrefixes,
    });
    api.status = 'running';
    resolveReady(api);
  }).catch(fail);
})(typeof window !== 'undefined' ? window : undefined, wasm_bindgen, TPR_WASM_BASE64, TPR_VERSION,
  typeof TPR_OPTIONS !== 'undefined' ? TPR_OPTIONS : null);

/*
 * TPR Auditor — scanner module registration (issue 7/7 items 6 and 11). Runs inside the
 * scanner bundle's closure (scripts/bundle.py --scanner), right after wasm-bindgen's
 * no-modules glue of the scanner module, whose `wasm_bindgen` stays local to the closure: the
 * page module's glue and page globals cannot clash with it.
 *
 * Inputs, bound by scripts/bundle.py: `TPR_SCANNER_WASM_DEFLATE_BASE64` (the optimised .wasm,
 * deflate-raw compressed, as base64), `TPR_SCANNER_WASM_SIZE` (its unpacked length),
 * `TPR_VERSION`, and `tprInflateWasm` (src/js/inflate.js). Registers one frozen object under
 * `window[Symbol.for('tpr-auditor.scanner')]` (non-enumerable, non-writable, non-configurable; a second copy does nothing):
 *   version   the crate version (the page module refuses another)
 *   load()    compiles the module once; a Promise of its `scan(text, options)` function
 * Nothing runs until load() is called (src/web/scanner.rs calls it on the first scan).
 */
(function tprAuditorScanner(global, init, inflate, b64, size, version) {
  'use strict';
  if (!global) return;
  const key = Symbol.for('tpr-auditor.scanner');
  if (Object.prototype.hasOwnProperty.call(global, key)) return;
  let started = null;
  function load() {
    if (!started) {
      started = Promise.resolve().then(function () {
        return inflate(global, b64, size);
      }).then(function (bytes) {
        return init({ module_or_path: bytes });
      }).then(function () { return init.scan; });
      started.catch(function () { started = null; });
    }
    return started;
  }
  Object.defineProperty(global, key, {
    value: Object.freeze({ version: version, load: load }),
    enumerable: false, writable: false, configurable: false,
  });
})(typeof window !== 'undefined' ? window : undefined, wasm_bindgen, tprInflateWasm,
  TPR_SCANNER_WASM_DEFLATE_BASE64, TPR_SCANNER_WASM_SIZE, TPR_VERSION);

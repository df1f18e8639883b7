/*
 * TPR Auditor — unpacking of the embedded WebAssembly (issue 8 item 9). scripts/bundle.py
 * places this function inside both bundles' closures (page bundle: before the loader; scanner
 * bundle: before src/js/scanner.js). The .wasm is embedded as base64 of its deflate-raw
 * compression (RFC 1951): base64 of the plain .wasm gzips badly (the 1.05 MB page module was
 * 588 KB of gzip transfer as base64, 452 KB as base64 of deflate-raw), so the bytes are
 * deflated once at build time and inflated here by the browser's own DecompressionStream
 * (Chromium ≥ 103, Firefox ≥ 113, Safari ≥ 16.4): no inflater of our own to ship.
 *
 * tprInflateWasm(global, b64, size) → Promise<Uint8Array>: the .wasm's bytes. Rejects (never
 * throws) when the browser has no DecompressionStream or no 'deflate-raw' format, when the
 * data is corrupt, or when the result is not `size` bytes long: callers take their usual
 * "cannot start" path. ES2017, no async functions (MediaWiki's validator).
 */
function tprInflateWasm(global, b64, size) {
  'use strict';
  return new Promise(function (resolve) {
    const Decompress = global.DecompressionStream;
    if (typeof Decompress !== 'function') {
      throw new Error('this browser has no DecompressionStream to unpack the WebAssembly (Chromium 103, Firefox 113, Safari 16.4 or newer needed)');
    }
    const bin = global.atob(b64);
    const packed = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) packed[i] = bin.charCodeAt(i);
    const stream = new Decompress('deflate-raw');
    const writer = stream.writable.getWriter();
    // Errors surface through the reader below; these two promises must not go unhandled.
    writer.write(packed).catch(function () { /* reported by read() */ });
    writer.close().catch(function () { /* reported by read() */ });
    const reader = stream.readable.getReader();
    const out = new Uint8Array(size);
    let length = 0;
    function pump() {
      return reader.read().then(function (step) {
        if (step.done) {
          if (length !== size) throw new Error('the embedded WebAssembly unpacked to ' + length + ' bytes, not ' + size);
          return out;
        }
        const chunk = step.value;
        if (length + chunk.length > size) throw new Error('the embedded WebAssembly unpacks to more than ' + size + ' bytes');
        out.set(chunk, length);
        length += chunk.length;
        return pump();
      });
    }
    resolve(pump());
  });
}

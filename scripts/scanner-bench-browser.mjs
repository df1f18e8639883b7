#!/usr/bin/env node
// Browser benchmark of the scanner (issue 7/7 item 11): the WebAssembly scan() against an
// acorn + acorn-walk scan of the same 1 MB mixed corpus, in the same Chromium run.
//
// usage: CHROMIUM=/usr/bin/chromium node scripts/scanner-bench-browser.mjs PKG_DIR WASM ACORN_DIR
//   PKG_DIR  wasm-pack --target no-modules output that exports scan(): pkg-scanner/ (the
//            lazily loaded scanner module scripts/build.sh makes, feature `scan-module`)
//   WASM     the (wasm-opt -Oz) module to use, e.g. pkg-scanner/tpr_auditor_scanner_bg.wasm
//   ACORN_DIR a node_modules directory holding acorn and acorn-walk (npm install acorn acorn-walk)
// The acorn scan does the same job in its simplest form: parse (ES2024, locations), walk
// calls, `new` and assignments, match the loading APIs by name, take string-literal and
// concatenated-literal URLs and classify their origins with `new URL`.
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require(join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", "playwright-core"));
const [pkg, wasmFile, acornDir] = process.argv.slice(2);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fixtures = join(root, "tests/fixtures/scanner");

let corpus = "";
const files = readdirSync(fixtures).filter((f) => f.endsWith(".js") && f !== "syntax-error.js" && f !== "es-module.js").sort();
while (corpus.length < 1024 * 1024) {
  for (const f of files) corpus += "{\n" + readFileSync(join(fixtures, f), "utf8") + "\n}\n";
}

// The wasm-bindgen glue: the one `tpr_auditor*.js` of the package.
const glueFile = readdirSync(pkg).find((f) => /^tpr_auditor[a-z_]*\.js$/.test(f));
const glue = readFileSync(join(pkg, glueFile), "utf8");
const wasm = readFileSync(wasmFile).toString("base64");
const acorn = readFileSync(join(acornDir, "acorn/dist/acorn.js"), "utf8");
const walk = readFileSync(join(acornDir, "acorn-walk/dist/walk.js"), "utf8");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
});
const page = await browser.newPage();
await page.setContent("<!doctype html><title>bench</title>");
const result = await page.evaluate(async ({ glue, wasm, acornSrc, walkSrc, corpus }) => {
  (0, eval)(glue + "\n;window.__wb = wasm_bindgen;");
  (0, eval)("var module = undefined, exports = undefined, define = undefined;" + acornSrc);
  (0, eval)(walkSrc);
  const bytes = Uint8Array.from(atob(wasm), (c) => c.charCodeAt(0));
  await window.__wb({ module_or_path: bytes });
  const scan = window.__wb.scan;
  const APIS = new Set(["mw.loader.load", "mw.loader.getScript", "importScriptURI", "importStylesheetURI", "importScript",
    "$.getScript", "$.ajax", "$.get", "$.post", "$.getJSON", "jQuery.getScript", "jQuery.ajax", "fetch",
    "navigator.sendBeacon", "window.open", "eval", "document.write"]);
  const NEWS = new Set(["WebSocket", "EventSource", "Worker", "Image", "Audio", "mw.ForeignApi", "mw.ForeignRest", "mw.Api", "Function"]);
  const name = (n) => n.type === "Identifier" ? n.name : n.type === "MemberExpression" && !n.computed ? (name(n.object) + "." + n.property.name) : "?";
  const str = (n) => n && n.type === "Literal" && typeof n.value === "string" ? n.value
    : n && n.type === "BinaryExpression" && n.operator === "+" ? (str(n.left) ?? null) : n && n.type === "TemplateLiteral" ? n.quasis[0].value.cooked : null;
  const origin = (u) => { try { return new URL(u, "https://en.wikipedia.org/wiki/X").origin; } catch { return "dynamic"; } };
  function acornScan(text) {
    const ast = window.acorn.parse(text, { ecmaVersion: 2024, sourceType: "script", locations: true, allowReturnOutsideFunction: true });
    const out = [];
    window.acorn.walk.simple(ast, {
      CallExpression(n) { const c = name(n.callee); if (APIS.has(c)) out.push([c, origin(str(n.arguments[0]) ?? ""), n.loc.start.line]); },
      NewExpression(n) { const c = name(n.callee); if (NEWS.has(c)) out.push([c, origin(str(n.arguments[0]) ?? ""), n.loc.start.line]); },
      AssignmentExpression(n) { if (n.left.type === "MemberExpression" && ["src", "href", "innerHTML"].includes(n.left.property.name)) out.push(["assign", origin(str(n.right) ?? ""), n.loc.start.line]); },
    });
    return out;
  }
  const time = (f) => { const t = performance.now(); const r = f(); return [performance.now() - t, r]; };
  const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  const w = [], a = [];
  let wf = 0, af = 0;
  // 12 rounds, the first 4 not counted: V8 compiles large WebAssembly functions with its
  // optimising tier in the background, and a round that starts before that is done measures
  // the baseline tier (the JS side warms up the same way).
  for (let i = 0; i < 12; i++) {
    const [tw, rw] = time(() => scan(corpus, { lang: "js" }));
    const [ta, ra] = time(() => acornScan(corpus));
    if (i >= 4) { w.push(tw); a.push(ta); }
    wf = rw.findings.length + rw.navigations.length; af = ra.length;
  }
  return { bytes: corpus.length, wasmMs: median(w), acornMs: median(a), wasmFindings: wf, acornFindings: af };
}, { glue, wasm, acornSrc: acorn, walkSrc: walk, corpus });
await browser.close();
const mb = result.bytes / 1e6;
console.log(`corpus ${result.bytes} bytes`);
console.log(`wasm scan():   ${result.wasmMs.toFixed(1)} ms  ${(mb / result.wasmMs * 1000).toFixed(1)} MB/s  (${result.wasmFindings} findings)`);
console.log(`acorn + walk:  ${result.acornMs.toFixed(1)} ms  ${(mb / result.acornMs * 1000).toFixed(1)} MB/s  (${result.acornFindings} findings)`);
console.log(`ratio acorn/wasm time: ${(result.acornMs / result.wasmMs).toFixed(2)} (above 1: the wasm scanner is faster)`);

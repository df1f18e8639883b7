#!/usr/bin/env node
// Loads a wasm-pack `--target no-modules` package the way a classic <script> would
// (a global `wasm_bindgen`), initialises it with explicitly passed bytes and lists
// the exports. Catches a wasm-opt that corrupts wasm-bindgen output (the failure
// seen with Debian's binaryen 108 is a TypeError at init), without a browser.
//
// usage: node scripts/wasm-smoke.js pkg/tpr_auditor.js pkg/tpr_auditor_bg.wasm
"use strict";
const fs = require("fs");
const vm = require("vm");

async function main() {
  const [jsPath, wasmPath] = process.argv.slice(2);
  if (!jsPath || !wasmPath) throw new Error("usage: wasm-smoke.js <glue.js> <module.wasm>");
  const bytes = fs.readFileSync(wasmPath);
  if (!WebAssembly.validate(bytes)) throw new Error(`${wasmPath} does not validate`);
  const glue = fs.readFileSync(jsPath, "utf8");
  vm.runInThisContext(`${glue}\n;globalThis.__smoke_wasm_bindgen = wasm_bindgen;`, { filename: jsPath });
  const wb = globalThis.__smoke_wasm_bindgen;
  if (typeof wb !== "function") throw new Error("glue did not define a global wasm_bindgen() (not --target no-modules?)");
  await wb({ module_or_path: bytes });
  const exports = Object.keys(wb).filter((k) => k !== "initSync");
  console.log(`wasm smoke: initialised OK, ${exports.length} export(s): ${exports.join(", ")}`);
  // The scanner module (feature `scan-module`): one scan must find its destination.
  if (typeof wb.scan === "function") {
    const r = wb.scan("fetch('https://smoke.example/x')", { lang: "js" });
    if (!r || !r.findings || r.findings.length !== 1 || r.findings[0].destination !== "https://smoke.example") {
      throw new Error(`scan() answered ${JSON.stringify(r)}`);
    }
    console.log("wasm smoke: scan() found https://smoke.example");
  }
}

main().catch((e) => {
  console.error(`wasm smoke: FAILED: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});

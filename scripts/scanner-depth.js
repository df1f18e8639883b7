#!/usr/bin/env node
// Stack check of the scanner in WebAssembly (issue 7/7 item 7): scans one generated input of a
// given nesting kind and depth in a fresh module instance.
//   exit 0: scanned; 2: refused as too deep (the pre-check); 1: anything else (a trap).
// usage: node scripts/scanner-depth.js PKG_DIR WASM_FILE KIND N
// Build PKG_DIR with `wasm-pack build --target no-modules --release -- --features web-scan`
// (and wasm-opt -Oz); `scripts/scanner-depth.js --sweep PKG_DIR WASM_FILE` tries every kind at
// depths up to 24000 and fails on any trap.
"use strict";
const fs = require("fs"); const vm = require("vm");
const [dir, wasm, kind, nstr] = process.argv.slice(2); const n = +nstr;
const r = (s, k) => s.repeat(k);
const kinds = {
  paren: n => `x=${r("(", n)}a${r(")", n)};`, array: n => `x=${r("[", n)}a${r("]", n)};`,
  block: n => `${r("{", n)}${r("}", n)}`, object: n => `x=${r("{a:", n)}1${r("}", n)};`,
  bang: n => `x=${r("!", n)}a;`, assign: n => `${r("a=", n)}a;`, cond: n => `x=${r("a?b:", n)}a;`,
  arrow: n => `x=${r("a=>", n)}a;`, if: n => `${r("if(a)", n)}a;`, elseif: n => `if(a)b;${r("else if(a)b;", n)}`,
  call: n => `x=f${r("()", n)};`, member: n => `x=a${r(".b", n)};`, plus: n => `x=a${r("+a", n)};`,
  new: n => `x=${r("new ", n)}a;`, fn: n => `${r("function f(){", n)}${r("}", n)}`,
  fnexpr: n => `x=${r("f(function(){return ", n)}fetch('https://d.example/')${r("})", n)};`,
  tpl: n => `x=${r("`${", n)}${r("}`", n)};`, typeof: n => `x=${r("typeof ", n)}a;`,
  callarg: n => `x=${r("f(", n)}a${r(")", n)};`, index: n => `x=a${r("[0]", n)};`,
  chain: n => `$('<img>')${r(".attr('src','https://x.example/')", n)};`,
  label: n => Array.from({length:n},(_, i)=>`l${i}:`).join("") + "a;",
  seqparen: n => `x=${r("(a,", n)}a${r(")", n)};`,
};
if (process.argv[2] === "--sweep") {
  const { spawnSync } = require("child_process");
  const [, , , pkg, file] = process.argv;
  let traps = 0;
  for (const k of Object.keys(kinds)) {
    for (const depth of [100, 200, 400, 800, 1500, 3000, 6000, 12000, 24000]) {
      const rc = spawnSync(process.execPath, [__filename, pkg, file, k, String(depth)]).status;
      if (rc === 1) { console.log(`TRAP ${k} ${depth}`); traps++; }
    }
  }
  console.log(traps ? `${traps} trap(s)` : "no traps");
  process.exit(traps ? 1 : 0);
}
(async () => {
  vm.runInThisContext(`${fs.readFileSync(`${dir}/tpr_auditor.js`, "utf8")}\n;globalThis.__wb = wasm_bindgen;`);
  const wb = globalThis.__wb; await wb({ module_or_path: fs.readFileSync(wasm) });
  try { wb.scan(kinds[kind](n), { lang: "js" }); process.exit(0); }
  catch (e) { if (/nesting too deep/.test(e.message)) process.exit(2); console.error(String(e).slice(0,80)); process.exit(1); }
})();

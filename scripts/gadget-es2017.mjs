#!/usr/bin/env node
// Makes a classic script valid ES2017 and proves it with a standard parser (acorn, pinned in
// package.json), for MediaWiki's gadget validation (current MediaWiki parses gadget JavaScript
// as ES2017 and replaces an invalid page with an error stub; SPEC §10, issue 8 item 1).
//
//   node scripts/gadget-es2017.mjs IN OUT [--no-compact]
//
// 1. Lowers the few post-ES2017 constructs generated code may contain (wasm-bindgen's glue
//    uses optional chaining), one at a time, re-parsing after each rewrite:
//      A?.rest          ->  ((v) => v == null ? void 0 : v.rest)(A)     (member and plain call)
//      A ?? B           ->  ((v) => v != null ? v : (B))(A)
//      catch { ... }    ->  catch (v) { ... }
//    Arrow functions keep `this` and `arguments`; a rewrite whose moved part contains
//    `await`/`yield`, or an optional *method* call (`o.m?.()`, which needs `this`), is refused.
// 2. Compacts it (the gadget page has a 1.5 MiB budget): comments are removed (except `/*!`
//    notices; a removed comment that spanned lines leaves a newline, so automatic semicolon
//    insertion is unchanged) and so is the indentation at the start of each line, except
//    where the line starts inside a string or template literal. Both are found from acorn's
//    own tokens, never by pattern matching on the text. --no-compact skips this step.
// 3. Parses the result with acorn at ecmaVersion 2017, sourceType "script" (so `import`,
//    `export` and `import.meta` fail too). Any error fails with its line and column.
// Prints one line: bytes, rewrites, verdict. Exit status 1 on failure (OUT is not written).
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const acorn = require('acorn');
const ACORN_VERSION = require('acorn/package.json').version;

const [inFile, outFile, flag] = process.argv.slice(2);
const COMPACT = flag !== '--no-compact';
if (!inFile || !outFile) {
  console.error('usage: gadget-es2017.mjs IN OUT');
  process.exit(2);
}

let src = fs.readFileSync(inFile, 'utf8');
let param = '__tprEs2017';
while (src.includes(param)) param += '_';

function fail(msg) {
  console.error(`es2017: ERROR: ${msg}`);
  process.exit(1);
}

function where(text, pos) {
  const loc = acorn.getLineInfo(text, pos);
  return `${loc.line}:${loc.column + 1}`;
}

/** Depth-first walk calling visit(node, parent); stops early when visit returns true. */
function walk(node, visit, parent = null) {
  if (visit(node, parent) === true) return true;
  for (const key of Object.keys(node)) {
    if (key === 'type' || key === 'start' || key === 'end') continue;
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === 'string' && walk(c, visit, node)) return true;
    } else if (v && typeof v.type === 'string') {
      if (walk(v, visit, node)) return true;
    }
  }
  return false;
}

function containsSuspend(node, skip) {
  return walk(node, (n) => {
    if (n === skip) return false;
    if (n.type === 'AwaitExpression' || n.type === 'YieldExpression') return true;
    // A nested function has its own await/yield context.
    return undefined;
  });
}

/** One rewrite: returns {start, end, text} or null when nothing is left to lower. */
function nextRewrite(ast) {
  const statementStarts = new Set();
  let found = null;
  walk(ast, (n) => {
    if (n.type === 'ExpressionStatement') statementStarts.add(n.start);
    if (found) return true;
    if (n.type === 'ChainExpression') {
      found = lowerChain(n);
      return true;
    }
    if (n.type === 'LogicalExpression' && n.operator === '??') {
      if (containsSuspend(n.right)) fail(`'??' with await/yield on its right at ${where(src, n.start)}`);
      found = {
        start: n.start, end: n.end,
        text: `((${param}) => ${param} != null ? ${param} : (${src.slice(n.right.start, n.right.end)}))`
          + `(${src.slice(n.left.start, n.left.end)})`,
      };
      return true;
    }
    if (n.type === 'CatchClause' && !n.param) {
      const brace = src.lastIndexOf('{', n.body.start);
      found = { start: brace, end: brace, text: `(${param}) ` };
      return true;
    }
    return undefined;
  });
  if (found && statementStarts.has(found.start) && found.text.startsWith('(')) {
    found.text = ';' + found.text; // a statement starting with '(' must not continue the previous line
  }
  return found;
}

/** `expr` is a ChainExpression: lower its innermost optional link. */
function lowerChain(chain) {
  // Walk down object/callee links; the deepest link marked optional is evaluated first.
  let deepest = null;
  for (let n = chain.expression; n && (n.type === 'MemberExpression' || n.type === 'CallExpression');
    n = n.type === 'MemberExpression' ? n.object : n.callee) {
    if (n.optional) deepest = n;
  }
  if (!deepest) fail(`chain without an optional link at ${where(src, chain.start)}`);
  const base = deepest.type === 'MemberExpression' ? deepest.object : deepest.callee;
  if (deepest.type === 'CallExpression' && (base.type === 'MemberExpression' || base.type === 'ChainExpression')) {
    fail(`optional method call (needs 'this') at ${where(src, deepest.start)}: not supported`);
  }
  // The `?.` token right after the base (whitespace and comments allowed before it).
  const after = src.slice(base.end, chain.end);
  const m = /^(\s|\/\*[\s\S]*?\*\/|\/\/[^\n]*\n)*\?\./.exec(after);
  if (!m) fail(`cannot find '?.' after ${where(src, base.end)}`);
  let rest = after.slice(m[0].length);
  // `?.name` keeps a dot; `?.[x]` and `?.(args)` lose it.
  if (!/^\s*[[(]/.test(rest)) rest = '.' + rest;
  if (containsSuspend(chain.expression, base)) {
    fail(`optional chain with await/yield at ${where(src, chain.start)}: not supported`);
  }
  return {
    start: chain.start, end: chain.end,
    text: `((${param}) => ${param} == null ? void 0 : ${param}${rest})(${src.slice(base.start, base.end)})`,
  };
}

const rewrites = [];
for (let i = 0; ; i++) {
  if (i > 1000) fail('more than 1000 rewrites: giving up');
  let ast;
  try {
    ast = acorn.parse(src, { ecmaVersion: 'latest', sourceType: 'script' });
  } catch (e) {
    fail(`${inFile} does not parse at all (${e.message})`);
  }
  const r = nextRewrite(ast);
  if (!r) break;
  rewrites.push(`${where(src, r.start)} ${JSON.stringify(src.slice(r.start, Math.min(r.end, r.start + 60)))}`);
  src = src.slice(0, r.start) + r.text + src.slice(r.end);
}

/** Comments and leading indentation removed (see the header), using acorn's tokens. */
function compact(text) {
  const cuts = []; // [start, end, replacement]
  const literals = []; // [start, end) of string and template tokens
  const tokens = acorn.tokenizer(text, {
    ecmaVersion: 'latest',
    onComment(block, body, start, end) {
      if (block && body.startsWith('!')) return;
      cuts.push([start, end, block && body.includes('\n') ? '\n' : '']);
    },
  });
  for (const t of tokens) {
    if (t.type === acorn.tokTypes.string || t.type === acorn.tokTypes.template) literals.push([t.start, t.end]);
  }
  literals.sort((a, b) => a[0] - b[0]);
  // Template tokens exclude the backticks and `${`: widen each template run to be safe.
  const inLiteral = (pos) => {
    let lo = 0, hi = literals.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (literals[mid][1] < pos) lo = mid + 1;
      else if (literals[mid][0] > pos) hi = mid - 1;
      else return true;
    }
    return false;
  };
  const indent = /\n([ \t]+)/g;
  for (let m; (m = indent.exec(text));) {
    const start = m.index + 1;
    if (!inLiteral(start) && !inLiteral(m.index)) cuts.push([start, start + m[1].length, '']);
  }
  cuts.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [start, end, rep] of cuts) {
    if (start < at) continue; // indentation inside a removed comment
    out += text.slice(at, start) + rep;
    at = end;
  }
  return out + text.slice(at);
}

let before = Buffer.byteLength(src);
if (COMPACT) src = compact(src);

try {
  acorn.parse(src, { ecmaVersion: 2017, sourceType: 'script' });
} catch (e) {
  const pos = e.pos ?? 0;
  fail(`not valid ES2017 (acorn ${ACORN_VERSION}): ${e.message}: ${JSON.stringify(src.slice(Math.max(0, pos - 60), pos + 30))}`);
}

fs.writeFileSync(outFile, src);
for (const r of rewrites) console.log(`es2017: lowered ${r}`);
if (COMPACT) console.log(`es2017: compacted ${before} -> ${Buffer.byteLength(src)} bytes (comments, indentation)`);
console.log(`es2017: ${outFile}: ${Buffer.byteLength(src)} bytes, ${rewrites.length} rewrite(s), `
  + `valid ES2017 classic script (acorn ${ACORN_VERSION}, ecmaVersion 2017, sourceType script)`);

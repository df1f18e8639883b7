#!/usr/bin/env node
// End-to-end test of `tprAuditor.scan` (issue 7/7 items 6 and 11) on the demo page (www/,
// scripts/demo-server.py) in headless Debian Chromium.
//
//   node tests/e2e/scan-demo.mjs      (after scripts/build.sh: dist/tpr-auditor.js and
//                                      dist/tpr-auditor-scanner.js)
//
// Checks (each printed; ends with "N passed, N failed", exit 1 on failure):
//   1. before the first scan the scanner module is not loaded (no request for it, no
//      registration under Symbol.for('tpr-auditor.scanner'));
//   2. tprAuditor.scan(text, {lang, name}) resolves to the report of a small script: the
//      expected destinations, channels, directives, parties, carried data, a dynamic one, a
//      navigation kept apart; CSS too;
//   3. bad input rejects with an Error (not a string, unknown language, bad options);
//   4. loading made exactly one request, for the same-origin /tpr-auditor-scanner.js, and it
//      left no global name (`wasm_bindgen` stays inside the bundles' closures);
//   5. a second scan makes no further request.
// env: CHROMIUM (default /usr/bin/chromium)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadPlaywright, chromiumArgs } from '../mediawiki/lib/harness.mjs';
import { startServer, stopServer } from './lib/demo-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM || process.env.TPR_CHROMIUM || '/usr/bin/chromium';

const results = [];
function check(name, ok, detail = '') {
  results.push(!!ok);
  console.log(`${ok ? 'ok    ' : 'FAIL  '} ${name}${!ok && detail ? `\n         ${String(detail).replace(/\n/g, '\n         ')}` : ''}`);
}

const watchdog = setTimeout(() => { console.log('FAIL  watchdog: 90 s'); process.exit(1); }, 90000);
watchdog.unref();


const SCRIPT = `
var API = 'https://tool.toolforge.org/api';
mw.loader.load('https://cdn.example.com/lib.js');
fetch(API + '?user=' + mw.config.get('wgUserName'));
$.getJSON('/w/api.php?action=query');
new Image().src = 'https://' + window.someHost + '/pixel.gif';
window.open('https://help.example.org/');   // navigation, not a load
// fetch('https://in-a-comment.example/')
`;

let server = null;
let context = null;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tpr-scan-demo-'));
try {
  for (const f of ['tpr-auditor.js', 'tpr-auditor-scanner.js']) {
    if (!fs.existsSync(path.join(ROOT, 'dist', f))) throw new Error(`dist/${f} missing: run scripts/build.sh`);
  }
  server = await startServer();
  const { cfg } = server;
  const { chromium } = await loadPlaywright();
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: chromiumArgs({ hostResolverRules: cfg.hostResolverRules }, ['--disable-gpu']),
  });
  const page = await context.newPage();
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  await page.goto(cfg.pageUrl, { waitUntil: 'load' });
  await page.evaluate(() => window.tprAuditor.ready);
  // The demo's own gadgets keep making requests after `load` (a worker, late fetches): wait
  // for them, so the requests counted below are the scanner's alone.
  await page.waitForFunction(() => window.demoDone && Object.keys(window.demoDone).length >= 7
    && Object.values(window.demoDone).every(Boolean), null, { timeout: 20000 }).catch(() => {});
  await page.evaluate(() => window.tprAuditor.settled());
  const origin = new URL(cfg.pageUrl).origin;

  // 1. nothing loaded yet
  const before = await page.evaluate(() => ({
    registered: Object.prototype.hasOwnProperty.call(window, Symbol.for('tpr-auditor.scanner')),
    scanType: typeof window.tprAuditor.scan,
  }));
  check('tprAuditor.scan is a function', before.scanType === 'function', before.scanType);
  check('the scanner is not loaded before the first scan', !before.registered
    && !requests.some((u) => u.includes('tpr-auditor-scanner')), JSON.stringify(before));
  const n0 = requests.length;

  // 2. a small script
  const report = await page.evaluate((text) => window.tprAuditor.scan(text, { lang: 'js', name: 'Gadget-test.js' }), SCRIPT);
  const dests = report.findings.map((f) => `${f.channel} ${f.directive} ${f.destination} ${f.party || '-'} ${f.confidence}`);
  const want = [
    'script script-src https://cdn.example.com third certain',
    'fetch connect-src https://tool.toolforge.org cloud certain',
    `xhr connect-src ${origin} first certain`,
    'img img-src dynamic - dynamic',
  ];
  check('the findings are the script\'s four destinations, in order', JSON.stringify(dests) === JSON.stringify(want),
    `got ${JSON.stringify(dests, null, 1)}`);
  const tool = report.findings.find((f) => f.destination === 'https://tool.toolforge.org');
  check('the Toolforge fetch carries the user name and names its tool', tool && tool.tool === 'tool'
    && (tool.carries || []).includes('user'), JSON.stringify(tool));
  check('window.open is a navigation, not a load', report.navigations.length === 1
    && report.navigations[0].destination === 'https://help.example.org', JSON.stringify(report.navigations));
  check('the report names the script', report.name === 'Gadget-test.js', report.name);
  const css = await page.evaluate(() => window.tprAuditor.scan('@import url(https://fonts.example/a.css); .x{background:url(/img/b.png)}', { lang: 'css' }));
  check('CSS: @import and url() found', css.findings.map((f) => f.channel).join(',') === 'css-import,css-url',
    JSON.stringify(css.findings.map((f) => [f.channel, f.destination])));

  // 3. bad input rejects with an Error
  const bad = await page.evaluate(async () => {
    const out = [];
    for (const [text, opts] of [[42, undefined], ['x', { lang: 'cobol' }], ['x', 'js'], ['x', { name: 7 }]]) {
      try { await window.tprAuditor.scan(text, opts); out.push('resolved'); } catch (e) {
        out.push(`${e instanceof Error ? 'Error' : typeof e}: ${e && e.message}`);
      }
    }
    return out;
  });
  check('bad input rejects with an Error (non-string text, unknown lang, bad options)',
    bad.length === 4 && bad.every((b) => b.startsWith('Error: ')), JSON.stringify(bad, null, 1));

  // 4. exactly one request, same origin, and no global
  const loads = requests.slice(n0);
  check('loading made one request: the same-origin scanner script', loads.length === 1
    && loads[0] === `${origin}/tpr-auditor-scanner.js`, JSON.stringify(loads));
  const globals = await page.evaluate(() => ({ wb: typeof window.wasm_bindgen,
    registered: Object.prototype.hasOwnProperty.call(window, Symbol.for('tpr-auditor.scanner')) }));
  check('no global wasm_bindgen; the scanner registered under its symbol', globals.wb === 'undefined' && globals.registered,
    JSON.stringify(globals));

  // 5. again: no request
  const n1 = requests.length;
  await page.evaluate(() => window.tprAuditor.scan('fetch("https://again.example/")'));
  check('a second scan makes no request', requests.length === n1, JSON.stringify(requests.slice(n1)));
} catch (e) {
  check('test ran', false, e && e.stack ? e.stack : String(e));
} finally {
  if (context) await context.close().catch(() => {});
  if (server) stopServer(server.proc);
  fs.rmSync(profile, { recursive: true, force: true });
}
const passed = results.filter(Boolean).length;
console.log(`\n${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);

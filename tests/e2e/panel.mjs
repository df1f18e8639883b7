#!/usr/bin/env node
// End-to-end test of the live panel (SPEC §9, issue 3/7) in headless Debian Chromium.
//
//   node tests/e2e/panel.mjs          (after scripts/build.sh, which makes dist/tpr-auditor.js)
//
// A tiny node server on 127.0.0.1 serves a wiki-like page with two "gadgets" (a ResourceLoader
// debug URL and a user script whose title holds markup and an RTL override) and answers
// everything else with 204; Chromium maps every host name to it (--host-resolver-rules), so
// nothing leaves the machine. dist/tpr-auditor.js is injected with addInitScript, after a test
// driver that keeps a reference to the closed shadow root (the page itself gets none) and a
// MutationObserver that records every element the page's document gains.
//
// Checks (each printed; ends with "N passed, N failed", exit 1 on failure):
//   1. mount: the host element exists, its shadow root is closed (host.shadowRoot is null),
//      the badge count equals report().summary.unconsented + blocked, its tier mark is a glyph;
//   2. 10,000+ events: the badge still equals the report; the log lists exactly the events of
//      report() (count line, and sampled rows at several scroll positions are the right
//      events, newest first) while only a bounded number of row elements exist; one more event
//      with the log open changes only a few nodes;
//   3. keyboard: Alt+Shift+A opens (focus inside), arrows move the active row, Enter opens the
//      details pane for that row (URL, source, rule), Escape closes details then the panel;
//   4. hostile strings: the markup in a user script's title and a 100 KB URL render as text;
//      no element is created in the page or the panel beyond the panel's own; no script ran;
//   5. actions: "allow for this gadget" from a row's menu writes the expected consent rule
//      (tprAuditor.consent.get().rules) and the next identical request is allowed;
//   6. groupings: top-level counts of "by destination" and "by source" sum to the report;
//   7. ask mode: a question appears, "Block" answers it;
//   8. block mode: the polite live region announces a newly blocked request;
//   9. export shows the CSP header; import lists every error with its position;
//  10. state: reload restores open panel and tab from localStorage `tpr-auditor-panel`;
//      corrupted stored state falls back to defaults;
//  11. theme: prefers-color-scheme dark and Vector's night class change the computed
//      background; screenshots of light and dark go to /tmp/tpr-panel-{light,dark}.png;
//  12. i18n: with wgUserLanguage "de" the panel speaks German, English per missing key;
//  13. accessibility: axe-core (npm devDependency) in a separate context whose test driver
//      attaches the panel's root open (axe cannot enter closed roots; the auditor still asks for
//      "closed", and section 1 checks the real root is closed) finds no serious or critical
//      violation in any view of the open panel in light, dark and Vector night mode; planted
//      faults show it would;
//  14. the demo page (www/, scripts/demo-server.py): the log lists exactly report()'s events,
//      both groupings sum to it, the details of HotCat's Toolforge request name its source and
//      default, and "allow for this source" from its row makes its verdict "allow".
// Then it prints (does not assert) timings: 10,000 events with the panel closed and open, and
// frame gaps while ~1,000 events/s stream in.
//
// env: CHROMIUM (default /usr/bin/chromium), PANEL_HEADFUL=1 to watch.
import http from 'node:http';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { driver, frames, sleep, waitFor, inRoot, clickInRoot } from './lib/panel-driver.mjs';
import { startServer as startDemoServer, stopServer as stopDemoServer } from './lib/demo-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = process.env.TPR_BUNDLE || path.join(ROOT, 'dist', 'tpr-auditor.js');
const CHROMIUM = process.env.CHROMIUM || process.env.TPR_CHROMIUM || '/usr/bin/chromium';
const N_FLOOD = 10_000;
// Screenshots: /tmp/tpr-panel-shots by default; scripts/screenshots.sh writes docs/img/.
const SHOTS = path.resolve(ROOT, process.env.TPR_SCREENSHOTS_DIR || '/tmp/tpr-panel-shots');
const EVIL_TITLE = 'User:Evil/<img src=x onerror=window.__pwned=1>\u202E.js';

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'ok    ' : 'FAIL  '} ${name}${!ok && detail ? `\n         ${String(detail).replace(/\n/g, '\n         ')}` : ''}`);
  return !!ok;
}
function section(title) { console.log(`\n=== ${title}`); }

// ---- the page ------------------------------------------------------------------------------
function pageHtml({ lang = 'en', userLang = null } = {}) {
  const mw = userLang
    ? `<script>window.mw = { config: { get: function (k) { return k === 'wgUserLanguage' ? ${JSON.stringify(userLang)} : null; } } };</script>`
    : '';
  return `<!DOCTYPE html>
<html lang="${lang}" class="client-js">
<head><meta charset="utf-8"><title>Panel test — Test wiki</title>
<style>
  body { margin: 0; font-family: sans-serif; background: #f8f9fa; color: #202122; }
  #sidebar { position: fixed; left: 0; top: 0; bottom: 0; width: 11em; background: #eaecf0; }
  #content { margin-left: 12em; padding: 1em 2em; background: #fff; min-height: 100vh; }
  textarea { width: 100%; height: 8em; }
  tpr-auditor { display: none !important; } /* hostile page CSS: must not hide the auditor */
</style>${mw}</head>
<body>
<div id="sidebar"><p>Main page</p><p>Recent changes</p></div>
<div id="content"><h1>Test page</h1><p>Some article text.</p>
<form><textarea id="wpTextbox1">Wikitext</textarea><button type="button" id="wpSave">Publish changes</button></form></div>
<script src="/w/load.php?debug=1&amp;modules=ext.gadget.Flood&amp;only=scripts"></script>
<script src="/w/index.php?title=${encodeURIComponent(EVIL_TITLE)}&amp;action=raw&amp;ctype=text/javascript"></script>
</body></html>`;
}

// A MediaWiki 1.39-like edit page (Vector, WikiEditor toolbar, 25-row textarea, summary,
// options and buttons): the open panel must not cover its controls by default.
function editPageHtml() {
  return `<!DOCTYPE html>
<html lang="en" class="client-js">
<head><meta charset="utf-8"><title>Editing Test page — Test wiki</title>
<style>
  body { margin: 0; font: 14px sans-serif; background: #f8f9fa; color: #202122; }
  #head { height: 80px; }
  #sidebar { position: absolute; left: 0; top: 80px; width: 11em; }
  #content { margin-left: 11em; padding: 1.25em 1.5em; background: #fff; border: 1px solid #a7d7f9; }
  h1 { font: 1.8em serif; margin: 0 0 .25em; }
  .wikiEditor-ui-toolbar { height: 30px; background: #f8f9fa; border: 1px solid #c8ccd1; border-bottom: 0; }
  #wpTextbox1 { display: block; box-sizing: border-box; width: 100%; font: 13px/1.5 monospace; }
  .editOptions { background: #eaecf0; border: 1px solid #c8ccd1; padding: 1em; margin-bottom: 1em; }
  #wpSummary { display: block; width: 100%; box-sizing: border-box; margin: .25em 0 .5em; }
  tpr-auditor { display: none !important; }
</style></head>
<body>
<div id="head">Test wiki — Not logged in · Talk · Contributions · Create account · Log in</div>
<div id="sidebar"><p>Main page</p><p>Recent changes</p><p>Random page</p></div>
<div id="content"><h1>Editing Test page</h1>
<form id="editform" name="editform" method="post" action="#">
<div class="wikiEditor-ui"><div class="wikiEditor-ui-toolbar">B I Link Embedded file Reference</div>
<textarea id="wpTextbox1" name="wpTextbox1" rows="25" cols="80">'''Test page''' is a page.\n\n== Section ==\nText.</textarea></div>
<div class="editOptions"><label for="wpSummary">Summary:</label>
<input id="wpSummary" name="wpSummary" size="60" maxlength="500">
<label><input type="checkbox" id="wpMinoredit"> This is a minor edit</label>
<label><input type="checkbox" id="wpWatchthis"> Watch this page</label>
<div class="editButtons"><input id="wpSave" type="submit" value="Save changes">
<input id="wpPreview" type="submit" value="Show preview"> <input id="wpDiff" type="submit" value="Show changes"></div></div>
</form></div>
<script src="/w/load.php?debug=1&amp;modules=ext.gadget.Flood&amp;only=scripts"></script>
</body></html>`;
}

// Gadget "Flood": requests on demand, from its own frames (so they are attributed to it).
const FLOOD_JS = `
window.flood = function (n, port, prefix) {
  var ctl = new AbortController(); ctl.abort();
  for (var i = 0; i < n; i++) {
    var host = 'h' + (i % 40) + '.example' + (i % 3 === 0 ? '.net' : '.org');
    fetch('http://' + host + ':' + port + '/' + (prefix || 'api') + '/' + i + '?q=x', { signal: ctl.signal }).catch(function () {});
  }
};
window.floodFetch = function (url) {
  return fetch(url).then(function (r) { return 'status:' + r.status; }, function (e) { return 'error:' + e.message; });
};
window.__pageScripts = [];
window.floodScript = function (url) {
  window.__pageScripts.push(url);
  var s = document.createElement('script'); s.src = url; document.head.appendChild(s);
};
window.floodScriptP = function (url) {
  return new Promise(function (resolve) {
    window.__pageScripts.push(url);
    var s = document.createElement('script'); s.src = url;
    s.onload = function () { resolve('load'); }; s.onerror = function () { resolve('error'); };
    document.head.appendChild(s);
  });
};
`;
// Gadget "Aardvark" (its source sorts before "Gadget Flood"), loaded by the test on demand.
const AARDVARK_JS = `
window.aardvark = function (port) {
  return fetch('http://aardvark.example:' + port + '/a').then(function (r) { return 'status:' + r.status; }, function (e) { return 'error:' + e.message; });
};
`;
// The hostile user script: a request from a script whose title is markup.
const EVIL_JS = `
window.evil = function (port) {
  var ctl = new AbortController(); ctl.abort();
  fetch('http://evil.example:' + port + '/x?<img src=x onerror=window.__pwned=1>', { signal: ctl.signal }).catch(function () {});
  fetch('http://evil.example:' + port + '/long?' + 'a'.repeat(100000), { signal: ctl.signal }).catch(function () {});
  fetch('data:text/html,<img src=x onerror=window.__pwned=2>').catch(function () {});
};
// A request from a function whose name is markup (it shows in the stack frames), to a URL
// holding an RTL override.
window.evilNamed = function (port) {
  var ctl = new AbortController(); ctl.abort();
  var f = function () {
    return fetch('http://evil.example:' + port + '/named/\u202Egnp.js?\u202Eq', { signal: ctl.signal }).catch(function () {});
  };
  Object.defineProperty(f, 'name', { value: '"><svg onload=window.__pwned=3>' });
  return f();
};
`;

function startServer(variants) {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const host = (req.headers.host || '').split(':')[0];
    if (host === 'wiki.test' && variants[u.pathname]) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(variants[u.pathname]);
      return;
    }
    if (host === 'wiki.test' && u.pathname === '/w/load.php' && u.searchParams.get('modules') === 'ext.gadget.Flood') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(FLOOD_JS);
      return;
    }
    if (host === 'wiki.test' && u.pathname === '/w/load.php' && u.searchParams.get('modules') === 'ext.gadget.Aardvark') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(AARDVARK_JS);
      return;
    }
    if (host === 'wiki.test' && u.pathname === '/w/index.php' && u.searchParams.get('title') === EVIL_TITLE) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(EVIL_JS);
      return;
    }
    if (u.pathname.endsWith('.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' });
      res.end('/* third-party script */');
      return;
    }
    res.writeHead(204, { 'access-control-allow-origin': '*' });
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const DRIVER = driver();

async function loadPlaywright() {
  try { return await import('playwright-core'); } catch {
    return createRequire(path.join(ROOT, 'package.json'))('playwright-core');
  }
}

const summaryOf = (page) => page.evaluate(() => tprAuditor.report().summary);

// The demo (www/) served by scripts/demo-server.py, with the bundle under test.
async function demoPage() {
  const { proc, cfg } = await startDemoServer(['--bundle', BUNDLE]);
  let demoBrowser = null;
  try {
    const { chromium } = await loadPlaywright();
    demoBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', ...cfg.quietFlags, `--host-resolver-rules=${cfg.hostResolverRules}`] });
    const ctx = await demoBrowser.newContext({ viewport: { width: 1200, height: 760 } });
    await ctx.addInitScript({ content: DRIVER });
    const page = await ctx.newPage();
    await page.goto(cfg.pageUrl, { waitUntil: 'load' });
    await page.evaluate(() => tprAuditor.ready);
    await page.waitForFunction(() => window.demoDone && Object.keys(window.demoDone).length >= 7
      && Object.values(window.demoDone).every(Boolean), null, { timeout: 20000 }).catch(() => {});
    await page.evaluate(() => tprAuditor.settled());
    await sleep(500);
    await page.keyboard.press('Alt+Shift+A');
    await clickInRoot(page, '#pnl-tab-log');
    await frames(page, 3);
    const report = await page.evaluate(() => tprAuditor.report());
    const log = await inRoot(page, `return root.querySelector('.filters .count').textContent;`);
    const n = report.events.length;
    check(`demo: the log lists exactly report()'s ${n} events`, n > 20 && log === `${n} of ${n} log entries shown`, log);
    for (const tab of ['destinations', 'sources']) {
      await clickInRoot(page, `#pnl-tab-${tab}`);
      await sleep(250);
      await frames(page, 2);
      const sum = await inRoot(page, `return [...root.querySelectorAll('#pnl-tabpanel-${tab} tbody tr.depth-0')]
        .reduce((a, r) => a + Number(r.children[1].textContent || 0), 0);`);
      const requests = (await page.evaluate(() => tprAuditor.report().summary.requests));
      check(`demo: "by ${tab === 'sources' ? 'source' : 'destination'}" sums to the report (${requests} requests)`, sum === requests, `${sum} vs ${requests}`);
    }
    const hotcatUrl = `http://hotcat.toolforge.org:${cfg.fakePort}/api/suggest?q=Demo+cat`;
    const ev = report.events.find((e) => e.url === hotcatUrl);
    await clickInRoot(page, '#pnl-tab-log');
    await inRoot(page, `const i = root.querySelector('input[data-filter=text]'); i.value = 'hotcat.toolforge'; i.dispatchEvent(new Event('input', { bubbles: true }));`);
    await frames(page, 3);
    await clickInRoot(page, '.row:not([hidden]) .url', 0);
    await frames(page);
    const det = await inRoot(page, `const d = root.querySelector('.details'); const f = (n) => (d.querySelector('[data-field="' + n + '"]') || {}).textContent;
      return { url: f('url'), source: f('source'), rule: f('rule'), carries: f('carries'), party: f('party') };`);
    check('demo: details of HotCat\'s Toolforge request show its source, data and default', ev && det.url === hotcatUrl
      && det.source.startsWith('User script MediaWiki:Gadget-HotCat.js — ') && det.rule === 'Default: Cloud Services'
      && det.carries === 'your cookies' && det.party === 'Cloud Services, site hotcat.toolforge.org, tool hotcat', JSON.stringify(det));
    await page.keyboard.press('Escape');
    await clickInRoot(page, '.row:not([hidden]) button[data-act=row-menu]');
    await clickInRoot(page, '.menu [role=menuitem]', 0);
    await frames(page, 2);
    const after = await page.evaluate((u) => ({ rules: tprAuditor.consent.get().rules, ev: tprAuditor.report().events.find((e) => e.url === u) }), hotcatUrl);
    const r = after.rules.find((x) => x.source === `http://hotcat.toolforge.org:${cfg.fakePort}`);
    check('demo: "allow for this source" from the row writes the rule and the verdict becomes allow', r && r.scope === 'user-script:MediaWiki:Gadget-HotCat.js'
      && JSON.stringify(r.directives) === '["connect-src"]' && r.decision === 'allow' && after.ev.verdict === 'allow' && after.ev.rule.kind === 'rule',
      JSON.stringify({ r, verdict: after.ev && after.ev.verdict }));
    // The next identical request, made after the action: HotCat runs again (its script inserted
    // anew) in block mode, where an unconsented request is blocked: this one is allowed.
    const hotcatCount = () => page.evaluate((u) => tprAuditor.report().events.filter((e) => e.url === u)
      .map((e) => ({ count: e.count, verdict: e.verdict, decision: e.decision })), hotcatUrl);
    const hcBefore = (await hotcatCount()).reduce((a, e) => a + e.count, 0);
    await page.evaluate(() => tprAuditor.setMode('block'));
    await page.evaluate(() => new Promise((resolve) => {
      const sc = document.createElement('script');
      sc.src = '/w/index.php?title=MediaWiki:Gadget-HotCat.js&action=raw&ctype=text/javascript';
      sc.onload = resolve; sc.onerror = resolve; document.head.appendChild(sc);
    }));
    // Polled with room to spare: on a busy machine the script load and its request take time.
    await waitFor(async () => (await hotcatCount()).reduce((a, e) => a + e.count, 0) > hcBefore, 15000);
    await page.evaluate(() => tprAuditor.settled());
    const hotcatLog = () => page.evaluate((u) => window.demoLog.filter((e) => e.url === u).map((e) => e.ok), hotcatUrl);
    await waitFor(async () => (await hotcatLog()).length >= 2, 10000);
    const hcAfter = await hotcatCount();
    const hcLog = await hotcatLog();
    await page.evaluate(() => tprAuditor.setMode('audit'));
    check('demo: the next identical request from HotCat (run again, block mode) is allowed by that rule and goes out',
      hcAfter.reduce((a, e) => a + e.count, 0) === hcBefore + 1 && hcAfter[hcAfter.length - 1].verdict === 'allow'
      && hcLog.length === 2 && hcLog[1] === true, JSON.stringify({ hcBefore, hcAfter, hcLog }));
  } finally {
    if (demoBrowser) await demoBrowser.close().catch(() => {});
    stopDemoServer(proc);
  }
}

// ---- accessibility: axe-core against the open panel ------------------------------------------
// In its own context whose driver opens the panel's root for axe (see driver()). Every view of
// the open panel (summary, log, both groupings with a group open, questions with one pending,
// consent with an export shown, a request's details, a row's menu) is checked in light mode,
// dark mode (prefers-color-scheme) and Vector's night class. Serious or critical violations
// fail; minor and moderate ones are printed. Two planted faults show that axe sees inside the
// root with the panel's own styles.
const AXE_VIEWS = ['summary', 'log', 'destinations', 'sources', 'prompts', 'consent', 'details', 'menu'];
const AXE_THEMES = [
  { name: 'light', scheme: 'light', night: false },
  { name: 'dark (prefers-color-scheme)', scheme: 'dark', night: false },
  { name: 'night (Vector skin-theme-clientpref-night)', scheme: 'light', night: true },
];
async function axeAudit({ browser, bundle, options, W, port }) {
  let axePath;
  try { axePath = createRequire(path.join(ROOT, 'package.json')).resolve('axe-core/axe.min.js'); } catch { axePath = null; }
  if (!check('axe-core is installed (npm devDependency; scripts/setup.sh)', axePath && fs.existsSync(axePath))) return;
  const axeSource = fs.readFileSync(axePath, 'utf8');
  const axeVersion = JSON.parse(fs.readFileSync(path.join(path.dirname(axePath), 'package.json'), 'utf8')).version;
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 760 }, colorScheme: 'light' });
  try {
    await ctx.addInitScript({ content: `${driver({ openRootForAxe: true })}\nwindow.TPR_OPTIONS = ${JSON.stringify(options)};\n${bundle}\n${axeSource}` });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${W}/wiki/Test`, { waitUntil: 'load' });
    await page.evaluate(() => tprAuditor.ready);
    const how = await page.evaluate(() => ({ asked: window.__tprTest.mode(), open: !!document.querySelector('tpr-auditor').shadowRoot,
      axe: typeof axe === 'object' && axe.version }));
    check(`axe-core ${axeVersion} runs on a test-only page whose driver opens the root (the auditor still asked for "closed")`,
      how.asked === 'closed' && how.open && how.axe === axeVersion, JSON.stringify(how));
    // Content for every view: gadget traffic, the hostile user script, a script and a held question.
    await page.evaluate((port) => { window.flood(300, port); window.evil(port);
      window.floodFetch(`http://cdn.example.net:${port}/lib/a.json`); window.floodScript(`http://cdn.example.net:${port}/lib/x.js`); }, port);
    await page.evaluate(() => tprAuditor.settled());
    await page.evaluate(() => tprAuditor.setMode('ask'));
    page.evaluate((port) => window.floodFetch(`http://api.askme.example:${port}/q`), port).catch(() => {});
    await page.keyboard.press('Alt+Shift+A');
    await frames(page, 2);
    const runAxe = () => page.evaluate(async () => {
      const r = await axe.run(document.querySelector('tpr-auditor'), { resultTypes: ['violations'] });
      return { violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })) })), review: r.incomplete.map((v) => v.id) };
    });
    const show = async (view) => {
      const tab = view === 'details' || view === 'menu' ? 'log' : view;
      await page.keyboard.press('Escape'); // closes a details pane or menu left open (the panel stays: its focus is not there)
      if (!(await inRoot(page, `return !root.querySelector('.panel').hidden;`))) await page.keyboard.press('Alt+Shift+A');
      await clickInRoot(page, `#pnl-tab-${tab}`);
      await sleep(150);
      await frames(page, 2);
      if (view === 'destinations' || view === 'sources') {
        const closedGroup = await inRoot(page, `const b = root.querySelector('#pnl-tabpanel-${view} tbody tr.depth-0 button[data-act=group-toggle]');
          return !!b && b.getAttribute('aria-expanded') === 'false';`);
        if (closedGroup) await clickInRoot(page, `#pnl-tabpanel-${view} tbody tr.depth-0 button[data-act=group-toggle]`, 0);
      }
      if (view === 'consent') await clickInRoot(page, 'button[data-act=export][data-i="1"][data-m=show]');
      if (view === 'details') await clickInRoot(page, '.row:not([hidden]) .url', 1);
      if (view === 'menu') await clickInRoot(page, '.row:not([hidden]) button[data-act=row-menu]', 1);
      await frames(page, 2);
      return inRoot(page, `const s = arg === 'details' ? '.details' : arg === 'menu' ? '.menu' : '#pnl-tabpanel-' + arg;
        const e = root.querySelector(s); return !!e && !e.hidden && !root.querySelector('.panel').hidden;`, view);
    };
    for (const theme of AXE_THEMES) {
      await page.emulateMedia({ colorScheme: theme.scheme });
      await page.evaluate((night) => document.documentElement.classList.toggle('skin-theme-clientpref-night', night), theme.night);
      await frames(page, 2);
      const bg = await inRoot(page, `return getComputedStyle(root.querySelector('.panel')).backgroundColor;`);
      const bad = [];
      const minor = {};
      const review = new Set();
      const notShown = [];
      for (const view of AXE_VIEWS) {
        if (!(await show(view))) notShown.push(view);
        const r = await runAxe();
        r.review.forEach((id) => review.add(id));
        for (const v of r.violations) {
          if (v.impact === 'serious' || v.impact === 'critical') bad.push({ view, ...v });
          else minor[`${v.id} (${v.impact})`] = (minor[`${v.id} (${v.impact})`] || 0) + v.nodes.length;
        }
      }
      const detail = bad.map((v) => `[${v.view}] ${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 6).map((n) => `${JSON.stringify(n.target)} — ${(n.summary || '').replace(/\n\s*/g, ' ')}`).join('\n  ')}${v.nodes.length > 6 ? `\n  … ${v.nodes.length - 6} more` : ''}`).join('\n');
      check(`axe-core, ${theme.name} (panel background ${bg}): no serious or critical violation in ${AXE_VIEWS.length} views`,
        bad.length === 0 && notShown.length === 0, `${notShown.length ? `views not shown: ${notShown.join(', ')}\n` : ''}${detail}`);
      const m = Object.entries(minor);
      console.log(`       minor/moderate (information): ${m.length ? m.map(([k, n]) => `${k} ×${n}`).join(', ') : 'none'}; `
        + `left for review by axe (e.g. glyph-only text): ${review.size ? [...review].join(', ') : 'none'}`);
    }
    // The check can fail: a nameless button and low-contrast text planted in the panel body.
    await page.emulateMedia({ colorScheme: 'light' });
    await page.evaluate(() => document.documentElement.classList.remove('skin-theme-clientpref-night'));
    await show('summary');
    await inRoot(page, `const tp = root.querySelector('#pnl-tabpanel-summary');
      const b = document.createElement('button'); b.className = 'axe-planted'; tp.prepend(b);
      const p = document.createElement('p'); p.className = 'axe-planted'; p.textContent = 'Planted low-contrast text';
      p.style.color = '#c8ccd1'; tp.prepend(p);`);
    // Up to four runs: on a busy machine axe can leave the contrast of a node it measured while
    // the view was still settling "for review" instead of a violation (seen at load 5).
    let planted = await runAxe();
    const hit = (id) => planted.violations.some((v) => v.id === id && (v.impact === 'serious' || v.impact === 'critical')
      && v.nodes.some((n) => JSON.stringify(n.target).includes('axe-planted')));
    for (let again = 0; again < 3 && !(hit('button-name') && hit('color-contrast')); again++) {
      await frames(page, 5);
      await sleep(300 * (again + 1));
      planted = await runAxe();
    }
    await inRoot(page, `root.querySelectorAll('.axe-planted').forEach((e) => e.remove());`);
    check('axe sees inside the root with the panel\'s styles: a planted nameless button and low-contrast text are reported',
      hit('button-name') && hit('color-contrast'), JSON.stringify(planted.violations.map((v) => [v.id, v.impact, v.nodes.map((n) => n.target)])));
    check('no page error during the accessibility runs', errors.length === 0, errors.join('\n'));
  } finally {
    await ctx.close().catch(() => {});
  }
}

// ---- PNG: size from IHDR, distinct colours from the inflated, unfiltered IDAT data ----------
function pngInfo(file) {
  if (!fs.existsSync(file)) return { file, missing: true };
  const buf = fs.readFileSync(file);
  if (buf.length < 33 || buf.readUInt32BE(0) !== 0x89504e47 || buf.toString('ascii', 12, 16) !== 'IHDR') return { file, notPng: true };
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const [depth, type, , , interlace] = buf.subarray(24, 29);
  const idat = [];
  for (let off = 8; off + 8 <= buf.length;) {
    const len = buf.readUInt32BE(off);
    if (buf.toString('ascii', off + 4, off + 8) === 'IDAT') idat.push(buf.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const compressed = idat.reduce((a, b) => a + b.length, 0);
  const bpp = { 2: 3, 6: 4 }[type];
  if (depth !== 8 || !bpp || interlace) return { width, height, compressed, colours: null };
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  let prev = Buffer.alloc(stride);
  let cur = Buffer.alloc(stride);
  const colours = new Set();
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1);
    const filter = raw[base];
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c; const pa = Math.abs(p - a); const pb = Math.abs(p - b); const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = (raw[base + 1 + i] + pred) & 255;
    }
    for (let x = 0; x < stride; x += bpp) colours.add((cur[x] << 16) | (cur[x + 1] << 8) | cur[x + 2]);
    [prev, cur] = [cur, prev];
  }
  return { width, height, compressed, colours: colours.size };
}

// ---- the default place on an edit page ------------------------------------------------------
// A MediaWiki-like edit form at 1366×768 and 1200×760: opened with the keyboard, and reopened
// from the remembered state after a reload, the panel's box covers none of #wpTextbox1,
// #wpSummary, #wpSave. Expand (the user's choice) then shows the whole panel.
async function editPlacement({ browser, bundle, options, W }) {
  for (const viewport of [{ width: 1366, height: 768 }, { width: 1200, height: 760 }]) {
    const ctx = await browser.newContext({ viewport, colorScheme: 'light' });
    try {
      await ctx.addInitScript({ content: `${DRIVER}\nwindow.TPR_OPTIONS = ${JSON.stringify(options)};\n${bundle}` });
      const page = await ctx.newPage();
      await page.goto(`${W}/wiki/Edit`, { waitUntil: 'load' });
      await page.evaluate(() => tprAuditor.ready);
      const measure = () => page.evaluate(() => {
        const p = window.__tprTest.root().querySelector('.panel');
        const r = p.getBoundingClientRect();
        const box = (sel) => { const b = document.querySelector(sel).getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; };
        const controls = { wpTextbox1: box('#wpTextbox1'), wpSummary: box('#wpSummary'), wpSave: box('#wpSave') };
        const hit = Object.entries(controls).filter(([, c]) => r.x < c.x + c.w && c.x < r.right && r.y < c.y + c.h && c.y < r.bottom).map(([k]) => k);
        return { open: !p.hidden, box: [r.x, r.y, r.width, r.height].map(Math.round).join(','), collapsed: p.classList.contains('collapsed'), hit,
          textarea: Object.values(controls.wpTextbox1).map(Math.round).join(',') };
      });
      await page.keyboard.press('Alt+Shift+A');
      await frames(page, 2);
      const first = await measure();
      await page.reload({ waitUntil: 'load' });
      await page.evaluate(() => tprAuditor.ready);
      await frames(page, 2);
      const remembered = await measure();
      const size = `${viewport.width}×${viewport.height}`;
      check(`edit page ${size}: the open panel covers none of #wpTextbox1, #wpSummary, #wpSave (opened, and reopened from the remembered state)`,
        first.open && remembered.open && first.hit.length === 0 && remembered.hit.length === 0, JSON.stringify({ first, remembered }));
      console.log(`       placement at ${size}: ${remembered.collapsed ? 'title bar only (no free box for the panel)' : 'panel'} at ${remembered.box}; textarea at ${remembered.textarea}`);
      if (remembered.collapsed) {
        await clickInRoot(page, 'button[data-act=collapse]');
        await frames(page, 2);
        const expanded = await measure();
        const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('tpr-auditor-panel')));
        check(`edit page ${size}: the title bar's Expand shows the whole panel (the user's choice); the automatic collapse was never stored`,
          !expanded.collapsed && Number(expanded.box.split(',')[3]) > 200 && stored.collapsed === false, JSON.stringify({ expanded, stored }));
      }
    } finally {
      await ctx.close().catch(() => {});
    }
  }
}

// ---- what keeping the panel costs (reported, not asserted) ---------------------------------
// Fresh pages with no panel (TPR_OPTIONS.panel = false), the panel closed, and the log open;
// each floods 1,000 events to warm up, then 10,000 timed until tprAuditor.settled(). Five
// rounds, interleaved; the fastest run of each (least disturbed by other load) and the median.
// tprAuditor.panel.stats() (debug counters) gives the closed panel's own per-event work (time
// in notify / events it counted: the direct figure) and the open panel's draw time per frame.
async function panelCost({ browser, bundle, options, W, port }) {
  const runs = { none: [], closed: [], open: [] };
  const stats = [];
  const closedStats = [];
  for (let round = 0; round < 5; round++) {
    for (const name of Object.keys(runs)) {
      const ctx = await browser.newContext({ viewport: { width: 1200, height: 760 } });
      try {
        const opts = name === 'none' ? { ...options, panel: false } : options;
        await ctx.addInitScript({ content: `${DRIVER}\nwindow.TPR_OPTIONS = ${JSON.stringify(opts)};\n${bundle}` });
        const page = await ctx.newPage();
        await page.goto(`${W}/wiki/Test`, { waitUntil: 'load' });
        await page.evaluate(() => tprAuditor.ready);
        await page.waitForFunction(() => typeof window.flood === 'function');
        if (name === 'open') {
          await page.keyboard.press('Alt+Shift+A');
          await clickInRoot(page, '#pnl-tab-log');
        }
        await page.evaluate(async (port) => { window.flood(1000, port, 'warm'); await tprAuditor.settled(); }, port);
        await frames(page, 2);
        const ms = await page.evaluate(async (port) => {
          const t0 = performance.now();
          window.flood(10000, port, 'cost');
          await tprAuditor.settled();
          await new Promise((r) => setTimeout(r, 0));
          return performance.now() - t0;
        }, port);
        await frames(page, 3);
        runs[name].push(ms);
        if (name === 'open') stats.push(await page.evaluate(() => tprAuditor.panel.stats()));
        if (name === 'closed') closedStats.push(await page.evaluate(() => tprAuditor.panel.stats()));
        if (name === 'none') {
          const none = await page.evaluate(() => ({ host: !!document.querySelector('tpr-auditor'), open: tprAuditor.panel.open(), stats: tprAuditor.panel.stats() }));
          if (round === 0) check('TPR_OPTIONS.panel = false: nothing mounted (no host element, panel.open() false, no stats)', !none.host && none.open === false && none.stats === null, JSON.stringify(none));
        }
      } finally {
        await ctx.close().catch(() => {});
      }
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const min = (a) => Math.min(...a);
  for (const [how, f] of [['fastest', min], ['median', med]]) {
    const [none, closed, open] = [f(runs.none), f(runs.closed), f(runs.open)];
    console.log(`       10,000 events until settled, ${how} of 5 fresh pages: no panel ${none.toFixed(1)} ms, panel closed ${closed.toFixed(1)} ms, log open ${open.toFixed(1)} ms;`
      + ` panel closed − no panel ${((closed - none) / 10).toFixed(2)} µs/event (target ≤ 2 µs)`);
  }
  console.log(`       runs (ms): ${Object.entries(runs).map(([k, v]) => `${k} ${v.map((x) => x.toFixed(0)).join('/')}`).join('; ')}`);
  // The closed panel's per-event work measured where it runs (notify: counting each changed
  // event into the aggregates), over the 11,000 events of each closed run; far less noisy than
  // the difference of two page totals above.
  const perEvent = closedStats.map((s) => (s.notifyMs * 1000) / Math.max(1, s.notifyEvents));
  console.log(`       panel closed, its own per-event work (tprAuditor.panel.stats() notify): median ${med(perEvent).toFixed(2)} µs/event, runs ${perEvent.map((x) => x.toFixed(2)).join('/')} µs`
    + ` (${closedStats.map((s) => `${s.notifyEvents} events in ${s.notifyCalls} calls`).join('; ')}) (target ≤ 2 µs)`);
  console.log(`       log open, draw per animation frame (tprAuditor.panel.stats()): ${stats.map((s) => `${s.frames} frames, max ${s.maxMs.toFixed(1)} ms, p95 ${s.p95Ms.toFixed(1)} ms`).join('; ')}`);
}

// ---- run -------------------------------------------------------------------------------------
let server = null;
let browser = null;
try {
  if (!check('dist/tpr-auditor.js exists (scripts/build.sh)', fs.existsSync(BUNDLE))) throw new Error('no bundle');
  const bundle = fs.readFileSync(BUNDLE, 'utf8');
  server = await startServer({
    '/wiki/Test': pageHtml(),
    '/wiki/Edit': editPageHtml(),
    '/wiki/Deutsch': pageHtml({ lang: 'de', userLang: 'de' }),
  });
  const port = server.address().port;
  const W = `http://wiki.test:${port}`;
  const { chromium } = await loadPlaywright();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.PANEL_HEADFUL !== '1',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run', '--host-resolver-rules=MAP * 127.0.0.1'],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 }, colorScheme: 'light' });
  const offHost = [];
  context.on('request', (r) => { const u = new URL(r.url()); if (!['http:', 'data:', 'blob:'].includes(u.protocol) || (u.port && u.port !== String(port))) offHost.push(r.url()); });
  const options = { cap: 20000, storage: 'memory', packaging: 'test' };
  await context.addInitScript({ content: `${DRIVER}\nwindow.TPR_OPTIONS = ${JSON.stringify(options)};\n${bundle}` });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${W}/wiki/Test`, { waitUntil: 'load' });
  await page.evaluate(() => tprAuditor.ready);
  await page.waitForFunction(() => typeof window.flood === 'function' && typeof window.evil === 'function');

  // ---- 1. mount ------------------------------------------------------------------------------
  section('mount: badge, closed shadow root');
  const mount = await page.evaluate(() => {
    const host = document.querySelector('tpr-auditor');
    return { present: !!host, shadowRoot: host ? host.shadowRoot : 'no host', mode: window.__tprTest.mode(),
      display: host ? getComputedStyle(host).display : null, inBody: !!host && host.parentNode === document.body };
  });
  check('the host element <tpr-auditor> is in the page body', mount.present && mount.inBody);
  check('page code finds no shadowRoot on the host (closed)', mount.shadowRoot === null, String(mount.shadowRoot));
  check('the shadow root was attached with mode "closed"', mount.mode === 'closed', mount.mode);
  check('page CSS (display:none !important on the host) cannot hide it', mount.display === 'block', mount.display);
  await page.evaluate((port) => { window.floodFetch(`http://cdn.example.net:${port}/lib/a.json`); window.floodScript(`http://cdn.example.net:${port}/lib/x.js`); }, port);
  await page.evaluate(() => tprAuditor.settled());
  await frames(page, 3);
  const badge1 = await inRoot(page, `const b = root.querySelector('.badge');
    return { n: b.querySelector('.n').textContent, tier: b.getAttribute('data-tier'), icon: b.querySelector('.tier').textContent,
      label: b.getAttribute('aria-label'), visible: b.getBoundingClientRect().width > 0,
      left: b.getBoundingClientRect().left, bottom: innerHeight - b.getBoundingClientRect().bottom };`);
  let s = await summaryOf(page);
  check('badge count = summary.unconsented + blocked', Number(badge1.n) === s.unconsented + s.blocked && s.unconsented + s.blocked > 0,
    `badge ${badge1.n}, summary ${s.unconsented}+${s.blocked}`);
  check('badge colour follows the worst tier and has a glyph (not colour only)', badge1.tier === s.worstTier && badge1.icon === '▲',
    JSON.stringify(badge1));
  check('badge has an accessible name with the count and the shortcut', /unconsented or blocked/.test(badge1.label) && badge1.label.includes('Alt+Shift+A'), badge1.label);
  check('badge sits in the bottom-left corner', badge1.visible && badge1.left < 20 && badge1.bottom < 20, JSON.stringify(badge1));

  // ---- 2. 10,000+ events ---------------------------------------------------------------------
  section(`${N_FLOOD} events`);
  const t0 = Date.now();
  await page.evaluate(({ n, port }) => window.flood(n, port), { n: N_FLOOD, port });
  await page.evaluate((port) => { window.evil(port); window.evilNamed(port); }, port);
  await page.evaluate(() => tprAuditor.settled());
  await frames(page, 3);
  const floodMs = Date.now() - t0;
  s = await summaryOf(page);
  const badge2 = await inRoot(page, `return root.querySelector('.badge .n').textContent;`);
  check(`badge count = summary after ${N_FLOOD} requests (${floodMs} ms)`, Number(badge2) === s.unconsented + s.blocked && s.events > N_FLOOD,
    `badge ${badge2}, summary ${JSON.stringify(s)}`);
  // Open with the keyboard and go to the log.
  await page.keyboard.press('Alt+Shift+A');
  await frames(page);
  await clickInRoot(page, '[role=tab]#pnl-tab-log');
  await frames(page, 3);
  const events = await page.evaluate(() => tprAuditor.report().events.map((e) => ({ id: e.id, url: e.url, source: e.source })));
  const logState = await inRoot(page, `
    const rows = [...root.querySelectorAll('.row')];
    const shown = rows.filter((r) => !r.hidden);
    return { rows: rows.length, shown: shown.length, count: root.querySelector('.filters .count').textContent,
      rowcount: root.querySelector('[role=grid]').getAttribute('aria-rowcount') };`);
  check(`the report holds ${N_FLOOD}+ events`, events.length > N_FLOOD, String(events.length));
  check(`the log says it lists all ${events.length} events`, logState.count === `${events.length} of ${events.length} log entries shown`
    && logState.rowcount === String(events.length + 1), JSON.stringify(logState));
  check('only a bounded number of row elements exist (virtual rows)', logState.rows > 0 && logState.rows <= 60, `${logState.rows} row elements`);
  const newestFirst = [...events].reverse();
  const sample = async (scrollRows) => {
    await inRoot(page, `root.querySelector('.viewport').scrollTop = arg * 28;`, scrollRows);
    await frames(page, 2);
    return inRoot(page, `
      const vp = root.querySelector('.viewport'); const top = vp.scrollTop;
      return [...root.querySelectorAll('.row')].filter((r) => !r.hidden).map((r) => ({
        index: Number(r.getAttribute('aria-rowindex')) - 2, url: r.querySelector('.url').textContent,
        y: Number((r.style.transform.match(/translateY\\(([-0-9.]+)px\\)/) || [])[1]) })).filter((r) => r.y >= top && r.y < top + vp.clientHeight);`);
  };
  let allMatch = true;
  let detail = '';
  for (const at of [0, 4321, events.length - 12]) {
    const rows = await sample(at);
    const bad = rows.filter((r) => r.url !== (newestFirst[r.index]?.url || '').slice(0, 300) + ((newestFirst[r.index]?.url || '').length > 300 ? '…' : '') || r.y !== r.index * 28);
    if (!rows.length || bad.length) { allMatch = false; detail += `at ${at}: ${rows.length} rows, bad ${JSON.stringify(bad.slice(0, 2))}\n`; }
  }
  check('rows in view are the report\'s events, newest first, at every scroll position', allMatch, detail);
  const rowsAfterScroll = await inRoot(page, `return root.querySelectorAll('.row').length;`);
  check('scrolling keeps the row elements bounded', rowsAfterScroll <= 60, String(rowsAfterScroll));
  // One more event while the log is open (at the top): only a few DOM changes.
  await inRoot(page, `root.querySelector('.viewport').scrollTop = 0;`);
  await frames(page, 2);
  await inRoot(page, `window.__mut = 0; new MutationObserver((l) => { window.__mut += l.length; }).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });`);
  await page.evaluate((port) => window.flood(1, port, 'one-more'), port);
  await frames(page, 3);
  const mutations = await page.evaluate(() => window.__mut);
  check('one new event while open changes few nodes (nothing unchanged is redrawn)', mutations > 0 && mutations < 150, `${mutations} mutation records`);

  // ---- 3. keyboard ---------------------------------------------------------------------------
  section('keyboard');
  await page.evaluate((port) => window.flood(3, port, 'kb'), port);
  await frames(page, 2);
  await inRoot(page, `root.querySelector('[role=grid]').focus();`);
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  await frames(page);
  const latest = await page.evaluate(() => tprAuditor.report().events.map((e) => e.url).reverse());
  const active = await inRoot(page, `
    const g = root.querySelector('[role=grid]'); const id = g.getAttribute('aria-activedescendant');
    const r = id && root.getElementById(id);
    return r ? { url: r.querySelector('.url').textContent, selected: r.getAttribute('aria-selected'), focused: root.activeElement === g } : null;`);
  check('ArrowDown ×3 makes the third-newest row active (aria-activedescendant)', active && active.url === latest[2] && active.selected === 'true' && active.focused,
    JSON.stringify({ active, expected: latest[2] }));
  await page.keyboard.press('Enter');
  await frames(page);
  const det = await inRoot(page, `
    const d = root.querySelector('.details');
    const f = (n) => { const e = d.querySelector('[data-field="' + n + '"]'); return e ? e.textContent : null; };
    return { open: !d.hidden, role: d.getAttribute('role'), url: f('url'), source: f('source'), rule: f('rule'), focusIn: d.contains(root.activeElement) };`);
  check('Enter opens the details dialog of the active row, focus inside', det.open && det.role === 'dialog' && det.url === latest[2] && det.focusIn, JSON.stringify(det));
  check('details name the source (gadget) and the rule behind the verdict', /^Gadget Flood — /.test(det.source || '') && det.rule === 'Default: third parties',
    JSON.stringify(det));
  await page.keyboard.press('Escape');
  await frames(page);
  const afterEsc = await inRoot(page, `return { details: root.querySelector('.details').hidden, panel: root.querySelector('.panel').hidden,
    gridFocused: root.activeElement === root.querySelector('[role=grid]') };`);
  check('Escape closes the details and returns focus to the grid', afterEsc.details && !afterEsc.panel && afterEsc.gridFocused, JSON.stringify(afterEsc));
  await page.keyboard.press('Escape');
  await frames(page);
  const closed = await inRoot(page, `return { panel: root.querySelector('.panel').hidden, badgeFocused: root.activeElement === root.querySelector('.badge'),
    expanded: root.querySelector('.badge').getAttribute('aria-expanded') };`);
  check('Escape again closes the panel, focus back on the badge', closed.panel && closed.badgeFocused && closed.expanded === 'false', JSON.stringify(closed));
  await page.keyboard.press('Alt+Shift+A');
  await frames(page);
  const reopened = await inRoot(page, `return { panel: !root.querySelector('.panel').hidden, focus: root.activeElement && root.activeElement.getAttribute('role'),
    hostFocused: document.activeElement === document.querySelector('tpr-auditor') };`);
  check('Alt+Shift+A opens the panel with focus on the current tab', reopened.panel && reopened.focus === 'tab' && reopened.hostFocused, JSON.stringify(reopened));
  await page.keyboard.press('ArrowRight');
  const tabNow = await inRoot(page, `return root.activeElement.id + ' ' + root.activeElement.getAttribute('aria-selected');`);
  check('ArrowRight in the tab list moves to the next tab', tabNow === 'pnl-tab-destinations true', tabNow);
  await page.keyboard.press('ArrowLeft');
  // Visible focus: Tab moves into the panel's controls; each focused one draws a focus ring.
  const rings = [];
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Tab');
    rings.push(await inRoot(page, `const e = root.activeElement; if (!e) return null; const cs = getComputedStyle(e);
      return { el: e.localName + (e.className ? '.' + String(e.className).split(' ').join('.') : ''), outline: cs.outlineStyle + ' ' + cs.outlineWidth,
        shadow: cs.boxShadow, visible: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || (cs.boxShadow && cs.boxShadow !== 'none') };`));
  }
  check('Tab into the panel: each focused element has a visible focus ring (outline or box-shadow)', rings.every((r) => r && r.visible),
    JSON.stringify(rings));
  for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+Tab');

  // ---- 4. hostile strings --------------------------------------------------------------------
  section('hostile strings render as text');
  await inRoot(page, `const i = root.querySelector('input[data-filter=text]'); i.value = 'evil.example'; i.dispatchEvent(new Event('input', { bubbles: true }));`);
  await frames(page, 3);
  const hostile = await inRoot(page, `
    const rows = [...root.querySelectorAll('.row')].filter((r) => !r.hidden);
    return { n: rows.length, sources: rows.map((r) => r.querySelectorAll('.cell')[5].textContent),
      urls: rows.map((r) => r.querySelector('.url').textContent), titles: rows.map((r) => r.querySelector('.url').getAttribute('title').length),
      imgs: root.querySelectorAll('img, svg, script, iframe').length, count: root.querySelector('.filters .count').textContent };`);
  // MediaWiki titles read "_" as a space; the RTL override is shown as a visible marker.
  const evilSource = `User script ${EVIL_TITLE.replace(/_/g, ' ').replace('\u202E', '⟨U+202E⟩')}`;
  check('free-text filter finds the three evil.example requests', hostile.n === 3, JSON.stringify(hostile.count));
  check('a script title with markup shows as text, the RTL override visible', hostile.sources.every((t) => t === evilSource), JSON.stringify(hostile.sources));
  // The request made from a function named '"><svg onload=…>' to a URL with an RTL override.
  const namedIndex = hostile.urls.findIndex((u) => u.includes('/named/'));
  await clickInRoot(page, '.row:not([hidden]) .url', namedIndex);
  await frames(page);
  const namedDetails = await inRoot(page, `const d = root.querySelector('.details'); const fr = d.querySelector('[data-field=frames]');
    return { frames: fr ? fr.textContent : null, url: d.querySelector('[data-field=url]').textContent,
      svg: d.querySelectorAll('svg, img').length, rtl: d.textContent.includes('\u202E') };`);
  check('details: the stack frames show the function named \'"><svg onload=…>\' as literal text', namedIndex >= 0
    && (namedDetails.frames || '').includes('"><svg onload=window.__pwned=3>') && namedDetails.svg === 0, JSON.stringify(namedDetails));
  check('details: the URL\'s RTL override is not passed through raw (encoded or shown as a marker)', !namedDetails.rtl
    && /%E2%80%AE|⟨U\+202E⟩/.test(namedDetails.url), JSON.stringify(namedDetails.url));
  await page.keyboard.press('Escape');
  await frames(page);
  check('a 100 KB URL is clipped in the row and its tooltip', hostile.urls.some((u) => u.length === 301 && u.endsWith('…')) && Math.max(...hostile.titles) <= 2001,
    JSON.stringify(hostile.titles));
  await clickInRoot(page, '.row:not([hidden]) .url', 0);
  await frames(page);
  const hostileDetails = await inRoot(page, `const d = root.querySelector('.details'); return { src: d.querySelector('[data-field=source]').textContent,
    imgs: d.querySelectorAll('img, svg').length };`);
  check('the details pane shows the markup as text too', hostileDetails.src.startsWith(evilSource) && hostileDetails.imgs === 0, JSON.stringify(hostileDetails));
  // Every element the page gained since load, except the auditor's host and the scripts the
  // page itself inserted (window.__pageScripts): any other script (one the auditor made) counts.
  const pageSide = await page.evaluate(() => ({ pwned: window.__pwned,
    added: window.__tprTest.added.filter((t) => t !== 'tpr-auditor' && !window.__pageScripts.some((u) => t === 'script ' + u)),
    pageScripts: window.__pageScripts.length, imgs: document.querySelectorAll('img').length }));
  const panelTags = await inRoot(page, `const allowed = new Set(['div','span','button','h2','h3','p','label','select','option','input','table','thead','tbody','tr','th','td','dl','dt','dd','ol','ul','li','textarea','style']);
    return [...root.querySelectorAll('*')].map((e) => e.localName).filter((t) => !allowed.has(t));`);
  check('no script ran from the strings (window.__pwned unset)', pageSide.pwned === undefined, String(pageSide.pwned));
  check('the page gained no element besides the auditor host and the page\'s own scripts (no script from the auditor)', pageSide.added.length === 0
    && pageSide.imgs === 0 && pageSide.pageScripts > 0, JSON.stringify(pageSide));
  check('the panel holds only its own kinds of elements', panelTags.length === 0, JSON.stringify(panelTags));
  await page.keyboard.press('Escape');
  await clickInRoot(page, 'button[data-act=filter-clear]');
  await frames(page, 2);

  // ---- 5. allow from a row -----------------------------------------------------------------
  section('allow / block from a row');
  await inRoot(page, `const s = root.querySelector('select[data-filter=channel]'); s.value = 'script'; s.dispatchEvent(new Event('change', { bubbles: true }));`);
  await frames(page, 3);
  const scriptRow = await inRoot(page, `const r = [...root.querySelectorAll('.row')].find((r) => !r.hidden);
    return r && { url: r.querySelector('.url').textContent, decision: r.getAttribute('data-decision') };`);
  check('the channel filter shows the gadget\'s third-party script', scriptRow && scriptRow.url === `http://cdn.example.net:${port}/lib/x.js` && scriptRow.decision === 'unconsented',
    JSON.stringify(scriptRow));
  await clickInRoot(page, '.row:not([hidden]) button[data-act=row-menu]');
  await frames(page);
  const menu = await inRoot(page, `const m = root.querySelector('.menu'); return { open: !m.hidden, role: m.getAttribute('role'),
    items: [...m.querySelectorAll('[role=menuitem]')].map((b) => b.textContent), focused: m.contains(root.activeElement) };`);
  check('the row menu opens with the four actions, focus in the menu', menu.open && menu.role === 'menu' && menu.items.length === 4 && menu.focused
    && menu.items[0] === `Allow http://cdn.example.net:${port} (script-src) for Gadget Flood`, JSON.stringify(menu));
  await clickInRoot(page, '.menu [role=menuitem]', 0);
  await frames(page, 2);
  const rules = await page.evaluate(() => tprAuditor.consent.get().rules);
  const rule = rules.find((r) => r.source === `http://cdn.example.net:${port}`);
  check('"allow for this gadget" wrote the rule {source, [script-src], gadget:Flood, allow}', rule && rule.scope === 'gadget:Flood'
    && JSON.stringify(rule.directives) === '["script-src"]' && rule.decision === 'allow' && typeof rule.added === 'string', JSON.stringify(rules));
  const status = await inRoot(page, `return root.querySelector('.footer .status').textContent;`);
  check('the status line says which rule was saved', status.startsWith('Rule saved: Allow http://cdn.example.net'), status);
  // The next identical request, made after the action, in block mode (where an unconsented
  // script fails to load): it loads, by that rule.
  const xUrl = `http://cdn.example.net:${port}/lib/x.js`;
  const countOf = (u) => page.evaluate((u) => tprAuditor.report().events.filter((e) => e.url === u).reduce((a, e) => a + e.count, 0), u);
  const xBefore = await countOf(xUrl);
  await page.evaluate(() => tprAuditor.setMode('block'));
  const xLoad = await page.evaluate((u) => window.floodScriptP(u), xUrl);
  const yLoad = await page.evaluate((port) => window.floodScriptP(`http://cdn.example.net:${port}/lib/y.js`), port);
  const zLoad = await page.evaluate((port) => window.floodScriptP(`http://other.example.net:${port}/lib/z.js`), port);
  await page.evaluate(() => tprAuditor.settled());
  const next = await page.evaluate((u) => tprAuditor.report().events.find((e) => e.url === u), xUrl);
  check('the next identical request (a new script element, block mode) loads by that rule; an unconsented one does not',
    xLoad === 'load' && yLoad === 'load' && zLoad === 'error' && (await countOf(xUrl)) === xBefore + 1 && next.verdict === 'allow' && next.rule.kind === 'rule',
    JSON.stringify({ xLoad, yLoad, zLoad, xBefore, next: next && { verdict: next.verdict, decision: next.decision, count: next.count, rule: next.rule } }));
  await page.evaluate(() => tprAuditor.setMode('audit'));

  // Block for this gadget, allow for every source (rows), block from a group's menu: each
  // writes its rule, and a new identical request after the action gets the new verdict.
  const rowAction = async (host, pick) => {
    const url = `http://${host}:${port}/a`;
    await page.evaluate((u) => window.floodFetch(u), url);
    await page.evaluate(() => tprAuditor.settled());
    await clickInRoot(page, 'button[data-act=filter-clear]');
    await inRoot(page, `const i = root.querySelector('input[data-filter=text]'); i.value = arg; i.dispatchEvent(new Event('input', { bubbles: true }));`, host);
    await frames(page, 3);
    await clickInRoot(page, '.row:not([hidden]) button[data-act=row-menu]');
    await frames(page);
    const items = await inRoot(page, `return [...root.querySelectorAll('.menu [role=menuitem]')].map((b) => b.textContent);`);
    await clickInRoot(page, '.menu [role=menuitem]', pick);
    await frames(page, 2);
    const r = await page.evaluate((o) => tprAuditor.consent.get().rules.find((x) => x.source === o), `http://${host}:${port}`);
    return { url, items, rule: r };
  };
  // A request with the verdict's effect visible: in ask mode an unconsented fetch is held, a
  // blocked one fails at once; in block mode an unconsented one fails, an allowed one passes.
  const fetchIn = async (mode, url) => {
    await page.evaluate((m) => tprAuditor.setMode(m), mode);
    const out = await page.evaluate((u) => Promise.race([window.floodFetch(u), new Promise((r) => setTimeout(() => r('still held'), 3000))]), url);
    await page.evaluate(() => tprAuditor.setMode('audit'));
    return out;
  };
  const blk = await rowAction('blockme.example', 2);
  check('"Block … for Gadget Flood" from a row writes {origin, [connect-src], gadget:Flood, block}', blk.rule && blk.rule.scope === 'gadget:Flood'
    && JSON.stringify(blk.rule.directives) === '["connect-src"]' && blk.rule.decision === 'block' && /^Block .* for Gadget Flood$/.test(blk.items[2]),
    JSON.stringify(blk));
  const blkNext = await fetchIn('ask', blk.url);
  const blkEvs = await page.evaluate((u) => tprAuditor.report().events.filter((e) => e.url === u)
    .map((e) => ({ verdict: e.verdict, decision: e.decision, count: e.count, rule: e.rule.kind })), blk.url);
  const blkEv = blkEvs[blkEvs.length - 1];
  check('the next identical request is blocked at once by that rule (ask mode would hold an unconsented one)', blkNext.startsWith('error:')
    && blkEvs.reduce((a, e) => a + e.count, 0) === 2 && blkEv.verdict === 'block' && blkEv.decision === 'blocked' && blkEv.rule === 'rule', JSON.stringify({ blkNext, blkEvs }));
  const all = await rowAction('everyone.example', 1);
  check('"Allow … for every source" from a row writes {origin, [connect-src], *, allow}', all.rule && all.rule.scope === '*'
    && JSON.stringify(all.rule.directives) === '["connect-src"]' && all.rule.decision === 'allow', JSON.stringify(all));
  const allNext = await fetchIn('block', all.url);
  const otherSource = await page.evaluate(() => tprAuditor.setMode('block'))
    .then(() => page.evaluate((u) => fetch(u).then((r) => 'status:' + r.status, (e) => 'error:' + e.message), all.url))
    .finally(() => page.evaluate(() => tprAuditor.setMode('audit')));
  check('the next identical request passes in block mode, from the gadget and from another source (the page)', allNext === 'status:204' && otherSource === 'status:204',
    JSON.stringify({ allNext, otherSource }));
  // A group action: the destination view's origin row, "Block … for every source".
  const grpUrl = `http://grouped.example:${port}/a`;
  await page.evaluate((u) => window.floodFetch(u), grpUrl);
  await page.evaluate(() => tprAuditor.settled());
  await clickInRoot(page, 'button[data-act=filter-clear]');
  await clickInRoot(page, '#pnl-tab-destinations');
  await sleep(250);
  await frames(page, 2);
  const siteIndex = await inRoot(page, `return [...root.querySelectorAll('#pnl-tabpanel-destinations tbody tr.depth-0')].findIndex((r) => r.textContent.includes('grouped.example'));`);
  const siteRows = await inRoot(page, `return [...root.querySelectorAll('#pnl-tabpanel-destinations tbody tr.depth-0 button[data-act=group-toggle]')].map((b) => b.closest('tr').textContent.includes('grouped.example'));`);
  await clickInRoot(page, '#pnl-tabpanel-destinations tbody tr.depth-0 button[data-act=group-toggle]', siteRows.indexOf(true));
  await sleep(250);
  await frames(page, 2);
  const menuIndex = await inRoot(page, `return [...root.querySelectorAll('#pnl-tabpanel-destinations tbody button[data-act=group-menu]')].findIndex((b) => b.closest('tr').textContent.includes(arg));`, `http://grouped.example:${port}`);
  await clickInRoot(page, '#pnl-tabpanel-destinations tbody button[data-act=group-menu]', menuIndex);
  await frames(page);
  const grpItems = await inRoot(page, `return [...root.querySelectorAll('.menu [role=menuitem]')].map((b) => b.textContent);`);
  await clickInRoot(page, '.menu [role=menuitem]', grpItems.length - 1);
  await frames(page, 2);
  const grpRule = await page.evaluate((o) => tprAuditor.consent.get().rules.find((x) => x.source === o), `http://grouped.example:${port}`);
  check('a group\'s menu (destination view, origin row): "Block … for every source" writes {origin, [connect-src], *, block}', siteIndex >= 0 && menuIndex >= 0
    && grpRule && grpRule.scope === '*' && JSON.stringify(grpRule.directives) === '["connect-src"]' && grpRule.decision === 'block',
    JSON.stringify({ siteIndex, menuIndex, grpItems, grpRule }));
  const grpNext = await fetchIn('ask', grpUrl);
  check('the next identical request is blocked at once by the group\'s rule', grpNext.startsWith('error:'), grpNext);
  await clickInRoot(page, '#pnl-tab-log');
  await frames(page, 2);
  await clickInRoot(page, 'button[data-act=filter-clear]');

  // ---- 5b. the source filter keeps its source when a new one sorts before it -----------------
  section('source filter');
  await clickInRoot(page, '#pnl-tab-log');
  await clickInRoot(page, 'button[data-act=filter-clear]');
  await frames(page, 2);
  const pickSource = await inRoot(page, `const s = root.querySelector('select[data-filter=source]');
    const o = [...s.options].find((o) => o.textContent === 'Gadget Flood'); if (!o) return null;
    s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true })); return o.value;`);
  await frames(page, 3);
  await page.evaluate(() => window.floodScript('/w/load.php?debug=1&modules=ext.gadget.Aardvark&only=scripts'));
  await page.waitForFunction(() => typeof window.aardvark === 'function');
  await page.evaluate((port) => window.aardvark(port), port);
  await page.evaluate(() => tprAuditor.settled());
  await frames(page, 3);
  const srcFilter = await inRoot(page, `const s = root.querySelector('select[data-filter=source]');
    const rows = [...root.querySelectorAll('.row')].filter((r) => !r.hidden);
    return { value: s.value, shown: s.selectedOptions[0] && s.selectedOptions[0].textContent, options: [...s.options].map((o) => o.textContent),
      rowSources: [...new Set(rows.map((r) => r.querySelectorAll('.cell')[5].textContent))], rows: rows.length };`);
  check('source filter: after a new source that sorts first (Gadget Aardvark) appears, the dropdown still shows the source the rows are filtered by',
    pickSource === 'gadget:Flood' && srcFilter.value === 'gadget:Flood' && srcFilter.shown === 'Gadget Flood'
    && srcFilter.options.indexOf('Gadget Aardvark') >= 0 && srcFilter.options.indexOf('Gadget Aardvark') < srcFilter.options.indexOf('Gadget Flood')
    && srcFilter.rows > 0 && srcFilter.rowSources.length === 1 && srcFilter.rowSources[0] === 'Gadget Flood', JSON.stringify(srcFilter));
  await clickInRoot(page, 'button[data-act=filter-clear]');
  await frames(page, 2);

  // ---- 5c. party glyphs ------------------------------------------------------------------------
  const PARTY_GLYPHS = { '⌂': 'This wiki', '◎': 'Wikimedia', '☁': 'Cloud Services', '↗': 'Third party', '⌘': 'Your computer' };
  const glyphs = await inRoot(page, `const rows = [...root.querySelectorAll('.row')].filter((r) => !r.hidden).slice(0, 8);
    return { log: rows.map((r) => { const c = r.querySelectorAll('.cell')[2]; const i = c.querySelector('.p-ico');
      return { icon: i && i.textContent, hidden: i && i.getAttribute('aria-hidden'), text: c.textContent.slice(i ? i.textContent.length : 0) }; }),
      summary: [...root.querySelectorAll('#pnl-tabpanel-summary table')[1].querySelectorAll('tbody th')].map((th) => ({ icon: th.querySelector('.ico') && th.querySelector('.ico').textContent, text: th.textContent })) };`);
  await clickInRoot(page, '#pnl-tab-destinations');
  await sleep(250);
  await frames(page, 2);
  const groupGlyphs = await inRoot(page, `return [...root.querySelectorAll('#pnl-tabpanel-destinations tbody tr.depth-0')].slice(0, 6).map((r) => {
    const i = r.querySelector('.p-ico'); const sr = r.querySelector('.p-ico + .sr'); return { icon: i && i.textContent, alt: sr && sr.textContent }; });`);
  await clickInRoot(page, '#pnl-tab-log');
  const partyOk = (g, name) => PARTY_GLYPHS[g] !== undefined && (name === undefined || name.includes(PARTY_GLYPHS[g]) || name === PARTY_GLYPHS[g]);
  check('party glyphs (not colour only) with their names: log rows, group rows and the summary',
    glyphs.log.length > 0 && glyphs.log.every((r) => r.hidden === 'true' && partyOk(r.icon, r.text))
    && glyphs.summary.length === 5 && new Set(glyphs.summary.map((r) => r.icon)).size === 5 && glyphs.summary.every((r) => PARTY_GLYPHS[r.icon] !== undefined)
    && groupGlyphs.length > 0 && groupGlyphs.every((r) => partyOk(r.icon, r.alt)), JSON.stringify({ glyphs, groupGlyphs }));

  // ---- 6. groupings ---------------------------------------------------------------------------
  section('groupings sum to the report');
  s = await summaryOf(page);
  for (const [tab, name] of [['destinations', 'by destination'], ['sources', 'by source']]) {
    await clickInRoot(page, `#pnl-tab-${tab}`);
    await sleep(250);
    await frames(page, 2);
    const sums = await inRoot(page, `const t = root.querySelector('#pnl-tabpanel-${tab} table');
      const rows = [...t.querySelectorAll('tbody tr.depth-0')];
      return { n: rows.length, requests: rows.reduce((a, r) => a + Number(r.children[1].textContent || 0), 0),
        flagged: rows.reduce((a, r) => a + Number(r.children[2].textContent || 0), 0) };`);
    check(`${name}: top-level requests and flagged sum to the report (${sums.n} groups)`, sums.requests === s.requests && sums.flagged === s.unconsented + s.blocked,
      `${JSON.stringify(sums)} vs requests ${s.requests}, flagged ${s.unconsented + s.blocked}`);
  }
  await clickInRoot(page, '#pnl-tabpanel-sources tbody tr.depth-0 button[data-act=group-toggle]', 0);
  await frames(page, 2);
  const expanded = await inRoot(page, `const rows = [...root.querySelectorAll('#pnl-tabpanel-sources tbody tr')];
    return { first: rows[0].children[0].textContent, expanded: rows[0].querySelector('[aria-expanded]').getAttribute('aria-expanded'),
      children: rows.filter((r) => r.classList.contains('depth-1')).length };`);
  check('a source group opens to its destinations', expanded.expanded === 'true' && expanded.children > 0, JSON.stringify(expanded));

  // ---- 7. ask mode -----------------------------------------------------------------------------
  section('questions in ask mode');
  await inRoot(page, `const s = root.querySelector('#pnl-mode'); s.value = 'ask'; s.dispatchEvent(new Event('change', { bubbles: true }));`);
  check('the mode switch sets the mode', (await page.evaluate(() => tprAuditor.mode())) === 'ask');
  const held = page.evaluate((port) => window.floodFetch(`http://api.askme.example:${port}/q`), port);
  await clickInRoot(page, '#pnl-tab-prompts');
  await sleep(250);
  await frames(page, 2);
  const prompt = await inRoot(page, `const li = root.querySelector('.prompts li'); return li && { q: li.querySelector('.q').textContent,
    buttons: [...li.querySelectorAll('button')].map((b) => b.textContent), tab: root.querySelector('#pnl-tab-prompts').textContent };`);
  check('a held request asks "Gadget Flood wants to connect to …"', prompt && prompt.q === `Gadget Flood wants to connect to http://api.askme.example:${port}`
    && prompt.buttons.join('|') === 'Allow once|Always for this source|Always|Block' && prompt.tab === 'Questions (1)', JSON.stringify(prompt));
  await clickInRoot(page, '.prompts li button[data-a=block]');
  const heldResult = await Promise.race([held, sleep(3000).then(() => 'still held')]);
  check('"Block" answers it: the request fails', heldResult.startsWith('error:'), heldResult);

  // ---- 8. live region in block mode ------------------------------------------------------------
  section('live region');
  await page.evaluate(() => tprAuditor.setMode('block'));
  await page.evaluate((port) => window.floodFetch(`http://tracker.blocked.example:${port}/pixel`), port);
  await page.evaluate(() => tprAuditor.settled());
  await frames(page, 3);
  const live = await inRoot(page, `const l = root.querySelector('[data-live]'); return { text: l.textContent, role: l.getAttribute('role'), live: l.getAttribute('aria-live') };`);
  check('the polite live region announces the blocked request', live.role === 'status' && live.live === 'polite'
    && live.text === `Blocked: Gadget Flood from http://tracker.blocked.example:${port}`, JSON.stringify(live));
  await page.evaluate(() => tprAuditor.setMode('audit'));

  // ---- 9. export and import -------------------------------------------------------------------
  section('export and import');
  await clickInRoot(page, '#pnl-tab-consent');
  await frames(page);
  await clickInRoot(page, 'button[data-act=export][data-i="1"][data-m=show]');
  const csp = await inRoot(page, `return root.querySelector('#pnl-export-out').value;`);
  const cspApi = await page.evaluate(() => tprAuditor.consent.export('csp'));
  check('export shows the CSP header of the consent list', csp === cspApi && csp.includes(`http://cdn.example.net:${port}`), csp);
  const rulesBefore = await page.evaluate(() => tprAuditor.consent.get().rules.length);
  await inRoot(page, `root.querySelector('#pnl-import-in').value = '{"version": 2,\\n "rules": [{"source": "https://a.example", "directives": ["bogus-src"], "scope": "*", "decision": "allow"}]}';`);
  await clickInRoot(page, 'button[data-act=import]');
  const imp = await inRoot(page, `return { errors: [...root.querySelectorAll('[data-field=import-errors] li')].map((l) => l.textContent),
    status: root.querySelectorAll('.status')[1].textContent };`);
  check('import lists every error with line and column, nothing imported', imp.errors.length === 2 && imp.errors.every((e) => /^Line \d+, column \d+ \(/.test(e))
    && imp.status === 'Nothing was imported: 2 problems.', JSON.stringify(imp));
  const rulesAfter = await page.evaluate(() => tprAuditor.consent.get().rules.length);
  check('a failed import changes nothing', rulesAfter === rulesBefore, `${rulesAfter} vs ${rulesBefore}`);

  // ---- 10. state ------------------------------------------------------------------------------
  section('remembered state');
  await clickInRoot(page, '#pnl-tab-log');
  const header = await inRoot(page, `const r = root.querySelector('.header h2').getBoundingClientRect(); return { x: r.x + 20, y: r.y + r.height / 2 };`);
  await page.mouse.move(header.x, header.y);
  await page.mouse.down();
  await page.mouse.move(header.x + 200, header.y - 60, { steps: 4 });
  await page.mouse.up();
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('tpr-auditor-panel')));
  check('drag and tab are stored under localStorage "tpr-auditor-panel"', stored.open === true && stored.tab === 'log' && stored.x > 100,
    JSON.stringify(stored));
  await page.reload({ waitUntil: 'load' });
  await page.evaluate(() => tprAuditor.ready);
  await frames(page, 3);
  const restored = await inRoot(page, `const p = root.querySelector('.panel'); return { open: !p.hidden, tab: root.querySelector('[aria-selected=true][role=tab]').id,
    left: Math.round(p.getBoundingClientRect().left) };`);
  check('a reload restores the open panel, its tab and place', restored.open && restored.tab === 'pnl-tab-log' && Math.abs(restored.left - stored.x) <= 1,
    JSON.stringify({ restored, stored }));
  await clickInRoot(page, 'button[data-act=collapse]');
  await frames(page);
  const collapsed = await inRoot(page, `const b = root.querySelector('.body'); const btn = root.querySelector('button[data-act=collapse]');
    return { body: getComputedStyle(b).display, expanded: btn.getAttribute('aria-expanded'), label: btn.textContent,
      height: Math.round(root.querySelector('.panel').getBoundingClientRect().height) };`);
  const storedCollapsed = await page.evaluate(() => JSON.parse(localStorage.getItem('tpr-auditor-panel')).collapsed);
  check('Collapse shrinks the panel to its title bar, and is remembered', collapsed.body === 'none' && collapsed.expanded === 'false'
    && collapsed.label === 'Expand' && collapsed.height < 60 && storedCollapsed === true, JSON.stringify(collapsed));
  await clickInRoot(page, 'button[data-act=collapse]');
  await frames(page);
  const expandedAgain = await inRoot(page, `return getComputedStyle(root.querySelector('.body')).display;`);
  check('Expand brings it back', expandedAgain === 'flex', expandedAgain);
  await page.evaluate(() => localStorage.setItem('tpr-auditor-panel', '{"open": "<img src=x>", "x": 1e308'));
  await page.reload({ waitUntil: 'load' });
  await page.evaluate(() => tprAuditor.ready);
  await frames(page, 2);
  const fallback = await inRoot(page, `return { open: !root.querySelector('.panel, .badge') || !root.querySelector('.panel'), badge: !!root.querySelector('.badge') };`);
  check('corrupted stored state: defaults (closed, badge shown)', fallback.badge && fallback.open, JSON.stringify(fallback));


  // ---- 11. theme ------------------------------------------------------------------------------
  section('light and dark');
  await page.evaluate(({ port }) => { localStorage.removeItem('tpr-auditor-panel'); window.flood(300, port); window.evil(port); }, { port });
  await page.evaluate(() => tprAuditor.settled());
  await page.keyboard.press('Alt+Shift+A');
  await clickInRoot(page, '#pnl-tab-log');
  await frames(page, 3);
  const bg = () => inRoot(page, `return getComputedStyle(root.querySelector('.panel')).backgroundColor;`);
  const light = await bg();
  fs.mkdirSync(SHOTS, { recursive: true });
  const shots = []; // [file, expected width, expected height]
  const shoot = async (name, clip) => {
    const file = path.join(SHOTS, `${name}.png`);
    await page.screenshot(clip ? { path: file, clip } : { path: file });
    const vp = page.viewportSize();
    shots.push([file, clip ? clip.width : vp.width, clip ? clip.height : vp.height]);
  };
  await shoot('panel-log-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await frames(page, 2);
  const dark = await bg();
  await shoot('panel-log-dark');
  check('prefers-color-scheme: dark changes the panel background (Codex dark)', light === 'rgb(255, 255, 255)' && dark === 'rgb(16, 20, 24)', `${light} → ${dark}`);
  // The class change reaches the panel through a MutationObserver and its next frame: polled
  // (a busy machine can take more than two frames), never assumed.
  const bgBecomes = async (want) => { let v = null; await waitFor(async () => (v = await bg()) === want, 3000); return v; };
  await page.evaluate(() => document.documentElement.classList.add('skin-theme-clientpref-day'));
  const forcedDay = await bgBecomes('rgb(255, 255, 255)');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.evaluate(() => { document.documentElement.classList.remove('skin-theme-clientpref-day'); document.documentElement.classList.add('skin-theme-clientpref-night'); });
  const night = await bgBecomes('rgb(16, 20, 24)');
  check('Vector night-mode classes win over the OS setting (day → light, night → dark)', forcedDay === 'rgb(255, 255, 255)' && night === 'rgb(16, 20, 24)',
    `${forcedDay}, ${night}`);
  // More views for a person to look at (not asserted beyond being written).
  await page.evaluate(() => document.documentElement.classList.remove('skin-theme-clientpref-night'));
  const panelBox = await inRoot(page, `const r = root.querySelector('.panel').getBoundingClientRect();
    return { x: Math.floor(r.x), y: Math.floor(r.y), width: Math.ceil(r.right) - Math.floor(r.x), height: Math.ceil(r.bottom) - Math.floor(r.y) };`);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const view of ['summary', 'destinations', 'sources', 'consent']) {
      await clickInRoot(page, `#pnl-tab-${view}`);
      if (view === 'destinations' || view === 'sources') {
        await clickInRoot(page, `#pnl-tabpanel-${view} tbody tr.depth-0 button[data-act=group-toggle]`, 0);
      }
      await sleep(250);
      await frames(page, 2);
      await shoot(`panel-${view}-${scheme}`, panelBox);
    }
    await clickInRoot(page, '#pnl-tab-log');
    await frames(page, 2);
    await clickInRoot(page, '.row:not([hidden]) .url', 2);
    await frames(page, 2);
    await shoot(`panel-details-${scheme}`, panelBox);
    await page.keyboard.press('Escape');
  }
  await page.emulateMedia({ colorScheme: 'light' });
  // Each screenshot: the size in its IHDR is the viewport's or the clip's, and it is not blank
  // (its inflated pixels hold many colours; a blank or one-colour image has a handful).
  const infos = shots.map(([file, w, h]) => ({ name: path.basename(file), want: `${w}×${h}`, ...pngInfo(file) }));
  const bad = infos.filter((i) => `${i.width}×${i.height}` !== i.want || !(i.colours >= 20) || !(i.compressed > 5000));
  check(`${shots.length} screenshots written to ${path.relative(ROOT, SHOTS) || SHOTS}/ (log, summary, groupings, consent, details; light and dark): expected size, not blank`,
    shots.length === 12 && bad.length === 0, JSON.stringify(bad.length ? bad : infos));
  console.log(`       ${infos.map((i) => `${i.name} ${i.width}×${i.height} ${i.colours} colours`).join(', ')}`);

  // ---- 12. i18n -------------------------------------------------------------------------------
  section('user language');
  const de = await context.newPage();
  await de.goto(`${W}/wiki/Deutsch`, { waitUntil: 'load' });
  await de.evaluate(() => tprAuditor.ready);
  await de.keyboard.press('Alt+Shift+A');
  await frames(de, 2);
  const deText = await de.evaluate(() => {
    const root = window.__tprTest.root();
    return { log: root.querySelector('#pnl-tab-log').textContent, lang: root.querySelector('.panel').getAttribute('lang'),
      destinations: root.querySelector('#pnl-tab-destinations').textContent, sources: root.querySelector('#pnl-tab-sources').textContent,
      shortcut: root.querySelector('.footer span:last-child').textContent };
  });
  check('wgUserLanguage "de": German where translated, English per missing key', deText.log === 'Protokoll' && deText.lang === 'de'
    && deText.destinations === 'Nach Ziel' && deText.shortcut === 'Alt+Shift+A opens and closes this panel.', JSON.stringify(deText));

  // ---- 12b. the default place on an edit page --------------------------------------------------
  section('edit page: the panel keeps clear of the edit controls');
  await editPlacement({ browser, bundle, options, W });

  // ---- 13. accessibility ------------------------------------------------------------------------
  section('accessibility (axe-core)');
  await axeAudit({ browser, bundle, options, W, port });

  // ---- benchmark (reported, not asserted: timings depend on the machine) --------------------
  section('benchmark (reported only)');
  await page.bringToFront();
  await page.evaluate(() => tprAuditor.setMode('audit'));
  const isOpen = () => inRoot(page, `return !root.querySelector('.panel').hidden;`);
  if (await isOpen()) await page.keyboard.press('Alt+Shift+A');
  const closedMs = await page.evaluate((port) => { const t = performance.now(); window.flood(10000, port, 'bench-closed'); return performance.now() - t; }, port);
  await page.evaluate(() => tprAuditor.settled());
  await frames(page, 2);
  await page.keyboard.press('Alt+Shift+A');
  await clickInRoot(page, '#pnl-tab-log');
  await frames(page, 2);
  const openRun = await page.evaluate((port) => new Promise((resolve) => {
    const t0 = performance.now();
    window.flood(10000, port, 'bench-open');
    const sync = performance.now() - t0;
    requestAnimationFrame(() => requestAnimationFrame(() => resolve({ sync, toFrame: performance.now() - t0 })));
  }), port);
  // ~1,000 events/s for 3 s: frame gaps measured by a rAF loop in the page.
  const streamRun = (tag) => page.evaluate(({ port, tag }) => new Promise((resolve) => {
    const gaps = []; let last = performance.now(); let running = true; let batches = 0; let busy = 0;
    const tick = (t) => { gaps.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    const iv = setInterval(() => { const t = performance.now(); window.flood(10, port, tag + batches++); busy += performance.now() - t; }, 10);
    setTimeout(() => { clearInterval(iv); running = false; gaps.sort((a, b) => a - b);
      resolve({ frames: gaps.length, batches, busy, max: gaps[gaps.length - 1], p95: gaps[Math.floor(gaps.length * 0.95)], median: gaps[Math.floor(gaps.length / 2)] }); }, 3000);
  }), { port, tag });
  // The frame that takes in the 10,000 events above may still be drawn a frame or two later
  // on a busy machine: let it pass so the window below holds only the stream's frames.
  await frames(page, 4);
  const framesBefore = (await page.evaluate(() => tprAuditor.panel.stats())).frames;
  const stream = await streamRun('stream-open-');
  // The open panel's own draw time in each frame of the stream (the frame budget of item 12).
  const streamStats = await page.evaluate(() => tprAuditor.panel.stats());
  const streamSeq = streamStats.recentMs.slice(-Math.min(512, streamStats.frames - framesBefore));
  const streamDraws = [...streamSeq].sort((a, b) => a - b);
  await page.keyboard.press('Escape');
  const streamClosed = await streamRun('stream-closed-');
  console.log(`       10,000 events, panel closed: ${closedMs.toFixed(1)} ms in the page (${(closedMs / 10).toFixed(1)} µs/event incl. hooks and core)`);
  console.log(`       10,000 events, log open: ${openRun.sync.toFixed(1)} ms in the page, ${openRun.toFrame.toFixed(1)} ms until two frames later`);
  for (const [name, r] of [['log open', stream], ['panel closed', streamClosed]]) {
    console.log(`       streaming ${r.batches * 10} events in 3 s, ${name}: ${r.frames} frames, gap median ${r.median.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, max ${r.max.toFixed(1)} ms; hooks+core ${r.busy.toFixed(0)} ms`);
  }
  if (streamDraws.length) console.log(`       streaming, log open, the panel's draw per animation frame (tprAuditor.panel.stats().recentMs): ${streamDraws.length} frames drawn,`
    + ` median ${streamDraws[Math.floor(streamDraws.length / 2)].toFixed(2)} ms, p95 ${streamDraws[Math.floor(streamDraws.length * 0.95)].toFixed(2)} ms,`
    + ` max ${streamDraws[streamDraws.length - 1].toFixed(2)} ms (budget 16 ms); the first five ${streamSeq.slice(0, 5).map((x) => x.toFixed(1)).join('/')} ms`);
  const drawn = await page.evaluate(() => tprAuditor.panel.stats());
  console.log(`       this page's open panel, draw per animation frame (tprAuditor.panel.stats()): ${drawn.frames} frames, max ${drawn.maxMs.toFixed(1)} ms, p95 of the last 512 ${drawn.p95Ms.toFixed(1)} ms`);
  await panelCost({ browser, bundle, options, W, port });
  const rowsAfterBench = await inRoot(page, `return root.querySelectorAll('.row').length;`);
  check(`after ${(await page.evaluate(() => tprAuditor.report().summary.events))} events the log still has few row elements`, rowsAfterBench <= 60, String(rowsAfterBench));

  check('no page error or console error', errors.length === 0, errors.join('\n'));
  check('nothing left the machine (every request to the test server)', offHost.length === 0, offHost.slice(0, 5).join('\n'));

  // ---- 14. the demo page --------------------------------------------------------------------
  section('the demo page');
  await demoPage();
} catch (e) {
  check(`test ran to the end (${e && e.message})`, false, e && e.stack);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) server.close();
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
// End-to-end test of the panel's Scan view on the real MediaWiki 1.39 harness (issue 7/7 item 9),
// in headless Debian Chromium through playwright-core.
//
//   node tests/e2e/scan-wiki.mjs     (after scripts/build.sh: dist/tpr-auditor.js and
//                                     dist/tpr-auditor-scanner.js)
//
// Starts the harness wiki if it is not answering (tests/mediawiki/setup.sh + start.sh, stop.sh at
// the end in that case). Logged in as Admin, loads the Main Page with dist/tpr-auditor.js and the
// scanner module (dist/tpr-auditor-scanner.js, which registers itself under
// Symbol.for('tpr-auditor.scanner') and so needs no `scanner` option) injected at document start,
// after a test driver that keeps a reference to the panel's CLOSED shadow root (it wraps
// Element.prototype.attachShadow, as tests/e2e/panel.mjs does; the page itself gets nothing).
// Waits for every probe of tests/mediawiki/probes.json, takes report(), then opens the panel,
// clicks the Scan tab and its start button, waits for the view's data-scan-state to be "done"
// and reads the view through the captured root (data-* attributes and text). Checks:
//   (a) every harness gadget (tests/mediawiki/pages/Gadget-*.js) has a section, with at least one
//       destination; each probe gadget lists the origin of each of its probes (probes.json) as a
//       constant (not dynamic) destination, the consent gadgets the origins and directives their
//       code can reach; the site scripts' group lists MediaWiki:Common.js's;
//   (b) every request of report().events whose source is a gadget, a user script or the site
//       script has a static finding in the section of that same source with the same origin, or
//       a dynamic finding there with the same directive; each miss is printed with its reason;
//   (c) the user-script tree holds User:Admin/common.js at the root and User:Admin/extra.js one
//       level below it (importScript), each with the origin its code fetches; the other roots
//       are the skin's script (missing) and global.js on Meta (skipped on a non-Wikimedia wiki);
//   and: the scan made no request beyond the wiki and its API reads are no page events, no page
//   or console error, and the view holds only the elements its own markup makes (text cells).
// A screenshot of the view goes to /tmp/tpr-scan-view.png.
// Ends with "N passed, N failed"; exit status 1 on any failure.
// env: CHROMIUM / TPR_CHROMIUM (default /usr/bin/chromium), TPR_MW_* (tests/mediawiki/README.md),
//      TPR_BUNDLE, TPR_SCANNER_BUNDLE; E2E_VERBOSE=1 prints the whole view.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HARNESS_DIR, STATE_DIR, readConfig, loadPlaywright, chromiumArgs, apiLogin, waitForProbes, recordNetwork,
  wikiUp, runHarnessScript,
} from '../mediawiki/lib/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = process.env.TPR_BUNDLE || path.join(ROOT, 'dist', 'tpr-auditor.js');
const SCANNER = process.env.TPR_SCANNER_BUNDLE || path.join(ROOT, 'dist', 'tpr-auditor-scanner.js');
const CHROMIUM = process.env.CHROMIUM || process.env.TPR_CHROMIUM || '/usr/bin/chromium';
const VERBOSE = !!process.env.E2E_VERBOSE;
const T0 = Date.now();

const watchdog = setTimeout(() => {
  console.log('FAIL  watchdog: the test did not finish in 170 s');
  cleanup().finally(() => process.exit(1));
}, 170000);
watchdog.unref();

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${!ok && detail ? `\n        ${String(detail).replace(/\n/g, '\n        ')}` : ''}`);
  return !!ok;
}
const section = (t) => console.log(`\n=== ${t}`);

// --- the wiki (as tests/e2e/mediawiki.mjs) ---------------------------------------------------
const runScript = runHarnessScript;
let startedWiki = false;
let browser = null;
async function cleanup() {
  if (browser) { await browser.close().catch(() => {}); browser = null; }
  if (startedWiki) {
    startedWiki = false;
    try { runScript('stop.sh'); } catch (e) { console.log(String(e.message)); }
  }
}

// Keeps the panel's closed shadow root for the test (the page gets none).
const DRIVER = `
(function () {
  var roots = [];
  var orig = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    var r = orig.call(this, init);
    roots.push({ host: this, root: r });
    return r;
  };
  window.__tprTest = {
    root: function () { var r = roots.find(function (x) { return x.host.localName === 'tpr-auditor'; }); return r && r.root; },
  };
})();
`;

/** Runs `src` (a function body with `root` and `arg`) against the captured shadow root. */
const inRoot = (page, src, arg) => page.evaluate(({ src, arg }) => {
  const root = window.__tprTest.root();
  // eslint-disable-next-line no-new-func
  return new Function('root', 'arg', src)(root, arg);
}, { src, arg });

async function clickInRoot(page, selector) {
  const box = await inRoot(page, `
    const e = root && root.querySelector(arg);
    if (!e) return null; e.scrollIntoView({ block: 'nearest' });
    const r = e.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 };`, selector);
  if (!box) return false;
  await page.mouse.click(box.x, box.y);
  return true;
}

/** The Scan view as data: gadget sections, the site scripts' section, the user-script tree. */
const READ_VIEW = `
  const rowsOf = (el) => [...el.querySelectorAll(':scope > table tbody tr')].map((tr) => ({
    destination: tr.getAttribute('data-destination'),
    dynamic: tr.getAttribute('data-dynamic') === 'true',
    directive: tr.getAttribute('data-directive'),
    text: [...tr.cells].map((c) => c.textContent),
  }));
  const notes = (el) => [...el.querySelectorAll(':scope > p.note')].map((p) => p.textContent);
  const tab = root.querySelector('#pnl-tabpanel-scan');
  const status = tab.querySelector('[data-scan-status]');
  // Every element of the view is one the view's own markup makes.
  const allowed = new Set(['p', 'h3', 'h4', 'h5', 'div', 'section', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'button']);
  const foreign = [...tab.querySelectorAll('*')].map((e) => e.localName).filter((n) => !allowed.has(n));
  return {
    status: status && status.textContent,
    state: status && status.getAttribute('data-scan-state'),
    foreign,
    gadgets: [...tab.querySelectorAll('section[data-gadget]')].map((s) => ({
      id: s.getAttribute('data-gadget'), heading: s.querySelector('h4').textContent, notes: notes(s), rows: rowsOf(s),
    })),
    site: [...tab.querySelectorAll('section[data-site-script]')].map((s) => ({
      id: s.getAttribute('data-site-script'), notes: notes(s), rows: rowsOf(s),
    })),
    tree: [...tab.querySelectorAll('[data-title][data-depth]')].map((n) => ({
      title: n.getAttribute('data-title'), depth: Number(n.getAttribute('data-depth')),
      state: n.getAttribute('data-state'), label: n.querySelector('h5').textContent, notes: notes(n), rows: rowsOf(n),
    })),
  };
`;

const originOf = (u) => { try { return new URL(u).origin; } catch { return null; } };

try {
  section('setup');
  for (const f of [BUNDLE, SCANNER]) {
    if (!check(`${path.relative(ROOT, f)} exists (scripts/build.sh)`, fs.existsSync(f))) throw new Error('no bundle');
  }
  if (await wikiUp()) {
    console.log('  test wiki already running: using it (not stopping it afterwards)');
  } else {
    console.log('  test wiki not answering: setup.sh + start.sh');
    runScript('setup.sh');
    startedWiki = true;
    runScript('start.sh');
  }
  check('test wiki and fake hosts answer', await wikiUp());
  const { env, hosts, probes } = readConfig();
  const wikiOrigin = new URL(env.wikiUrl).origin;
  // The harness gadgets: every Gadget-*.js page of its definition.
  const harnessGadgets = fs.readdirSync(path.join(HARNESS_DIR, 'pages'))
    .map((f) => /^Gadget-(.+)\.js$/.exec(f)).filter(Boolean).map((m) => m[1]).sort();

  const { chromium } = await loadPlaywright();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs(hosts) });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await apiLogin(context, env);
  await context.addInitScript({ content: `${DRIVER}\n${fs.readFileSync(BUNDLE, 'utf8')}` });
  await context.addInitScript({ content: fs.readFileSync(SCANNER, 'utf8') });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location().url || '';
    if (/\/favicon\.ico$/.test(where)) return; // the browser's own icon request
    errors.push(`console error: ${m.text()} (${where || 'no location'})`);
  });
  const net = recordNetwork(page);

  // --- the page and what ran on it -----------------------------------------------------------
  section('page load');
  await page.goto(`${env.wikiUrl}/index.php?title=Main_Page`, { waitUntil: 'load' });
  const { missingMarkers, missingRequests } = await waitForProbes(page, net, probes, 20000);
  check('every probe ran and its request was answered', !missingMarkers.length && !missingRequests.length,
    `markers never set: ${missingMarkers.join(', ') || '-'}; requests missing: ${missingRequests.map((p) => p.id).join(', ') || '-'}`);
  const report = await page.evaluate(async () => {
    const a = window.tprAuditor;
    await a.ready;
    await a.settled();
    const r = a.report();
    return { status: a.status, user: mw.config.get('wgUserName'), events: r.events.map((e) => ({
      url: e.url, channel: e.channel, directive: e.directive, source: e.source, observedBy: e.observedBy,
    })) };
  });
  check('auditor running, logged in as Admin', report.status === 'running' && report.user === env.adminUser,
    `status ${report.status}, user ${report.user}`);
  const userCode = report.events.filter((e) => ['gadget', 'user-script', 'site-script'].includes(e.source.kind));
  console.log(`  ${report.events.length} events, ${userCode.length} from gadgets, user scripts or the site script`);

  // --- the Scan view -------------------------------------------------------------------------
  section('Scan view');
  const before = net.entries.length;
  const opened = await page.evaluate(() => window.tprAuditor.panel.open());
  check('the panel opens (tprAuditor.panel.open())', opened === true);
  check('the Scan tab is clicked', await clickInRoot(page, '#pnl-tab-scan'));
  const shown = await inRoot(page, `const t = root.querySelector('#pnl-tabpanel-scan'); return !!t && !t.hidden;`);
  check('the Scan tab panel is shown', shown);
  check('its start button is clicked', await clickInRoot(page, '#pnl-tabpanel-scan [data-act="scan-start"]'));
  const state = await page.waitForFunction(() => {
    const root = window.__tprTest.root();
    const s = root && root.querySelector('#pnl-tabpanel-scan [data-scan-status]');
    const st = s && s.getAttribute('data-scan-state');
    return st === 'done' || st === 'failed' ? st : null;
  }, null, { timeout: 60000, polling: 100 }).then((h) => h.jsonValue(), () => 'timeout');
  const view = await inRoot(page, READ_VIEW);
  check('the scan finished', state === 'done', `state ${state}: ${view.status}`);
  console.log(`  status: ${view.status}`);
  check('the view is text in its own markup only (no other element)', !view.foreign.length, view.foreign.join(', '));
  if (VERBOSE) console.log(JSON.stringify(view, null, 1));
  await page.screenshot({ path: '/tmp/tpr-scan-view.png' }).catch(() => {});
  const scanRequests = net.entries.slice(before);
  const beyond = scanRequests.filter((e) => !e.url.startsWith(`${wikiOrigin}/`));
  check('the scan made no request beyond the wiki', !beyond.length, beyond.map((e) => `${e.type} ${e.url}`).join('\n'));
  const ownReads = await page.evaluate(() => tprAuditor.report().events
    .filter((e) => /[?&](list=gadgets|prop=revisions)&/.test(e.url)).map((e) => e.url));
  check("the scan's API reads are the auditor's own, not page events", scanRequests.length > 0 && !ownReads.length,
    `${scanRequests.length} requests; events: ${ownReads.join('\n')}`);
  console.log(`  the scan's requests: ${scanRequests.length} to the wiki (${scanRequests.map((e) => new URL(e.url).searchParams.get('list') || new URL(e.url).searchParams.get('prop') || e.url).join(', ')})`);

  // (a) every harness gadget, with the destinations of its probes.
  section('(a) gadgets');
  const byGadget = new Map(view.gadgets.map((g) => [g.id, g]));
  for (const id of harnessGadgets) {
    const g = byGadget.get(id);
    if (!check(`gadget ${id} is listed`, !!g, `sections: ${[...byGadget.keys()].join(', ')}`)) continue;
    const dests = g.rows.map((r) => (r.dynamic ? `dynamic(${r.directive})` : r.destination));
    console.log(`    ${id}: ${[...new Set(dests)].join(', ') || '-'}${g.notes.length ? ` [${g.notes.join('; ')}]` : ''}`);
    check(`gadget ${id}: at least one destination, every page read`, g.rows.length > 0 && !g.notes.length,
      `rows ${g.rows.length}, notes ${JSON.stringify(g.notes)}`);
    for (const p of probes.filter((x) => x.expect.source.kind === 'gadget' && x.expect.source.name === id)) {
      const want = originOf(p.url);
      const row = g.rows.find((r) => !r.dynamic && r.destination === want);
      check(`gadget ${id}: ${want} (${p.mechanism}) listed as a constant destination`, !!row,
        `found: ${dests.join(', ') || 'nothing'}`);
    }
  }
  // The consent gadgets are not in probes.json (they make requests only when a test asks):
  // what their code can reach, by directive.
  const fakeOrigin = (label) => `http://${label}.thirdparty.test:${env.fakePort}`;
  const consentExpect = {
    'consent-a': [[fakeOrigin('api'), 'connect-src']],
    'consent-b': [[fakeOrigin('api'), 'connect-src']],
    'consent-kinds': ['ok', 'no'].flatMap((l) => ['script-src', 'img-src', 'frame-src', 'connect-src'].map((d) => [fakeOrigin(l), d])),
  };
  for (const [id, want] of Object.entries(consentExpect)) {
    const g = byGadget.get(id);
    const missing = want.filter(([o, d]) => !g?.rows.some((r) => !r.dynamic && r.destination === o && r.directive === d));
    check(`gadget ${id}: ${want.length} constant destination(s) by directive`, g && !missing.length,
      `missing: ${missing.map(([o, d]) => `${d} ${o}`).join(', ')}`);
  }
  const extra = view.gadgets.map((g) => g.id).filter((id) => !harnessGadgets.includes(id));
  if (extra.length) console.log(`  other gadgets of this wiki (not checked): ${extra.join(', ')}`);

  const site = view.site.find((x) => x.id === 'site');
  check("the site scripts' group lists MediaWiki:Common.js's destination", site?.rows.some((r) => !r.dynamic && r.destination === originOf(probes.find((p) => p.id === 'site').url)),
    JSON.stringify(view.site));
  for (const s of view.site) console.log(`    site scripts (${s.id}): ${[...new Set(s.rows.map((r) => r.destination))].join(', ') || '-'}${s.notes.length ? ` [${s.notes.join('; ')}]` : ''}`);

  // (b) every request of user-managed code has its static finding.
  section('(b) observed requests vs. static findings');
  const entriesOf = (src) => {
    if (src.kind === 'gadget') {
      const g = byGadget.get(src.name);
      return g ? { rows: g.rows } : { why: `no section for gadget ${src.name}` };
    }
    if (src.kind === 'site-script') {
      const s = view.site.find((x) => x.id === src.name);
      return s ? { rows: s.rows } : { why: `no section for the site script ${src.name}` };
    }
    const n = view.tree.find((x) => x.title === src.name);
    return n ? { rows: n.rows } : { why: `no node for the user script ${src.name} in the tree` };
  };
  const misses = [];
  let exact = 0;
  let dyn = 0;
  for (const e of userCode) {
    const who = `${e.source.kind}:${e.source.name}`;
    const origin = originOf(e.url);
    const found = entriesOf(e.source);
    if (found.why) { misses.push(`${who} ${e.channel} ${e.url}: ${found.why}`); continue; }
    if (found.rows.some((r) => !r.dynamic && r.destination === origin)) { exact++; continue; }
    const d = found.rows.find((r) => r.dynamic && r.directive === e.directive);
    if (d) {
      dyn++;
      console.log(`    dynamic: ${who} ${e.channel} ${e.url} <- ${d.text[0]}`);
      continue;
    }
    misses.push(`${who} ${e.channel} ${e.directive} ${e.url}: the scanner found ${origin} nowhere in it` +
      ` (its destinations: ${[...new Set(found.rows.map((r) => (r.dynamic ? `dynamic(${r.directive})` : r.destination)))].join(', ') || 'none'})`);
  }
  console.log(`  ${userCode.length} observed: ${exact} with a constant finding, ${dyn} with a dynamic one, ${misses.length} missed`);
  for (const m of misses) console.log(`    MISS ${m}`);
  check('every observed request of a gadget, user script or the site script has a static finding',
    userCode.length > 0 && !misses.length, `${misses.length} missed (listed above)`);
  const kinds = new Set(userCode.map((e) => e.source.kind));
  check('observed requests of all three kinds were compared', ['gadget', 'user-script', 'site-script'].every((k) => kinds.has(k)),
    `kinds: ${[...kinds].join(', ')}`);

  // (c) the user-script tree follows importScript.
  section('(c) user-script tree');
  for (const n of view.tree) console.log(`    ${'  '.repeat(n.depth)}${n.label}${n.rows.length ? `: ${[...new Set(n.rows.map((r) => r.destination))].join(', ')}` : ''}`);
  const common = `User:${env.adminUser}/common.js`;
  const extraJs = `User:${env.adminUser}/extra.js`;
  const ci = view.tree.findIndex((n) => n.title === common);
  const xi = view.tree.findIndex((n) => n.title === extraJs);
  check(`${common} is a root of the tree`, ci >= 0 && view.tree[ci].depth === 0, JSON.stringify(view.tree[ci]));
  // Display order is depth first: the parent is the nearest earlier node one level up.
  let parent = null;
  if (xi > 0) {
    for (let i = xi - 1; i >= 0; i--) if (view.tree[i].depth === view.tree[xi].depth - 1) { parent = view.tree[i]; break; }
  }
  check(`${extraJs} is a child of ${common} (importScript)`, xi > ci && ci >= 0 && view.tree[xi].depth === 1 && parent?.title === common,
    `extra.js at ${xi} depth ${view.tree[xi]?.depth}, parent ${parent?.title}`);
  const roots = view.tree.filter((n) => n.depth === 0).map((n) => `${n.title}=${n.state}`);
  check('the roots: common.js, the skin\'s script (missing here), global.js on Meta (skipped: not Wikimedia)',
    JSON.stringify(roots) === JSON.stringify([`${common}=scanned`, `User:${env.adminUser}/vector.js=missing`, `User:${env.adminUser}/global.js=skipped`]),
    roots.join(', '));
  const fake = (u) => originOf(probes.find((p) => p.id === u).url);
  check(`${common} lists the wiki (importScript) and ${fake('user')}`, ci >= 0
    && view.tree[ci].rows.some((r) => !r.dynamic && r.destination === wikiOrigin)
    && view.tree[ci].rows.some((r) => !r.dynamic && r.destination === fake('user')),
  JSON.stringify(view.tree[ci]?.rows));
  check(`${extraJs} lists ${fake('User:Admin/extra.js')}`, xi >= 0
    && view.tree[xi].rows.some((r) => !r.dynamic && r.destination === fake('User:Admin/extra.js')),
  JSON.stringify(view.tree[xi]?.rows));
  check('no page or console error', !errors.length, errors.join('\n'));
} catch (e) {
  check('test ran to the end', false, e && e.stack ? e.stack : String(e));
} finally {
  await cleanup();
  clearTimeout(watchdog);
}

const failed = results.filter((r) => !r.ok);
console.log(`\nscan-wiki e2e: ${((Date.now() - T0) / 1000).toFixed(1)} s`);
if (failed.length) console.log(`FAILED:\n  ${failed.map((r) => r.name).join('\n  ')}`);
console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length ? 1 : 0;

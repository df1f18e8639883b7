#!/usr/bin/env node
// End-to-end test of the demo (www/, scripts/demo-server.py) in headless Debian Chromium.
//
//   node tests/e2e/demo.mjs            (after scripts/build.sh, which makes dist/tpr-auditor.js)
//
// Starts the demo server on free ports (wiki + fake hosts), launches /usr/bin/chromium through
// playwright-core with a temporary profile and the server's --host-resolver-rules, and checks:
//   1. with the auditor: every demo script ran (window.demoDone) and each of its requests was
//      answered (window.demoLog); every expected request is in the browser's network log; and
//      tprAuditor.report().events has exactly one event per expected request with the expected
//      channel, directive, party, tool, tier, carried data and source (kind, name, chain);
//      the page's live table shows every event, the report button shows the report as JSON;
//      no page error, no console error;
//   2. without the auditor (/tpr-auditor.js answers 404): the page shows its notice, every
//      script still runs, nothing throws;
//   3. the page asked for under 127.0.0.1 only explains how to open the demo;
//   4. nothing left the machine: every request of the browser went to the page host, localhost
//      or a host the resolver rules map to 127.0.0.1, on one of the two demo ports, over plain
//      http/ws; every fake-host request reached the fake listener (its request log);
//   5. the demo page renders event data with textContent only (no innerHTML & co. in www/).
// Expectations marked `gap` are requests the auditor cannot yet see as SPEC §4/§6 want (printed
// as KNOWN GAP, not counted as failures; once one matches, the test says to drop the mark).
// Ends with the line "N passed, N failed"; exit status 1 if any check failed.
//
// env: CHROMIUM (default /usr/bin/chromium), DEMO_HEADFUL=1 to watch, DEMO_KEEP_PROFILE=1
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadPlaywright, chromiumArgs } from '../mediawiki/lib/harness.mjs';
import { startServer, stopServer } from './lib/demo-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = path.join(ROOT, 'dist', 'tpr-auditor.js');
const CHROMIUM = process.env.CHROMIUM || process.env.TPR_CHROMIUM || '/usr/bin/chromium';
const T0 = Date.now();

// The demo scripts (keys of window.demoDone) and every request they make. In URLs, @W is the
// page's origin (http://wiki.demo.test:PORT) and @F the fake listener's port.
const GADGETS = ['site', 'HotCat', 'Charinsert', 'PageStats', 'Translator', 'WikiMiniAtlas', 'UserCommon'];
const TRANSLATOR = 'MediaWiki:Gadget-Translator.js';
const pageScript = (url, carries = []) => ({ gadget: null, url, ev: {
  channel: 'script', directive: 'script-src', party: 'first', tier: 'executable', carries, source: { kind: 'page' } } });
const EXPECT = [
  // The scripts themselves, parser-inserted by the page: source `page`.
  pageScript('@W/w/load.php?debug=1&modules=site&only=scripts'),
  pageScript('@W/w/load.php?debug=1&modules=ext.gadget.Charinsert&only=scripts'),
  pageScript('@W/w/index.php?title=MediaWiki:Gadget-HotCat.js&action=raw&ctype=text/javascript'),
  pageScript('@W/w/index.php?title=MediaWiki:Gadget-PageStats.js&action=raw&ctype=text/javascript'),
  pageScript(`@W/w/index.php?title=${TRANSLATOR}&action=raw&ctype=text/javascript`),
  pageScript('@W/w/index.php?title=MediaWiki:Gadget-WikiMiniAtlas.js&action=raw&ctype=text/javascript'),
  pageScript('@W/w/index.php?title=User:Demo_User/common.js&action=raw&ctype=text/javascript', ['user']),

  // MediaWiki:Common.js, module `site` (load.php debug URL).
  { gadget: 'site', url: '@W/w/api.php?action=query&meta=siteinfo&siprop=general&format=json', ev: {
    channel: 'fetch', directive: 'connect-src', party: 'first', tier: 'passive', carries: [], source: { kind: 'site-script', name: 'site' } } },
  { gadget: 'site', url: 'http://cdn.thirdparty.test:@F/fonts/site-icons.woff2', ev: {
    channel: 'preload', directive: 'font-src', party: 'third', tier: 'passive', carries: [], source: { kind: 'site-script', name: 'site' } } },

  // Gadget Charinsert (load.php?debug=1&modules=ext.gadget.Charinsert).
  { gadget: 'Charinsert', url: 'http://fonts.googleapis.com:@F/css2?family=Noto+Sans&display=swap', ev: {
    channel: 'style', directive: 'style-src', party: 'third', tier: 'passive', carries: [], source: { kind: 'gadget', name: 'Charinsert' } } },
  { gadget: 'Charinsert', url: 'http://cdn.thirdparty.test:@F/charinsert/theme.css', ev: {
    channel: 'css-import', directive: 'style-src', party: 'third', tier: 'passive', carries: [], source: { kind: 'gadget', name: 'Charinsert' } } },
  { gadget: 'Charinsert', url: 'http://cdn.thirdparty.test:@F/charinsert/symbols.woff2', ev: {
    channel: 'font-face', directive: 'font-src', party: 'third', tier: 'passive', carries: [], source: { kind: 'gadget', name: 'Charinsert' } } },
  { gadget: 'Charinsert', url: 'http://img.thirdparty.test:@F/charinsert/bg.png', ev: {
    channel: 'css-url', directive: 'img-src', party: 'third', tier: 'passive', carries: [], source: { kind: 'gadget', name: 'Charinsert' } } },

  // MediaWiki:Gadget-HotCat.js (index.php action=raw).
  { gadget: 'HotCat', url: '@W/w/api.php?action=query&list=allcategories&acprefix=Demo&format=json', ev: {
    channel: 'xhr', directive: 'connect-src', party: 'first', tier: 'passive', carries: [], source: { kind: 'user-script', name: 'MediaWiki:Gadget-HotCat.js' } } },
  { gadget: 'HotCat', url: 'http://hotcat.toolforge.org:@F/api/suggest?q=Demo+cat', ev: {
    channel: 'xhr', directive: 'connect-src', party: 'cloud', tool: 'hotcat', tier: 'data', carries: ['cookies'], source: { kind: 'user-script', name: 'MediaWiki:Gadget-HotCat.js' } } },

  // MediaWiki:Gadget-PageStats.js.
  { gadget: 'PageStats', url: 'http://collect.analytics.test:@F/beacon?page=Demo_page', ev: {
    channel: 'beacon', directive: 'connect-src', party: 'third', tier: 'data', carries: ['page'], source: { kind: 'user-script', name: 'MediaWiki:Gadget-PageStats.js' } } },
  { gadget: 'PageStats', url: 'http://pixel.analytics.test:@F/p.gif?user=Demo_User', ev: {
    channel: 'img', directive: 'img-src', party: 'third', tier: 'data', carries: ['user'], source: { kind: 'user-script', name: 'MediaWiki:Gadget-PageStats.js' } } },
  { gadget: 'PageStats', url: '@W/static/pageviews-badge.svg', ev: {
    channel: 'img', directive: 'img-src', party: 'first', tier: 'passive', carries: [], source: { kind: 'user-script', name: 'MediaWiki:Gadget-PageStats.js' } } },

  // MediaWiki:Gadget-Translator.js: an external script (whose own fetch has the gadget in its
  // chain), a dynamic import(), a worker (whose own fetch belongs to the page, SPEC §4).
  { gadget: 'Translator', url: 'http://cdn.thirdparty.test:@F/translate/translate-lib.js', ev: {
    channel: 'script', directive: 'script-src', party: 'third', tier: 'executable', carries: [], source: { kind: 'user-script', name: TRANSLATOR } } },
  { gadget: 'Translator', url: 'http://api.thirdparty.test:@F/translate/v1?text=Hello&to=de', ev: {
    channel: 'fetch', directive: 'connect-src', party: 'third', tier: 'passive', carries: [],
    source: { kind: 'script', name: 'http://cdn.thirdparty.test:@F/translate/translate-lib.js', chainIncludes: [`user-script:${TRANSLATOR}`] } } },
  { gadget: 'Translator', url: 'http://cdn.thirdparty.test:@F/translate/translate-esm.mjs',
    gap: 'import() is syntax, no page hook sees it: only resource timing does, without a stack', ev: {
      channel: 'module', directive: 'script-src', party: 'third', tier: 'executable', carries: [], source: { kind: 'user-script', name: TRANSLATOR } } },
  { gadget: 'Translator', url: '@W/gadgets/translator-worker.js', ev: {
    channel: 'worker', directive: 'worker-src', party: 'first', tier: 'executable', carries: [], source: { kind: 'user-script', name: TRANSLATOR } } },
  { gadget: 'Translator', url: 'http://api.thirdparty.test:@F/translate/worker?text=Demo',
    gap: 'requests made inside a worker loaded from a URL are not observed', ev: {
      channel: 'fetch', directive: 'connect-src', party: 'third', tier: 'passive', carries: [],
      source: { kind: 'script', name: '@W/gadgets/translator-worker.js', chainIncludes: [`user-script:${TRANSLATOR}`] } } },

  // MediaWiki:Gadget-WikiMiniAtlas.js.
  { gadget: 'WikiMiniAtlas', url: 'http://wikiminiatlas.toolforge.org:@F/map.html?lat=0&lon=0', ev: {
    channel: 'frame', directive: 'frame-src', party: 'cloud', tool: 'wikiminiatlas', tier: 'executable', carries: [], source: { kind: 'user-script', name: 'MediaWiki:Gadget-WikiMiniAtlas.js' } } },
  { gadget: 'WikiMiniAtlas', url: 'http://maps.wmcloud.org:@F/osm/1/0/0.png', ev: {
    channel: 'img', directive: 'img-src', party: 'cloud', tool: 'maps', tier: 'passive', carries: [], source: { kind: 'user-script', name: 'MediaWiki:Gadget-WikiMiniAtlas.js' } } },
  { gadget: 'WikiMiniAtlas', url: 'http://media.thirdparty.test:@F/pronounce/Demo_page.wav', ev: {
    channel: 'media', directive: 'media-src', party: 'third', tier: 'data', carries: ['page'], source: { kind: 'user-script', name: 'MediaWiki:Gadget-WikiMiniAtlas.js' } } },

  // User:Demo User/common.js.
  { gadget: 'UserCommon', url: 'ws://stream.wmcloud.org:@F/ws/recentchanges', ev: {
    channel: 'websocket', directive: 'connect-src', party: 'cloud', tool: 'stream', tier: 'passive', carries: [], source: { kind: 'user-script', name: 'User:Demo User/common.js' } } },
  { gadget: 'UserCommon', url: 'http://stream.wmcloud.org:@F/v2/stream/events', ev: {
    channel: 'eventsource', directive: 'connect-src', party: 'cloud', tool: 'stream', tier: 'passive', carries: [], source: { kind: 'user-script', name: 'User:Demo User/common.js' } } },
  { gadget: 'UserCommon', url: 'http://localhost:@F/dev/status', ev: {
    channel: 'fetch', directive: 'connect-src', party: 'local', tier: 'passive', carries: [], source: { kind: 'user-script', name: 'User:Demo User/common.js' } } },
];
// Requests of the page itself that no expectation lists (skin, logo, favicon, the auditor).
const PAGE_EXTRAS = ['@W/wiki/Demo_page', '@W/tpr-auditor.js', '@W/static/vector-demo.css', '@W/static/wiki-logo.svg'];

// ------------------------------------------------------------------------------------------
const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'ok    ' : 'FAIL  '} ${name}${detail ? `\n         ${String(detail).replace(/\n/g, '\n         ')}` : ''}`);
  return !!ok;
}
const gaps = [];
function section(title) { console.log(`\n=== ${title}`); }



/** Every request of the context (all frames and workers) and every WebSocket. */
function recordNetwork(context, page) {
  const entries = [];
  const byReq = new Map();
  context.on('request', (req) => {
    const e = { url: req.url(), type: req.resourceType(), status: null, failure: null };
    byReq.set(req, e);
    entries.push(e);
  });
  context.on('response', (res) => { const e = byReq.get(res.request()); if (e) e.status = res.status(); });
  context.on('requestfailed', (req) => { const e = byReq.get(req); if (e) e.failure = req.failure()?.errorText || 'failed'; });
  page.on('websocket', (ws) => {
    const e = { url: ws.url(), type: 'websocket', status: null, failure: null };
    entries.push(e);
    ws.on('framereceived', () => { e.status = 101; });
    ws.on('socketerror', (err) => { e.failure = String(err); });
  });
  return entries;
}

/** Host patterns of Chromium's `MAP pattern 127.0.0.1` rules, as RegExps. */
function mappedHostPatterns(rules) {
  return rules.split(',').map((r) => r.trim().split(/\s+/)).filter((p) => p[0] === 'MAP' && p[2] === '127.0.0.1')
    .map((p) => new RegExp(`^${p[1].replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i'));
}

function sameSet(a = [], b = []) {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

/** Differences between an auditor event and the expectation (empty = matches). */
function diffEvent(ev, exp) {
  const d = [];
  for (const k of ['channel', 'directive', 'party', 'tier']) if (ev[k] !== exp[k]) d.push(`${k} ${JSON.stringify(ev[k])} != ${JSON.stringify(exp[k])}`);
  if ((exp.tool || null) !== (ev.tool || null)) d.push(`tool ${JSON.stringify(ev.tool)} != ${JSON.stringify(exp.tool || null)}`);
  if (!sameSet(ev.carries, exp.carries)) d.push(`carries ${JSON.stringify(ev.carries)} != ${JSON.stringify(exp.carries)}`);
  const s = ev.source || {};
  if (s.kind !== exp.source.kind) d.push(`source.kind ${JSON.stringify(s.kind)} != ${JSON.stringify(exp.source.kind)}`);
  if ((s.name || null) !== (exp.source.name || null)) d.push(`source.name ${JSON.stringify(s.name)} != ${JSON.stringify(exp.source.name || null)}`);
  for (const c of exp.source.chainIncludes || []) if (!(s.chain || []).includes(c)) d.push(`source.chain ${JSON.stringify(s.chain)} lacks ${JSON.stringify(c)}`);
  return d;
}

async function waitFor(fn, timeout, step = 100) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, step));
  }
}

function watchErrors(page) {
  const errors = { page: [], console: [] };
  page.on('pageerror', (e) => errors.page.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.console.push(m.text()); });
  return errors;
}

// ------------------------------------------------------------------------------------------
let server = null;
let context = null;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tpr-demo-profile-'));
process.on('SIGINT', () => { stopServer(server?.proc); process.exit(130); });

try {
  server = await startServer();
  const { cfg } = server;
  const W = `http://${cfg.pageHost}:${cfg.port}`;
  const fill = (s) => s.replaceAll('@W', W).replaceAll('@F', String(cfg.fakePort));
  const expect = EXPECT.map((e) => ({ ...e, url: fill(e.url),
    ev: { ...e.ev, source: { ...e.ev.source, name: e.ev.source.name && fill(e.ev.source.name) } } }));
  console.log(`demo server: wiki :${cfg.port}, fake hosts :${cfg.fakePort}; page ${cfg.pageUrl}`);
  console.log(`chromium: ${CHROMIUM}, profile ${profile}, --host-resolver-rules="${cfg.hostResolverRules}"`);

  const { chromium } = await loadPlaywright();
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: process.env.DEMO_HEADFUL !== '1',
    args: chromiumArgs({ hostResolverRules: cfg.hostResolverRules }, ['--disable-gpu']),
  });
  for (const p of context.pages()) await p.close();

  // ---- 1. with the auditor ----------------------------------------------------------------
  section('page with the auditor');
  const page = await context.newPage();
  const net = recordNetwork(context, page);
  const errors = watchErrors(page);
  const bundlePresent = fs.existsSync(BUNDLE);
  check('dist/tpr-auditor.js exists (scripts/build.sh)', bundlePresent, bundlePresent ? '' : `${BUNDLE} missing: auditor checks will fail`);
  await page.goto(cfg.pageUrl, { waitUntil: 'load' });

  await page.waitForFunction((names) => names.every((n) => window.demoDone && window.demoDone[n]), GADGETS,
    { timeout: 20000, polling: 50 }).catch(() => {});
  const demo = await page.evaluate(() => ({ done: window.demoDone, log: window.demoLog }));
  for (const g of GADGETS) check(`script ${g} ran to the end`, demo.done[g] === true);
  const notOk = demo.log.filter((e) => e.ok !== true);
  check(`every tracked request of the scripts succeeded (${demo.log.length})`, demo.log.length > 0 && !notOk.length,
    notOk.map((e) => `${e.gadget} ${e.what} ${e.url}: ${e.error || 'pending'}`).join('\n'));

  // Network log: every expected request went out and was answered (or, for the event stream
  // the demo closes after one message, at least started).
  const answered = (url) => net.some((e) => e.url === url && (e.status || e.failure));
  await waitFor(() => expect.every((x) => answered(x.url)), 10000);
  const missingNet = expect.filter((x) => !net.some((e) => e.url === x.url));
  check(`every expected request is in the browser's network log (${expect.length})`, !missingNet.length,
    missingNet.map((x) => x.url).join('\n'));
  const known = new Set([...expect.map((x) => x.url), ...PAGE_EXTRAS.map(fill)]);
  const unexpected = [...new Set(net.map((e) => e.url))].filter((u) => !known.has(u));
  check('no request beyond the expected ones', !unexpected.length, unexpected.join('\n'));

  if (bundlePresent) {
    const status = await page.evaluate(async () => {
      if (!window.tprAuditor) return { present: false };
      try { await window.tprAuditor.ready; return { present: true, ok: true, status: window.tprAuditor.status }; } catch (e) {
        return { present: true, ok: false, error: String(e && e.message || e) };
      }
    });
    check('window.tprAuditor exists and ready resolves', status.present && status.ok, JSON.stringify(status));

    // Events come in from hooks at once and from resource timing a little later: wait until
    // every expected URL has an event (or time runs out), then compare.
    const report = async () => page.evaluate(() => window.tprAuditor.report());
    let rep = await waitFor(async () => {
      const r = await report();
      const urls = new Set(r.events.map((e) => e.url));
      return expect.every((x) => urls.has(x.url)) ? r : null;
    }, 10000, 200) || await report();
    await page.waitForTimeout(500); // late merges (resource timing) settle
    rep = await report();
    check('report() has version, page, mode, startedAt, events, summary',
      ['version', 'page', 'mode', 'startedAt', 'events', 'summary'].every((k) => k in rep), Object.keys(rep).join(', '));
    check('mode is audit, packaging demo (data-packaging)', rep.mode === 'audit' && rep.packaging === 'demo',
      `mode ${rep.mode}, packaging ${rep.packaging}`);

    for (const x of expect) {
      const evs = rep.events.filter((e) => e.url === x.url);
      const label = `event ${x.ev.channel} ${x.url}`;
      if (x.gap) {
        const d = evs.length === 1 ? diffEvent(evs[0], x.ev) : [`${evs.length} events`];
        if (d.length) {
          gaps.push(`${label}: ${x.gap} (now: ${evs.map((e) => `${e.channel}/${e.source?.kind}`).join(', ') || 'no event'})`);
          console.log(`gap    ${label}\n         KNOWN GAP: ${x.gap}; differs: ${d.join('; ')}`);
        } else {
          check(label, true, 'matches now: drop its `gap` mark in tests/e2e/demo.mjs');
        }
        continue;
      }
      if (evs.length !== 1) {
        check(label, false, `${evs.length} events for this URL${evs.length ? `: ${JSON.stringify(evs.map((e) => [e.channel, e.observedBy]))}` : ''}`);
        continue;
      }
      const d = diffEvent(evs[0], x.ev);
      check(label, !d.length, d.join('; '));
    }

    // The demo's live table (fed by tpr-auditor:event) and the report button.
    const table = await page.evaluate(() => ({
      rows: document.querySelectorAll('#demo-events tbody tr').length,
      urls: [...document.querySelectorAll('#demo-events tbody tr')].map((tr) => tr.children[6].textContent),
      count: document.getElementById('demo-event-count').textContent,
      status: document.getElementById('demo-auditor-status').textContent,
    }));
    const ids = new Set(rep.events.map((e) => e.id));
    check(`the live table has one row per event (${ids.size})`, table.rows === ids.size && table.count === String(ids.size),
      `rows ${table.rows}, count ${table.count}, events ${ids.size}`);
    const notShown = expect.filter((x) => !x.gap && !table.urls.includes(x.url));
    check('every expected request is shown in the live table', !notShown.length, notShown.map((x) => x.url).join('\n'));
    check('the status line says the auditor is watching', /is watching this page/.test(table.status), table.status);
    await page.click('#demo-report-button');
    const shown = await page.evaluate(() => {
      const pre = document.getElementById('demo-report');
      try { return { hidden: pre.hidden, report: JSON.parse(pre.textContent) }; } catch (e) { return { hidden: pre.hidden, error: String(e) }; }
    });
    check('the report button shows report() as JSON', !shown.hidden && shown.report && Array.isArray(shown.report.events)
      && shown.report.events.length >= rep.events.length, shown.error || '');
    // In audit mode the core runs the sink's observations once per task (src/web/page.rs,
    // `Shared::defer`): whatever reads the state first runs them, so a report taken in the
    // same task as the request already has its event, decided as it would have been at once.
    const sameTask = await page.evaluate(() => {
      const url = new URL(location.pathname + '?same-task=' + Date.now(), location.href).href;
      const before = window.tprAuditor.report().summary.events;
      fetch(url).catch(() => {});
      const r = window.tprAuditor.report();
      const ev = r.events.find((e) => e.url === url);
      return { found: !!ev, decision: ev && ev.decision, source: ev && ev.source.kind, added: r.summary.events - before };
    });
    check('audit mode: report() read in the same task as a fetch already has its event',
      sameTask.found && sameTask.added === 1 && sameTask.decision === 'allowed', JSON.stringify(sameTask));
  }
  check('no page error (with the auditor)', !errors.page.length, errors.page.join('\n'));
  check('no console error (with the auditor)', !errors.console.length, errors.console.join('\n'));
  await page.close();

  // ---- 2. without the auditor ------------------------------------------------------------
  section('page without the auditor (/tpr-auditor.js answers 404)');
  const bare = await context.newPage();
  const errors2 = watchErrors(bare);
  recordNetwork(context, bare); // only for its WebSocket (context requests are already recorded)
  await bare.route('**/tpr-auditor.js', (route) => route.fulfill({
    status: 404, contentType: 'text/javascript', body: '/* missing (test) */' }));
  await bare.goto(cfg.pageUrl, { waitUntil: 'load' });
  await bare.waitForFunction((names) => names.every((n) => window.demoDone && window.demoDone[n]), GADGETS,
    { timeout: 20000, polling: 50 }).catch(() => {});
  const state = await bare.evaluate(() => ({
    auditor: typeof window.tprAuditor,
    done: Object.keys(window.demoDone || {}),
    status: document.getElementById('demo-auditor-status').textContent,
    button: document.getElementById('demo-report-button').disabled,
    rows: document.querySelectorAll('#demo-events tbody tr').length,
  }));
  check('no window.tprAuditor', state.auditor === 'undefined', state.auditor);
  check('the page says the auditor is missing', /auditor is not loaded/.test(state.status), state.status);
  check('the report button is disabled, the table empty', state.button === true && state.rows === 0, JSON.stringify(state));
  check('every script still ran', GADGETS.every((g) => state.done.includes(g)), `done: ${state.done.join(', ')}`);
  check('no page error (without the auditor)', !errors2.page.length, errors2.page.join('\n'));
  const console2 = errors2.console.filter((m) => !/status of 404/.test(m)); // the bundle's own 404
  check('no console error but the bundle\'s 404', !console2.length, console2.join('\n'));
  await bare.close();

  // ---- 3. the page under 127.0.0.1 -------------------------------------------------------
  section('the page asked for as 127.0.0.1');
  const res = await fetch(`http://127.0.0.1:${cfg.port}/wiki/Demo_page`);
  const body = await res.text();
  check('it explains how to open the demo and loads no script', res.status === 200
    && body.includes('Open the demo under its own host name') && body.includes(cfg.hostResolverRules)
    && !/<script/i.test(body), `status ${res.status}`);

  // ---- 4. nothing left the machine -------------------------------------------------------
  section('network: nothing left the machine');
  const mapped = mappedHostPatterns(cfg.hostResolverRules);
  const ports = new Set([String(cfg.port), String(cfg.fakePort)]);
  const offMachine = [];
  for (const e of net) {
    let u;
    try { u = new URL(e.url); } catch { offMachine.push(`${e.url} (unparsable)`); continue; }
    if (['data:', 'blob:', 'about:'].includes(u.protocol)) continue;
    const hostOk = u.hostname === cfg.pageHost || u.hostname === 'localhost' || u.hostname === '127.0.0.1'
      || mapped.some((re) => re.test(u.hostname));
    const schemeOk = u.protocol === 'http:' || u.protocol === 'ws:';
    if (!hostOk || !schemeOk || !ports.has(u.port)) offMachine.push(`${e.url} (${e.type})`);
  }
  check(`every request (${net.length}) went to a loopback-mapped host on a demo port over http/ws`, net.length > 0 && !offMachine.length,
    offMachine.join('\n'));
  const served = await (await fetch(`http://127.0.0.1:${cfg.fakePort}/__log`)).json();
  const seen = new Set(served.map((r) => `${r.host}${r.path}`));
  const fakeUrls = expect.map((x) => new URL(x.url)).filter((u) => u.port === String(cfg.fakePort));
  const unserved = fakeUrls.filter((u) => !seen.has(`${u.host}${u.pathname}${u.search}`));
  check(`every fake-host request (${fakeUrls.length}) reached the fake listener`, fakeUrls.length > 0 && !unserved.length,
    unserved.map((u) => u.href).join('\n'));

  // ---- 5. the demo renders event data as text -------------------------------------------
  section('static checks');
  const sinks = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/;
  const offenders = [];
  for (const dir of ['www', 'www/gadgets', 'www/thirdparty']) {
    for (const f of fs.readdirSync(path.join(ROOT, dir))) {
      if (!/\.(html|js|mjs)$/.test(f)) continue;
      const text = fs.readFileSync(path.join(ROOT, dir, f), 'utf8');
      if (sinks.test(text)) offenders.push(`${dir}/${f}`);
    }
  }
  check('no HTML sinks (innerHTML, outerHTML, insertAdjacentHTML, document.write) in www/', !offenders.length, offenders.join('\n'));
} catch (e) {
  check('test ran to the end', false, e && e.stack || String(e));
} finally {
  if (context) await context.close().catch(() => {});
  stopServer(server?.proc);
  if (process.env.DEMO_KEEP_PROFILE !== '1') fs.rmSync(profile, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok);
console.log(`\n=== summary (${((Date.now() - T0) / 1000).toFixed(1)} s)`);
if (gaps.length) console.log(`known gaps (${gaps.length}), not counted:\n  ${gaps.join('\n  ')}`);
for (const f of failed) console.log(`  FAILED: ${f.name}`);
console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length ? 1 : 0;

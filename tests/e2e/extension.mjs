#!/usr/bin/env node
// End-to-end test of the browser extension (issue 5/7) in headless Debian Chromium.
//
//   node tests/e2e/extension.mjs     (after scripts/build.sh, which builds dist/extension/)
//
// Loads dist/extension/chromium/ unpacked (playwright-core, launchPersistentContext with
// --disable-extensions-except / --load-extension, new headless mode) and serves a tiny wiki
// on a free loopback port; --host-resolver-rules maps en.wikipedia.org and the fake third
// parties (*.thirdparty.example) to 127.0.0.1, so nothing leaves the machine. Checks:
//   1. the auditor runs before the page's first script (tprAuditor and the bootstrap handle
//      exist in the first inline script), status running, packaging extension;
//   2. a gadget's fetch (MediaWiki:Gadget-Fetcher.js) is attributed to it and seen by the
//      hook and the network layer as ONE event; a CSS-referenced background image and font
//      (same-origin stylesheet, no hook can see them) appear with observedBy 'network';
//      every request the server got from the page is in the report;
//   3. the badge text equals the number of unconsented third-party requests of the report;
//   4. the wiki's Content-Security-Policy header reaches the page (tprAuditor.extension);
//   5. storage.sync: a rule set in the page is stored (chunked format) and a list saved by
//      the extension is adopted live by the open tab; a list over the quota is refused with
//      the message and the stored rules are unchanged;
//   6. block mode: DNR session rules exist; after a reload a CSS-only third-party font and a
//      parser-inserted third-party image are not fetched (the server's log), a consented image
//      is; leaving block mode removes every rule;
//   7. a page served with `Content-Security-Policy: script-src 'self' 'unsafe-inline'` (no
//      WebAssembly): the core runs in the extension (status 'remote') and the report still
//      attributes the gadget's fetch; the extension's panel page replays that session;
//   8. the options page validates with error positions and shows the quota message; the popup
//      shows the tab's count.
// Ends with "N passed, N failed"; exit status 1 if any check failed.
//
// env: CHROMIUM (default /usr/bin/chromium), EXT_HEADFUL=1, EXT_KEEP_PROFILE=1
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaywright } from '../mediawiki/lib/harness.mjs';
import { startWiki, GADGET_NAME } from './lib/extension-wiki.mjs';
import { checks, sleep } from './lib/checks.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXT = path.join(ROOT, 'dist', 'extension', 'chromium');
const CHROMIUM = process.env.CHROMIUM || process.env.TPR_CHROMIUM || '/usr/bin/chromium';
const T0 = Date.now();

const { check, tally } = checks();
async function until(fn, ms = 8000, step = 100) {
  const end = Date.now() + ms;
  let v;
  while (Date.now() < end) {
    try { v = await fn(); if (v) return v; } catch { /* retry */ }
    await sleep(step);
  }
  return v;
}

// ---- the tiny wiki and its third parties (tests/e2e/lib/extension-wiki.mjs) -------------
const wiki = await startWiki();
const { log, W, T } = wiki;
const PORT = wiki.port;

// ---- the browser ------------------------------------------------------------------------
if (!fs.existsSync(path.join(EXT, 'manifest.json'))) {
  console.log(`FAIL ${EXT} is not built: run scripts/build.sh`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const { chromium } = await loadPlaywright();
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tpr-ext-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: !process.env.EXT_HEADFUL,
  ignoreHTTPSErrors: true,
  args: [
    '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-quic', '--no-first-run', '--ignore-certificate-errors', `--disable-extensions-except=${EXT}`, `--load-extension=${EXT}`,
    '--host-resolver-rules=MAP en.wikipedia.org 127.0.0.1, MAP *.thirdparty.example 127.0.0.1, EXCLUDE localhost',
  ],
});
const pageErrors = [];
let sw = context.serviceWorkers()[0] || await context.waitForEvent('serviceworker', { timeout: 15000 });
const extId = new URL(sw.url()).host;
check('the extension loaded (service worker running)', !!extId, sw.url());
// The service worker may be restarted: always ask the context for the current one.
const bg = async (fn, arg) => {
  sw = context.serviceWorkers().find((w) => w.url().includes(extId)) || sw;
  return sw.evaluate(fn, arg);
};
await until(() => bg(() => typeof TPR === 'object' && TPR.core().then(() => true)), 15000);

const tab = await context.newPage();
tab.on('pageerror', (e) => pageErrors.push(String(e)));
const requestsOf = wiki.requestsSince;
const tabId = async () => bg((url) => chrome.tabs.query({}).then((t) => (t.find((x) => x.url && x.url.startsWith(url)) || {}).id), W());

async function load(pathname) {
  const since = Date.now();
  await tab.goto(W() + pathname, { waitUntil: 'load' });
  await tab.waitForFunction(() => window.tprAuditor && (window.tprAuditor.status === 'running' || window.tprAuditor.status === 'remote') && window.gadgetDone !== undefined, null, { timeout: 15000 });
  await tab.evaluate(() => window.tprAuditor.settled());
  await sleep(800); // network sightings (batched by the background) and the badge
  await tab.evaluate(() => window.tprAuditor.settled());
  return since;
}
const report = () => tab.evaluate(() => window.tprAuditor.report());
const eventsFor = (r, url) => r.events.filter((e) => e.url === url);

try {
  // ---- 1–4: audit mode ----
  let since = await load('/wiki/Test');
  const first = await tab.evaluate(() => window.auditorFirst);
  check('1. the auditor exists before the first page script', first && first.api && first.handle, first);
  const st = await tab.evaluate(() => ({ status: tprAuditor.status, packaging: tprAuditor.report().packaging }));
  check('1. core running in the page, packaging extension', st.status === 'running' && st.packaging === 'extension', st);
  let r = await report();
  const apiUrl = T('api', '/data.json?q=1');
  const fetchEvents = eventsFor(r, apiUrl);
  check('2. the gadget fetch is one event attributed to the gadget',
    fetchEvents.length === 1 && fetchEvents[0].source.kind === 'user-script' && fetchEvents[0].source.name === GADGET_NAME,
    fetchEvents.map((e) => [e.source, e.observedBy]));
  check('2. ... seen by the hook and the network layer',
    fetchEvents.length === 1 && fetchEvents[0].observedBy.includes('hook') && fetchEvents[0].observedBy.includes('network'),
    fetchEvents.map((e) => e.observedBy));
  for (const url of [T('img', '/css-bg.png'), T('fonts', '/font.woff2')]) {
    const ev = eventsFor(r, url);
    check(`2. CSS-referenced ${url.split('/').pop()} has observedBy network`, ev.length === 1 && ev[0].observedBy.includes('network'), ev.map((e) => e.observedBy));
  }
  const got = requestsOf(since).map((q) => `https://${q.host}:${PORT}${q.path}`);
  const inReport = new Set(r.events.map((e) => e.url));
  const missing = got.filter((u) => !inReport.has(u) && !u.endsWith('/wiki/Test'));
  check('2. every request the server got from the page is in the report', missing.length === 0, missing);
  const notNetwork = r.events.filter((e) => e.party !== 'first' && !e.observedBy.includes('network'));
  check('2. every third-party event was also seen by the network layer', notNetwork.length === 0, notNetwork.map((e) => [e.url, e.observedBy]));

  const expectBadge = r.events.filter((e) => (e.party === 'third' || e.party === 'cloud') && (e.decision === 'unconsented' || e.decision === 'blocked'))
    .reduce((n, e) => n + e.count, 0);
  const id = await tabId();
  const badge = await until(async () => {
    const b = await bg((t) => chrome.action.getBadgeText({ tabId: t }), id);
    return b === String(expectBadge) ? b : null;
  }, 5000) || await bg((t) => chrome.action.getBadgeText({ tabId: t }), id);
  check(`3. badge text equals the unconsented third-party count (${expectBadge})`, expectBadge > 0 && badge === String(expectBadge), { badge, expectBadge });

  const csp = await tab.evaluate(() => window.tprAuditor.extension.pageCsp());
  check('4. the page\'s CSP header reaches the page', csp === 'img-src * data:', csp);

  // ---- 5: storage.sync ----
  await tab.evaluate(() => {
    const doc = tprAuditor.consent.get();
    doc.rules.push({ source: 'https://allowed.thirdparty.example:*', directives: ['img-src'], scope: '*', decision: 'allow', added: '2026-11-29T00:00:00Z' });
    tprAuditor.consent.set(doc);
  });
  const stored = await until(() => bg(() => TPR.storedConsent()).then((t) => (t && t.includes('allowed.thirdparty.example') ? t : null)), 5000);
  check('5. a rule set in the page is stored in storage.sync', !!stored, stored);
  const items = await bg(() => chrome.storage.sync.get(null));
  check('5. ... as the chunked document (consent + consent.0)', items.consent && items.consent.format === 'tpr-consent/chunks' && typeof items['consent.0'] === 'string', Object.keys(items));
  await bg(() => TPR.storedConsent().then((t) => {
    const doc = JSON.parse(t);
    doc.rules.push({ source: 'https://pushed.example', directives: ['connect-src'], scope: '*', decision: 'allow' });
    return TPR.saveConsent(JSON.stringify(doc), false);
  }));
  const adopted = await until(() => tab.evaluate(() => tprAuditor.consent.get().rules.some((x) => x.source === 'https://pushed.example')), 5000);
  check('5. a list saved by the extension is adopted live by the open tab', adopted === true);
  const quota = await bg(() => TPR.storedConsent().then((before) => {
    const doc = JSON.parse(before);
    for (let i = 0; i < 400; i++) doc.rules.push({ source: `https://h${i}.example`, directives: ['img-src'], scope: '*', decision: 'allow', note: 'n'.repeat(300) });
    return TPR.saveConsent(JSON.stringify(doc), false).then(() => ({ saved: true }), (e) => TPR.storedConsent().then((after) => ({ message: e.message, quota: e.quota, same: after === before })));
  }));
  check('5. a list over the sync quota is refused with a clear message, nothing lost',
    quota.quota === true && quota.same === true && /nothing was saved and the stored list is unchanged/.test(quota.message), quota);

  // ---- 6: block mode and DNR ----
  await bg(() => serially(() => setMode('block')));
  const rules = await until(() => bg(() => chrome.declarativeNetRequest.getSessionRules()).then((x) => (x.length ? x : null)), 5000);
  check('6. block mode installs DNR session rules', rules && rules.length > 0,
    rules ? rules.length : await bg(() => chrome.storage.local.get(null).then((x) => ({ mode: x.consentText && JSON.parse(x.consentText).mode, lastError: x.lastError }))));
  check('6. ... for the wikis as initiators, never main_frame', rules && rules.every((x) => x.condition.initiatorDomains.includes('wikipedia.org') && !x.condition.resourceTypes.includes('main_frame')));
  since = await load('/wiki/Test');
  const hosts = requestsOf(since).map((q) => q.host + q.path);
  check('6. block: the CSS-only third-party font was not fetched', !hosts.includes('fonts.thirdparty.example/font.woff2'), hosts);
  check('6. block: the parser-inserted third-party image was not fetched', !hosts.includes('img.thirdparty.example/parser.png'), hosts);
  check('6. block: the consented image was fetched', hosts.includes('allowed.thirdparty.example/ok.png'), hosts);
  r = await report();
  const parserEv = eventsFor(r, T('img', '/parser.png'));
  // Its decision is what the first observer recorded: the parser inserted it (no hook could
  // hold it), so it may read `unconsented` although the network layer blocked it.
  check('6. block: the blocked image is still reported', parserEv.length === 1, parserEv.map((e) => [e.decision, e.observedBy]));
  await bg(() => serially(() => setMode('audit')));
  const after = await until(() => bg(() => chrome.declarativeNetRequest.getSessionRules()).then((x) => (x.length === 0 ? 'empty' : null)), 5000);
  check('6. leaving block mode removes every rule', after === 'empty');

  // ---- 7: a CSP that forbids WebAssembly in the page ----
  since = await load('/wiki/Csp');
  const remote = await tab.evaluate(() => ({ status: tprAuditor.status, error: tprAuditor.report().coreError }));
  check('7. CSP without wasm: the core runs in the extension (status remote)', remote.status === 'remote', remote);
  r = await report();
  const rf = eventsFor(r, apiUrl);
  check('7. ... the gadget fetch is reported and attributed',
    rf.length === 1 && rf[0].source.kind === 'user-script' && rf[0].source.name === GADGET_NAME, rf.map((e) => [e.source, e.observedBy]));
  const rbg = eventsFor(r, T('img', '/css-bg.png'));
  check('7. ... the CSS background image too (network)', rbg.length === 1 && rbg[0].observedBy.includes('network'), rbg.map((e) => e.observedBy));
  const evCount = await tab.evaluate(() => new Promise((resolve) => {
    let n = 0;
    addEventListener('tpr-auditor:event', () => { n++; });
    fetch('/w/skin.css?again').then(() => tprAuditor.settled()).then(() => setTimeout(() => resolve(n), 300));
  }));
  check('7. ... tpr-auditor:event is dispatched in remote mode', evCount >= 1, evCount);
  const remoteTab = await tabId();
  const remoteEvents = (await report()).events.length;
  const pp = await context.newPage();
  await pp.goto(`chrome-extension://${extId}/panel.html?tab=${remoteTab}&frame=0`);
  const replica = await pp.waitForFunction((n) => window.tprRemotePanel && window.tprRemotePanel.events() >= n && window.tprRemotePanel.events(),
    remoteEvents, { timeout: 8000 }).then((h) => h.jsonValue(), () => pp.evaluate(() => window.tprRemotePanel && window.tprRemotePanel.events()));
  check(`7. ... the panel page replays the page's session (${remoteEvents} events) and mounts the panel`,
    replica === remoteEvents && await pp.evaluate(() => document.body.children.length > 1), { replica, remoteEvents });
  await pp.close();

  // ---- 8: options page and popup ----
  const opt = await context.newPage();
  await opt.goto(`chrome-extension://${extId}/options.html`);
  await opt.waitForFunction(() => document.getElementById('consent').value.includes('"version"'));
  await opt.fill('#consent', '{\n  "version": 1,\n  "mode": "sometimes"\n}');
  await opt.click('#save');
  const errs = await opt.waitForFunction(() => {
    const li = [...document.querySelectorAll('#consent-errors li')];
    return li.length ? li.map((x) => ({ text: x.textContent, line: x.dataset.line, column: x.dataset.column })) : null;
  }).then((h) => h.jsonValue());
  check('8. options: an invalid list shows its errors with line and column', errs.length === 1 && errs[0].line === '3' && /mode/.test(errs[0].text), errs);
  const storedAfter = await bg(() => TPR.storedConsent());
  check('8. options: ... and nothing is saved', storedAfter && storedAfter.includes('pushed.example') && !storedAfter.includes('sometimes'));
  const big = JSON.parse(storedAfter);
  for (let i = 0; i < 400; i++) big.rules.push({ source: `https://h${i}.example`, directives: ['img-src'], scope: '*', decision: 'allow', note: 'n'.repeat(300) });
  await opt.evaluate((t) => { document.getElementById('consent').value = t; }, JSON.stringify(big, null, 2));
  await opt.click('#save');
  const quotaText = await opt.waitForFunction(() => /sync storage/.test(document.getElementById('consent-status').textContent)
    && document.getElementById('consent-status').textContent).then((h) => h.jsonValue(), () => null);
  const storedAfterQuota = await bg(() => TPR.storedConsent());
  check('8. options: a list over the quota shows the quota message and loses nothing',
    /nothing was saved and the stored list is unchanged/.test(quotaText || '') && storedAfterQuota === storedAfter, quotaText);
  await opt.close();
  await load('/wiki/Test');
  const id2 = await tabId();
  const pop = await context.newPage();
  await pop.goto(`chrome-extension://${extId}/popup.html?tab=${id2}`);
  const popCount = await pop.waitForFunction(() => document.getElementById('count').textContent).then((h) => h.jsonValue());
  const badge2 = await bg((t) => chrome.action.getBadgeText({ tabId: t }), id2);
  check('8. popup: shows the tab\'s count (= badge)', popCount === badge2 && popCount !== '', { popCount, badge2 });
  await pop.close();
  check('no page errors', pageErrors.length === 0, pageErrors);
} catch (e) {
  check('the test ran to its end', false, String(e && e.stack || e));
} finally {
  await context.close().catch(() => {});
  await wiki.close();
  if (!process.env.EXT_KEEP_PROFILE) fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`extension e2e (Chromium) in ${((Date.now() - T0) / 1000).toFixed(1)} s`);
console.log(`${tally.passed} passed, ${tally.failed} failed`);
process.exit(tally.failed ? 1 : 0);

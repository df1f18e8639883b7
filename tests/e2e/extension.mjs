#!/usr/bin/env node
// End-to-end test of the browser extension (issue 5/7) in headless Debian Chromium.
//
//   node tests/e2e/extension.mjs     (after scripts/build.sh, which builds dist/extension/)
//
// Loads a copy of dist/extension/chromium/ unpacked (playwright-core, launchPersistentContext
// with --disable-extensions-except / --load-extension, new headless mode) and serves a tiny wiki
// on a free loopback port; --host-resolver-rules maps en.wikipedia.org and the fake third
// parties (*.thirdparty.example) to 127.0.0.1, so nothing leaves the machine. Checks:
//   0. host access (item 2): as installed, exactly the manifest's Wikimedia hosts; the options
//      page and the page API say the network records cover the wiki hosts only, and a gadget's
//      third-party fetch is seen by its hook but not by the network layer. Then the profile
//      is primed as if the user had granted all sites once (lib/chromium-extension.mjs), and
//      the options page says the records cover all sites;
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
//      shows the tab's count;
//   9. redirects: a gadget's fetch of a third-party URL answered 302 to another third-party
//      host appears as both hops, each seen by the network layer; the Loader and Image gadgets'
//      requests are attributed to them;
//  10. the in-page panel's consent tab shows the wiki's own Content-Security-Policy (text),
//      and shows no such block on a page sent without one;
//  11. block mode: saving an allow rule for the blocked CSS-only font's origin changes the DNR
//      session rules, and after a reload the font is fetched (the server's log);
//  12. the page↔extension channel: a second `hello` gets no answer, and messages with the
//      channel's tag but a wrong secret (on window, document, a node of the page's own, and
//      by postMessage) asking to save consent or set block mode change nothing stored;
//  13. the options page's controls: adding a wiki (the URL field and its button) registers
//      the content scripts and removing it unregisters them; the mode radio sets block mode
//      (DNR rules) and audit again (none); Export downloads the stored rules; Import of a
//      file stores its rules; the popup's "Open the panel" button opens the tab's panel;
//  14. the gadget's export (dist/tpr-auditor.js on a plain page, consent.export('json'))
//      pasted into the options page's consent field and saved is stored with the same rules
//      and decides the next load of a wiki tab.
// Ends with "N passed, N failed"; exit status 1 if any check failed.
//
// env: CHROMIUM (default /usr/bin/chromium), EXT_HEADFUL=1, EXT_KEEP_PROFILE=1
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaywright } from '../mediawiki/lib/harness.mjs';
import {
  startWiki, GADGET_NAME, LOADER_NAME, IMAGE_NAME, REDIRECT_FROM, REDIRECT_TO, LOADER_SCRIPT, GADGET_IMAGE,
} from './lib/extension-wiki.mjs';
import { checks, sleep } from './lib/checks.mjs';
import {
  stageExtension, launchWithExtension, grantAllSites, shownNetworkScope, ALL_SITES,
} from './lib/chromium-extension.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXT = path.join(ROOT, 'dist', 'extension', 'chromium');
const PLAIN_BUNDLE = path.join(ROOT, 'dist', 'tpr-auditor.js');
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
const staged = stageExtension(EXT);
const launchOpts = {
  dir: staged, profile, executablePath: CHROMIUM, headless: !process.env.EXT_HEADFUL, ignoreHTTPSErrors: true,
  args: [
    '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-quic', '--no-first-run', '--ignore-certificate-errors',
    '--host-resolver-rules=MAP en.wikipedia.org 127.0.0.1, MAP *.thirdparty.example 127.0.0.1, EXCLUDE localhost',
  ],
};

// ---- 0: as installed, host access is Wikimedia's hosts only (item 2) ----------------------
{
  const first = await launchWithExtension(chromium, launchOpts);
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(staged, 'manifest.json'), 'utf8'));
    const granted = await first.bg(() => chrome.permissions.getAll());
    check('0. at install the extension holds exactly the manifest\'s Wikimedia host access, not all sites',
      JSON.stringify(granted.origins.slice().sort()) === JSON.stringify(manifest.host_permissions.slice().sort())
        && !granted.origins.includes(ALL_SITES) && manifest.optional_host_permissions.includes(ALL_SITES),
      granted.origins);
    const optPage = await first.context.newPage();
    await optPage.goto(`chrome-extension://${first.extId}/options.html`);
    const scopeShown = await optPage.waitForFunction(() => document.getElementById('network-scope').dataset.scope, null, { timeout: 10000 })
      .then((h) => h.jsonValue());
    check('0. the options page says the network records cover the wiki hosts only', scopeShown === 'wiki-hosts', scopeShown);
    await optPage.close();
    const p0 = await first.context.newPage();
    await p0.goto(W() + '/wiki/Test', { waitUntil: 'load' });
    await p0.waitForFunction(() => window.tprAuditor && window.tprAuditor.status === 'running' && window.gadgetDone !== undefined, null, { timeout: 15000 });
    await p0.evaluate(() => window.tprAuditor.settled());
    await sleep(800);
    await p0.evaluate(() => window.tprAuditor.settled());
    const r0 = await p0.evaluate(() => window.tprAuditor.report());
    const scope0 = await p0.evaluate(() => window.tprAuditor.extension.networkScope());
    check('0. the page is told the network records cover the wiki hosts only', scope0 === 'wiki-hosts', scope0);
    const apiEvents = r0.events.filter((e) => e.url === T('api', '/data.json?q=1'));
    check('0. ... the gadget\'s third-party fetch is seen by its hook, not by the network layer (no access to that host)',
      apiEvents.length === 1 && apiEvents[0].source.name === GADGET_NAME && apiEvents[0].observedBy.includes('hook')
        && !apiEvents[0].observedBy.includes('network'), apiEvents.map((e) => e.observedBy));
    const thirdByNetwork = r0.events.filter((e) => e.party === 'third' && e.observedBy.includes('network'));
    check('0. ... and no third-party request is in the network records', thirdByNetwork.length === 0, thirdByNetwork.map((e) => e.url));
    const wikiByNetwork = r0.events.filter((e) => new URL(e.url).hostname === 'en.wikipedia.org' && e.observedBy.includes('network'));
    check('0. ... while requests to the wiki\'s own host are', wikiByNetwork.length > 0, r0.events.map((e) => [e.url, e.observedBy]));
  } finally {
    await first.context.close().catch(() => {});
  }
}

// ---- the rest: the user granted all sites once (tests/e2e/lib/chromium-extension.mjs) -----
await grantAllSites(chromium, launchOpts);
const { context, extId, bg } = await launchWithExtension(chromium, launchOpts);
const pageErrors = [];
check('the extension loaded (service worker running)', !!extId, extId);
await until(() => bg(() => typeof TPR === 'object' && TPR.core().then(() => true)), 15000);
check('0. once granted, the options page says the network records cover all sites',
  await shownNetworkScope(context, extId) === 'all-sites' && await bg((all) => chrome.permissions.contains({ origins: [all] }), ALL_SITES));

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

// The panel lives in a closed shadow root, which page code cannot reach; the DevTools
// protocol can (DOM.getDocument with pierce). Runs fn(root, arg) in the page on that root.
async function inPanel(page, fn, arg) {
  const cdp = await context.newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    let shadow = null;
    (function walk(n) {
      if (shadow || !n) return;
      if (n.localName === 'tpr-auditor' && n.shadowRoots && n.shadowRoots.length) { shadow = n.shadowRoots[0]; return; }
      for (const c of n.children || []) walk(c);
    })(root);
    if (!shadow) return { noRoot: true };
    const { object } = await cdp.send('DOM.resolveNode', { backendNodeId: shadow.backendNodeId });
    const res = await cdp.send('Runtime.callFunctionOn', {
      objectId: object.objectId, functionDeclaration: `function (arg) { return (${fn})(this, arg); }`,
      arguments: [{ value: arg === undefined ? null : arg }], returnByValue: true, awaitPromise: true,
    });
    return res.exceptionDetails ? { error: res.exceptionDetails.text } : res.result.value;
  } finally {
    await cdp.detach().catch(() => {});
  }
}
const panelOpen = (page) => inPanel(page, (root) => {
  const p = root.querySelector('#pnl-panel');
  return !!p && !p.hidden;
});
// Opens the panel's consent tab and reads its "wiki's own policy" block.
async function wikiPolicyShown(page) {
  await page.evaluate(() => tprAuditor.panel.open());
  await inPanel(page, (root) => { const t = root.querySelector('#pnl-tab-consent'); if (t) t.click(); });
  let seen = null;
  for (let i = 0; i < 20; i++) {
    await sleep(100);
    seen = await inPanel(page, (root) => {
      const tp = root.querySelector('#pnl-tabpanel-consent');
      const box = root.querySelector('[data-field="wiki-csp"]');
      if (!tp || tp.hidden || !box) return { ready: false };
      const code = box.querySelector('p.code');
      return {
        ready: true, hidden: box.hidden, heading: (box.querySelector('h3') || {}).textContent,
        text: code ? code.textContent : null, elements: code ? code.children.length : -1,
      };
    });
    if (seen && seen.ready && !seen.hidden) break;
  }
  return seen;
}
const closePanel = (page) => inPanel(page, (root) => { const b = root.querySelector('[data-act="close"]'); if (b) b.click(); });

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
  check('2. with all sites granted the page is told the network records cover all sites',
    await tab.evaluate(() => tprAuditor.extension.networkScope()) === 'all-sites');
  const notNetwork = r.events.filter((e) => e.party !== 'first' && !e.observedBy.includes('network'));
  check('2. every third-party event was also seen by the network layer', notNetwork.length === 0, notNetwork.map((e) => [e.url, e.observedBy]));
  for (const [hop, url] of [['first hop (302)', T(...REDIRECT_FROM)], ['second hop (after the redirect)', T(...REDIRECT_TO)]]) {
    const ev = eventsFor(r, url);
    check(`9. redirect: the ${hop} ${url.replace(/:\d+/, '')} is reported with observedBy network`,
      ev.length === 1 && ev[0].observedBy.includes('network'), ev.map((e) => [e.observedBy, e.source]));
  }
  check('9. redirect: the server saw both hops', got.includes(T(...REDIRECT_FROM)) && got.includes(T(...REDIRECT_TO)), got);
  for (const [what, url, name] of [['script', T(...LOADER_SCRIPT), LOADER_NAME], ['image', T(...GADGET_IMAGE), IMAGE_NAME]]) {
    const ev = eventsFor(r, url);
    check(`9. the ${what} gadget's request is attributed to ${name}`,
      ev.length === 1 && ev[0].source.kind === 'user-script' && ev[0].source.name === name, ev.map((e) => [e.source, e.observedBy]));
  }

  const expectBadge = r.events.filter((e) => (e.party === 'third' || e.party === 'cloud') && (e.decision === 'unconsented' || e.decision === 'blocked'))
    .reduce((n, e) => n + e.count, 0);
  const id = await tabId();
  const badge = await until(async () => {
    const b = await bg((t) => chrome.action.getBadgeText({ tabId: t }), id);
    return b === String(expectBadge) ? b : null;
  }, 5000) || await bg((t) => chrome.action.getBadgeText({ tabId: t }), id);
  check(`3. badge text equals the unconsented third-party count (${expectBadge})`, expectBadge > 0 && badge === String(expectBadge), { badge, expectBadge });

  // 2b. A blob: document's own inline script is seen by the hook (with a stack), not only by
  // the network layer: page.js may start in the frame (match_origin_as_fallback), the frame's
  // reused initial window is hooked, and the bootstrap's hand-over script hooks a new one. The
  // wiki's own host: the badge above counts third parties only.
  const blobProbe = W() + '/blob-frame-probe?n=1';
  const inFrame = await tab.evaluate(async (u) => {
    const html = '<!doctype html><script>window.done = fetch(' + JSON.stringify(u) + ').then(() => "ok", () => "failed");</script>';
    const f = document.createElement('iframe');
    f.src = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
    await new Promise((res) => { f.onload = res; document.body.appendChild(f); });
    const answered = await f.contentWindow.done;
    await window.tprAuditor.settled();
    return { answered, quirks: f.contentDocument.compatMode };
  }, blobProbe);
  const blobEv = eventsFor(await report(), blobProbe);
  check('2b. a blob: frame\'s inline fetch is one event seen by the hook',
    blobEv.length === 1 && blobEv[0].observedBy.includes('hook') && blobEv[0].channel === 'fetch',
    { inFrame, events: blobEv.map((e) => [e.observedBy, e.source, e.channel]) });
  check('2b. ... the frame kept its document (standards mode, request answered)',
    inFrame.quirks === 'CSS1Compat' && inFrame.answered === 'ok', inFrame);

  const csp = await tab.evaluate(() => window.tprAuditor.extension.pageCsp());
  check('4. the page\'s CSP header reaches the page', csp === 'img-src * data:', csp);
  const shown = await wikiPolicyShown(tab);
  check('10. the panel\'s consent tab shows "The wiki\'s own policy" with the header as text',
    shown && shown.ready && shown.hidden === false && shown.heading === 'The wiki\'s own policy' && shown.text === 'img-src * data:' && shown.elements === 0, shown);
  await closePanel(tab);
  await load('/wiki/Plain');
  const none = await wikiPolicyShown(tab);
  check('10. ... and no such block on a page sent without a CSP header',
    await tab.evaluate(() => tprAuditor.extension.pageCsp()) === null && none && none.ready && none.hidden === true, none);
  await closePanel(tab);
  check('10. ... the panel is closed again', await panelOpen(tab) === false);

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
  // An allow rule of type font whose filter matches the font's URL (the floor blocks it).
  const allowsFont = (list) => list.some((x) => x.action.type === 'allow' && (x.condition.resourceTypes || []).includes('font')
    && (() => { try { return new RegExp(x.condition.regexFilter || '^$', 'i').test(T('fonts', '/font.woff2')); } catch { return false; } })());
  const before11 = JSON.stringify(await bg(() => chrome.declarativeNetRequest.getSessionRules()));
  await bg(() => serially(() => TPR.storedConsent().then((t) => {
    const doc = JSON.parse(t);
    doc.rules.push({ source: 'https://fonts.thirdparty.example:*', directives: ['font-src'], scope: '*', decision: 'allow', added: '2026-11-29T00:00:00Z' });
    return TPR.saveConsent(JSON.stringify(doc), false);
  })));
  const after11 = await until(async () => {
    const now = JSON.stringify(await bg(() => chrome.declarativeNetRequest.getSessionRules()));
    return now !== before11 ? now : null;
  }, 5000);
  check('11. consent change in block mode: the DNR session rules change (an allow rule for the font\'s origin appears)',
    !allowsFont(JSON.parse(before11)) && !!after11 && allowsFont(JSON.parse(after11)),
    { before: JSON.parse(before11).length, after: after11 && JSON.parse(after11).filter((x) => x.action.type === 'allow') });
  const since11 = await load('/wiki/Test');
  const hosts11 = requestsOf(since11).map((q) => q.host + q.path);
  check('11. ... after a reload the CSS-only font is fetched', hosts11.includes('fonts.thirdparty.example/font.woff2'), hosts11);
  check('11. ... while the parser-inserted image stays blocked', !hosts11.includes('img.thirdparty.example/parser.png'), hosts11);
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
  const popFacts = await pop.evaluate(() => [...document.querySelectorAll('#facts dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent]));
  check('8. popup: says the network records cover all sites', popFacts.some(([k, v]) => k === 'Network records cover' && v === 'all sites'), popFacts);
  await pop.close();

  // ---- 12: forged and replayed page → extension messages ----
  const stored12 = await bg(() => TPR.storedConsent());
  const forged = await tab.evaluate(async () => {
    const TAG = 'tpr-auditor-ext/1';
    const answers = [];
    const mine = document.createComment('forger');
    // Only an answer counts (direction down); what this page dispatches on its node itself is up.
    mine.addEventListener(TAG, (e) => {
      let d = null;
      try { d = JSON.parse(e.detail); } catch { /* not JSON */ }
      if (d && d.dir === 'down') answers.push(e.detail);
    });
    // A second meeting (the page's own node): the bridge listened for one hello only.
    window.dispatchEvent(new MouseEvent(`${TAG}:hello`, { relatedTarget: mine }));
    const evil = JSON.stringify({ version: 1, mode: 'block', rules: [{ source: 'https://forged.example', directives: ['script-src'], scope: '*', decision: 'allow' }] });
    const msgs = [];
    for (const secret of ['', '0'.repeat(48), 'f'.repeat(48), null]) {
      msgs.push({ tag: TAG, secret, dir: 'up', type: 'set-mode', data: { mode: 'block' } });
      msgs.push({ tag: TAG, secret, dir: 'up', type: 'save', data: { text: evil, base: null } });
    }
    for (const m of msgs) {
      for (const target of [window, document, document.documentElement, mine]) {
        target.dispatchEvent(new CustomEvent(TAG, { detail: JSON.stringify(m) }));
        target.dispatchEvent(new CustomEvent(TAG, { detail: m }));
      }
      window.postMessage(JSON.stringify(m), '*');
      window.postMessage(m, '*');
    }
    await new Promise((r) => setTimeout(r, 1500));
    return { answers, mode: tprAuditor.mode(), sent: msgs.length };
  });
  await sleep(500);
  const stored12b = await bg(() => TPR.storedConsent());
  const dnr12 = await bg(() => chrome.declarativeNetRequest.getSessionRules());
  check('12. a second hello from the page gets no welcome', forged.answers.length === 0, forged.answers);
  check(`12. ${forged.sent} forged messages (wrong secret) change nothing stored: no rule, no block mode, no DNR rules`,
    stored12b === stored12 && !stored12b.includes('forged.example') && JSON.parse(stored12b).mode !== 'block'
      && forged.mode !== 'block' && dnr12.length === 0,
    { changed: stored12b !== stored12, mode: forged.mode, dnr: dnr12.length });

  // ---- 13: the options page's controls and the popup's button ----
  const o2 = await context.newPage();
  await o2.goto(`chrome-extension://${extId}/options.html`);
  await o2.waitForFunction(() => document.getElementById('consent').value.includes('"version"'));
  const added = 'https://added.thirdparty.example';
  check('13. options: the wiki is not in the list yet', !(await bg(() => TPR.settings())).wikis.includes(added));
  await o2.fill('#wiki-url', `${added}/wiki/Main_Page`);
  await o2.click('#add-wiki');
  const reg13 = await until(async () => {
    const regs = await bg(() => chrome.scripting.getRegisteredContentScripts());
    return regs.length === 2 && regs.every((x) => x.matches.includes('https://added.thirdparty.example/*')) ? regs : null;
  }, 5000);
  const listed = await o2.waitForFunction((o) => document.getElementById('wikis').textContent.includes(o), added, { timeout: 5000 }).then(() => true, () => false);
  check('13. options: "Add wiki" stores the wiki, lists it and registers the content scripts for it',
    !!reg13 && listed && (await bg(() => TPR.settings())).wikis.includes(added),
    { reg: await bg(() => chrome.scripting.getRegisteredContentScripts()), status: await o2.textContent('#wiki-status') });
  await o2.click('#wikis li button');
  const unreg13 = await until(() => bg(() => chrome.scripting.getRegisteredContentScripts()).then((x) => (x.length === 0 ? 'none' : null)), 5000);
  check('13. options: removing it unregisters the content scripts', unreg13 === 'none' && !(await bg(() => TPR.settings())).wikis.includes(added));

  await o2.check('input[name=mode][value=block]');
  const blockRules = await until(async () => {
    const t = await bg(() => TPR.storedConsent());
    const n = (await bg(() => chrome.declarativeNetRequest.getSessionRules())).length;
    return JSON.parse(t).mode === 'block' && n > 0 ? n : null;
  }, 5000);
  check('13. options: the block radio stores block mode and installs DNR rules', blockRules > 0, blockRules);
  await o2.waitForFunction(() => document.querySelector('input[name=mode][value=block]').checked && document.getElementById('consent').value.includes('"block"'));
  await o2.check('input[name=mode][value=audit]');
  const auditAgain = await until(async () => {
    const t = await bg(() => TPR.storedConsent());
    const n = (await bg(() => chrome.declarativeNetRequest.getSessionRules())).length;
    return JSON.parse(t).mode === 'audit' && n === 0 ? 'yes' : null;
  }, 5000);
  check('13. options: the audit radio leaves block mode (no DNR rules)', auditAgain === 'yes');
  await o2.waitForFunction(() => document.getElementById('consent').value.includes('"audit"'));

  const ruleKeys = (doc) => (doc.rules || []).map((x) => `${x.source} ${[...x.directives].sort().join(',')} ${x.scope} ${x.decision}`).sort();
  const stored13 = JSON.parse(await bg(() => TPR.storedConsent()));
  await o2.selectOption('#export-format', 'json');
  const [download] = await Promise.all([o2.waitForEvent('download', { timeout: 8000 }), o2.click('#export')]);
  const exported13 = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  check(`13. options: Export downloads the stored rules as JSON (${stored13.rules.length} rules, ${download.suggestedFilename()})`,
    stored13.rules.length > 0 && JSON.stringify(ruleKeys(exported13)) === JSON.stringify(ruleKeys(stored13)),
    { exported: ruleKeys(exported13), stored: ruleKeys(stored13) });
  const importDoc = { ...exported13, rules: [...exported13.rules, { source: 'https://imported.example', directives: ['img-src'], scope: '*', decision: 'allow' }] };
  await o2.setInputFiles('#import', { name: 'consent.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(importDoc)) });
  const imported13 = await until(() => bg(() => TPR.storedConsent()).then((t) => (t && t.includes('imported.example') ? JSON.parse(t) : null)), 5000);
  check('13. options: Import of a file stores its rules', !!imported13 && JSON.stringify(ruleKeys(imported13)) === JSON.stringify(ruleKeys(importDoc)),
    imported13 ? ruleKeys(imported13) : await o2.textContent('#consent-status'));
  await o2.close();

  await load('/wiki/Test');
  const id13 = await tabId();
  const closedBefore = await panelOpen(tab);
  const pop13 = await context.newPage();
  await pop13.goto(`chrome-extension://${extId}/popup.html?tab=${id13}`);
  await pop13.waitForFunction(() => document.getElementById('count').textContent !== '' && !document.getElementById('open-panel').disabled);
  await pop13.click('#open-panel');
  await tab.bringToFront();
  const opened13 = await until(() => panelOpen(tab), 5000);
  check('13. popup: "Open the panel" opens the tab\'s panel', closedBefore === false && opened13 === true, { closedBefore, opened13 });
  if (!pop13.isClosed()) await pop13.close();
  await closePanel(tab);

  // ---- 14: the gadget's export imported on the options page ----
  const plain = await context.newPage();
  await plain.goto(T('gadget', '/blank'));
  await plain.addScriptTag({ path: PLAIN_BUNDLE });
  await plain.waitForFunction(() => window.tprAuditor && window.tprAuditor.status === 'running', null, { timeout: 15000 });
  const gadgetExport = await plain.evaluate(() => {
    const doc = tprAuditor.consent.get();
    doc.rules = [
      { source: 'https://api.thirdparty.example:*', directives: ['connect-src'], scope: '*', decision: 'allow', note: 'from the gadget' },
      { source: 'https://cdn.thirdparty.example', directives: ['script-src'], scope: 'gadget:Loader', decision: 'block' },
    ];
    tprAuditor.consent.set(doc);
    return { packaging: tprAuditor.report().packaging, text: tprAuditor.consent.export('json') };
  });
  await plain.close();
  const fromGadget = JSON.parse(gadgetExport.text);
  check(`14. the plain bundle (packaging ${gadgetExport.packaging}) exports its consent list`, fromGadget.rules && fromGadget.rules.length === 2, gadgetExport);
  const o3 = await context.newPage();
  await o3.goto(`chrome-extension://${extId}/options.html`);
  await o3.waitForFunction(() => document.getElementById('consent').value.includes('"version"'));
  await o3.fill('#consent', gadgetExport.text);
  await o3.click('#save');
  const stored14 = await until(() => bg(() => TPR.storedConsent()).then((t) => (t && t.includes('from the gadget') ? JSON.parse(t) : null)), 5000);
  check('14. options: the gadget\'s export pasted and saved is stored with the same rules',
    !!stored14 && JSON.stringify(ruleKeys(stored14)) === JSON.stringify(ruleKeys(fromGadget)),
    stored14 ? ruleKeys(stored14) : await o3.textContent('#consent-status'));
  await o3.close();
  await load('/wiki/Test');
  r = await report();
  const api14 = eventsFor(r, apiUrl);
  const before14 = eventsFor(r, T('allowed', '/ok.png'));
  check('14. ... and decides the next load: the gadget\'s API fetch is allowed, the rules the import replaced are gone',
    api14.length === 1 && api14[0].decision === 'allowed' && before14.length === 1 && before14[0].decision === 'unconsented'
      && (await tab.evaluate(() => tprAuditor.consent.get().rules.length)) === 2,
    { api: api14.map((e) => e.decision), ok: before14.map((e) => e.decision) });
  check('no page errors', pageErrors.length === 0, pageErrors);
} catch (e) {
  check('the test ran to its end', false, String(e && e.stack || e));
} finally {
  await context.close().catch(() => {});
  await wiki.close();
  if (!process.env.EXT_KEEP_PROFILE) fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(staged, { recursive: true, force: true });
}
console.log(`extension e2e (Chromium) in ${((Date.now() - T0) / 1000).toFixed(1)} s`);
console.log(`${tally.passed} passed, ${tally.failed} failed`);
process.exit(tally.failed ? 1 : 0);

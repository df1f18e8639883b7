#!/usr/bin/env node
// End-to-end test of the browser extension in headless Firefox ESR (issue 5/7 item 9).
//
//   node tests/e2e/extension-firefox.mjs   (after scripts/build.sh, which builds dist/extension/)
//
// geckodriver (tests/e2e/lib/webdriver.mjs) starts Firefox with network.dns.forceResolve =
// 127.0.0.1 (every name is this machine) and accepts the tiny wiki's self-signed certificate;
// the packaged add-on (dist/extension/tpr-auditor-firefox-*.zip) is installed as a temporary
// add-on with POST /session/{id}/moz/addon/install {path, temporary: true}. Then:
//   0. its options page (lib/firefox-extension.mjs) says the network records cover the wiki
//      hosts only; its "Record requests to all sites" button, clicked, grants the optional
//      host access (Firefox's prompt answered yes by a pref), and the page API says so;
// and the wiki page (tests/e2e/lib/extension-wiki.mjs) is opened and checked:
//   1. the auditor exists before the page's first script and its core runs (packaging
//      extension);
//   2. the gadget's fetch is attributed to the gadget; its script load and the parser-inserted
//      image are reported; the script the Loader gadget inserts and the image the Image gadget
//      loads are attributed to those gadgets by name; both hops of a third-party redirect
//      are reported by the network layer;
//   3. the network layer (webRequest) reports too: the CSS-referenced image has observedBy
//      'network';
//   4. consent reaches the page from storage (the extension's store, not memory);
//   5. block mode set through the page API (with an allow rule for one image, also set there)
//      is stored and enforced by the DNR rules on the next load: a CSS-only font and a
//      parser-inserted image are not fetched, while the consented image is;
//   6. a page whose CSP forbids WebAssembly runs its core in the background page.
// Ends with "N passed, N failed"; exit status 1 if any check failed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBrowser } from './lib/webdriver.mjs';
import { firefoxPrefs, grantAllSitesFromOptions } from './lib/firefox-extension.mjs';
import {
  startWiki, GADGET, GADGET_NAME, LOADER_NAME, IMAGE_NAME, LOADER_SCRIPT, GADGET_IMAGE, REDIRECT_FROM, REDIRECT_TO,
} from './lib/extension-wiki.mjs';
import { checks, sleep } from './lib/checks.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'dist', 'extension');
const T0 = Date.now();
const { check, tally } = checks();

const zip = fs.existsSync(DIST) && fs.readdirSync(DIST).find((f) => /^tpr-auditor-firefox-.*\.zip$/.test(f));
if (!zip) {
  console.log(`FAIL no Firefox package in ${DIST}: run scripts/build.sh`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const wiki = await startWiki();
let wd;
try {
  const geckoId = JSON.parse(fs.readFileSync(path.join(DIST, 'firefox', 'manifest.json'), 'utf8')).browser_specific_settings.gecko.id;
  wd = await startBrowser('firefox', {
    acceptInsecureCerts: true,
    driverArgs: ['--allow-system-access'],
    prefs: {
      'network.dns.forceResolve': '127.0.0.1', 'network.proxy.type': 0, 'network.stricttransportsecurity.preloadlist': false,
      ...firefoxPrefs(geckoId),
    },
  });
  const id = await wd.cmd('POST', '/moz/addon/install', { path: path.join(DIST, zip), temporary: true });
  check('the add-on installs as a temporary add-on', id === geckoId, id);
  await sleep(1500); // the background page starts, mirrors storage, registers nothing else
  await wd.setTimeouts({ script: 20000, pageLoad: 20000 });
  // The network records of third-party hosts need the optional access to all sites, granted
  // on the options page (issue 5/7 item 2).
  const scope = await grantAllSitesFromOptions(wd);
  check('0. options: the network records cover the wiki hosts only, then all sites after "Record requests to all sites"',
    scope.before === 'wiki-hosts' && scope.after === 'all-sites', scope);
  await wd.navigate(wiki.W() + '/wiki/Test');
  const state = await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const start = Date.now();
    (function poll() {
      const a = window.tprAuditor;
      if (a && a.status === 'running' && window.gadgetDone !== undefined) {
        a.settled().then(() => setTimeout(() => a.settled().then(() => done({
          first: window.auditorFirst, status: a.status, report: a.report(), storage: a.consent.storage(),
          networkScope: a.extension.networkScope() })), 1500));
      } else if (a && a.status === 'failed') {
        done({ status: a.status, error: a.error, first: window.auditorFirst });
      } else if (Date.now() - start > 15000) {
        done({ status: a ? a.status : 'absent', first: window.auditorFirst, gadget: window.gadgetDone });
      } else setTimeout(poll, 100);
    })();`);
  check('1. the auditor exists before the first page script', state.first && state.first.api && state.first.handle, state.first);
  check('1. its core runs in the page', state.status === 'running', { status: state.status, error: state.error });
  const r = state.report || { events: [] };
  check('1. packaging extension', r.packaging === 'extension', r.packaging);
  check('0. the page is told the network records cover all sites', state.networkScope === 'all-sites', state.networkScope);
  const ev = (url) => r.events.filter((e) => e.url === url);
  const f = ev(wiki.T('api', '/data.json?q=1'));
  check('2. the gadget fetch is attributed to the gadget', f.length === 1 && f[0].source.kind === 'user-script' && f[0].source.name === GADGET_NAME,
    f.map((e) => e.source));
  const s = ev(wiki.W() + GADGET);
  check('2. the gadget script load is reported', s.length === 1 && s[0].channel === 'script', s.map((e) => [e.channel, e.observedBy]));
  const img = ev(wiki.T('img', '/parser.png'));
  check('2. the parser-inserted image is reported', img.length === 1 && img[0].directive === 'img-src', img.map((e) => [e.channel, e.observedBy]));
  for (const [what, url, name] of [['script', wiki.T(...LOADER_SCRIPT), LOADER_NAME], ['image', wiki.T(...GADGET_IMAGE), IMAGE_NAME]]) {
    const g = ev(url);
    check(`2. the ${what} gadget's request is attributed to ${name}`,
      g.length === 1 && g[0].source.kind === 'user-script' && g[0].source.name === name, g.map((e) => [e.source, e.observedBy]));
  }
  for (const [hop, url] of [['first hop (302)', wiki.T(...REDIRECT_FROM)], ['second hop', wiki.T(...REDIRECT_TO)]]) {
    const h = ev(url);
    check(`2. redirect: the ${hop} is reported with observedBy network`, h.length === 1 && h[0].observedBy.includes('network'), h.map((e) => e.observedBy));
  }
  const bg = ev(wiki.T('img', '/css-bg.png'));
  check('3. the network layer reports (CSS background image observedBy network)', bg.length === 1 && bg[0].observedBy.includes('network'),
    bg.map((e) => e.observedBy));
  check('4. consent is kept by the extension (external store)', state.storage === 'external', state.storage);

  // 4b. A blob: document's own inline script is seen by the hook, not only by the network
  // layer (Firefox 128+ runs content scripts in blob: documents only with
  // match_origin_as_fallback; the bootstrap's hand-over script covers a new window too).
  const blobProbe = wiki.W() + '/blob-frame-probe?n=1';
  const blob = await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const u = ${JSON.stringify(blobProbe)};
    const html = '<!doctype html><script>window.done = fetch(' + JSON.stringify(u) + ').then(() => "ok", () => "failed");<' + '/script>';
    const f = document.createElement('iframe');
    f.src = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
    f.onload = () => f.contentWindow.done.then((answered) => window.tprAuditor.settled().then(() => done({
      answered, mode: f.contentDocument.compatMode,
      events: window.tprAuditor.report().events.filter((e) => e.url === u).map((e) => ({ observedBy: e.observedBy, channel: e.channel })) })));
    document.body.appendChild(f);`);
  check('4b. a blob: frame\'s inline fetch is one event seen by the hook',
    blob.events.length === 1 && blob.events[0].observedBy.includes('hook') && blob.events[0].channel === 'fetch', blob);
  check('4b. ... the frame kept its document (standards mode, request answered)', blob.mode === 'CSS1Compat' && blob.answered === 'ok', blob);

  // 5. Block mode set from the page API: stored by the extension, enforced by its DNR rules.
  await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const doc = tprAuditor.consent.get();
    doc.rules.push({ source: 'https://allowed.thirdparty.example:*', directives: ['img-src'], scope: '*', decision: 'allow' });
    tprAuditor.consent.set(doc);
    setTimeout(function () { tprAuditor.setMode('block'); setTimeout(done, 2500); }, 1000);`);
  const since = Date.now();
  await wd.navigate(wiki.W() + '/wiki/Test');
  const blockState = await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const start = Date.now();
    (function poll() {
      const a = window.tprAuditor;
      if (a && a.status === 'running' && window.gadgetDone !== undefined) setTimeout(() => done({ mode: a.mode() }), 1500);
      else if (Date.now() - start > 15000) done({ mode: a && a.mode && a.mode() });
      else setTimeout(poll, 100);
    })();`);
  const fetched = wiki.requestsSince(since).map((q) => q.host + q.path);
  check('5. block mode set in the page reaches the next page load', blockState.mode === 'block', blockState);
  check('5. block: the CSS-only third-party font and the parser-inserted image are not fetched (DNR)',
    !fetched.includes('fonts.thirdparty.example/font.woff2') && !fetched.includes('img.thirdparty.example/parser.png'), fetched);
  check('5. block: the consented image was fetched', fetched.includes('allowed.thirdparty.example/ok.png'), fetched);
  await wd.executeAsync(`const done = arguments[arguments.length - 1];
    tprAuditor.setMode('audit'); setTimeout(done, 2500);`);

  // 6. A CSP without WebAssembly: the core runs in the background page.
  await wd.navigate(wiki.W() + '/wiki/Csp');
  const remote = await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const start = Date.now();
    (function poll() {
      const a = window.tprAuditor;
      if (a && (a.status === 'remote' || a.status === 'running') && window.gadgetDone !== undefined) {
        a.settled().then(() => setTimeout(() => a.settled().then(() => done({ status: a.status, report: a.report() })), 1000));
      } else if (Date.now() - start > 15000) done({ status: a ? a.status : 'absent' });
      else setTimeout(poll, 100);
    })();`);
  check('6. CSP without wasm: the core runs in the extension (status remote)', remote.status === 'remote', remote.status);
  const rf = ((remote.report || {}).events || []).filter((e) => e.url === wiki.T('api', '/data.json?q=1'));
  check('6. ... the gadget fetch is reported and attributed', rf.length === 1 && rf[0].source.name === GADGET_NAME, rf.map((e) => e.source));
} catch (e) {
  check('the test ran to its end', false, String(e && e.stack || e));
} finally {
  if (wd) await wd.quit();
  await wiki.close();
}
console.log(`extension e2e (Firefox) in ${((Date.now() - T0) / 1000).toFixed(1)} s`);
console.log(`${tally.passed} passed, ${tally.failed} failed`);
process.exit(tally.failed ? 1 : 0);

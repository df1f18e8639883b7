#!/usr/bin/env node
// The Firefox add-on on the real MediaWiki 1.39 harness of issue 2 (issue 5/7 item 9), in
// headless Firefox ESR through geckodriver (tests/e2e/lib/webdriver.mjs).
//
//   flock /tmp/tpr-wiki.lock node tests/e2e/extension-firefox-mediawiki.mjs
//        (after scripts/build.sh; starts the harness wiki with tests/mediawiki/setup.sh +
//         start.sh if it is not answering, and stops it again in that case)
//
// Firefox resolves every name to 127.0.0.1 (network.dns.forceResolve), so the harness's fake
// hosts (*.test, *.toolforge.org) reach fake-hosts.py. The packaged add-on is installed as a
// temporary add-on; its moz-extension UUID is fixed beforehand (extensions.webextensions.uuids)
// so the test can open its options page. Then:
//   1. on the options page (lib/firefox-extension.mjs), the network records cover the wiki
//      hosts only until "Record requests to all sites" is clicked (the optional host access,
//      granted without Firefox's prompt by a pref), then the wiki is added (URL field, "Add
//      wiki" clicked through WebDriver: a real click, so permissions.request has its user
//      gesture) and listed there;
//   2. logged in as Admin (every probe gadget enabled) through the wiki's own API from the
//      page, the Main Page runs the auditor as the extension;
//   3. the fetch, script and image probes (probe-fetch, probe-loadscript, probe-image) each
//      have exactly one event with the expected channel, directive, party, source kind and
//      name; the script and image are also seen by the network layer.
// Ends with "N passed, N failed"; exit status 1 on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HARNESS_DIR, STATE_DIR, readConfig, matches, wikiUp, runHarnessScript } from '../mediawiki/lib/harness.mjs';
import { startBrowser } from './lib/webdriver.mjs';
import { checks, sleep } from './lib/checks.mjs';
import { firefoxPrefs, grantAllSitesFromOptions, element } from './lib/firefox-extension.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'dist', 'extension');
const T0 = Date.now();
const { check, tally } = checks();
const ASSERTED = ['probe-fetch', 'probe-loadscript', 'probe-image'];

const runScript = runHarnessScript;

let startedWiki = false;
let wd = null;
const watchdog = setTimeout(() => { console.log('FAIL watchdog: not finished in 240 s'); finish(1); }, 240000);
watchdog.unref();
async function finish(code) {
  if (wd) { const w = wd; wd = null; await w.quit(); }
  if (startedWiki) { startedWiki = false; try { runScript('stop.sh'); } catch (e) { console.log(String(e.message)); } }
  console.log(`extension (Firefox) on MediaWiki in ${((Date.now() - T0) / 1000).toFixed(1)} s`);
  console.log(`${tally.passed} passed, ${tally.failed + (code && !tally.failed ? 1 : 0)} failed`);
  process.exit(code || tally.failed ? 1 : 0);
}

try {
  const zip = fs.existsSync(DIST) && fs.readdirSync(DIST).find((f) => /^tpr-auditor-firefox-.*\.zip$/.test(f));
  if (!zip) throw new Error(`no Firefox package in ${DIST}: run scripts/build.sh`);
  const geckoId = JSON.parse(fs.readFileSync(path.join(DIST, 'firefox', 'manifest.json'), 'utf8')).browser_specific_settings.gecko.id;
  if (!(await wikiUp())) {
    runScript('setup.sh');
    startedWiki = true;
    runScript('start.sh');
  }
  check('the harness wiki and its fake hosts answer', await wikiUp());
  const { env, probes } = readConfig();
  const wikiOrigin = new URL(env.wikiUrl).origin;

  wd = await startBrowser('firefox', {
    driverArgs: ['--allow-system-access'],
    prefs: {
      'network.dns.forceResolve': '127.0.0.1', 'network.proxy.type': 0, 'network.proxy.allow_hijacking_localhost': false,
      'dom.security.https_first': false, ...firefoxPrefs(geckoId),
    },
  });
  const id = await wd.cmd('POST', '/moz/addon/install', { path: path.join(DIST, zip), temporary: true });
  check('the add-on installs as a temporary add-on', id === geckoId, id);
  await sleep(1500);
  await wd.setTimeouts({ script: 30000, pageLoad: 30000 });

  // 1. The options page: the access to all sites granted (the network records of the
  // fake third parties need it), then the wiki added through its control.
  const scope = await grantAllSitesFromOptions(wd);
  check('1. options: the network records cover the wiki hosts only, then all sites after "Record requests to all sites"',
    scope.before === 'wiki-hosts' && scope.after === 'all-sites', scope);
  const el = (css) => element(wd, css);
  await wd.cmd('POST', `/element/${await el('#wiki-url')}/value`, { text: `${env.wikiUrl}/index.php?title=Main_Page` });
  await wd.cmd('POST', `/element/${await el('#add-wiki')}/click`, {});
  const listed = await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const start = Date.now();
    (function poll() {
      const t = document.getElementById('wikis').textContent;
      if (t.includes(arguments[0]) || Date.now() - start > 8000) done({ wikis: t, status: document.getElementById('wiki-status').textContent });
      else setTimeout(poll, 100);
    }).call(null, ${JSON.stringify(wikiOrigin)});`);
  check('1. options: "Add wiki" adds the harness wiki', listed.wikis.includes(wikiOrigin), listed);
  await sleep(1000); // the background registers the content scripts

  // 2. Log in through the wiki's API (cookies land in the browser), then the Main Page.
  await wd.navigate(`${env.wikiUrl}/index.php?title=Special:BlankPage`);
  const login = await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const api = ${JSON.stringify(`${env.wikiUrl}/api.php`)};
    fetch(api + '?action=query&meta=tokens&type=login&format=json', { credentials: 'same-origin' }).then((r) => r.json())
      .then((t) => fetch(api, { method: 'POST', credentials: 'same-origin', body: new URLSearchParams({
        action: 'clientlogin', format: 'json', username: ${JSON.stringify(env.adminUser)}, password: ${JSON.stringify(env.adminPass)},
        logintoken: t.query.tokens.logintoken, loginreturnurl: ${JSON.stringify(`${env.wikiUrl}/`)} }) }))
      .then((r) => r.json()).then((b) => done(b.clientlogin && b.clientlogin.status), (e) => done(String(e)));`);
  check('2. logged in as the harness admin', login === 'PASS', login);
  await wd.navigate(`${env.wikiUrl}/index.php?title=Main_Page`);
  const markers = [...new Set(probes.filter((p) => ASSERTED.includes(p.id)).map((p) => p.marker))];
  const state = await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const markers = ${JSON.stringify(markers)};
    const start = Date.now();
    (function poll() {
      const a = window.tprAuditor;
      const probesDone = markers.every((m) => window.tprProbeDone && window.tprProbeDone[m]);
      if (a && a.status === 'running' && probesDone) {
        a.settled().then(() => setTimeout(() => a.settled().then(() => done({ status: a.status, report: a.report(), probesDone })), 1500));
      } else if (Date.now() - start > 25000) {
        done({ status: a ? a.status : 'absent', probesDone, done: Object.keys(window.tprProbeDone || {}) });
      } else setTimeout(poll, 100);
    })();`);
  check('2. the auditor runs as the extension and the probes ran', state.status === 'running' && state.probesDone
    && state.report && state.report.packaging === 'extension', { status: state.status, probesDone: state.probesDone, done: state.done });

  // 3. Attribution of the fetch, script and image probes.
  const events = (state.report || { events: [] }).events;
  for (const p of probes.filter((x) => ASSERTED.includes(x.id))) {
    const evs = events.filter((e) => matches(p, e.url));
    const x = p.expect;
    const diffs = [];
    if (evs.length !== 1) diffs.push(`${evs.length} events`);
    const e = evs[0];
    if (e) {
      const want = (field, a, b) => { if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${field}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`); };
      want('channel', e.channel, x.channel);
      want('directive', e.directive, x.directive);
      want('party', e.party, x.party);
      want('source.kind', e.source.kind, x.source.kind);
      want('source.name', e.source.name, x.source.name);
      if (p.id !== 'probe-fetch' && !e.observedBy.includes('network')) diffs.push(`observedBy ${JSON.stringify(e.observedBy)} lacks network`);
    }
    check(`3. probe ${p.id} (${p.mechanism}) attributed as expected`, !diffs.length, diffs.join('; '));
  }
} catch (e) {
  check('the test ran to its end', false, String(e && e.stack || e));
}
await finish(0);

#!/usr/bin/env node
// The extension on the real MediaWiki 1.39 harness of issue 2 (issue 5/7 item 8), in headless
// Debian Chromium.
//
//   node tests/e2e/extension-mediawiki.mjs   (after scripts/build.sh; starts the harness wiki
//                                             with tests/mediawiki/setup.sh + start.sh if it is
//                                             not answering, and stops it again in that case)
//
// The harness wiki (http://127.0.0.1:8088) is not a Wikimedia host, so this also exercises the
// "other wiki" path: the wiki is added to the extension's settings, and the background
// registers the content scripts for it (scripting.registerContentScripts); the profile holds
// the optional access to all sites (lib/chromium-extension.mjs). Logged in as Admin
// (every probe gadget enabled), the Main Page is loaded once; then:
//   1. the content scripts are registered for the wiki and the auditor runs as the extension;
//   2. every probe of tests/mediawiki/probes.json has exactly one event with the expected
//      channel, directive, party, source kind and name (and tool, carried data, chain);
//   3. the network ground truth contains nothing the report lacks: every request the browser
//      made for the top document, as Playwright's own network log records it (page 'request'
//      events, independent of the extension and of the page), is the URL of an event — the
//      top document's navigation itself and data:/blob: URLs aside; requests made inside child
//      frames belong to those frames' auditors, but a child frame's own document request is
//      the top document's (a frame event); and the extension's network layer reported too;
//   4. the badge count equals the number of unconsented third-party requests in the report.
// Ends with "N passed, N failed"; exit status 1 on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HARNESS_DIR, STATE_DIR, readConfig, loadPlaywright, chromiumArgs, apiLogin, waitForProbes, matches,
  recordNetwork,
  wikiUp, runHarnessScript,
} from '../mediawiki/lib/harness.mjs';
import { checks, sleep } from './lib/checks.mjs';
import { stageExtension, launchWithExtension, grantAllSites } from './lib/chromium-extension.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXT = path.join(ROOT, 'dist', 'extension', 'chromium');
const CHROMIUM = process.env.CHROMIUM || process.env.TPR_CHROMIUM || '/usr/bin/chromium';
const T0 = Date.now();
const { check, tally } = checks();

const runScript = runHarnessScript;

let startedWiki = false;
let context = null;
let profile = null;
let staged = null;
const watchdog = setTimeout(() => { console.log('FAIL watchdog: not finished in 240 s'); finish(1); }, 240000);
watchdog.unref();
async function finish(code) {
  if (context) { await context.close().catch(() => {}); context = null; }
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  if (staged) fs.rmSync(staged, { recursive: true, force: true });
  if (startedWiki) { startedWiki = false; try { runScript('stop.sh'); } catch (e) { console.log(String(e.message)); } }
  console.log(`extension on MediaWiki in ${((Date.now() - T0) / 1000).toFixed(1)} s`);
  console.log(`${tally.passed} passed, ${tally.failed + (code && !tally.failed ? 1 : 0)} failed`);
  process.exit(code || tally.failed ? 1 : 0);
}

try {
  if (!fs.existsSync(path.join(EXT, 'manifest.json'))) throw new Error(`${EXT} is not built: run scripts/build.sh`);
  if (!(await wikiUp())) {
    runScript('setup.sh');
    startedWiki = true;
    runScript('start.sh');
  }
  check('the harness wiki and its fake hosts answer', await wikiUp());
  const { env, hosts, probes } = readConfig();
  const wikiOrigin = new URL(env.wikiUrl).origin;

  const { chromium } = await loadPlaywright();
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tpr-ext-mw-'));
  staged = stageExtension(EXT);
  // The ground truth needs the optional access to all sites, as a user grants it on the
  // options page (lib/chromium-extension.mjs: how a test profile gets it in Chromium).
  const launchOpts = { dir: staged, profile, executablePath: CHROMIUM, headless: true, args: chromiumArgs(hosts, []) };
  await grantAllSites(chromium, launchOpts);
  let bg;
  ({ context, bg } = await launchWithExtension(chromium, launchOpts));
  for (let i = 0; i < 100 && !(await bg(() => typeof TPR === 'object').catch(() => false)); i++) await sleep(100);

  // The wiki as a user would add it on the options page (the permission is already granted).
  const registered = await bg((origin) => TPR.settings().then((s) => { s.wikis = [origin]; return TPR.saveSettings(s); })
    
    .then(() => serially(applyWikis)).then(() => chrome.scripting.getRegisteredContentScripts()), wikiOrigin);
  check('1. content scripts registered for the added wiki', registered.length === 2
    && registered.every((r) => r.matches.includes(`${new URL(wikiOrigin).protocol}//${new URL(wikiOrigin).hostname}/*`)),
  registered);

  await apiLogin(context, env);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const net = recordNetwork(page);
  // Playwright's log again, with the frame each request belongs to (for check 3).
  const requests = [];
  page.on('request', (req) => {
    const frame = req.frame();
    const nav = req.isNavigationRequest();
    requests.push({ url: req.url(), type: req.resourceType(), top: frame === page.mainFrame(), nav,
      childOfTop: nav && frame.parentFrame() === page.mainFrame() });
  });
  page.on('websocket', (ws) => requests.push({ url: ws.url(), type: 'websocket', top: true, nav: false, childOfTop: false }));
  await page.goto(`${env.wikiUrl}/index.php?title=Main_Page`, { waitUntil: 'load' });
  const { missingMarkers, missingRequests } = await waitForProbes(page, net, probes, 25000);
  check('every probe ran and its request was answered', !missingMarkers.length && !missingRequests.length,
    { missingMarkers, missingRequests: missingRequests.map((p) => p.id) });
  await page.evaluate(async () => { await tprAuditor.ready; await tprAuditor.settled(); });
  await sleep(1000); // the network layer's last sightings and the badge
  const r = await page.evaluate(async () => {
    await tprAuditor.settled();
    const rep = tprAuditor.report();
    return { status: tprAuditor.status, packaging: rep.packaging, events: rep.events, network: tprAuditor.extension.networkUrls() };
  });
  check('1. the auditor runs as the extension', r.status === 'running' && r.packaging === 'extension', { status: r.status, packaging: r.packaging });

  for (const p of probes) {
    const evs = r.events.filter((e) => matches(p, e.url));
    const x = p.expect;
    const diffs = [];
    if (evs.length !== 1) diffs.push(`${evs.length} events`);
    const e = evs[0];
    if (e) {
      const want = (field, a, b) => { if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${field}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`); };
      want('channel', e.channel, x.channel);
      want('directive', e.directive, x.directive);
      want('party', e.party, x.party);
      if (x.tool !== undefined) want('tool', e.tool, x.tool);
      for (const c of x.carries || []) if (!e.carries.includes(c)) diffs.push(`carries lacks ${c}`);
      want('source.kind', e.source.kind, x.source.kind);
      want('source.name', e.source.name, x.source.name);
      for (const link of x.source.chainIncludes || []) {
        if (!e.source.chain.some((c) => c === link || c.endsWith(`:${link}`))) diffs.push(`chain lacks ${link}`);
      }
    }
    check(`2. probe ${p.id} (${p.mechanism}) attributed as expected`, !diffs.length, diffs.join('; '));
  }

  const eventUrls = new Set(r.events.map((e) => e.url));
  const truth = requests.filter((e) => !/^(data|blob):/i.test(e.url) && ((e.top && !e.nav) || e.childOfTop));
  const lacking = [...new Set(truth.map((e) => e.url))].filter((u) => !eventUrls.has(u));
  check(`3. Playwright's network log of the page (${truth.length} of its ${requests.length} requests) has nothing the report lacks`,
    truth.length > 0 && lacking.length === 0, lacking);
  check(`3. ... and the extension's network layer reported the page's requests (${r.network.length})`,
    r.network.length > 0 && r.network.every((u) => eventUrls.has(u)), r.network.filter((u) => !eventUrls.has(u)));

  const expectBadge = r.events.filter((e) => (e.party === 'third' || e.party === 'cloud') && (e.decision === 'unconsented' || e.decision === 'blocked'))
    .reduce((n, e) => n + e.count, 0);
  const tabId = await bg((url) => chrome.tabs.query({}).then((t) => (t.find((x) => x.url && x.url.startsWith(url)) || {}).id), wikiOrigin);
  let badge = null;
  for (let i = 0; i < 30; i++) {
    badge = await bg((t) => chrome.action.getBadgeText({ tabId: t }), tabId);
    if (badge === String(expectBadge)) break;
    await sleep(100);
  }
  check(`4. badge = unconsented third-party requests (${expectBadge})`, expectBadge > 0 && badge === String(expectBadge), { badge, expectBadge });
  check('no page errors', errors.length === 0, errors);
} catch (e) {
  check('the test ran to its end', false, String(e && e.stack || e));
}
await finish(0);

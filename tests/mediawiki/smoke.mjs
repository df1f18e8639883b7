#!/usr/bin/env node
// Smoke test of the real-MediaWiki harness (no auditor involved): logs in as Admin, loads the
// Main Page cold, warm (modules replayed from mw.loader.store) and with ?debug=1, waits for every
// probe marker and prints the page's network requests. Proves every probe gadget / script ran and
// every fake host answered. Exit code 0 = all good.
//   node tests/mediawiki/smoke.mjs [--quiet]      (needs setup.sh and start.sh first)
import {
  readConfig, launchChromium, apiLogin, recordNetwork, waitForProbes, waitForModuleStore, matches,
} from './lib/harness.mjs';

const quiet = process.argv.includes('--quiet');
const t0 = Date.now();
const { env, hosts, probes } = readConfig();
const fakeHosts = new Set(hosts.hosts.map((h) => `${h.host}:${h.port}`));
const wikiHost = new URL(env.wikiUrl).host;
const gadgetModules = probes.filter((p) => p.expect.source.kind === 'gadget')
  .map((p) => `ext.gadget.${p.expect.source.name}`);
const uniqueGadgetModules = [...new Set(gadgetModules)];
const main = `${env.wikiUrl}/index.php?title=Main_Page`;

const failures = [];
const fail = (scenario, msg) => failures.push(`${scenario}: ${msg}`);

const browser = await launchChromium({ hosts });
try {
  const context = await browser.newContext();
  await apiLogin(context, env);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  const net = recordNetwork(page);

  const scenarios = [
    { name: 'production-cold', url: main, before: async () => {
      // Start from an empty module store (login made no page load, so the HTTP cache is empty too).
      await page.goto(`${env.wikiUrl}/api.php?action=query&format=json`); // same origin, no scripts
      await page.evaluate(() => localStorage.clear());
    } },
    { name: 'production-warm', url: main, before: async () => {
      if (!(await waitForModuleStore(page, uniqueGadgetModules))) fail('production-warm', 'gadget modules never reached mw.loader.store');
    } },
    { name: 'debug', url: `${main}&debug=1` },
  ];

  for (const sc of scenarios) {
    if (sc.before) await sc.before();
    net.reset();
    errors.length = 0;
    const ts = Date.now();
    await page.goto(sc.url, { waitUntil: 'load' });
    const { missingMarkers, missingRequests } = await waitForProbes(page, net, probes);
    const ms = Date.now() - ts;
    const info = await page.evaluate(() => ({
      user: mw.config.get('wgUserName'),
      storeEnabled: mw.loader.store.enabled,
      storeStats: mw.loader.store.stats,
      debug: mw.config.get('debug'),
      gadgets: Object.keys(mw.loader.moduleRegistry).filter((m) => m.startsWith('ext.gadget.'))
        .map((m) => `${m}:${mw.loader.getState(m)}`),
      log: window.tprProbeLog || [],
    }));

    console.log(`\n=== ${sc.name}  (${ms} ms, user=${info.user}, debug=${info.debug}, ` +
      `mw.loader.store.enabled=${info.storeEnabled}, store hits=${info.storeStats.hits} misses=${info.storeStats.misses})`);
    if (info.user !== env.adminUser) fail(sc.name, `not logged in (wgUserName=${info.user})`);
    for (const m of missingMarkers) fail(sc.name, `marker ${m} never set`);
    for (const p of missingRequests) fail(sc.name, `no answered request for ${p.id}: ${p.url}`);
    for (const g of info.gadgets) if (!g.endsWith(':ready')) fail(sc.name, `module ${g}`);

    // The wiki's load.php requests: which carried gadget modules?
    const loadReqs = net.entries.filter((e) => e.url.startsWith(`${env.wikiUrl}/load.php`));
    const gadgetLoads = loadReqs.filter((e) => decodeURIComponent(e.url).includes('ext.gadget.'));
    if (sc.name === 'production-warm') {
      if (!info.storeEnabled) fail(sc.name, 'mw.loader.store disabled');
      if (!(info.storeStats.hits > 0)) fail(sc.name, 'no module came from mw.loader.store');
      if (gadgetLoads.length) fail(sc.name, `gadget modules fetched over the network: ${gadgetLoads.map((e) => e.url).join(' ')}`);
    } else if (sc.name === 'production-cold') {
      if (!info.storeEnabled) fail(sc.name, 'mw.loader.store disabled');
      if (!gadgetLoads.length) fail(sc.name, 'no load.php batch with gadget modules');
    } else if (sc.name === 'debug') {
      if (info.storeEnabled) fail(sc.name, 'mw.loader.store enabled in debug mode');
      for (const m of uniqueGadgetModules) {
        if (!gadgetLoads.some((e) => new URL(e.url).searchParams.get('modules') === m)) fail(sc.name, `no own load.php request for ${m}`);
      }
    }

    // Probes: the request each makes.
    for (const p of probes) {
      const hit = net.entries.find((e) => matches(p, e.url));
      const mark = hit && (hit.status || !hit.failure) ? 'ok ' : 'XX ';
      console.log(`  ${mark}${p.id.padEnd(20)} ${(hit ? hit.type : '-').padEnd(10)} ${String(hit?.status ?? hit?.failure ?? '-').padEnd(4)} ${hit ? hit.url : p.url}`);
      if (hit && hit.type !== p.resourceType) fail(sc.name, `${p.id}: resource type ${hit.type}, expected ${p.resourceType}`);
    }
    // Every off-wiki request must go to a fake host and be answered.
    for (const e of net.entries) {
      const host = new URL(e.url).host;
      if (host === wikiHost || e.url.startsWith('data:') || e.url.startsWith('blob:')) continue;
      if (!fakeHosts.has(host)) fail(sc.name, `request to an unmapped host: ${e.url}`);
      else if (e.failure || !(e.status < 400)) fail(sc.name, `fake host did not answer: ${e.url} (${e.failure || e.status})`);
      else if (!probes.some((p) => matches(p, e.url))) fail(sc.name, `off-wiki request not in probes.json: ${e.url}`);
    }
    if (!quiet) {
      console.log(`  all ${net.entries.length} requests of the page:`);
      for (const e of net.entries) {
        const u = e.url.length > 150 ? `${e.url.slice(0, 147)}...` : e.url;
        console.log(`    ${e.type.padEnd(10)} ${String(e.status ?? e.failure ?? '-').padEnd(4)} ${e.method.padEnd(4)} ${u}`);
      }
    }
    for (const err of errors) fail(sc.name, `page error: ${err}`);
  }
} finally {
  await browser.close();
}

console.log(`\nsmoke: ${probes.length} probe requests x 3 scenarios, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (failures.length) {
  console.log(`FAILED (${failures.length}):\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('OK: every probe ran and every fake host answered, cold, warm and debug=1');

// Browser benchmark of the page runtime (issue 2/7 item 14): reported, never asserted.
//
//   node scripts/bench-page.mjs [--runs N] [--no-wiki]
//
// 1. Request flood on loopback: a page served here makes 2,000 `fetch` calls and 500
//    element insertions (250 scripts, 250 images), all to 127.0.0.1, and waits for every one
//    to finish. Each run is a fresh browser context, alternately without and with the auditor
//    (dist/tpr-auditor.js at document start, `audit` mode), in one Chromium; the report is the
//    ratio of the medians (target <= 1.10).
//    The same runs time the synchronous part of every `fetch()` call and `appendChild` call:
//    with the auditor that is the hook path (arguments read, stack captured, core called,
//    request classified and decided, event recorded); without it, the browser's own call. The
//    median per-event hook cost is the difference of the two medians (target <= 20 us). The
//    page is cross-origin isolated (COOP + COEP) so `performance.now()` has 5 us resolution
//    instead of 100 us.
// 2. Real wiki page load: the harness wiki's main page (tests/mediawiki/, started if needed)
//    logged in as Admin, whose probe gadgets all run (the auditor in the wiki's frames only, as
//    deployed: see wikiFramesOnly); per run a fresh context, one navigation
//    to fill the HTTP cache and mw.loader.store, then the measured one: `loadEventEnd` and the
//    time until every gadget probe reported done. Ratio of medians with/without (target <= 1.05).
//
// The machine's load average is printed: on a shared machine compare runs made when idle.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  readConfig, loadPlaywright, chromiumArgs, apiLogin, ensureWiki, stopWikiIfStarted,
} from '../tests/mediawiki/lib/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = process.env.TPR_BUNDLE || path.join(ROOT, 'dist', 'tpr-auditor.js');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 7);
const WITH_WIKI = !process.argv.includes('--no-wiki');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => `${x.toFixed(1)} ms`;
const us = (x) => `${(x * 1000).toFixed(1)} us`;
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// ---- 1. request flood --------------------------------------------------------------------------
const PAGE = `<!doctype html><meta charset="utf-8"><title>bench</title>
<script>
window.runBench = async function (tag) {
  const syncFetch = [], syncInsert = [], done = [];
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) {
    const a = performance.now();
    const p = fetch('/r/' + tag + '/' + i);
    syncFetch.push(performance.now() - a);
    done.push(p.then((r) => r.arrayBuffer(), () => null));
  }
  for (let i = 0; i < 500; i++) {
    const el = document.createElement(i % 2 ? 'img' : 'script');
    done.push(new Promise((res) => { el.onload = res; el.onerror = res; }));
    el.src = (i % 2 ? '/i.gif?' : '/s.js?') + tag + '-' + i;
    const a = performance.now();
    (i % 2 ? document.body : document.head).appendChild(el);
    syncInsert.push(performance.now() - a);
  }
  await Promise.all(done);
  return { total: performance.now() - t0, syncFetch, syncInsert, isolated: self.crossOriginIsolated };
};
</script><body></body>`;
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function serve() {
  const server = http.createServer((req, res) => {
    const head = {
      'Cache-Control': 'no-store',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
    if (req.url === '/bench.html') {
      res.writeHead(200, { ...head, 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (req.url.startsWith('/s.js')) {
      res.writeHead(200, { ...head, 'Content-Type': 'text/javascript' });
      res.end('');
    } else if (req.url.startsWith('/i.gif')) {
      res.writeHead(200, { ...head, 'Content-Type': 'image/gif' });
      res.end(GIF);
    } else if (req.url.startsWith('/r/')) {
      res.writeHead(200, { ...head, 'Content-Type': 'application/json' });
      res.end('{}');
    } else {
      res.writeHead(404, head);
      res.end();
    }
  });
  server.keepAliveTimeout = 60000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function flood(browser, bundle) {
  const server = await serve();
  const url = `http://127.0.0.1:${server.address().port}/bench.html`;
  const out = { without: [], with: [] };
  try {
    // The first pair warms the browser (and compiles nothing that is kept: fresh contexts).
    for (let run = -1; run < RUNS; run++) {
      for (const mode of ['without', 'with']) {
        const context = await browser.newContext();
        if (mode === 'with') await context.addInitScript({ content: bundle });
        const page = await context.newPage();
        await page.goto(url);
        if (mode === 'with') {
          const status = await page.evaluate(async () => { await window.tprAuditor.ready; return window.tprAuditor.status; });
          if (status !== 'running') throw new Error(`auditor not running: ${JSON.stringify(status)}`);
        }
        const r = await page.evaluate((tag) => window.runBench(tag), `${mode}${run}`);
        if (mode === 'with') {
          r.events = await page.evaluate(async () => {
            await window.tprAuditor.settled();
            return window.tprAuditor.report().events.reduce((n, e) => n + e.count, 0);
          });
        }
        await context.close();
        if (run >= 0) out[mode].push(r);
      }
    }
  } finally {
    server.close();
  }
  const total = (m) => median(out[m].map((r) => r.total));
  const per = (m, k) => median(out[m].flatMap((r) => r[k]));
  const [t0, t1] = [total('without'), total('with')];
  console.log(`request flood (2,000 fetch + 250 script + 250 img to loopback), ${RUNS} runs each, median:`);
  console.log(`  without auditor ${ms(t0)}, with auditor ${ms(t1)}: ratio ${(t1 / t0).toFixed(3)} (target <= 1.10)`);
  console.log(`  requests recorded by the auditor per run: ${median(out.with.map((r) => r.events))} (2,500 made)`);
  const f0 = per('without', 'syncFetch');
  const f1 = per('with', 'syncFetch');
  const i0 = per('without', 'syncInsert');
  const i1 = per('with', 'syncInsert');
  console.log(`  fetch() call, synchronous part: ${us(f0)} without, ${us(f1)} with -> hook path ${us(f1 - f0)} per event (target <= 20 us)`);
  console.log(`  appendChild of a loading element: ${us(i0)} without, ${us(i1)} with -> hook path ${us(i1 - i0)} per event`);
  console.log(`  (timer resolution: ${out.with.every((r) => r.isolated) ? '5 us, cross-origin isolated' : '100 us, NOT isolated'})`);
}

// ---- 2. wiki page load -------------------------------------------------------------------------
// The auditor where a deployment has it: the extension's content scripts match the wiki's
// hosts, and a gadget runs on the wiki's pages. An init script runs in every frame, also in
// the probe gadget's third-party <iframe>, which no deployment reaches: there the bundle would
// start a second auditor and delay that frame's `load`. So the bundle runs only in the wiki's
// own frames and in about:/blob: ones, which hand their realm to the parent's auditor. (In a
// block: its top-level names are used only inside the bundle itself, and its stacks keep
// their shape, which an indirect eval would not.)
function wikiFramesOnly(bundle, pageUrl) {
  const origin = new URL(pageUrl).origin;
  return `if (location.origin === ${JSON.stringify(origin)} || /^(about|blob):$/.test(location.protocol)) {\n${bundle}\n}\n`;
}

async function wikiLoad(browser, bundle) {
  const { env, probes } = readConfig();
  const main = `${env.wikiUrl}/index.php?title=Main_Page`;
  const markers = [...new Set(probes.filter((p) => p.marker).map((p) => p.marker))];
  const gadgets = new Set(probes.filter((p) => p.expect.source.kind === 'gadget').map((p) => p.expect.source.name));
  const out = { without: [], with: [] };
  for (let run = -1; run < RUNS; run++) {
    for (const mode of ['without', 'with']) {
      const context = await browser.newContext();
      await apiLogin(context, env);
      if (mode === 'with') await context.addInitScript({ content: wikiFramesOnly(bundle, main) });
      const page = await context.newPage();
      await page.goto(main, { waitUntil: 'load' });
      await page.waitForTimeout(500); // let mw.loader.store write its batch
      await page.goto(main, { waitUntil: 'load' });
      const r = await page.waitForFunction((names) => {
        const done = window.tprProbeDone || {};
        if (!names.every((n) => done[n])) return false;
        const nav = performance.getEntriesByType('navigation')[0];
        return { load: nav.loadEventEnd, probes: performance.now() };
      }, markers, { polling: 'raf', timeout: 30000 }).then((h) => h.jsonValue());
      await context.close();
      if (run >= 0) out[mode].push(r);
    }
  }
  const m = (mode, k) => median(out[mode].map((r) => r[k]));
  console.log(`wiki main page, logged in, ${gadgets.size} gadgets + MediaWiki:Common.js + User:Admin/common.js, warm (second load), ${RUNS} runs each, median:`);
  for (const [k, what] of [['load', 'loadEventEnd'], ['probes', 'every gadget probe done']]) {
    const [a, b] = [m('without', k), m('with', k)];
    console.log(`  ${what}: without ${ms(a)}, with ${ms(b)}: ratio ${(b / a).toFixed(3)} (target <= 1.05)`);
  }
}

// ---- main --------------------------------------------------------------------------------------
if (!fs.existsSync(BUNDLE)) {
  console.error(`${BUNDLE} missing: run scripts/build.sh`);
  process.exit(1);
}
const bundle = fs.readFileSync(BUNDLE, 'utf8');
const { chromium } = await loadPlaywright();
console.log(`load before: ${load()}`);
let started = false;
let browser = null;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--no-first-run'] });
  await flood(browser, bundle);
  await browser.close();
  browser = null;
  if (WITH_WIKI) {
    started = await ensureWiki();
    const { hosts } = readConfig();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs(hosts) });
    await wikiLoad(browser, bundle);
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  if (started) stopWikiIfStarted();
  console.log(`load after:  ${load()}`);
}

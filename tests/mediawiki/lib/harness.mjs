// Shared helpers of the real-MediaWiki harness, for smoke.mjs and the test drivers:
// configuration (env.json, hosts.json, probes.json), Chromium launch with the fake hosts mapped
// to loopback, API login, a network log per page (Playwright events) and probe waiting.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const HARNESS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const STATE_DIR = process.env.TPR_MW_DIR || '/tmp/tpr-mw';

/** playwright-core from the project (normal resolution), else from $TPR_PLAYWRIGHT_PREFIX
 *  (an `npm install --prefix` dir), else /tmp/pw. */
export async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (e) {
    for (const prefix of [process.env.TPR_PLAYWRIGHT_PREFIX, path.resolve(HARNESS_DIR, '../..'), '/tmp/pw']) {
      if (!prefix) continue;
      try {
        return createRequire(path.join(prefix, 'package.json'))('playwright-core');
      } catch { /* next */ }
    }
    throw new Error('playwright-core not found: npm install it, or set TPR_PLAYWRIGHT_PREFIX');
  }
}

/** Effective configuration: $STATE/env.json (written by setup.sh), hosts.json, probes.json
 *  with the port placeholders replaced. */
export function readConfig() {
  const envFile = path.join(STATE_DIR, 'env.json');
  if (!fs.existsSync(envFile)) throw new Error(`${envFile} missing: run tests/mediawiki/setup.sh`);
  const env = JSON.parse(fs.readFileSync(envFile, 'utf8'));
  const subst = (s) => s.replaceAll('@@FAKE_PORT@@', String(env.fakePort)).replaceAll('@@WIKI_PORT@@', String(env.wikiPort));
  const hosts = JSON.parse(fs.readFileSync(path.join(HARNESS_DIR, 'hosts.json'), 'utf8'));
  const probes = JSON.parse(subst(fs.readFileSync(path.join(HARNESS_DIR, 'probes.json'), 'utf8'))).probes;
  return { env, hosts, probes };
}

/** Chromium flags: quiet on a closed network, and every fake host resolved to loopback. */
export function chromiumArgs(hosts, extra = []) {
  return [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
    `--host-resolver-rules=${hosts.hostResolverRules}`,
    ...extra,
  ];
}

export async function launchChromium({ hosts, headless = true, args = [] } = {}) {
  const { chromium } = await loadPlaywright();
  return chromium.launch({
    executablePath: process.env.TPR_CHROMIUM || '/usr/bin/chromium',
    headless,
    args: chromiumArgs(hosts, args),
  });
}

/** Logs the context in with action=clientlogin (cookies land in the browser context). */
export async function apiLogin(context, env) {
  const api = `${env.wikiUrl}/api.php`;
  const tok = await (await context.request.get(`${api}?action=query&meta=tokens&type=login&format=json`)).json();
  const res = await context.request.post(api, {
    form: {
      action: 'clientlogin', format: 'json',
      username: env.adminUser, password: env.adminPass,
      logintoken: tok.query.tokens.logintoken,
      loginreturnurl: `${env.wikiUrl}/`,
    },
  });
  const body = await res.json();
  if (body?.clientlogin?.status !== 'PASS') throw new Error(`login failed: ${JSON.stringify(body)}`);
}

/** Records every request of the page (all frames) and every WebSocket: {url, type, method,
 *  status, failure, frameUrl}. Returns {entries, reset()}. */
export function recordNetwork(page) {
  const log = { entries: [], reset() { this.entries = []; } };
  const byReq = new Map();
  page.on('request', (req) => {
    const e = { url: req.url(), type: req.resourceType(), method: req.method(), status: null, failure: null,
      frameUrl: safe(() => req.frame().url()) };
    byReq.set(req, e);
    log.entries.push(e);
  });
  page.on('response', (res) => {
    const e = byReq.get(res.request());
    if (e) e.status = res.status();
  });
  page.on('requestfailed', (req) => {
    const e = byReq.get(req);
    if (e) e.failure = req.failure()?.errorText || 'failed';
  });
  page.on('websocket', (ws) => {
    const e = { url: ws.url(), type: 'websocket', method: 'GET', status: null, failure: null, frameUrl: null };
    log.entries.push(e);
    ws.on('framereceived', () => { e.status = 101; });
    ws.on('socketerror', (err) => { e.failure = String(err); });
  });
  return log;
}

function safe(f) { try { return f(); } catch { return null; } }

export function matches(probe, url) {
  return probe.match === 'prefix' ? url.startsWith(probe.url) : url === probe.url;
}

/** Waits until every probe's marker is set in window.tprProbeDone and its request is in the
 *  network log. Returns {missingMarkers, missingRequests}. */
export async function waitForProbes(page, net, probes, timeout = 20000) {
  const markers = [...new Set(probes.map((p) => p.marker))];
  const deadline = Date.now() + timeout;
  await page.waitForFunction((ms) => ms.every((m) => window.tprProbeDone && window.tprProbeDone[m]), markers,
    { timeout, polling: 50 }).catch(() => {});
  let missingRequests;
  for (;;) {
    missingRequests = probes.filter((p) => !net.entries.some((e) => matches(p, e.url) && (e.status || e.failure)));
    if (!missingRequests.length || Date.now() > deadline) break;
    await page.waitForTimeout(50);
  }
  const done = await page.evaluate(() => Object.keys(window.tprProbeDone || {}));
  return { missingMarkers: markers.filter((m) => !done.includes(m)), missingRequests };
}

/** Waits until ResourceLoader has written the gadget modules to mw.loader.store (localStorage):
 *  the write is deferred (2 s timer + idle callback in 1.39). */
export async function waitForModuleStore(page, modules, timeout = 15000) {
  return page.waitForFunction((mods) => {
    const store = window.mw && mw.loader.store;
    if (!store || !store.enabled) return false;
    const raw = localStorage.getItem(store.key) || '';
    return mods.every((m) => raw.includes(`${m}@`));
  }, modules, { timeout, polling: 100 }).then(() => true, () => false);
}

async function answers(url, body) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (r.status !== 200) return false;
    return body === undefined || (await r.text()).trim() === body;
  } catch { return false; }
}

/** Whether the test wiki and the fake hosts answer. */
export async function wikiUp() {
  if (!fs.existsSync(path.join(STATE_DIR, 'env.json'))) return false;
  const { env } = readConfig();
  return (await answers(`${env.wikiUrl}/index.php?title=Main_Page`))
    && (await answers(`http://127.0.0.1:${env.fakePort}/__health`, 'ok'));
}

/** Runs tests/mediawiki/NAME (setup.sh, start.sh, stop.sh); throws with its output on failure. */
export function runHarnessScript(name) {
  const r = spawnSync('bash', [path.join(HARNESS_DIR, name)], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tests/mediawiki/${name} failed (exit ${r.status}):\n${r.stdout || ''}${r.stderr || ''}`);
}

/** Sets up and starts the test wiki unless it answers; true when this call started it. */
export async function ensureWiki() {
  if (await wikiUp()) return false;
  runHarnessScript('setup.sh');
  runHarnessScript('start.sh');
  if (!(await wikiUp())) throw new Error('the test wiki does not answer after start.sh');
  return true;
}

/** Stops the wiki started by ensureWiki (stop.sh is idempotent). */
export function stopWikiIfStarted() {
  runHarnessScript('stop.sh');
}

// A tiny W3C WebDriver client (no dependencies) for driving Debian's Chromium (chromedriver)
// and Firefox ESR (geckodriver) with the same code: spawn the driver on a free loopback port,
// open a session with headless capabilities, navigate, run async scripts, close.
//
//   const wd = await startBrowser('firefox', { prefs: {...}, args: [...] });
//   await wd.navigate('http://page.test:1234/');
//   const result = await wd.executeAsync('const done = arguments[arguments.length - 1]; done(1)');
//   await wd.quit();
//
// Browser flags and prefs start from webdriver.json at the repository root (the same file the
// wasm-bindgen test runner uses), then the caller's are added.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const BROWSERS = {
  chromium: {
    binary: process.env.CHROMIUM || process.env.TPR_CHROMIUM || '/usr/bin/chromium',
    driver: process.env.CHROMEDRIVER || '/usr/bin/chromedriver',
  },
  firefox: {
    binary: process.env.FIREFOX || '/usr/bin/firefox-esr',
    driver: process.env.GECKODRIVER || path.join(os.homedir(), '.cargo/bin/geckodriver'),
  },
};

/** A port the OS says is free on 127.0.0.1 right now (the driver binds it a moment later). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function readWebdriverJson() {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'webdriver.json'), 'utf8'));
  } catch {
    return {};
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Capabilities for a headless session of `name` ('chromium' or 'firefox'); `extra` adds
 *  top-level capabilities (e.g. `{ webSocketUrl: true }` for a WebDriver BiDi connection). */
export function capabilities(name, { args = [], prefs = {}, binary, acceptInsecureCerts = false, extra = {} } = {}) {
  const base = readWebdriverJson();
  if (name === 'chromium') {
    const chrome = base['goog:chromeOptions'] || {};
    return {
      ...extra,
      browserName: 'chrome',
      acceptInsecureCerts,
      'goog:chromeOptions': {
        binary: binary || BROWSERS.chromium.binary,
        args: [...(chrome.args || []), '--headless=new', '--no-sandbox', '--disable-gpu',
          '--disable-dev-shm-usage', ...args],
        prefs: { ...(chrome.prefs || {}), ...prefs },
      },
    };
  }
  if (name === 'firefox') {
    const moz = base['moz:firefoxOptions'] || {};
    return {
      ...extra,
      browserName: 'firefox',
      acceptInsecureCerts,
      'moz:firefoxOptions': {
        binary: binary || BROWSERS.firefox.binary,
        args: [...(moz.args || []), '-headless', ...args],
        prefs: { ...(moz.prefs || {}), ...prefs },
      },
    };
  }
  throw new Error(`unknown browser ${name}`);
}

class WebDriverError extends Error {
  constructor(method, url, status, value) {
    const v = value || {};
    super(`WebDriver ${method} ${url} -> ${status} ${v.error || ''}: ${v.message || JSON.stringify(value)}`);
    this.error = v.error;
  }
}

export class Session {
  constructor(base, id, driverProc, name, driverLog) {
    this.base = base;
    this.id = id;
    this.driverProc = driverProc;
    this.name = name;
    this.driverLog = driverLog;
    this.capabilities = null;
  }

  async cmd(method, suffix, body) {
    return command(this.base, method, `/session/${this.id}${suffix}`, body);
  }

  navigate(url) {
    return this.cmd('POST', '/url', { url });
  }

  currentUrl() {
    return this.cmd('GET', '/url');
  }

  setTimeouts(t) {
    return this.cmd('POST', '/timeouts', t);
  }

  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** `script` gets its arguments then a callback as the last argument. */
  executeAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args });
  }

  /** Deletes the session (the browser exits) and stops the driver. Never throws. */
  async quit() {
    try {
      await this.cmd('DELETE', '');
    } catch { /* the driver is stopped below anyway */ }
    await stopDriver(this.driverProc);
  }
}

async function command(base, method, suffix, body) {
  const url = `${base}${suffix}`;
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`WebDriver ${method} ${url} -> ${res.status}: not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new WebDriverError(method, url, res.status, json.value);
  return json.value;
}

// Drivers run as process-group leaders so that the driver and the browser it started can be
// ended together, by group id, even when the test dies before deleting its session.
const live = new Set();
let exitHook = false;
function killGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try { proc.kill(signal); } catch { /* already gone */ }
  }
}
function watch(proc) {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => { for (const p of live) killGroup(p, 'SIGKILL'); });
    for (const sig of ['SIGINT', 'SIGTERM']) {
      process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : 15)));
    }
  }
}

function stopDriver(proc) {
  return new Promise((resolve) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      if (proc) killGroup(proc, 'SIGKILL'); // a browser the driver left behind
      return resolve();
    }
    const t = setTimeout(() => killGroup(proc, 'SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(t);
      killGroup(proc, 'SIGKILL');
      resolve();
    });
    killGroup(proc, 'SIGTERM');
  });
}

/**
 * Spawns the driver of `name` on a free port and opens a headless session.
 * opts: {args, prefs, binary, acceptInsecureCerts, extra, verbose, driverArgs} — args/prefs are added
 * to webdriver.json's; driverArgs go to the driver itself (e.g. geckodriver's
 * --allow-system-access, which Marionette's chrome context needs).
 */
export async function startBrowser(name, opts = {}) {
  const b = BROWSERS[name];
  if (!b) throw new Error(`unknown browser ${name}`);
  for (const f of [b.binary, b.driver]) {
    if (!fs.existsSync(f)) throw new Error(`${f} missing (run scripts/setup.sh)`);
  }
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const driverArgs = name === 'chromium'
      ? [`--port=${port}`, '--allowed-ips=127.0.0.1']
      : ['--port', String(port), '--host', '127.0.0.1', '--websocket-port', String(await freePort())];
    driverArgs.push(...(opts.driverArgs || []));
    const proc = spawn(b.driver, driverArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    watch(proc);
    const log = [];
    const keep = (d) => {
      log.push(String(d));
      if (log.length > 200) log.shift();
      if (opts.verbose) process.stderr.write(`[${name}-driver] ${d}`);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitReady(base, proc);
      const value = await command(base, 'POST', '/session', {
        capabilities: { alwaysMatch: capabilities(name, opts) },
      });
      const session = new Session(base, value.sessionId, proc, name, log);
      session.capabilities = value.capabilities;
      return session;
    } catch (e) {
      lastErr = new Error(`${name}: ${e.message}\n--- driver log ---\n${log.join('').slice(-3000)}`);
      await stopDriver(proc);
      if (!/EADDRINUSE|Address already in use|exited/i.test(String(e.message) + log.join(''))) break;
    }
  }
  throw lastErr;
}

async function waitReady(base, proc) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`driver exited (${proc.exitCode ?? proc.signalCode})`);
    }
    try {
      const v = await command(base, 'GET', '/status');
      if (v && v.ready !== false) return;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`driver at ${base} not ready after 20 s`);
}

// The demo server (scripts/demo-server.py) for the end-to-end tests: started on free ports,
// its ready line (JSON: pageUrl, ports, host-resolver rules…) read from stdout.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Starts the demo server; resolves `{proc, cfg}` once it printed its ready line. */
export function startServer(extraArgs = []) {
  const proc = spawn('python3', [path.join(ROOT, 'scripts', 'demo-server.py'), '--port', '0', '--fake-port', '0', '--ready-json', ...extraArgs],
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo-server did not start in 10 s: ${stderr}`)), 10000);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`demo-server exited (${code}): ${stderr}`)); });
    readline.createInterface({ input: proc.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try { resolve({ proc, cfg: JSON.parse(line) }); } catch (e) { reject(new Error(`bad ready line: ${line}`)); }
    });
  });
}

/** Stops it (the whole process group). */
export function stopServer(proc) {
  if (!proc || proc.exitCode !== null) return;
  try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* already gone */ }
}

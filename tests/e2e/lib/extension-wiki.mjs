// A tiny wiki for the extension's end-to-end tests (tests/e2e/extension*.mjs): one loopback
// HTTPS server answering for en.wikipedia.org and the fake third parties *.thirdparty.example
// by Host header (the browser maps those names to 127.0.0.1), logging every request.
// HTTPS because wikipedia.org is on the browsers' HSTS preload list (http is upgraded); the
// certificate is a throw-away self-signed one made with openssl, which the browsers are told
// to accept (Chromium --ignore-certificate-errors, WebDriver acceptInsecureCerts).
//
//   /wiki/Test   a page: a same-origin stylesheet whose background image and font are third
//                party (no page hook can see them), a parser-inserted third-party image, a
//                consentable one, and three gadgets loaded by URL: Fetcher fetches a
//                third-party API and a third-party URL that answers 302 to another third-party
//                host (hop → final); Loader inserts a third-party script; Image loads a
//                third-party image; header Content-Security-Policy: img-src * data:
//   /wiki/Csp    the same page with Content-Security-Policy: script-src 'self' 'unsafe-inline'
//                (no WebAssembly in the page)
//   /wiki/Plain  the same page without any Content-Security-Policy header
//   /blank       (any third-party host) an empty HTML page, no auditor (tests load a bundle
//                into it themselves)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6d1a40000000049454e44ae426082', 'hex');

export const GADGET = '/w/index.php?title=MediaWiki:Gadget-Fetcher.js&action=raw&ctype=text/javascript';
export const GADGET_NAME = 'MediaWiki:Gadget-Fetcher.js';
export const LOADER_GADGET = '/w/index.php?title=MediaWiki:Gadget-Loader.js&action=raw&ctype=text/javascript';
export const LOADER_NAME = 'MediaWiki:Gadget-Loader.js';
export const IMAGE_GADGET = '/w/index.php?title=MediaWiki:Gadget-Image.js&action=raw&ctype=text/javascript';
export const IMAGE_NAME = 'MediaWiki:Gadget-Image.js';
/** What the gadgets request (paths on *.thirdparty.example): [host, path]. */
export const REDIRECT_FROM = ['hop', '/redirect.json'];
export const REDIRECT_TO = ['final', '/landing.json'];
export const LOADER_SCRIPT = ['cdn', '/lib.js'];
export const GADGET_IMAGE = ['img', '/gadget.png'];

function selfSignedCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpr-ext-cert-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=en.wikipedia.org',
    '-addext', 'subjectAltName=DNS:en.wikipedia.org,DNS:*.thirdparty.example'], { stdio: 'ignore' });
  const out = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

export async function startWiki() {
  const log = [];
  let port = 0;
  const W = () => `https://en.wikipedia.org:${port}`;
  const T = (host, p) => `https://${host}.thirdparty.example:${port}${p}`;
  const page = () => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Test</title>
<script>window.auditorFirst = { api: typeof window.tprAuditor === 'object',
  handle: !!window[Symbol.for('tpr-auditor.bootstrap')] };</script>
<link rel="stylesheet" href="/w/skin.css">
</head><body>
<div class="bg">background</div><p class="f">font</p>
<img src="${T('img', '/parser.png')}" alt="">
<img src="${T('allowed', '/ok.png')}" alt="">
<script src="${GADGET}"></script>
<script src="${LOADER_GADGET}"></script>
<script src="${IMAGE_GADGET}"></script>
</body></html>`;
  const skin = () => `.bg { background-image: url(${T('img', '/css-bg.png')}); min-height: 10px }
@font-face { font-family: Remote; src: url(${T('fonts', '/font.woff2')}) format("woff2") }
.f { font-family: Remote, serif }`;
  // gadgetDone once both fetches ended (either way): the data fetch's status, or 'failed'.
  const gadget = () => `Promise.all([
  fetch(${JSON.stringify(T('api', '/data.json?q=1'))}).then(function (r) { return r.status; }),
  fetch(${JSON.stringify(T(...REDIRECT_FROM))}).then(function () { return null; }, function () { return null; })
]).then(function (s) { window.gadgetDone = s[0]; }, function () { window.gadgetDone = 'failed'; });`;
  const loader = () => `(function () { var s = document.createElement('script');
  s.src = ${JSON.stringify(T(...LOADER_SCRIPT))}; document.head.appendChild(s); })();`;
  const imageGadget = () => `(function () { var i = new Image(); i.src = ${JSON.stringify(T(...GADGET_IMAGE))}; window.gadgetImage = i; })();`;

  const server = https.createServer(selfSignedCert(), (req, res) => {
    const host = String(req.headers.host || '').replace(/:\d+$/, '');
    log.push({ host, path: req.url, t: Date.now() });
    const send = (status, type, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
      res.end(body);
    };
    if (host === 'en.wikipedia.org') {
      if (req.url === '/wiki/Test') return send(200, 'text/html; charset=utf-8', page(), { 'Content-Security-Policy': 'img-src * data:' });
      if (req.url === '/wiki/Csp') return send(200, 'text/html; charset=utf-8', page(), { 'Content-Security-Policy': "script-src 'self' 'unsafe-inline'" });
      if (req.url === '/wiki/Plain') return send(200, 'text/html; charset=utf-8', page());
      if (req.url.startsWith('/w/skin.css')) return send(200, 'text/css', skin());
      if (req.url === GADGET) return send(200, 'text/javascript', gadget());
      if (req.url === LOADER_GADGET) return send(200, 'text/javascript', loader());
      if (req.url === IMAGE_GADGET) return send(200, 'text/javascript', imageGadget());
      return send(404, 'text/plain', 'no such page');
    }
    if (host.endsWith('.thirdparty.example')) {
      const cors = { 'Access-Control-Allow-Origin': '*' };
      if (req.url === '/blank') return send(200, 'text/html; charset=utf-8', '<!DOCTYPE html><html><head><meta charset="utf-8"><title>blank</title></head><body></body></html>');
      if (host === `${REDIRECT_FROM[0]}.thirdparty.example` && req.url === REDIRECT_FROM[1]) return send(302, 'text/plain', '', { ...cors, Location: T(...REDIRECT_TO) });
      if (req.url.endsWith('.js')) return send(200, 'text/javascript', 'window.libLoaded = true;', cors);
      if (req.url === REDIRECT_TO[1]) return send(200, 'application/json', '{"landed":true}', cors);
      if (req.url.endsWith('.png')) return send(200, 'image/png', PNG, cors);
      if (req.url.endsWith('.woff2')) return send(200, 'font/woff2', Buffer.alloc(64), cors);
      if (req.url.startsWith('/data.json')) return send(200, 'application/json', '{"ok":true}', cors);
      return send(404, 'text/plain', '', cors);
    }
    return send(421, 'text/plain', 'unknown host');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
  return {
    port, log, W, T,
    requestsSince: (t) => log.filter((r) => r.t >= t && r.path !== '/favicon.ico'),
    close: () => new Promise((r) => server.close(r)),
  };
}

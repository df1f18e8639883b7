// The built Chromium extension in a test profile, with or without the optional access to all
// sites (issue 5/7 item 2), for tests/e2e/extension.mjs and extension-mediawiki.mjs.
//
// The extension asks for all sites only at the user's click on its options page
// (`permissions.request`), and Chromium shows that prompt in a dialog automation cannot answer
// (no command-line switch or DevTools method grants an optional host permission). What
// Chromium does keep is a permission the user granted once: an update that makes it optional
// leaves it granted, and asking again returns true without a prompt. So `grantAllSites`
// primes the profile the way a user's history would: it loads a copy of the same build whose
// only change is `*://*/*` among the required host permissions, then the real build from the
// same directory (same extension id). The test then runs the real manifest throughout.
// (Withdrawing is left to the browser's own settings: in Chromium, permissions.remove of all
// sites also drops the manifest's required hosts until a restart, and asking again prompts.)
//
// The build is copied (`stageExtension`) so dist/ is never modified by a test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ALL_SITES = '*://*/*';

/** A copy of the built extension directory; returns its path. */
export function stageExtension(dist) {
  if (!fs.existsSync(path.join(dist, 'manifest.json'))) throw new Error(`${dist} is not built: run scripts/build.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpr-ext-build-'));
  fs.cpSync(dist, dir, { recursive: true });
  return dir;
}

/**
 * Launches Chromium with the staged extension in `profile`; resolves to {context, extId, bg}
 * where bg(fn, arg) evaluates in the extension's current service worker.
 */
export async function launchWithExtension(chromium, { dir, profile, executablePath, headless = true, args = [], ignoreHTTPSErrors = false }) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless,
    ignoreHTTPSErrors,
    args: [...args, `--disable-extensions-except=${dir}`, `--load-extension=${dir}`],
  });
  let sw = context.serviceWorkers()[0] || await context.waitForEvent('serviceworker', { timeout: 15000 });
  const extId = new URL(sw.url()).host;
  // The service worker may be restarted: always ask the context for the current one.
  const bg = async (fn, arg) => {
    sw = context.serviceWorkers().find((w) => w.url().includes(extId)) || sw;
    return sw.evaluate(fn, arg);
  };
  return { context, extId, bg };
}

/**
 * Primes `profile` so that the staged extension's optional all-sites access counts as granted
 * once by the user (see the top of this file). Leaves the staged manifest as built.
 */
export async function grantAllSites(chromium, opts) {
  const file = path.join(opts.dir, 'manifest.json');
  const built = fs.readFileSync(file, 'utf8');
  const manifest = JSON.parse(built);
  if (!(manifest.optional_host_permissions || []).includes(ALL_SITES)) {
    throw new Error(`the built manifest does not offer ${ALL_SITES} as an optional host permission`);
  }
  fs.writeFileSync(file, JSON.stringify({ ...manifest, host_permissions: [...manifest.host_permissions, ALL_SITES] }));
  try {
    const { context, bg } = await launchWithExtension(chromium, opts);
    const granted = await bg((all) => chrome.permissions.contains({ origins: [all] }), ALL_SITES);
    await context.close();
    if (!granted) throw new Error('priming the profile did not grant all sites');
  } finally {
    fs.writeFileSync(file, built);
  }
}

/** The scope the options page shows ("all-sites" or "wiki-hosts"). */
export async function shownNetworkScope(context, extId) {
  const page = await context.newPage();
  try {
    await page.goto(`chrome-extension://${extId}/options.html`);
    return await page.waitForFunction(() => document.getElementById('network-scope').dataset.scope, null, { timeout: 10000 })
      .then((h) => h.jsonValue());
  } finally {
    await page.close();
  }
}

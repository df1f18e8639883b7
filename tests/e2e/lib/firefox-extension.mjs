// The packaged add-on's own pages in headless Firefox through WebDriver
// (tests/e2e/lib/webdriver.mjs), for extension-firefox.mjs and extension-firefox-mediawiki.mjs.
//
// The add-on's moz-extension UUID is fixed before Firefox starts (`firefoxPrefs`), so a test
// knows its pages' addresses; `extensions.webextOptionalPermissionPrompts: false` makes
// Firefox answer `permissions.request` yes without its prompt (the prompt itself cannot be
// driven headless), so the options page's own buttons, clicked through WebDriver with the
// user gesture they need, grant the optional host access (issue 5/7 item 2).
export const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
export const UUID = '5f2b7c1e-0a4d-4c8e-9b3f-7d6e1a2c3b4d';

/** Prefs for startBrowser('firefox', {prefs}) with the add-on whose gecko id is `geckoId`. */
export function firefoxPrefs(geckoId) {
  return {
    'extensions.webextensions.uuids': JSON.stringify({ [geckoId]: UUID }),
    'extensions.webextOptionalPermissionPrompts': false,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens the add-on's page `file` (e.g. 'options.html') in the current tab. WebDriver may not
 * navigate content to an extension page; the browser's own chrome can (Marionette's chrome
 * context, which needs geckodriver --allow-system-access), as the user's click would.
 */
export async function openAddonPage(wd, file, readySelector) {
  await wd.cmd('POST', '/moz/context', { context: 'chrome' });
  await wd.execute(`const win = Services.wm.getMostRecentWindow('navigator:browser');
    win.gBrowser.selectedBrowser.loadURI(Services.io.newURI(arguments[0]),
      { triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal() });`, [`moz-extension://${UUID}/${file}`]);
  await wd.cmd('POST', '/moz/context', { context: 'content' });
  for (let i = 0; i < 50 && !String(await wd.currentUrl()).startsWith('moz-extension:'); i++) await sleep(100);
  await wd.executeAsync(`const done = arguments[arguments.length - 1];
    (function poll() { if (document.readyState === 'complete' && document.querySelector(${JSON.stringify(readySelector)})) done(); else setTimeout(poll, 100); })();`);
}

/** The element for a CSS selector in the current page. */
export async function element(wd, css) {
  return (await wd.cmd('POST', '/element', { using: 'css selector', value: css }))[ELEMENT];
}

/** The network scope the open options page shows, once it shows one. */
export function shownScope(wd) {
  return wd.executeAsync(`const done = arguments[arguments.length - 1];
    const start = Date.now();
    (function poll() {
      const s = document.getElementById('network-scope').dataset.scope;
      if (s || Date.now() - start > 8000) done(s || null); else setTimeout(poll, 100);
    })();`);
}

/**
 * On the options page: reads the shown network scope, clicks "Record requests to all sites"
 * and waits for the page to show the new scope. Resolves to {before, after}.
 */
export async function grantAllSitesFromOptions(wd) {
  await openAddonPage(wd, 'options.html', '#grant-all-sites');
  const before = await shownScope(wd);
  await wd.cmd('POST', `/element/${await element(wd, '#grant-all-sites')}/click`, {});
  const after = await wd.executeAsync(`const done = arguments[arguments.length - 1];
    const start = Date.now();
    (function poll() {
      const s = document.getElementById('network-scope').dataset.scope;
      if (s === 'all-sites' || Date.now() - start > 8000) done(s || null); else setTimeout(poll, 100);
    })();`);
  return { before, after };
}

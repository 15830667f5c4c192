// Opens the running demo (npm start) in headless Debian Chromium, shows the PeerSync view and saves a
// screenshot: a check that the demo works as a user sees it. Only loopback requests are allowed.
//
//   node scripts/demo/screenshot.mjs URL [FILE.png] [--replicate PEER_URL]
//
// URL is the one npm start printed. --replicate also runs PeerSync: Start Replication with PEER_URL
// (push and pull, continuous, self-signed certificate accepted), opens the document "list" of the
// database "laptop", changes "value": 10 to 12 and saves it. Needs /usr/bin/chromium and playwright-core.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { replicate: { type: 'string' } } });
const [url, out = join(tmpdir(), 'peersync-demo.png')] = positionals;
if (!url) {
  console.error('usage: node scripts/demo/screenshot.mjs URL [FILE.png] [--replicate PEER_URL]');
  process.exit(2);
}
const t0 = Date.now();
const log = (m) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}`);
const profile = mkdtempSync(join(tmpdir(), 'peersync-demo-browser-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
  ],
  env: { ...process.env, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile, TMPDIR: profile },
  viewport: { width: 1400, height: 860 },
});
let blocked = 0;
await context.route('**/*', (route) => {
  const u = new URL(route.request().url());
  if (u.protocol === 'data:' || u.protocol === 'blob:' || ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) return route.continue();
  blocked++;
  return route.abort('blockedbyclient');
});
const row = (page, text) => page.locator(`#workbench\\.parts\\.sidebar .monaco-list-row:has-text(${JSON.stringify(text)})`).first();
let code = 0;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  log('workbench loaded');
  const icon = page.locator('.activitybar [aria-label^="PeerSync"]').first();
  await icon.waitFor({ timeout: 60_000 });
  if ((await row(page, 'laptop').count()) === 0) await icon.click();
  await row(page, 'laptop').waitFor({ timeout: 30_000 });
  log(`PeerSync view shows ${JSON.stringify(await row(page, 'laptop').innerText())}`);
  if (values.replicate) {
    await page.keyboard.press('F1');
    await page.keyboard.type('PeerSync: Start Replication');
    await page.waitForTimeout(700);
    await page.keyboard.press('Enter');
    const answers = [
      [/peer URL/, values.replicate],
      [/: peer$/, values.replicate],
      [/local database/, 'laptop'],
      [/direction/, 'Push and pull'],
      [/mode/, 'Continuous'],
      [/authentication/, 'None'],
      [/certificate/, 'Accept'],
    ];
    for (let i = 0; i < 10; i++) {
      await page.waitForTimeout(1000);
      const widget = page.locator('.quick-input-widget:visible');
      if ((await widget.count()) === 0) break;
      const title = await widget
        .locator('.quick-input-title')
        .innerText()
        .catch(() => '');
      const answer = answers.find(([re]) => re.test(title));
      if (!answer) throw new Error(`unexpected prompt ${JSON.stringify(title)}`);
      log(`${title}: ${answer[1]}`);
      await page.keyboard.type(answer[1]);
      await page.waitForTimeout(500);
      await page.keyboard.press('Enter');
      if (/certificate/.test(title)) break;
    }
    await page.waitForTimeout(3000);
    await row(page, 'laptop').click();
    await page.waitForTimeout(1000);
    await row(page, '_default').click();
    const listRow = page.locator('#workbench\\.parts\\.sidebar .monaco-list-row[aria-label^="list"]').first();
    await listRow.waitFor({ timeout: 15_000 });
    log('document "list" arrived in laptop');
    await listRow.click();
    await page.waitForTimeout(2500);
    await page.locator('.editor-instance .monaco-editor').first().click();
    await page.keyboard.press('Control+h');
    await page.waitForTimeout(500);
    await page.keyboard.type('"value": 10');
    await page.keyboard.press('Tab');
    await page.keyboard.type('"value": 12');
    await page.keyboard.press('Control+Alt+Enter');
    await page.waitForTimeout(500);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+s');
    await page.waitForTimeout(4000);
    log('edited and saved "list"');
  }
  await page.waitForTimeout(1500); // let the README preview render
  await page.screenshot({ path: out });
  log(`screenshot ${out}${blocked ? ` (${blocked} non-loopback requests blocked)` : ''}`);
} catch (err) {
  console.error(`FAILED: ${err instanceof Error ? err.message : err}`);
  code = 1;
} finally {
  // close the tabs as a user does (VS Code then ends their extension hosts at once), then the browser
  for (const p of context.pages()) await p.close({ runBeforeUnload: true }).catch(() => {});
  await new Promise((r) => setTimeout(r, 1500));
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(code);

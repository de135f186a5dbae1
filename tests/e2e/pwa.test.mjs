// The installable app: a valid manifest, a service worker that controls the page with a precache list
// made by the build, installable; it starts with no network in a new page; a new version waits for
// the user's go-ahead (never under an open form) and keeps data and outbox; storage is asked to be
// kept, shown, and a full quota is said plainly; the unsynced export, imported by the administrator,
// yields exactly the device's changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN, startServer, launchBrowser, openApp, chooseYear, chooseCommune, addHousehold, waitForText, householdCount } from './harness.mjs';

const OFFICER = { username: 'pwa.officer', password: 'mat-khau-pwa-1', display_name: 'Cán bộ PWA', role: 'commune_officer', org_unit: '03646' };

let server;
let browser;
let dist;

before(async () => {
  // a copy of the build, so a test can deploy a "new version" into it
  dist = mkdtempSync(join(tmpdir(), 'thidua-dist-'));
  cpSync(process.env.THIDUA_DIST, dist, { recursive: true });
  server = await startServer({ THIDUA_DIST: dist });
  await server.createUser(OFFICER);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dist) rmSync(dist, { recursive: true, force: true });
});

const household = (name) => ({ fields: { head_name: name, village: 'Bản Nà', members: 3, working_age_members: 2,
  children_under_16: 1, members_16_to_30: 1, income_per_person_month: '1.100.000' } });

async function officerPage(context) {
  const page = await context.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseYear(page, 2023);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  return page;
}

function builtFiles(dir) {
  const files = [];
  (function walk(d) {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/\.(br|gz)$/.test(name) && name !== 'sw.js') files.push('/' + relative(dir, path).split('\\').join('/'));
    }
  })(dir);
  return files.sort();
}

test('the manifest is complete, the service worker controls the page with the build\'s own file list, and the app is installable', async () => {
  const manifest = await (await fetch(`${server.url}/manifest.webmanifest`)).json();
  assert.equal(manifest.lang, 'vi');
  assert.match(manifest.name, /Thi Đua/);
  assert.equal(manifest.short_name, 'Thi Đua');
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, '/');
  assert.match(manifest.theme_color, /^#[0-9a-f]{6}$/i);
  for (const [size, purpose] of [['192x192', 'any'], ['512x512', 'any'], ['192x192', 'maskable'], ['512x512', 'maskable']]) {
    const icon = manifest.icons.find((i) => i.sizes === size && i.purpose === purpose && i.type === 'image/png');
    assert.ok(icon, `icon ${size} ${purpose}`);
    const res = await fetch(server.url + icon.src);
    assert.equal(res.status, 200, icon.src);
    const png = Buffer.from(await res.arrayBuffer());
    assert.equal(png.readUInt32BE(16), Number(size.split('x')[0]), `${icon.src} is ${size}`);
  }

  // the precache list is exactly what the build produced (hashed names included)
  const sw = await (await fetch(`${server.url}/sw.js`)).text();
  const precache = JSON.parse(sw.match(/const PRECACHE = (\[.*?\]);/s)[1]);
  assert.deepEqual(precache.filter((p) => p !== '/').sort(), builtFiles(dist));
  assert.ok(precache.some((p) => /\.wasm$/.test(p)) && precache.some((p) => /\.js$/.test(p)));

  // a real (not incognito) profile, as on a tablet: controlled, installable, and no API answer cached
  const profile = mkdtempSync(join(tmpdir(), 'thidua-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await context.newPage();
    await openApp(page, server.url, OFFICER);
    await chooseYear(page, 2023);
    await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
    await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], 'installable');
    const cached = await page.evaluate(async () => {
      const urls = [];
      for (const key of await caches.keys()) for (const req of await (await caches.open(key)).keys()) urls.push(new URL(req.url).pathname);
      return urls;
    });
    assert.ok(cached.length >= precache.length, 'the shell is cached');
    assert.equal(cached.filter((u) => u.startsWith('/api/')).length, 0, 'no API answer is cached');
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('after one online visit a new page opens with no network and shows the saved households', async () => {
  const context = await browser.newContext();
  const page = await officerPage(context);
  await addHousehold(page, household('Hộ Ngoại Tuyến'));
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  await context.setOffline(true);
  await page.close();
  const fresh = await context.newPage();
  await fresh.goto(server.url);
  await fresh.getByTestId('sync-badge').waitFor({ timeout: 90_000 });
  // it returns to the commune chosen last time, from the device's own storage
  await waitForText(fresh.getByTestId('commune-name'), 'Phường Chiềng Lề');
  await waitForText(fresh.getByTestId('households'), 'Hộ Ngoại Tuyến');
  await waitForText(fresh.getByTestId('online'), 'Mất mạng');
  await context.close();
});

test('a new version waits for "Tải lại", not under an open form, and keeps the data and the unsent changes', async () => {
  const context = await browser.newContext();
  const page = await officerPage(context);
  await context.setOffline(true);
  await addHousehold(page, household('Hộ Chờ Cập Nhật'));
  await waitForText(page.getByTestId('pending'), '1 thay đổi chờ gửi');
  // keep it unsent while this test deploys: pushes do not get through
  await context.route('**/api/sync/push', (route) => route.abort('connectionreset'));
  await context.setOffline(false);
  const oldCache = await page.evaluate(async () => (await caches.keys()).find((k) => k.startsWith('thidua-')));

  // deploy a new build: a new service worker version
  const swPath = join(dist, 'sw.js');
  const newVersion = 'e2e' + Date.now().toString(16);
  writeFileSync(swPath, readFileSync(swPath, 'utf8').replace(/const VERSION = '[^']*'/, `const VERSION = '${newVersion}'`));
  for (const copy of ['sw.js.br', 'sw.js.gz']) if (existsSync(join(dist, copy))) unlinkSync(join(dist, copy));

  // an officer is in the middle of a form when the new version arrives
  await page.getByTestId('household').filter({ hasText: 'Hộ Chờ Cập Nhật' }).click();
  await page.getByTestId('household-form').waitFor();
  await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
  await page.getByTestId('update-ready').waitFor({ timeout: 60_000 });
  assert.ok(await page.getByTestId('update-reload').isDisabled(), 'no reload under an open form');
  assert.equal(await page.evaluate(async () => (await caches.keys()).find((k) => k.startsWith('thidua-'))), oldCache,
    'the old version still serves the page');
  await page.getByRole('button', { name: 'Hủy' }).click();
  await page.getByTestId('households').waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid="update-reload"]').disabled, null, { timeout: 10_000 })
    .catch(async (e) => { throw new Error(`${e}: ${await page.getByTestId('update-ready').evaluate((el) => el.outerHTML)}`); });
  await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), page.getByTestId('update-reload').click()]);
  await page.getByTestId('sync-badge').waitFor({ timeout: 90_000 });
  const caches_ = await page.evaluate(async () => caches.keys());
  assert.ok(caches_.includes(`thidua-${newVersion}`), `the new version took over: ${caches_}`);
  assert.ok(!caches_.includes(oldCache), 'the old files are gone');

  // data and outbox intact, and they sync with the server
  await waitForText(page.getByTestId('households'), 'Hộ Chờ Cập Nhật');
  await waitForText(page.getByTestId('pending'), '1 thay đổi chờ gửi');
  await context.unroute('**/api/sync/push');
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const { records } = await server.pull('03646');
  assert.equal(records.filter((r) => r.fields.head_name === 'Hộ Chờ Cập Nhật').length, 1);
  await context.close();
});

test('storage: persistence asked and shown, usage shown, a full quota is said plainly and nothing saved is lost', async () => {
  const context = await browser.newContext();
  const page = await officerPage(context);
  const panel = page.getByTestId('device-panel');
  await panel.locator('summary').click();
  await waitForText(page.getByTestId('persistence'), 'dữ liệu');
  await waitForText(page.getByTestId('storage-usage'), 'Bộ nhớ đã dùng:');
  await addHousehold(page, household('Hộ Trước Khi Đầy'));

  // the browser now allows barely more than what is stored
  const cdp = await context.newCDPSession(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: Math.max(usage, 1) + 1024 });
  let refused = false;
  for (let i = 0; i < 60 && !refused; i++) {
    await page.getByTestId('add-household').click();
    const form = page.getByTestId('household-form');
    for (const [name, value] of Object.entries({ ...household(`Hộ Đầy ${i}`).fields, head_name: `Hộ Đầy ${i}`, village: `Bản ${'Nà'.repeat(30)}` })) {
      await form.locator(`input[name="${name}"]`).fill(String(value));
    }
    await page.getByTestId('save').click();
    await page.waitForTimeout(1500);
    // the form's own refusal: the sync's writes after an earlier save may meet the full quota first
    // and say so too, while that save itself went in and the form closed
    refused = await form.getByText('Bộ nhớ dành cho ứng dụng trên máy đã đầy').isVisible();
    if (!refused && await page.getByTestId('household-form').isVisible()) {
      const estimate = await page.evaluate(async () => JSON.stringify(await navigator.storage.estimate()));
      throw new Error(`the save neither finished nor said why: ${await page.locator('[role=alert]').allTextContents()} (estimate ${estimate}, quota set to ${Math.max(usage, 1) + 1024})`);
    }
  }
  assert.ok(refused, 'a write over the quota is refused with a plain message');
  page.once('dialog', (d) => d.accept()); // leaving the unsaved form asks first
  await page.getByRole('button', { name: 'Hủy' }).click();
  await waitForText(page.getByTestId('households'), 'Hộ Trước Khi Đầy');
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url });

  // nearly full (what the browser reports is stubbed: its quota override does not show in the estimate)
  const full = await context.newPage();
  await full.addInitScript(() => { navigator.storage.estimate = async () => ({ usage: 900e6, quota: 1000e6 }); });
  await full.goto(server.url);
  await full.getByTestId('device-panel').locator('summary').click();
  await waitForText(full.getByTestId('storage-usage'), '900,0 MB / 1,0 GB');
  await waitForText(full.getByTestId('storage-warning'), 'sắp đầy');
  await context.close();
});

test('the unsynced export, imported on the server by the administrator, yields exactly the device\'s changes', async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await officerPage(context);
  await addHousehold(page, household('Hộ Đã Gửi'));
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const before = (await server.pull('03646')).records;

  // the tablet never sees signal again: two new households and an edit, kept only on the device
  await context.setOffline(true);
  await addHousehold(page, household('Hộ Không Mạng 1'));
  await addHousehold(page, household('Hộ Không Mạng 2'));
  await page.getByTestId('household').filter({ hasText: 'Hộ Đã Gửi' }).click();
  await page.getByTestId('household-form').locator('input[name="income_per_person_month"]').fill('1.450.000');
  await page.getByTestId('save').click();
  await page.getByTestId('households').waitFor();
  await waitForText(page.getByTestId('pending'), '3 thay đổi chờ gửi');

  await page.getByTestId('device-panel').locator('summary').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-unsynced').click()]);
  await waitForText(page.getByTestId('export-result'), 'Đã xuất 3');
  assert.match(download.suggestedFilename(), /^thidua-chua-dong-bo-pwa\.officer-\d{4}-\d{2}-\d{2}\.json$/);
  const file = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(file.format, 'thidua-unsynced');
  assert.equal(file.mutations.length, 3);
  mkdirSync('tests/e2e/artifacts', { recursive: true });
  writeFileSync('tests/e2e/artifacts/unsynced-export.json', JSON.stringify(file, null, 2));

  // the administrator imports it
  const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN) });
  const { token } = await login.json();
  const imported = await fetch(`${server.url}/api/admin/unsynced-imports`, { method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(file) });
  assert.equal(imported.status, 200, await imported.clone().text());
  const answer = await imported.json();
  assert.equal(answer.results.length, 3);

  const after = (await server.pull('03646')).records;
  const byName = (records) => Object.fromEntries(records.map((r) => [r.fields.head_name, r]));
  const was = byName(before);
  const now = byName(after);
  assert.deepEqual(Object.keys(now).sort(), [...Object.keys(was), 'Hộ Không Mạng 1', 'Hộ Không Mạng 2'].sort(), 'exactly the two new households added');
  assert.equal(now['Hộ Đã Gửi'].fields.income_per_person_month, 1450000, 'the edit arrived');
  for (const name of Object.keys(was)) {
    if (name !== 'Hộ Đã Gửi') assert.deepEqual(now[name], was[name], `${name} untouched`);
  }

  // importing again changes nothing; the tablet syncing after all duplicates nothing
  const again = await fetch(`${server.url}/api/admin/unsynced-imports`, { method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(file) });
  assert.equal(again.status, 200);
  assert.deepEqual((await server.pull('03646')).records, after);
  await context.setOffline(false);
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  assert.equal((await server.pull('03646')).records.length, after.length);
  await context.close();
});

// Sync that loses nothing, in the browser: two officers edit the same household offline (a conflict
// shown side by side, settled by a pick that reaches every device, seen by the supervisor too); a
// deletion meeting an edit; and a sync through a network that drops 30% of its requests or their
// answers while the tab is reloaded mid-sync — every household arrives exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startServer, launchBrowser, openApp, chooseYear, chooseCommune, addHousehold, waitForText } from './harness.mjs';

const A = { username: 'xungdot.a', password: 'mat-khau-xung-dot-a', display_name: 'Cán bộ A', role: 'commune_officer', org_unit: '03646' };
const B = { username: 'xungdot.b', password: 'mat-khau-xung-dot-b', display_name: 'Cán bộ B', role: 'commune_officer', org_unit: '03646' };
const SUPERVISOR = { username: 'giamsat.xungdot', password: 'mat-khau-giam-sat', display_name: 'Giám sát', role: 'district_supervisor', org_unit: '116' };
const C = { username: 'loimang.c', password: 'mat-khau-loi-mang', display_name: 'Cán bộ C', role: 'commune_officer', org_unit: '03667' };

let server;
let browser;

before(async () => {
  server = await startServer();
  for (const user of [A, B, SUPERVISOR, C]) await server.createUser(user);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function officerPage(user, query, commune) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, server.url, user);
  await chooseYear(page, 2023);
  await chooseCommune(page, query, commune);
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  return { context, page };
}

async function syncNow(page) {
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  // the sync started by the click has finished when the button is enabled again
  await page.waitForFunction(() => !document.querySelector('[data-testid="sync-now"]').disabled);
}

async function openHousehold(page, name) {
  await page.getByTestId('household').filter({ hasText: name }).click();
  return page.getByTestId('household-form');
}

async function editHousehold(page, name, fields) {
  const form = await openHousehold(page, name);
  for (const [field, value] of Object.entries(fields)) {
    await form.locator(`input[name="${field}"]`).fill(String(value));
  }
  await page.getByTestId('save').click();
  await page.getByTestId('households').waitFor();
}

async function serverHousehold(commune, name) {
  const { records } = await server.pull(commune);
  return records.filter((r) => r.fields.head_name === name);
}

test('two officers edit the same household offline: different fields merge, the same field is a conflict settled once for every device', async () => {
  const a = await officerPage(A, 'chieng le', 'Phường Chiềng Lề');
  const b = await officerPage(B, 'chieng le', 'Phường Chiềng Lề');
  await addHousehold(a.page, { fields: { head_name: 'Lò Văn Xung', village: 'Bản Hụm', members: 4, working_age_members: 2,
    children_under_16: 2, members_16_to_30: 1, income_per_person_month: '1.200.000' } });
  await syncNow(a.page);
  await syncNow(b.page);
  await waitForText(b.page.getByTestId('households'), 'Lò Văn Xung');

  await a.context.setOffline(true);
  await b.context.setOffline(true);
  await editHousehold(a.page, 'Lò Văn Xung', { income_per_person_month: '1.300.000', village: 'Bản Mới' });
  await editHousehold(b.page, 'Lò Văn Xung', { income_per_person_month: '1.400.000', floor_area_m2: 48 });
  await a.context.setOffline(false);
  await syncNow(a.page);
  await b.context.setOffline(false);
  await syncNow(b.page);

  let [stored] = await serverHousehold('03646', 'Lò Văn Xung');
  assert.equal(stored.fields.village, 'Bản Mới', 'A\'s village kept');
  assert.equal(stored.fields.floor_area_m2, 48, 'B\'s floor area kept');
  const conflict = stored.conflicts.find((c) => c.field === 'income_per_person_month');
  assert.ok(conflict, 'the income is a recorded conflict');
  assert.deepEqual(conflict.versions.map((v) => v.value).sort(), [1300000, 1400000]);

  // both officers see it marked, and both values side by side
  await waitForText(b.page.getByTestId('households'), 'Có xung đột');
  await syncNow(a.page);
  await waitForText(a.page.getByTestId('households'), 'Có xung đột');

  // the supervisor sees the same two values, read only
  const sup = await browser.newContext();
  const supPage = await sup.newPage();
  await openApp(supPage, server.url, SUPERVISOR);
  await chooseYear(supPage, 2023);
  await chooseCommune(supPage, 'chieng le', 'Phường Chiềng Lề');
  await waitForText(supPage.getByTestId('households'), 'Có xung đột');
  await openHousehold(supPage, 'Lò Văn Xung');
  const seen = supPage.getByTestId('conflict-income_per_person_month');
  await waitForText(seen, '1.300.000');
  await waitForText(seen, '1.400.000');
  assert.equal(await supPage.getByTestId('conflict-pick').count(), 0, 'a supervisor does not pick');
  mkdirSync('tests/e2e/artifacts', { recursive: true });
  await supPage.screenshot({ path: 'tests/e2e/artifacts/conflict-supervisor.png', fullPage: true });

  // officer A settles it on 1.300.000
  await openHousehold(a.page, 'Lò Văn Xung');
  const panel = a.page.getByTestId('conflict-income_per_person_month');
  const versions = panel.getByTestId('conflict-version');
  assert.equal(await versions.count(), 2, 'both versions side by side');
  await versions.filter({ hasText: '1.300.000' }).getByTestId('conflict-pick').click();
  assert.equal(await a.page.locator('input[name="income_per_person_month"]').inputValue(), '1300000');
  await a.page.getByTestId('save').click();
  await a.page.getByTestId('households').waitFor();
  await syncNow(a.page);

  [stored] = await serverHousehold('03646', 'Lò Văn Xung');
  assert.equal(stored.fields.income_per_person_month, 1300000);
  assert.deepEqual(stored.conflicts ?? [], [], 'settled on the server');

  // and on B's device after its sync: no mark, the chosen value
  await syncNow(b.page);
  await b.page.waitForFunction(() => !document.querySelector('[data-testid="households"]').textContent.includes('Có xung đột'));
  const form = await openHousehold(b.page, 'Lò Văn Xung');
  assert.equal(await form.locator('input[name="income_per_person_month"]').inputValue(), '1300000');
  assert.equal(await form.locator('input[name="village"]').inputValue(), 'Bản Mới');
  assert.equal(await b.page.getByTestId('conflicts').count(), 0);
  await Promise.all([a.context.close(), b.context.close(), sup.close()]);
});

test('a conflict can be settled with a new value that combines both', async () => {
  const a = await officerPage(A, 'chieng le', 'Phường Chiềng Lề');
  const b = await officerPage(B, 'chieng le', 'Phường Chiềng Lề');
  await addHousehold(a.page, { fields: { head_name: 'Lò Thị Gộp', village: 'Bản Hụm', members: 3, working_age_members: 2,
    children_under_16: 1, members_16_to_30: 1, income_per_person_month: '1.600.000' } });
  await syncNow(a.page);
  await syncNow(b.page);
  await waitForText(b.page.getByTestId('households'), 'Lò Thị Gộp');
  await a.context.setOffline(true);
  await b.context.setOffline(true);
  await editHousehold(a.page, 'Lò Thị Gộp', { village: 'Bản Hụm Trên' });
  await editHousehold(b.page, 'Lò Thị Gộp', { village: 'Hụm Trên' });
  await a.context.setOffline(false);
  await syncNow(a.page);
  await b.context.setOffline(false);
  await syncNow(b.page);
  await syncNow(a.page);
  await waitForText(a.page.getByTestId('households'), 'Có xung đột');

  await openHousehold(a.page, 'Lò Thị Gộp');
  await a.page.locator('input[name="village"]').fill('Bản Hụm Trên (Hụm Trên)');
  await a.page.getByTestId('conflict-village').getByTestId('conflict-keep-typed').click();
  await waitForText(a.page.getByTestId('conflict-village'), 'Đã chọn');
  await a.page.getByTestId('save').click();
  await a.page.getByTestId('households').waitFor();
  await syncNow(a.page);
  const [stored] = await serverHousehold('03646', 'Lò Thị Gộp');
  assert.equal(stored.fields.village, 'Bản Hụm Trên (Hụm Trên)');
  assert.deepEqual(stored.conflicts ?? [], []);
  await Promise.all([a.context.close(), b.context.close()]);
});

test('a deletion meeting an offline edit is a conflict: the household is neither lost nor silently back', async () => {
  const a = await officerPage(A, 'chieng le', 'Phường Chiềng Lề');
  const b = await officerPage(B, 'chieng le', 'Phường Chiềng Lề');
  await addHousehold(a.page, { fields: { head_name: 'Cà Văn Xóa', village: 'Bản Cọ', members: 3, working_age_members: 2,
    children_under_16: 1, members_16_to_30: 1, income_per_person_month: '900000' } });
  await syncNow(a.page);
  await syncNow(b.page);
  await waitForText(b.page.getByTestId('households'), 'Cà Văn Xóa');

  await b.context.setOffline(true);
  a.page.once('dialog', (d) => d.accept());
  await openHousehold(a.page, 'Cà Văn Xóa');
  await a.page.getByTestId('delete').click();
  await a.page.getByTestId('households').waitFor();
  await syncNow(a.page);
  await editHousehold(b.page, 'Cà Văn Xóa', { income_per_person_month: '950000' });
  await b.context.setOffline(false);
  await syncNow(b.page);

  let [stored] = await serverHousehold('03646', 'Cà Văn Xóa');
  assert.ok(stored.conflicts.some((c) => c.field === '_deleted'), 'delete versus edit is recorded');
  assert.equal(stored.fields.income_per_person_month, 950000, 'the edit is kept');

  // still listed on both devices, marked; A keeps it after seeing the edit
  await waitForText(b.page.getByTestId('households'), 'Cà Văn Xóa');
  await syncNow(a.page);
  await waitForText(a.page.getByTestId('households'), 'Cà Văn Xóa');
  await openHousehold(a.page, 'Cà Văn Xóa');
  const panel = a.page.getByTestId('conflict-_deleted');
  await waitForText(panel, 'Xóa hộ này');
  await panel.getByTestId('conflict-version').filter({ hasText: 'Giữ hộ này' }).getByTestId('conflict-pick').click();
  await a.page.getByTestId('save').click();
  await a.page.getByTestId('households').waitFor();
  await syncNow(a.page);
  [stored] = await serverHousehold('03646', 'Cà Văn Xóa');
  assert.equal(stored.deleted, false);
  assert.deepEqual(stored.conflicts ?? [], []);
  assert.equal(stored.fields.income_per_person_month, 950000);
  await Promise.all([a.context.close(), b.context.close()]);
});

test('through a network that loses 30% of sync requests or their answers, with a reload mid-sync, every household arrives exactly once', async () => {
  const c = await officerPage(C, 'chieng an', 'Phường Chiềng An');
  // a seeded coin: the same faults, in the same order of requests, on every run
  let seed = 20231127;
  const coin = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const faults = { lostRequests: 0, lostAnswers: 0, passed: 0, gzipPushes: 0, reloads: 0 };
  await c.context.route('**/api/sync/**', async (route) => {
    if (route.request().url().endsWith('/push') && route.request().headers()['content-encoding'] === 'gzip') faults.gzipPushes++;
    const r = coin();
    if (r < 0.15) {
      faults.lostRequests++;
      await route.abort('connectionreset'); // never reached the server
    } else if (r < 0.30) {
      faults.lostAnswers++;
      await route.fetch(); // the server did the work...
      await route.abort('connectionreset'); // ...and the answer is lost on the way back
    } else {
      faults.passed++;
      await route.continue();
    }
  });

  const names = [];
  for (let round = 0; round < 6; round++) {
    await c.context.setOffline(true);
    for (let i = 0; i < 3; i++) {
      const name = `Hộ Lỗi Mạng ${round + 1}.${i + 1}`;
      names.push(name);
      await addHousehold(c.page, { fields: { head_name: name, village: 'Bản Lề', members: 2, working_age_members: 2,
        children_under_16: 0, members_16_to_30: 1, income_per_person_month: '2500000' } });
    }
    await c.context.setOffline(false);
    await c.page.getByTestId('sync-now').click();
    if (round === 2 || round === 4) {
      await c.page.waitForTimeout(150);
      await c.page.reload(); // the tab goes away mid-sync
      faults.reloads++;
      await c.page.getByTestId('households').waitFor({ timeout: 90_000 });
    }
    for (let attempt = 0; attempt < 120; attempt++) {
      const pending = await c.page.getByTestId('pending').textContent();
      if (pending.includes('Đã gửi hết')) break;
      if (await c.page.getByTestId('sync-now').isEnabled()) await c.page.getByTestId('sync-now').click();
      await c.page.waitForTimeout(500);
    }
    await waitForText(c.page.getByTestId('pending'), 'Đã gửi hết');
  }
  console.log(`faulty network: ${JSON.stringify(faults)}`);
  assert.ok(faults.lostRequests > 0 && faults.lostAnswers > 0, `faults happened: ${JSON.stringify(faults)}`);
  assert.ok(faults.gzipPushes > 0, 'pushes went gzip-compressed');

  const { records } = await server.pull('03667');
  const stored = records.filter((r) => !r.deleted).map((r) => r.fields.head_name).sort();
  assert.deepEqual(stored, [...names].sort(), 'each household exactly once');
  await waitForText(c.page.getByTestId('household-count'), `${names.length} hộ`);
  await c.context.close();
});

/** Signs in through the API and calls it as that user: the JSON answer. */
async function asUser(user, method, path, body) {
  const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password }) });
  const { token } = await login.json();
  const res = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

// Last in this file: it leaves Chiềng Lề's 2023 review approved (locked).
test('an edit made offline that arrives after the district approved the review waits beside the approved value, and says why', async () => {
  const a = await officerPage(A, 'chieng le', 'Phường Chiềng Lề');
  await addHousehold(a.page, { fields: { head_name: 'Lò Văn Khóa', village: 'Bản Hụm', members: 3, working_age_members: 2,
    children_under_16: 1, members_16_to_30: 1, income_per_person_month: '1.500.000' } });
  await syncNow(a.page);
  // the tablet goes out of signal and the officer corrects the income
  await a.context.setOffline(true);
  await editHousehold(a.page, 'Lò Văn Khóa', { income_per_person_month: '1.700.000' });
  // meanwhile the review is sent up and the district approves it
  const submission = await asUser(B, 'POST', '/api/submissions', { org_unit: '03646', period: '2023', data_set: 'household' });
  await asUser(SUPERVISOR, 'POST', `/api/submissions/${submission.id}/accept`, {});
  await a.context.setOffline(false);
  await syncNow(a.page);

  const [stored] = await serverHousehold('03646', 'Lò Văn Khóa');
  assert.equal(stored.fields.income_per_person_month, 1500000, 'the approved value is not overwritten');
  const conflict = (stored.conflicts ?? []).find((c) => c.field === 'income_per_person_month');
  assert.ok(conflict?.held, 'a conflict held on the approved version');
  assert.deepEqual(conflict.versions.map((v) => v.value).sort(), [1500000, 1700000], 'the late edit is kept');

  // the officer sees why, and both values
  await waitForText(a.page.getByTestId('household').filter({ hasText: 'Lò Văn Khóa' }), 'Có xung đột');
  await openHousehold(a.page, 'Lò Văn Khóa');
  await waitForText(a.page.getByTestId('conflicts-locked'), 'Huyện đã duyệt báo cáo');
  const panel = a.page.getByTestId('conflict-income_per_person_month');
  await waitForText(panel.getByTestId('conflict-version').filter({ hasText: '1.500.000' }), 'giá trị huyện đã duyệt');
  await waitForText(panel.getByTestId('conflict-version').filter({ hasText: '1.700.000' }), 'Từ máy này');
  await a.page.screenshot({ path: 'tests/e2e/artifacts/conflict-after-approval.png', fullPage: true });
  await a.context.close();
});

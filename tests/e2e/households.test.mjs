// The first end-to-end slice: households recorded offline, kept across a reload, synced when the
// network returns, seen by a second browser; and a change the server rejects, fixed by the officer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, chooseCommune, addHousehold, waitForText, householdCount } from './harness.mjs';

const OFFICER = { username: 'canbo.tohieu', password: 'mat-khau-can-bo-1', display_name: 'Cán bộ Tô Hiệu', role: 'commune_officer', org_unit: '03646' };
const COLLEAGUE = { username: 'canbo.tohieu2', password: 'mat-khau-can-bo-2', display_name: 'Cán bộ Tô Hiệu 2', role: 'commune_officer', org_unit: '03646' };

let server;
let browser;

before(async () => {
  server = await startServer();
  await server.createUser(OFFICER);
  await server.createUser(COLLEAGUE);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const HOUSEHOLDS = [
  { fields: { head_name: 'Lò Văn Minh', village: 'Bản Hụm', members: 5, working_age_members: 2, children_under_16: 3, members_16_to_30: 1, income_per_person_month: '1.200.000' },
    deprivations: ['dep_nutrition', 'dep_domestic_water', 'dep_latrine'], expect: 'Hộ nghèo' },
  { fields: { head_name: 'Cầm Thị Lan', village: 'Bản Cọ', members: 3, working_age_members: 2, children_under_16: 1, members_16_to_30: 1, income_per_person_month: '1500000' },
    deprivations: ['dep_health_insurance'], expect: 'Hộ cận nghèo' },
  { fields: { head_name: 'Quàng Văn Ún', village: 'Bản Hụm', members: 4, working_age_members: 2, children_under_16: 2, members_16_to_30: 0, income_per_person_month: '2 000 000' },
    expect: 'Hộ có mức sống trung bình' },
];

test('households added offline survive a reload, sync when back online, and a second browser sees them', async () => {
  const officer = await browser.newContext();
  const page = await officer.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseCommune(page, 'to hieu', 'Phường Tô Hiệu');

  await officer.setOffline(true);
  for (const h of HOUSEHOLDS) await addHousehold(page, h);
  assert.equal(await householdCount(page), 3);
  await waitForText(page.getByTestId('pending'), '3 thay đổi chờ gửi');

  await page.reload(); // offline: the service worker serves the app, IndexedDB the data
  await page.getByTestId('households').waitFor();
  await waitForText(page.getByTestId('household-count'), '3 hộ');
  assert.equal(await page.getByTestId('household-state').filter({ hasText: 'Chờ gửi' }).count(), 3);
  assert.equal((await server.pull('03646')).records.length, 0, 'nothing reached the server while offline');

  await officer.setOffline(false);
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  assert.equal(await page.getByTestId('household-state').filter({ hasText: 'Đã gửi' }).count(), 3);
  const stored = (await server.pull('03646')).records;
  assert.equal(stored.length, 3);
  assert.deepEqual(stored.map((r) => r.fields.income_per_person_month).sort(), [1200000, 1500000, 2000000]);

  // a second officer's browser, same commune: sees the three after its own sync
  const colleague = await browser.newContext();
  const other = await colleague.newPage();
  await openApp(other, server.url, COLLEAGUE);
  await chooseCommune(other, 'to hieu', 'Phường Tô Hiệu');
  await waitForText(other.getByTestId('household-count'), '3 hộ');
  for (const name of ['Lò Văn Minh', 'Cầm Thị Lan', 'Quàng Văn Ún']) {
    await waitForText(other.getByTestId('households'), name);
  }
  await waitForText(other.getByTestId('households'), 'Hộ nghèo');
  await officer.close();
  await colleague.close();
});

test('a household the server rejects stays on the device marked "needs a fix" until the officer fixes it', async () => {
  const officer = await browser.newContext();
  const page = await officer.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseCommune(page, 'to hieu', 'Phường Tô Hiệu');
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');

  // A change the form would refuse, as an older version of the app could have queued it:
  // written straight into IndexedDB, record and outbox entry together.
  await page.evaluate(async () => {
    const user = JSON.parse(localStorage.getItem('thidua.session')).user;
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open(`thidua-${user.id}`);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const tx = db.transaction(['records', 'outbox', 'meta'], 'readwrite');
    const device = await new Promise((resolve) => {
      tx.objectStore('meta').get('device_id').onsuccess = (e) => resolve(e.target.result.value);
    });
    const fields = { head_name: 'Tòng Văn Sai', village: 'Bản Mới', area: 'rural', members: 2, working_age_members: 2,
      children_under_16: 0, members_16_to_30: 0, income_per_person_month: -5, floor_area_m2: null };
    const record = { id: crypto.randomUUID(), data_set: 'household', org_unit: '03646', period: String(new Date().getFullYear()),
      fields, revision: 0, deleted: false };
    tx.objectStore('records').put({ id: record.id, org_unit: '03646', record, base: null, sync: 'pending', errors: [] });
    tx.objectStore('outbox').put({ record_id: record.id, rejected: false,
      mutation: { id: crypto.randomUUID(), device, record, base_revision: 0, changed: Object.keys(fields) } });
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
    db.close();
  });
  await page.reload();
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('household-state'), 'Cần sửa');
  await waitForText(page.getByTestId('needs-fix'), '1 cần sửa');
  assert.ok(!(await server.pull('03646')).records.some((r) => r.fields.head_name === 'Tòng Văn Sai'), 'the rejected household is stored nowhere on the server');

  // still there after a reload: nothing is lost
  await page.reload();
  await waitForText(page.getByTestId('household-state'), 'Cần sửa');

  await page.getByTestId('household').filter({ hasText: 'Tòng Văn Sai' }).click();
  await page.getByTestId('needs-fix-notice').waitFor();
  await waitForText(page.getByTestId('error-income_per_person_month'), 'không được là số âm');
  await page.locator('input[name="income_per_person_month"]').fill('1.300.000');
  await page.getByTestId('classification').filter({ hasText: 'Hộ cận nghèo' }).waitFor();
  await page.getByTestId('save').click();
  await waitForText(page.getByTestId('household-state'), 'Đã gửi');
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const stored = (await server.pull('03646')).records.filter((r) => r.fields.head_name === 'Tòng Văn Sai');
  assert.equal(stored.length, 1);
  assert.equal(stored[0].fields.income_per_person_month, 1300000);
  await officer.close();
});

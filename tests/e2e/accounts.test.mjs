// Accounts on the device: each role sees only its area, users switching on one tablet never see each
// other's records, and an expired session while offline loses nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ADMIN, startServer, launchBrowser, openApp, signIn, chooseYear, chooseCommune, addHousehold, waitForText, householdCount,
} from './harness.mjs';

const officerA = { username: 'canbo.chiengle', password: 'mat-khau-xa-a-1', display_name: 'Cán bộ Chiềng Lề', role: 'commune_officer', org_unit: '03646' };
const officerB = { username: 'canbo.chiengan', password: 'mat-khau-xa-b-1', display_name: 'Cán bộ Chiềng An', role: 'commune_officer', org_unit: '03667' };
const officerFar = { username: 'canbo.muongchien', password: 'mat-khau-xa-c-1', display_name: 'Cán bộ Quỳnh Nhai', role: 'commune_officer', org_unit: '03682' };
const supervisor = { username: 'giamsat.tpsonla', password: 'mat-khau-huyen-1', display_name: 'Giám sát TP Sơn La', role: 'district_supervisor', org_unit: '116' };

let server;
let browser;

before(async () => {
  server = await startServer();
  for (const u of [officerA, officerB, officerFar, supervisor]) await server.createUser(u);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const household = (name) => ({
  fields: { head_name: name, village: 'Bản Thử', members: 3, working_age_members: 2, children_under_16: 1, members_16_to_30: 1, income_per_person_month: '1.400.000' },
});

async function recordAs(user, communeQuery, communeName, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, server.url, user);
  await chooseYear(page, 2023);
  await chooseCommune(page, communeQuery, communeName);
  await addHousehold(page, household(name));
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  await context.close();
}

test('each role sees only what it may', async () => {
  await recordAs(officerA, 'chieng le', 'Phường Chiềng Lề', 'Hộ Chiềng Lề');
  await recordAs(officerFar, 'muong chien', 'Xã Mường Chiên', 'Hộ Quỳnh Nhai');

  // a commune officer is offered only their own commune
  const a = await browser.newContext();
  const pa = await a.newPage();
  await openApp(pa, server.url, officerA);
  await chooseYear(pa, 2023);
  await pa.getByTestId('commune-search').fill('');
  assert.equal(await pa.locator('.choices li').count(), 1);
  await waitForText(pa.locator('.choices'), 'Phường Chiềng Lề');
  await a.close();

  // the district supervisor: the communes of Thành phố Sơn La, read only, none of Quỳnh Nhai's records
  const s = await browser.newContext();
  const ps = await s.newPage();
  await openApp(ps, server.url, supervisor);
  await waitForText(ps.getByTestId('user'), 'Giám sát huyện');
  await chooseYear(ps, 2023);
  assert.equal(await ps.locator('.choices li').count(), 12);
  await ps.getByTestId('commune-search').fill('muong chien');
  await ps.getByTestId('no-communes').waitFor();
  await chooseCommune(ps, 'chieng le', 'Phường Chiềng Lề');
  await waitForText(ps.getByTestId('households'), 'Hộ Chiềng Lề');
  assert.equal(await ps.getByTestId('add-household').count(), 0, 'a supervisor cannot add');
  await ps.getByTestId('household').first().click();
  await ps.getByTestId('read-only').waitFor();
  assert.equal(await ps.getByTestId('save').count(), 0);
  const stored = await ps.evaluate(async () => {
    const user = JSON.parse(localStorage.getItem('thidua.session')).user;
    const db = await new Promise((resolve) => { const r = indexedDB.open(`thidua-${user.id}`); r.onsuccess = () => resolve(r.result); });
    const all = await new Promise((resolve) => { const r = db.transaction('records').objectStore('records').getAll(); r.onsuccess = () => resolve(r.result); });
    return all.map((l) => l.org_unit);
  });
  assert.ok(stored.length >= 1 && stored.every((code) => code === '03646'), `supervisor's device holds only its district: ${stored}`);
  await s.close();

  // the province administrator reaches every commune
  const p = await browser.newContext();
  const pp = await p.newPage();
  await openApp(pp, server.url, ADMIN);
  await chooseYear(pp, 2023);
  await chooseCommune(pp, 'muong chien', 'Xã Mường Chiên');
  await waitForText(pp.getByTestId('households'), 'Hộ Quỳnh Nhai');
  await p.close();
});

test("users switching on one tablet never see each other's records", async () => {
  const tablet = await browser.newContext();
  const page = await tablet.newPage();
  await openApp(page, server.url, officerA);
  await chooseYear(page, 2023);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await addHousehold(page, household('Hộ Riêng Của A'));
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  await page.getByTestId('sign-out').click(); // everything synced: no warning needed
  await page.getByTestId('login').waitFor();

  await signIn(page, officerB);
  await page.getByTestId('sync-badge').waitFor();
  await chooseYear(page, 2023);
  assert.equal(await page.locator('.choices li').count(), 1);
  await chooseCommune(page, 'chieng an', 'Phường Chiềng An');
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  assert.equal(await householdCount(page), 0);
  const databases = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  const previous = await page.evaluate(() => JSON.parse(localStorage.getItem('thidua.session')).user.id);
  assert.ok(databases.every((name) => name === `thidua-${previous}`), `only the current user's data is on the tablet: ${databases}`);

  // signing out with unsent changes asks first; saying no keeps everything
  await tablet.setOffline(true);
  await addHousehold(page, household('Hộ Chưa Gửi'));
  await waitForText(page.getByTestId('pending'), '1 thay đổi chờ gửi');
  page.once('dialog', (dialog) => {
    assert.match(dialog.message(), /sẽ bị XÓA/);
    dialog.dismiss();
  });
  await page.getByTestId('sign-out').click();
  await waitForText(page.getByTestId('households'), 'Hộ Chưa Gửi');
  await tablet.setOffline(false);
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  await tablet.close();
});

test('an officer whose session expires offline keeps working, signs in again and loses nothing', async () => {
  const shortServer = await startServer({ THIDUA_SESSION_TTL_SECONDS: '6' });
  try {
    await shortServer.createUser(officerA);
    const context = await browser.newContext();
    const page = await context.newPage();
    await openApp(page, shortServer.url, officerA);
    await chooseYear(page, 2023);
    await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
    await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');

    await context.setOffline(true);
    await addHousehold(page, household('Hộ Ngoại Tuyến 1'));
    await addHousehold(page, household('Hộ Ngoại Tuyến 2'));
    await new Promise((r) => setTimeout(r, 7000)); // the session expires meanwhile
    await page.reload();
    await waitForText(page.getByTestId('household-count'), '2 hộ');

    await context.setOffline(false);
    await page.getByTestId('sync-now').click();
    await page.getByTestId('relogin').click();
    await page.getByTestId('login').locator('input[name="password"]').fill(officerA.password);
    await page.getByTestId('login').getByTestId('sign-in').click();
    await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
    const names = (await shortServer.pull('03646')).records.map((r) => r.fields.head_name).sort();
    assert.deepEqual(names, ['Hộ Ngoại Tuyến 1', 'Hộ Ngoại Tuyến 2']);
    await context.close();
  } finally {
    await shortServer.stop();
  }
});

test('an officer sends the review for approval; the district returns it with a reason, then approves it', async () => {
  const officerContext = await browser.newContext();
  const officer = await officerContext.newPage();
  await openApp(officer, server.url, officerA);
  await chooseYear(officer, 2023);
  await chooseCommune(officer, 'chieng le', 'Phường Chiềng Lề');
  await addHousehold(officer, household('Hộ Gửi Duyệt'));
  await waitForText(officer.getByTestId('pending'), 'Đã gửi hết');
  await waitForText(officer.getByTestId('submission-state'), 'Chưa gửi huyện duyệt');
  await officer.getByTestId('submit-report').click();
  await waitForText(officer.getByTestId('submission-state'), 'Đã gửi, chờ huyện duyệt');

  const supervisorContext = await browser.newContext();
  const district = await supervisorContext.newPage();
  await openApp(district, server.url, supervisor);
  await chooseYear(district, 2023);
  await chooseCommune(district, 'chieng le', 'Phường Chiềng Lề');
  await waitForText(district.getByTestId('submission-state'), 'Đã gửi, chờ huyện duyệt');
  await district.locator('input[name="decision_note"]').fill('Thiếu các hộ bản Cọ');
  await district.getByTestId('return').click();
  await waitForText(district.getByTestId('submission-state'), 'Huyện trả lại để sửa: Thiếu các hộ bản Cọ');

  await officer.reload();
  await waitForText(officer.getByTestId('submission-state'), 'Thiếu các hộ bản Cọ');
  await officer.getByTestId('submit-report').click();
  await waitForText(officer.getByTestId('submission-state'), 'Đã gửi, chờ huyện duyệt');

  await district.reload();
  await waitForText(district.getByTestId('submission-state'), 'Đã gửi, chờ huyện duyệt');
  await district.getByTestId('accept').click();
  await waitForText(district.getByTestId('submission-state'), 'Huyện đã duyệt');

  await officer.reload();
  await waitForText(officer.getByTestId('submission-state'), 'Huyện đã duyệt');
  assert.equal(await officer.getByTestId('submit-report').count(), 0, 'nothing left to send once approved');
  await officerContext.close();
  await supervisorContext.close();
});

test('a unit list the province uploads reaches the tablet: its new commune can be picked and used', async () => {
  // a later list built from the 75 communes in force since 07/2025, merged into two new communes
  const here = new URL('../../crates/domain/data/units/sonla-2025-07.tsv', import.meta.url);
  const codes = readFileSync(here, 'utf8').split('\n').map((l) => l.split('\t')).filter((c) => c[3] === '14').map((c) => c[0]);
  assert.equal(codes.length, 75);
  const tsv = ['# id: sonla-2026-thu', '# name: Tỉnh Sơn La (danh mục thử)', '# valid_from: 2026-01-01',
    '# predecessor: sonla-2025-07', '# source: kiểm thử đầu cuối', 'code\tkind\tname\tparent\tmerged_from',
    '14\tTỉnh\tSơn La\t\t', `90001\tXã\tThử Nghiệm\t14\t${codes.slice(0, 70).join(',')}`,
    `90002\tPhường\tThử Hai\t14\t${codes.slice(70).join(',')}`].join('\n');
  await server.uploadUnitList(tsv);
  const newOfficer = { username: 'canbo.thunghiem', password: 'mat-khau-xa-moi-1', display_name: 'Cán bộ xã mới', role: 'commune_officer', org_unit: '90001' };
  await server.createUser(newOfficer);

  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, server.url, newOfficer);
  await chooseYear(page, 2026);
  await chooseCommune(page, 'thu nghiem', 'Xã Thử Nghiệm');
  await addHousehold(page, household('Hộ Xã Mới'));
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  assert.deepEqual((await server.pull('90001')).records.map((r) => r.fields.head_name), ['Hộ Xã Mới']);

  // offline after a reload, the new commune is still known
  await context.setOffline(true);
  await page.reload();
  await waitForText(page.getByTestId('commune-name'), 'Xã Thử Nghiệm');
  await context.close();
});

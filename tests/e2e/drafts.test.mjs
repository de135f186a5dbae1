// Drafts save themselves: typing in a household form is kept on the device, so a reload, a closed tab
// or an update loses nothing; leaving with unsaved changes asks first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, chooseYear, chooseCommune, addHousehold, waitForText } from './harness.mjs';

const OFFICER = { username: 'bannhap.chiengle', password: 'mat-khau-ban-nhap', display_name: 'Cán bộ bản nháp', role: 'commune_officer', org_unit: '03646' };

let server;
let browser;

before(async () => {
  server = await startServer();
  await server.createUser(OFFICER);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a half-typed household survives a reload, and leaving it asks first', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseYear(page, 2023);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await addHousehold(page, { fields: { head_name: 'Lường Văn Nháp', village: 'Bản Hụm', members: 4, working_age_members: 2,
    children_under_16: 2, members_16_to_30: 1, income_per_person_month: '1.000.000' } });

  // the saved household reaches the server; the draft below never does
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const onServer = async () => (await server.pull('03646')).records.filter((r) => r.fields.head_name === 'Lường Văn Nháp');
  assert.equal((await onServer()).length, 1);

  const open = async () => {
    await page.getByTestId('household').filter({ hasText: 'Lường Văn Nháp' }).click();
    return page.getByTestId('household-form');
  };
  let form = await open();
  await form.locator('input[name="income_per_person_month"]').fill('1.750.000');
  await page.waitForTimeout(1200); // the draft is written after a short pause in typing

  // the tab goes away with the change unsaved: the browser asks, and the draft is kept anyway
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.type()); d.accept(); });
  await page.reload();
  await page.getByTestId('households').waitFor({ timeout: 90_000 });
  assert.ok(dialogs.includes('beforeunload'), `asked before leaving: ${dialogs}`);
  form = await open();
  await page.getByTestId('draft-restored').waitFor();
  assert.equal(await form.locator('input[name="income_per_person_month"]').inputValue(), '1.750.000');
  // a draft is not a save: the server (after a sync) still has the saved income
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  assert.deepEqual((await onServer()).map((r) => r.fields.income_per_person_month), [1000000]);

  // "Hủy" with unsaved changes asks; accepting discards the draft
  dialogs.length = 0;
  await page.getByTestId('cancel').click();
  await page.getByTestId('households').waitFor();
  assert.deepEqual(dialogs, ['confirm']);
  form = await open();
  assert.equal(await page.getByTestId('draft-restored').count(), 0);
  assert.equal(await form.locator('input[name="income_per_person_month"]').inputValue(), '1000000');

  // an unchanged form leaves without a question
  dialogs.length = 0;
  await page.getByTestId('cancel').click();
  await page.getByTestId('households').waitFor();
  assert.deepEqual(dialogs, []);

  // a restored draft, saved, is the household
  form = await open();
  await form.locator('input[name="village"]').fill('Bản Nháp Mới');
  await page.waitForTimeout(1200);
  await page.reload();
  await page.getByTestId('households').waitFor({ timeout: 90_000 });
  form = await open();
  await page.getByTestId('draft-restored').waitFor();
  await page.getByTestId('save').click();
  await page.getByTestId('households').waitFor();
  await waitForText(page.getByTestId('households'), 'Bản Nháp Mới');
  form = await open();
  assert.equal(await page.getByTestId('draft-restored').count(), 0, 'no draft once saved');
  await context.close();
});

test('the household\'s position on demand, with its accuracy, saved with the household', async () => {
  const context = await browser.newContext({ permissions: ['geolocation'], geolocation: { latitude: 21.3256, longitude: 103.9188, accuracy: 12 } });
  const page = await context.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseYear(page, 2023);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await page.getByTestId('add-household').click();
  const form = page.getByTestId('household-form');
  for (const [name, value] of Object.entries({ head_name: 'Lò Văn Vị Trí', village: 'Bản Hụm', members: 3, working_age_members: 2,
    children_under_16: 1, members_16_to_30: 1, income_per_person_month: '1.300.000' })) {
    await form.locator(`input[name="${name}"]`).fill(String(value));
  }
  await page.getByTestId('locate').click();
  await waitForText(page.getByTestId('position-text'), '21,32560, 103,91880 (± 12 m)', 20_000)
    .catch(async (e) => { throw new Error(`${e}: ${await page.getByTestId('position').textContent()}`); });
  await page.getByTestId('save').click();
  await page.getByTestId('households').waitFor();
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const { records } = await server.pull('03646');
  const saved = records.find((r) => r.fields.head_name === 'Lò Văn Vị Trí');
  assert.equal(saved.fields.position.lat, 21.3256);
  assert.equal(saved.fields.position.lon, 103.9188);
  assert.equal(saved.fields.position.accuracy_m, 12);
  // an edit keeps it
  await page.getByTestId('household').filter({ hasText: 'Lò Văn Vị Trí' }).click();
  await waitForText(page.getByTestId('position-text'), '(± 12 m)');
  await page.getByTestId('household-form').locator('input[name="village"]').fill('Bản Hụm Trên');
  await page.getByTestId('save').click();
  await page.getByTestId('households').waitFor();
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const again = (await server.pull('03646')).records.find((r) => r.fields.head_name === 'Lò Văn Vị Trí');
  assert.equal(again.fields.village, 'Bản Hụm Trên');
  assert.equal(again.fields.position.accuracy_m, 12);

  // permission refused: a plain message
  const denied = await browser.newContext({ permissions: [] });
  const other = await denied.newPage();
  await openApp(other, server.url, OFFICER);
  await chooseYear(other, 2023);
  await chooseCommune(other, 'chieng le', 'Phường Chiềng Lề');
  await other.getByTestId('add-household').click();
  await other.getByTestId('locate').click();
  await waitForText(other.getByTestId('position'), 'chưa được phép dùng vị trí');
  await Promise.all([context.close(), denied.close()]);
});

test('the back button and signing out ask before a half-typed form is lost', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseYear(page, 2023);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await page.getByTestId('add-household').click();
  const form = page.getByTestId('household-form');
  await form.locator('input[name="head_name"]').fill('Lò Thị Quay Lại');
  const dialogs = [];
  let agree = false;
  page.on('dialog', (d) => { dialogs.push(d.message()); if (agree) d.accept(); else d.dismiss(); });
  const asked = async (n) => {
    for (let i = 0; i < 100 && dialogs.length < n; i++) await page.waitForTimeout(50);
    assert.equal(dialogs.length, n, `questions: ${dialogs}`);
  };

  // the device's back button: asked; "Hủy" keeps the form and what was typed
  await page.evaluate(() => history.back());
  await asked(1);
  assert.equal(await form.locator('input[name="head_name"]').inputValue(), 'Lò Thị Quay Lại');
  // signing out would delete the device's data, the draft too: asked; "Hủy" stays signed in
  await page.getByTestId('sign-out').click();
  await asked(2);
  assert.match(dialogs[1], /nhập dở/);
  await page.waitForTimeout(500);
  assert.equal(await page.getByTestId('user').count(), 1, 'still signed in');
  assert.equal(await form.locator('input[name="head_name"]').inputValue(), 'Lò Thị Quay Lại');
  // back again, the officer agrees: the form closes to the list
  agree = true;
  await page.evaluate(() => history.back());
  await asked(3);
  await form.waitFor({ state: 'detached' });
  await page.getByTestId('households').waitFor();
  // a form with nothing typed closes on back without a question
  await page.getByTestId('add-household').click();
  await form.waitFor();
  await page.evaluate(() => history.back());
  await form.waitFor({ state: 'detached' });
  assert.equal(dialogs.length, 3);
  await context.close();
});

// Vietnamese first, English as a switch: a new device opens in Vietnamese whatever the browser's own
// language; the switch turns every text to English, numbers and dates included, and a reload keeps
// the choice. Money and dates are written the Vietnamese way (1,75 triệu đồng; 27/11/2026 14:05).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn, chooseCommune, waitForText } from './harness.mjs';

const OFFICER = { username: 'ngonngu.tohieu', password: 'mat-khau-ngon-ngu', display_name: 'Cán bộ ngôn ngữ', role: 'commune_officer', org_unit: '03646' };

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

test('the app opens in Vietnamese on an English browser; the switch to English is kept across a reload', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(server.url);
  await waitForText(page.getByTestId('login'), 'Đăng nhập');
  assert.equal(await page.locator('html').getAttribute('lang'), 'vi');

  await signIn(page, OFFICER);
  await page.getByTestId('sync-badge').waitFor({ timeout: 90_000 });
  await chooseCommune(page, 'to hieu', 'Phường Tô Hiệu');
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  const synced = await page.getByTestId('last-sync').textContent();
  assert.match(synced, /^Đồng bộ lúc \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);

  // the typed income in words, beside the lines of the area
  await page.getByTestId('add-household').click();
  const form = page.getByTestId('household-form');
  await form.locator('input[name="income_per_person_month"]').fill('1.750.000');
  await waitForText(form.getByTestId('income-hint'), '= 1,75 triệu đồng mỗi người mỗi tháng.');
  await waitForText(form.getByTestId('income-hint'), 'chuẩn nghèo 1,5 triệu đồng');

  await page.getByTestId('switch-language').click();
  await waitForText(form.getByTestId('income-hint'), '= 1.75 million VND per person per month.');
  await waitForText(form.getByTestId('save'), 'Save');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await waitForText(page.getByTestId('pending'), 'All sent');
  await waitForText(page.getByTestId('last-sync'), 'Synced at');
  assert.match(await page.getByTestId('last-sync').textContent(), /^Synced at \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}$/);
  // leaving the unsaved form asks first, in English too
  const question = new Promise((resolve) => page.once('dialog', async (dialog) => {
    resolve(dialog.message());
    await dialog.accept();
  }));
  await form.getByTestId('cancel').click();
  assert.match(await question, /^Discard the unsaved changes/);
  await waitForText(page.getByTestId('household-count'), 'Households: 0');

  await page.reload();
  await page.getByTestId('sync-badge').waitFor();
  await waitForText(page.getByTestId('sign-out'), 'Sign out');
  await waitForText(page.getByTestId('household-count'), 'Households: 0');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');

  await page.getByTestId('switch-language').click();
  await waitForText(page.getByTestId('sign-out'), 'Đăng xuất');
  await page.reload();
  await page.getByTestId('sync-badge').waitFor();
  await waitForText(page.getByTestId('household-count'), '0 hộ');
  assert.equal(await page.locator('html').getAttribute('lang'), 'vi');
  await context.close();
});

// The commune's target report: parts and totals with the figure computed live, a part larger than its
// total refused with a plain message, saved offline and synced as one record.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, chooseYear, chooseCommune, waitForText, addHousehold } from './harness.mjs';

const OFFICER = { username: 'baocao.chiengle', password: 'mat-khau-bao-cao', display_name: 'Cán bộ báo cáo', role: 'commune_officer', org_unit: '03646' };

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

test('an officer reports cultural families and safe residential areas offline; a part over its total is refused', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseYear(page, 2023);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  await page.getByTestId('open-report').click();
  await page.getByTestId('indicator-report').waitFor();

  await context.setOffline(true);
  const families = page.getByTestId('report-cultural_families');
  await waitForText(families, 'Chỉ tiêu của tỉnh năm 2023: ≥ 72,5 %');
  await page.locator('input[name="cultural_families.numerator"]').fill('1.200');
  await page.locator('input[name="cultural_families.denominator"]').fill('1.000');
  await waitForText(families, 'không được lớn hơn');
  await page.getByTestId('report-save').click();
  await waitForText(page.getByTestId('indicator-report'), 'Còn số liệu chưa đúng');
  await page.locator('input[name="cultural_families.numerator"]').fill('812');
  await waitForText(families.getByTestId('figure'), 'Kết quả: 81,2 %');
  const areas = page.getByTestId('report-safe_residential_areas');
  await page.locator('input[name="safe_residential_areas.numerator"]').fill('27');
  await page.locator('input[name="safe_residential_areas.denominator"]').fill('30');
  await waitForText(areas.getByTestId('figure'), 'Kết quả: 90,0 %');
  await page.getByTestId('report-save').click();
  await waitForText(page.getByTestId('report-saved'), 'Đã lưu trên máy');

  await context.setOffline(false);
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const { records } = await server.pull('03646');
  const reports = records.filter((r) => r.data_set === 'indicator_report');
  assert.equal(reports.length, 1);
  assert.deepEqual(reports[0].fields, {
    cultural_families: { numerator: 812, denominator: 1000 },
    safe_residential_areas: { numerator: 27, denominator: 30 },
  });
  await context.close();
});

test("the poverty rate's part comes from the review on the device, and the target's year is the report's", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseYear(page, 2024);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  await context.setOffline(true);
  // the review: 2 poor of 3 households
  const poor = ['dep_nutrition', 'dep_domestic_water', 'dep_latrine'];
  const h = (head, income, deprivations = []) => ({ fields: { head_name: head, village: 'Bản Hụm', members: 4, working_age_members: 2,
    children_under_16: 2, members_16_to_30: 1, income_per_person_month: income }, deprivations });
  await addHousehold(page, h('Lò Văn Một', '1.000.000', poor));
  await addHousehold(page, h('Lò Văn Hai', '1.100.000', poor));
  await addHousehold(page, h('Lò Văn Ba', '3.000.000'));
  await page.getByTestId('open-report').click();
  const row = page.getByTestId('report-poverty_rate');
  // 2024 has no target set of its own: the 2023 directive's targets, said with the report's year
  await waitForText(row, 'Chỉ tiêu của tỉnh năm 2024: ≤ 15,66 %');
  await waitForText(row.getByTestId('review-poor'), 'Theo rà soát hộ nghèo trên máy này: 2 hộ nghèo.');
  await row.getByTestId('use-review-poor').click();
  assert.equal(await page.locator('input[name="poverty_rate.numerator"]').inputValue(), '2');
  await page.locator('input[name="poverty_rate.denominator"]').fill('40');
  await waitForText(row.getByTestId('figure'), 'Kết quả: 5,0 %');
  await page.getByTestId('report-save').click();
  await waitForText(page.getByTestId('report-saved'), 'Đã lưu trên máy');
  await context.setOffline(false);
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const { records } = await server.pull('03646');
  const report = records.find((r) => r.data_set === 'indicator_report' && r.period === '2024');
  assert.deepEqual(report.fields.poverty_rate, { numerator: 2, denominator: 40 });
  // in English the part and the total have English names
  await page.getByTestId('switch-language').click();
  await waitForText(row, 'Poor households');
  await waitForText(row, 'All households');
  await page.getByTestId('switch-language').click();
  await context.close();
});

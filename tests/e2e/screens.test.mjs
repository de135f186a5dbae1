// The main screens (communes, households, household form, NTM assessment, target report, advanced
// examples) at a 360 px phone and a 1280 px desk: screenshots kept as test artefacts
// (tests/e2e/artifacts/), no sideways scrolling on the phone, and every control a finger can hit
// (44 px or more).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startServer, launchBrowser, openApp, chooseYear, chooseCommune, addHousehold, waitForText } from './harness.mjs';

const OFFICER = { username: 'manhinh.chiengle', password: 'mat-khau-man-hinh', display_name: 'Cán bộ màn hình', role: 'commune_officer', org_unit: '03646' };
const DIR = 'tests/e2e/artifacts';

let server;
let browser;

before(async () => {
  server = await startServer();
  await server.createUser(OFFICER);
  browser = await launchBrowser();
  mkdirSync(DIR, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Controls smaller than a fingertip, and how far the page scrolls sideways. */
async function layoutProblems(page, width) {
  return page.evaluate((width) => {
    const small = [];
    for (const el of document.querySelectorAll('button, input, select, summary, a[href]')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue; // not shown
      // a checkbox is hit through its label; a file input (the camera) through the big label that opens it
      const box = el.type === 'checkbox' || el.type === 'radio' ? el.closest('label')?.getBoundingClientRect() ?? r
        : el.type === 'file' ? document.querySelector(`label[for="${el.id}"]`)?.getBoundingClientRect() ?? r : r;
      if (box.height < 44) small.push(`${el.tagName.toLowerCase()}[${el.getAttribute('data-testid') || el.name || el.textContent.trim().slice(0, 20)}] ${Math.round(box.height)} px`);
    }
    const overflow = document.scrollingElement.scrollWidth - width;
    return { small, overflow };
  }, width);
}

for (const [name, viewport] of [['phone-360', { width: 360, height: 740 }], ['desk-1280', { width: 1280, height: 800 }]]) {
  test(`the main screens at ${viewport.width} px`, async () => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await openApp(page, server.url, OFFICER);
    await chooseYear(page, 2023);
    await page.screenshot({ path: `${DIR}/${name}-communes.png`, fullPage: true });
    await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
    await addHousehold(page, { fields: { head_name: `Lò Văn Màn ${viewport.width}`, village: 'Bản Hụm', members: 4, working_age_members: 2,
      children_under_16: 2, members_16_to_30: 1, income_per_person_month: '1.000.000' }, deprivations: ['dep_nutrition', 'dep_latrine', 'dep_domestic_water'] });
    await waitForText(page.getByTestId('review-totals'), 'Toàn xã');
    const screens = [];
    screens.push(['households', await layoutProblems(page, viewport.width)]);
    await page.screenshot({ path: `${DIR}/${name}-households.png`, fullPage: true });
    await page.getByTestId('household').first().click();
    await page.getByTestId('household-form').waitFor();
    screens.push(['household form', await layoutProblems(page, viewport.width)]);
    await page.screenshot({ path: `${DIR}/${name}-household-form.png`, fullPage: true });
    await page.getByRole('button', { name: 'Hủy' }).click();
    await page.getByTestId('open-ntm').click();
    await page.getByTestId('criterion-15').locator('summary').click();
    screens.push(['NTM assessment', await layoutProblems(page, viewport.width)]);
    await page.screenshot({ path: `${DIR}/${name}-ntm.png`, fullPage: true });
    await page.getByTestId('ntm-back').click();
    await page.getByTestId('open-report').click();
    await page.getByTestId('indicator-report').waitFor();
    screens.push(['target report', await layoutProblems(page, viewport.width)]);
    await page.screenshot({ path: `${DIR}/${name}-report.png`, fullPage: true });
    await page.getByTestId('report-back').click();
    await page.getByTestId('open-examples').click();
    await page.getByTestId('example-add').click();
    await page.getByTestId('example-form').waitFor();
    screens.push(['advanced example form', await layoutProblems(page, viewport.width)]);
    await page.screenshot({ path: `${DIR}/${name}-example-form.png`, fullPage: true });
    await page.getByTestId('example-kind').selectOption('dien_hinh');
    await page.getByTestId('example-title').fill(`Gương điển hình ${viewport.width}`);
    await page.getByTestId('example-holder').fill('Bà Lò Thị Mai, bản Hụm');
    await page.getByTestId('example-field').fill('Giảm nghèo');
    await page.getByTestId('example-save').click();
    await waitForText(page.getByTestId('example-title'), `Gương điển hình ${viewport.width}`);
    screens.push(['advanced examples', await layoutProblems(page, viewport.width)]);
    await page.screenshot({ path: `${DIR}/${name}-examples.png`, fullPage: true });
    for (const [screen, { small, overflow }] of screens) {
      assert.ok(overflow <= 0, `${screen} at ${viewport.width} px scrolls sideways by ${overflow} px`);
      assert.deepEqual(small, [], `${screen}: controls under 44 px`);
    }
    await context.close();
  });
}

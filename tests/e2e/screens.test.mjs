// The main screens (communes, households, household form, NTM assessment, target report, advanced
// examples) at a 360 px phone and a 1280 px desk: screenshots kept as test artefacts
// (tests/e2e/artifacts/), no sideways scrolling on the phone, and every control a finger can hit
// (44 px or more), and text readable against its background (WCAG AA contrast). A household is added
// with the keyboard alone.
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
    // text against what is behind it: WCAG AA, 4.5:1 (3:1 for large text); disabled controls exempt
    const rgba = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(',').map(parseFloat); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
    const luminance = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    const behind = (el) => { for (; el; el = el.parentElement) { const c = rgba(getComputedStyle(el).backgroundColor); if (c && c.a > 0.5) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
    const faint = [];
    for (const el of document.querySelectorAll('body *')) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || el.closest(':disabled, .disabled, [aria-hidden="true"]')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      const style = getComputedStyle(el);
      const fg = rgba(style.color); const bg = behind(el);
      const mix = { r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a) };
      const [hi, lo] = [luminance(mix), luminance(bg)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(style.fontSize); const bold = parseInt(style.fontWeight, 10) >= 700;
      const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
      if (ratio < needed) faint.push(`"${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
    }
    return { small, overflow, faint };
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
    for (const [screen, { small, overflow, faint }] of screens) {
      assert.ok(overflow <= 0, `${screen} at ${viewport.width} px scrolls sideways by ${overflow} px`);
      assert.deepEqual(small, [], `${screen}: controls under 44 px`);
      assert.deepEqual(faint, [], `${screen}: text below the contrast a bright-light reading needs`);
    }
    await context.close();
  });
}

test('a household can be added with the keyboard alone', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await openApp(page, server.url, OFFICER);
  await chooseYear(page, 2023);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  /** Presses Tab until `matches` holds for the focused element; fails after 80 presses. */
  async function tabTo(describe, matches) {
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(matches)) return;
    }
    assert.fail(`Tab never reached ${describe}`);
  }
  await page.locator('body').focus();
  await tabTo('"+ Thêm hộ"', () => document.activeElement?.dataset.testid === 'add-household');
  await page.keyboard.press('Enter');
  await page.getByTestId('household-form').waitFor();
  const answers = { head_name: 'Quàng Văn Phím', village: 'Bản Hụm', members: '3', working_age_members: '2', children_under_16: '1', members_16_to_30: '1', income_per_person_month: '1.200.000' };
  for (const [name, value] of Object.entries(answers)) {
    await tabTo(name, new Function(`return document.activeElement?.name === '${name}'`));
    await page.keyboard.type(value);
  }
  // a deprivation ticked with the space bar
  await tabTo('dep_latrine', () => document.activeElement?.name === 'dep_latrine');
  await page.keyboard.press('Space');
  await waitForText(page.getByTestId('classification'), 'Hộ cận nghèo');
  await tabTo('"Lưu"', () => document.activeElement?.dataset.testid === 'save');
  await page.keyboard.press('Enter');
  await page.getByTestId('households').waitFor();
  await waitForText(page.getByTestId('household'), 'Quàng Văn Phím');
  await context.close();
});

// Supervisors, end to end, on the demo data (five communes in two districts, their reviews, NTM
// assessments, target reports and submissions): the province drills down province → district →
// commune → households and back; the district approves a submitted review and returns an approved
// one; a table exported to Excel is opened and read; the report to the Chairman prints to an A4 PDF;
// the 2025 structure rolls 2023's figures up under the new communes. Screenshots kept as artefacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, openApp, waitForText, unzip } from './harness.mjs';

const ADMIN = { username: 'tinh.admin', password: 'thidua-demo' };
const DISTRICT = { username: 'huyen.sonla', password: 'thidua-demo' };
const DIR = 'tests/e2e/artifacts';

let server;
let browser;
let boundaries;

before(async () => {
  // the deployment's boundary files (never committed): copies of the reference data's
  boundaries = mkdtempSync(join(tmpdir(), 'thidua-boundaries-'));
  copyFileSync('../shared/data/sonla_districts.geojson', join(boundaries, 'districts-2023.geojson'));
  copyFileSync('../shared/data/sonla_communes_2025.geojson', join(boundaries, 'communes-2025.geojson'));
  server = await startServer({ THIDUA_DEMO: '1', THIDUA_BOUNDARIES_DIR: boundaries });
  browser = await launchBrowser();
  mkdirSync(DIR, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (boundaries) rmSync(boundaries, { recursive: true, force: true });
});

async function openDashboard(user, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  await openApp(page, server.url, user);
  await page.getByTestId('open-dashboard').click();
  await page.getByTestId('targets-table').waitFor();
  return { context, page };
}

/** The text of a unit's row in the table of units below. */
function row(page, code) {
  return page.locator(`[data-testid="child"][data-code="${code}"]`);
}

test('the province drills down to a commune\'s households and back; every figure is the records\' figure', async () => {
  const { context, page } = await openDashboard(ADMIN);
  await waitForText(page.getByTestId('dashboard-unit'), 'Sơn La');
  assert.equal(await page.getByTestId('child').count(), 12, 'the 12 districts of 2023');
  // Thành phố Sơn La: 3 + 5 + 9 poor of 1.850 + 1.420 + 640 households = 17 / 3.910 = 0,43 %
  await waitForText(row(page, '116'), '0,43 %');
  // the province: 17 + 31 + 22 poor (Mường La's Cà Nàng reports no total: its review counts 40)
  // of 3.910 + 410 + 40 households = 70 / 4.360 = 1,61 %; four communes assessed, one at standard
  await waitForText(page.getByTestId('card-poverty'), '1,61 %');
  await waitForText(page.getByTestId('card-ntm'), '4/204 xã đã tự đánh giá');
  assert.match(await page.getByTestId('card-ntm').locator('strong').textContent(), /^1 \/ 64$/);
  // the map of the districts, coloured by the chosen figure, each district named with its figure
  const map = page.getByTestId('map');
  await map.waitFor();
  assert.equal(await map.locator('path.unit').count(), 12);
  assert.equal(await map.locator('path.unit[data-code="116"] title').textContent(), 'Thành phố Sơn La: 0,43 %');
  const [coloured, grey] = await Promise.all([
    map.locator('path.unit[data-code="116"]').getAttribute('fill'),
    map.locator('path.unit[data-code="119"]').getAttribute('fill'),
  ]);
  assert.notEqual(coloured, grey, 'a district with figures is coloured apart from one without');
  assert.equal(await page.getByTestId('bar-chart').getByTestId('bar').count(), 12);
  // the poverty target's progress: 2023 is over, so 15,66 % is what was due by now, and the row
  // shows how far along the way it is
  const povertyTarget = page.getByTestId('target-poverty_rate');
  await waitForText(povertyTarget.getByTestId('expected'), '15,66 %');
  assert.equal(await povertyTarget.getByTestId('progress').locator('progress').count(), 1);
  assert.match(await povertyTarget.getByTestId('progress').textContent(), /\d+,\d %/);
  // the trend of the poverty rate over the demo's three reviews, falling, with the target's line:
  // (8 + 44) of 80 households in 2021, (6 + 38) of 80 in 2022
  const trend = page.getByTestId('trend-chart');
  assert.equal(await trend.locator('circle').count(), 3, 'a point per review');
  assert.deepEqual(await trend.locator('text.period').allTextContents(), ['2021', '2022', '2023']);
  const values = await trend.locator('text.point-value').allTextContents();
  assert.deepEqual(values.slice(0, 2), ['65 %', '55 %']);
  const heights = await trend.locator('circle').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cy'))));
  assert.ok(heights[0] < heights[1] && heights[1] < heights[2], `the line falls: ${heights}`);
  assert.equal(await trend.locator('line.target-line').count(), 1);
  // the criteria most often missed, exported: 17 by Tô Hiệu, Quyết Thắng and Mường Chiên
  const [missedFile] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv-most-missed').click()]);
  const missedLines = (await import('node:fs')).readFileSync(await missedFile.path()).toString('utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
  assert.equal(missedLines[0], 'TT,Tiêu chí,Số xã chưa đạt');
  assert.match(missedLines[1], /^17,.*Môi trường.*,3$/);
  assert.equal(missedLines.length, 1 + (await page.getByTestId('most-missed').locator('li').count()));
  // another figure chosen: the bars and the map are redrawn for it
  const options = await page.getByTestId('chart-target').locator('option').evaluateAll((os) => os.map((o) => o.value));
  const other = options.find((v) => v !== 'poverty_rate' && v !== '');
  assert.ok(other, `another figure to choose: ${options}`);
  await page.getByTestId('chart-target').selectOption(other);
  await page.waitForFunction(() => document.querySelector('[data-testid="map"] path.unit[data-code="116"] title')?.textContent !== 'Thành phố Sơn La: 0,43 %');
  assert.match(await map.locator('path.unit[data-code="116"] title').textContent(), /^Thành phố Sơn La: /);
  await page.getByTestId('chart-target').selectOption('poverty_rate');
  // an SVG <title> is never visible: its text is waited for, not its visibility
  await page.waitForFunction(() => document.querySelector('[data-testid="map"] path.unit[data-code="116"] title')?.textContent === 'Thành phố Sơn La: 0,43 %');
  await map.screenshot({ path: `${DIR}/desk-1280-map-districts.png` });
  await page.screenshot({ path: `${DIR}/desk-1280-dashboard-province.png`, fullPage: true });

  await row(page, '116').getByTestId('open-child').click();
  await waitForText(page.getByTestId('dashboard-unit'), 'Thành phố Sơn La');
  assert.equal(await page.getByTestId('child').count(), 12, 'the 12 communes of Thành phố Sơn La');
  await waitForText(row(page, '03652'), '1,41 %'); // 9 / 640
  // criteria met per commune: Quyết Thắng misses criteria 5 and 17 of 19
  await waitForText(row(page, '03652').getByTestId('criteria-met'), '17/19');
  await row(page, '03652').getByTestId('open-child').click();
  await waitForText(page.getByTestId('dashboard-unit'), 'Quyết Thắng');
  // its assessment behind the NTM figure: the 19 criteria, 5 and 17 not met
  assert.equal(await page.getByTestId('commune-criteria').locator('tr').count(), 19);
  assert.equal(await page.getByTestId('commune-criteria').locator('.badge.behind').count(), 2);
  // its indicator report behind the target figures: 9 poor of 640 households, 480 cultural families
  const reports = page.getByTestId('commune-reports');
  await reports.waitFor();
  const reportRow = (key) => reports.locator(`[data-testid="report-row"][data-key="${key}"]`);
  await waitForText(reportRow('poverty_rate'), '640');
  assert.match(await reportRow('poverty_rate').textContent(), /Tỷ lệ hộ nghèo.*9.*640.*1,41/);
  await waitForText(reportRow('cultural_families'), '480');
  // the commune's criteria table exports like any other
  const [criteriaFile] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv-criteria').click()]);
  const criteriaCsv = (await import('node:fs')).readFileSync(await criteriaFile.path()).toString('utf8');
  assert.equal(criteriaCsv.trim().split('\n').length, 1 + 19, 'a header and the 19 criteria');
  assert.ok(criteriaCsv.includes('Môi trường và an toàn thực phẩm'));
  // and its indicator report, exported as shown: the poverty row's part, total and figure
  const [reportsFile] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv-reports').click()]);
  const reportLines = (await import('node:fs')).readFileSync(await reportsFile.path()).toString('utf8').trim().split(/\r?\n/);
  assert.equal(reportLines.length, 1 + (await reports.getByTestId('report-row').count()), 'a header and a line per figure');
  assert.ok(reportLines.some((l) => /^"?Tỷ lệ hộ nghèo[^,]*,9,640,1\.40/.test(l)), reportLines.join('\n'));
  // the households behind the figure: 9 poor, 6 near-poor, 10 others
  await waitForText(page.getByTestId('records-total'), '25 hộ');
  await page.getByTestId('records-class').selectOption('poor');
  await waitForText(page.getByTestId('records-total'), '9 hộ');
  assert.equal(await page.getByTestId('record-row').count(), 9);
  // its submissions said in words, not as the server's codes
  const submissions = await page.getByTestId('commune-submissions').textContent();
  assert.doesNotMatch(submissions, /household|ntm_assessment|accepted|submitted|returned|none/, submissions);
  await page.screenshot({ path: `${DIR}/desk-1280-dashboard-commune.png`, fullPage: true });
  // and back up by the path
  await page.getByTestId('path').getByRole('button', { name: 'Tỉnh Sơn La' }).click();
  await waitForText(page.getByTestId('dashboard-unit'), 'Tỉnh Sơn La');
  assert.equal(await page.getByTestId('child').count(), 12);

  // a tablet of Chiềng An that only pulls (nothing to send yet) still counts as synced
  await server.createUser({ username: 'chiengan.pull', password: 'mat-khau-chieng-an', display_name: 'Cán bộ Chiềng An', role: 'commune_officer', org_unit: '03667' });
  const tablet = await browser.newContext();
  const officer = await tablet.newPage();
  await openApp(officer, server.url, { username: 'chiengan.pull', password: 'mat-khau-chieng-an' });
  await waitForText(officer.getByTestId('last-sync'), 'Đồng bộ lúc');
  await tablet.close();

  // reporting progress: the communes that never synced are flagged
  await page.getByTestId('tab-completeness').click();
  await page.getByTestId('completeness-row').first().waitFor();
  assert.equal(await page.getByTestId('completeness-row').count(), 204);
  assert.ok(await page.getByTestId('stale').count() >= 200);
  const chiengAn = page.getByTestId('completeness-row').filter({ hasText: 'Phường Chiềng An' });
  await waitForText(chiengAn, '1 máy');
  // and which tablet it was, with its own last sync
  const device = chiengAn.getByTestId('device');
  assert.equal(await device.count(), 1);
  assert.match(await device.textContent(), /^Cán bộ Chiềng An \(chiengan\.pull\) — đồng bộ lần cuối: \d{2}\/\d{2}\/\d{4}/);
  assert.equal(await chiengAn.getByTestId('stale').count(), 0, 'synced today: not stale');
  // the completeness table exports like any other: a header and the 204 communes, stale in words
  const [completenessFile] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv-completeness').click()]);
  const completenessCsv = (await import('node:fs')).readFileSync(await completenessFile.path()).toString('utf8');
  const lines = completenessCsv.trim().split('\n');
  assert.equal(lines.length, 1 + 204, 'a header and the 204 communes');
  // in words, as on the screen, never the server's codes
  assert.match(lines[0], /Rà soát hộ nghèo,Tự đánh giá NTM,Báo cáo chỉ tiêu/);
  assert.doesNotMatch(completenessCsv, /household|ntm_assessment|indicator_report|submitted|accepted|returned|,none/);
  const chiengAnLine = lines.find((l) => l.includes('Phường Chiềng An'));
  assert.match(chiengAnLine, /,Không\r?$/, 'synced today: not stale');
  assert.ok(lines.filter((l) => /,Có\r?$/.test(l)).length >= 200);
  await context.close();
});

test('the province switches to accepted figures only, apart from drafts and submissions, and back', async () => {
  const { context, page } = await openDashboard(ADMIN);
  const poverty = page.getByTestId('card-poverty');
  const ntm = page.getByTestId('card-ntm');
  // every record: 3 + 5 + 9 + 31 + 22 poor of 1.850 + 1.420 + 640 + 410 + 40 households
  await waitForText(poverty, '1,61 %');
  await waitForText(ntm, '4/204 xã đã tự đánh giá');
  await waitForText(row(page, '116'), '0,43 %');
  await page.getByTestId('dashboard-basis').selectOption('accepted');
  // accepted only: Chiềng Lề's review (3 of its 20 households: its report is only submitted) and
  // Mường Chiên's review and report (31 of 410); one assessment accepted (Chiềng Lề's)
  await waitForText(poverty, '7,91 %');
  await waitForText(ntm, '1/204 xã đã tự đánh giá');
  await waitForText(row(page, '116'), '15 %');
  assert.ok(!(await row(page, '116').textContent()).includes('0,43 %'));
  // the trend too: 2021's reviews were never accepted, 2022's Chiềng Lề review was (6 of 20)
  const trend = page.getByTestId('trend-chart');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="trend-chart"] circle').length === 2);
  assert.deepEqual(await trend.locator('text.period').allTextContents(), ['2022', '2023']);
  assert.deepEqual(await trend.locator('text.point-value').allTextContents(), ['30 %', '7,91 %']);
  await page.screenshot({ path: `${DIR}/desk-1280-dashboard-accepted.png`, fullPage: true });
  // down to the records, which say whether they are in these figures: Tô Hiệu's review is only
  // submitted, Chiềng Lề's accepted
  await row(page, '116').getByTestId('open-child').click();
  await waitForText(page.getByTestId('dashboard-unit'), 'Thành phố Sơn La');
  await waitForText(row(page, '03646'), '15 %');
  await row(page, '03649').getByTestId('open-child').click();
  await waitForText(page.getByTestId('records-counted'), 'KHÔNG được tính khi chỉ xem số liệu đã duyệt');
  await page.getByTestId('path').getByRole('button', { name: 'Thành phố Sơn La' }).click();
  await row(page, '03646').getByTestId('open-child').click();
  await waitForText(page.getByTestId('records-counted'), 'được tính vào số liệu đã duyệt');
  await page.getByTestId('path').getByRole('button', { name: 'Tỉnh Sơn La' }).click();
  await waitForText(page.getByTestId('dashboard-unit'), 'Tỉnh Sơn La');
  await page.getByTestId('dashboard-basis').selectOption('all');
  await waitForText(poverty, '1,61 %');
  await context.close();
});

test('the district approves a submitted review and returns an approved one with a reason', async () => {
  const { context, page } = await openDashboard(DISTRICT);
  await waitForText(page.getByTestId('dashboard-unit'), 'Thành phố Sơn La');
  await row(page, '03649').getByTestId('open-child').click();
  const review = page.getByTestId('submission').first();
  await waitForText(review.getByTestId('submission-state'), 'Đã gửi, chờ huyện duyệt');
  await review.getByTestId('accept').click();
  await waitForText(review.getByTestId('submission-state'), 'Huyện đã duyệt');

  await page.getByTestId('path').getByRole('button', { name: 'Thành phố Sơn La' }).click();
  await row(page, '03646').getByTestId('open-child').click();
  const accepted = page.getByTestId('submission').first();
  await waitForText(accepted.getByTestId('submission-state'), 'Huyện đã duyệt');
  await accepted.locator('input[name="decision_note"]').fill('Thiếu 2 hộ bản Hụm, đề nghị bổ sung');
  await accepted.getByTestId('return').click();
  await waitForText(accepted.getByTestId('submission-state'), 'Huyện trả lại để sửa: Thiếu 2 hộ bản Hụm');
  const { submissions } = await server.get('/api/submissions?period=2023');
  const returned = submissions.find((s) => s.org_unit === '03646' && s.data_set === 'household');
  assert.equal(returned.state, 'returned');
  assert.equal(submissions.find((s) => s.org_unit === '03649' && s.data_set === 'household').state, 'accepted');
  await context.close();
});

test('a table exported to Excel opens with its Vietnamese text and its numbers', async () => {
  const { context, page } = await openDashboard(ADMIN);
  await waitForText(row(page, '116'), '0,43 %');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('export-xlsx-children').click(),
  ]);
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  const path = `${DIR}/children.xlsx`;
  await download.saveAs(path);
  const files = unzip((await import('node:fs')).readFileSync(path));
  assert.ok(files['xl/workbook.xml'], 'a real workbook');
  const strings = files['xl/sharedStrings.xml']?.toString('utf8') ?? '';
  const sheet = Object.entries(files).find(([n]) => n.startsWith('xl/worksheets/sheet'))[1].toString('utf8');
  const text = strings + sheet;
  for (const expected of ['Thành phố Sơn La', 'Huyện Mường La', 'Tỷ lệ hộ nghèo (%)']) {
    assert.ok(text.includes(expected), `the workbook has «${expected}»`);
  }
  // numbers are numbers: the district's 17 poor households and 3.910 households as numeric cells
  // (no t="s": a shared-string cell holds an index, not the number)
  const numeric = (n) => new RegExp(`<c (?![^>]*\\bt="s")[^>]*><v>${n}<\\/v><\\/c>`);
  assert.match(sheet, numeric(17));
  assert.match(sheet, numeric(3910));

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv-children').click()]);
  const bytes = (await import('node:fs')).readFileSync(await csv.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with BOM');
  assert.ok(bytes.toString('utf8').includes('Thành phố Sơn La'));
  await context.close();
});

test('the report to the Chairman prints to a PDF that fits A4', async () => {
  const { context, page } = await openDashboard(ADMIN);
  await page.getByTestId('print-report').click();
  await page.getByTestId('print-targets').waitFor();
  await waitForText(page.getByTestId('print-report'), 'Kết quả thực hiện phong trào thi đua năm 2023');
  await waitForText(page.getByTestId('report-date'), 'Sơn La, ngày');
  await page.emulateMedia({ media: 'print' });
  // at A4's printable width (210 mm less 2 × 15 mm margins, at 96 px per inch) nothing sticks out
  await page.setViewportSize({ width: 680, height: 1000 });
  const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - 680);
  assert.ok(overflow <= 0, `the report is ${overflow} px wider than A4`);
  assert.equal(await page.getByTestId('print-now').isVisible(), false, 'buttons are not printed');
  // the report's figures by district are in it
  assert.equal(await page.getByTestId('print-units').locator('tbody tr').count(), 12, 'a row per district');
  await waitForText(page.getByTestId('print-units'), 'Thành phố Sơn La');
  // the page size is the report's own (@page), not one given here: Chromium's default is Letter
  const pdf = await page.pdf({ printBackground: true, preferCSSPageSize: true, path: `${DIR}/report-2023.pdf` });
  const text = pdf.toString('latin1');
  assert.ok(text.startsWith('%PDF'));
  const boxes = [...text.matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(boxes.length >= 1 && boxes.length <= 4, `${boxes.length} pages`);
  for (const [w, h] of boxes) {
    assert.ok(Math.abs(w - 595.3) < 2 && Math.abs(h - 841.9) < 2, `A4 page: ${w} × ${h} pt`);
  }
  await page.emulateMedia({ media: 'screen' });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: `${DIR}/desk-1280-report.png`, fullPage: true });
  await context.close();
});

test('a district supervisor prints the report of the district, commune by commune', async () => {
  const { context, page } = await openDashboard(DISTRICT);
  await waitForText(page.getByTestId('dashboard-unit'), 'Thành phố Sơn La');
  await page.getByTestId('print-report').click();
  await page.getByTestId('print-units').waitFor();
  await waitForText(page.getByTestId('print-report'), 'Thành phố Sơn La');
  assert.equal(await page.getByTestId('print-units').locator('tbody tr').count(), 12, 'the 12 communes of the city');
  assert.equal(await page.getByRole('alert').count(), 0, 'no refusal');
  await context.close();
});

test('a district supervisor under the 2025 structure opens the new communes made of its communes', async () => {
  const { context, page } = await openDashboard(DISTRICT);
  await waitForText(page.getByTestId('dashboard-unit'), 'Thành phố Sơn La');
  await page.getByTestId('dashboard-structure').selectOption('2025');
  // no districts since 07/2025: the new communes and wards its 12 communes went into, never a refusal
  const list = page.getByTestId('new-commune');
  await list.first().waitFor();
  assert.equal(await page.getByRole('alert').count(), 0, 'no refusal');
  const toHieu = list.filter({ hasText: 'Phường Tô Hiệu' });
  assert.equal(await toHieu.count(), 1);
  // Phường Tô Hiệu holds Chiềng Lề, Tô Hiệu, Quyết Thắng and Chiềng Cơi: 17 poor of 3.910 households
  await toHieu.getByTestId('open-new-commune').click();
  await waitForText(page.getByTestId('dashboard-unit'), 'Phường Tô Hiệu');
  await waitForText(page.getByTestId('card-poverty'), '0,43 %');
  assert.deepEqual(await page.getByTestId('source').evaluateAll((ls) => ls.map((l) => l.dataset.code)), ['03646', '03649', '03652', '03655']);
  // the province in the path leads back to the list, not to a refusal
  await page.getByTestId('path').getByRole('button', { name: 'Tỉnh Sơn La' }).click();
  await page.getByTestId('new-communes').waitFor();
  assert.equal(await page.getByRole('alert').count(), 0);
  // and back to 2023: the district again
  await page.getByTestId('dashboard-structure').selectOption('2023');
  await waitForText(page.getByTestId('dashboard-unit'), 'Thành phố Sơn La');
  await context.close();
});

test('with the 2025 structure, 2023\'s figures roll up under the 75 communes', async () => {
  const { context, page } = await openDashboard(ADMIN, { width: 360, height: 740 });
  await waitForText(row(page, '116'), '0,43 %');
  await page.getByTestId('dashboard-structure').selectOption('2025');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="child"]').length === 75);
  // the new Tô Hiệu holds the old Chiềng Lề, Tô Hiệu, Quyết Thắng and Chiềng Cơi: 3 + 5 + 9 poor of
  // 1.850 + 1.420 + 640 households (Chiềng Cơi has no records)
  const tohieu = page.locator('[data-testid="child"]').filter({ hasText: 'Tô Hiệu' });
  await waitForText(tohieu, '0,43 %');
  // the new Mường Chiên holds the old Mường Chiên and Cà Nàng (another district in 2023): the screen
  // shows the server's roll-up of both
  const api = await server.get('/api/dashboard?period=2023&unit=14&structure=2025');
  const muongChien = api.children.find((c) => c.code === '03688');
  assert.equal(muongChien.figures.poverty.numerator, 31 + 22);
  const rate = muongChien.figures.poverty.rate.toFixed(2).replace('.', ',');
  await waitForText(row(page, '03688'), `${rate} %`);
  await page.getByTestId('map').locator('path.unit').nth(74).waitFor();
  assert.equal(await page.getByTestId('map').locator('path.unit').count(), 75);
  const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - 360);
  assert.ok(overflow <= 0, `the dashboard scrolls sideways by ${overflow} px on a phone`);
  await page.screenshot({ path: `${DIR}/phone-360-dashboard-2025.png`, fullPage: true });

  // down to the new Mường Chiên: its records are those of the three old communes it holds, each
  // opened in the 2023 list (its own code, 03688, is only one of them there: Chiềng Khay)
  await row(page, '03688').getByTestId('open-child').click();
  await waitForText(page.getByTestId('dashboard-unit'), 'Mường Chiên');
  const sources = page.getByTestId('source');
  assert.deepEqual(await sources.evaluateAll((ls) => ls.map((l) => l.dataset.code)), ['03682', '03685', '03688']);
  await waitForText(sources.first(), 'Có hồ sơ kỳ này');
  assert.equal(await page.getByTestId('records-table').count(), 0, 'no records listed under a code of another list');
  assert.equal(await page.getByTestId('submission').count(), 0, 'nor its approvals');
  await sources.first().getByTestId('open-source').click();
  await waitForText(page.getByTestId('dashboard-unit'), 'Xã Mường Chiên');
  assert.equal(await page.getByTestId('dashboard-structure').inputValue(), '2023');
  await waitForText(page.getByTestId('records-total'), '60 hộ');
  assert.ok(!(await page.getByTestId('dashboard-unit').textContent()).includes('Chiềng Khay'));
  await context.close();
});

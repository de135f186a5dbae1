// The commune's NTM self-assessment: live status per indicator and criterion, "chưa cấu hình" where
// the province set no requirement, saved offline, two officers' values merged into one record, sent
// for the district's review.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, chooseYear, chooseCommune, waitForText } from './harness.mjs';

const A = { username: 'ntm.a', password: 'mat-khau-ntm-a', display_name: 'Cán bộ NTM A', role: 'commune_officer', org_unit: '03646' };
const B = { username: 'ntm.b', password: 'mat-khau-ntm-b', display_name: 'Cán bộ NTM B', role: 'commune_officer', org_unit: '03646' };

let server;
let browser;

before(async () => {
  server = await startServer();
  await server.createUser(A);
  await server.createUser(B);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openAssessment(user, year = 2023) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, server.url, user);
  await chooseYear(page, year);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  await page.getByTestId('open-ntm').click();
  await page.getByTestId('ntm-assessment').waitFor();
  return { context, page };
}

test('an officer assesses criterion 15 offline with live status; a colleague adds evidence; both reach one record', async () => {
  const a = await openAssessment(A);
  const b = await openAssessment(B);
  await waitForText(a.page.getByTestId('ntm-summary'), 'Đạt 0/19 tiêu chí');
  // a criterion whose requirements the province has not set
  await waitForText(a.page.getByTestId('criterion-1').getByTestId('criterion-status'), 'Chưa cấu hình');

  await a.context.setOffline(true);
  await b.context.setOffline(true);
  const c15 = a.page.getByTestId('criterion-15');
  await c15.locator('summary').click();
  await a.page.getByTestId('indicator-15.3').fill('12,5');
  await waitForText(a.page.getByTestId('ntm-indicator-15.3').getByTestId('indicator-status'), 'Đạt');
  await a.page.getByTestId('indicator-15.4').fill('40');
  await waitForText(a.page.getByTestId('ntm-indicator-15.4').getByTestId('indicator-status'), 'Chưa đạt');
  await waitForText(c15.getByTestId('criterion-status'), 'Chưa đạt');
  await a.page.getByTestId('indicator-15.4').fill('abc');
  await waitForText(a.page.getByTestId('ntm-indicator-15.4'), 'Phải là một số');
  await a.page.getByTestId('indicator-15.4').fill('55');
  await waitForText(a.page.getByTestId('ntm-indicator-15.4').getByTestId('indicator-status'), 'Đạt');
  // both verified requirements met; the criterion's other indicators have none set yet
  await waitForText(c15.getByTestId('criterion-status'), 'Chưa cấu hình');
  await a.page.getByTestId('ntm-save').click();
  await waitForText(a.page.getByTestId('ntm-saved'), 'Đã lưu trên máy');

  // B, offline too, writes the evidence for 15.3
  await b.page.getByTestId('criterion-15').locator('summary').click();
  await b.page.locator('input[name="evidence/15.3"]').fill('Báo cáo trạm y tế xã, tháng 11/2023');
  await b.page.getByTestId('ntm-save').click();
  await waitForText(b.page.getByTestId('ntm-saved'), 'Đã lưu trên máy');

  await a.context.setOffline(false);
  await a.page.getByTestId('sync-now').click();
  await waitForText(a.page.getByTestId('pending'), 'Đã gửi hết');
  await b.context.setOffline(false);
  await b.page.getByTestId('sync-now').click();
  await waitForText(b.page.getByTestId('pending'), 'Đã gửi hết');

  const { records } = await server.pull('03646');
  const assessments = records.filter((r) => r.data_set === 'ntm_assessment');
  assert.equal(assessments.length, 1, 'one record for the commune and year');
  assert.deepEqual(assessments[0].fields, { '15.3': 12.5, '15.4': 55, 'evidence/15.3': 'Báo cáo trạm y tế xã, tháng 11/2023' });
  assert.deepEqual(assessments[0].conflicts ?? [], []);

  // A sees B's evidence after syncing, on the open screen
  await a.page.getByTestId('sync-now').click();
  await waitForText(a.page.getByTestId('pending'), 'Đã gửi hết');
  await a.page.waitForFunction(() => document.querySelector('input[name="evidence/15.3"]').value === 'Báo cáo trạm y tế xã, tháng 11/2023');
  await waitForText(a.page.getByTestId('ntm-summary'), 'Đạt 0/19 tiêu chí');

  // sent for the district's review
  const panel = a.page.getByTestId('ntm-assessment').getByTestId('submission');
  await panel.getByTestId('submit-report').click();
  await waitForText(panel.getByTestId('submission-state'), 'Đã gửi');
  await Promise.all([a.context.close(), b.context.close()]);
});

test("the province's requirements reach the tablet by sync, count a criterion met, and stay after an offline reload", async () => {
  // the province sets criterion 1's two requirements (planning) after the app was released
  await server.setRequirement('1.1', { equals: true });
  await server.setRequirement('1.2', { equals: true });
  const { context, page } = await openAssessment(A, 2024);
  const c1 = page.getByTestId('criterion-1');
  await c1.locator('summary').click();
  await waitForText(page.getByTestId('ntm-indicator-1.1'), 'Mức đạt: Có (đạt)');
  await waitForText(c1.getByTestId('criterion-status'), 'Chưa đánh giá');
  await waitForText(page.getByTestId('ntm-summary'), 'Đạt 0/19 tiêu chí');

  await context.setOffline(true);
  await page.getByTestId('indicator-1.1').selectOption('true');
  await waitForText(c1.getByTestId('criterion-status'), 'Chưa đánh giá');
  await page.getByTestId('indicator-1.2').selectOption('false');
  await waitForText(c1.getByTestId('criterion-status'), 'Chưa đạt');
  await page.getByTestId('indicator-1.2').selectOption('true');
  await waitForText(c1.getByTestId('criterion-status'), 'Đạt');
  await waitForText(page.getByTestId('ntm-summary'), 'Đạt 1/19 tiêu chí');
  await page.getByTestId('ntm-save').click();
  await waitForText(page.getByTestId('ntm-saved'), 'Đã lưu trên máy');

  // still offline: the requirements were kept on the device with the values
  await page.reload();
  await waitForText(page.getByTestId('commune-name'), 'Phường Chiềng Lề');
  await page.getByTestId('open-ntm').click();
  await waitForText(page.getByTestId('ntm-assessment').locator('h2'), '2024');
  await waitForText(page.getByTestId('ntm-summary'), 'Đạt 1/19 tiêu chí');
  await page.getByTestId('criterion-1').locator('summary').click();
  await waitForText(page.getByTestId('ntm-indicator-1.2'), 'Mức đạt: Có (đạt)');

  await context.setOffline(false);
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const { records } = await server.pull('03646');
  const saved = records.find((r) => r.data_set === 'ntm_assessment' && r.period === '2024');
  assert.deepEqual(saved.fields, { '1.1': true, '1.2': true });
  await context.close();
});

test("a draft brought back keeps what was typed and a colleague's values synced since, and saving overwrites nothing", async () => {
  const a = await openAssessment(A, 2024);
  const b = await openAssessment(B, 2024);
  const value = (page, code) => page.getByTestId(`indicator-${code}`).inputValue();
  const open15 = async (page) => {
    await page.getByTestId('criterion-15').locator('summary').click();
    await page.getByTestId('indicator-15.3').waitFor();
  };
  await open15(a.page);
  await open15(b.page);
  // A's figures, saved and sent; B receives them
  await a.page.getByTestId('indicator-15.3').fill('10');
  await a.page.getByTestId('indicator-15.4').fill('50');
  await a.page.getByTestId('ntm-save').click();
  await waitForText(a.page.getByTestId('ntm-saved'), 'Đã lưu trên máy');
  await a.page.getByTestId('sync-now').click();
  await waitForText(a.page.getByTestId('pending'), 'Đã gửi hết');
  await b.page.getByTestId('sync-now').click();
  await b.page.waitForFunction(() => document.querySelector('[data-testid="indicator-15.3"]').value === '10');

  // A starts changing 15.3 and leaves it as a draft
  await a.page.getByTestId('indicator-15.3').fill('20');
  await a.page.waitForTimeout(1200); // the draft is written after a short pause in typing
  // meanwhile B corrects 15.4 and sends it
  await b.page.getByTestId('indicator-15.4').fill('60');
  await b.page.getByTestId('ntm-save').click();
  await waitForText(b.page.getByTestId('ntm-saved'), 'Đã lưu trên máy');
  await b.page.getByTestId('sync-now').click();
  await waitForText(b.page.getByTestId('pending'), 'Đã gửi hết');

  // A syncs while typing: B's 15.4 shows at once, A's typed 15.3 stays
  await a.page.getByTestId('sync-now').click();
  await a.page.waitForFunction(() => document.querySelector('[data-testid="indicator-15.4"]').value === '60');
  assert.equal(await value(a.page, '15.3'), '20');

  // A's tab reloads with the draft unsaved: it comes back over the stored values, not over them
  a.page.on('dialog', (d) => d.accept());
  await a.page.reload();
  await waitForText(a.page.getByTestId('commune-name'), 'Phường Chiềng Lề');
  await a.page.getByTestId('open-ntm').click();
  await a.page.getByTestId('draft-restored').waitFor();
  await open15(a.page);
  assert.equal(await value(a.page, '15.3'), '20', 'what A typed');
  assert.equal(await value(a.page, '15.4'), '60', "B's value, not the one A's form was opened with");
  await a.page.getByTestId('ntm-save').click();
  await waitForText(a.page.getByTestId('ntm-saved'), 'Đã lưu trên máy');
  await a.page.getByTestId('sync-now').click();
  await waitForText(a.page.getByTestId('pending'), 'Đã gửi hết');

  const { records } = await server.pull('03646');
  const saved = records.find((r) => r.data_set === 'ntm_assessment' && r.period === '2024');
  // criterion 1's answers from the journey before stay as they were
  assert.deepEqual(saved.fields, { '1.1': true, '1.2': true, '15.3': 20, '15.4': 60 });
  assert.deepEqual(saved.conflicts ?? [], []);
  await Promise.all([a.context.close(), b.context.close()]);
});

test('sent for approval with no signal: the request waits on the tablet and goes after the changes', async () => {
  const { context, page } = await openAssessment(A, 2024);
  await context.setOffline(true);
  await page.getByTestId('criterion-15').locator('summary').click();
  await page.getByTestId('indicator-15.4').fill('70');
  await page.getByTestId('ntm-save').click();
  await waitForText(page.getByTestId('ntm-saved'), 'Đã lưu trên máy');
  // no network, and a change still on the tablet: asking is allowed, and said to wait
  const panel = page.getByTestId('ntm-assessment').getByTestId('submission');
  await panel.getByTestId('submit-report').click();
  await waitForText(panel.getByTestId('submission-queued'), 'Đã ghi yêu cầu gửi huyện duyệt');
  assert.equal(await panel.getByTestId('submit-report').count(), 0, 'asked once');
  // it survives a restart with no network
  await page.reload();
  await waitForText(page.getByTestId('commune-name'), 'Phường Chiềng Lề');
  await page.getByTestId('open-ntm').click();
  await waitForText(page.getByTestId('ntm-assessment').getByTestId('submission-queued'), 'Đã ghi yêu cầu');
  assert.equal((await server.get('/api/submissions?period=2024')).submissions.length, 0, 'nothing sent yet');
  // back in signal: one sync sends the change, then the request
  await context.setOffline(false);
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  const submitted = page.getByTestId('ntm-assessment').getByTestId('submission-state');
  await waitForText(submitted, 'Đã gửi, chờ huyện duyệt');
  const { submissions } = await server.get('/api/submissions?period=2024');
  assert.equal(submissions.length, 1);
  assert.equal(submissions[0].data_set, 'ntm_assessment');
  assert.equal(submissions[0].state, 'submitted');
  const { records } = await server.pull('03646');
  assert.equal(records.find((r) => r.data_set === 'ntm_assessment' && r.period === '2024').fields['15.4'], 70);
  assert.equal(await page.getByTestId('ntm-assessment').getByTestId('submission-queued').count(), 0);
  await context.close();
});

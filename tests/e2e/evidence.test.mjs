// Evidence photos and the advanced-example register: a camera-sized photo made small on the tablet,
// its upload cut at 60% and resumed from there (not from zero), also after the app is restarted with
// no signal; a lost answer that does not corrupt it; an example recorded offline with a photo, seen
// and commended by the district, the commendation back on the officer's tablet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, launchBrowser, openApp, chooseYear, chooseCommune, waitForText, cameraPhoto } from './harness.mjs';

const OFFICER = { username: 'anh.canbo', password: 'mat-khau-anh-1', display_name: 'Cán bộ Chiềng Lề', role: 'commune_officer', org_unit: '03646' };
const DISTRICT = { username: 'anh.huyen', password: 'mat-khau-anh-2', display_name: 'Giám sát TP Sơn La', role: 'district_supervisor', org_unit: '116' };

let server;
let browser;

before(async () => {
  server = await startServer();
  await server.createUser(OFFICER);
  await server.createUser(DISTRICT);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openCommune(user, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await openApp(page, server.url, user);
  await chooseYear(page, 2023);
  await chooseCommune(page, 'chieng le', 'Phường Chiềng Lề');
  await waitForText(page.getByTestId('last-sync'), 'Đồng bộ lúc');
  return { context, page };
}

test('a photo upload cut at 60% continues from there; a chunk whose answer was lost is not sent twice', async () => {
  const { context, page } = await openCommune(OFFICER);
  let announced = null;
  const offsets = [];
  let cutAt = null;
  let lostAnswerAt = null;
  let serverAtCut = null;
  await context.route((url) => url.pathname.startsWith('/api/evidence'), async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (request.method() === 'POST') {
      announced = JSON.parse(request.postData());
      return route.continue();
    }
    if (request.method() !== 'PATCH') return route.continue();
    const offset = Number(url.searchParams.get('offset'));
    offsets.push(offset);
    if (cutAt === null && offset >= 0.6 * announced.size) {
      serverAtCut = await server.get(`/api/evidence/${announced.id}/upload`);
      cutAt = offset;
      return route.abort('internetdisconnected'); // the signal drops: this chunk never arrives
    }
    if (cutAt !== null && lostAnswerAt === null) {
      lostAnswerAt = offset;
      await route.fetch(); // the server stores the chunk...
      return route.abort('connectionreset'); // ...and its answer is lost on the way back
    }
    return route.continue();
  });

  await page.getByTestId('add-household').click();
  const form = page.getByTestId('household-form');
  for (const [name, value] of Object.entries({ head_name: 'Cà Văn Ảnh', village: 'Bản Hụm', members: 3, working_age_members: 2, children_under_16: 1, members_16_to_30: 1, income_per_person_month: 1100000 })) {
    await form.locator(`input[name="${name}"]`).fill(String(value));
  }
  const photo = await cameraPhoto(page, 7);
  assert.ok(photo.buffer.length > 2_000_000, `camera-sized: ${photo.buffer.length} bytes`);
  await page.getByTestId('photo-input-household').setInputFiles(photo);
  await waitForText(page.getByTestId('photo-state'), 'Chờ gửi');
  await page.getByTestId('save').click();
  await page.getByTestId('households').waitFor();

  // the sync after the save sends the record, then the photo until the cut
  for (let i = 0; i < 600 && cutAt === null; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(cutAt !== null, 'the upload reached 60%');
  assert.ok(announced.size <= 200 * 1024, `made small on the device: ${announced.size} bytes`);
  assert.equal(serverAtCut.received, cutAt, 'the server holds everything before the cut');
  assert.ok(cutAt >= 0.6 * announced.size && cutAt < announced.size);
  assert.equal(serverAtCut.complete, false);

  // the signal comes back: the officer presses sync (the app would also retry by itself)
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  for (let i = 0; i < 600; i++) {
    const state = await server.get(`/api/evidence/${announced.id}/upload`);
    if (state.complete) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const afterCut = offsets.slice(offsets.indexOf(cutAt) + 1);
  assert.equal(afterCut[0], cutAt, 'resumed at the cut, not at 0');
  assert.ok(!afterCut.includes(0), `nothing sent again from the start: ${offsets}`);
  // the chunk whose answer was lost had arrived: the app learns so and goes on after it
  const lostIndex = afterCut.indexOf(lostAnswerAt);
  assert.ok(afterCut.slice(lostIndex + 1).every((o) => o > lostAnswerAt), `no chunk before the lost answer's was resent: ${offsets}`);

  console.log(`photo: ${photo.buffer.length} bytes from the camera, ${announced.size} bytes uploaded; cut at ${cutAt} (${Math.round(100 * cutAt / announced.size)}%), answer lost at ${lostAnswerAt}; chunk offsets ${offsets.join(' ')}`);
  const stored = await server.get(`/api/evidence/${announced.id}`, { raw: true });
  assert.equal(stored.type, 'image/jpeg');
  assert.equal(stored.bytes.length, announced.size);
  assert.equal(createHash('sha256').update(stored.bytes).digest('hex'), announced.sha256);
  assert.deepEqual([...stored.bytes.subarray(0, 2)], [0xff, 0xd8]);

  // the household names its photo; the form says it is on the server
  const { records } = await server.pull('03646');
  const household = records.find((r) => r.data_set === 'household' && r.fields.head_name === 'Cà Văn Ảnh');
  assert.deepEqual(household.fields.photos, [announced.id]);
  await page.getByTestId('household').filter({ hasText: 'Cà Văn Ảnh' }).click();
  await waitForText(page.getByTestId('photo-state'), 'Đã gửi');
  await context.close();
});

test('an upload cut at 60% goes on from there after the tablet is restarted with no signal', async () => {
  const { context, page } = await openCommune(OFFICER);
  let announced = null;
  let cutAt = null;
  // what the restarted app sends once the signal is back (nothing of the closed page's can get
  // through before that: the tablet is offline from the cut until then)
  let back = false;
  const afterRestart = [];
  await context.route((url) => url.pathname.startsWith('/api/evidence'), async (route) => {
    const request = route.request();
    if (request.method() === 'POST') {
      announced = JSON.parse(request.postData());
      return route.continue();
    }
    if (request.method() !== 'PATCH') return route.continue();
    const offset = Number(new URL(request.url()).searchParams.get('offset'));
    if (back) afterRestart.push(offset);
    if (cutAt === null && offset >= 0.6 * announced.size) {
      cutAt = offset;
      await context.setOffline(true); // the signal is gone, and stays gone
      return route.abort('internetdisconnected');
    }
    return route.continue();
  });

  await page.getByTestId('add-household').click();
  const form = page.getByTestId('household-form');
  for (const [name, value] of Object.entries({ head_name: 'Lường Thị Khởi', village: 'Bản Hụm', members: 2, working_age_members: 2, children_under_16: 0, members_16_to_30: 1, income_per_person_month: 1400000 })) {
    await form.locator(`input[name="${name}"]`).fill(String(value));
  }
  await page.getByTestId('photo-input-household').setInputFiles(await cameraPhoto(page, 13));
  await waitForText(page.getByTestId('photo-state'), 'Chờ gửi');
  await page.getByTestId('save').click();
  await page.getByTestId('households').waitFor();
  for (let i = 0; i < 600 && cutAt === null; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(cutAt !== null, 'the upload reached 60%');
  const atCut = await server.get(`/api/evidence/${announced.id}/upload`);
  assert.equal(atCut.received, cutAt, 'the server holds everything before the cut');
  assert.equal(atCut.complete, false);

  // the officer closes the app and opens it again, still with no signal: it starts from the
  // service worker, and the photo is still there with how far it got (its bytes and progress are
  // in IndexedDB)
  await page.reload();
  await page.getByTestId('household').filter({ hasText: 'Lường Thị Khởi' }).click();
  await waitForText(page.getByTestId('photo-state'), `Đang gửi ${Math.round((100 * cutAt) / announced.size)}%`);
  await page.getByTestId('cancel').click();
  await page.getByTestId('households').waitFor();

  // the signal comes back
  back = true;
  await context.setOffline(false);
  await page.getByTestId('sync-now').click();
  await waitForText(page.getByTestId('pending'), 'Đã gửi hết');
  for (let i = 0; i < 600; i++) {
    if ((await server.get(`/api/evidence/${announced.id}/upload`)).complete) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`restarted at the cut ${cutAt} of ${announced.size} bytes (${Math.round(100 * cutAt / announced.size)}%); chunks after the restart at ${afterRestart.join(' ')}`);
  assert.equal(afterRestart[0], cutAt, 'the restarted app goes on at the cut, not at 0');
  assert.ok(afterRestart.every((o) => o >= cutAt), `nothing before the cut sent again: ${afterRestart}`);
  const stored = await server.get(`/api/evidence/${announced.id}`, { raw: true });
  assert.equal(stored.bytes.length, announced.size);
  assert.equal(createHash('sha256').update(stored.bytes).digest('hex'), announced.sha256);
  await page.getByTestId('household').filter({ hasText: 'Lường Thị Khởi' }).click();
  await waitForText(page.getByTestId('photo-state'), 'Đã gửi');
  await context.close();
});

test('an advanced example recorded offline with a photo is seen and commended by the district', async () => {
  // the model's place, from the tablet's GPS
  const officer = await openCommune(OFFICER, { permissions: ['geolocation'], geolocation: { latitude: 21.32795, longitude: 103.91442, accuracy: 9 } });
  await officer.context.setOffline(true);
  await officer.page.getByTestId('open-examples').click();
  await officer.page.getByTestId('example-add').click();
  const form = officer.page.getByTestId('example-form');
  // incomplete: refused, each missing answer named
  await officer.page.getByTestId('example-save').click();
  await waitForText(form, 'Còn ô chưa đúng');
  await form.getByTestId('example-kind').selectOption('sang_kien');
  await form.getByTestId('example-title').fill('Sáng kiến «Kẻng an ninh» ở các bản');
  await form.getByTestId('example-holder').fill('Công an phường Chiềng Lề');
  await form.getByTestId('example-field').fill('An ninh trật tự');
  await form.getByTestId('example-description').fill('Mỗi bản một kẻng báo động; 6 tháng không có vụ trộm cắp.');
  await officer.page.getByTestId('photo-input-example').setInputFiles(await cameraPhoto(officer.page, 11));
  await waitForText(form.getByTestId('photo-state'), 'Chờ gửi');
  await form.getByTestId('locate').click();
  await waitForText(form.getByTestId('position-text'), '21,32795, 103,91442 (± 9 m)');
  await officer.page.getByTestId('example-save').click();
  await waitForText(officer.page.getByTestId('example-title'), 'Kẻng an ninh');
  // reload with no network: still there (service worker + IndexedDB)
  await officer.page.reload();
  await officer.page.getByTestId('open-examples').click();
  await waitForText(officer.page.getByTestId('example-title'), 'Kẻng an ninh');

  await officer.context.setOffline(false);
  await officer.page.getByTestId('sync-now').click();
  await waitForText(officer.page.getByTestId('pending'), 'Đã gửi hết');
  const { records } = await server.pull('03646');
  const example = records.find((r) => r.data_set === 'advanced_example');
  assert.equal(example.fields.kind, 'sang_kien');
  assert.equal(example.fields.photos.length, 1);
  assert.deepEqual([example.fields.position.lat, example.fields.position.lon, example.fields.position.accuracy_m], [21.32795, 103.91442, 9]);
  for (let i = 0; i < 600; i++) {
    if ((await server.get(`/api/evidence/${example.fields.photos[0]}/upload`)).complete) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await server.get(`/api/evidence/${example.fields.photos[0]}/upload`)).complete, true);

  // the district finds it among every commune's examples on its dashboard, and opens it in the
  // commune's register: photo included (fetched from the server), and commends it there
  const district = await openCommune(DISTRICT);
  await district.page.getByRole('button', { name: 'Đổi xã' }).click();
  await district.page.getByTestId('open-dashboard').click();
  await district.page.getByTestId('tab-examples').click();
  const listed = district.page.getByTestId('unit-example');
  await waitForText(listed, 'Kẻng an ninh');
  assert.equal(await listed.count(), 1);
  assert.equal(await listed.getAttribute('data-commune'), '03646');
  await waitForText(listed, 'Phường Chiềng Lề');
  await waitForText(listed, 'Công an phường Chiềng Lề');
  await listed.getByTestId('open-example-commune').click();
  await waitForText(district.page.getByTestId('example-title'), 'Kẻng an ninh');
  await district.page.getByTestId('example').locator('img').first().waitFor();
  const loaded = await district.page.getByTestId('example').locator('img').first().evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(loaded, 'the photo shows on the supervisor\'s screen');
  await district.page.getByTestId('commend-note').fill('Đề nghị nhân rộng ra toàn thành phố');
  await district.page.getByTestId('commend').click();
  await waitForText(district.page.getByTestId('commended-district'), 'Đề nghị nhân rộng');
  await district.page.getByTestId('sync-now').click();
  await waitForText(district.page.getByTestId('pending'), 'Đã gửi hết');
  // the list across communes shows the commendation too
  await district.page.getByTestId('examples-back').click();
  await district.page.getByRole('button', { name: 'Đổi xã' }).click();
  await district.page.getByTestId('open-dashboard').click();
  await district.page.getByTestId('tab-examples').click();
  await waitForText(district.page.getByTestId('unit-commended-district'), 'Đề nghị nhân rộng');

  // back on the officer's tablet after its next sync
  await officer.page.getByTestId('sync-now').click();
  await waitForText(officer.page.getByTestId('commended-district'), 'Đề nghị nhân rộng');
  const after = await server.pull('03646');
  const commendations = after.records.filter((r) => r.data_set === 'commendation');
  assert.equal(commendations.length, 1);
  assert.equal(commendations[0].fields.level, 'district');
  assert.equal(commendations[0].fields.example, example.id);
  await officer.context.close();
  await district.context.close();
});

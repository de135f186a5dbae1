// Shared pieces of the end-to-end tests: the real server on a free port with a fresh SQLite file,
// Debian's Chromium driven by playwright-core (never a downloaded browser), and the app's common steps.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export const ADMIN = { username: 'admin.e2e', password: 'mat-khau-quan-tri-e2e' };

export async function startServer(extraEnv = {}) {
  const bin = process.env.THIDUA_SERVER_BIN;
  const dist = process.env.THIDUA_DIST;
  if (!bin || !dist) throw new Error('THIDUA_SERVER_BIN and THIDUA_DIST must be set (scripts/test.sh sets them)');
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'thidua-e2e-'));
  const child = spawn(bin, [], {
    env: { ...process.env, THIDUA_ADDR: `127.0.0.1:${port}`, THIDUA_DATA_DIR: data, THIDUA_DIST: dist, RUST_LOG: 'warn',
      THIDUA_ADMIN_USERNAME: ADMIN.username, THIDUA_ADMIN_PASSWORD: ADMIN.password, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(data, { recursive: true, force: true });
    },
    /** What the server holds for a unit, read as the province administrator. */
    async pull(orgUnit) {
      const token = await login(url, ADMIN);
      const res = await fetch(`${url}/api/sync/pull`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ protocol: 1, limit: 500, org_unit: orgUnit }),
      });
      if (!res.ok) throw new Error(`pull: ${res.status} ${await res.text()}`);
      return res.json();
    },
    /** GETs an API path as the province administrator: the JSON answer, or the bytes with `raw`. */
    async get(path, { raw = false } = {}) {
      const token = await login(url, ADMIN);
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return raw ? { type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) } : res.json();
    },
    /** Uploads a unit list (TSV text) through the administrator's API. */
    async uploadUnitList(text) {
      const token = await login(url, ADMIN);
      const res = await fetch(`${url}/api/admin/unit-lists`, {
        method: 'POST',
        headers: { 'content-type': 'text/tab-separated-values', authorization: `Bearer ${token}` },
        body: text,
      });
      if (res.status !== 201) throw new Error(`upload unit list: ${res.status} ${await res.text()}`);
      return res.json();
    },
    /** Sets the province's requirement for one indicator of the NTM set 2021–2025 (null clears it). */
    async setRequirement(code, requirement) {
      const token = await login(url, ADMIN);
      const res = await fetch(`${url}/api/admin/criteria-sets/ntm-2021-2025/requirements/${code}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ requirement }),
      });
      if (res.status !== 200) throw new Error(`set requirement ${code}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    /** Stores records as another device would have sent them (as the administrator): all applied. */
    async store(records) {
      const token = await login(url, ADMIN);
      const device = randomUUID();
      const mutations = records.map((record) => ({ id: randomUUID(), device, record: { revision: 0, deleted: false, ...record },
        base_revision: 0, changed: Object.keys(record.fields) }));
      const res = await fetch(`${url}/api/sync/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ protocol: 1, device, mutations }),
      });
      if (!res.ok) throw new Error(`store: ${res.status} ${await res.text()}`);
      const { results } = await res.json();
      const refused = results.filter((r) => !('applied' in r.outcome));
      if (refused.length) throw new Error(`store: refused ${JSON.stringify(refused[0])}`);
    },
    /** Creates an account through the administrator's API. */
    async createUser(user) {
      const token = await login(url, ADMIN);
      const res = await fetch(`${url}/api/admin/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(user),
      });
      if (res.status !== 201) throw new Error(`create user: ${res.status} ${await res.text()}`);
      return res.json();
    },
  };
}

async function login(url, { username, password }) {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

export function launchBrowser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Opens the app, signs in and waits until the service worker controls the page (so it can reload offline). */
export async function openApp(page, url, user) {
  await page.goto(url);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  if (user) await signIn(page, user);
  // generous: on a loaded 2-core CI machine a sign-in, reload and database open can take a while
  await page.getByTestId('sync-badge').waitFor({ timeout: 90_000 });
}

export async function signIn(page, { username, password }) {
  const form = page.getByTestId('login');
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(password);
  await form.getByTestId('sign-in').click();
}

/** Picks the review year on the commune screen. */
export async function chooseYear(page, year) {
  await page.getByTestId('year').selectOption(String(year));
}

export async function chooseCommune(page, query, fullName) {
  await page.getByTestId('commune-search').fill(query);
  await page.getByRole('button', { name: fullName }).click();
  await page.getByTestId('commune-name').filter({ hasText: fullName }).waitFor();
}

/** Fills the household form the way an officer does and saves it. */
export async function addHousehold(page, h) {
  await page.getByTestId('add-household').click();
  const form = page.getByTestId('household-form');
  for (const [name, value] of Object.entries(h.fields)) {
    await form.locator(`input[name="${name}"]`).fill(String(value));
  }
  for (const dep of h.deprivations || []) {
    await form.locator(`input[name="${dep}"]`).check();
  }
  if (h.expect) {
    // the classification is shown live, before saving
    await page.getByTestId('classification').filter({ hasText: h.expect }).waitFor();
  }
  await page.getByTestId('save').click();
  await page.getByTestId('households').waitFor();
}

export async function waitForText(locator, text, timeout = 60_000) {
  await locator.filter({ hasText: text }).first().waitFor({ timeout });
}

export async function householdCount(page) {
  return page.getByTestId('household').count();
}

/**
 * A photo as a tablet's camera writes it: a 4000×3000 JPEG of several megabytes (noise, the
 * hardest case for compression), made by the browser itself so no image file is committed.
 */
export async function cameraPhoto(page, seed = 1) {
  const base64 = await page.evaluate(async (seed) => {
    const canvas = document.createElement('canvas');
    canvas.width = 4000; canvas.height = 3000;
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(4000, 3000);
    let x = 2463534242 ^ seed;
    for (let i = 0; i < image.data.length; i += 4) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      image.data[i] = x & 255; image.data[i + 1] = (x >>> 8) & 255; image.data[i + 2] = (x >>> 16) & 255; image.data[i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.92));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }, seed);
  return { name: `IMG_${seed}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.from(base64, 'base64') };
}

/**
 * The files inside a ZIP archive (an XLSX workbook is one), read from its central directory with
 * node's own inflate: name → Buffer. Enough to check what an exported workbook holds.
 */
export function unzip(buffer) {
  let end = buffer.length - 22;
  while (end >= 0 && buffer.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error('not a zip archive');
  const count = buffer.readUInt16LE(end + 10);
  let at = buffer.readUInt32LE(end + 16);
  const files = {};
  for (let i = 0; i < count; i++) {
    if (buffer.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory');
    const method = buffer.readUInt16LE(at + 10);
    const size = buffer.readUInt32LE(at + 20);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extra = buffer.readUInt16LE(at + 30);
    const comment = buffer.readUInt16LE(at + 32);
    const local = buffer.readUInt32LE(at + 42);
    const name = buffer.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const data = buffer.subarray(dataStart, dataStart + size);
    files[name] = method === 8 ? inflateRawSync(data) : Buffer.from(data);
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

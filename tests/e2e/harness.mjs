// Shared pieces of the end-to-end tests: the real server on a free port with a fresh SQLite file,
// Debian's Chromium driven by playwright-core (never a downloaded browser), and the app's common steps.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export async function startServer() {
  const bin = process.env.THIDUA_SERVER_BIN;
  const dist = process.env.THIDUA_DIST;
  if (!bin || !dist) throw new Error('THIDUA_SERVER_BIN and THIDUA_DIST must be set (scripts/test.sh sets them)');
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'thidua-e2e-'));
  const child = spawn(bin, [], {
    env: { ...process.env, THIDUA_ADDR: `127.0.0.1:${port}`, THIDUA_DATA_DIR: data, THIDUA_DIST: dist, RUST_LOG: 'warn' },
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
    async pull(orgUnit) {
      const res = await fetch(`${url}/api/sync/pull`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: 1, limit: 500, org_unit: orgUnit }),
      });
      return res.json();
    },
  };
}

export function launchBrowser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Opens the app and waits until the service worker controls the page, so it can reload offline. */
export async function openApp(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  await page.getByTestId('sync-badge').waitFor();
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

export async function waitForText(locator, text, timeout = 30_000) {
  await locator.filter({ hasText: text }).first().waitFor({ timeout });
}

export async function householdCount(page) {
  return page.getByTestId('household').count();
}

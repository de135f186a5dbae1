// Shared pieces of the browser benchmarks: arguments, the builds they need (made only when missing or
// older than the sources), the real server on a free port with a fresh SQLite file, Debian's Chromium
// through playwright-core, the emulated "Regular 2G" link, a byte counter on CDP's Network events, the
// households every benchmark uses, and the Markdown fragment.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_DIR = process.env.BENCH_DIR || join(ROOT, 'target/bench');

/** The link of the issue: Chrome DevTools' "Regular 2G" (250 kbps down, 50 kbps up, 300 ms round trip). */
export const REGULAR_2G = { offline: false, latency: 300, downloadThroughput: 250_000 / 8, uploadThroughput: 50_000 / 8 };
export const OFFLINE = { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };
export const NO_THROTTLE = { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };

/** `--out FILE` (or $BENCH_FRAGMENT), `--quick` (or $BENCH_QUICK=1), and `--name value` pairs. */
export function parseArgs(argv = process.argv.slice(2)) {
  const args = { out: process.env.BENCH_FRAGMENT || null, quick: process.env.BENCH_QUICK === '1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a.startsWith('--')) {
      const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) args[key] = true;
      else { args[key] = next; i++; }
    }
  }
  return args;
}

// ---- builds

const TOOLS_PATH = `${join(ROOT, '.tools/node_modules/.bin')}:${process.env.PATH}`;

function newestMtime(paths) {
  let newest = 0;
  const walk = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    else newest = Math.max(newest, s.mtimeMs);
  };
  for (const p of paths) walk(join(ROOT, p));
  return newest;
}

const APP_SOURCES = ['src', 'crates/domain/src', 'style', 'locales', 'public', 'index.html', 'Cargo.toml', 'Cargo.lock',
  'build.rs', 'Trunk.toml', 'scripts/postbuild.mjs'];

function run(cmd, args, env = {}) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, PATH: TOOLS_PATH, ...env } });
}

/** Waits while another trunk runs (others build in this tree too: two trunks share dist/.stage and target/). */
function waitForOtherTrunk() {
  for (let i = 0; i < 600; i++) {
    let running = '';
    try { running = execFileSync('pgrep', ['-x', 'trunk']).toString().trim(); } catch { running = ''; }
    if (!running) return;
    if (i === 0) console.log('another trunk build is running: waiting for it');
    execFileSync('sleep', ['2']);
  }
}

/** The app's release build in `dist` (the shipped one), rebuilt when a source is newer. */
export function ensureDist() {
  waitForOtherTrunk();
  const dist = join(ROOT, 'dist');
  const built = existsSync(join(dist, 'index.html')) ? statSync(join(dist, 'index.html')).mtimeMs : 0;
  if (built < newestMtime(APP_SOURCES)) run('trunk', ['build', '--release']);
  return dist;
}

/** The same release build with the cargo feature `bench` (src/bench.rs), in its own folder. */
export function ensureBenchDist() {
  waitForOtherTrunk();
  const dist = join(BENCH_DIR, 'dist-bench');
  const built = existsSync(join(dist, 'index.html')) ? statSync(join(dist, 'index.html')).mtimeMs : 0;
  if (built < newestMtime(APP_SOURCES)) run('trunk', ['build', '--release', '--features', 'bench', '--dist', dist]);
  return dist;
}

/** The server as production runs it (`--profile server`); built when missing or older than its sources. */
export function ensureServer() {
  const bin = process.env.THIDUA_SERVER_BIN || join(ROOT, 'target/server/thidua-server');
  const built = existsSync(bin) ? statSync(bin).mtimeMs : 0;
  if (!process.env.THIDUA_SERVER_BIN && built < newestMtime(['crates/server/src', 'crates/server/migrations', 'crates/domain/src', 'Cargo.lock'])) {
    run('cargo', ['build', '--profile', 'server', '-p', 'thidua-server', '--locked', '--bin', 'thidua-server']);
  }
  return bin;
}

// ---- processes

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

async function waitUp(url, child, output) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: exited: ${output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}: not up after 60 s: ${output()}`);
}

function stopper(child, cleanup) {
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
    }
    cleanup();
  };
}

export const ADMIN = { username: 'admin.bench', password: 'mat-khau-quan-tri-bench' };
export const OFFICER = { username: 'canbo.bench', password: 'mat-khau-can-bo-bench', display_name: 'Cán bộ đo hiệu năng',
  role: 'commune_officer', org_unit: '03646' };
export const COMMUNE = '03646';
export const PERIOD = '2023';

/** The real server on a free port, with a fresh SQLite database in a temporary folder. */
export async function startServer({ bin, dist }) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'thidua-bench-'));
  const child = spawn(bin, [], {
    env: { ...process.env, THIDUA_ADDR: `127.0.0.1:${port}`, THIDUA_DATA_DIR: data, THIDUA_DIST: dist, RUST_LOG: 'warn',
      THIDUA_DEMO: '0', THIDUA_ADMIN_USERNAME: ADMIN.username, THIDUA_ADMIN_PASSWORD: ADMIN.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const url = `http://127.0.0.1:${port}`;
  await waitUp(`${url}/api/health`, child, () => out);
  const server = { url, stop: stopper(child, () => rmSync(data, { recursive: true, force: true })) };
  server.login = async ({ username, password }) => {
    const res = await fetch(`${url}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
    return (await res.json()).token;
  };
  server.api = async (method, path, token, body) => {
    const res = await fetch(`${url}${path}`, {
      method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  server.createUser = async (user) => server.api('POST', '/api/admin/users', await server.login(ADMIN), user);
  return server;
}

/** pouchdb-server (npm) in memory on a free port, run from a temporary folder (it writes its config and log there). */
export async function startPouchServer() {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'pouchdb-server-'));
  const bin = join(ROOT, 'bench/node_modules/.bin/pouchdb-server');
  const child = spawn(bin, ['--in-memory', '--host', '127.0.0.1', '--port', String(port)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const url = `http://127.0.0.1:${port}`;
  await waitUp(`${url}/`, child, () => out);
  return { url, stop: stopper(child, () => rmSync(cwd, { recursive: true, force: true })) };
}

// ---- the browser

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export async function chromiumVersion(browser) {
  return browser.version();
}

/** Signs in through the app's own form. */
export async function signIn(page, { username, password }) {
  const form = page.getByTestId('login');
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(password);
  await form.getByTestId('sign-in').click();
}

/**
 * Counts what crosses the emulated link for one page, from CDP's Network events: per request the
 * bytes received (`loadingFinished.encodedDataLength`: headers and body as they came over the wire,
 * compressed) and the bytes sent (request line and headers as sent, plus the body's Content-Length:
 * gzip-compressed for a push), with when it was sent and when its answer ended.
 */
export class NetMeter {
  constructor(cdp) {
    this.cdp = cdp;
    this.requests = new Map();
    this.on = false;
    cdp.on('Network.requestWillBeSent', (e) => {
      if (!this.on) return;
      const r = e.request;
      const url = new URL(r.url);
      this.requests.set(e.requestId, {
        id: e.requestId, method: r.method, path: url.pathname, start: e.timestamp, end: null, down: 0,
        upHeaders: `${r.method} ${url.pathname}${url.search} HTTP/1.1\r\n`.length
          + Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + String(v).length + 4, 2),
        upBody: 0, status: null, fromCache: false, failed: false,
      });
      if (this.extra.has(e.requestId)) {
        this.applyExtra(this.requests.get(e.requestId), this.extra.get(e.requestId));
        this.extra.delete(e.requestId);
      }
    });
    // the headers as really sent (host, connection, content-length added by the network stack); this
    // event may come before or after requestWillBeSent, so whichever comes second applies it
    this.extra = new Map();
    const applyExtra = (req, headers) => {
      const entries = Object.entries(headers);
      req.upHeaders = `${req.method} ${req.path} HTTP/1.1\r\n`.length + entries.reduce((n, [k, v]) => n + k.length + String(v).length + 4, 2);
      const length = entries.find(([k]) => k.toLowerCase() === 'content-length');
      if (length) req.upBody = Number(length[1]);
    };
    this.applyExtra = applyExtra;
    cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
      const req = this.requests.get(e.requestId);
      if (req) applyExtra(req, e.headers);
      else if (this.on) this.extra.set(e.requestId, e.headers);
    });
    cdp.on('Network.responseReceived', (e) => {
      const req = this.requests.get(e.requestId);
      if (req) { req.status = e.response.status; req.fromCache = !!(e.response.fromDiskCache || e.response.fromServiceWorker); }
    });
    cdp.on('Network.loadingFinished', (e) => {
      const req = this.requests.get(e.requestId);
      if (req) { req.end = e.timestamp; req.down = e.encodedDataLength; }
    });
    cdp.on('Network.loadingFailed', (e) => {
      const req = this.requests.get(e.requestId);
      if (req) { req.end = e.timestamp; req.failed = true; }
    });
  }

  async enable() {
    await this.cdp.send('Network.enable', { maxPostDataSize: 0 });
  }

  start() { this.requests.clear(); this.extra.clear(); this.on = true; }
  stop() { this.on = false; }

  list(filter = () => true) { return [...this.requests.values()].filter(filter); }

  /** Totals over the requests that pass `filter`: count, bytes up (headers + body), down, and the time span. */
  totals(filter = () => true) {
    const list = this.list(filter).filter((r) => !r.fromCache);
    const up = list.reduce((n, r) => n + r.upHeaders + r.upBody, 0);
    const upBody = list.reduce((n, r) => n + r.upBody, 0);
    const down = list.reduce((n, r) => n + r.down, 0);
    const first = Math.min(...list.map((r) => r.start));
    const last = Math.max(...list.map((r) => r.end ?? r.start));
    return { count: list.length, up, upBody, down, seconds: list.length ? last - first : 0 };
  }
}

export async function emulate(cdp, conditions) {
  await cdp.send('Network.emulateNetworkConditions', conditions);
}

// ---- the data: households of a commune of Sơn La, the same for every benchmark and every peer

const FAMILY = ['Lò', 'Quàng', 'Cầm', 'Lường', 'Tòng', 'Vì', 'Hoàng', 'Sồng', 'Giàng', 'Mùa', 'Thào', 'Lù', 'Điêu', 'Hà', 'Bạc'];
const MIDDLE = ['Văn', 'Thị', 'A', 'Văn', 'Thị', 'Đức', 'Minh'];
const GIVEN = ['Páo', 'Xuân', 'Thành', 'Hương', 'Dế', 'Chứ', 'Mai', 'Pằng', 'Sinh', 'Tiến', 'Lả', 'Hoa', 'Chính', 'Duẩn', 'Ín',
  'Lượng', 'Thoa', 'Dũng', 'Cang', 'Nhất'];
const VILLAGE = ['Bản Hụm', 'Bản Lay', 'Bản Hìn', 'Bản Co Nghè', 'Bản Cá', 'Bản Mòng', 'Bản Bó', 'Bản Noong La', 'Tổ 1', 'Tổ 2', 'Tổ 3'];
const DEPRIVATIONS = ['dep_employment', 'dep_dependants', 'dep_nutrition', 'dep_health_insurance', 'dep_adult_education',
  'dep_child_schooling', 'dep_housing_quality', 'dep_floor_area', 'dep_domestic_water', 'dep_latrine', 'dep_telecom_use',
  'dep_information_devices'];

/** `n` households as the form's fields (valid by the domain's rules), from a fixed seed. */
export function households(n, seed = 20231) {
  let x = seed >>> 0 || 1;
  const rand = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const out = [];
  for (let i = 0; i < n; i++) {
    const members = int(1, 8);
    const working = int(0, members);
    const children = int(0, members - working);
    const young = int(0, members - children);
    const floor = int(12, 110);
    const f = {
      head_name: `${pick(FAMILY)} ${pick(MIDDLE)} ${pick(GIVEN)}`,
      village: pick(VILLAGE),
      area: rand() < 0.85 ? 'rural' : 'urban',
      members,
      working_age_members: working,
      children_under_16: children,
      members_16_to_30: young,
      income_per_person_month: int(40, 600) * 10_000,
      floor_area_m2: floor,
    };
    for (const d of DEPRIVATIONS) {
      let on = rand() < 0.25;
      if (d === 'dep_employment' && working < 1) on = false;
      if ((d === 'dep_nutrition' || d === 'dep_child_schooling') && children < 1) on = false;
      if (d === 'dep_adult_education' && young < 1) on = false;
      if (d === 'dep_dependants' && working >= members) on = false;
      if (d === 'dep_floor_area') on = floor < 8 * members;
      f[d] = on;
    }
    out.push(f);
  }
  return out;
}

/** A version-7 UUID made from a counter: distinct, ordered, the same on every run. */
export function uuidOf(n, kind = 1) {
  return `0190a000-0000-7${(kind & 0xfff).toString(16).padStart(3, '0')}-8000-${n.toString(16).padStart(12, '0')}`;
}

/** The households as server records of the commune (what a pull page carries). */
export function serverRecords(list, { commune = COMMUNE, period = PERIOD } = {}) {
  return list.map((fields, i) => ({
    id: uuidOf(i + 1),
    data_set: 'household',
    org_unit: commune,
    period,
    fields,
    revision: i + 1,
    deleted: false,
  }));
}

// ---- figures and the fragment

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
export const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
export const fmt = (n, digits = 0) => Number(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A Markdown table from a header row and rows; printed to the console as well. */
export function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`)];
  return lines.join('\n');
}

export function writeFragment(out, text) {
  console.log(`\n${text}\n`);
  if (!out) return;
  mkdirSync(dirname(resolve(out)), { recursive: true });
  writeFileSync(out, text.endsWith('\n') ? text : `${text}\n`);
  console.log(`wrote ${out}`);
}

export function readText(path) {
  return readFileSync(path, 'utf8');
}

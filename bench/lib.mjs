// Shared pieces of the browser benchmarks: arguments, the builds they need (made only when missing or
// older than the sources), the real server on a free port with a fresh SQLite file, Debian's Chromium
// through playwright-core, the emulated "Regular 2G" link, a byte counter on CDP's Network events, the
// households every benchmark uses, and the Markdown fragment.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

// ---- profiles that name the Rust functions

/**
 * The wasm of the build in `dist` with its function names kept: the file as wasm-bindgen writes it,
 * before wasm-opt -Oz strips the names (and shrinks and inlines the code). Taken from
 * target/wasm-bindgen/release when that is this build, else made again with wasm-bindgen from cargo's
 * output for the build's variant (target/wasm32-unknown-unknown/release/deps/thidua_app-*.wasm, one per
 * set of features, never newer than the build). "This build" = wasm-bindgen's JS glue is byte for byte
 * the build's. Null when none matches.
 */
export function namedWasm(dist) {
  const glueName = readdirSync(dist).find((n) => /^thidua-app-[0-9a-f]+\.js$/.test(n));
  if (!glueName) return null;
  const glue = readFileSync(join(dist, glueName));
  const builtAt = statSync(join(dist, 'index.html')).mtimeMs;
  const cached = join(ROOT, 'target/wasm-bindgen/release');
  if (existsSync(join(cached, 'thidua-app.js')) && readFileSync(join(cached, 'thidua-app.js')).equals(glue)) {
    return join(cached, 'thidua-app_bg.wasm');
  }
  const deps = join(ROOT, 'target/wasm32-unknown-unknown/release/deps');
  if (!existsSync(deps)) return null;
  const candidates = readdirSync(deps).filter((n) => /^thidua_app-[0-9a-f]+\.wasm$/.test(n))
    .map((n) => ({ path: join(deps, n), at: statSync(join(deps, n)).mtimeMs }))
    .filter((c) => c.at <= builtAt + 1000).sort((a, b) => b.at - a.at).slice(0, 4);
  for (const c of candidates) {
    const out = join(BENCH_DIR, 'named', c.path.split('/').pop().replace(/\.wasm$/, ''));
    try {
      execFileSync('wasm-bindgen', ['--target', 'web', '--no-typescript', '--out-dir', out, '--out-name', 'thidua-app', c.path],
        { env: { ...process.env, PATH: TOOLS_PATH } });
    } catch { continue; }
    if (readFileSync(join(out, 'thidua-app.js')).equals(glue)) return join(out, 'thidua-app_bg.wasm');
  }
  return null;
}

/**
 * A copy of the build in `dist` whose wasm keeps its function names ([`namedWasm`]), for CPU
 * profiles that name the Rust functions; null when there is none. Not size-optimised, so a profile of
 * it says where the time goes by function, not the shipped build's exact times.
 */
export function namedDist(dist, to) {
  const named = namedWasm(dist);
  if (!named) return null;
  const glue = readdirSync(dist).find((n) => /^thidua-app-[0-9a-f]+\.js$/.test(n));
  rmSync(to, { recursive: true, force: true });
  cpSync(dist, to, { recursive: true });
  const wasm = glue.replace(/\.js$/, '_bg.wasm');
  copyFileSync(named, join(to, wasm));
  for (const n of [`${wasm}.br`, `${wasm}.gz`, 'index.html.br', 'index.html.gz']) rmSync(join(to, n), { force: true });
  // the page names its files with integrity hashes: the named wasm is another file
  writeFileSync(join(to, 'index.html'), readFileSync(join(to, 'index.html'), 'utf8').replace(/\s+integrity="[^"]*"/g, ''));
  return to;
}

/** The crate a Rust symbol belongs to (the first path in its name), with the small ones grouped. */
export function crateOf(name) {
  const m = name.replace(/^\$/, '').replace(/\[[0-9a-f]{16}\]/g, '').match(/([a-z_][a-z0-9_]*)::/);
  let crate = m ? m[1] : 'unnamed';
  if (['core', 'alloc', 'std', 'dlmalloc', 'compiler_builtins', 'fmt', 'str', 'hashbrown', 'slice', 'vec', 'string'].includes(crate)) crate = 'Rust std (core, alloc, std, hashbrown)';
  if (['serde', 'serde_core', 'serde_json', 'serde_wasm_bindgen'].includes(crate)) crate = 'serde, serde_json, serde_wasm_bindgen';
  if (['tachys', 'leptos', 'reactive_graph', 'leptos_dom', 'any_spawner', 'or_poisoned', 'throw_error', 'oco_ref', 'leptos_macro',
    'hydration_context', 'reactive_stores'].includes(crate)) crate = 'Leptos (tachys, reactive_graph, leptos)';
  if (['wasm_bindgen', 'js_sys', 'web_sys', 'wasm_bindgen_futures'].includes(crate)) crate = 'wasm-bindgen, js-sys, web-sys';
  return crate;
}

/**
 * A CDP CPU profile's self time: by kind (the app's wasm by crate, its JS glue, the browser's
 * built-ins, GC, idle) and the busiest functions. Times in ms.
 */
export function profileSummary(cpu, { marker = null, from = 0, to = Infinity } = {}) {
  const byId = new Map(cpu.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // each sample's time (µs); with `marker`, only the samples between `from` and `to` ms after the page's
  // time origin count, placed by the first sample of the function named `marker` (run at `marker.at` ms)
  const times = [];
  let t = cpu.startTime;
  for (const d of cpu.timeDeltas) { t += d; times.push(t); }
  let lo = -Infinity;
  let hi = Infinity;
  if (marker) {
    const i = cpu.samples.findIndex((id) => byId.get(id).callFrame.functionName === marker.name);
    if (i >= 0) {
      const origin = times[i] - marker.at * 1000;
      lo = origin + from * 1000;
      hi = origin + to * 1000;
    }
  }
  cpu.samples.forEach((id, i) => {
    if (times[i] < lo || times[i] > hi) return;
    self.set(id, (self.get(id) || 0) + (cpu.timeDeltas[i + 1] ?? 0));
  });
  const kinds = new Map();
  const functions = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const f = byId.get(id).callFrame;
    const name = f.functionName || '(anonymous)';
    let kind;
    let fn = name;
    if (name === '(idle)') kind = 'idle';
    else if (name === '(garbage collector)') kind = 'garbage collection';
    else if (name === '(program)') kind = 'browser (native: IndexedDB, structured clone, layout, scheduling)';
    else if (f.url.includes('.wasm') || f.url.startsWith('wasm://') || /^\$/.test(name) || /wasm-function/.test(name)) {
      kind = `wasm: ${/wasm-function|^\$?func\d+$/.test(name) ? 'unnamed (wasm-opt stripped the names)' : crateOf(name)}`;
      fn = name.replace(/^\$/, '').replace(/\[[0-9a-f]{16}\]/g, '').replace(/::h[0-9a-f]{16}$/, '');
    } else if (/thidua-app-[0-9a-f]+\.js/.test(f.url)) kind = 'wasm-bindgen JS glue';
    else if (f.url === '') kind = 'browser built-ins called from JS (IndexedDB get/put, TextDecoder, Reflect, JSON)';
    else kind = 'other JS';
    kinds.set(kind, (kinds.get(kind) || 0) + us / 1000);
    if (kind !== 'idle') functions.set(fn, (functions.get(fn) || 0) + us / 1000);
    total += us / 1000;
  }
  return {
    windowed: lo !== -Infinity,
    total,
    kinds: [...kinds.entries()].sort((a, b) => b[1] - a[1]),
    functions: [...functions.entries()].sort((a, b) => b[1] - a[1]),
  };
}

/** One line: the kinds with their ms and share, then the top `n` functions. */
export function profileLine(summary, n = 8) {
  const busy = summary.total - (summary.kinds.find(([k]) => k === 'idle')?.[1] || 0);
  const kinds = summary.kinds.map(([k, ms]) => `${k} ${ms.toFixed(0)} ms (${((ms / summary.total) * 100).toFixed(0)}%)`).join(', ');
  const top = summary.functions.slice(0, n).map(([f, ms]) => `\`${f.replace(/\|/g, '\\|').slice(0, 100)}\` ${ms.toFixed(0)} ms`).join(', ');
  return `${kinds}. Busiest functions by self time (of ${busy.toFixed(0)} ms busy): ${top}`;
}

/**
 * A Chrome trace (JSON, as Playwright's browser.stopTracing gives it) summarised: the page's main
 * thread busy time (its top-level tasks) with the self time of each kind of event in it (layout, style,
 * script, wasm compilation, …), and the time IndexedDB spent on the browser side. Times in ms.
 */
export function traceSummary(buffer, { pid = null, toMs = null } = {}) {
  const { traceEvents } = JSON.parse(buffer.toString());
  const names = traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
  const mains = names.filter((e) => e.args?.name === 'CrRendererMain' && (pid === null || e.pid === pid));
  // the renderer whose main thread was busiest is the page's
  let best = null;
  for (const m of mains) {
    const busy = traceEvents.filter((e) => e.pid === m.pid && e.tid === m.tid && e.ph === 'X' && e.name === 'RunTask')
      .reduce((n, e) => n + (e.dur || 0), 0);
    if (!best || busy > best.busy) best = { pid: m.pid, tid: m.tid, busy };
  }
  if (!best) return null;
  // with `toMs`: only from the page's (last) navigation start to `toMs` after it
  let lo = -Infinity;
  let hi = Infinity;
  const starts = traceEvents.filter((e) => e.name === 'navigationStart' && e.pid === best.pid).map((e) => e.ts);
  if (toMs !== null && starts.length) {
    lo = Math.max(...starts);
    hi = lo + toMs * 1000;
  }
  const events = traceEvents.filter((e) => e.pid === best.pid && e.tid === best.tid && e.ph === 'X' && e.dur !== undefined
    && e.ts >= lo && e.ts <= hi)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const busy = events.filter((e) => e.name === 'RunTask').reduce((n, e) => n + e.dur, 0);
  const self = new Map();
  const stack = [];
  for (const e of events) {
    while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= e.ts) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) self.set(parent, (self.get(parent) ?? parent.dur) - e.dur);
    self.set(e, e.dur);
    stack.push(e);
  }
  const byName = new Map();
  for (const [e, us] of self) byName.set(e.name, (byName.get(e.name) || 0) + Math.max(0, us) / 1000);
  const idb = traceEvents.filter((e) => e.ph === 'X' && /IndexedDB|IDB/i.test(`${e.cat} ${e.name}`) && e.pid !== best.pid
    && e.ts >= lo && e.ts <= hi);
  const idbMs = idb.reduce((n, e) => n + (e.dur || 0), 0) / 1000;
  return { windowed: lo !== -Infinity, busy: busy / 1000, byName: [...byName.entries()].sort((a, b) => b[1] - a[1]), idbMs, idbEvents: idb.length };
}

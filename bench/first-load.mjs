// First load: the bytes of the app shell, and the time to interactive in headless Chromium with the
// network emulated as "Regular 2G" (250 kbps down, 50 kbps up, 300 ms round trip) and the CPU slowed
// 4× — cold (nothing cached, over 2G) and warm (from the service worker's cache, no network at all),
// with where the time goes; then the wasm's size by crate (twiggy), to say what holds the size back.
//
//   node bench/first-load.mjs [--out FILE] [--quick] [--rounds N] [--households N]
//
// Time to interactive, as measured here: from the navigation's start (performance.timeOrigin) until the
// first screen a person acts on is in the page AND the main thread is free to take their input: the
// sign-in form's user-name field (no one signed in) or, signed in with a commune chosen, the first row
// of the household list. "Free" is the end of the last long task (over 50 ms, PerformanceObserver
// 'longtask') before a quiet 500 ms, the way Lighthouse's TTI reads long tasks. After each load the
// script types into the field (or opens the search) to check it really takes input.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import {
  BENCH_DIR, COMMUNE, OFFICER, crateOf, traceSummary, namedDist, namedWasm, profileLine, profileSummary, OFFLINE, PERIOD, REGULAR_2G, ROOT, NetMeter, emulate, ensureDist, ensureServer, fmt, households,
  kb, launchBrowser, median, parseArgs, signIn, startServer, table, uuidOf, writeFragment,
} from './lib.mjs';

const args = parseArgs();
const ROUNDS = Number(args.rounds || (args.quick ? 1 : 3));
const HOUSEHOLDS = Number(args.households || (args.quick ? 200 : 1_000));
const BUDGET_BYTES = 150 * 1024;
const BUDGET_MS = 1000;
const CPU_SLOWDOWN = 4;

const bin = ensureServer();
// a private copy of the build: others rebuild dist/ in this tree, and the server reads it per request
const dist = snapshot(ensureDist(), join(BENCH_DIR, 'dist-shipped'));

// ---- (a) the shell's bytes, brotli (what scripts/sizes.mjs counts: html + js + wasm + css)
const shellFiles = readdirSync(dist).filter((n) => /\.(js|wasm|css|html)$/.test(n) && n !== 'sw.js').sort();
const shell = shellFiles.map((name) => {
  const data = readFileSync(join(dist, name));
  return { name, raw: data.length, gzip: gzipSync(data, { level: 9 }).length,
    br: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length };
});
const shellBr = shell.reduce((n, f) => n + f.br, 0);
const wasmShell = shell.find((f) => f.name.endsWith('.wasm'));

// ---- the page's instrumentation: when the screen appears, long tasks, the wasm's instantiation
const INSTRUMENT = (options) => {
  const b = (window.__bench = { longtasks: [], visible: null, which: null, wasm: {} });
  if (options && options.marker) {
    // for a CPU profile only: a mark it can see, this function busy for 10 ms at a known time after the navigation's start
    const __bench_navigation_start = () => { const end = performance.now() + 10; while (performance.now() < end); };
    b.markAt = performance.now();
    __bench_navigation_start();
  }
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.startTime + e.duration]); })
      .observe({ type: 'longtask', buffered: true });
  } catch { /* no long-task timing: TTI is then when the screen appears */ }
  for (const fn of ['instantiateStreaming', 'instantiate']) {
    const original = WebAssembly[fn];
    WebAssembly[fn] = function (...a) {
      b.wasm.start ??= performance.now();
      b.wasm.via = fn;
      return original.apply(this, a).then((r) => { b.wasm.end = performance.now(); return r; });
    };
  }
  addEventListener('TrunkApplicationStarted', () => { b.started = performance.now(); });
  const targets = [['sign-in form', '[data-testid="login"] input[name="username"]'], ['household list', '[data-testid="household"]']];
  const check = () => {
    if (b.visible !== null) return;
    for (const [which, sel] of targets) {
      const el = document.querySelector(sel);
      if (el && !el.disabled) { b.visible = performance.now(); b.which = which; observer.disconnect(); return; }
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, attributes: true });
};

/** Waits for the screen, then for a quiet 500 ms; returns the page's figures (ms from the navigation's start). */
async function interactive(page) {
  await page.waitForFunction(() => window.__bench && window.__bench.visible !== null, null, { timeout: 180_000, polling: 100 });
  await page.waitForFunction(() => {
    const b = window.__bench;
    const lastEnd = Math.max(b.visible, ...b.longtasks.map((t) => t[1]));
    return performance.now() - lastEnd > 1000;
  }, null, { timeout: 120_000, polling: 200 });
  return page.evaluate(() => {
    const b = window.__bench;
    let tti = b.visible;
    const tasks = [...b.longtasks].sort((x, y) => x[0] - y[0]);
    for (let moved = true; moved;) {
      moved = false;
      for (const [s, e] of tasks) if (e > tti && s < tti + 500) { tti = e; moved = true; }
    }
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const end = (re) => Math.max(0, ...res.filter((r) => re.test(r.name)).map((r) => r.responseEnd));
    const busy = b.longtasks.filter(([s]) => s < tti).reduce((n, [s, e]) => n + (e - s), 0);
    return { tti, markAt: b.markAt, visible: b.visible, which: b.which, html: nav ? nav.responseEnd : null, js: end(/\.js$/), wasm: end(/\.wasm$/),
      css: end(/\.css$/), instantiateStart: b.wasm.start ?? null, instantiateEnd: b.wasm.end ?? null, started: b.started ?? null,
      longTaskMs: busy, longTasks: b.longtasks.filter(([s]) => s < tti).length,
      fromServiceWorker: nav ? nav.workerStart > 0 : false };
  });
}

/** Main-thread time by kind (CDP Performance metrics), in ms. */
async function mainThread(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { task: m.TaskDuration * 1000, script: m.ScriptDuration * 1000, layout: m.LayoutDuration * 1000,
    style: m.RecalcStyleDuration * 1000 };
}

async function checkInput(page, which) {
  if (which === 'sign-in form') {
    await page.locator('[data-testid="login"] input[name="username"]').fill('thu-nhap');
    return (await page.locator('[data-testid="login"] input[name="username"]').inputValue()) === 'thu-nhap';
  }
  await page.getByTestId('household-search').fill('lo');
  return (await page.getByTestId('household-search').inputValue()) === 'lo';
}

const server = await startServer({ bin, dist });
const browser = await launchBrowser();
const cold = [];
const warmSignIn = [];
const warmList = [];
const firstWarm = {};
let coldBytes = null;
let profile = null;
let precache = null;
try {
  await server.createUser(OFFICER);
  await seed(server, HOUSEHOLDS);

  // ---- (b) cold: a new profile, nothing cached, over Regular 2G with the CPU slowed 4×
  for (let round = 0; round < ROUNDS; round++) {
    const context = await browser.newContext();
    await context.addInitScript(INSTRUMENT);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const meter = new NetMeter(cdp);
    await meter.enable();
    await cdp.send('Performance.enable');
    await emulate(cdp, REGULAR_2G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    meter.start();
    await page.goto(server.url, { waitUntil: 'commit' });
    const r = await interactive(page);
    r.main = await mainThread(cdp);
    meter.stop();
    r.accepts = await checkInput(page, r.which);
    r.bytes = meter.totals();
    r.requests = meter.list().map((q) => ({ path: q.path, down: q.down, end: q.end, start: q.start }));
    cold.push(r);
    console.log(`cold ${round + 1}: ${r.which} interactive at ${fmt(r.tti)} ms, ${kb(r.bytes.down)} received`);
    if (round === 0) {
      coldBytes = r.bytes;
      // the service worker then fetches its precache list: more bytes a first visit costs
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 300_000 });
      const worker = context.serviceWorkers()[0];
      precache = worker ? await worker.evaluate(() => performance.getEntriesByType('resource')
        .map((e) => ({ name: new URL(e.name).pathname, transfer: e.transferSize, body: e.encodedBodySize }))) : null;
    }
    await context.close();
  }

  // ---- (c) warm: the service worker's cache, no network, CPU 4×: the sign-in form, then signed in
  {
    const context = await browser.newContext();
    await context.addInitScript(INSTRUMENT);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 120_000 });
    await page.getByTestId('login').waitFor();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    for (let round = 0; round < ROUNDS + 1; round++) {
      await emulate(cdp, OFFLINE);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
      await page.reload({ waitUntil: 'commit' });
      const r = await interactive(page);
      r.main = await mainThread(cdp); // the metrics start again with each document
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      r.accepts = await checkInput(page, r.which);
      // the first reload warms V8's code cache for the wasm, as a second visit would: it is not counted
      if (round > 0) warmSignIn.push(r); else firstWarm.signIn = r.tti;
      console.log(`warm (sign-in) ${round}: ${r.which} interactive at ${fmt(r.tti)} ms${round === 0 ? ' (first, not counted)' : ''}`);
    }
    await emulate(cdp, { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    // signed in, the commune's list on the device: what an officer opens every morning
    await openList(page);
    for (let round = 0; round < ROUNDS + 1; round++) {
      await emulate(cdp, OFFLINE);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
      await page.reload({ waitUntil: 'commit' });
      const r = await interactive(page);
      r.main = await mainThread(cdp); // the metrics start again with each document
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      r.accepts = await checkInput(page, r.which);
      if (round > 0) warmList.push(r); else firstWarm.list = r.tti;
      console.log(`warm (list) ${round}: ${r.which} interactive at ${fmt(r.tti)} ms${round === 0 ? ' (first, not counted)' : ''}`);
    }
    await context.close();
  }

  profile = await profileWarmList();
} finally {
  await browser.close();
  await server.stop();
}

// ---- the wasm's size by crate
const sizeProfile = twiggyProfile();

// ---- the fragment
const pick = (rs, k) => median(rs.map((r) => r[k]));
const phaseRow = (label, rs) => {
  const m = (k) => { const v = pick(rs, k); return v ? fmt(v) : '–'; };
  return [label, m('html'), m('css'), m('js'), m('wasm'), m('instantiateStart'), m('instantiateEnd'), m('started'), m('visible'), `**${fmt(pick(rs, 'tti'))}**`,
    fmt(median(rs.map((r) => r.main.script))), fmt(median(rs.map((r) => r.main.task))), rs.every((r) => r.accepts) ? 'yes' : 'NO'];
};
const coldTti = pick(cold, 'tti');
const warmTti = pick(warmList, 'tti');
const warmSignInTti = pick(warmSignIn, 'tti');
const precacheBytes = precache ? precache.reduce((n, e) => n + e.transfer, 0) : null;
const verdict = (met, text) => (met ? `**met**: ${text}` : `**missed**: ${text}`);
const lines = [
  '## First load (`10-first-load`)',
  '',
  `\`node bench/first-load.mjs${args.quick ? ' --quick' : ''}\`: the release build in \`dist/\` served by the real server ` +
  `(\`target/server/thidua-server\`), headless Chromium ${await browserVersion()}; network "Regular 2G" (250 kbps down, ` +
  `50 kbps up, 300 ms round trip, CDP \`Network.emulateNetworkConditions\`), CPU slowed ${CPU_SLOWDOWN}× ` +
  `(\`Emulation.setCPUThrottlingRate\`); median of ${ROUNDS} load${ROUNDS > 1 ? 's' : ''} each.`,
  '',
  '**Time to interactive** = from the navigation\'s start until the first screen is in the page (the sign-in form\'s ' +
  'user-name field, or signed in, the first row of the household list) and the main thread is free: the end of the last ' +
  'long task (> 50 ms) before a quiet 500 ms. Each load is then checked by typing into that screen.',
  '',
  '### Bytes of the app shell (brotli, quality 11, as the server sends them)',
  '',
  table(['file', 'raw', 'gzip', 'brotli'], [...shell.map((f) => [f.name, kb(f.raw), kb(f.gzip), kb(f.br)]),
    ['**shell (html + js + wasm + css)**', kb(shell.reduce((n, f) => n + f.raw, 0)), kb(shell.reduce((n, f) => n + f.gzip, 0)), `**${kb(shellBr)}**`]]),
  '',
  `Received over the wire on a cold load (CDP \`loadingFinished.encodedDataLength\`, headers included, the manifest and icon too): ` +
  `${kb(coldBytes.down)} in ${coldBytes.count} requests; then the service worker's precache (the shell again for its cache, ` +
  `served from the HTTP cache where the name is hashed): ${precacheBytes === null ? 'not measured' : `${kb(precacheBytes)} more over the network`}.`,
  '',
  `Goal, at most 150 KB: ${verdict(shellBr <= BUDGET_BYTES, `${kb(shellBr)}, ${shellBr <= BUDGET_BYTES ? 'within' : `${(shellBr / BUDGET_BYTES).toFixed(2)}× the budget, ${kb(shellBr - BUDGET_BYTES)} over`}`)}. ` +
  `The wasm alone is ${kb(wasmShell.br)} (${((wasmShell.br / shellBr) * 100).toFixed(0)}% of the shell).`,
  '',
  '### Time to interactive (ms from the navigation\'s start)',
  '',
  table(['load', 'HTML in', 'CSS in', 'JS in', 'wasm in', 'wasm instantiation starts', 'wasm compiled', 'app started', 'screen shown', 'interactive', 'script ms', 'main-thread ms', 'takes input'], [
    phaseRow('cold, Regular 2G, CPU 4× → sign-in form', cold),
    phaseRow('warm, service-worker cache, offline, CPU 4× → sign-in form', warmSignIn),
    phaseRow(`warm, service-worker cache, offline, CPU 4× → list of ${fmt(HOUSEHOLDS)} households`, warmList),
  ]),
  '',
  '"wasm compiled" is when `WebAssembly.instantiateStreaming` resolved (download and compilation overlap); "app started" when ' +
  'trunk\'s loader finished (the Rust `main` ran and mounted the first view); "screen shown" when the screen was in the page ' +
  '(the app\'s start-up then opened IndexedDB, the session and, signed in, read the commune\'s households). Script and main-thread ms: ' +
  'CDP `Performance.getMetrics` (ScriptDuration, TaskDuration) over the load, at the slowed CPU. The first warm reload of each ' +
  `kind is not counted (it fills V8's code cache for the wasm from the service worker's copy, as the first visit does): ` +
  `${fmt(firstWarm.signIn)} ms to the sign-in form, ${fmt(firstWarm.list)} ms to the list.`,
  '',
  `Goal, interactive within 1 s from the service worker's cache with no network: ${verdict(warmTti <= BUDGET_MS,
    `${fmt(warmTti)} ms signed in with the list of ${fmt(HOUSEHOLDS)} households${warmTti <= BUDGET_MS ? '' : ` (${(warmTti / BUDGET_MS).toFixed(2)}× the budget)`}`)}; ` +
  `the sign-in form ${fmt(warmSignInTti)} ms. Cold over Regular 2G (no goal in the issue; for reference): ${fmt(coldTti)} ms.`,
  '',
  holdsBackTime(),
  '',
  profile,
  '',
  '### What holds the size back (twiggy)',
  '',
  sizeProfile,
];
writeFragment(args.out, lines.join('\n'));

function holdsBackTime() {
  const w = warmList;
  const parts = [];
  const compile = median(w.map((r) => (r.instantiateEnd ?? 0) - (r.instantiateStart ?? 0)));
  const startup = median(w.map((r) => (r.started ?? 0) - (r.instantiateEnd ?? 0)));
  const toScreen = median(w.map((r) => r.visible - (r.started ?? r.visible)));
  const toIdle = median(w.map((r) => r.tti - r.visible));
  const html = median(w.map((r) => r.html ?? 0));
  const fetches = median(w.map((r) => (r.instantiateStart ?? 0) - (r.html ?? 0)));
  parts.push(`Where the warm start's ${fmt(median(w.map((r) => r.tti)))} ms go (medians, CPU 4×): the HTML from the service worker ${fmt(html)} ms; ` +
    `the CSS and the JS glue from the service worker (in at ${fmt(median(w.map((r) => r.js)))} ms) and running the glue until the ` +
    `wasm's instantiation starts ${fmt(fetches)} ms; fetching and compiling the ` +
    `${kb(wasmShell.raw)} wasm from the cache ${fmt(compile)} ms; the Rust \`main\` and the first view ${fmt(startup)} ms; ` +
    `start-up to the list on screen (IndexedDB, session, units, the commune's ${fmt(HOUSEHOLDS)} households read and their first rows drawn) ${fmt(toScreen)} ms; ` +
    `then long tasks until the page is free ${fmt(toIdle)} ms. Long tasks before interactive: ` +
    `${fmt(median(w.map((r) => r.longTaskMs)))} ms in ${fmt(median(w.map((r) => r.longTasks)))} task(s); of ` +
    `${fmt(median(w.map((r) => r.main.task)))} ms on the main thread, script ${fmt(median(w.map((r) => r.main.script)))} ms, ` +
    `layout ${fmt(median(w.map((r) => r.main.layout)))} ms, style ${fmt(median(w.map((r) => r.main.style)))} ms.`);
  const c = cold;
  parts.push(`Cold over 2G the link decides: the wasm's last byte arrives at ${fmt(median(c.map((r) => r.wasm)))} ms ` +
    `(${kb(wasmShell.br)} at 250 kbps is ${fmt((wasmShell.br * 8) / 250)} ms by itself).`);
  return parts.join(' ');
}

function twiggyProfile() {
  // the wasm as wasm-bindgen writes it, before wasm-opt strips the names (see namedWasm)
  const named = namedWasm(dist);
  if (!named) return 'twiggy: no named wasm of this build found (target/wasm-bindgen/release or cargo\'s output); run `trunk build --release` first.';
  let items;
  try {
    items = JSON.parse(execFileSync('twiggy', ['top', '-f', 'json', named], { maxBuffer: 1 << 28 }).toString());
  } catch (e) {
    return `twiggy could not run (\`cargo install twiggy\`): ${String(e.message).split('\n')[0]}`;
  }
  items = items.filter((i) => !i.name.includes('thidua_app::bench::')); // none in the shipped build
  const custom = items.filter((i) => /subsection|custom section|"producers"|name section/.test(i.name));
  const code = items.filter((i) => !custom.includes(i));
  const codeBytes = code.reduce((n, i) => n + i.shallow_size, 0);
  const crates = new Map();
  for (const i of code) {
    let crate;
    if (/^data segment/.test(i.name)) crate = 'data (.rodata: strings, tables, the translations)';
    else if (/^(import|export|type|table|elem|global|memory|wasm magic|code section|"?\w+"? section)/i.test(i.name) || /^(code|data|type|import|export)\[/.test(i.name)) crate = 'wasm structure (imports, exports, tables, headers)';
    else crate = crateOf(i.name);
    crates.set(crate, (crates.get(crate) || 0) + i.shallow_size);
  }
  const ranked = [...crates.entries()].sort((a, b) => b[1] - a[1]);
  const shown = ranked.slice(0, 12);
  const rest = ranked.slice(12).reduce((n, [, s]) => n + s, 0);
  const wasmBr = wasmShell.br;
  const rows = shown.map(([c, s]) => [c, kb(s), `${((s / codeBytes) * 100).toFixed(1)}%`, `≈ ${kb((s / codeBytes) * wasmBr)}`]);
  if (rest) rows.push([`${ranked.length - 12} other crates`, kb(rest), `${((rest / codeBytes) * 100).toFixed(1)}%`, `≈ ${kb((rest / codeBytes) * wasmBr)}`]);
  const top = code.filter((i) => !/^data segment/.test(i.name)).slice(0, 10)
    .map((i) => [`\`${i.name.replace(/::h[0-9a-f]{16}$/, '').replace(/\|/g, '\\|').slice(0, 110)}\``, kb(i.shallow_size)]);
  const rodata = code.filter((i) => /^data segment/.test(i.name)).reduce((n, i) => n + i.shallow_size, 0);
  return [
    `\`twiggy top\` on this build's wasm as wasm-bindgen writes it, names kept (\`${named.replace(`${ROOT}/`, '')}\`) ` +
    `(${kb(codeBytes)} of code and data without the name section; wasm-opt -Oz then makes it ${kb(wasmShell.raw)}, ${kb(wasmBr)} brotli). ` +
    'Items are grouped by the first crate in their name (a generic function counts for the crate that defines it, e.g. a ' +
    'Leptos view instantiated for an app component counts as Leptos); the last column spreads the shipped brotli size in proportion, ' +
    'an estimate, since wasm-opt and brotli shrink code unevenly.',
    '',
    table(['crate', 'bytes before wasm-opt', 'share', 'share of the shipped brotli'], rows),
    '',
    `The largest single items (before wasm-opt; data segments ${kb(rodata)} in all):`,
    '',
    table(['item', 'bytes'], top),
    '',
    `The budget is 150 KB brotli for the whole shell, the wasm alone is ${kb(wasmBr)}: ` +
    `${ranked.slice(0, 4).map(([c, s]) => `${c} ≈ ${kb((s / codeBytes) * wasmBr)}`).join(', ')}. ` +
    'No one crate holds it back: the view code of every screen (Leptos\' generic views are monomorphised per component), ' +
    'serde\'s per-type (de)serialisers and the translations all count, so meeting 150 KB means loading screens on demand ' +
    '(split wasm) or far fewer generic instantiations, not one trim.',
  ].join('\n');
}

async function browserVersion() {
  const b = await launchBrowser();
  const v = b.version();
  await b.close();
  return v;
}

/** The commune's households put on the server through the sync API, so the device pulls them at sign-in. */
async function seed(server, n) {
  const token = await server.login(OFFICER);
  const device = uuidOf(1, 0xde);
  const list = households(n, 4242);
  for (let i = 0; i < n; i += 200) {
    const mutations = list.slice(i, i + 200).map((fields, j) => ({
      id: uuidOf(1_000_000 + i + j, 2),
      device,
      record: { id: uuidOf(2_000_000 + i + j, 3), data_set: 'household', org_unit: COMMUNE, period: PERIOD, fields, revision: 0, deleted: false },
      base_revision: 0,
      changed: Object.keys(fields),
    }));
    const res = await server.api('POST', '/api/sync/push', token, { protocol: 1, device, mutations });
    const bad = res.results.filter((r) => !('applied' in r.outcome));
    if (bad.length) throw new Error(`seeding: ${JSON.stringify(bad[0])}`);
  }
}

/** Copies the build to `to` (replacing what was there) and returns `to`. */
function snapshot(from, to) {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, preserveTimestamps: true });
  return to;
}

async function openList(page) {
  await signIn(page, OFFICER);
  await page.getByTestId('sync-badge').waitFor({ timeout: 120_000 });
  await page.getByTestId('year').selectOption(PERIOD);
  await page.getByTestId('commune-search').fill('chieng le');
  await page.getByRole('button', { name: 'Phường Chiềng Lề' }).click();
  await page.getByTestId('household').first().waitFor({ timeout: 120_000 });
  await page.waitForFunction((n) => document.querySelector('[data-testid="household-count"]')?.textContent.includes(n),
    fmt(HOUSEHOLDS).replace(/,/g, '.'), { timeout: 120_000 }).catch(() => {});
}

/** A CPU profile of the warm start to the list, on the same build with its wasm's names kept. */
async function profileWarmList() {
  const named = namedDist(dist, join(BENCH_DIR, 'dist-named'));
  if (!named) {
    return 'No function-level profile: target/wasm-bindgen/release holds another build than dist/ ' +
      '(run `trunk build --release`, then this script, to have one).';
  }
  const other = await startServer({ bin, dist: named });
  try {
    await other.createUser(OFFICER);
    await seed(other, HOUSEHOLDS);
    const context = await browser.newContext();
    await context.addInitScript(INSTRUMENT, { marker: true });
    const page = await context.newPage();
    await page.goto(other.url);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 120_000 });
    await page.getByTestId('login').waitFor();
    await openList(page);
    const cdp = await context.newCDPSession(page);
    await emulate(cdp, OFFLINE);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    await page.reload({ waitUntil: 'commit' }); // fills the code cache, as in the measured runs
    await interactive(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
    await page.reload({ waitUntil: 'commit' });
    const r = await interactive(page);
    const { profile: cpu } = await cdp.send('Profiler.stop');
    // and a Chrome trace of one more, for what the browser itself does (layout, style, IndexedDB)
    await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute',
      'blink', 'blink.user_timing', 'loading', 'IndexedDB', 'disabled-by-default-v8.compile'] });
    await page.reload({ waitUntil: 'commit' });
    const traced = await interactive(page);
    const trace = traceSummary(await browser.stopTracing(), { toMs: traced.tti });
    await context.close();
    const summary = profileSummary(cpu, { marker: { name: '__bench_navigation_start', at: r.markAt }, from: 0, to: r.tti });
    if (!summary.windowed) console.log('the profile\'s navigation mark was not sampled: the whole recording is summarised');
    const kindMs = (re) => summary.kinds.filter(([k]) => re.test(k)).reduce((n, [, ms]) => n + ms, 0);
    const fnMs = (re) => summary.functions.filter(([f]) => re.test(f)).reduce((n, [, ms]) => n + ms, 0);
    const listPrep = fnMs(/search_key|fold_diacritics|SplitWhitespace|from_fields|quicksort|totals_of|classification|households_of/);
    const verdictLine = `In short, what holds the signed-in start back: the page's thread waiting (idle: on the service worker's answers and IndexedDB's reads) ` +
      `${fmt(kindMs(/^idle/))} ms, the browser's native work on the page's thread (the records' structured-clone ` +
      `deserialisation, paint, layout, the loader: the trace splits it) ${fmt(kindMs(/^browser \(native/))} ms, the JS glue and built-ins converting the ` +
      `records for the wasm ${fmt(kindMs(/glue|built-ins/))} ms, and the app preparing the whole list before drawing 50 rows ` +
      `(search keys with diacritics folded, \`Household::from_fields\` and the sort for all ${fmt(HOUSEHOLDS)} households) ` +
      `${fmt(listPrep)} ms of Rust self time, plus ${fmt(fnMs(/dlmalloc/))} ms in the allocator.`;
    const app = summary.functions.filter(([f]) => f.startsWith('thidua_app::') || f.startsWith('thidua_domain::')).slice(0, 8)
      .map(([f, ms]) => `\`${f.slice(0, 100)}\` ${ms.toFixed(0)} ms`).join(', ');
    return `Profile of the warm start to the list (CDP Profiler, sampled every 0.5 ms, CPU 4×, offline, ` +
      `${summary.windowed ? 'the samples from the navigation\'s start to interactive' : 'the whole recording, to a quiet second after interactive'}), on the same build with the ` +
      `wasm as wasm-bindgen wrote it so the Rust functions keep their names (not size-optimised: it was interactive at ${fmt(r.tti)} ms ` +
      `there). Self time by kind: ${profileLine(summary, 10)}. The app's and the domain's own functions: ${app || 'none sampled'}.` +
      (trace ? ` A Chrome trace of one more such start (interactive at ${fmt(traced.tti)} ms with tracing on): ` +
        `${trace.windowed ? 'from the navigation\'s start to interactive' : 'over the whole trace'} the page's main thread was busy ${fmt(trace.busy)} ms; self time by event: ${trace.byName.slice(0, 10).map(([n, ms]) => `${n} ${fmt(ms)} ms`).join(', ')}; ` +
        `IndexedDB on the browser's side: ${fmt(trace.idbMs)} ms in ${fmt(trace.idbEvents)} traced events (off the page's thread, ` +
        'but the start-up awaits each read).' : '') + `\n\n${verdictLine}`;
  } finally {
    await other.stop();
  }
}

// Sync: N households from one device to an empty server over emulated "Regular 2G" (250 kbps down,
// 50 kbps up, 300 ms round trip), against the physical bound of the bytes it sent; beside it PouchDB in
// the same browser replicating the same records to pouchdb-server over the same emulated link.
//
//   node bench/sync.mjs [--out FILE] [--quick] [--records N] [--skip-pouchdb] [--dump requests.json]
//
// Ours: the real server (fresh SQLite), an officer signed in through the app (the bench build: the
// release build with the cargo feature `bench`), N households saved on the device while offline
// through the officer's save path (src/bench.rs → households::save_household, one Store::edit each),
// then the link comes back as Regular 2G and the app's own sync loop runs (the `online` event wakes it):
// pushes of 200 gzip-compressed by the browser, then pulls. Measured from CDP's Network events
// (bytes as they crossed the emulated link, up and down, each request's start and end) and the page
// (when the badge says everything is sent). The bound = bytes up ÷ 50 kbps + bytes down ÷ 250 kbps +
// requests × 300 ms: what the link alone needs for the requests made, one after another.
// PouchDB: pouchdb 9 (its browser build, IndexedDB adapter) holding the same N records (as documents:
// the record's fields and identity, `_id` = record id), `replicate.to` pouchdb-server (npm, in memory)
// with its defaults (batches of 100); the page is served from pouchdb-server's own origin, so no CORS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  COMMUNE, NO_THROTTLE, OFFICER, OFFLINE, PERIOD, REGULAR_2G, ROOT, NetMeter, emulate, ensureBenchDist, ensureServer,
  fmt, households, kb, launchBrowser, parseArgs, signIn, startPouchServer, startServer, table, writeFragment,
} from './lib.mjs';

const args = parseArgs();
const N = Number(args.records || (args.quick ? 1_000 : 10_000));
const UP = REGULAR_2G.uploadThroughput; // bytes per second
const DOWN = REGULAR_2G.downloadThroughput;
const RTT = REGULAR_2G.latency / 1000;

const bin = ensureServer();
const dist = ensureBenchDist();
const server = await startServer({ bin, dist });
const browser = await launchBrowser();
let ours;
let pouch = null;
let records;
try {
  await server.createUser(OFFICER);
  ({ ours, records } = await runOurs());
  if (!args.skipPouchdb) pouch = await runPouch(records);
} finally {
  await browser.close();
  await server.stop();
}
report();

async function runOurs() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 120_000 });
  await signIn(page, OFFICER);
  await page.getByTestId('sync-badge').waitFor({ timeout: 120_000 });
  await page.getByTestId('last-sync').filter({ hasText: 'Đồng bộ lúc' }).waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_save_households, null, { timeout: 60_000 });
  const db = await page.evaluate(() => `thidua-${JSON.parse(localStorage.getItem('thidua.session')).user.id}`);

  const cdp = await context.newCDPSession(page);
  const meter = new NetMeter(cdp);
  await meter.enable();
  await emulate(cdp, OFFLINE);
  await page.getByTestId('online').filter({ hasText: /Mất kết nối|Ngoại tuyến|offline/i }).waitFor({ timeout: 10_000 }).catch(() => {});

  console.log(`saving ${fmt(N)} households on the device (offline), one officer save each…`);
  const list = households(N, 10_000);
  const saved = JSON.parse(await page.evaluate(([db, c, p, json]) => wasmBindings.bench_save_households(db, c, p, json),
    [db, COMMUNE, PERIOD, JSON.stringify(list)]));
  const waiting = await page.evaluate((db) => wasmBindings.bench_outbox_len(db), db);
  if (waiting !== N) throw new Error(`outbox holds ${waiting}, expected ${N}`);
  const exported = JSON.parse(await page.evaluate(([db, c]) => wasmBindings.bench_export_records(db, c), [db, COMMUNE]));
  console.log(`saved in ${fmt(saved.ms)} ms; ${fmt(waiting)} changes wait. The link comes back as Regular 2G.`);

  meter.start();
  const t0 = Date.now();
  await emulate(cdp, REGULAR_2G);
  // the `online` event wakes the sync loop; if the browser sent none, the officer's button does
  await page.waitForTimeout(3000);
  if (meter.list((r) => r.path === '/api/sync/push').length === 0) {
    console.log('no push after 3 s: pressing "Đồng bộ ngay"');
    await page.getByTestId('sync-now').click();
  }
  let lastLog = 0;
  for (;;) {
    const pushes = meter.list((r) => r.path === '/api/sync/push' && r.end !== null);
    const done = await page.evaluate(() => {
      const pending = document.querySelector('[data-testid="pending"]')?.textContent || '';
      const button = document.querySelector('[data-testid="sync-now"]');
      return pending.includes('Đã gửi hết') && button && !button.disabled;
    });
    if (done) break;
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      console.log(`  ${fmt((Date.now() - t0) / 1000)} s: ${pushes.length} pushes answered, ${meter.list().length} requests`);
    }
    if (Date.now() - t0 > 3_600_000) throw new Error('sync did not finish within an hour');
    await page.waitForTimeout(250);
  }
  const wall = (Date.now() - t0) / 1000;
  // the requests still in flight when the badge turned (none expected) are let finish
  await page.waitForTimeout(500);
  meter.stop();
  await emulate(cdp, NO_THROTTLE);
  const left = await page.evaluate((db) => wasmBindings.bench_outbox_len(db), db);
  const serverCount = await countOnServer();
  const requests = meter.list();
  await context.close();
  return { ours: { saved, wall, requests, left, serverCount }, records: exported };
}

/** How many households the server holds for the commune (pulled in pages as the administrator would). */
async function countOnServer() {
  const token = await server.login(OFFICER);
  let cursor = null;
  let count = 0;
  for (;;) {
    const page = await server.api('POST', '/api/sync/pull', token, { protocol: 1, limit: 500, cursor, org_unit: COMMUNE });
    count += page.records.filter((r) => r.data_set === 'household').length;
    cursor = page.next_cursor;
    if (!page.has_more) return count;
  }
}

async function runPouch(recs) {
  const ps = await startPouchServer();
  try {
    const res = await fetch(`${ps.url}/bench`, { method: 'PUT' });
    if (!res.ok) throw new Error(`pouchdb-server: create database: ${res.status}`);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    // the page and PouchDB's browser build from the test, on pouchdb-server's origin; then no more routing
    await page.route(`${ps.url}/__bench/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path.endsWith('.js')) return route.fulfill({ path: join(ROOT, 'bench/node_modules/pouchdb/dist/pouchdb.min.js'), contentType: 'text/javascript' });
      return route.fulfill({ body: '<!doctype html><meta charset="utf-8"><title>PouchDB</title><script src="/__bench/pouchdb.min.js"></script>', contentType: 'text/html' });
    });
    await page.goto(`${ps.url}/__bench/index.html`);
    await page.waitForFunction(() => typeof PouchDB === 'function');
    await page.unrouteAll({ behavior: 'wait' });
    const version = await page.evaluate(() => PouchDB.version);
    const docs = recs.map(({ id, ...rest }) => ({ _id: id, ...rest }));
    console.log(`PouchDB ${version}: putting the same ${fmt(docs.length)} records in its IndexedDB…`);
    const filled = await page.evaluate(async (docs) => {
      const db = new PouchDB('bench-local');
      const t = performance.now();
      for (let i = 0; i < docs.length; i += 1000) await db.bulkDocs(docs.slice(i, i + 1000));
      const ms = performance.now() - t;
      window.__local = db;
      return { ms, count: (await db.info()).doc_count };
    }, docs);
    if (filled.count !== docs.length) throw new Error(`PouchDB holds ${filled.count} documents, expected ${docs.length}`);

    const cdp = await context.newCDPSession(page);
    const meter = new NetMeter(cdp);
    await meter.enable();
    meter.start();
    await emulate(cdp, REGULAR_2G);
    console.log('PouchDB replicating over Regular 2G…');
    const t0 = Date.now();
    const ticker = setInterval(() => console.log(`  ${fmt((Date.now() - t0) / 1000)} s: ${meter.list().length} requests`), 30_000);
    let result;
    try {
      result = await page.evaluate(async (url) => {
        const t = performance.now();
        const r = await window.__local.replicate.to(url);
        return { ms: performance.now() - t, docs_written: r.docs_written, ok: r.ok, errors: r.errors.length };
      }, `${ps.url}/bench`);
    } finally {
      clearInterval(ticker);
    }
    const wall = (Date.now() - t0) / 1000;
    meter.stop();
    await emulate(cdp, NO_THROTTLE);
    const info = await (await fetch(`${ps.url}/bench`)).json();
    const requests = meter.list();
    await context.close();
    return { version, filled, result, wall, requests, serverCount: info.doc_count };
  } finally {
    await ps.stop();
  }
}

function phase(requests, filter = () => true) {
  const list = requests.filter(filter).filter((r) => r.end !== null);
  const up = list.reduce((n, r) => n + r.upHeaders + r.upBody, 0);
  const upBody = list.reduce((n, r) => n + r.upBody, 0);
  const down = list.reduce((n, r) => n + r.down, 0);
  const start = Math.min(...list.map((r) => r.start));
  const end = Math.max(...list.map((r) => r.end));
  const bound = up / UP + down / DOWN + list.length * RTT;
  // time between one answer's end and the next request: the device working (JSON, gzip, IndexedDB)
  const sorted = [...list].sort((a, b) => a.start - b.start);
  let gaps = 0;
  for (let i = 1; i < sorted.length; i++) gaps += Math.max(0, sorted[i].start - sorted[i - 1].end);
  return { count: list.length, up, upBody, down, seconds: list.length ? end - start : 0, start, end, bound, gaps,
    wire: up / UP + down / DOWN, latency: list.length * RTT };
}

function report() {
  if (args.dump) {
    writeFileSync(args.dump, JSON.stringify({ ours: ours.requests, pouch: pouch && pouch.requests }, null, 1));
    console.log(`requests written to ${args.dump}`);
  }
  const reqs = ours.requests;
  const firstPull = reqs.filter((r) => r.path === '/api/sync/pull').sort((a, b) => a.start - b.start)
    .find((r) => r.start > Math.max(...reqs.filter((q) => q.path === '/api/sync/push').map((q) => q.start)));
  const pushes = phase(reqs, (r) => r.path === '/api/sync/push');
  const whole = phase(reqs);
  // the outbox is empty when the last push's answer is applied, i.e. when sync goes on to pull
  const pushSeconds = (firstPull ? firstPull.start : pushes.end) - whole.start;
  const pushPhase = phase(reqs, (r) => r.start < (firstPull ? firstPull.start : Infinity));
  const pulls = phase(reqs, (r) => r.path === '/api/sync/pull');
  const others = phase(reqs, (r) => r.path !== '/api/sync/push' && r.path !== '/api/sync/pull');
  const all = JSON.stringify(records);
  const ideal = gzipSync(Buffer.from(all), { level: 9 }).length;
  const idealBound = ideal / UP + RTT;
  const ratioPush = pushSeconds / pushPhase.bound;
  const ratioWhole = whole.seconds / whole.bound;

  const rows = [
    ['push: the outbox sent, until it is empty', fmt(pushPhase.count), kb(pushPhase.up), kb(pushPhase.down), fmt(pushSeconds, 1),
      fmt(pushPhase.bound, 1), `${ratioPush.toFixed(2)}×`],
    ['whole sync (push, then pull, units list)', fmt(whole.count), kb(whole.up), kb(whole.down), fmt(whole.seconds, 1),
      fmt(whole.bound, 1), `${ratioWhole.toFixed(2)}×`],
  ];
  const lines = [
    '## Sync over Regular 2G, against the bound and PouchDB (`30-sync`)',
    '',
    `\`node bench/sync.mjs${args.quick ? ' --quick' : ''}\`: ${fmt(N)} households made on one device (offline, each through the ` +
    `officer's save path: ${fmt(ours.saved.ms)} ms for all, ${fmt(N / (ours.saved.ms / 1000))} saves/s), then the link comes back as ` +
    'Regular 2G (CDP `Network.emulateNetworkConditions`: 250 kbps down, 50 kbps up, 300 ms latency per request) and the app\'s ' +
    'own sync loop sends them to the real server with an empty SQLite database. Bytes are what crossed the emulated link ' +
    '(request line, headers and body up — the push bodies gzip-compressed by the browser; `encodedDataLength` down, headers ' +
    'included). Bound = bytes up ÷ 50 kbps + bytes down ÷ 250 kbps + requests × 300 ms.',
    '',
    table(['phase', 'requests', 'up', 'down', 'seconds', 'bound s', 'time ÷ bound'], rows),
    '',
    `After the run the device's outbox held ${fmt(ours.left)} changes and the server ${fmt(ours.serverCount)} households ` +
    `(${ours.serverCount === N ? 'all of them' : `expected ${fmt(N)}`}). The data itself, the ${fmt(N)} records as one gzip ` +
    `stream, is ${kb(ideal)}: sent in one request it would need ${fmt(idealBound, 1)} s; the pushes sent ${kb(pushes.upBody)} of ` +
    `gzip bodies (${(pushes.upBody / ideal).toFixed(2)}× that: each mutation carries its record, the fields it changed and its ids) ` +
    `in ${pushes.count} requests of 200.`,
    '',
    `Goal, within 1.3× of the bound: ${ratioPush <= 1.3 ? '**met**' : '**missed**'} for the push (${ratioPush.toFixed(2)}×` +
    `${ratioPush <= 1.3 ? '' : `, ${fmt(pushSeconds - 1.3 * pushPhase.bound, 1)} s over 1.3× the bound`}); ` +
    `${ratioWhole <= 1.3 ? '**met**' : '**missed**'} for the whole sync (${ratioWhole.toFixed(2)}×).`,
    '',
    whereTime('push', pushPhase, pushSeconds),
    '',
    whereTime('whole sync', whole, whole.seconds),
    '',
    `Bytes down by kind: push answers ${kb(pushes.down)} (${(pushes.down / pushes.upBody).toFixed(2)}× the push bodies: each ` +
    'result carries the whole record as the server stored it, `MutationResult.record`), pulls ' +
    `${kb(pulls.down)} in ${pulls.count} requests (the pull after the push brings the same ${fmt(N)} records back, since a pull ` +
    `does not leave out the device's own changes), other requests ${kb(others.down)} in ${others.count}. These echoes cost ` +
    `${fmt((pushes.down + pulls.down) / DOWN, 1)} s of the link at 250 kbps; the bound above counts them, the data's own bound ` +
    `(${fmt(idealBound, 1)} s) does not: the whole sync takes ${(whole.seconds / idealBound).toFixed(1)}× that.`,
  ];
  if (pouch) {
    const p = phase(pouch.requests);
    const byPath = new Map();
    for (const r of pouch.requests) {
      const k = `${r.method} ${r.path.replace(/^\/bench/, '').replace(/\/_local\/.*/, '/_local/…') || '/'}`;
      const e = byPath.get(k) || { n: 0, up: 0, down: 0 };
      e.n++; e.up += r.upHeaders + r.upBody; e.down += r.down;
      byPath.set(k, e);
    }
    const speed = pouch.wall / ours.wall;
    lines.push('',
      `### Beside it: PouchDB ${pouch.version} → pouchdb-server (in memory), the same ${fmt(N)} records, the same link`,
      '',
      table(['', 'requests', 'up', 'down', 'seconds', 'bound s', 'time ÷ bound'], [
        ['Thi Đua, whole sync', fmt(whole.count), kb(whole.up), kb(whole.down), fmt(ours.wall, 1), fmt(whole.bound, 1), `${(ours.wall / whole.bound).toFixed(2)}×`],
        ['PouchDB `replicate.to`', fmt(p.count), kb(p.up), kb(p.down), fmt(pouch.wall, 1), fmt(p.bound, 1), `${(pouch.wall / p.bound).toFixed(2)}×`],
      ]),
      '',
      `Seconds here are from the link coming back until the app's badge says everything is sent (Thi Đua) or \`replicate.to\` ` +
      `resolved (PouchDB, ${pouch.result.docs_written} documents written, ${pouch.result.errors} errors; the server then held ` +
      `${fmt(pouch.serverCount)}). PouchDB's requests: ${[...byPath.entries()].sort((a, b) => b[1].up - a[1].up)
        .map(([k, e]) => `\`${k}\` ×${e.n} (${kb(e.up)} up, ${kb(e.down)} down)`).join(', ')}; its request bodies are plain JSON ` +
      `(${kb(p.upBody)}; pouchdb-server compresses its answers).`,
      '',
      `Goal, at least 3× faster than PouchDB: ${speed >= 3 ? '**met**' : '**missed**'}: PouchDB took ${speed.toFixed(2)}× as long ` +
      `(${fmt(pouch.wall, 1)} s against ${fmt(ours.wall, 1)} s)${speed >= 3 ? '' : `; 3× needs ours at ${fmt(pouch.wall / 3, 1)} s`}.`);
  } else {
    lines.push('', 'PouchDB was not run (`--skip-pouchdb`).');
  }
  writeFragment(args.out, lines.join('\n'));
}

function whereTime(label, ph, seconds) {
  const rest = seconds - ph.wire - ph.latency - ph.gaps;
  const restText = rest >= 0
    ? `and the rest — the server's work inside the requests and the emulation's own overhead — ${fmt(rest, 1)} s`
    : `which adds up to ${fmt(-rest, 1)} s more than was measured: Chrome's emulation overlaps part of each request's 300 ms ` +
      'with its transfer, so the bound is a little above what the emulated link needs, and the server\'s work hides in that overlap';
  return `Where the ${label}'s ${fmt(seconds, 1)} s go: the bytes through the link ${fmt(ph.wire, 1)} s (${fmt(ph.up / 1024, 0)} KB up at ` +
    `50 kbps, ${fmt(ph.down / 1024, 0)} KB down at 250 kbps), the round trips ${fmt(ph.latency, 1)} s (${ph.count} × 300 ms), the device ` +
    `between an answer and its next request (building and gzip-compressing a batch, applying an answer in IndexedDB) ` +
    `${fmt(ph.gaps, 1)} s, ${restText}.`;
}

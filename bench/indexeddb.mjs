// IndexedDB: the app's own storage layer (src/storage, called through the bench build's exports in
// src/bench.rs) against Dexie.js bulkPut/bulkGet of the same records, in the same page of the same
// headless Chromium, rounds alternating which goes first.
//
//   node bench/indexeddb.mjs [--out FILE] [--quick] [--records N] [--edits N] [--rounds N]
//
// The records: N households of one commune as the server sends them. The app writes them as a pull
// page (Store::apply_pull: one read-write transaction for all N, reading each record and outbox entry
// first, as sync does), and also in pages of 200 (what sync really uses: one transaction each); it
// reads them back as the household list does (Store::records_of: the commune index, every record
// deserialised into the app's types). Dexie gets exactly the objects the app stored (read raw from the
// app's database), bulkPut into a store with the same key path and index, then bulkGet by id and
// where(org_unit).toArray(). Per-record edits (Store::edit through the officer's save path, one
// transaction each) are timed on a smaller count, beside Dexie doing the same reads and writes per record.
import { join } from 'node:path';
import {
  BENCH_DIR, COMMUNE, PERIOD, ROOT, namedDist, profileLine, profileSummary, ensureBenchDist, ensureServer, fmt, households, launchBrowser, median, parseArgs,
  serverRecords, startServer, table, writeFragment,
} from './lib.mjs';

const args = parseArgs();
const N = Number(args.records || (args.quick ? 2_000 : 10_000));
const EDITS = Number(args.edits || (args.quick ? 200 : 1_000));
const ROUNDS = Number(args.rounds || (args.quick ? 1 : 3));

const bin = ensureServer();
const dist = ensureBenchDist();
const server = await startServer({ bin, dist });
const browser = await launchBrowser();
const results = { app: [], appPages: [], dexie: [], appEdits: [], dexieEdits: [] };
let profile = null;
try {
  // the app's Content-Security-Policy allows no inline script: bypassed so Dexie can be put in the page
  const page = await (await browser.newContext({ bypassCSP: true })).newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_apply_pull, null, { timeout: 120_000 });
  await page.addScriptTag({ path: join(ROOT, 'bench/node_modules/dexie/dist/dexie.min.js') });
  const version = await page.evaluate(() => Dexie.semVer);
  const records = serverRecords(households(N));
  const editList = households(EDITS, 777);
  await page.evaluate(([recordsJson, editsJson]) => { window.__records = recordsJson; window.__edits = editsJson; },
    [JSON.stringify(records), JSON.stringify(editList)]);

  // helpers in the page: a raw read of what the app stored, and deleting databases between rounds
  await page.evaluate(() => {
    window.rawAll = (name, store) => new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const req = db.transaction(store).objectStore(store).getAll();
        req.onsuccess = () => { db.close(); resolve(req.result); };
        req.onerror = () => reject(req.error);
      };
    });
    window.drop = (name) => new Promise((resolve) => { const r = indexedDB.deleteDatabase(name); r.onsuccess = r.onerror = r.onblocked = () => resolve(); });
  });

  const app = async (round) => {
    const db = `bench-app-${round}`;
    const write = JSON.parse(await page.evaluate(([db, n]) => wasmBindings.bench_apply_pull(db, window.__records, n), [db, N]));
    const read = JSON.parse(await page.evaluate(([db, c]) => wasmBindings.bench_records_of(db, c), [db, COMMUNE]));
    if (read.count !== N) throw new Error(`the app read ${read.count} records, wrote ${N}`);
    if (round === 0) {
      // the objects exactly as the app stored them, for Dexie
      await page.evaluate(async (db) => { window.__stored = await rawAll(db, 'records'); }, db);
    }
    await page.evaluate((db) => drop(db), db);
    const dbPages = `bench-app-pages-${round}`;
    const pages = JSON.parse(await page.evaluate(([db]) => wasmBindings.bench_apply_pull(db, window.__records, 200), [dbPages]));
    await page.evaluate((db) => drop(db), dbPages);
    results.app.push({ write: write.ms, read: read.ms });
    results.appPages.push({ write: pages.ms, transactions: pages.transactions });
  };

  const dexie = async (round) => {
    const r = await page.evaluate(async ([round, commune]) => {
      const db = new Dexie(`bench-dexie-${round}`);
      db.version(1).stores({ records: 'id, org_unit' });
      await db.open();
      const objects = window.__stored;
      const ids = objects.map((o) => o.id);
      let t = performance.now();
      await db.records.bulkPut(objects);
      const write = performance.now() - t;
      t = performance.now();
      const got = await db.records.bulkGet(ids);
      const read = performance.now() - t;
      t = performance.now();
      const byIndex = await db.records.where('org_unit').equals(commune).toArray();
      const readIndex = performance.now() - t;
      if (got.length !== ids.length || got.some((g) => !g) || byIndex.length !== ids.length) throw new Error('Dexie read back a different count');
      db.close();
      await drop(`bench-dexie-${round}`);
      return { write, read, readIndex };
    }, [round, COMMUNE]);
    results.dexie.push(r);
  };

  const edits = async (round) => {
    const db = `bench-edits-${round}`;
    const r = JSON.parse(await page.evaluate(([db, c, p]) => wasmBindings.bench_save_households(db, c, p, window.__edits), [db, COMMUNE, PERIOD]));
    if (round === 0) {
      await page.evaluate(async (db) => {
        window.__editRecords = await rawAll(db, 'records');
        window.__editOutbox = await rawAll(db, 'outbox');
      }, db);
    }
    await page.evaluate((db) => drop(db), db);
    results.appEdits.push(r.ms);
    // Dexie doing what Store::edit does per save: in one read-write transaction over the records,
    // the outbox and the meta, read the record and its outbox entry, then write both and the last id
    const d = await page.evaluate(async (round) => {
      const db = new Dexie(`bench-dexie-edits-${round}`);
      db.version(1).stores({ records: 'id, org_unit', outbox: 'record_id', meta: 'key' });
      await db.open();
      const recs = window.__editRecords;
      const outbox = new Map(window.__editOutbox.map((e) => [e.record_id, e]));
      const t = performance.now();
      for (const rec of recs) {
        await db.transaction('rw', db.records, db.outbox, db.meta, async () => {
          await Promise.all([db.records.get(rec.id), db.outbox.get(rec.id)]);
          const entry = outbox.get(rec.id);
          await Promise.all([db.records.put(rec), db.outbox.put(entry),
            db.meta.put({ key: 'last_mutation_id', value: entry.mutation.id })]);
        });
      }
      const ms = performance.now() - t;
      db.close();
      await drop(`bench-dexie-edits-${round}`);
      return ms;
    }, round);
    results.dexieEdits.push(d);
  };

  for (let round = 0; round < ROUNDS; round++) {
    console.log(`round ${round + 1}/${ROUNDS}`);
    if (round % 2 === 0) { await app(round); await dexie(round); } else { await dexie(round); await app(round); }
    await edits(round);
  }

  // where the app's time goes: a CPU profile of one more write and read of the app, on the build
  // with the wasm's names kept when target/wasm-bindgen holds this build (else on this page, unnamed)
  profile = await profileApp(page, records);

  const rate = (ms, n = N) => n / (ms / 1000);
  const appWrite = median(results.app.map((r) => r.write));
  const appRead = median(results.app.map((r) => r.read));
  const appPages = median(results.appPages.map((r) => r.write));
  const dexWrite = median(results.dexie.map((r) => r.write));
  const dexRead = median(results.dexie.map((r) => r.read));
  const dexReadIndex = median(results.dexie.map((r) => r.readIndex));
  const appEdit = median(results.appEdits);
  const dexEdit = median(results.dexieEdits);
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const rows = [
    [`write ${fmt(N)} in one transaction (app: \`Store::apply_pull\`; Dexie: \`bulkPut\`)`, fmt(appWrite), fmt(rate(appWrite)), fmt(dexWrite), fmt(rate(dexWrite)), ratio(rate(appWrite), rate(dexWrite))],
    [`read ${fmt(N)} (app: \`Store::records_of\`, by commune; Dexie: \`bulkGet\` by id)`, fmt(appRead), fmt(rate(appRead)), fmt(dexRead), fmt(rate(dexRead)), ratio(rate(appRead), rate(dexRead))],
    [`read ${fmt(N)} (Dexie: \`where('org_unit').equals().toArray()\`, the same index)`, fmt(appRead), fmt(rate(appRead)), fmt(dexReadIndex), fmt(rate(dexReadIndex)), ratio(rate(appRead), rate(dexReadIndex))],
    [`write ${fmt(N)} as sync does, pull pages of 200 (${results.appPages[0].transactions} transactions; Dexie: one \`bulkPut\`)`, fmt(appPages), fmt(rate(appPages)), fmt(dexWrite), fmt(rate(dexWrite)), ratio(rate(appPages), rate(dexWrite))],
    [`${fmt(EDITS)} officer saves, one transaction each (app: \`Store::edit\`; Dexie: the same gets and puts)`, fmt(appEdit), fmt(rate(appEdit, EDITS)), fmt(dexEdit), fmt(rate(dexEdit, EDITS)), ratio(rate(appEdit, EDITS), rate(dexEdit, EDITS))],
  ];
  const writeMet = rate(appWrite) >= rate(dexWrite);
  const readMet = rate(appRead) >= rate(dexRead);
  const verdict = (met, a, b, what) => (met
    ? `**met** for ${what}: ${(a / b).toFixed(2)}× Dexie's rate`
    : `**missed** for ${what}: ${(a / b).toFixed(2)}× Dexie's rate, ${((1 - a / b) * 100).toFixed(0)}% slower`);
  const readIndexNote = ` (against Dexie's own index query, the same work as \`records_of\`: ${(rate(appRead) / rate(dexReadIndex)).toFixed(2)}×)`;
  const lines = [
    '## IndexedDB: the app\'s storage layer against Dexie.js (`20-indexeddb`)',
    '',
    `\`node bench/indexeddb.mjs${args.quick ? ' --quick' : ''}\`: ${fmt(N)} households of one commune, in one page of headless Chromium ${await browser.version()}, ` +
    `the app's own storage layer (the release build with the cargo feature \`bench\`, src/bench.rs, timing inside the wasm) against ` +
    `Dexie.js ${version} given exactly the objects the app stored; median of ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}, alternating which goes first. ` +
    'No CPU slowdown. Records per second = records ÷ time; ratio = app ÷ Dexie (above 1: the app is faster).',
    '',
    table(['operation', 'app ms', 'app records/s', 'Dexie ms', 'Dexie records/s', 'app ÷ Dexie'], rows),
    '',
    `Goal, at least as fast as Dexie: ${verdict(writeMet, rate(appWrite), rate(dexWrite), 'writing')}; ${verdict(readMet, rate(appRead), rate(dexRead), 'reading')}${readIndexNote}.`,
    '',
    `Where the app's time goes: ${profile.line}.`,
  ];
  if (!writeMet || !readMet || rate(appRead) < rate(dexReadIndex)) lines.push('', holdsBack(writeMet, readMet));
  writeFragment(args.out, lines.join('\n'));
} finally {
  await browser.close();
  await server.stop();
}

async function profileApp(page, records) {
  const named = namedDist(dist, join(BENCH_DIR, 'dist-bench-named'));
  let other = null;
  let target = page;
  try {
    if (named) {
      other = await startServer({ bin, dist: named });
      target = await (await browser.newContext({ bypassCSP: true })).newPage();
      await target.goto(other.url);
      await target.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_apply_pull, null, { timeout: 120_000 });
      await target.evaluate((json) => { window.__records = json; }, JSON.stringify(records));
      // once unprofiled, so the code is compiled and warm as in the measured rounds
      await target.evaluate(([n, c]) => wasmBindings.bench_apply_pull('bench-warm', window.__records, n)
        .then(() => wasmBindings.bench_records_of('bench-warm', c)), [N, COMMUNE]);
    }
    const cdp = await target.context().newCDPSession(target);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    const t = await target.evaluate(async ([n, c]) => {
      const w = JSON.parse(await wasmBindings.bench_apply_pull('bench-app-profile', window.__records, n));
      const r = JSON.parse(await wasmBindings.bench_records_of('bench-app-profile', c));
      return { write: w.ms, read: r.ms };
    }, [N, COMMUNE]);
    const { profile: cpu } = await cdp.send('Profiler.stop');
    const summary = profileSummary(cpu);
    return { summary, line: `CPU profile of one more write and read of ${fmt(N)} by the app (CDP Profiler, every 0.2 ms; ${fmt(t.write)} ms and ` +
      `${fmt(t.read)} ms under the profiler), ${named ? 'on the same build with the wasm as wasm-bindgen wrote it, names kept' : 'on the shipped wasm, whose names wasm-opt stripped'}: ` +
      profileLine(summary, 10) };
  } finally {
    if (other) { await target.context().close(); await other.stop(); }
  }
}

function holdsBack(writeMet, readMet) {
  const k = Object.fromEntries(profile.summary.kinds);
  const f = Object.fromEntries(profile.summary.functions);
  const sum = (pred) => Object.entries(k).filter(([name]) => pred(name)).reduce((n, [, ms]) => n + ms, 0);
  const busy = sum((n) => n !== 'idle');
  const pct = (ms) => `${((ms / busy) * 100).toFixed(0)}%`;
  const ms = (name) => (f[name] || 0);
  const js = sum((n) => n.startsWith('wasm-bindgen') || n.startsWith('browser built-ins'));
  const wasm = sum((n) => n.startsWith('wasm:'));
  const native = sum((n) => n.startsWith('browser (native') || n === 'garbage collection');
  const parts = [
    `idle ${(k.idle || 0).toFixed(0)} ms (not in the busy time): the page waiting for IndexedDB — for the reads' answers before the writes can be issued, then for the commit (which Dexie waits for too)`,
    `\`get\` ${ms('get').toFixed(0)} ms: IndexedDB reads — \`apply_pull\` reads each record before writing it (to keep the officer's unsent edits and never go back to an older version; the outbox entries too when the outbox holds anything), one read per record that a bare \`bulkPut\` does not make`,
    `\`decode\` ${ms('decode').toFixed(0)} ms: TextDecoder turning the wasm's UTF-8 into JS strings — the page's records cross as one JSON text, parsed once by the browser`,
    `\`put\` ${ms('put').toFixed(0)} ms: the writes (their structured clone, which Dexie pays too)`,
    `\`passStringToWasm0\` ${ms('passStringToWasm0').toFixed(0)} ms and \`wasm-to-js\` ${ms('wasm-to-js').toFixed(0)} ms: more boundary crossings`,
  ];
  return `What holds it back, from that profile: of the app's ${busy.toFixed(0)} ms busy, ${pct(js)} is JavaScript called from the wasm ` +
    `(wasm-bindgen's glue and the built-ins it calls), ${pct(wasm)} the Rust code itself, ${pct(native)} the browser's own work ` +
    `(IndexedDB, structured clone, garbage collection). The largest items: ${parts.join('; ')}. Dexie starts from objects that already ` +
    'exist and hands them over in one bulk call.';
}

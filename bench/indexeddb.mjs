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
  COMMUNE, PERIOD, ROOT, ensureBenchDist, ensureServer, fmt, households, launchBrowser, median, parseArgs,
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

  // where the app's time goes: a CPU profile of one more write and read of the app
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await page.evaluate(([n, c]) => wasmBindings.bench_apply_pull('bench-app-profile', window.__records, n).then(() => wasmBindings.bench_records_of('bench-app-profile', c)), [N, COMMUNE]);
  const { profile: cpu } = await cdp.send('Profiler.stop');
  profile = summarize(cpu);

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
    `Goal, at least as fast as Dexie: ${verdict(writeMet, rate(appWrite), rate(dexWrite), 'writing')}; ${verdict(readMet, rate(appRead), rate(dexRead), 'reading')}.`,
    '',
    `Where the app's time goes (CPU profile of one more write and read of ${fmt(N)}, sampled every 0.2 ms): ${profile}.`,
  ];
  if (!writeMet || !readMet) lines.push('', holdsBack(writeMet, readMet));
  writeFragment(args.out, lines.join('\n'));
} finally {
  await browser.close();
  await server.stop();
}

/** The profile's self time grouped: wasm code, wasm-bindgen's JS glue, other JS, the browser (IndexedDB, GC, idle). */
function summarize(cpu) {
  const byId = new Map(cpu.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = cpu.timeDeltas;
  cpu.samples.forEach((id, i) => self.set(id, (self.get(id) || 0) + (dt[i + 1] ?? 0)));
  const groups = {};
  const top = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const f = byId.get(id).callFrame;
    const name = f.functionName || '(anonymous)';
    let group;
    if (name === '(idle)') group = 'idle (waiting on IndexedDB)';
    else if (name === '(garbage collector)') group = 'garbage collection';
    else if (name === '(program)') group = 'browser (IndexedDB, structured clone, scheduling)';
    else if (/^\$?wasm-function|^\$/.test(name) || f.url.includes('wasm')) group = 'wasm (the app\'s Rust: serde, domain, indexed_db_futures)';
    else if (/thidua-app-[0-9a-f]+\.js/.test(f.url)) group = 'wasm-bindgen JS glue (building JS objects field by field, IDB calls)';
    else if (f.url === '') group = 'browser built-ins called from JS (IndexedDB put/get with their structured clone, TextDecoder, Reflect)';
    else group = 'other JS';
    groups[group] = (groups[group] || 0) + us;
    if (!group.startsWith('idle')) {
      const key = group.startsWith('wasm (') ? 'wasm functions (names stripped by wasm-opt)' : name;
      top.set(key, (top.get(key) || 0) + us);
    }
    total += us;
  }
  const parts = Object.entries(groups).sort((a, b) => b[1] - a[1])
    .map(([g, us]) => `${g} ${(us / 1000).toFixed(0)} ms (${((us / total) * 100).toFixed(0)}%)`);
  const glue = [...top.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
    .map(([n, us]) => `\`${n}\` ${(us / 1000).toFixed(0)} ms`);
  return `${parts.join(', ')}. Busiest functions by self time: ${glue.join(', ')}`;
}

function holdsBack(writeMet, readMet) {
  return 'What holds it back: see the profile above — the app converts every record between its Rust types and ' +
    'JavaScript objects (serde-wasm-bindgen builds each object property by property through the JS glue, and the ' +
    'reverse on reading), where Dexie hands the browser objects that already exist; ' +
    `${!writeMet ? 'on writing, `apply_pull` also reads each record and its outbox entry before writing (to merge with local edits), which a bare `bulkPut` does not; ' : ''}` +
    `${!readMet ? 'on reading, every record is deserialised into the app\'s types (fields, conflicts, base copy).' : ''}`;
}

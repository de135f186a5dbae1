// The dashboard with the whole province behind it: 204 communes, 60,000 households (with an NTM
// assessment per commune), on the real server (SQLite) and the release app in
// headless Chromium. Prints and writes (--out FILE, Markdown) the server's answer time of
// GET /api/dashboard and the time the browser takes to draw the answer, against the issue's goals
// (at most 200 ms on the server, at most 500 ms to render). A benchmark: it asserts nothing.
//
//   THIDUA_SERVER_BIN=target/server/thidua-server THIDUA_DIST=dist node bench/dashboard-render.mjs [--quick] [--out FILE]
import { randomUUID } from 'node:crypto';
import { writeFileSync, mkdirSync, readFileSync, mkdtempSync, copyFileSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { startServer, launchBrowser, openApp, ADMIN } from '../tests/e2e/harness.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : process.env.BENCH_FRAGMENT ?? null;
const HOUSEHOLDS = quick ? 6_000 : 60_000;
const RUNS = quick ? 3 : 7;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** The 204 communes of 2023, from the product's own unit list. */
function communes() {
  return readFileSync(new URL('../crates/domain/data/units/sonla-2023.tsv', import.meta.url), 'utf8')
    .split('\n').filter((l) => /^\d{5}\t/.test(l)).map((l) => l.split('\t')[0]);
}

async function seed(server) {
  const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { token } = await login.json();
  const device = randomUUID();
  const codes = communes();
  const villages = ['Bản Hụm', 'Bản Cọ', 'Bản Nà', 'Bản Pá', 'Bản Mòn', 'Bản Lầu'];
  const mutations = [];
  const perCommune = Math.ceil(HOUSEHOLDS / codes.length);
  let n = 0;
  for (const code of codes) {
    for (let i = 0; i < perCommune && n < HOUSEHOLDS; i++, n++) {
      const fields = { head_name: `Hộ ${code}-${i + 1}`, village: villages[i % villages.length], area: 'rural', members: 4,
        working_age_members: 2, children_under_16: 1, members_16_to_30: 1, income_per_person_month: 700_000 + (n % 40) * 60_000,
        floor_area_m2: 40, dep_health_insurance: n % 3 === 0, dep_domestic_water: n % 5 === 0, dep_latrine: n % 7 === 0 };
      mutations.push({ id: randomUUID(), device, record: { id: randomUUID(), data_set: 'household', org_unit: code, period: '2023', fields, revision: 0, deleted: false }, base_revision: 0, changed: Object.keys(fields) });
    }
    const ntm = { '15.3': 10 + (code.charCodeAt(4) % 20), '15.4': 40 + (code.charCodeAt(3) % 30) };
    mutations.push({ id: randomUUID(), device, record: { id: randomUUID(), data_set: 'ntm_assessment', org_unit: code, period: '2023', fields: ntm, revision: 0, deleted: false }, base_revision: 0, changed: Object.keys(ntm) });
  }
  let refused = 0;
  for (let i = 0; i < mutations.length; i += 200) {
    const batch = mutations.slice(i, i + 200);
    const res = await fetch(`${server.url}/api/sync/push`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ protocol: 1, device, mutations: batch }) });
    if (res.status !== 200) throw new Error(`seeding: ${res.status} ${await res.text()}`);
    const { results } = await res.json();
    refused += results.filter((r) => !('applied' in r.outcome) && !('merged' in r.outcome)).length;
  }
  return { households: n, communes: codes.length, refused };
}

// `before` (untimed) puts the page back in the view it starts from, so each timed redraw is of the
// same view and not an average of two
async function measure(page, label, action, ready, before = null) {
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    if (before) await before(run);
    await page.evaluate(() => performance.clearResourceTimings());
    const started = await page.evaluate(() => performance.now());
    await action(run);
    // a predicate with its argument: the app's CSP forbids evaluating strings
    const [predicate, arg] = Array.isArray(ready) ? ready : [ready, null];
    await page.waitForFunction(predicate, arg, { timeout: 120_000 });
    const done = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now()))));
    const api = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/dashboard?')).map((e) => ({ start: e.startTime, end: e.responseEnd })).pop());
    times.push({ total: done - started, server: api ? api.end - api.start : NaN, render: api ? done - api.end : NaN });
  }
  return { label, server: median(times.map((t) => t.server)), render: median(times.map((t) => t.render)), total: median(times.map((t) => t.total)) };
}

// the map draws from the deployment's boundary files (never committed): copies of the reference
// data's, when it sits beside the repository; without them the map says so and is not timed
let boundaries = null;
if (existsSync('../shared/data/sonla_districts.geojson')) {
  boundaries = mkdtempSync(join(tmpdir(), 'thidua-boundaries-'));
  copyFileSync('../shared/data/sonla_districts.geojson', join(boundaries, 'districts-2023.geojson'));
  copyFileSync('../shared/data/sonla_communes_2025.geojson', join(boundaries, 'communes-2025.geojson'));
}
const server = await startServer(boundaries ? { THIDUA_BOUNDARIES_DIR: boundaries } : {});
const seeded = await seed(server);
console.log(`seeded ${seeded.households} households in ${seeded.communes} communes (${seeded.refused} refused)`);
const browser = await launchBrowser();
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
await openApp(page, server.url, ADMIN);
const rows = [];
await page.getByTestId('open-dashboard').click();
await page.waitForFunction(() => document.querySelectorAll('[data-testid="child"]').length === 12, null, { timeout: 120_000 });
// the view is drawn when its rows are there and, with boundaries, its map's shapes too
const drawn = (n) => [({ n, map }) => document.querySelectorAll('[data-testid="child"]').length === n
  && (!map || document.querySelectorAll('[data-testid="map"] path.unit').length === n)
  && !document.querySelector('.dashboard .notice[role="status"]'), { n, map: Boolean(boundaries) }];
// the province (12 districts), redrawn by switching the basis (accepted figures / all figures)
rows.push(await measure(page, 'province, 12 districts (rows, charts, map)', (run) => page.getByTestId('dashboard-basis').selectOption(run % 2 ? 'all' : 'accepted'),
  drawn(12)));
// the 2025 structure: 75 communes, the most rows and map shapes; each timed redraw goes from the
// 2023 view to the 2025 one (the way back is not timed)
rows.push(await measure(page, '2025 structure, 75 communes (rows, charts, map)',
  () => page.getByTestId('dashboard-structure').selectOption('2025'),
  drawn(75),
  async () => {
    await page.getByTestId('dashboard-structure').selectOption('2023');
    await page.waitForFunction(...drawn(12), { timeout: 120_000 });
  }));
const mapShapes = await page.locator('[data-testid="map"] path.unit').count();
await browser.close();
await server.stop();
if (boundaries) rmSync(boundaries, { recursive: true, force: true });

const fmt = (x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a');
const lines = [
  '## Dashboard with the whole province behind it',
  '',
  `${seeded.households.toLocaleString('en')} households, ${seeded.communes} communes (an NTM assessment each), SQLite, release server and app, headless Chromium; median of ${RUNS} redraws. Map: ${boundaries ? `drawn from the reference boundaries (${mapShapes} shapes in the last view)` : 'no boundary files beside the repository, so not drawn'}.`,
  '',
  '| view | server answer (GET /api/dashboard) | render after the answer | total | goals |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.label} | ${fmt(r.server)} | ${fmt(r.render)} | ${fmt(r.total)} | server ≤ 200 ms: ${r.server <= 200 ? 'met' : 'missed'}; render ≤ 500 ms: ${r.render <= 500 ? 'met' : 'missed'} |`),
  '',
];
console.log(lines.join('\n'));
if (out) { mkdirSync(dirname(out), { recursive: true }); writeFileSync(out, lines.join('\n') + '\n'); }

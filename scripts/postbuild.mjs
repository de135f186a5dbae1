// Trunk post-build hook: file names carry content hashes, so the service worker's precache list is
// written here after each build, never by hand. Also writes .br and .gz copies for the server to send.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('TRUNK_STAGING_DIR is not set: run through trunk build');

const files = [];
(function walk(d) {
  for (const name of readdirSync(d)) {
    const path = join(d, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (!/\.(br|gz)$/.test(name)) files.push(relative(dir, path).split('\\').join('/'));
  }
})(dir);

const cached = files.filter((f) => f !== 'sw.js').sort();
const hash = createHash('sha256');
for (const f of cached) hash.update(f).update(readFileSync(join(dir, f)));
const version = hash.digest('hex').slice(0, 16);
const swPath = join(dir, 'sw.js');
const sw = readFileSync(swPath, 'utf8')
  .replaceAll('__VERSION__', version)
  .replaceAll('__PRECACHE__', JSON.stringify(['/', ...cached.map((f) => '/' + f)]));
writeFileSync(swPath, sw);

for (const f of files) {
  if (!/\.(js|wasm|css|html|svg|webmanifest|json)$/.test(f)) continue;
  const data = readFileSync(join(dir, f));
  writeFileSync(join(dir, f + '.br'), brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(join(dir, f + '.gz'), gzipSync(data, { level: 9 }));
}
console.log(`postbuild: precache ${cached.length + 1} entries, version ${version}`);

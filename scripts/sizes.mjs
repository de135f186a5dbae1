// Prints the sizes of the built app's files, raw / gzip / brotli, and the first-load total.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dir = process.argv[2] || 'dist';
const kb = (n) => (n / 1024).toFixed(1).padStart(7) + ' KB';
let total = [0, 0, 0];
console.log('file'.padEnd(44) + '    raw       gzip      brotli');
for (const name of readdirSync(dir).sort()) {
  if (!/\.(js|wasm|css|html)$/.test(name)) continue;
  const data = readFileSync(join(dir, name));
  const sizes = [data.length, gzipSync(data, { level: 9 }).length,
    brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length];
  total = total.map((t, i) => t + sizes[i]);
  console.log(name.padEnd(44) + sizes.map(kb).join(' '));
}
console.log('first load (html + js + wasm + css)'.padEnd(44) + total.map(kb).join(' '));

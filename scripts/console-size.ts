import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * The JavaScript the console's first page loads (its index.html's scripts and module
 * preloads), gzipped, beside the 300 KB ceiling; past it, a non-zero exit fails the build.
 */
const CEILING_KB = 300;
const dist = join(import.meta.dirname, '..', 'dist', 'console');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.js)"/g)].map(
  (m) => m[1] as string,
);
const bytes = scripts.reduce(
  (sum, file) => sum + gzipSync(readFileSync(join(dist, file)), { level: 9 }).length,
  0,
);
const kb = bytes / 1024;
console.log(
  `console first page: ${scripts.length} script(s), ${kb.toFixed(1)} KB gzipped (ceiling ${CEILING_KB} KB)`,
);
if (kb > CEILING_KB) {
  console.error(`The console's first page ships more than ${CEILING_KB} KB of JavaScript.`);
  process.exit(1);
}

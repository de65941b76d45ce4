import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The tests that start `clientele` as a process run the compiled command, as `npm start`
 * and the installed bin do, not the TypeScript sources through a loader (a second or more
 * per start, and they start it often). Compiled here, once before any test: the same
 * incremental build as `npm start`'s prestart, so an unchanged source costs no compile
 * and a changed one is never tested stale.
 */
export default function setup() {
  const root = join(import.meta.dirname, '..');
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}

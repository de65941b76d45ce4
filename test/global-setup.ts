import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The tests that start `clientele` as a process run the compiled command, as `npm start`
 * and the installed bin do, not the TypeScript sources through a loader (a second or more
 * per start, and they start it often). Compiled here, once before any test, by `npm start`'s
 * own prestart script (package.json says how, once): an incremental build, so an unchanged
 * source costs no compile and a changed one is never tested stale.
 */
export default function setup() {
  execFileSync('npm', ['run', '--silent', 'prestart'], {
    cwd: join(import.meta.dirname, '..'),
    stdio: 'inherit',
  });
}

/**
 * `npm run bench:compare -- <revision>`: another build (a commit, a branch) against this
 * checkout, in one scenario, run alternately: A, B, A, B… This machine's speed moves a
 * great deal from hour to hour, so two builds compare only side by side, never a run
 * against a figure from another hour.
 *
 * COMPARE_DATABASE: postgres (default, the server of BENCH_DATABASE_URL) or pglite;
 * COMPARE_CLIENTS: 64 (default); COMPARE_ROUNDS: 3 (default); BENCH_SECONDS: 8 (default);
 * COMPARE_SCENARIO: native (default), redo or voucherify, the upsert driven (after a warm-up
 * on the native one, which fills the store).
 * The other build is checked out in a temporary git worktree, installed and built there,
 * and removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Api, bodyFactory, drive, redoBodyFactory, voucherifyBodyFactory } from './load.js';
import {
  type CpuPerUpsert,
  checkout,
  credentials,
  driveMeasured,
  median,
  startServer,
  watchRss,
  withDatabase,
} from './server.js';

const revision = process.argv[2];
const database = process.env.COMPARE_DATABASE ?? 'postgres';
const clients = Number(process.env.COMPARE_CLIENTS ?? 64);
const rounds = Number(process.env.COMPARE_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const upsertApi = (process.env.COMPARE_SCENARIO ?? 'native') as Api;
const bodiesOf: Record<Api, (existing: string[]) => () => string> = {
  native: (existing) => bodyFactory('run', existing),
  // Redo's key is the email: it updates the customers the warm-up made, and makes others.
  redo: (existing) => redoBodyFactory('run', existing),
  voucherify: () => voucherifyBodyFactory('run', []),
};
if (!(upsertApi in bodiesOf)) throw new Error('COMPARE_SCENARIO: native, redo or voucherify');

interface Run {
  build: 'A' | 'B';
  rps: number;
  p99: number;
  errors: number;
  cpu: CpuPerUpsert;
  /** The server's peak resident memory, MB. */
  rss: number;
}

/** One scenario on the build in `root`: warm up, then `clients` clients for `seconds`. */
async function runOnce(build: Run['build'], root: string): Promise<Run> {
  const scenario = async (env: NodeJS.ProcessEnv): Promise<Run> => {
    const server = await startServer(env, root);
    const rss = watchRss(server.pid);
    let run: Omit<Run, 'rss'>;
    try {
      const target = { url: server.url, ...credentials(server) };
      const existing: string[] = [];
      await drive({ ...target, connections: 16, seconds: 3, body: bodyFactory('warm', existing) });
      const { result, cpu } = await driveMeasured(server, {
        ...target,
        api: upsertApi,
        connections: clients,
        seconds,
        body: bodiesOf[upsertApi](existing),
      });
      run = { build, rps: result.rps, p99: result.p99, errors: result.errors, cpu };
    } finally {
      await server.stop();
    }
    return { ...run, rss: rss.stop() };
  };
  if (database === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'clientele-compare-'));
    try {
      return await scenario({ CLIENTELE_DATA_DIR: dir, DATABASE_URL: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return withDatabase(serverUrl, 'clientele_compare', (url) => scenario({ DATABASE_URL: url }));
}

async function main() {
  if (!revision) throw new Error('usage: npm run bench:compare -- <revision>');
  const worktree = mkdtempSync(join(tmpdir(), 'clientele-build-a-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: checkout, stdio: 'inherit' });
  git('worktree', 'add', '--detach', worktree, revision);
  try {
    // This checkout's packages as a start, so that installing only adds what differs.
    cpSync(join(checkout, 'node_modules'), join(worktree, 'node_modules'), { recursive: true });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: worktree,
      stdio: 'inherit',
    });
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: checkout, stdio: 'inherit' });

    console.log(
      `A = ${revision}, B = this checkout; ${upsertApi} upsert, ${database}, ${clients} clients, ${seconds} s`,
    );
    const runs: Run[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const [build, root] of [
        ['A', worktree],
        ['B', checkout],
      ] as const) {
        const run = await runOnce(build, root);
        runs.push(run);
        const c = run.cpu;
        console.log(
          `round ${round} ${build}: ${run.rps.toFixed(0)} upserts/s, p99 ${run.p99} ms, errors ${run.errors}, CPU µs/upsert server ${c.server.toFixed(0)} · PostgreSQL ${c.postgres.toFixed(0)} · load ${c.load.toFixed(0)}, peak RSS ${run.rss.toFixed(0)} MB`,
        );
      }
    }
    const pairs = runs
      .filter((r) => r.build === 'B')
      .map((b, i) => [runs.filter((r) => r.build === 'A')[i]!, b] as const);
    const report = (label: string, ratio: (a: Run, b: Run) => number) => {
      const ratios = pairs.map(([a, b]) => ratio(a, b));
      console.log(
        `B/A ${label}, pair by pair: ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)})`,
      );
    };
    report('upserts/s', (a, b) => b.rps / a.rps);
    // The load generator does the same work per request whichever build it drives, so its
    // CPU per request follows the machine's speed of the moment: these two ratios move
    // less than the rate while that speed moves (same build against itself: ±10 %
    // against ±25 % in the slowest minutes seen). It also falls when answers come back
    // in bigger bursts, though, so a real gain can hide in them: read them beside the
    // rates, not instead.
    report(
      'upserts/s × load CPU per request',
      (a, b) => (b.rps * b.cpu.load) / (a.rps * a.cpu.load),
    );
    report(
      'server CPU per upsert ÷ load CPU per request',
      (a, b) => b.cpu.server / b.cpu.load / (a.cpu.server / a.cpu.load),
    );
  } finally {
    git('worktree', 'remove', '--force', worktree);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

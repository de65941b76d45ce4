import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { drive, type LoadResult } from './load.js';

/** This checkout: the server benchmarked unless another build's folder is given. */
export const checkout = join(import.meta.dirname, '..');

export interface BenchServer {
  url: string;
  pid: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** The real server, started as `npm start` starts it: the built dist/ of `root`, one process. */
export function startServer(env: NodeJS.ProcessEnv, root = checkout): Promise<BenchServer> {
  // BENCH_NODE_ARGS passes flags to the server's node, e.g. `--cpu-prof` to profile it.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return spawnServer(
    [...startFlags(root), ...nodeArgs, join(root, 'dist/cli/main.js'), 'serve'],
    { LOG_LEVEL: 'warn', CLIENTELE_RATE_LIMIT: '0', PORT: '0', ...env },
    root,
  );
}

/** bench/floor-server.ts, with the node flags the real server gets: HTTP and nothing else. */
export function startFloorServer(): Promise<BenchServer> {
  return spawnServer(
    [...startFlags(checkout), '--import', 'tsx', join(checkout, 'bench/floor-server.ts')],
    {},
    checkout,
  );
}

/** A node process that prints `serving on <url>` once it listens. */
function spawnServer(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<BenchServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env } });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout.off('data', onData);
        resolve({
          url: m[1]!,
          pid: child.pid!,
          child,
          output: () => out,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

/** The flags `npm start` gives node (package.json's start script), so the two never differ. */
function startFlags(root: string): string[] {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const words: string[] = scripts.start.split(/\s+/);
  const flags = words.slice(words.indexOf('node') + 1);
  return flags.slice(
    0,
    flags.findIndex((w) => !w.startsWith('--')),
  );
}

/** A fresh database `name` on the PostgreSQL server at `serverUrl` for `run`, dropped after. */
export async function withDatabase<T>(
  serverUrl: string,
  name: string,
  run: (url: string) => Promise<T>,
): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await run(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** The default store and its key, as a new server prints them once. */
export function credentials(server: BenchServer): { storeId: string; apiKey: string } {
  const apiKey = /(ck_\S+)/.exec(server.output())?.[1];
  const storeId = /"default" \((sto_\w+)\)/.exec(server.output())?.[1];
  if (!apiKey || !storeId) throw new Error(`no credentials: ${server.output()}`);
  return { apiKey, storeId };
}

/** Resident memory of a process, in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** CPU time a process has used, user and system, in ms (from /proc; 0 once it has ended). */
export function cpuMs(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every 200 ms; stop() gives the peak. */
export function watchRss(pid: number) {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {
      // the process ended
    }
  }, 200);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSecondsOf(pid: string | number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds used so far by the server, by each PostgreSQL process, and by this one (the load generator). */
function cpuSnapshot(serverPid: number): {
  server: number;
  postgres: Map<string, number>;
  load: number;
} {
  const postgres = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') {
        postgres.set(entry, cpuSecondsOf(entry));
      }
    } catch {
      // the process ended
    }
  }
  const own = process.cpuUsage();
  return { server: cpuSecondsOf(serverPid), postgres, load: (own.user + own.system) / 1e6 };
}

/**
 * CPU seconds used between two snapshots. PostgreSQL's processes come and go (the pool
 * closes idle connections): each counts from its first sighting, and one that ended in
 * between is lost, so the PostgreSQL figure errs low, never negative.
 */
function cpuUsedBetween(
  before: ReturnType<typeof cpuSnapshot>,
  after: ReturnType<typeof cpuSnapshot>,
): { server: number; postgres: number; load: number } {
  let postgres = 0;
  for (const [pid, seconds] of after.postgres)
    postgres += seconds - (before.postgres.get(pid) ?? 0);
  return { server: after.server - before.server, postgres, load: after.load - before.load };
}

/** CPU microseconds per upsert: the server, PostgreSQL's processes, the load generator. */
export interface CpuPerUpsert {
  server: number;
  postgres: number;
  load: number;
}

/** `drive`, and the CPU each side used per upsert while it ran. */
export async function driveMeasured(
  server: BenchServer,
  options: Parameters<typeof drive>[0],
): Promise<{ result: LoadResult; cpu: CpuPerUpsert }> {
  const before = cpuSnapshot(server.pid);
  const result = await drive(options);
  const used = cpuUsedBetween(before, cpuSnapshot(server.pid));
  const per = (seconds: number) => (seconds / result.requests) * 1e6;
  return {
    result,
    cpu: { server: per(used.server), postgres: per(used.postgres), load: per(used.load) },
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

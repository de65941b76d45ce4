/**
 * `npm run bench:webhooks`: webhook delivery from the real server (one process, the built
 * dist/) to a receiver on this machine, on PostgreSQL (BENCH_DATABASE_URL) and, with
 * BENCH_WEBHOOK_DATABASES=postgres,pglite, on PGlite too. Prints each figure beside its
 * ceiling; asserts nothing.
 *
 * - Latency: upserts at BENCH_RATE (1,000) a second for BENCH_SECONDS (10) with one endpoint
 *   subscribed to everything; from each upsert's answer to its event's arrival, p50 and p99
 *   (the ceilings are set for 1,000/s; a lower rate shows the path's own delay on a machine
 *   too busy for that).
 * - Throughput: 64 clients upserting for BENCH_SECONDS, with no endpoint and with one,
 *   alternately, BENCH_ROUNDS (2) pairs; the ratio of medians.
 * - Backlog: BENCH_BACKLOG (100,000) events written while the endpoint is disabled, then
 *   enabled: deliveries per second until the last arrives.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { bodyFactory, drive, pace as steady } from './load.js';
import {
  type BenchServer,
  cpuMs,
  credentials,
  median,
  startServer,
  withDatabase,
} from './server.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const backlog = Number(process.env.BENCH_BACKLOG ?? 100_000);
const pace = Number(process.env.BENCH_RATE ?? 1000);
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const databases = (process.env.BENCH_WEBHOOK_DATABASES ?? 'postgres').split(',');

/** The receiver: answers 200 at once, and notes when each (customer, version) arrived. */
async function startReceiver() {
  const arrived = new Map<string, number>();
  let count = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const at = performance.now();
      count++;
      const event = JSON.parse(Buffer.concat(chunks).toString());
      arrived.set(`${event.data.customer.id} ${event.data.version}`, at);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrived,
    count: () => count,
    reset: () => {
      arrived.clear();
      count = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function api(server: BenchServer, method: string, path: string, body?: unknown) {
  const { storeId, apiKey } = credentials(server);
  const res = await fetch(`${server.url}/v1/stores/${storeId}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function until(predicate: () => boolean | Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/**
 * Upserts at a steady `rate` per second for `secs` (load.ts `pace`: one every 1/rate s,
 * not a second's worth in a burst), through at most 64 connections kept alive (as the
 * integrations that send a store's traffic hold theirs); when each (customer, version)
 * was answered. (`fetch`, with a connection of its own for each request once the ones it
 * keeps are busy, made the client and the server spend more on opening connections than
 * on upserts: answers took 0.3-1 s with no endpoint at all; undici's Pool keeps to its
 * connections.)
 */
async function paced(server: BenchServer, rate: number, secs: number) {
  const { storeId, apiKey } = credentials(server);
  const acked = new Map<string, number>();
  let firstError: string | undefined;
  const started = performance.now();
  const { errors, notSent } = await steady({
    url: server.url,
    storeId,
    apiKey,
    connections: 64,
    seconds: secs,
    rate,
    body: bodyFactory('paced', []),
    onResponse: (status, text) => {
      const at = performance.now();
      if (status >= 300) {
        firstError ??= `${status} ${text}`;
        return;
      }
      const answer = JSON.parse(text) as {
        result: string;
        customer: { id: string; version: number };
      };
      if (answer.result !== 'unchanged') {
        acked.set(`${answer.customer.id} ${answer.customer.version}`, at);
      }
    },
  });
  const elapsed = (performance.now() - started) / 1000;
  // errors: answers other than 2xx, and requests that failed with none.
  return { acked, rate: acked.size / elapsed, errors, notSent, firstError };
}

/**
 * CPU time used so far, ms: by the server, by each of the database's backends serving it
 * (PostgreSQL; PGlite runs in the server), and by this process (the receiver, mostly).
 * A figure per delivery that a busy machine changes less than it changes a rate.
 */
async function cpuOf(server: BenchServer, env: NodeJS.ProcessEnv) {
  const database = new Map<number, number>();
  if (env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await client.end();
    for (const { pid } of rows) database.set(pid, cpuMs(pid));
  }
  const self = process.cpuUsage();
  return { server: cpuMs(server.pid), database, receiver: (self.user + self.system) / 1000 };
}

/**
 * CPU ms used between two readings of cpuOf. The pool closes idle connections and opens
 * others: a backend counts from its first reading (0 if it began in between), and one
 * that ended in between is lost, so the database's figure errs low, never negative.
 */
function spent(
  before: Awaited<ReturnType<typeof cpuOf>>,
  after: Awaited<ReturnType<typeof cpuOf>>,
) {
  let database = 0;
  for (const [pid, ms] of after.database) database += ms - (before.database.get(pid) ?? 0);
  return {
    server: after.server - before.server,
    database,
    receiver: after.receiver - before.receiver,
  };
}

async function measure(kind: string, env: NodeJS.ProcessEnv, receiver: Receiver) {
  const server = await startServer({
    ...env,
    CLIENTELE_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123456789',
    CLIENTELE_WEBHOOK_ALLOW_PRIVATE: 'true',
    CLIENTELE_WEBHOOK_ALLOW_HTTP: 'true',
  });
  try {
    const { storeId, apiKey } = credentials(server);
    const existing: string[] = [];
    await drive({
      url: server.url,
      storeId,
      apiKey,
      connections: 16,
      seconds: 3,
      body: bodyFactory('warm', existing),
    });

    // Latency at BENCH_RATE upserts/s.
    receiver.reset();
    const endpoint = await api(server, 'POST', '/webhook-endpoints', {
      url: receiver.url,
      events: ['*'],
    });
    const before = await cpuOf(server, env);
    const { acked, rate, errors, notSent, firstError } = await paced(server, pace, seconds);
    if (firstError) console.log(`${kind}: the first of ${errors} failed upserts: ${firstError}`);
    await until(() => [...acked.keys()].every((k) => receiver.arrived.has(k)), 60_000);
    const pacedCpu = spent(before, await cpuOf(server, env));
    const latencies = [...acked].map(([k, at]) => (receiver.arrived.get(k) as number) - at);
    // What each upsert and its delivery cost, and so how far this machine is from 1,000/s:
    // a rate short of BENCH_RATE is a machine that ran out of CPU, not a paced client.
    const each = (k: 'server' | 'database' | 'receiver') => (pacedCpu[k] / acked.size).toFixed(3);
    console.log(
      `${kind}: at ${rate.toFixed(0)} upserts/s of ${pace} asked (${errors} errors, ${notSent} not sent: the server fell behind), answer to delivery p50 ${pct(latencies, 50).toFixed(0)} ms (ceiling 100), p99 ${pct(latencies, 99).toFixed(0)} ms (ceiling 1000); CPU ms an upsert and its delivery, server · database · this client and receiver: ${each('server')} · ${each('database')} · ${each('receiver')}`,
    );
    await api(server, 'DELETE', `/webhook-endpoints/${endpoint.id}`);

    // Throughput with delivery on and off, alternately; and the CPU each upsert cost
    // during the run (server and database, deliveries made meanwhile included), which a
    // machine shared with other work moves less than it moves a rate.
    const off: number[] = [];
    const on: number[] = [];
    const cpuOff: number[][] = [];
    const cpuOn: number[][] = [];
    const run = async (body: () => string, cpu: number[][]) => {
      const before = await cpuOf(server, env);
      const r = await drive({ url: server.url, storeId, apiKey, connections: 64, seconds, body });
      const used = spent(before, await cpuOf(server, env));
      cpu.push([used.server / r.requests, used.database / r.requests]);
      return r.rps;
    };
    for (let round = 0; round < rounds; round++) {
      const body = bodyFactory(`r${round}`, existing);
      off.push(await run(body, cpuOff));
      receiver.reset();
      const e = await api(server, 'POST', '/webhook-endpoints', {
        url: receiver.url,
        events: ['*'],
      });
      on.push(await run(body, cpuOn));
      // Let it catch up before the next run without delivery.
      await until(
        async () =>
          (await api(server, 'GET', `/webhook-endpoints/${e.id}/attempts?limit=1`)).pending === 0,
        120_000,
      );
      await api(server, 'DELETE', `/webhook-endpoints/${e.id}`);
    }
    const cpu = (runs: number[][]) =>
      runs.map(([a, b]) => `${(a ?? 0).toFixed(3)} · ${(b ?? 0).toFixed(3)}`).join(', ');
    console.log(
      `${kind}: 64 clients, upserts/s without an endpoint ${off.map((x) => x.toFixed(0)).join(', ')}; with one ${on.map((x) => x.toFixed(0)).join(', ')}: ratio of medians ${(median(on) / median(off)).toFixed(2)} (floor 0.85); CPU ms an upsert, server · database: without ${cpu(cpuOff)}; with ${cpu(cpuOn)}`,
    );

    // A backlog: events written while the endpoint is disabled, then delivered.
    const held = await api(server, 'POST', '/webhook-endpoints', {
      url: receiver.url,
      events: ['*'],
      enabled: false,
    });
    let written = 0;
    const fresh = bodyFactory('backlog', []);
    while (written < backlog) {
      const r = await drive({
        url: server.url,
        storeId,
        apiKey,
        connections: 64,
        seconds: 5,
        body: () =>
          JSON.stringify({
            ...JSON.parse(fresh()),
            email: `b${written++}-${Math.random()}@bench.example`,
          }),
      });
      if (r.errors > 0) throw new Error(`${r.errors} errors writing the backlog`);
    }
    receiver.reset();
    const cpuBefore = await cpuOf(server, env);
    const started = performance.now();
    await api(server, 'PATCH', `/webhook-endpoints/${held.id}`, { enabled: true });
    await until(
      async () =>
        (await api(server, 'GET', `/webhook-endpoints/${held.id}/attempts?limit=1`)).pending ===
          0 && receiver.count() >= written,
      600_000,
    );
    const drained = (performance.now() - started) / 1000;
    const drainCpu = spent(cpuBefore, await cpuOf(server, env));
    const perDelivery = (k: keyof typeof drainCpu) => (drainCpu[k] / receiver.count()).toFixed(3);
    console.log(
      `${kind}: a backlog of ${written} events drained in ${drained.toFixed(1)} s: ${(receiver.count() / drained).toFixed(0)} deliveries/s by one process (floor 2000); CPU ms a delivery: server ${perDelivery('server')}, database ${perDelivery('database')}, receiver ${perDelivery('receiver')}`,
    );
  } finally {
    await server.stop();
  }
}

const receiver = await startReceiver();
try {
  for (const kind of databases) {
    if (kind === 'postgres') {
      await withDatabase(serverUrl, 'clientele_bench_webhooks', (url) =>
        measure('PostgreSQL', { DATABASE_URL: url }, receiver),
      );
    } else {
      const { mkdtempSync, rmSync } = await import('node:fs');
      const dir = mkdtempSync('/tmp/clientele-bench-webhooks-');
      try {
        await measure('PGlite', { CLIENTELE_DATA_DIR: dir }, receiver);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
} finally {
  await receiver.close();
}

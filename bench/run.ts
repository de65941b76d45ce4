/**
 * `npm run bench`: the native upsert under load, on PGlite and on PostgreSQL, beside
 * PostgreSQL's own ceiling for the same work, and Redo's and Voucherify's upserts beside
 * the native one (their rate over its rate, target 0.8). Prints a table and writes
 * docs/benchmarks.md. BENCH_SECONDS (default 10) sets each scenario's length;
 * BENCH_DATABASE_URL (default the local server's `test` database) names the PostgreSQL
 * server, on which it creates and drops a database of its own. BENCH_ROUNDS (default 3)
 * sets how many times the ratio to pgbench's ceiling is measured. BENCH_NODE_ARGS passes
 * flags to the server's node (`--cpu-prof --cpu-prof-dir=/tmp/clientele-prof` to profile it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  bodyFactory,
  drive,
  type LoadResult,
  redoBodyFactory,
  voucherifyBodyFactory,
} from './load.js';
import { pgbenchCeiling, pgbenchSameRows } from './pgbench.js';
import {
  type CpuPerUpsert,
  checkout,
  credentials,
  driveMeasured,
  median,
  startFloorServer,
  startServer,
  watchRss,
  withDatabase,
} from './server.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const adminToken = 'bench-admin-token-0123456789';
const NOTES_MARKER = '<!-- notes: kept across runs -->';
/** The client count of each database's headline figure, at which the dialects run too. */
const headlineClients: Record<string, number> = { PGlite: 16, PostgreSQL: 64 };
/** A dialect's upsert should reach this share of the native one's rate. */
const DIALECT_TARGET = 0.8;
const dialects = [
  { api: 'redo', name: 'Redo', bodies: redoBodyFactory },
  { api: 'voucherify', name: 'Voucherify', bodies: voucherifyBodyFactory },
] as const;

interface Row {
  database: string;
  scenario: string;
  result: LoadResult;
  cpu?: CpuPerUpsert;
  note?: string;
  /** A dialect's row: its rate over the native rate measured just before it. */
  ofNative?: number;
}

/** One round of the ratio: Clientele, pgbench's two scripts and the HTTP floor, one after another. */
interface Round {
  clientele: LoadResult;
  ceiling: number;
  /** pgbench writing the rows an upsert writes, one transaction each (not the issue's ceiling). */
  sameRows: number;
  floor: LoadResult;
  floorCpu: CpuPerUpsert;
}

type Target = { url: string; storeId: string; apiKey: string };

async function benchDatabase(
  label: string,
  env: NodeJS.ProcessEnv,
  rows: Row[],
  andThen?: (target: Target, existing: string[]) => Promise<void>,
): Promise<number> {
  const server = await startServer({ ...env, CLIENTELE_ADMIN_TOKEN: adminToken });
  const { apiKey, storeId } = credentials(server);
  const rss = watchRss(server.pid);
  const existing: string[] = [];
  const target = { url: server.url, storeId, apiKey };
  try {
    // Warm up (and fill the pool of existing customers); not reported.
    await drive({
      ...target,
      connections: 16,
      seconds: Math.min(3, seconds),
      body: bodyFactory('warm', existing),
    });
    for (const connections of [1, 16, 64]) {
      const { result, cpu } = await driveMeasured(server, {
        ...target,
        connections,
        seconds,
        body: bodyFactory(`c${connections}`, existing),
      });
      rows.push({ database: label, scenario: `${connections} clients`, result, cpu });
      console.log(
        `${label} ${connections} clients: ${result.rps.toFixed(0)} upserts/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}`,
      );
      // The dialects right after the native run they are compared with, with as many
      // clients: this machine's speed moves too much for a ratio to an earlier figure.
      if (connections === headlineClients[label]) {
        const sources: string[] = [];
        for (const d of dialects) {
          const measured = await driveMeasured(server, {
            ...target,
            api: d.api,
            connections,
            seconds,
            body: d.bodies(`${d.api}${connections}`, d.api === 'redo' ? existing : sources),
          });
          const ofNative = measured.result.rps / result.rps;
          rows.push({
            database: label,
            scenario: `${d.name} upsert, ${connections} clients`,
            result: measured.result,
            cpu: measured.cpu,
            ofNative,
            note: `${ofNative.toFixed(2)}× native (target ${DIALECT_TARGET})`,
          });
          console.log(
            `${label} ${d.name} ${connections} clients: ${measured.result.rps.toFixed(0)} upserts/s, p99 ${measured.result.p99} ms, errors ${measured.result.errors}; native ${result.rps.toFixed(0)}/s, ${ofNative.toFixed(2)}× native (target ${DIALECT_TARGET})`,
          );
        }
      }
    }

    // 64 clients, one person: exactly one customer must come out of it.
    const hotStore = (await (
      await fetch(`${server.url}/v1/stores`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'hot' }),
      })
    ).json()) as { id: string; apiKey: string };
    let i = 0;
    const hot = await drive({
      url: server.url,
      storeId: hotStore.id,
      apiKey: hotStore.apiKey,
      connections: 64,
      seconds: Math.max(3, Math.round(seconds / 2)),
      body: () =>
        JSON.stringify({ email: 'hot@bench.example', customFields: { [`f${i++ % 200}`]: i } }),
    });
    const list = (await (
      await fetch(`${server.url}/v1/stores/${hotStore.id}/customers?limit=100`, {
        headers: { authorization: `Bearer ${hotStore.apiKey}` },
      })
    ).json()) as { data: unknown[] };
    const duplicates = list.data.length - 1;
    rows.push({
      database: label,
      scenario: '64 clients, one email',
      result: hot,
      note: `${list.data.length} customer(s): ${duplicates} duplicates`,
    });
    console.log(
      `${label} hot email: ${hot.rps.toFixed(0)} upserts/s, errors ${hot.errors}, customers ${list.data.length}`,
    );
    await andThen?.(target, existing);
  } finally {
    await server.stop();
  }
  return rss.stop();
}

/**
 * The ratio to pgbench's ceiling, measured in rounds: Clientele at 64 clients on
 * PostgreSQL, then pgbench's ceiling, then pgbench writing the same rows as an upsert
 * (for comparison), then the same load against Fastify with no database and no rules
 * (bench/floor-server.ts, the most any HTTP service reaches here). This machine's speed
 * moves from minute to minute, so each round's four runs follow one another and the
 * ratios are the medians of the rounds'.
 */
async function ratioRounds(databaseUrl: string, target: Target, existing: string[]) {
  const found: Round[] = [];
  const floorServer = await startFloorServer();
  try {
    const floorTarget = { url: floorServer.url, storeId: 'sto_floor', apiKey: 'none' };
    await drive({ ...floorTarget, connections: 16, seconds: 2, body: bodyFactory('warm', []) });
    for (let round = 1; round <= rounds; round++) {
      const clientele = await drive({
        ...target,
        connections: 64,
        seconds,
        body: bodyFactory(`r${round}`, existing),
      });
      const ceiling = pgbenchCeiling(databaseUrl, 64, seconds);
      const sameRows = pgbenchSameRows(databaseUrl, 64, seconds);
      const floor = await driveMeasured(floorServer, {
        ...floorTarget,
        connections: 64,
        seconds,
        body: bodyFactory(`floor${round}`, []),
      });
      found.push({ clientele, ceiling, sameRows, floor: floor.result, floorCpu: floor.cpu });
      console.log(
        `round ${round}: Clientele ${clientele.rps.toFixed(0)} upserts/s, pgbench ${ceiling.toFixed(0)}/s (${((clientele.rps / ceiling) * 100).toFixed(0)} %), pgbench same rows ${sameRows.toFixed(0)}/s, HTTP floor ${floor.result.rps.toFixed(0)}/s`,
      );
    }
  } finally {
    await floorServer.stop();
  }
  return found;
}

const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)}`;
const cpuCell = (c: CpuPerUpsert) =>
  [c.server, c.postgres, c.load].map((n) => (n < 1 ? '–' : n.toFixed(0))).join(' · ');

async function main() {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: checkout, stdio: 'inherit' });
  const rows: Row[] = [];
  const rss: Record<string, number> = {};

  const dir = mkdtempSync(join(tmpdir(), 'clientele-bench-'));
  try {
    rss.PGlite = await benchDatabase('PGlite', { CLIENTELE_DATA_DIR: dir, DATABASE_URL: '' }, rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  let ratio: Round[] = [];
  await withDatabase(serverUrl, 'clientele_bench', async (url) => {
    rss.PostgreSQL = await benchDatabase(
      'PostgreSQL',
      { DATABASE_URL: url },
      rows,
      async (target, existing) => {
        ratio = await ratioRounds(url, target, existing);
      },
    );
  });
  const floor = ratio[0]!;
  rows.push({
    database: 'none',
    scenario: 'HTTP floor, 64 clients (round 1)',
    result: floor.floor,
    cpu: floor.floorCpu,
    note: 'Fastify, fixed answer, no database',
  });

  const pg64 = rows.find((r) => r.database === 'PostgreSQL' && r.scenario === '64 clients')!.result;
  const lite16 = rows.find((r) => r.database === 'PGlite' && r.scenario === '16 clients')!.result;
  const ceiling = median(ratio.map((r) => r.ceiling));
  const clientele = median(ratio.map((r) => r.clientele.rps));
  const share = median(ratio.map((r) => r.clientele.rps / r.ceiling));
  const floorRps = median(ratio.map((r) => r.floor.rps));
  const sameRows = median(ratio.map((r) => r.sameRows));
  const sameShare = median(ratio.map((r) => r.clientele.rps / r.sameRows));

  const table = [
    '| database | scenario | upserts/s | p50 ms | p99 ms | errors | CPU µs/upsert: server · PostgreSQL · load | note |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.database} | ${r.scenario} | ${r.result.rps.toFixed(0)} | ${ms(r.result.p50)} | ${ms(r.result.p99)} | ${r.result.errors} | ${r.cpu ? cpuCell(r.cpu) : ''} | ${r.note ?? ''} |`,
    ),
  ].join('\n');
  const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
  const dialectSummary = Object.entries(headlineClients)
    .map(([database, clients]) => {
      const native = rows.find(
        (r) => r.database === database && r.scenario === `${clients} clients`,
      );
      const each = dialects.map((d) => {
        const r = rows.find(
          (x) => x.database === database && x.scenario === `${d.name} upsert, ${clients} clients`,
        );
        return r ? `${d.name} ${r.result.rps.toFixed(0)}/s (${r.ofNative!.toFixed(2)}×)` : '';
      });
      return `${database}, ${clients} clients: native ${native?.result.rps.toFixed(0)}/s, ${each.join(', ')}`;
    })
    .join('; ');
  const roundsTable = [
    '| round | Clientele, PostgreSQL, 64 clients | p99 ms | pgbench ceiling, 64 clients | ratio | pgbench, the same rows | ratio | HTTP floor, 64 clients |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...ratio.map(
      (r, i) =>
        `| ${i + 1} | ${r.clientele.rps.toFixed(0)} | ${ms(r.clientele.p99)} | ${r.ceiling.toFixed(0)} | ${pct(r.clientele.rps / r.ceiling)} | ${r.sameRows.toFixed(0)} | ${pct(r.clientele.rps / r.sameRows)} | ${r.floor.rps.toFixed(0)} |`,
    ),
    `| median | ${clientele.toFixed(0)} | | ${ceiling.toFixed(0)} | ${pct(share)} | ${sameRows.toFixed(0)} | ${pct(sameShare)} | ${floorRps.toFixed(0)} |`,
  ].join('\n');

  const pgVersion = execFileSync('psql', [serverUrl, '-Atc', 'show server_version'], {
    encoding: 'utf8',
  }).trim();
  const summary = [
    `- PostgreSQL, 64 clients: **${pg64.rps.toFixed(0)} upserts/s**, p99 ${ms(pg64.p99)} ms; in the ${ratio.length} rounds beside pgbench, median **${clientele.toFixed(0)}/s**, **${pct(share)} of the pgbench ceiling** (median ${ceiling.toFixed(0)}/s).`,
    `- For scale, the HTTP floor: Fastify answering the same requests with no database reaches ${floorRps.toFixed(0)}/s here (median); pgbench's ceiling is ${pct(ceiling / floorRps)} of it, half that ceiling ${pct(ceiling / 2 / floorRps)}. pgbench writing the rows an upsert writes (customer, identifier, history event; one transaction each) reaches ${sameRows.toFixed(0)}/s: Clientele makes ${pct(sameShare)} of that.`,
    `- PGlite, 16 clients: **${lite16.rps.toFixed(0)} upserts/s**, p99 ${ms(lite16.p99)} ms.`,
    `- Dialects, each right after the native run with as many clients (target ${DIALECT_TARGET}× native): ${dialectSummary}.`,
    `- Server RSS, peak: PGlite ${rss.PGlite!.toFixed(0)} MB, PostgreSQL ${rss.PostgreSQL!.toFixed(0)} MB.`,
  ].join('\n');
  console.log(`\n${table}\n\n${roundsTable}\n\n${summary}`);

  const doc = `# Benchmarks

Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: the real server (the built
\`dist/\`, one process, as \`npm start\` runs it) driven over HTTP by autocannon on the same
machine, ${seconds} s per scenario after a warm-up. Bodies: half new customers, half existing
ones; a phone number in one request of five, usually new; three custom fields (a STRING with
five values, a NUMBER, a BOOLEAN). The Redo and Voucherify rows send each platform's own
example body (\`PUT /compat/redo/v2.2/stores/{id}/customers\`, \`POST
/compat/voucherify/v1/customers\`), varied the same way, right after the native run with
as many clients; their note gives their rate as a share of that native rate (the target
is ${DIALECT_TARGET}). Rate limiting off, request logs off (\`LOG_LEVEL=warn\`);
\`synchronous_commit\` on.

Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB
(${(freemem() / 2 ** 30).toFixed(0)} GiB free at the end), Node ${process.version}, PostgreSQL ${pgVersion} on the
same machine with its default settings. Server, database and load generator share the 2 cores.

${summary}

${table}

The ratio to PostgreSQL's own ceiling, in rounds of four runs one after another:

${roundsTable}

The CPU column divides the CPU time each part used during the scenario by the upserts
done: the server process (PGlite runs inside it), all of PostgreSQL's processes, and
the benchmark process that generates the load. On 2 cores, their sum bounds the rate:
2,000,000 µs ÷ (sum) upserts/s at best.

The ceiling is PostgreSQL's own: pgbench running one \`INSERT … ON CONFLICT (store, email) DO
UPDATE\` with a JSONB merge of the custom fields and a phone-array append, with as many clients.
Beside it, for comparison only, pgbench storing what an upsert stores, one transaction
each: the customer row (with its sequence number), its email as an identifier row unique
in the store, a history event, keyed and constrained as Clientele's tables are
(\`bench/pgbench.ts\`); no look-up and no answer.
The HTTP floor is the same load generator against Fastify answering every request with a
fixed body of the real answer's shape, no database and no rules (\`bench/floor-server.ts\`):
what the server and the load generator spend per request before any work of Clientele's.
Its rate bounds every HTTP service on this machine, and its CPU column is what bare
Fastify spends per request (Clientele's own HTTP layer spends more: docs below).

## Run it again

\`\`\`sh
npm run bench                         # PGlite, then PostgreSQL at postgres://postgres@127.0.0.1:5432/test
BENCH_SECONDS=30 BENCH_DATABASE_URL=postgres://user@host:5432/db npm run bench
BENCH_ROUNDS=5 npm run bench          # five rounds of the ratio to pgbench's ceiling (default 3)
BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/clientele-prof' npm run bench   # profile the server
npm run bench:compare -- main~2      # another build against this one, run alternately (PostgreSQL, 64 clients)
COMPARE_DATABASE=pglite COMPARE_CLIENTS=16 COMPARE_ROUNDS=5 npm run bench:compare -- <revision>
COMPARE_SCENARIO=redo npm run bench:compare -- main   # Redo's upsert (or voucherify) instead of the native one
npm run bench:statements [-- <built worktree>]   # PostgreSQL's time per upsert by statement, on a server preloading pg_stat_statements (BENCH_STATEMENTS_URL, default port 5433)
\`\`\`

It creates and drops a database \`clientele_bench\` on that server, and a temporary PGlite
directory, and rewrites this page.

This machine's speed moves a great deal from hour to hour: judge a change by
\`bench:compare\` (both builds, alternately, in the same minutes), not by this page's
figures from another day.
`;
  // What was tried and what it bought is written by hand below the marker, and kept.
  const path = join(checkout, 'docs/benchmarks.md');
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const at = previous.indexOf(NOTES_MARKER);
  writeFileSync(path, `${doc}\n${at >= 0 ? previous.slice(at) : `${NOTES_MARKER}\n`}`);
  console.log(`\nwrote ${path}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

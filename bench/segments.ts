/**
 * `npm run bench:segments`: segments at size, on PostgreSQL (1,000,000 customers in one
 * store) and PGlite (200,000), five custom fields of mixed types, each figure printed
 * beside its ceiling (docs/benchmarks.md, "Segments"):
 *
 * - a saved segment's count read: p95 ≤ 5 ms;
 * - the preview of a two-condition filter (STRING eq, NUMBER range): p95 within 2× of
 *   PostgreSQL's own count(*) of the same predicate over a plain table with one typed,
 *   btree-indexed column per field, same rows, same run;
 * - building a segment over all customers: within 3× of that table's INSERT … SELECT;
 * - upserts with 20 saved segments: ≥ 0.8× the rate with none, same run.
 *
 * The customers are put into the real tables by INSERT … SELECT generate_series (as a
 * write would leave them: the row, its custom fields, their typed values). Upserts are
 * driven through the engine in process (clientele.customers.upsert, 64 at a time), so
 * the ratio is of the database work, without HTTP diluting it.
 * BENCH_SEGMENT_CUSTOMERS (PostgreSQL) and BENCH_SEGMENT_PGLITE (PGlite) set the sizes;
 * BENCH_SECONDS (default 5) each upsert run; BENCH_DATABASE_URL the PostgreSQL server.
 */
import { sql } from 'kysely';
import { Clientele } from '../src/core/clientele.js';
import { validateFilter } from '../src/core/segments/filter.js';
import { explainCount } from '../src/core/segments/matching.repository.js';
import { buildApp } from '../src/http/app.js';
import { fill } from './segment-fill.js';
import { withDatabase } from './server.js';

const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const sizes = {
  PostgreSQL: Number(process.env.BENCH_SEGMENT_CUSTOMERS ?? 1_000_000),
  PGlite: Number(process.env.BENCH_SEGMENT_PGLITE ?? 200_000),
};
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const tiers = ['bronze', 'silver', 'gold', 'platinum', 'none'];

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
}

async function timed<T>(run: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function samples(n: number, run: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await timed(run));
  return out;
}

/** Upserts per second through the engine, 64 at a time, for `seconds`. */
async function upsertRate(
  clientele: Clientele,
  storeId: string,
  n: number,
  forSeconds = seconds,
): Promise<number> {
  const ctx = { storeId, api: 'native', keyId: null };
  const deadline = performance.now() + forSeconds * 1000;
  let done = 0;
  let failed = 0;
  let k = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const g = 1 + ((k++ * 2654435761) % n);
      try {
        await clientele.customers.upsert(ctx, {
          email: `c${g}@bench.example`,
          customFields: { tier: tiers[k % 5] as string, points: (k * 37) % 10000, visits: k % 500 },
        });
        done++;
      } catch {
        failed++; // counted, not fatal: a loaded machine can time a connection out
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: 64 }, worker));
  if (failed > 0) console.log(`  (${failed} upserts failed)`);
  return done / ((performance.now() - start) / 1000);
}

const twoConditions = {
  and: [
    { field: 'customFields.tier', op: 'eq', value: 'gold' },
    { field: 'customFields.points', op: 'between', value: [1000, 2999] },
  ],
};

async function bench(label: string, clientele: Clientele, n: number): Promise<string[]> {
  const lines: string[] = [];
  const print = (line: string) => {
    console.log(line);
    lines.push(line);
  };
  const db = clientele.db;
  const store = await clientele.stores.create('segments bench');
  const storeId = store.id;
  await clientele.db
    .updateTable('stores')
    .set({ settings: JSON.stringify({ segmentsLimit: 500 }) })
    .where('id', '=', storeId)
    .execute();
  // The five fields, declared as a write declares them.
  await clientele.customers.upsert(
    { storeId, api: 'native', keyId: null },
    {
      email: 'seed@bench.example',
      customFields: {
        tier: 'gold',
        points: 1,
        vip: true,
        signup: '2020-01-01T00:00:00Z',
        visits: 1,
      },
    },
  );
  const filled = await timed(() => fill(db, storeId, n));
  print(`${label}: ${n.toLocaleString('en')} customers filled in ${(filled / 1000).toFixed(1)} s`);

  // Building, beside the plain table's INSERT … SELECT of the same ids.
  const plainBuild = await timed(async () => {
    await sql`
      INSERT INTO plain_members SELECT id FROM plain
      WHERE tier = 'gold' AND points BETWEEN 1000 AND 2999`.execute(db);
  });
  let segmentId = '';
  const build = await timed(async () => {
    segmentId = (await clientele.segments.create(storeId, { name: 'two', filter: twoConditions }))
      .id;
  });
  const buildAll = await timed(() =>
    clientele.segments.create(storeId, {
      name: 'everyone with points',
      filter: { field: 'customFields.points', op: 'is_set' },
    }),
  );
  const plainAll = await timed(async () => {
    await sql`INSERT INTO plain_members SELECT id FROM plain WHERE points IS NOT NULL`.execute(db);
  });
  print(
    `${label}: build (two conditions) ${build.toFixed(0)} ms vs plain INSERT … SELECT ${plainBuild.toFixed(0)} ms: ${(build / plainBuild).toFixed(2)}× (ceiling 3×)`,
  );
  print(
    `${label}: build (all ${n.toLocaleString('en')}) ${buildAll.toFixed(0)} ms vs plain ${plainAll.toFixed(0)} ms: ${(buildAll / plainAll).toFixed(2)}× (ceiling 3×)`,
  );

  // A saved segment's count: over HTTP (the figure), and its parts: the engine's read
  // in process, and the one-row SQL alone. Each warmed up first (JIT, connections).
  const { apiKey } = await clientele.keys.create(storeId);
  const app = await buildApp({ clientele });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const overHttp = async () => {
    const res = await fetch(`${address}/v1/stores/${storeId}/segments/${segmentId}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (res.status !== 200) throw new Error(`segment read: ${res.status}`);
    await res.json();
  };
  const bySql = () =>
    sql`SELECT member_count FROM segments WHERE store_id = ${storeId} AND id = ${segmentId}`.execute(
      db,
    );
  const inProcess = () => clientele.segments.get(storeId, segmentId);
  for (const run of [overHttp, inProcess, bySql]) await samples(50, run);
  const reads = await samples(200, overHttp);
  const engine = await samples(200, inProcess);
  const oneRow = await samples(200, bySql);
  await app.close();
  print(
    `${label}: saved count read p95 ${p95(reads).toFixed(2)} ms over HTTP (ceiling 5 ms); in process ${p95(engine).toFixed(2)} ms, its SQL alone ${p95(oneRow).toFixed(2)} ms`,
  );

  // The preview, beside count(*) over the plain table.
  const plainCount = await samples(30, () =>
    sql`SELECT count(*) FROM plain WHERE tier = 'gold' AND points BETWEEN 1000 AND 2999`.execute(
      db,
    ),
  );
  const preview = await samples(30, () => clientele.segments.preview(storeId, twoConditions));
  print(
    `${label}: preview p95 ${p95(preview).toFixed(1)} ms vs plain count(*) p95 ${p95(plainCount).toFixed(1)} ms: ${(p95(preview) / p95(plainCount)).toFixed(2)}× (ceiling 2×)`,
  );

  // The plans (docs/architecture.md shows them).
  const types = new Map((await clientele.fields.list(storeId)).map((f) => [f.name, f.type]));
  const limits = { leaves: 50, depth: 4 };
  const range = { field: 'customFields.points', op: 'between', value: [1000, 1099] };
  for (const [name, filter] of [
    ['two conditions', twoConditions],
    ['a NUMBER range', range],
  ] as const) {
    const plan = await explainCount(db, storeId, validateFilter(filter, types, limits), Date.now());
    print(`${label}: plan of the preview count, ${name}:\n    ${plan.join('\n    ')}`);
  }
  const plainPlan = await sql<{ 'QUERY PLAN': string }>`
    EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)
    SELECT count(*) FROM plain WHERE tier = 'gold' AND points BETWEEN 1000 AND 2999`.execute(db);
  print(
    `${label}: plan of the plain table's count:\n    ${plainPlan.rows.map((r) => r['QUERY PLAN']).join('\n    ')}`,
  );

  // Upserts, without segments and then with 20.
  for (const s of await clientele.segments.list(storeId)) {
    await clientele.segments.remove(storeId, s.id);
  }
  await upsertRate(clientele, storeId, n, 1); // warm-up: the first run would pay the JIT's
  const bare = await upsertRate(clientele, storeId, n);
  for (let i = 0; i < 20; i++) {
    await clientele.segments.create(storeId, {
      name: `s${i}`,
      filter:
        i % 2
          ? { field: 'customFields.tier', op: 'eq', value: tiers[i % 5] }
          : { field: 'customFields.points', op: 'between', value: [i * 400, i * 400 + 999] },
    });
  }
  const withSegments = await upsertRate(clientele, storeId, n);
  print(
    `${label}: upserts ${bare.toFixed(0)}/s without segments, ${withSegments.toFixed(0)}/s with 20: ${(withSegments / bare).toFixed(2)}× (floor 0.8×)`,
  );
  return lines;
}

async function main() {
  const all: string[] = [];
  await withDatabase(serverUrl, 'clientele_bench_segments', async (url) => {
    const clientele = await Clientele.open({ databaseUrl: url, migrate: true, poolSize: 8 });
    try {
      all.push(...(await bench('PostgreSQL', clientele, sizes.PostgreSQL)));
    } finally {
      await clientele.close();
    }
  });
  const pglite = await Clientele.open({ migrate: true });
  try {
    all.push(...(await bench('PGlite', pglite, sizes.PGlite)));
  } finally {
    await pglite.close();
  }
  console.log(`\n${all.join('\n')}`);
}

await main();

import pg from 'pg';
import { bodyFactory, drive } from './load.js';
import { credentials, driveMeasured, startServer, withDatabase } from './server.js';

/**
 * `npm run bench:statements [-- <build directory>]`: PostgreSQL's time per upsert, statement
 * by statement (nested ones too), for native upserts at 64 clients for 8 s, from
 * `pg_stat_statements`. It needs a server that preloads it (`shared_preload_libraries =
 * 'pg_stat_statements'`, `pg_stat_statements.track = all`), named by
 * BENCH_STATEMENTS_URL (default a second cluster on port 5433), so that the shared test
 * server need not be restarted. Another build (a worktree of an older commit, built) is
 * measured by giving its directory. Figures are per upsert of the run: compare two builds
 * within one hour (docs/benchmarks.md says why).
 */
const serverUrl = process.env.BENCH_STATEMENTS_URL ?? 'postgres://postgres@127.0.0.1:5433/test';
const root = process.argv[2] ?? undefined;
const seconds = 8;
await withDatabase(serverUrl, 'clientele_pgss', async (url) => {
  const server = await startServer({ DATABASE_URL: url }, root);
  const target = { url: server.url, ...credentials(server) };
  const existing: string[] = [];
  await drive({ ...target, connections: 16, seconds: 3, body: bodyFactory('warm', existing) });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await admin.query('SELECT pg_stat_statements_reset()');
  const { result, cpu } = await driveMeasured(server, {
    ...target,
    api: 'native',
    connections: 64,
    seconds,
    body: bodyFactory('run', existing),
  });
  const n = result.rps * seconds;
  console.log(
    `${result.rps.toFixed(0)} upserts/s; CPU µs/upsert server ${cpu.server.toFixed(0)} · PostgreSQL ${cpu.postgres.toFixed(0)} · load ${cpu.load.toFixed(0)}`,
  );
  console.log(
    'PostgreSQL time per upsert, by statement (nested ones are inside their caller too):',
  );
  const rows = await admin.query(
    `SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS q FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT 40`,
  );
  for (const r of rows.rows)
    console.log(
      `${((r.total_exec_time * 1000) / n).toFixed(1).padStart(6)} µs/upsert  ${String(r.calls).padStart(7)} calls  ${r.q}`,
    );
  await admin.end();
  await server.stop();
});
process.exit(0);

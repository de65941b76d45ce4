/**
 * `npm run bench:import`: bulk import and export through the real server (one process,
 * the built dist/), on PostgreSQL (BENCH_DATABASE_URL) and on PGlite. Prints each figure
 * beside its ceiling; asserts nothing.
 *
 * A generated file of BENCH_ROWS (1,000,000) NDJSON rows: half customers the store has
 * already (imported first, untimed for the headline), half new; each with an email, a
 * phone number and three custom fields (NUMBER, STRING of a few values, BOOLEAN).
 *
 * - PostgreSQL: the file's import time (ceiling 20 s) and rate, beside 0.3x the rate of
 *   PostgreSQL's own COPY (psql \copy) of the same rows into the same tables (customers,
 *   their identifiers and one change record each), measured in this run.
 * - CSV against NDJSON: the first half's rows into an empty store as NDJSON and as CSV
 *   (floor 0.8x).
 * - Server RSS, peak over the whole run (ceiling 300 MB).
 * - Export of the store's customers, rows/s (floor 50,000).
 * - Interactive upserts during the import: the p99 of a paced native upsert load
 *   (BENCH_INTERACTIVE_RATE a second, default 50, for BENCH_INTERACTIVE_SECONDS, default
 *   10) while the main import runs, beside its p99 just before the import on the same
 *   server (ceiling 3x).
 * - PGlite: the same file's import time (ceiling 90 s) with BENCH_PGLITE_ROWS rows
 *   (default BENCH_ROWS), after its first half; BENCH_PGLITE=0 skips it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { bodyFactory, pace } from './load.js';

type Paced = Awaited<ReturnType<typeof pace>>;

import { type BenchServer, credentials, startServer, watchRss, withDatabase } from './server.js';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const pgliteRows = Number(process.env.BENCH_PGLITE_ROWS ?? rows);
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(join(tmpdir(), 'clientele-bench-import-'));
const tiers = ['bronze', 'silver', 'gold', 'platinum'];

interface Person {
  email: string;
  phone: string;
  points: number;
  tier: string;
  vip: boolean;
}

/** Row i: customer i (the first half are the existing ones, the second half new). */
function person(i: number, round: number): Person {
  return {
    email: `bench${i}@example.com`,
    // Area code 415: the interactive load's numbers (bench/load.ts) are in 202.
    phone: `+1415${String(2_000_000 + i).padStart(7, '0')}`,
    points: i + round,
    tier: tiers[(i + round) % tiers.length] as string,
    vip: (i + round) % 2 === 0,
  };
}

const ndjsonLine = (p: Person) =>
  `${JSON.stringify({ email: p.email, phoneNumber: p.phone, customFields: { points: p.points, tier: p.tier, vip: p.vip } })}\n`;
const csvLine = (p: Person) => `${p.email},${p.phone},${p.points},${p.tier},${p.vip}\n`;

/** Writes a file a piece at a time (a million rows never held as one string). */
function writeFile(
  name: string,
  header: string,
  from: number,
  to: number,
  line: (i: number) => string,
) {
  const file = join(dir, name);
  writeFileSync(file, header);
  let text = '';
  for (let i = from; i < to; i++) {
    text += line(i);
    if (text.length > 1 << 20) {
      writeFileSync(file, text, { flag: 'a' });
      text = '';
    }
  }
  writeFileSync(file, text, { flag: 'a' });
  return file;
}

async function api(server: BenchServer, method: string, path: string, init: RequestInit = {}) {
  const { storeId, apiKey } = credentials(server);
  const res = await fetch(`${server.url}/v1/stores/${storeId}${path}`, {
    method,
    ...init,
    headers: { authorization: `Bearer ${apiKey}`, ...init.headers },
  });
  return res;
}

/** Imports a file through the API into the server's default store; seconds until it ended. */
async function timeImport(server: BenchServer, file: string, type: string) {
  const { createReadStream } = await import('node:fs');
  const { Readable } = await import('node:stream');
  const started = performance.now();
  const res = await api(server, 'POST', '/imports', {
    headers: { 'content-type': type, 'content-length': String(statSync(file).size) },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const job = (await res.json()) as { id: string };
  if (res.status !== 202) throw new Error(`import refused: ${JSON.stringify(job)}`);
  for (;;) {
    const now = (await (await api(server, 'GET', `/imports/${job.id}`)).json()) as {
      status: string;
      processed: number;
      failed: number;
      created: number;
      updated: number;
    };
    if (now.status !== 'queued' && now.status !== 'running') {
      const seconds = (performance.now() - started) / 1000;
      if (now.status !== 'completed' || now.failed > 0) {
        throw new Error(`import ended ${now.status} with ${now.failed} failed`);
      }
      return { seconds, ...now };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function timeExport(server: BenchServer) {
  const started = performance.now();
  const res = await api(server, 'GET', '/customers/export');
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const b of chunk) if (b === 10) lines++;
  }
  return { lines, seconds: (performance.now() - started) / 1000 };
}

/**
 * PostgreSQL's own COPY of the same rows into the same tables, for a store of its own:
 * each customer's row, its two identifiers and one change record, as the import writes
 * them. Seconds for the three COPYs (psql's \copy, streamed from this machine).
 */
function timeCopy(url: string, storeId: string, count: number): number {
  const now = new Date().toISOString();
  const customers = writeFile('copy-customers.tsv', '', 0, count, (i) => {
    const p = person(i, 0);
    const fields = JSON.stringify({ points: p.points, tier: p.tier, vip: p.vip });
    return `${storeId}\tcust_copy${i}\t${i + 1}\t${p.email}\t{${p.phone}}\t${fields}\t${now}\t${now}\n`;
  });
  const identifiers = writeFile(
    'copy-identifiers.tsv',
    '',
    0,
    count,
    (i) =>
      `${storeId}\temail\t${person(i, 0).email}\tcust_copy${i}\n${storeId}\tphone\t${person(i, 0).phone}\tcust_copy${i}\n`,
  );
  const events = writeFile('copy-events.tsv', '', 0, count, (i) => {
    const p = person(i, 0);
    const changes = JSON.stringify({ email: { before: null, after: p.email } });
    return `${storeId}\tevt_copy${i}\tcust_copy${i}\tcreated\timport\t${changes}\t${now}\t0\t1\n`;
  });
  const copy = (table: string, columns: string, file: string) => {
    const started = performance.now();
    const out = spawnSync(
      'psql',
      [url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${table} (${columns}) FROM '${file}'`],
      {
        encoding: 'utf8',
      },
    );
    if (out.status !== 0) throw new Error(`COPY ${table} failed: ${out.stderr}`);
    return (performance.now() - started) / 1000;
  };
  return (
    copy(
      'customers',
      'store_id, id, seq, email, phone_numbers, custom_fields, created_at, updated_at',
      customers,
    ) +
    copy('customer_identifiers', 'store_id, kind, value, customer_id', identifiers) +
    copy(
      'customer_events',
      'store_id, id, customer_id, type, api, changes, created_at, previous_version, version',
      events,
    )
  );
}

const half = Math.floor(rows / 2);

const interactiveRate = Number(process.env.BENCH_INTERACTIVE_RATE ?? 50);
const interactiveSeconds = Number(process.env.BENCH_INTERACTIVE_SECONDS ?? 10);

/** A paced native upsert load on the server's default store (new customers, other emails). */
function interactive(server: BenchServer, seed: string): Promise<Paced> {
  return pace({
    url: server.url,
    ...credentials(server),
    connections: 8,
    seconds: interactiveSeconds,
    rate: interactiveRate,
    body: bodyFactory(seed, []),
  });
}

/**
 * The main import with the interactive load beside it: the load starts a second after the
 * import (its file streamed, its rows being written) and runs while it does.
 */
async function importBeside(server: BenchServer, file: string) {
  const quiet = await interactive(server, 'quiet');
  const importing = timeImport(server, file, 'application/x-ndjson');
  await new Promise((r) => setTimeout(r, 1000));
  const during = await interactive(server, 'during');
  return { main: await importing, quiet, during };
}

function printInteractive(quiet: Paced, during: Paced, importSeconds: number) {
  const ratio = during.p99 / Math.max(quiet.p99, 1);
  const overlap =
    importSeconds >= interactiveSeconds + 1 ? '' : ' (the import ended before the load did)';
  console.log(
    `  interactive upserts (${interactiveRate}/s, native): p99 ${quiet.p99.toFixed(1)} ms before the import, ${during.p99.toFixed(1)} ms during it${overlap}; ${ratio.toFixed(2)}x (ceiling 3x: ${verdict(ratio <= 3)}); errors ${quiet.errors + during.errors}, not sent ${quiet.notSent + during.notSent}`,
  );
}

function files(count: number) {
  const h = Math.floor(count / 2);
  return {
    firstHalf: writeFile(`first-${count}.ndjson`, '', 0, h, (i) => ndjsonLine(person(i, 0))),
    firstHalfCsv: writeFile(
      `first-${count}.csv`,
      'email,phoneNumber,customFields.points,customFields.tier,customFields.vip\n',
      0,
      h,
      (i) => csvLine(person(i, 0)),
    ),
    // Every row changes its customer: the first half's existing ones get new values.
    all: writeFile(`all-${count}.ndjson`, '', 0, count, (i) => ndjsonLine(person(i, 1))),
  };
}

const f = (n: number) => Math.round(n).toLocaleString('en-US');
const verdict = (ok: boolean) => (ok ? 'within' : 'MISSED');

async function onPostgres() {
  const { firstHalf, firstHalfCsv, all } = files(rows);
  await withDatabase(serverUrl, 'clientele_bench_import', async (url) => {
    const server = await startServer({ DATABASE_URL: url });
    const rss = watchRss(server.pid);
    try {
      const seedNd = await timeImport(server, firstHalf, 'application/x-ndjson');
      const { main, quiet, during } = await importBeside(server, all);
      const exported = await timeExport(server);
      // CSV against NDJSON: the same rows into an empty store, each way.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { storeId } = credentials(server);
      await client.query('DELETE FROM import_errors');
      await client.query('DELETE FROM customer_events WHERE store_id = $1', [storeId]);
      await client.query('DELETE FROM customer_identifiers WHERE store_id = $1', [storeId]);
      await client.query('DELETE FROM customers WHERE store_id = $1', [storeId]);
      const csv = await timeImport(server, firstHalfCsv, 'text/csv');
      await client.query(
        `INSERT INTO stores (id, name, settings) VALUES ('sto_copybench', 'copy bench', '{}')`,
      );
      await client.end();
      const copySeconds = timeCopy(url, 'sto_copybench', rows);
      const peak = rss.stop();

      const rate = rows / main.seconds;
      const copyRate = rows / copySeconds;
      console.log(`PostgreSQL, ${f(rows)} rows (${f(half)} existing, ${f(rows - half)} new):`);
      console.log(
        `  import: ${main.seconds.toFixed(1)} s (ceiling 20 s at 1,000,000 rows: ${verdict(main.seconds * (1_000_000 / rows) <= 20)}), ${f(rate)} rows/s; created ${f(main.created)}, updated ${f(main.updated)}`,
      );
      printInteractive(quiet, during, main.seconds);
      console.log(
        `  COPY of the same rows into the same tables: ${copySeconds.toFixed(1)} s, ${f(copyRate)} rows/s; import/COPY ${(rate / copyRate).toFixed(2)}x (floor 0.3x: ${verdict(rate >= 0.3 * copyRate)})`,
      );
      const ndRate = half / seedNd.seconds;
      const csvRate = half / csv.seconds;
      console.log(
        `  ${f(half)} new rows into an empty store: NDJSON ${f(ndRate)} rows/s, CSV ${f(csvRate)} rows/s; CSV/NDJSON ${(csvRate / ndRate).toFixed(2)}x (floor 0.8x: ${verdict(csvRate >= 0.8 * ndRate)})`,
      );
      console.log(
        `  export: ${f(exported.lines)} customers in ${exported.seconds.toFixed(1)} s, ${f(exported.lines / exported.seconds)} rows/s (floor 50,000: ${verdict(exported.lines / exported.seconds >= 50_000)})`,
      );
      console.log(`  server RSS peak: ${f(peak)} MB (ceiling 300 MB: ${verdict(peak <= 300)})`);
    } finally {
      await server.stop();
    }
  });
}

async function onPglite() {
  const { firstHalf, all } = files(pgliteRows);
  const dataDir = join(dir, 'pglite');
  const server = await startServer({ CLIENTELE_DATA_DIR: dataDir, DATABASE_URL: '' });
  const rss = watchRss(server.pid);
  try {
    await timeImport(server, firstHalf, 'application/x-ndjson');
    const { main, quiet, during } = await importBeside(server, all);
    const peak = rss.stop();
    const scaled = main.seconds * (1_000_000 / pgliteRows);
    console.log(`PGlite, ${f(pgliteRows)} rows (half existing):`);
    console.log(
      `  import: ${main.seconds.toFixed(1)} s, ${f(pgliteRows / main.seconds)} rows/s (ceiling 90 s at 1,000,000 rows: ${verdict(scaled <= 90)}${pgliteRows === 1_000_000 ? '' : `, ${scaled.toFixed(0)} s at this rate`})`,
    );
    printInteractive(quiet, during, main.seconds);
    console.log(`  server RSS peak: ${f(peak)} MB (ceiling 300 MB: ${verdict(peak <= 300)})`);
  } finally {
    await server.stop();
  }
}

try {
  await onPostgres();
  if (process.env.BENCH_PGLITE !== '0') await onPglite();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import {
  bootstrapCredentials,
  runCli,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * Imports as real processes run them: killed with SIGKILL in the middle of a job and
 * started again, two processes on one PostgreSQL, and the clientele command.
 */

let database: TestDatabase;
let dir: string;
let env: NodeJS.ProcessEnv;
const servers: ServerProcess[] = [];

beforeEach(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'clientele-imports-'));
  env = {
    CLIENTELE_DATA_DIR: join(dir, 'data'),
    DATABASE_URL: database.url ?? '',
    CLIENTELE_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    // Small batches and a short lease: many checkpoints, and a quick takeover.
    CLIENTELE_IMPORT_BATCH_ROWS: '20',
    CLIENTELE_IMPORT_LEASE_MS: '3000',
  };
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(): Promise<ServerProcess> {
  const server = await startServerProcess(env);
  servers.push(server);
  return server;
}

const CUSTOMERS = 100;
const ROUNDS = 40;

/**
 * A file in which every row changes its customer: round k sets each customer's `n` to k.
 * Applied exactly once, in order, each customer ends at n = ROUNDS - 1 with ROUNDS change
 * records; a batch applied twice would add records (n going back), one skipped remove one.
 */
function roundsFile(): string {
  const lines: string[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    for (let c = 0; c < CUSTOMERS; c++) {
      lines.push(JSON.stringify({ email: `r${c}@example.com`, customFields: { n: k } }));
    }
  }
  return `${lines.join('\n')}\n`;
}

const api =
  (url: string, key: string) =>
  async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...init.headers },
    });
    return { status: res.status, body: await res.json() };
  };

async function untilEnded(
  get: (path: string) => Promise<{ body: { status: string } }>,
  path: string,
) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { body } = await get(path);
    if (['completed', 'failed', 'cancelled'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`still ${body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every customer was written once per round, and ended at the last round. */
async function expectEachRowOnce(get: ReturnType<typeof api>, storeId: string, files = 1) {
  for (let c = 0; c < CUSTOMERS; c++) {
    const { body: customer } = await get(`/v1/stores/${storeId}/customers?email=r${c}@example.com`);
    expect(customer.customFields.n).toBe(ROUNDS - 1);
    const { body: events } = await get(
      `/v1/stores/${storeId}/customers/${customer.id}/events?limit=100`,
    );
    expect(events.data).toHaveLength(ROUNDS * files);
    expect(new Set(events.data.map((e: { api: string }) => e.api))).toEqual(new Set(['import']));
  }
}

describe('imports in real processes', () => {
  it('resumes after kill -9 from its checkpoint, applying no row twice and skipping none', async () => {
    const first = await serve();
    const { storeId, apiKey } = bootstrapCredentials(first.output());
    const get = api(first.url, apiKey);
    const posted = await get(`/v1/stores/${storeId}/imports`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: roundsFile(),
    });
    expect(posted.status).toBe(202);
    const id = posted.body.id;
    for (;;) {
      const { body } = await get(`/v1/stores/${storeId}/imports/${id}`);
      if (body.processed >= 400) break;
      expect(body.status).not.toBe('completed');
      await new Promise((r) => setTimeout(r, 10));
    }
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await serve();
    const again = api(second.url, apiKey);
    const job = await untilEnded(again, `/v1/stores/${storeId}/imports/${id}`);
    expect(job).toMatchObject({
      status: 'completed',
      total: CUSTOMERS * ROUNDS,
      processed: CUSTOMERS * ROUNDS,
      created: CUSTOMERS,
      updated: CUSTOMERS * (ROUNDS - 1),
      unchanged: 0,
      failed: 0,
    });
    await expectEachRowOnce(again, storeId);
  }, 240_000);

  it.runIf(onPostgres)(
    'two processes on one PostgreSQL run a job once',
    async () => {
      const a = await serve();
      const b = await serve();
      const { storeId, apiKey } = bootstrapCredentials(a.output() + b.output());
      const getA = api(a.url, apiKey);
      const getB = api(b.url, apiKey);
      const jobs = await Promise.all(
        [getA, getB].map(async (get) =>
          get(`/v1/stores/${storeId}/imports`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson' },
            body: roundsFile(),
          }),
        ),
      );
      // With importsAtOnce 1, the store never runs both at once.
      let bothRunning = false;
      for (;;) {
        const { body } = await getB(`/v1/stores/${storeId}/imports`);
        const statuses = body.data.map((j: { status: string }) => j.status);
        if (statuses.filter((s: string) => s === 'running').length > 1) bothRunning = true;
        if (statuses.every((s: string) => s === 'completed')) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(bothRunning).toBe(false);
      // Whichever was posted first, the one that ran first created the customers.
      const [one, two] = (
        await Promise.all(
          jobs.map(async (j) => (await getA(`/v1/stores/${storeId}/imports/${j.body.id}`)).body),
        )
      ).sort((x, y) => String(x.startedAt).localeCompare(String(y.startedAt)));
      expect(one).toMatchObject({ created: CUSTOMERS, updated: CUSTOMERS * (ROUNDS - 1) });
      // The second file finds every customer at its last round: round 0 changes each again.
      expect(two.processed).toBe(CUSTOMERS * ROUNDS);
      expect(two.failed).toBe(0);
    },
    240_000,
  );

  it('clientele import streams a file to a server with progress, names refused rows, exits 1; export reads them back', async () => {
    const server = await serve();
    const { storeId, apiKey } = bootstrapCredentials(server.output());
    const file = join(dir, 'people.csv');
    writeFileSync(
      file,
      'email;firstName;phoneNumber\r\nann@example.com;Ann;+1 202 555 0143\r\nbad;Bad;\r\ncy@example.com;Cy;\r\n',
    );
    const errors = join(dir, 'refused.ndjson');
    const run = await runCli(
      [
        'import',
        file,
        '--store',
        storeId,
        '--url',
        server.url,
        '--key',
        apiKey,
        '--errors',
        errors,
      ],
      env,
      60_000,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/completed: 3\/3 rows +\d[\d,]* rows\/s .*1 failed/);
    expect(run.stderr).toContain(`1 refused rows written to ${errors}`);
    const refused = readFileSync(errors, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(refused).toEqual([
      expect.objectContaining({ row: 2, line: 3, code: 'validation_failed', path: 'email' }),
    ]);

    const exported = await runCli(
      ['export', '--store', storeId, '--format', 'csv', '--url', server.url, '--key', apiKey],
      env,
    );
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split('\r\n');
    expect(lines[0]?.startsWith('externalId,email,phoneNumbers,firstName')).toBe(true);
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[1])
        .sort(),
    ).toEqual(['ann@example.com', 'cy@example.com']);

    // Without --url, on the database itself (the server stopped first: PGlite is one process's).
    server.child.kill('SIGKILL');
    await server.exited;
    servers.splice(0);
    const ndjson = join(dir, 'more.ndjson');
    writeFileSync(ndjson, `${JSON.stringify({ email: 'local@example.com' })}\n`);
    const local = await runCli(['import', ndjson, '--store', storeId], env, 60_000);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).toContain('created 1, updated 0, unchanged 0, failed 0');
    const all = await runCli(['export', '--store', storeId], env);
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).email)
        .sort(),
    ).toEqual(['ann@example.com', 'cy@example.com', 'local@example.com']);
  }, 240_000);
});

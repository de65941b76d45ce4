import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { Clientele, type ClienteleOptions } from '../../src/core/clientele.js';

/**
 * A database of the test's own: an in-memory PGlite by default, or, when
 * TEST_DATABASE_URL is set, a fresh PostgreSQL database created on that server and
 * dropped afterwards.
 */
export interface TestDatabase {
  kind: 'pglite' | 'postgres';
  /** The PostgreSQL URL of this test's database (postgres only): open more instances on it. */
  url: string | undefined;
  /** Opens the engine on it; `options` add to (or change) what tests run with. */
  open(options?: Partial<ClienteleOptions>): Promise<Clientele>;
  drop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

/** What every test's engine runs with: a secret key, and webhooks allowed to 127.0.0.1 over http. */
export const testOptions: Partial<ClienteleOptions> = {
  secretKey: 'test-secret-key-0123456789abcdef0123456789',
  webhooks: { allowPrivate: true, allowHttp: true },
};

/**
 * A database of the file's own and the engine opened on it: made before the file's tests,
 * closed and dropped after them. Its fields are set once the tests run.
 */
export function engineForFile(): { database: TestDatabase; clientele: Clientele } {
  const engine = {} as { database: TestDatabase; clientele: Clientele };
  beforeAll(async () => {
    engine.database = await createTestDatabase();
    engine.clientele = await engine.database.open();
  });
  afterAll(async () => {
    await engine.clientele?.close();
    await engine.database?.drop();
  });
  return engine;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    return {
      kind: 'pglite',
      url: undefined,
      open: (options) =>
        Clientele.open({ ...testOptions, ...options, dataDir: 'memory://', migrate: true }),
      drop: async () => {},
    };
  }
  const name = `clientele_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let migrated = false;
  return {
    kind: 'postgres',
    url: url.toString(),
    open: async (options) => {
      const clientele = await Clientele.open({
        ...testOptions,
        ...options,
        databaseUrl: url.toString(),
        migrate: !migrated,
        poolSize: 10,
      });
      migrated = true;
      return clientele;
    },
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Waits until the event feed shows every write acknowledged so far. The feed shows a
 * change once every transaction older than it has ended, and on PostgreSQL transaction
 * ids are the server's: another test file's transaction, in another database, holds
 * the feed back while it runs. Once every transaction older than one begun now has
 * ended, nothing acknowledged before is held back.
 */
export async function feedCaughtUp(db: Clientele['db'] | string): Promise<void> {
  // A PostgreSQL URL (a test of server processes), or the test's own handle.
  let client: pg.Client | undefined;
  if (typeof db === 'string') {
    client = new pg.Client({ connectionString: db });
    await client.connect();
  }
  const ask = async <T>(query: string, values: unknown[] = []): Promise<T | undefined> =>
    client
      ? (await client.query(query, values)).rows[0]
      : (await sql.raw<T>(query.replace('$1', `'${values[0]}'`)).execute(db as Clientele['db']))
          .rows[0];
  try {
    const now = (await ask<{ now: string }>('SELECT pg_current_xact_id()::text AS now'))?.now;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const caught = await ask<{ ok: boolean }>(
        'SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS ok',
        [now],
      );
      if (caught?.ok) return;
      if (Date.now() > deadline) throw new Error('the feed did not catch up within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await client?.end();
  }
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Clientele } from '../../src/core/clientele.js';

/**
 * A database of the test's own: an in-memory PGlite by default, or, when
 * TEST_DATABASE_URL is set, a fresh PostgreSQL database created on that server and
 * dropped afterwards.
 */
export interface TestDatabase {
  kind: 'pglite' | 'postgres';
  /** The PostgreSQL URL of this test's database (postgres only): open more instances on it. */
  url: string | undefined;
  open(): Promise<Clientele>;
  drop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    return {
      kind: 'pglite',
      url: undefined,
      open: () => Clientele.open({ dataDir: 'memory://', migrate: true }),
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
    open: async () => {
      const clientele = await Clientele.open({
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

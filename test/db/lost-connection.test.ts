import { sql } from 'kysely';
import pg from 'pg';
import { expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/core/db/availability.js';
import { engineForFile, onPostgres } from '../helpers/database.js';

/**
 * A connection PostgreSQL ends while the process holds it between two statements (a
 * transaction's, waiting on JavaScript): node-postgres tells it as an 'error' event on
 * the client, which the pool listens for only while the client is idle in it. Unheard,
 * node ends the whole process (the server died so when its database stopped).
 */
const engine = engineForFile();

it.skipIf(!onPostgres)(
  'a connection lost between two statements fails its transaction, as an outage, and not the process',
  async () => {
    const admin = new pg.Client({ connectionString: engine.database.url });
    await admin.connect();
    try {
      const transaction = engine.clientele.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        // The client hears of it now, between statements, with no query to fail.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await sql`SELECT 1`.execute(trx);
      });
      const error = await transaction.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      // Answered 503 with Retry-After by every API, as any outage.
      expect(isDatabaseUnavailable(error)).toBe(true);
      // The pool goes on, on a new connection.
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(engine.clientele.db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
    }
  },
);

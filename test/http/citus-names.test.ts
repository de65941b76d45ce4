import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clientele } from '../../src/core/clientele.js';
import { type StoreClient, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

/**
 * On a Citus cluster, tables distributed by store_id live in shards whose constraints
 * and indexes carry a numeric suffix (`customer_identifiers_pkey_102103`), and a shard's
 * unique violation names that. Here, in a database of its own, every constraint and
 * index is renamed so, and a race for one new email still makes one customer and
 * answers every request. PostgreSQL only: PGlite has one connection, so nothing races.
 *
 * Two app instances, as two processes, each with a connection for every request it is
 * sent: the requests wait for one another on the database's locks, not for a pooled
 * connection (whose 1.5 s wait, on a busy machine, would answer 503 to the last ones).
 */
const REQUESTS = 50;
let database: TestDatabase;
let instances: TestApp[] = [];
let clients: StoreClient[];

beforeAll(async () => {
  if (!onPostgres) return;
  database = await createTestDatabase();
  const url = database.url!;
  const own: TestDatabase = {
    ...database,
    open: () => Clientele.open({ databaseUrl: url, migrate: true, poolSize: REQUESTS / 2 }),
  };
  instances = [await startTestApp(own), await startTestApp(own)];
  await renameAsShards(url);
  const store = await instances[0]!.createStore();
  clients = instances.map((i) => i.as(store));
});
afterAll(async () => {
  for (const i of instances) await i.close();
  await database?.drop();
});

/** Each unique or primary key, then each other index, gets a shard's suffix. */
async function renameAsShards(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const constraints = await client.query<{ table: string; name: string }>(
      `SELECT conrelid::regclass::text AS table, conname AS name FROM pg_constraint
       WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u')`,
    );
    let shard = 102008;
    for (const { table, name } of constraints.rows) {
      await client.query(
        `ALTER TABLE ${pg.escapeIdentifier(table)}
         RENAME CONSTRAINT ${pg.escapeIdentifier(name)} TO ${pg.escapeIdentifier(`${name}_${shard++}`)}`,
      );
    }
    const indexes = await client.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes
       WHERE schemaname = 'public' AND indexname !~ '_[0-9]+$'`,
    );
    for (const { name } of indexes.rows) {
      await client.query(
        `ALTER INDEX ${pg.escapeIdentifier(name)} RENAME TO ${pg.escapeIdentifier(`${name}_${shard++}`)}`,
      );
    }
    const left = await client.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname !~ '_[0-9]+$'`,
    );
    expect(left.rows).toEqual([]);
    const identity = await client.query(
      `SELECT conname FROM pg_constraint WHERE conrelid = 'customer_identifiers'::regclass
       AND contype = 'p'`,
    );
    expect(identity.rows[0].conname).toMatch(/^customer_identifiers_pkey_\d+$/);
  } finally {
    await client.end();
  }
}

describe.skipIf(!onPostgres)('constraints named as on a Citus shard', () => {
  it('50 concurrent upserts of one new email through two instances: every answer 2xx, one customer', async () => {
    // Each names a custom field of its own, not yet declared: none is batched, so every
    // one is a transaction of its own racing the others to claim the email.
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        clients[i % clients.length]!.upsert({
          email: 'shard-race@example.com',
          customFields: { [`shard_field_${i}`]: i },
        }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(
      statuses.filter((s) => s < 200 || s >= 300),
      responses
        .filter((r) => r.statusCode >= 300)
        .map((r) => r.body)
        .join('\n'),
    ).toEqual([]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(new Set(responses.map((r) => r.json().customer.id)).size).toBe(1);

    const list = (await clients[0]!.get('/customers?limit=100')).json().data;
    expect(
      list.filter((c: { email: string }) => c.email === 'shard-race@example.com'),
    ).toHaveLength(1);
    const customer = (await clients[0]!.get('/customers?email=shard-race%40example.com')).json();
    expect(Object.keys(customer.customFields)).toHaveLength(REQUESTS);
    expect(customer.version).toBe(REQUESTS);
  });
});

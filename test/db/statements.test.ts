import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Clientele } from '../../src/core/clientele.js';
import { createTestDatabase, type TestDatabase, testOptions } from '../helpers/database.js';

/**
 * The upsert's statements that only call functions go by name (db/statements.ts): each
 * connection parses them once. One connection, so that what it prepared can be read
 * back from it.
 */
let database: TestDatabase;
const opened: Clientele[] = [];

async function oneConnection(): Promise<Clientele> {
  const first = await database.open();
  opened.push(first);
  if (database.kind === 'pglite') return first; // PGlite is one connection already
  const single = await Clientele.open({ ...testOptions, databaseUrl: database.url, poolSize: 1 });
  opened.push(single);
  return single;
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const c of opened) await c.close();
  await database.drop();
});

const ctx = (storeId: string) => ({ storeId, api: 'native', keyId: null });

it('prepares the look-up and the write once per connection, and upserts as before', async () => {
  const clientele = await oneConnection();
  const store = await clientele.stores.create('named');
  const created = await clientele.customers.upsert(ctx(store.id), { email: 'ada@example.com' });
  const updated = await clientele.customers.upsert(ctx(store.id), {
    email: 'ada@example.com',
    firstName: 'Ada',
  });
  expect([created.result, updated.result]).toEqual(['created', 'updated']);
  expect(updated.customer).toMatchObject({ id: created.customer.id, firstName: 'Ada', version: 2 });

  const { rows } = await sql<{ name: string; runs: number }>`
    SELECT name, generic_plans + custom_plans AS runs FROM pg_prepared_statements
    WHERE name LIKE 'clientele%' ORDER BY name`.execute(clientele.db);
  expect(rows.map((r) => r.name)).toEqual([
    'clientele_find_owners',
    'clientele_suppressed',
    'clientele_write_customers',
  ]);
  // Each ran twice on that one parse.
  expect(rows.map((r) => Number(r.runs))).toEqual([2, 2, 2]);
});

it('parses a named statement again after a call that failed', async () => {
  const clientele = await oneConnection();
  const lookUp = (kinds: unknown, values: unknown) =>
    clientele.db.executeQuery(
      CompiledQuery.raw('SELECT * FROM clientele_find_owners($3, $1, $2)', [
        kinds,
        values,
        'sto_nobody',
      ]),
    );
  // Parsed, then refused at bind: a text where an array belongs.
  await expect(lookUp('not an array', 'x')).rejects.toMatchObject({ code: '22P02' });
  await expect(lookUp(['email'], ['ada@example.com'])).resolves.toMatchObject({ rows: [] });
  await expect(lookUp(['email'], ['ada@example.com'])).resolves.toMatchObject({ rows: [] });
});

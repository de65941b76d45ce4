import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { stateColumns } from '../../src/core/customers/customers.repository.js';
import { engineForFile } from '../helpers/database.js';

/**
 * The customer's columns are listed once (`stateColumns`), and the write's encoder is
 * made from that list. The table and the recordsets that `clientele_write_customers`
 * reads the encoded rows with are SQL of their own: these checks fail when either
 * disagrees with the list, by name or by type.
 */
const engine = engineForFile();

/** The `AS alias(name type, …)` column lists of the function's jsonb_to_recordset calls. */
async function recordsets(): Promise<Record<string, [string, string][]>> {
  const { rows } = await sql<{ def: string }>`
    SELECT pg_get_functiondef('clientele_write_customers'::regproc) AS def`.execute(
    engine.clientele.db,
  );
  const def = rows[0]!.def;
  const lists: Record<string, [string, string][]> = {};
  for (const m of def.matchAll(/jsonb_to_recordset\((\w+)\) AS \w+\(([^)]*)\)/g)) {
    lists[m[1]!] = m[2]!
      .split(',')
      .map((c) => c.trim().split(/\s+/))
      .map(([name, ...type]) => [name!, type.join(' ')]);
  }
  return lists;
}

const listed = stateColumns.map(([name, type]) => [name, type] as [string, string]);

it("the write's recordsets carry exactly the listed columns, with their types", async () => {
  const sets = await recordsets();
  expect(sets.p_created).toEqual([
    ['id', 'text'],
    ...listed,
    ['version', 'integer'],
    ['now', 'timestamptz'],
  ]);
  expect(sets.p_updated).toEqual([
    ['id', 'text'],
    ...listed,
    ['version', 'integer'],
    ['read_version', 'integer'],
    ['now', 'timestamptz'],
  ]);
});

it('the table has every listed column with its type, and no other column of state', async () => {
  const { rows } = await sql<{ column_name: string; type: string }>`
    SELECT column_name, format_type(a.atttypid, a.atttypmod) AS type
    FROM information_schema.columns c
    JOIN pg_attribute a ON a.attrelid = 'customers'::regclass AND a.attname = c.column_name
    WHERE c.table_name = 'customers' AND c.table_schema = current_schema()`.execute(
    engine.clientele.db,
  );
  const short: Record<string, string> = {
    'text[]': 'text[]',
    text: 'text',
    date: 'date',
    boolean: 'boolean',
    jsonb: 'jsonb',
  };
  // Columns the store keeps about a customer, not part of its state.
  const bookkeeping = [
    'store_id',
    'id',
    'seq',
    'version',
    'merged_into',
    'created_at',
    'updated_at',
  ];
  const table = rows
    .filter((r) => !bookkeeping.includes(r.column_name))
    .map((r) => [r.column_name, short[r.type] ?? r.type]);
  expect(table.sort()).toEqual([...listed].sort());
});

it('the encoder writes a state the way it reads back', async () => {
  const store = await engine.clientele.stores.create('columns');
  const ctx = { storeId: store.id, api: 'native', keyId: null };
  const written = await engine.clientele.customers.upsert(ctx, {
    email: 'col@example.com',
    externalId: 'X1',
    phoneNumber: '+12025550143',
    firstName: 'Col',
    lastName: 'Umn',
    birthdate: '1990-02-03',
    description: 'd',
    active: false,
    location: { city: 'Boston', latitude: 42.36 },
    identifiers: [{ type: 'wechat', value: 'wx' }],
    customFields: { n: 1 },
    metadata: { a: [1] },
    channels: [{ type: 'email', value: 'col@example.com' }],
    loyalty: { status: 'loyalty' },
  });
  const read = await engine.clientele.customers.get(store.id, written.customer.id);
  expect(read).toEqual(written.customer);
});

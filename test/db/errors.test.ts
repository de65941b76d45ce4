import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Clientele } from '../../src/core/clientele.js';
import { isRetryable } from '../../src/core/customers/retry.js';
import { isUniqueViolation } from '../../src/core/db/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/** A unique violation as this database really raises it, through Kysely and our driver. */
let database: TestDatabase;
let clientele: Clientele;

beforeAll(async () => {
  database = await createTestDatabase();
  clientele = await database.open();
});
afterAll(async () => {
  await clientele.close();
  await database.drop();
});

async function violation(statement: ReturnType<typeof sql>): Promise<unknown> {
  try {
    await statement.execute(clientele.db);
  } catch (error) {
    return error;
  }
  throw new Error('no error raised');
}

it('an identifier value taken twice is the identity key, and retried', async () => {
  const store = await clientele.createStore('errors');
  const { customer } = await clientele.upsertCustomer(
    { storeId: store.id, api: 'native', keyId: null },
    { email: 'taken@example.com' },
  );
  const error = await violation(
    sql`INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
      VALUES (${store.id}, 'email', 'taken@example.com', ${customer.id})`,
  );
  expect(error).toMatchObject({
    code: '23505',
    table: 'customer_identifiers',
    constraint: 'customer_identifiers_pkey',
  });
  expect(
    isUniqueViolation(error, {
      table: 'customer_identifiers',
      constraint: 'customer_identifiers_pkey',
    }),
  ).toBe(true);
  expect(isUniqueViolation(error, { table: 'customers' })).toBe(false);
  expect(isRetryable(error)).toBe(true);
});

it('another unique key is not retried', async () => {
  const store = await clientele.createStore('errors 2');
  const insert = sql`INSERT INTO custom_fields (store_id, name, type)
    VALUES (${store.id}, 'contested', 'NUMBER')`;
  await insert.execute(clientele.db);
  const error = await violation(insert);
  expect(isUniqueViolation(error)).toBe(true);
  expect(isUniqueViolation(error, { table: 'custom_fields' })).toBe(true);
  expect(isRetryable(error)).toBe(false);
});

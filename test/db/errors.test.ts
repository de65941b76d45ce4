import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { isRetryable } from '../../src/core/customers/retry.js';
import { isUniqueViolation } from '../../src/core/db/errors.js';
import { engineForFile } from '../helpers/database.js';

/** A unique violation as this database really raises it, through Kysely and our driver. */
const engine = engineForFile();

async function violation(statement: ReturnType<typeof sql>): Promise<unknown> {
  try {
    await statement.execute(engine.clientele.db);
  } catch (error) {
    return error;
  }
  throw new Error('no error raised');
}

it('an identifier value taken twice is the identity key, and retried', async () => {
  await sql`INSERT INTO stores (id, name) VALUES ('store_errors', 'errors')`.execute(
    engine.clientele.db,
  );
  await sql`INSERT INTO customers (store_id, id, seq, created_at, updated_at)
    VALUES ('store_errors', 'cust_1', 1, now(), now())`.execute(engine.clientele.db);
  const claim = sql`INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
    VALUES ('store_errors', 'email', 'taken@example.com', 'cust_1')`;
  await claim.execute(engine.clientele.db);
  const error = await violation(claim);
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
  const store = sql`INSERT INTO stores (id, name) VALUES ('store_twice', 'twice')`;
  await store.execute(engine.clientele.db);
  const error = await violation(store);
  expect(isUniqueViolation(error)).toBe(true);
  expect(isUniqueViolation(error, { table: 'stores' })).toBe(true);
  expect(isRetryable(error)).toBe(false);
});

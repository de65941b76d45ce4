import { sql } from 'kysely';
import type { DB } from '../database.js';
import { numberCustomersPerStore } from './0009/customer-numbers.js';
import { normaliseIdentifiers } from './0009/normalise.js';
import { createStoreNames } from './0009/store-names.js';

/**
 * One person, one customer; one name, one store (issue 14):
 *
 * - `identity_collisions`: what this migration found two holders for and left as it
 *   was, for the operator to settle (docs/operations.md): two customers of a store whose
 *   emails or phone numbers are one value in the new form (`kind` `email` or `phone`,
 *   `holders` the customers, `stored_values` the forms they hold), or an alias that
 *   named another store (`kind` `alias:<platform>`, `holders` that store);
 * - `store_names` (./0009/store-names.ts): each name a platform's requests route by, unique;
 * - emails and phone numbers in the form the upsert now writes (./0009/normalise.ts);
 * - customer numbers counted per store (./0009/customer-numbers.ts).
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE identity_collisions (
      store_id text NOT NULL REFERENCES stores (id),
      kind text NOT NULL,
      value text NOT NULL,
      holders text[] NOT NULL,
      stored_values text[] NOT NULL,
      found_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (store_id, kind, value)
    )`.execute(db);
  await createStoreNames(db);
  await normaliseIdentifiers(db);
  await numberCustomersPerStore(db);
}

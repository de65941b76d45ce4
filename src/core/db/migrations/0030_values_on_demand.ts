import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * The typed custom-field values segments read (`customer_values`, migration 0017) kept
 * only for a store that uses segments: a write of a store that has never had a segment
 * or a preview writes none (they were ~40 µs of PostgreSQL's ~150 µs an upsert, and a
 * store that never segments never reads them).
 *
 * `stores.values_status`:
 * - `off`: no write keeps them (a new store);
 * - `filling`: every write keeps them for the customers it writes, and a fill (builder.ts)
 *   makes those of the customers before, a range of customer ids at a time, the last id
 *   done in `values_cursor`;
 * - `kept`: every customer's are there.
 * `off` becomes `filling` under the store's segments lock, with its version moved, so
 * that no write planned without values commits after (segments/values.ts).
 *
 * Every store already there keeps its values: `kept`.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    ALTER TABLE stores
      ADD COLUMN values_status text NOT NULL DEFAULT 'kept'
        CHECK (values_status IN ('off', 'filling', 'kept')),
      ADD COLUMN values_cursor text`.execute(db);
  await sql`ALTER TABLE stores ALTER COLUMN values_status SET DEFAULT 'off'`.execute(db);
}

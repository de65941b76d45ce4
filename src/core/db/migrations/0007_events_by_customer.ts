import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * History events keyed by the customer they belong to: `(store_id, customer_id, id)` is
 * the primary key, and the separate index `customer_events_by_customer` goes. An event
 * is only ever read through its customer (newest first, a backward scan of this key) and
 * deleted with it; event ids are ULIDs, unique on their own, so the key stays unique.
 * Every upsert writes one event, so this is one index entry fewer per upsert.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    ALTER TABLE customer_events
      DROP CONSTRAINT customer_events_pkey,
      ADD PRIMARY KEY (store_id, customer_id, id)`.execute(db);
  await sql`DROP INDEX customer_events_by_customer`.execute(db);
}

import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Plans that stay good whatever the planner believes about stores.
 *
 * Nearly every key starts with store_id. When the statistics say a store is rare (a new
 * store, a small one beside a large one, statistics gathered before the store grew),
 * the planner expects one row for `store_id = $1` and happily reads a store through the
 * store_id prefix of any index, then filters: one look-up became a scan of the store,
 * and a join of two such scans a quadratic one (seen: 0.7 s to find 20 identifiers in a
 * store of 2,600). Without statistics on store_id the planner takes the default (a
 * store is 0.5 % of a table), under which the index with the whole key always wins.
 *
 * The integer-id index led with store_id as well, so it competed with the primary key
 * for `store_id = $1 AND id = $2` (the foreign-key checks of customer_identifiers chose
 * it); led by seq, it serves only look-ups by seq. store_id stays in it so that it
 * remains a valid unique index when the tables are distributed by store.
 */
export async function up(db: DB): Promise<void> {
  for (const table of ['customers', 'customer_identifiers', 'customer_events']) {
    await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN store_id SET STATISTICS 0`.execute(db);
  }
  await sql`DROP INDEX customers_by_seq`.execute(db);
  await sql`CREATE UNIQUE INDEX customers_by_seq ON customers (seq, store_id)`.execute(db);
}

import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Counting and building segments from the typed values' indexes alone
 * (docs/architecture.md, "Segment plans"):
 *
 * - `customer_values.txt_key`: a STRING value's first 200 characters, stored. The index
 *   on `left(txt, 200)` (migration 0017) could not be read alone: PostgreSQL reads an
 *   expression index's rows from the table to test the column it is built on, so each
 *   `eq` on a STRING fetched every matching row. Indexed as a column, an equality's
 *   customer ids come from the index, as a NUMBER range's already did. It replaces
 *   `customer_values_by_txt`, so a write still maintains one STRING index.
 *
 * Adding a stored generated column rewrites customer_values once, under its lock.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    ALTER TABLE customer_values
      ADD COLUMN txt_key text GENERATED ALWAYS AS (left(txt, 200)) STORED`.execute(db);
  await sql`
    CREATE INDEX customer_values_by_txt_key
      ON customer_values (store_id, field, txt_key, customer_id)
      WHERE txt_key IS NOT NULL`.execute(db);
  await sql`DROP INDEX customer_values_by_txt`.execute(db);
}

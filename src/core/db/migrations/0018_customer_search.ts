import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Indexes for the search box (GET …/customers?q=): prefix ranges in code-point order
 * (COLLATE "C", whatever the database's collation), read in the order the search answers
 * in, so a page costs a few index entries however many customers share a prefix.
 * - every identifier value (emails and phone numbers in their stored forms, external ids,
 *   typed identifiers), in the table that already holds them one per row;
 * - the lower-cased name, as "first last", and the lower-cased last name alone, of the
 *   customers that are not merged away.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE INDEX customer_identifiers_by_prefix
      ON customer_identifiers (store_id, value COLLATE "C", customer_id COLLATE "C")`.execute(db);
  await sql`
    CREATE INDEX customers_by_name_prefix
      ON customers (store_id, (${sql.raw(FULL_NAME_KEY)}) COLLATE "C", id COLLATE "C")
      WHERE merged_into IS NULL`.execute(db);
  await sql`
    CREATE INDEX customers_by_last_name_prefix
      ON customers (store_id, (${sql.raw(LAST_NAME_KEY)}) COLLATE "C", id COLLATE "C")
      WHERE merged_into IS NULL AND last_name IS NOT NULL`.execute(db);
}

/**
 * The name keys the search compares prefixes with, written as its queries write them (an
 * expression index serves only the very same expression).
 */
export const FULL_NAME_KEY = `lower(btrim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')))`;
export const LAST_NAME_KEY = 'lower(last_name)';

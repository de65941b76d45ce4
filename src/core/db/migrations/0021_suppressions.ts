import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Suppressions: what an erasure keeps of a person's identifiers, so that a later write
 * naming one is refused. Only a keyed hash (HMAC-SHA256 under the store's suppression
 * key, core/customers/suppression.ts) and the identifier's kind, never the value.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE suppressions (
      store_id text NOT NULL REFERENCES stores (id),
      hash text NOT NULL,
      id text NOT NULL,
      kind text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (store_id, hash)
    )`.execute(db);
  // The list's pages, newest first.
  await sql`CREATE UNIQUE INDEX suppressions_by_id ON suppressions (store_id, id)`.execute(db);
}

import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Merges as stored operations: who went into whom, what each field of the result came
 * from, and the snapshot an undo restores (the target and every source as they were at
 * the merge). Erasure empties the snapshot (`erased_at`), and such a merge cannot be
 * undone. No foreign key to `customers`: an erased customer's row goes, its merges stay.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE merges (
      store_id text NOT NULL REFERENCES stores (id),
      id text NOT NULL,
      target_id text NOT NULL,
      source_ids text[] NOT NULL,
      origin text NOT NULL,
      api text NOT NULL,
      key_id text,
      target_version integer NOT NULL,
      snapshot jsonb,
      merged jsonb,
      provenance jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      undone_at timestamptz,
      collisions jsonb,
      erased_at timestamptz,
      PRIMARY KEY (store_id, id)
    )`.execute(db);
  // A customer's merges, newest first (as target; a source's are found by its array).
  await sql`CREATE INDEX merges_by_target ON merges (store_id, target_id, id)`.execute(db);
}

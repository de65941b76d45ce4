import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Idempotency keys: the first response to a write, kept 24 hours so a retry gets it
 * again. `store_id` is the store (or `admin` for the admin API), first in the key.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE idempotency_keys (
      store_id text NOT NULL,
      idem_key text NOT NULL,
      request_hash text NOT NULL,
      status text NOT NULL CHECK (status IN ('running', 'done')),
      response_status integer,
      response_type text,
      response_body text,
      created_at timestamptz NOT NULL DEFAULT now(),
      locked_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (store_id, idem_key)
    )`.execute(db);
  await sql`CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at)`.execute(db);
}

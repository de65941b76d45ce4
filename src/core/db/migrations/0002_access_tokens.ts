import { sql } from 'kysely';
import type { DB } from '../database.js';

/** Short-lived tokens exchanged for a store key (Yotpo's access_tokens), stored hashed. */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE access_tokens (
      store_id text NOT NULL REFERENCES stores (id),
      id text NOT NULL,
      token_hash text NOT NULL,
      key_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (store_id, id),
      FOREIGN KEY (store_id, key_id) REFERENCES api_keys (store_id, id)
    )`.execute(db);
  await sql`CREATE INDEX access_tokens_by_hash ON access_tokens (token_hash)`.execute(db);
}

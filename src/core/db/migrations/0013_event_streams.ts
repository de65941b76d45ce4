import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Where each store's events stand in each stream they are published to (NATS
 * JetStream): the feed's order of migration 0011. One process at a time publishes a
 * store's events (its row locked, SKIP LOCKED), and moves the place after the stream
 * has acknowledged them.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE event_streams (
      store_id text NOT NULL,
      stream text NOT NULL,
      cursor_tx xid8 NOT NULL,
      cursor_position bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (store_id, stream)
    )`.execute(db);
}

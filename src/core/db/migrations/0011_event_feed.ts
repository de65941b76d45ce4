import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * The store's change records as a feed that misses nothing (docs/architecture.md, "The
 * event feed"). A record's `position` is taken when it is written, not when its
 * transaction commits, so a reader going by position alone could step past a record
 * that commits later. Each record now carries its transaction's id (`tx`, xid8), and
 * readers go by `(tx, position)` and read only transactions older than the oldest one
 * still running (`pg_snapshot_xmin`): every transaction there has ended, and no new
 * record can ever sort before what they read.
 *
 * Records written before this migration get `tx` 1, older than any transaction. The
 * index `(store_id, tx, position)` replaces `(store_id, position)`.
 */
export async function up(db: DB): Promise<void> {
  await sql`ALTER TABLE customer_events ADD COLUMN tx xid8`.execute(db);
  await sql`UPDATE customer_events SET tx = '1'::xid8`.execute(db);
  await sql`
    ALTER TABLE customer_events
      ALTER COLUMN tx SET DEFAULT pg_current_xact_id(),
      ALTER COLUMN tx SET NOT NULL`.execute(db);
  await sql`DROP INDEX customer_events_by_position`.execute(db);
  await sql`
    CREATE UNIQUE INDEX customer_events_in_order
      ON customer_events (store_id, tx, position)`.execute(db);
}

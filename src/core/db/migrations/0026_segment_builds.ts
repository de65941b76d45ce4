import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Segments built in the background (docs/architecture.md, "Segment builds"):
 *
 * - `segments.build_cursor`: while a segment is `building`, the last customer id whose
 *   members are built (null: none yet). Its builder inserts members a chunk of customer
 *   ids at a time, each chunk in a transaction of its own that holds the store's
 *   segments lock alone (as a change to the store's segments does, migration 0017), and
 *   moves the cursor and the count with it: a build resumes after a crash where the last
 *   committed chunk left it.
 * - `segments.build_owner`, `segments.build_leased_until`: the process building it and
 *   until when (as imports lease their jobs); another process takes a build whose lease
 *   lapsed. Each chunk proves the lease by locking the segment's row and reading its owner.
 * - `segments_building`: the builds, found across stores by whichever process looks.
 *
 * No row changes: every segment made before is `ready`.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    ALTER TABLE segments
      ADD COLUMN build_cursor text,
      ADD COLUMN build_owner text,
      ADD COLUMN build_leased_until timestamptz`.execute(db);
  await sql`
    CREATE INDEX segments_building ON segments (build_leased_until)
      WHERE status = 'building'`.execute(db);
}

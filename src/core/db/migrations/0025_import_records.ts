import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * What an import's change records say of it.
 * - `customer_events.import_id`: the import whose batch wrote the record. Its default is
 *   the transaction's `clientele.import_id` setting, which an import's batch sets (SET
 *   LOCAL), so every record of the batch carries it, those the write functions insert
 *   (segments entered and left) included, and no other write's does.
 * - An import that completes writes a record of its own, `import_completed`, whose
 *   subject (`customer_id`: what orders its deliveries) is the import's id and whose
 *   `changes` are the job's counts: the feed's `import.completed`.
 */
export async function up(db: DB): Promise<void> {
  await sql`ALTER TABLE customer_events ADD COLUMN import_id text`.execute(db);
  await sql`
    ALTER TABLE customer_events
      ALTER COLUMN import_id SET DEFAULT NULLIF(current_setting('clientele.import_id', true), '')`.execute(
    db,
  );
}

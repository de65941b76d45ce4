import type { DB } from '../db/database.js';
import type { ChangeRecord } from './changes.js';

/** The change record's SQL. Records are written by the upsert's write (write.repository.ts). */

/** The records of these customers, newest first, by id. */
export async function listEvents(
  db: DB,
  storeId: string,
  customerIds: string[],
  limit: number,
  before: string | undefined,
): Promise<(ChangeRecord & { position: string; importId?: string })[]> {
  let q = db
    .selectFrom('customer_events')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('customer_id', 'in', customerIds)
    // Entering and leaving segments are the feed's, not the customer's history.
    .where('segment_id', 'is', null);
  if (before) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    customerId: r.customer_id,
    type: r.type as ChangeRecord['type'],
    api: r.api,
    keyId: r.key_id,
    ...(r.import_id === null ? {} : { importId: r.import_id }),
    previousVersion: r.previous_version as number,
    version: r.version as number,
    changes: r.changes,
    createdAt: r.created_at,
    position: String(r.position),
  }));
}

/** Records a change that no write of the customer's state carries (an erasure). */
export async function insertRecord(db: DB, storeId: string, record: ChangeRecord): Promise<void> {
  await db
    .insertInto('customer_events')
    .values({
      store_id: storeId,
      id: record.id,
      customer_id: record.customerId,
      type: record.type,
      api: record.api,
      key_id: record.keyId,
      changes: JSON.stringify(record.changes),
      created_at: record.createdAt,
      previous_version: record.previousVersion,
      version: record.version,
    })
    .execute();
}

import type { DB } from '../db/database.js';

/** The SQL of one person's export. Row types stay here. */

/** Every change record of these customers, oldest first. */
export async function historyOf(db: DB, storeId: string, ids: string[]) {
  const rows = await db
    .selectFrom('customer_events')
    .select([
      'id',
      'customer_id',
      'type',
      'api',
      'key_id',
      'previous_version',
      'version',
      'changes',
      'segment_id',
      'created_at',
    ])
    .where('store_id', '=', storeId)
    .where('customer_id', 'in', ids)
    .orderBy('position')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    customerId: r.customer_id,
    type: r.type,
    api: r.api,
    keyId: r.key_id,
    previousVersion: r.previous_version,
    version: r.version,
    changes: r.changes,
    segmentId: r.segment_id,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

/** The declared type of each of these custom fields. */
export async function fieldTypesOf(db: DB, storeId: string, names: string[]) {
  if (names.length === 0) return new Map<string, string>();
  const rows = await db
    .selectFrom('custom_fields')
    .select(['name', 'type'])
    .where('store_id', '=', storeId)
    .where('name', 'in', names)
    .execute();
  return new Map(rows.map((r) => [r.name, r.type]));
}

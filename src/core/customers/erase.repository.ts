import { sql } from 'kysely';
import type { DB } from '../db/database.js';
import type { StoredCustomer } from './customer.js';
import { rowToStored } from './customers.repository.js';
import { RetryableConflict } from './plan.js';

/**
 * The SQL of erasure: every place Clientele keeps a person's data, emptied in the
 * erasure's transaction. Row types stay here.
 */

/**
 * The customer an erasure names (followed through a merge, as reading it is) and the
 * customers once merged into it, locked for update as an upsert locks them: a write that
 * holds the lock commits first and is erased with the rest; one that waits for it finds
 * no customer. Undefined when there is none.
 */
export async function lockForErasure(
  trx: DB,
  storeId: string,
  id: string,
): Promise<StoredCustomer[] | undefined> {
  const named = await trx
    .selectFrom('customers')
    .select(['id', 'merged_into'])
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!named) return undefined;
  const targetId = named.merged_into ?? named.id;
  const target = await trx
    .selectFrom('customers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('id', '=', targetId)
    .forUpdate()
    .executeTakeFirst();
  // Merged (or erased) since the first read: the read is stale; withRetry reads again.
  if (!target || target.merged_into !== null) {
    if (!target && !named.merged_into) return undefined;
    throw new RetryableConflict();
  }
  const merged = await trx
    .selectFrom('customers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('merged_into', '=', targetId)
    .orderBy('id')
    .forUpdate()
    .execute();
  return [rowToStored(target), ...merged.map(rowToStored)];
}

/**
 * Drops the STRING options that only these customers held (no other customer has the
 * value in that field), and counts them off their fields. The fields' rows are locked
 * in name order, as trackOptions locks them. Returns the options dropped.
 */
export async function forgetOptions(
  trx: DB,
  storeId: string,
  ids: string[],
  candidates: { field: string; value: string }[],
): Promise<{ field: string; value: string }[]> {
  if (candidates.length === 0) return [];
  const fieldNames = [...new Set(candidates.map((c) => c.field))].sort();
  await trx
    .selectFrom('custom_fields')
    .select('name')
    .where('store_id', '=', storeId)
    .where('name', 'in', fieldNames)
    .orderBy('name')
    .forUpdate()
    .execute();
  const { rows } = await sql<{ field_name: string; value: string }>`
    DELETE FROM custom_field_options o
    USING unnest(${candidates.map((c) => c.field)}::text[], ${candidates.map((c) => c.value)}::text[]) AS c(field, value)
    WHERE o.store_id = ${storeId} AND o.field_name = c.field AND o.value = c.value
      AND NOT EXISTS (
        SELECT 1 FROM customer_values v
        WHERE v.store_id = o.store_id AND v.field = o.field_name AND v.txt_key = left(o.value, 200)
          AND v.txt = o.value AND v.customer_id <> ALL (${ids}::text[]))
    RETURNING o.field_name, o.value`.execute(trx);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.field_name, (counts.get(r.field_name) ?? 0) + 1);
  for (const [field, n] of counts) {
    await trx
      .updateTable('custom_fields')
      .set({ option_count: sql`greatest(option_count - ${n}, 0)` })
      .where('store_id', '=', storeId)
      .where('name', '=', field)
      .execute();
  }
  return rows.map((r) => ({ field: r.field_name, value: r.value }));
}

/**
 * Removes the customers' rows and identifiers, empties their change records (they stay,
 * as tombstones: type, versions, time, API, and no value), and everything else that may
 * hold their data: stored idempotent answers that name them or any of their values
 * (`texts`), webhook deliveries still queued for them and the attempts of their events,
 * import errors whose row names one of their values, identity collisions they held.
 */
export async function eraseRows(
  trx: DB,
  storeId: string,
  ids: string[],
  texts: string[],
): Promise<void> {
  await trx
    .deleteFrom('customer_identifiers')
    .where('store_id', '=', storeId)
    .where('customer_id', 'in', ids)
    .execute();
  await sql`
    DELETE FROM webhook_attempts a USING customer_events e
    WHERE a.store_id = ${storeId} AND e.store_id = a.store_id AND e.id = a.event_id
      AND e.customer_id = ANY (${ids}::text[])`.execute(trx);
  await sql`
    DELETE FROM webhook_deliveries
    WHERE store_id = ${storeId} AND customer_id = ANY (${ids}::text[])`.execute(trx);
  await trx
    .updateTable('customer_events')
    .set({ changes: sql`'{}'::jsonb` })
    .where('store_id', '=', storeId)
    .where('customer_id', 'in', ids)
    .execute();
  await trx
    .deleteFrom('customers')
    .where('store_id', '=', storeId)
    .where('id', 'in', ids)
    .execute();
  const needles = [...new Set([...ids, ...texts])].filter((t) => t.length > 0);
  await sql`
    DELETE FROM idempotency_keys k
    WHERE k.store_id = ${storeId} AND k.response_body IS NOT NULL
      AND EXISTS (SELECT 1 FROM unnest(${needles}::text[]) n WHERE strpos(k.response_body, n) > 0)`.execute(
    trx,
  );
  await sql`
    DELETE FROM import_errors r
    WHERE r.store_id = ${storeId}
      AND EXISTS (SELECT 1 FROM unnest(${needles}::text[]) n WHERE strpos(r.row_text, n) > 0)`.execute(
    trx,
  );
  await sql`
    DELETE FROM identity_collisions
    WHERE store_id = ${storeId} AND holders && ${ids}::text[]`.execute(trx);
}

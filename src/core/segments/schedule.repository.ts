import { sql } from 'kysely';
import type { StoredCustomer } from '../customers/customer.js';
import { type Row, rowToStored } from '../customers/customers.repository.js';
import type { DB } from '../db/database.js';
import { conditionSql } from './compile.js';
import type { Condition } from './filter.js';

/**
 * The re-evaluation schedule's SQL (migration 0014): one row per segment whose filter
 * moves with the clock, with when it was last evaluated. A process leases a due row by
 * locking it (FOR UPDATE SKIP LOCKED) in the transaction that evaluates it: another
 * process skips it, and a process killed mid-way leaves it to the next (its lock goes
 * with its connection).
 */

/** Puts the segment on the schedule as evaluated at `at`, or (null) takes it off. */
export async function scheduleSegment(
  trx: DB,
  storeId: string,
  segmentId: string,
  at: Date | null,
): Promise<void> {
  if (at === null) {
    await trx
      .deleteFrom('segment_schedule')
      .where('store_id', '=', storeId)
      .where('segment_id', '=', segmentId)
      .execute();
    return;
  }
  await trx
    .insertInto('segment_schedule')
    .values({ store_id: storeId, segment_id: segmentId, evaluated_at: at })
    .onConflict((oc) => oc.columns(['store_id', 'segment_id']).doUpdateSet({ evaluated_at: at }))
    .execute();
}

/**
 * The segment evaluated longest ago, if that is before `due`, locked; none if all are held.
 * Found across stores without a lock, then locked in its own store: on Citus a lock is
 * taken only by a statement that reads one store (one shard). Of the `DUE_AT_ONCE`
 * longest due, the first no other process holds; when every one is held, the others
 * are evaluating them and this round ends here.
 */
export async function leaseDue(
  trx: DB,
  due: Date,
): Promise<{ storeId: string; segmentId: string } | undefined> {
  const candidates = await trx
    .selectFrom('segment_schedule')
    .select(['store_id', 'segment_id'])
    .where('evaluated_at', '<', due)
    .orderBy('evaluated_at')
    .limit(DUE_AT_ONCE)
    .execute();
  for (const c of candidates) {
    const row = await trx
      .selectFrom('segment_schedule')
      .select(['store_id', 'segment_id'])
      .where('store_id', '=', c.store_id)
      .where('segment_id', '=', c.segment_id)
      .where('evaluated_at', '<', due)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (row) return { storeId: row.store_id, segmentId: row.segment_id };
  }
  return undefined;
}

const DUE_AT_ONCE = 32;

export async function markEvaluated(
  trx: DB,
  storeId: string,
  segmentId: string,
  at: Date,
): Promise<void> {
  await trx
    .updateTable('segment_schedule')
    .set({ evaluated_at: at })
    .where('store_id', '=', storeId)
    .where('segment_id', '=', segmentId)
    .execute();
}

/**
 * Up to `limit` customers whose membership of the segment the condition, read at
 * `now`, would change: matching and not members, or members no longer matching.
 */
export async function crossing(
  db: DB,
  storeId: string,
  segmentId: string,
  condition: Condition,
  now: number,
  limit: number,
): Promise<string[]> {
  const holds = conditionSql(condition, now);
  const { rows } = await sql<{ id: string }>`
    (SELECT c.id FROM customers AS c
     WHERE c.store_id = ${storeId} AND c.merged_into IS NULL AND ${holds}
       AND NOT EXISTS (SELECT 1 FROM segment_members AS m
         WHERE m.store_id = c.store_id AND m.segment_id = ${segmentId} AND m.customer_id = c.id)
     LIMIT ${limit})
    UNION ALL
    (SELECT m.customer_id FROM segment_members AS m
     JOIN customers AS c ON c.store_id = m.store_id AND c.id = m.customer_id
     WHERE m.store_id = ${storeId} AND m.segment_id = ${segmentId} AND NOT ${holds}
     LIMIT ${limit})`.execute(db);
  return rows.map((r) => r.id);
}

/** These customers, locked for update in id order (as every write locks them). */
export async function lockForEvaluation(
  trx: DB,
  storeId: string,
  ids: string[],
): Promise<StoredCustomer[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<Row>`
    SELECT * FROM customers
    WHERE store_id = ${storeId} AND id = ANY(${ids}::text[]) AND merged_into IS NULL
    ORDER BY id FOR UPDATE`.execute(trx);
  return rows.map(rowToStored);
}

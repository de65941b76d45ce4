import { type Selectable, sql } from 'kysely';
import type { DB } from '../db/database.js';
import type { MergeRow } from '../db/schema.js';
import type { CustomerState } from './customer.js';
import type { Collision, MergeRecord, MergeSnapshot } from './merge.js';

/** The SQL of merges (migration 0022). Row types stay here. */

/** A state as stored before migration 0029, which had no merged identifiers. */
function stateOf(stored: unknown): CustomerState {
  const state = stored as CustomerState;
  return state.mergedIdentifiers ? state : { ...state, mergedIdentifiers: [] };
}

function snapshotOf(stored: unknown): MergeSnapshot | null {
  const snapshot = stored as MergeSnapshot | null;
  if (snapshot === null) return null;
  return {
    target: stateOf(snapshot.target),
    sources: snapshot.sources.map((s) => ({ ...s, state: stateOf(s.state) })),
  };
}

function recordOf(row: Selectable<MergeRow>): MergeRecord {
  return {
    id: row.id,
    targetId: row.target_id,
    sourceIds: row.source_ids,
    origin: row.origin as MergeRecord['origin'],
    api: row.api,
    keyId: row.key_id,
    createdAt: row.created_at,
    targetVersion: row.target_version,
    snapshot: snapshotOf(row.snapshot),
    merged: row.merged === null ? null : stateOf(row.merged),
    provenance: row.provenance,
    undoneAt: row.undone_at,
    collisions: row.collisions as Collision[] | null,
    erasedAt: row.erased_at,
  };
}

export async function insertMerge(trx: DB, storeId: string, m: MergeRecord): Promise<void> {
  await trx
    .insertInto('merges')
    .values({
      store_id: storeId,
      id: m.id,
      target_id: m.targetId,
      source_ids: m.sourceIds,
      origin: m.origin,
      api: m.api,
      key_id: m.keyId,
      target_version: m.targetVersion,
      snapshot: JSON.stringify(m.snapshot),
      merged: JSON.stringify(m.merged),
      provenance: JSON.stringify(m.provenance),
      created_at: m.createdAt,
    })
    .execute();
}

/** A merge by id; with `lock`, locked for update (an undo holds it to the end). */
export async function findMerge(
  db: DB,
  storeId: string,
  id: string,
  lock = false,
): Promise<MergeRecord | undefined> {
  let q = db.selectFrom('merges').selectAll().where('store_id', '=', storeId).where('id', '=', id);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? recordOf(row) : undefined;
}

/** The store's merges newest first, or one customer's (as target or source), past a cursor. */
export async function listMerges(
  db: DB,
  storeId: string,
  customerId: string | undefined,
  limit: number,
  before: string | undefined,
): Promise<MergeRecord[]> {
  let q = db.selectFrom('merges').selectAll().where('store_id', '=', storeId);
  if (customerId) {
    q = q.where((w) =>
      w.or([w('target_id', '=', customerId), sql<boolean>`${customerId} = ANY (source_ids)`]),
    );
  }
  if (before) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map(recordOf);
}

/** The merge that took this customer away, when it is still in force. */
export async function mergeOf(
  db: DB,
  storeId: string,
  sourceId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('merges')
    .select('id')
    .where('store_id', '=', storeId)
    .where(sql<boolean>`${sourceId} = ANY (source_ids)`)
    .where('undone_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row?.id;
}

export async function markUndone(
  trx: DB,
  storeId: string,
  id: string,
  now: Date,
  collisions: Collision[],
): Promise<void> {
  await trx
    .updateTable('merges')
    .set({ undone_at: now, collisions: JSON.stringify(collisions) })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .execute();
}

/**
 * Erasure: every merge naming one of these customers loses what it kept of people (the
 * snapshot, the merged state, the provenance, the collisions); its ids and times stay,
 * and it can no longer be undone. A store's merges are few, so the source arrays are
 * read under the store's prefix rather than indexed.
 */
export async function forgetMerges(
  trx: DB,
  storeId: string,
  ids: string[],
  now: Date,
): Promise<void> {
  await sql`
    UPDATE merges SET snapshot = NULL, merged = NULL, provenance = NULL, collisions = NULL,
      erased_at = coalesce(erased_at, ${now})
    WHERE store_id = ${storeId}
      AND (target_id = ANY (${ids}::text[]) OR source_ids && ${ids}::text[])`.execute(trx);
}

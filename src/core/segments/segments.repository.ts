import { sql } from 'kysely';
import { type Customer, customerOf } from '../customers/customer.js';
import { type Row, rowToStored } from '../customers/customers.repository.js';
import type { DB } from '../db/database.js';

/** Segments' SQL (migration 0014). Row types never leave this file. */

export interface StoredSegment {
  id: string;
  name: string;
  filter: unknown;
  status: 'building' | 'ready';
  count: number;
  createdAt: Date;
  updatedAt: Date;
}

function segmentOf(r: {
  id: string;
  name: string;
  filter: unknown;
  status: 'building' | 'ready';
  member_count: string | number;
  created_at: Date;
  updated_at: Date;
}): StoredSegment {
  return {
    id: r.id,
    name: r.name,
    filter: r.filter,
    status: r.status,
    count: Number(r.member_count),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const columns = [
  'id',
  'name',
  'filter',
  'status',
  'member_count',
  'created_at',
  'updated_at',
] as const;

/** The store's segments at its current segments version, in one snapshot. */
export async function readView(
  db: DB,
  storeId: string,
): Promise<{ version: string; keepsValues: boolean; segments: StoredSegment[] } | undefined> {
  const { rows } = await sql<{
    version: string;
    keeps_values: boolean;
    segments: {
      id: string;
      name: string;
      filter: unknown;
      status: 'building' | 'ready';
      member_count: number;
      created_at: string;
      updated_at: string;
    }[];
  }>`
    SELECT s.segments_version AS version, s.values_status <> 'off' AS keeps_values,
      coalesce((SELECT json_agg(g ORDER BY g.id) FROM segments AS g WHERE g.store_id = s.id), '[]')
        AS segments
    FROM stores AS s WHERE s.id = ${storeId}`.execute(db);
  const [row] = rows;
  if (!row) return undefined;
  return {
    version: String(row.version),
    keepsValues: row.keeps_values,
    segments: row.segments.map((g) =>
      segmentOf({ ...g, created_at: new Date(g.created_at), updated_at: new Date(g.updated_at) }),
    ),
  };
}

/**
 * Moves the store's segments version and holds its row until the transaction ends:
 * writes computed at the old version wait, then fail and are computed again.
 */
export async function bumpVersion(trx: DB, storeId: string): Promise<void> {
  await lockSegments(trx, storeId);
  await trx
    .updateTable('stores')
    .set({ segments_version: sql`segments_version + 1` })
    .where('id', '=', storeId)
    .execute();
}

/**
 * The store's segments lock, alone until the transaction ends: the writes of the store
 * hold it shared (clientele_write_derived, migration 0017), so none is in flight.
 */
export async function lockSegments(trx: DB, storeId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`clientele segments ${storeId}`}, 0))`.execute(
    trx,
  );
}

export async function countSegments(db: DB, storeId: string): Promise<number> {
  const row = await db
    .selectFrom('segments')
    .select(sql<string>`count(*)`.as('n'))
    .where('store_id', '=', storeId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertSegment(
  trx: DB,
  storeId: string,
  s: { id: string; name: string; filter: unknown; now: Date },
): Promise<void> {
  await trx
    .insertInto('segments')
    .values({
      store_id: storeId,
      id: s.id,
      name: s.name,
      filter: JSON.stringify(s.filter),
      status: 'building',
      member_count: 0,
      created_at: s.now,
      updated_at: s.now,
    })
    .execute();
}

export async function findSegment(
  db: DB,
  storeId: string,
  id: string,
  lock = false,
): Promise<StoredSegment | undefined> {
  let q = db
    .selectFrom('segments')
    .select(columns)
    .where('store_id', '=', storeId)
    .where('id', '=', id);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && segmentOf(row);
}

export async function listSegments(db: DB, storeId: string): Promise<StoredSegment[]> {
  const rows = await db
    .selectFrom('segments')
    .select(columns)
    .where('store_id', '=', storeId)
    .orderBy('id', 'desc')
    .execute();
  return rows.map(segmentOf);
}

export async function updateSegment(
  trx: DB,
  storeId: string,
  id: string,
  change: { name?: string; filter?: unknown; now: Date },
): Promise<void> {
  await trx
    .updateTable('segments')
    .set({
      ...(change.name === undefined ? {} : { name: change.name }),
      ...(change.filter === undefined ? {} : { filter: JSON.stringify(change.filter) }),
      updated_at: change.now,
    })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .execute();
}

export async function deleteSegment(trx: DB, storeId: string, id: string): Promise<void> {
  await trx
    .deleteFrom('segment_members')
    .where('store_id', '=', storeId)
    .where('segment_id', '=', id)
    .execute();
  await trx
    .deleteFrom('segment_schedule')
    .where('store_id', '=', storeId)
    .where('segment_id', '=', id)
    .execute();
  await trx.deleteFrom('segments').where('store_id', '=', storeId).where('id', '=', id).execute();
}

/** A page of the segment's members, newest customer first, with when each joined. */
export async function listMembers(
  db: DB,
  storeId: string,
  segmentId: string,
  limit: number,
  before: string | undefined,
): Promise<{ joinedAt: Date; customer: Customer }[]> {
  const { rows } = await sql<Row & { joined_at: Date }>`
    SELECT c.*, m.joined_at FROM segment_members AS m
    JOIN customers AS c ON c.store_id = m.store_id AND c.id = m.customer_id
    WHERE m.store_id = ${storeId} AND m.segment_id = ${segmentId}
      ${before === undefined ? sql`` : sql`AND m.customer_id < ${before}`}
    ORDER BY m.customer_id DESC LIMIT ${limit}`.execute(db);
  return rows.map((r) => ({
    joinedAt: r.joined_at,
    customer: customerOf(storeId, rowToStored(r)),
  }));
}

/** The segments a customer is in, with when it joined each. */
export async function segmentsOfCustomer(
  db: DB,
  storeId: string,
  customerId: string,
): Promise<{ id: string; name: string; joinedAt: Date }[]> {
  const rows = await db
    .selectFrom('segment_members as m')
    .innerJoin('segments as s', (j) =>
      j.onRef('s.store_id', '=', 'm.store_id').onRef('s.id', '=', 'm.segment_id'),
    )
    .select(['s.id', 's.name', 'm.joined_at'])
    .where('m.store_id', '=', storeId)
    .where('m.customer_id', '=', customerId)
    .orderBy('s.id', 'desc')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, joinedAt: r.joined_at }));
}

/** The segment's count as the counter row keeps it, and from its members: for tests. */
export async function countsOf(
  db: DB,
  storeId: string,
  segmentId: string,
): Promise<{ counter: number; members: number }> {
  const { rows } = await sql<{ counter: string; members: string }>`
    SELECT s.member_count AS counter,
      (SELECT count(*) FROM segment_members m WHERE m.store_id = s.store_id AND m.segment_id = s.id)
        AS members
    FROM segments s WHERE s.store_id = ${storeId} AND s.id = ${segmentId}`.execute(db);
  return { counter: Number(rows[0]?.counter ?? 0), members: Number(rows[0]?.members ?? 0) };
}

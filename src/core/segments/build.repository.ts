import { type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/database.js';
import { leaseEnd } from '../db/lease.js';
import { groupedConditionSql } from './compile.js';
import type { Condition } from './filter.js';

/**
 * The background build's SQL (migration 0026): a `building` segment's lease, and its
 * members made a range of customer ids at a time. Row types never leave this file.
 */

/** Where a build stands, read with its row locked (the proof of its lease). */
export interface BuildState {
  filter: unknown;
  status: 'building' | 'ready';
  cursor: string | null;
  owner: string | null;
  updatedAt: Date;
}

/**
 * Leases one build no process holds (never leased, released, or its lease lapsed).
 * Found across stores without a lock, then locked in its own store, skipping one that
 * another process is leasing (as the segment clock leases its schedule).
 */
export async function leaseBuild(
  db: DB,
  owner: string,
  leaseMs: number,
): Promise<{ storeId: string; segmentId: string } | undefined> {
  const { rows: candidates } = await sql<{ store_id: string; id: string }>`
    SELECT store_id, id FROM segments
    WHERE status = 'building'
      AND (build_leased_until IS NULL OR build_leased_until < clock_timestamp())
    ORDER BY build_leased_until NULLS FIRST LIMIT 32`.execute(db);
  for (const c of candidates) {
    const leased = await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ id: string }>`
        SELECT id FROM segments
        WHERE store_id = ${c.store_id} AND id = ${c.id} AND status = 'building'
          AND (build_leased_until IS NULL OR build_leased_until < clock_timestamp())
        FOR UPDATE SKIP LOCKED`.execute(trx);
      if (rows.length === 0) return false;
      await takeLease(trx, c.store_id, c.id, owner, leaseMs);
      return true;
    });
    if (leased) return { storeId: c.store_id, segmentId: c.id };
  }
  return undefined;
}

/** The build is this owner's (or, null, any process's to lease) from now. */
export async function takeLease(
  trx: DB,
  storeId: string,
  segmentId: string,
  owner: string | null,
  leaseMs: number,
): Promise<void> {
  await sql`
    UPDATE segments SET build_owner = ${owner},
      build_leased_until = ${owner === null ? null : leaseEnd(leaseMs)}
    WHERE store_id = ${storeId} AND id = ${segmentId}`.execute(trx);
}

/** Marks the segment to be built again from its first customer (a new filter). */
export async function restartBuild(
  trx: DB,
  storeId: string,
  segmentId: string,
  owner: string | null,
  leaseMs: number,
): Promise<void> {
  await sql`
    UPDATE segments SET status = 'building', build_cursor = NULL, build_owner = ${owner},
      build_leased_until = ${owner === null ? null : leaseEnd(leaseMs)}
    WHERE store_id = ${storeId} AND id = ${segmentId}`.execute(trx);
}

/** Gives the build up for any process to lease at once, if it is still this owner's. */
export async function releaseBuild(
  db: DB,
  storeId: string,
  segmentId: string,
  owner: string,
): Promise<void> {
  await sql`
    UPDATE segments SET build_owner = NULL, build_leased_until = NULL
    WHERE store_id = ${storeId} AND id = ${segmentId} AND build_owner = ${owner}
      AND status = 'building'`.execute(db);
}

export async function lockBuild(
  trx: DB,
  storeId: string,
  segmentId: string,
): Promise<BuildState | undefined> {
  const { rows } = await sql<{
    filter: unknown;
    status: 'building' | 'ready';
    build_cursor: string | null;
    build_owner: string | null;
    updated_at: Date;
  }>`
    SELECT filter, status, build_cursor, build_owner, updated_at FROM segments
    WHERE store_id = ${storeId} AND id = ${segmentId} FOR UPDATE`.execute(trx);
  const [r] = rows;
  return (
    r && {
      filter: r.filter,
      status: r.status,
      cursor: r.build_cursor,
      owner: r.build_owner,
      updatedAt: new Date(r.updated_at),
    }
  );
}

/**
 * The last customer id of the chunk after `after`: the `size`th id past it, read from
 * the customers' primary key; null when fewer are left (the chunk is the last).
 */
export async function chunkEnd(
  db: DB,
  storeId: string,
  after: string | null,
  size: number,
): Promise<string | null> {
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM customers WHERE store_id = ${storeId} AND id > ${after ?? ''}
    ORDER BY id OFFSET ${size - 1} LIMIT 1`.execute(db);
  return rows[0]?.id ?? null;
}

/**
 * The live customers of ids in (after, upTo] the condition holds for, from two ranges of
 * primary keys: the customers', and their typed values' (`customer_values_pkey` starts
 * with the customer id), grouped a customer at a time so each custom-field leaf is one
 * column (compile.ts, `groupedConditionSql`). Both reads are bounded by the chunk, never
 * a range of the store's values, and neither probes a customer at a time.
 */
export function chunkMatchingSql(
  storeId: string,
  condition: Condition,
  now: number,
  after: string | null,
  upTo: string | null,
) {
  const inChunk = (column: RawBuilder<unknown>) =>
    sql`${column} > ${after ?? ''}${upTo === null ? sql`` : sql` AND ${column} <= ${upTo}`}`;
  const grouped = groupedConditionSql(condition, now);
  const values =
    grouped.aggregates.length === 0
      ? sql``
      : sql`LEFT JOIN (SELECT v.customer_id, ${sql.join(grouped.aggregates)}
          FROM customer_values AS v
          WHERE v.store_id = ${storeId} AND ${inChunk(sql.ref('v.customer_id'))}
          GROUP BY v.customer_id) AS a ON a.customer_id = c.id`;
  return sql<{ id: string }>`SELECT c.id FROM customers AS c ${values}
    WHERE c.store_id = ${storeId} AND ${inChunk(sql.ref('c.id'))}
      AND c.merged_into IS NULL
      AND ${grouped.condition}`;
}

/**
 * For the rest of the chunk's transaction: no nested loop, which would read the grouped
 * values again for every customer (a planner that believes the store small picks one);
 * the two ranges, both in customer id order, are merged (or hashed) once.
 */
export async function pinChunkPlan(trx: DB): Promise<void> {
  await sql`SET LOCAL enable_nestloop = off`.execute(trx);
}

/**
 * Makes the segment's members among customer ids (after, upTo] those the condition
 * holds for: inserts who matches and is not in yet (a write may have put them in), and
 * deletes who is in and no longer matches (a new filter's rebuild). No change records:
 * a build's members join as a create's always did. Returns the count's change.
 */
export async function buildRange(
  trx: DB,
  storeId: string,
  segmentId: string,
  condition: Condition,
  at: { now: number; joinedAt: Date },
  after: string | null,
  upTo: string | null,
): Promise<number> {
  await pinChunkPlan(trx);
  const { rows } = await sql<{ added: string; gone: string }>`
    WITH hit AS MATERIALIZED (${chunkMatchingSql(storeId, condition, at.now, after, upTo)}),
    gone AS (
      DELETE FROM segment_members AS m
      WHERE m.store_id = ${storeId} AND m.segment_id = ${segmentId}
        AND m.customer_id > ${after ?? ''}
        ${upTo === null ? sql`` : sql`AND m.customer_id <= ${upTo}`}
        AND m.customer_id NOT IN (SELECT id FROM hit)
      RETURNING 1
    ), added AS (
      INSERT INTO segment_members (store_id, segment_id, customer_id, joined_at)
      SELECT ${storeId}, ${segmentId}, hit.id, ${at.joinedAt} FROM hit ORDER BY hit.id
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM added) AS added, (SELECT count(*) FROM gone) AS gone`.execute(trx);
  return Number(rows[0]?.added ?? 0) - Number(rows[0]?.gone ?? 0);
}

/** The chunk done: its count, the cursor moved (null: the last, the segment is ready). */
export async function advance(
  trx: DB,
  storeId: string,
  segmentId: string,
  delta: number,
  cursor: string | null,
  leaseMs: number,
): Promise<void> {
  await sql`
    UPDATE segments SET member_count = member_count + ${delta},
      ${
        cursor === null
          ? sql`status = 'ready', build_cursor = NULL, build_owner = NULL, build_leased_until = NULL`
          : sql`build_cursor = ${cursor}, build_leased_until = ${leaseEnd(leaseMs)}`
      }
    WHERE store_id = ${storeId} AND id = ${segmentId}`.execute(trx);
}

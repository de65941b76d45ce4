import { sql } from 'kysely';
import type { DB } from '../db/database.js';
import { FEED_HORIZON } from '../db/migrations/0023_fan_out_rotation.js';

/** The feed's SQL: a store's change records in the order readers resume by. */

export interface FeedRow {
  id: string;
  customerId: string;
  type: string;
  api: string;
  changes: Record<string, unknown>;
  createdAt: Date;
  previousVersion: number | null;
  version: number | null;
  /** Where the record sorts: its transaction, then its position. */
  tx: string;
  position: string;
  /** The segment entered or left (segment_entered, segment_exited), else null. */
  segmentId: string | null;
  /** The import whose batch wrote the record, else null. */
  importId: string | null;
}

export interface FeedPlace {
  tx: string;
  position: string;
}

/** Where a record of the store sorts, or undefined when the store has no such record. */
export async function placeOf(
  db: DB,
  storeId: string,
  eventId: string,
): Promise<FeedPlace | undefined> {
  const row = await db
    .selectFrom('customer_events')
    .select(['tx', 'position'])
    .where('store_id', '=', storeId)
    .where('id', '=', eventId)
    .executeTakeFirst();
  return row ? { tx: String(row.tx), position: String(row.position) } : undefined;
}

/**
 * Up to `limit` records after `after`, in order, of transactions that have all ended
 * (older than the oldest one running): what this returns can never be joined later by
 * a record sorting before it (migration 0011).
 */
/** What a feed row is read from, in both of its reads. */
const feedColumns = [
  'id',
  'customer_id',
  'type',
  'api',
  'changes',
  'created_at',
  'previous_version',
  'version',
  'tx',
  'position',
  'segment_id',
  'import_id',
] as const;

export async function readFeed(
  db: DB,
  storeId: string,
  query: { after: FeedPlace | undefined; types: string[] | undefined; since: Date; limit: number },
): Promise<FeedRow[]> {
  let q = db
    .selectFrom('customer_events')
    .select(feedColumns)
    .where('store_id', '=', storeId)
    .where(sql<boolean>`tx < ${sql.raw(FEED_HORIZON)}`)
    .where('created_at', '>=', query.since);
  const { after, types } = query;
  if (after) {
    q = q.where(sql<boolean>`(tx, position) > (${after.tx}::xid8, ${after.position}::bigint)`);
  }
  if (types) q = q.where('type', 'in', types);
  const rows = await q.orderBy('tx').orderBy('position').limit(query.limit).execute();
  return rows.map(feedRowOf);
}

function feedRowOf(r: {
  id: string;
  customer_id: string;
  type: string;
  api: string;
  changes: Record<string, unknown>;
  created_at: Date;
  previous_version: number | null;
  version: number | null;
  tx: string;
  position: string;
  segment_id: string | null;
  import_id: string | null;
}): FeedRow {
  return {
    id: r.id,
    customerId: r.customer_id,
    type: r.type,
    api: r.api,
    changes: r.changes,
    createdAt: r.created_at,
    previousVersion: r.previous_version,
    version: r.version,
    tx: String(r.tx),
    position: String(r.position),
    segmentId: r.segment_id,
    importId: r.import_id,
  };
}

/**
 * The store's records of these ids, in feed order (ids it has not are left out): one
 * probe of `customer_events_by_id` per id, in a LATERAL that OFFSET 0 keeps from being
 * turned into a join (as findCustomersById does). A webhook round reads 256 at once, and
 * on a store that had just grown, stale statistics made the `IN` list a scan of the
 * store's whole feed.
 */
export async function readById(db: DB, storeId: string, ids: string[]): Promise<FeedRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await readByIdQuery(storeId, ids).execute(db);
  return rows.map(feedRowOf);
}

/** readById's statement (test/db/plans.test.ts explains it). */
export function readByIdQuery(storeId: string, ids: string[]) {
  const columns = sql.join(feedColumns.map((c) => sql.ref(`e.${c}`)));
  return sql<Parameters<typeof feedRowOf>[0]>`
    SELECT ${columns} FROM unnest(${[...new Set(ids)]}::text[]) AS k(id),
    LATERAL (
      SELECT * FROM customer_events e WHERE e.id = k.id AND e.store_id = ${storeId} OFFSET 0
    ) e
    ORDER BY e.tx, e.position`;
}

/**
 * Each customer's records from a position on (exclusive), newest first: what a write
 * changed after the record at that position, to be undone back to it. One probe of the
 * primary key (store, customer) per customer, as in readById: a join here became a hash
 * join over the store's whole feed when its statistics were stale.
 */
export async function changesSince(
  db: DB,
  storeId: string,
  from: { customerId: string; position: string }[],
): Promise<{ customerId: string; position: string; changes: Record<string, unknown> }[]> {
  if (from.length === 0) return [];
  const { rows } = await changesSinceQuery(storeId, from).execute(db);
  return rows.map((r) => ({
    customerId: r.customer_id,
    position: String(r.position),
    changes: r.changes,
  }));
}

/** changesSince's statement (test/db/plans.test.ts explains it). */
export function changesSinceQuery(
  storeId: string,
  from: { customerId: string; position: string }[],
) {
  return sql<{
    customer_id: string;
    position: string;
    changes: Record<string, unknown>;
  }>`
    SELECT e.customer_id, e.position, e.changes
    FROM unnest(${from.map((f) => f.customerId)}::text[], ${from.map((f) => f.position)}::bigint[])
      AS t(customer_id, position),
    LATERAL (
      SELECT e.customer_id, e.position, e.changes FROM customer_events AS e
      WHERE e.store_id = ${storeId} AND e.customer_id = t.customer_id AND e.position > t.position
      OFFSET 0
    ) e
    ORDER BY e.position DESC`;
}

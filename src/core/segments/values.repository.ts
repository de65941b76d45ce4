import { sql } from 'kysely';
import type { DB } from '../db/database.js';

/**
 * Whether a store keeps the typed values segments read, and how far the fill of its
 * customers before has gone (migration 0030). Row types never leave this file.
 */

export type ValuesStatus = 'off' | 'filling' | 'kept';

export interface ValuesState {
  status: ValuesStatus;
  /** The last customer id the fill has done (null: none yet). */
  cursor: string | null;
  /** The store's segments version, which a write of values states. */
  version: string;
}

export async function valuesState(db: DB, storeId: string): Promise<ValuesState | undefined> {
  const { rows } = await sql<{
    values_status: ValuesStatus;
    values_cursor: string | null;
    segments_version: string;
  }>`
    SELECT values_status, values_cursor, segments_version::text AS segments_version
    FROM stores WHERE id = ${storeId}`.execute(db);
  const [r] = rows;
  return r && { status: r.values_status, cursor: r.values_cursor, version: r.segments_version };
}

/**
 * From now on every write keeps the store's values: in a transaction that has moved the
 * store's segments version (bumpVersion), so that a write planned without them fails.
 */
export async function startKeeping(trx: DB, storeId: string): Promise<void> {
  await sql`
    UPDATE stores SET values_status = 'filling', values_cursor = NULL
    WHERE id = ${storeId} AND values_status = 'off'`.execute(trx);
}

/** The next `size` customers after the cursor, in id order, with their custom fields. */
export async function customersAfter(
  db: DB,
  storeId: string,
  after: string | null,
  size: number,
): Promise<{ id: string; customFields: Record<string, unknown>; live: boolean }[]> {
  const { rows } = await sql<{
    id: string;
    custom_fields: Record<string, unknown>;
    live: boolean;
  }>`
    SELECT id, custom_fields, merged_into IS NULL AS live FROM customers
    WHERE store_id = ${storeId} AND id > ${after ?? ''}
    ORDER BY id LIMIT ${size}`.execute(db);
  return rows.map((r) => ({ id: r.id, customFields: r.custom_fields, live: r.live }));
}

/** The fill done up to `cursor`, or (null) done: every customer's values are kept. */
export async function advanceFill(db: DB, storeId: string, cursor: string | null): Promise<void> {
  await sql`
    UPDATE stores SET ${
      cursor === null
        ? sql`values_status = 'kept', values_cursor = NULL`
        : sql`values_cursor = ${cursor}`
    }
    WHERE id = ${storeId} AND values_status = 'filling'`.execute(db);
}

/** Stores whose fill is under way, for the background builders. */
export async function storesFilling(db: DB, limit: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM stores WHERE values_status = 'filling' ORDER BY id LIMIT ${limit}`.execute(db);
  return rows.map((r) => r.id);
}

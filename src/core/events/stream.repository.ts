import { sql } from 'kysely';
import type { DB } from '../db/database.js';
import type { FeedPlace } from './feed.repository.js';

/** Stream publishers' places in each store's feed (migration 0013). */

/** Gives every store a place in the stream, at the feed's present, if it has none yet. */
export async function ensurePlaces(db: DB, stream: string): Promise<void> {
  await sql`
    INSERT INTO event_streams (store_id, stream, cursor_tx)
    SELECT s.id, ${stream}, pg_snapshot_xmin(pg_current_snapshot()) FROM stores AS s
    ON CONFLICT (store_id, stream) DO NOTHING`.execute(db);
}

/** Stores whose place no other process holds; held until the caller's transaction ends. */
export async function takePlaces(
  trx: DB,
  stream: string,
  limit: number,
): Promise<{ storeId: string; place: FeedPlace }[]> {
  const { rows } = await sql<{ store_id: string; cursor_tx: string; cursor_position: string }>`
    SELECT store_id, cursor_tx::text AS cursor_tx, cursor_position::text AS cursor_position
    FROM event_streams WHERE stream = ${stream}
    ORDER BY updated_at LIMIT ${limit}
    FOR UPDATE SKIP LOCKED`.execute(trx);
  return rows.map((r) => ({
    storeId: r.store_id,
    place: { tx: r.cursor_tx, position: r.cursor_position },
  }));
}

export async function movePlace(
  trx: DB,
  stream: string,
  storeId: string,
  place: FeedPlace | undefined,
): Promise<void> {
  await sql`
    UPDATE event_streams SET updated_at = now(),
      cursor_tx = coalesce(${place?.tx ?? null}::xid8, cursor_tx),
      cursor_position = coalesce(${place?.position ?? null}::bigint, cursor_position)
    WHERE store_id = ${storeId} AND stream = ${stream}`.execute(trx);
}

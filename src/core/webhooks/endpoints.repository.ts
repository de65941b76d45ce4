import { sql } from 'kysely';
import type { DB } from '../db/database.js';

/** Webhook endpoints' SQL. Secrets arrive and leave sealed (secrets.ts). */

export interface EndpointRow {
  store_id: string;
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  failing_since: Date | null;
  cursor_tx: string;
  cursor_position: string;
  created_at: Date;
  updated_at: Date;
}

export async function insertEndpoint(
  db: DB,
  row: Pick<
    EndpointRow,
    'store_id' | 'id' | 'url' | 'events' | 'description' | 'enabled' | 'secret'
  >,
): Promise<EndpointRow> {
  // It starts at the feed's present: transactions that have ended are behind it.
  const { rows } = await sql<EndpointRow>`
    INSERT INTO webhook_endpoints (store_id, id, url, events, description, enabled, secret, cursor_tx)
    VALUES (${row.store_id}, ${row.id}, ${row.url}, ${row.events}, ${row.description},
      ${row.enabled}, ${row.secret}, pg_snapshot_xmin(pg_current_snapshot()))
    RETURNING *`.execute(db);
  return rows[0] as EndpointRow;
}

export async function listEndpoints(db: DB, storeId: string): Promise<EndpointRow[]> {
  const { rows } = await sql<EndpointRow>`
    SELECT * FROM webhook_endpoints WHERE store_id = ${storeId} ORDER BY id`.execute(db);
  return rows;
}

export async function findEndpoint(
  db: DB,
  storeId: string,
  id: string,
): Promise<EndpointRow | undefined> {
  const { rows } = await sql<EndpointRow>`
    SELECT * FROM webhook_endpoints WHERE store_id = ${storeId} AND id = ${id}`.execute(db);
  return rows[0];
}

/** Endpoints by store and id, in one query. */
export async function findEndpoints(
  db: DB,
  keys: { storeId: string; id: string }[],
): Promise<EndpointRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await sql<EndpointRow>`
    SELECT w.* FROM webhook_endpoints AS w
    JOIN unnest(${keys.map((k) => k.storeId)}::text[], ${keys.map((k) => k.id)}::text[])
      AS k(store_id, id) ON w.store_id = k.store_id AND w.id = k.id`.execute(db);
  return rows;
}

export async function updateEndpoint(
  db: DB,
  storeId: string,
  id: string,
  change: {
    url?: string;
    events?: string[];
    description?: string | null;
    enabled?: boolean;
    secret?: string;
    previous_secret?: string | null;
    previous_secret_until?: Date | null;
  },
): Promise<EndpointRow | undefined> {
  const sets = Object.entries(change).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  // Enabling again clears why it was disabled, and how long it had been failing.
  if (change.enabled === true) {
    sets.push(sql`disabled_reason = NULL`, sql`failing_since = NULL`);
  }
  sets.push(sql`updated_at = now()`);
  const { rows } = await sql<EndpointRow>`
    UPDATE webhook_endpoints SET ${sql.join(sets)}
    WHERE store_id = ${storeId} AND id = ${id} RETURNING *`.execute(db);
  return rows[0];
}

export async function deleteEndpoint(db: DB, storeId: string, id: string): Promise<boolean> {
  const result = await sql`
    DELETE FROM webhook_endpoints WHERE store_id = ${storeId} AND id = ${id}`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** Disables an endpoint, saying why (a 410 Gone, or days of failing). */
export async function disableEndpoint(
  db: DB,
  storeId: string,
  id: string,
  reason: string,
): Promise<void> {
  await sql`
    UPDATE webhook_endpoints SET enabled = false, disabled_reason = ${reason}, updated_at = now()
    WHERE store_id = ${storeId} AND id = ${id}`.execute(db);
}

/** After an attempt: a success ends a failing streak; a failure starts one if none runs. */
export async function noteOutcome(
  db: DB,
  storeId: string,
  id: string,
  succeeded: boolean,
): Promise<{ failingSince: Date | null }> {
  const { rows } = await sql<{ failing_since: Date | null }>`
    UPDATE webhook_endpoints
    SET failing_since = CASE WHEN ${succeeded} THEN NULL ELSE coalesce(failing_since, now()) END
    WHERE store_id = ${storeId} AND id = ${id}
    RETURNING failing_since`.execute(db);
  return { failingSince: rows[0]?.failing_since ?? null };
}

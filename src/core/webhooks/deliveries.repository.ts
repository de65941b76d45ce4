import { sql } from 'kysely';
import type { DB } from '../db/database.js';

/** Deliveries' and attempts' SQL: fan-out from the feed, leases, outcomes, the log. */

export interface DeliveryRow {
  store_id: string;
  id: string;
  seq: string;
  endpoint_id: string;
  event_id: string;
  customer_id: string;
  /** Always `pending`: a delivery done (sent, given up, or with nothing to send) is deleted. */
  status: 'pending';
  attempts: number;
  next_attempt_at: Date;
  created_at: Date;
}

/**
 * Endpoints that no other process is fanning out, each with what it subscribes to. The
 * caller holds them (FOR UPDATE SKIP LOCKED) until its transaction ends.
 */
export async function takeEndpointsToFanOut(
  trx: DB,
  limit: number,
): Promise<
  { store_id: string; id: string; events: string[]; cursor_tx: string; cursor_position: string }[]
> {
  const { rows } = await sql<{
    store_id: string;
    id: string;
    events: string[];
    cursor_tx: string;
    cursor_position: string;
  }>`
    SELECT store_id, id, events, cursor_tx::text AS cursor_tx, cursor_position::text AS cursor_position
    FROM webhook_endpoints WHERE enabled
    ORDER BY updated_at LIMIT ${limit}
    FOR UPDATE SKIP LOCKED`.execute(trx);
  return rows;
}

/**
 * One endpoint's deliveries for the next events of its store's feed after its place
 * (of the record types given, or all when null), in feed order; its place moves to the
 * last event taken. How many it made.
 */
export async function fanOutEndpoint(
  trx: DB,
  endpoint: { store_id: string; id: string; cursor_tx: string; cursor_position: string },
  recordTypes: string[] | null,
  limit: number,
): Promise<number> {
  const { rows } = await sql<{ made: string }>`
    WITH taken AS (
      SELECT e.id, e.customer_id, e.tx, e.position FROM customer_events AS e
      WHERE e.store_id = ${endpoint.store_id}
        AND e.tx < pg_snapshot_xmin(pg_current_snapshot())
        AND (e.tx, e.position) > (${endpoint.cursor_tx}::xid8, ${endpoint.cursor_position}::bigint)
        AND (${recordTypes}::text[] IS NULL OR e.type = ANY(${recordTypes}::text[]))
      ORDER BY e.tx, e.position LIMIT ${limit}
    ), made AS (
      INSERT INTO webhook_deliveries (store_id, id, endpoint_id, event_id, customer_id)
      SELECT ${endpoint.store_id}, 'whd_' || replace(gen_random_uuid()::text, '-', ''),
        ${endpoint.id}, t.id, t.customer_id
      FROM taken AS t ORDER BY t.tx, t.position
      RETURNING 1
    ), moved AS (
      UPDATE webhook_endpoints AS w SET cursor_tx = last.tx, cursor_position = last.position
      FROM (SELECT tx, position FROM taken ORDER BY tx DESC, position DESC LIMIT 1) AS last
      WHERE w.store_id = ${endpoint.store_id} AND w.id = ${endpoint.id}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM made)::text AS made, (SELECT count(*) FROM moved) AS moved`.execute(
    trx,
  );
  return Number(rows[0]?.made ?? 0);
}

/** Deliveries for chosen events of an endpoint (a redelivery, a replay). */
export async function insertDeliveries(
  db: DB,
  storeId: string,
  endpointId: string,
  events: { id: string; customerId: string }[],
): Promise<number> {
  if (events.length === 0) return 0;
  const result = await sql`
    INSERT INTO webhook_deliveries (store_id, id, endpoint_id, event_id, customer_id)
    SELECT ${storeId}, 'whd_' || replace(gen_random_uuid()::text, '-', ''), ${endpointId}, t.id, t.c
    FROM unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => e.customerId)}::text[])
      WITH ORDINALITY AS t(id, c, n)
    ORDER BY t.n`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Leases up to `limit` due deliveries that no other process holds, of enabled
 * endpoints, each the oldest still pending for its endpoint and customer (a customer's
 * events reach an endpoint in order). A lease that runs out (its process died) makes
 * the delivery due again.
 */
export async function leaseDue(db: DB, limit: number, leaseMs: number): Promise<DeliveryRow[]> {
  // The statement is in a function that plans it with index probes only (migration 0014).
  const { rows } = await sql<DeliveryRow>`
    SELECT store_id, id, seq::text AS seq, endpoint_id, event_id, customer_id, status, attempts,
      next_attempt_at, created_at
    FROM clientele_lease_deliveries(${limit}::integer, ${Math.round(leaseMs)}::integer)`.execute(
    db,
  );
  return rows;
}

/**
 * A round's attempts, logged, and its deliveries' outcomes, in one statement: a delivery
 * with `retryAt` is due again then; one without is done and goes (its attempts stay in
 * the log). The table holds only deliveries still to make, so it stays as small as the
 * backlog.
 */
export async function recordAttempts(
  db: DB,
  attempts: (Omit<AttemptRow, 'at'> & { store_id: string; endpoint_id: string })[],
  outcomes: { storeId: string; id: string; retryAt: Date | null }[],
): Promise<void> {
  if (attempts.length === 0 && outcomes.length === 0) return;
  const col = <K extends keyof (typeof attempts)[number]>(k: K) => attempts.map((r) => r[k]);
  await sql`
    WITH outcome AS (
      SELECT * FROM unnest(${outcomes.map((o) => o.storeId)}::text[],
        ${outcomes.map((o) => o.id)}::text[], ${outcomes.map((o) => o.retryAt)}::timestamptz[])
        AS t(store_id, id, retry_at)
    ), logged AS (
      INSERT INTO webhook_attempts (store_id, id, endpoint_id, delivery_id, event_id, event_type,
        attempt, status_code, latency_ms, response, error)
      SELECT * FROM unnest(${col('store_id')}::text[], ${col('id')}::text[],
        ${col('endpoint_id')}::text[], ${col('delivery_id')}::text[], ${col('event_id')}::text[],
        ${col('event_type')}::text[], ${col('attempt')}::int[], ${col('status_code')}::int[],
        ${col('latency_ms')}::int[], ${col('response')}::text[], ${col('error')}::text[])
      RETURNING 1
    ), retried AS (
      UPDATE webhook_deliveries AS d SET next_attempt_at = o.retry_at, leased_until = NULL
      FROM outcome AS o
      WHERE o.retry_at IS NOT NULL AND d.store_id = o.store_id AND d.id = o.id
      RETURNING 1
    ), done AS (
      DELETE FROM webhook_deliveries AS d USING outcome AS o
      WHERE o.retry_at IS NULL AND d.store_id = o.store_id AND d.id = o.id
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM logged) AS logged, (SELECT count(*) FROM retried) AS retried,
      (SELECT count(*) FROM done) AS done`.execute(db);
}

export interface AttemptRow {
  id: string;
  delivery_id: string | null;
  event_id: string;
  event_type: string;
  attempt: number;
  at: Date;
  status_code: number | null;
  latency_ms: number;
  response: string | null;
  error: string | null;
}

export async function logAttempt(
  db: DB,
  storeId: string,
  endpointId: string,
  row: Omit<AttemptRow, 'at'>,
): Promise<void> {
  await sql`
    INSERT INTO webhook_attempts (store_id, id, endpoint_id, delivery_id, event_id, event_type,
      attempt, status_code, latency_ms, response, error)
    VALUES (${storeId}, ${row.id}, ${endpointId}, ${row.delivery_id}, ${row.event_id},
      ${row.event_type}, ${row.attempt}, ${row.status_code}, ${row.latency_ms}, ${row.response},
      ${row.error})`.execute(db);
}

/** An endpoint's attempts, newest first. */
export async function listAttempts(
  db: DB,
  storeId: string,
  endpointId: string,
  limit: number,
  before: string | undefined,
): Promise<AttemptRow[]> {
  const { rows } = await sql<AttemptRow>`
    SELECT id, delivery_id, event_id, event_type, attempt, at, status_code, latency_ms, response, error
    FROM webhook_attempts
    WHERE store_id = ${storeId} AND endpoint_id = ${endpointId}
      AND (${before ?? null}::text IS NULL OR id < ${before ?? null})
    ORDER BY id DESC LIMIT ${limit}`.execute(db);
  return rows;
}

/** Deliveries still pending for an endpoint (what a store sees queued). */
export async function countPending(db: DB, storeId: string, endpointId: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    SELECT count(*)::text AS n FROM webhook_deliveries
    WHERE store_id = ${storeId} AND endpoint_id = ${endpointId} AND status = 'pending'`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

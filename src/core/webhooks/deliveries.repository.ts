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

/** Where a fan-out round goes on from: the last endpoint taken ('' '' before the first). */
export interface FanOutPlace {
  store: string;
  id: string;
}

/**
 * Fans out up to `endpoints` endpoints that no other process is fanning out (FOR UPDATE
 * SKIP LOCKED, held for this one statement), the next ones after `after` in (store, id)
 * order, wrapping round to the first after the last, so that rounds rotate through every
 * enabled endpoint (migration 0023): for each, deliveries for the next `perEndpoint`
 * events of its store's feed after its place, of the types it subscribes to
 * (`recordTypes` maps each event type to the change record's type), in feed order; its
 * place moves to the last event taken. Up to `lease.limit` of the deliveries made that
 * may go at once (no older one of their customer pending for their endpoint) are leased
 * as they are made, for `lease.ms`, and returned. How many endpoints it took and
 * deliveries it made, and where the next round goes on (`next`). `perStore`: the stores
 * with enabled endpoints from `after`'s on are found without a lock, and each is fanned
 * out by a statement of its own (on Citus, on its node); past the last store, the next
 * round starts again from the first.
 */
export async function fanOut(
  db: DB,
  recordTypes: Record<string, string>,
  endpoints: number,
  perEndpoint: number,
  after: FanOutPlace,
  lease: { limit: number; ms: number },
  perStore = false,
): Promise<{ endpoints: number; made: number; leased: DeliveryRow[]; next: FanOutPlace }> {
  const types = [Object.keys(recordTypes), Object.values(recordTypes)];
  // The statement is in a function that plans it with index probes alone (migrations 0014, 0023).
  const run = async (store: string | undefined, afterId: string, room: number, leases: number) => {
    const { rows } = await sql<{
      endpoints: string;
      made: string;
      last_store: string | null;
      last_id: string | null;
      leased:
        | (Omit<DeliveryRow, 'next_attempt_at' | 'created_at'> & {
            next_attempt_at: string;
            created_at: string;
          })[]
        | null;
    }>`
      SELECT endpoints::text, made::text, last_store, last_id, leased FROM ${
        store === undefined
          ? sql`clientele_fan_out(${after.store}, `
          : sql`clientele_fan_out_store(${store}, `
      }${afterId}, ${room}::integer, ${perEndpoint}::integer, ${types[0]}::text[], ${types[1]}::text[], ${leases}::integer, ${Math.round(lease.ms)}::integer)`.execute(
      db,
    );
    const row = rows[0];
    return {
      endpoints: Number(row?.endpoints ?? 0),
      made: Number(row?.made ?? 0),
      leased: (row?.leased ?? []).map((d) => ({
        ...d,
        next_attempt_at: new Date(d.next_attempt_at),
        created_at: new Date(d.created_at),
      })),
      last: row?.last_store && row.last_id ? { store: row.last_store, id: row.last_id } : undefined,
    };
  };
  if (!perStore) {
    const { last, ...done } = await run(undefined, after.id, endpoints, lease.limit);
    return { ...done, next: last ?? after };
  }
  const { rows: stores } = await sql<{ store_id: string }>`
    SELECT DISTINCT store_id FROM webhook_endpoints WHERE enabled AND store_id >= ${after.store}
    ORDER BY store_id LIMIT ${endpoints}`.execute(db);
  const done = { endpoints: 0, made: 0, leased: [] as DeliveryRow[] };
  let next = after;
  for (const { store_id } of stores) {
    const room = endpoints - done.endpoints;
    if (room <= 0) break;
    const from = store_id === after.store ? after.id : '';
    const r = await run(store_id, from, room, lease.limit - done.leased.length);
    done.endpoints += r.endpoints;
    done.made += r.made;
    done.leased.push(...r.leased);
    next = r.last ?? { store: store_id, id: from };
  }
  // The last store reached with room to spare: the next round starts from the first.
  const end = stores.length < endpoints && done.endpoints < endpoints;
  return { ...done, next: end ? { store: '', id: '' } : next };
}

/** Runs `step` for each store in turn with the room left, until none is. */
async function eachStore<T>(
  stores: { store_id: string }[],
  room: number,
  step: (store: string, room: number) => Promise<T>,
  taken: (result: T) => number,
  add: (a: T, b: T) => T,
  none: T,
): Promise<T> {
  let total = none;
  let left = room;
  for (const { store_id } of stores) {
    if (left <= 0) break;
    const result = await step(store_id, left);
    total = add(total, result);
    left -= taken(result);
  }
  return total;
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
export async function leaseDue(
  db: DB,
  limit: number,
  leaseMs: number,
  perStore = false,
): Promise<DeliveryRow[]> {
  // The statement is in a function that plans it with index probes only (migrations 0014, 0020).
  const run = async (store: string | undefined, room: number) => {
    const { rows } = await sql<DeliveryRow>`
      SELECT store_id, id, seq::text AS seq, endpoint_id, event_id, customer_id, status, attempts,
        next_attempt_at, created_at
      FROM ${
        store === undefined
          ? sql`clientele_lease_deliveries(`
          : sql`clientele_lease_store_deliveries(${store}, `
      }${room}::integer, ${Math.round(leaseMs)}::integer)`.execute(db);
    return rows;
  };
  if (!perStore) return run(undefined, limit);
  // The stores with deliveries due, longest waiting first, found without a lock.
  const { rows: stores } = await sql<{ store_id: string }>`
    SELECT store_id FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now()
      AND (leased_until IS NULL OR leased_until < now())
    GROUP BY store_id ORDER BY min(next_attempt_at) LIMIT ${limit}`.execute(db);
  return eachStore(
    stores,
    limit,
    run,
    (r) => r.length,
    (a, b) => [...a, ...b],
    [],
  );
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

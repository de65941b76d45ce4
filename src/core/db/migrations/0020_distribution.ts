import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * What running distributed by store (Citus, docs/scaling.md) needs of the schema.
 *
 * - `secret_routes`: the store of each API key and access token issued before secrets
 *   carried their store (`stores/api-keys.ts`), by the secret's SHA-256, so that a request
 *   presenting one is routed by this small table (a reference table on Citus, copied to
 *   every node) and not by asking every shard for the hash. Secrets issued from now on
 *   name their store and need no row here.
 * - `store_names` loses its foreign key to `stores`: on Citus it is a reference table (a
 *   request finds its store by a name, with no store id yet), and a reference table may
 *   not reference a distributed one. Its rows are written with their store's, in the
 *   store's transaction (`stores/store-names.repository.ts`).
 * - The webhook sender's fan-out and lease, scoped to one store
 *   (`clientele_fan_out_store`, `clientele_lease_store_deliveries`): on Citus each runs on
 *   the node holding the store (the functions are distributed by `p_store`): a router
 *   statement, whose `FOR UPDATE SKIP LOCKED` is that of one shard, and no `ctid`. The functions
 *   across every store (migration 0014) stay as they were for one PostgreSQL.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE secret_routes (
      secret_hash text PRIMARY KEY,
      store_id text NOT NULL
    )`.execute(db);
  await sql`
    INSERT INTO secret_routes (secret_hash, store_id)
    SELECT key_hash, store_id FROM api_keys WHERE revoked_at IS NULL
    UNION
    SELECT token_hash, store_id FROM access_tokens WHERE expires_at > now()
    ON CONFLICT DO NOTHING`.execute(db);
  await sql`ALTER TABLE store_names DROP CONSTRAINT store_names_store_id_fkey`.execute(db);
  await sql.raw(leaseDeliveries('store')).execute(db);
  await sql.raw(fanOut('store')).execute(db);
}

/**
 * The lease of migration 0014, across every store (`all`) or in one (`store`): found and
 * locked first, then updated by ctid (a TID scan), or in one store by primary key (with
 * the store in its condition, the planner would read the store by it and filter the
 * ctids; and on Citus an update names its store). Planned with index probes only
 * (migration 0014 says why).
 */
export function leaseDeliveries(scope: 'all' | 'store'): string {
  const one = scope === 'store';
  return `
    CREATE OR REPLACE FUNCTION ${one ? 'clientele_lease_store_deliveries(p_store text, ' : 'clientele_lease_deliveries('}p_limit integer, p_lease_ms integer)
    RETURNS SETOF webhook_deliveries
    LANGUAGE sql VOLATILE
    SET enable_seqscan = off
    SET enable_bitmapscan = off
    SET enable_hashjoin = off
    SET enable_mergejoin = off
    AS $$
      UPDATE webhook_deliveries AS d
      SET leased_until = now() + make_interval(secs => p_lease_ms / 1000.0),
        attempts = d.attempts + 1
      WHERE ${one ? 'd.store_id = p_store AND d.id' : 'd.ctid'} = ANY(ARRAY(
        SELECT ${one ? 'c.id' : 'c.ctid'} FROM webhook_deliveries AS c
        WHERE ${one ? 'c.store_id = p_store AND ' : ''}c.status = 'pending' AND c.next_attempt_at <= now()
          AND (c.leased_until IS NULL OR c.leased_until < now())
          AND EXISTS (SELECT 1 FROM webhook_endpoints AS w
                      WHERE w.store_id = c.store_id AND w.id = c.endpoint_id AND w.enabled)
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS p
                          WHERE p.store_id = c.store_id AND p.endpoint_id = c.endpoint_id
                            AND p.customer_id = c.customer_id AND p.status = 'pending'
                            AND p.seq < c.seq
                          -- Kept a subplan (not made a join), so it is a probe per row.
                          OFFSET 0)
        ORDER BY c.next_attempt_at, c.seq LIMIT p_limit
        FOR UPDATE OF c SKIP LOCKED
      ))
      RETURNING d.*
    $$`;
}

/** The fan-out of migration 0014, across every store (`all`) or in one (`store`). */
export function fanOut(scope: 'all' | 'store'): string {
  const one = scope === 'store';
  return `
    CREATE OR REPLACE FUNCTION ${one ? 'clientele_fan_out_store(p_store text, ' : 'clientele_fan_out('}p_endpoints integer, p_per_endpoint integer,
      p_events text[], p_records text[])
    RETURNS TABLE (endpoints bigint, made bigint)
    LANGUAGE sql VOLATILE
    SET enable_seqscan = off
    SET enable_bitmapscan = off
    AS $$
      WITH ep AS (
        SELECT store_id, id, events, cursor_tx, cursor_position FROM webhook_endpoints
        WHERE ${one ? 'store_id = p_store AND ' : ''}enabled
        ORDER BY updated_at LIMIT p_endpoints
        FOR UPDATE SKIP LOCKED
      ), taken AS (
        SELECT ep.store_id, ep.id AS endpoint_id, e.id AS event_id, e.customer_id, e.tx,
          e.position
        FROM ep CROSS JOIN LATERAL (
          SELECT e.id, e.customer_id, e.tx, e.position FROM customer_events AS e
          WHERE e.store_id = ep.store_id
            AND e.tx < pg_snapshot_xmin(pg_current_snapshot())
            AND (e.tx, e.position) > (ep.cursor_tx, ep.cursor_position)
            AND ('*' = ANY(ep.events) OR e.type = ANY(ARRAY(
              SELECT m.record FROM unnest(p_events, p_records) AS m(event, record)
              WHERE m.event = ANY(ep.events))))
          ORDER BY e.tx, e.position LIMIT p_per_endpoint
        ) AS e
      ), made AS (
        INSERT INTO webhook_deliveries (store_id, id, endpoint_id, event_id, customer_id)
        SELECT t.store_id, 'whd_' || replace(gen_random_uuid()::text, '-', ''), t.endpoint_id,
          t.event_id, t.customer_id
        FROM taken AS t ORDER BY t.store_id, t.endpoint_id, t.tx, t.position
        RETURNING 1
      ), moved AS (
        UPDATE webhook_endpoints AS w SET cursor_tx = last.tx, cursor_position = last.position
        FROM (
          SELECT DISTINCT ON (store_id, endpoint_id) store_id, endpoint_id, tx, position
          FROM taken ORDER BY store_id, endpoint_id, tx DESC, position DESC
        ) AS last
        WHERE ${one ? 'w.store_id = p_store AND ' : ''}w.store_id = last.store_id AND w.id = last.endpoint_id
        RETURNING 1
      )
      -- (moved runs whether read or not, as every data-modifying WITH does.)
      SELECT (SELECT count(*) FROM ep), (SELECT count(*) FROM made)
    $$`;
}

import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * The webhook sender's fan-out and lease, as functions that plan them with index probes
 * only.
 *
 * Deliveries come and go by the thousand a second, so the statistics of their table
 * are nearly always out of date; planned on a moment when the table was small, the
 * check "no older delivery of this customer is still pending" became a scan of every
 * pending delivery for each one leased (seen: 50-200 ms a lease at 20,000 pending,
 * against under 1 ms probed). Every row it reads has an index made for that read, so
 * the function turns off the other ways to read one, and the check stays a probe per
 * delivery (a subplan: as a join, the planner would scan the index whole for each).
 * The fan-out likewise: with a backlog, the events after an endpoint's place were read
 * whole and sorted to take the first thousand, where the feed's index gives them in
 * order and stops there.
 *
 * A delivery that is done is deleted now (its attempts stay in the log); the ones that
 * ended before are deleted here.
 */
export async function up(db: DB): Promise<void> {
  await sql`DELETE FROM webhook_deliveries WHERE status <> 'pending'`.execute(db);
  await sql`
    CREATE FUNCTION clientele_lease_deliveries(p_limit integer, p_lease_ms integer)
    RETURNS SETOF webhook_deliveries
    LANGUAGE sql VOLATILE
    SET enable_seqscan = off
    SET enable_bitmapscan = off
    SET enable_hashjoin = off
    SET enable_mergejoin = off
    AS $$
      -- Found and locked first, then updated by ctid (a TID scan).
      UPDATE webhook_deliveries AS d
      SET leased_until = now() + make_interval(secs => p_lease_ms / 1000.0),
        attempts = d.attempts + 1
      WHERE d.ctid = ANY(ARRAY(
        SELECT c.ctid FROM webhook_deliveries AS c
        WHERE c.status = 'pending' AND c.next_attempt_at <= now()
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
    $$`.execute(db);
  // The endpoints a fan-out takes, least recently changed first.
  await sql`
    CREATE INDEX webhook_endpoints_to_fan_out ON webhook_endpoints (updated_at)
      WHERE enabled`.execute(db);
  // p_events and p_records: each event type and the change record's type it comes from.
  await sql`
    CREATE FUNCTION clientele_fan_out(p_endpoints integer, p_per_endpoint integer,
      p_events text[], p_records text[])
    RETURNS TABLE (endpoints bigint, made bigint)
    LANGUAGE sql VOLATILE
    SET enable_seqscan = off
    SET enable_bitmapscan = off
    AS $$
      WITH ep AS (
        SELECT store_id, id, events, cursor_tx, cursor_position FROM webhook_endpoints
        WHERE enabled
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
        WHERE w.store_id = last.store_id AND w.id = last.endpoint_id
        RETURNING 1
      )
      -- (moved runs whether read or not, as every data-modifying WITH does.)
      SELECT (SELECT count(*) FROM ep), (SELECT count(*) FROM made)
    $$`.execute(db);
}

import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Fan-out rounds rotate through every enabled endpoint (docs/webhooks.md, "How it runs").
 * The fan-out of migrations 0014 and 0020 took the `p_endpoints` enabled endpoints changed
 * least recently, every round the same ones: past that many, the others were never
 * reached. Now a round takes the endpoints after a cursor the sender passes, in primary
 * key order (`store_id`, `id`), and returns the last one it took, where the next round
 * goes on; across every store it wraps round to the first once it reaches the last, in
 * the same statement. In one store (on Citus) it does not wrap: the sender goes on to the
 * next store, and from the last store back to the first (deliveries.repository.ts).
 *
 * The functions' arguments and results change, so they are dropped and made again; the
 * index of the old order goes with them.
 */
export async function up(db: DB): Promise<void> {
  await sql`DROP FUNCTION clientele_fan_out(integer, integer, text[], text[])`.execute(db);
  await sql`DROP FUNCTION clientele_fan_out_store(text, integer, integer, text[], text[])`.execute(
    db,
  );
  await sql`DROP INDEX webhook_endpoints_to_fan_out`.execute(db);
  await sql.raw(fanOut('all')).execute(db);
  await sql.raw(fanOut('store')).execute(db);
}

/**
 * The fan-out across every store (`all`): the endpoints after (`p_after_store`,
 * `p_after_id`), then from the first up to that place; or in one store (`store`): its
 * endpoints after `p_after`. Planned with index probes only (migration 0014 says why).
 */
export function fanOut(scope: 'all' | 'store'): string {
  const one = scope === 'store';
  // Each branch locks only the rows the round goes on to take (an Append under a LIMIT
  // reads its second branch only when the first ran short).
  const endpoints = one
    ? `
        SELECT store_id, id, events, cursor_tx, cursor_position, 1 AS lap FROM webhook_endpoints
        WHERE store_id = p_store AND id > p_after AND enabled
        ORDER BY id LIMIT p_endpoints
        FOR UPDATE SKIP LOCKED`
    : `
        SELECT * FROM (
          SELECT store_id, id, events, cursor_tx, cursor_position, 1 AS lap FROM webhook_endpoints
          WHERE (store_id, id) > (p_after_store, p_after_id) AND enabled
          ORDER BY store_id, id LIMIT p_endpoints
          FOR UPDATE SKIP LOCKED) AS onward
        UNION ALL
        SELECT * FROM (
          SELECT store_id, id, events, cursor_tx, cursor_position, 2 AS lap FROM webhook_endpoints
          WHERE (store_id, id) <= (p_after_store, p_after_id) AND enabled
          ORDER BY store_id, id LIMIT p_endpoints
          FOR UPDATE SKIP LOCKED) AS wrapped
        LIMIT p_endpoints`;
  return `
    CREATE FUNCTION ${one ? 'clientele_fan_out_store(p_store text, p_after text, ' : 'clientele_fan_out(p_after_store text, p_after_id text, '}p_endpoints integer,
      p_per_endpoint integer, p_events text[], p_records text[])
    RETURNS TABLE (endpoints bigint, made bigint, last_store text, last_id text)
    LANGUAGE sql VOLATILE
    SET enable_seqscan = off
    SET enable_bitmapscan = off
    AS $$
      WITH ep AS (${endpoints}
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
      ), last AS (
        -- Where the next round goes on: the last endpoint taken, in the round's order.
        SELECT store_id, id FROM ep ORDER BY lap DESC, store_id DESC, id DESC LIMIT 1
      )
      -- (moved runs whether read or not, as every data-modifying WITH does.)
      SELECT (SELECT count(*) FROM ep), (SELECT count(*) FROM made),
        (SELECT store_id FROM last), (SELECT id FROM last)
    $$`;
}

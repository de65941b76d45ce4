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
 * A round also leases, as it makes them, up to `p_lease` of its deliveries that may go at
 * once (each customer's first of the round for its endpoint, with no older one pending
 * there): the sender sends them without waiting for its next lease (sender.ts), and a
 * delivery sent at once is written twice (made leased, then deleted), not three times.
 * The leased ones are returned; the others wait for a lease as before.
 *
 * And the feed is read up to the oldest transaction still running in this database, not
 * on the whole server (pg_snapshot_xmin): a long transaction in another database of the
 * same server held every webhook back for as long as it ran.
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
 * The feed's horizon, an xid8: the oldest transaction still running in this database.
 * Every one before it has ended, but for those of other databases on the server, which
 * cannot have written this feed. A running xid not seen in another database (ended
 * since, hidden, prepared) counts as this database's. Read by the fan-out and by
 * `GET …/events` (events/feed.repository.ts).
 */
export const FEED_HORIZON = `(SELECT coalesce((
            SELECT min(t.x) FROM pg_snapshot_xip(s.snap) AS t(x)
            WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a
                              WHERE a.backend_xid = t.x::xid
                                AND a.datname <> current_database())),
          pg_snapshot_xmax(s.snap))
        FROM (SELECT pg_current_snapshot() AS snap) AS s)`;

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
      p_per_endpoint integer, p_events text[], p_records text[], p_lease integer,
      p_lease_ms integer)
    RETURNS TABLE (endpoints bigint, made bigint, last_store text, last_id text, leased json)
    LANGUAGE sql VOLATILE
    SET enable_seqscan = off
    SET enable_bitmapscan = off
    AS $$
      WITH horizon AS (
        SELECT ${FEED_HORIZON} AS h
      ), ep AS (${endpoints}
      ), taken AS (
        SELECT ep.store_id, ep.id AS endpoint_id, e.id AS event_id, e.customer_id, e.tx,
          e.position
        FROM ep CROSS JOIN LATERAL (
          SELECT e.id, e.customer_id, e.tx, e.position FROM customer_events AS e
          WHERE e.store_id = ep.store_id
            AND e.tx < (SELECT h FROM horizon)
            AND (e.tx, e.position) > (ep.cursor_tx, ep.cursor_position)
            AND ('*' = ANY(ep.events) OR e.type = ANY(ARRAY(
              SELECT m.record FROM unnest(p_events, p_records) AS m(event, record)
              WHERE m.event = ANY(ep.events))))
          ORDER BY e.tx, e.position LIMIT p_per_endpoint
        ) AS e
      ), firsts AS (
        -- Each customer's first event of the round for its endpoint, in feed order.
        SELECT t.*, t.n = 1 AND count(*) FILTER (WHERE t.n = 1) OVER (
            ORDER BY t.store_id, t.endpoint_id, t.tx, t.position) <= p_lease AS candidate
        FROM (
          SELECT t.*, row_number() OVER (PARTITION BY t.store_id, t.endpoint_id, t.customer_id
            ORDER BY t.tx, t.position) AS n
          FROM taken AS t
        ) AS t
      ), chosen AS MATERIALIZED (
        -- Leased as it is made when no older delivery of its customer to that endpoint is
        -- pending (a probe, made for the first p_lease candidates only).
        SELECT f.*, CASE WHEN f.candidate THEN NOT EXISTS (
            SELECT 1 FROM webhook_deliveries AS p
            WHERE p.store_id = f.store_id AND p.endpoint_id = f.endpoint_id
              AND p.customer_id = f.customer_id AND p.status = 'pending')
          ELSE false END AS go
        FROM firsts AS f
      ), made AS (
        INSERT INTO webhook_deliveries (store_id, id, endpoint_id, event_id, customer_id,
          leased_until, attempts)
        SELECT t.store_id, 'whd_' || replace(gen_random_uuid()::text, '-', ''), t.endpoint_id,
          t.event_id, t.customer_id,
          CASE WHEN t.go THEN now() + make_interval(secs => p_lease_ms / 1000.0) END,
          CASE WHEN t.go THEN 1 ELSE 0 END
        FROM chosen AS t ORDER BY t.store_id, t.endpoint_id, t.tx, t.position
        RETURNING *
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
        (SELECT store_id FROM last), (SELECT id FROM last),
        (SELECT json_agg(json_build_object('store_id', m.store_id, 'id', m.id, 'seq', m.seq::text,
            'endpoint_id', m.endpoint_id, 'event_id', m.event_id, 'customer_id', m.customer_id,
            'status', m.status, 'attempts', m.attempts, 'next_attempt_at', m.next_attempt_at,
            'created_at', m.created_at) ORDER BY m.seq)
          FROM made AS m WHERE m.leased_until IS NOT NULL)
    $$`;
}

import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * The webhook sender's lease, as a function that plans it with index probes only.
 *
 * Deliveries come and go by the thousand a second, so the statistics of their table
 * are nearly always out of date; planned on a moment when the table was small, the
 * check "no older delivery of this customer is still pending" became a scan of every
 * pending delivery for each one leased (seen: 50-200 ms a lease at 20,000 pending,
 * against under 1 ms probed). Every row it reads has an index made for that read, so
 * the function turns off the other ways to read one, and the check stays a probe per
 * delivery (a subplan: as a join, the planner would scan the index whole for each).
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
}

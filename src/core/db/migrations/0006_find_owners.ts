import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * `clientele_find_owners`: the customers that hold any of these identifier values, each
 * as one JSON value. As a function its plan is made once per connection (planning the
 * statement took longer than running it), and it is the generic plan, always: a custom
 * one would only be planning again. A plan kept that long must be right for any size of
 * table, so each probe is a LATERAL of its own on a whole primary key (OFFSET 0 keeps
 * it apart): planned as one join while the tables were empty, the customers side read
 * the whole store, and kept, that plan cost more with every customer added.
 *
 * STABLE: it reads the snapshot of the statement that calls it, so a write in the same
 * statement (a chained batch's) is not seen. `row_to_json`, not `to_jsonb`: the same
 * text reaches the driver, without every row's keys sorted into a binary value first
 * (half the cost of the look-up).
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE FUNCTION clientele_find_owners(p_store text, p_kinds text[], p_values text[])
    RETURNS TABLE (i_kind text, i_value text, customer json)
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
      RETURN QUERY
        SELECT k.kind, k.value, row_to_json(c)
        FROM unnest(p_kinds, p_values) AS k(kind, value),
        LATERAL (
          SELECT i.customer_id FROM customer_identifiers i
          WHERE i.store_id = p_store AND i.kind = k.kind AND i.value = k.value
          OFFSET 0
        ) i,
        LATERAL (
          SELECT c.* FROM customers c WHERE c.store_id = p_store AND c.id = i.customer_id
          OFFSET 0
        ) c;
    END
    $$`.execute(db);
}

import { sql } from 'kysely';
import type { DB } from '../database.js';
import { probesOnly } from './0019_write_plans.js';

/**
 * `clientele_suppressed`: which of these identifier hashes are suppressed in the store
 * (migration 0021). Every batch of writes asks it once; as a function called by a
 * prepared statement (db/statements.ts) its plan is made once per connection, where the
 * query it replaces, an IN list of each length, was built, parsed and planned on every
 * call (PGlite's most of all). Kept once, the plan must be probes of the primary key
 * however few suppressions there were when it was made: PROBES_ONLY.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE FUNCTION clientele_suppressed(p_store text, p_hashes text[])
    RETURNS TABLE (hash text)
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
      RETURN QUERY
        SELECT s.hash FROM suppressions s WHERE s.store_id = p_store AND s.hash = ANY (p_hashes);
    END
    $$`.execute(db);
  await probesOnly(db, ['clientele_suppressed(text, text[])']);
}

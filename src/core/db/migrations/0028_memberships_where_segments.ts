import { sql } from 'kysely';
import type { DB } from '../database.js';
import { WRITE_DERIVED } from './0019_write_plans.js';

/**
 * Migration 0019's clientele_write_derived, its memberships left alone where the store has
 * no segment: there it ran each written customer's membership statements (a delete, an
 * insert, change records) for nothing, some 5 µs an upsert in PostgreSQL (measured with
 * pg_stat_statements under `npm run bench`). They still run where the store has a segment,
 * and always where a customer's memberships must end (merged away or erased: `clear`, which
 * also removes its values). A segment created meanwhile is no different from before: a
 * write that does not see it committed is one its build reads.
 */
export async function up(db: DB): Promise<void> {
  await sql.raw(writeDerived()).execute(db);
}

/** The head of the loop over the written customers' memberships, which 0019 writes once. */
const memberLoop = '\n        ORDER BY m.c LOOP\n';
const memberLoopWhereSegments = `
        WHERE m.clear OR EXISTS (SELECT 1 FROM segments WHERE store_id = p_store)
        ORDER BY m.c LOOP
`;

function writeDerived(): string {
  if (WRITE_DERIVED.split(memberLoop).length !== 2)
    throw new Error('clientele_write_derived: not one membership loop to narrow');
  return WRITE_DERIVED.replace(memberLoop, memberLoopWhereSegments);
}

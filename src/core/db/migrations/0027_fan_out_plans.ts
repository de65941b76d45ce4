import { sql } from 'kysely';
import type { DB } from '../database.js';
import { fanOut } from './0023_fan_out_rotation.js';

/**
 * The fan-out functions of migration 0023, the same statement in PL/pgSQL. As SQL
 * functions they were planned at every call (PostgreSQL keeps no plan of a SQL
 * function's statement): some 5 ms of planning for a statement that runs in 0.2 ms when
 * there is nothing to fan out, ten times a second per process even with no endpoint.
 * PL/pgSQL keeps the statement's plan for the connection (custom plans for its first
 * calls, then the generic one when it is as good).
 */
export async function up(db: DB): Promise<void> {
  await sql.raw(asPlpgsql(fanOut('all'))).execute(db);
  await sql.raw(asPlpgsql(fanOut('store'))).execute(db);
}

/** A `LANGUAGE sql` function of one statement as the same function in PL/pgSQL. */
export function asPlpgsql(definition: string): string {
  const start = definition.indexOf('AS $$');
  const end = definition.lastIndexOf('$$');
  if (!definition.includes('LANGUAGE sql') || start < 0 || end <= start) {
    throw new Error('not a SQL function of one statement');
  }
  const statement = definition.slice(start + 'AS $$'.length, end).trim();
  return `${definition
    .slice(0, start)
    .replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION')
    .replace('LANGUAGE sql', 'LANGUAGE plpgsql')}AS $$
    #variable_conflict use_column
    BEGIN
      RETURN QUERY ${statement};
    END
    $$`;
}

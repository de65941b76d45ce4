import { sql } from 'kysely';
import type { DB } from '../database.js';
import { probesOnly, WRITE_CUSTOMERS_BY_KEY } from './0019_write_plans.js';

/**
 * A customer's merged identifiers (`mergedIdentifiers`): the emails and external ids of
 * the customers merged into it that its own replaced. They are part of its state, so its
 * identifier rows hold them and they find it, as its own values do; an undo takes them
 * back. Migration 0019's clientele_write_customers writes the new column with the others.
 *
 * Both write functions get back migration 0019's plan settings: replaced, a function keeps
 * none, and migration 0028's clientele_write_derived had lost them.
 *
 * Merges made before this migration gave such values to no one, and keep it so: their
 * stored provenance does not name them, so an undo could not take them back.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    ALTER TABLE customers ADD COLUMN merged_identifiers jsonb NOT NULL DEFAULT '[]'::jsonb
  `.execute(db);
  await sql.raw(writeCustomers()).execute(db);
  await probesOnly(db);
}

/** Each place the function names the columns of a customer's state, as 0019 writes it once. */
const edits: [string, string][] = [
  [
    'channels, loyalty, version, created_at, updated_at)',
    'channels, loyalty, merged_identifiers, version, created_at, updated_at)',
  ],
  [
    'r.loyalty, r.version, r.now, r.now',
    'r.loyalty, r.merged_identifiers, r.version, r.now, r.now',
  ],
  [
    'channels jsonb, loyalty jsonb, version integer, now timestamptz)',
    'channels jsonb, loyalty jsonb, merged_identifiers jsonb, version integer, now timestamptz)',
  ],
  [
    'channels jsonb, loyalty jsonb, version integer, read_version integer, now timestamptz)',
    'channels jsonb, loyalty jsonb, merged_identifiers jsonb, version integer, read_version integer,\n          now timestamptz)',
  ],
  ['loyalty = u.loyalty,', 'loyalty = u.loyalty, merged_identifiers = u.merged_identifiers,'],
];

function writeCustomers(): string {
  let text = WRITE_CUSTOMERS_BY_KEY;
  for (const [from, to] of edits) {
    if (text.split(from).length !== 2)
      throw new Error(`clientele_write_customers: not one "${from}" to extend`);
    text = text.replace(from, to);
  }
  return text;
}

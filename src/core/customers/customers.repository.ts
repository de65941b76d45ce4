import { type Selectable, sql } from 'kysely';
import type { DB } from '../db/database.js';
import type { CustomerRow } from '../db/schema.js';
import type { FieldValue } from '../fields/types.js';
import {
  type CustomerState,
  emptyLocation,
  type Location,
  type StoredCustomer,
} from './customer.js';
import type { IdentityKey } from './identity.js';

/**
 * The SQL that reads customers and changes them outside the upsert's write (locks,
 * merges, erasure). The upsert's own statements are in write.repository.ts; the change
 * record's in events.repository.ts. Row types stay here.
 */

export type Row = Selectable<CustomerRow>;

/**
 * A customer's state as the columns of `customers`, each with its SQL type: the one list
 * the write's encoder is made from. `test/db/columns.test.ts` fails when the table or
 * the recordsets of `clientele_write_customers` disagree with it.
 */
export const stateColumns = [
  ['external_id', 'text', (s) => s.externalId],
  ['email', 'text', (s) => s.email],
  ['phone_numbers', 'text[]', (s) => s.phoneNumbers],
  ['first_name', 'text', (s) => s.firstName],
  ['last_name', 'text', (s) => s.lastName],
  ['birthdate', 'date', (s) => s.birthdate],
  ['description', 'text', (s) => s.description],
  ['active', 'boolean', (s) => s.active],
  ['location', 'jsonb', (s) => s.location],
  ['identifiers', 'jsonb', (s) => s.identifiers],
  ['custom_fields', 'jsonb', (s) => s.customFields],
  ['metadata', 'jsonb', (s) => s.metadata],
  ['channels', 'jsonb', (s) => s.channels],
  ['loyalty', 'jsonb', (s) => s.loyalty],
  ['merged_identifiers', 'jsonb', (s) => s.mergedIdentifiers],
] as const satisfies readonly (readonly [keyof Row, string, (s: CustomerState) => unknown])[];

/** A `date` column as YYYY-MM-DD, whichever way the driver hands it over. */
function dateOnly(value: string | Date | null): string | null {
  return value instanceof Date ? value.toISOString().slice(0, 10) : value;
}

export function rowToStored(row: Row): StoredCustomer {
  return {
    id: row.id,
    seq: row.seq,
    version: row.version,
    mergedInto: row.merged_into,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    state: {
      externalId: row.external_id,
      email: row.email,
      phoneNumbers: row.phone_numbers,
      firstName: row.first_name,
      lastName: row.last_name,
      birthdate: dateOnly(row.birthdate),
      description: row.description,
      active: row.active,
      location: { ...emptyLocation(), ...(row.location as Partial<Location>) },
      identifiers: row.identifiers,
      customFields: row.custom_fields as Record<string, FieldValue>,
      metadata: row.metadata,
      channels: row.channels as CustomerState['channels'],
      loyalty: row.loyalty as CustomerState['loyalty'],
      mergedIdentifiers: row.merged_identifiers as CustomerState['mergedIdentifiers'],
    },
  };
}

/** The customers, locked for update in id order. */
export async function lockCustomers(
  trx: DB,
  storeId: string,
  ids: string[],
): Promise<StoredCustomer[]> {
  if (ids.length === 0) return [];
  const rows = await trx
    .selectFrom('customers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('id', 'in', ids)
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map(rowToStored);
}

/**
 * Makes a customer a tombstone merged into another. Returns the customers once merged
 * into it, which now point at the survivor too (so one hop always suffices).
 */
export async function markMerged(
  trx: DB,
  storeId: string,
  id: string,
  into: string,
  now: Date,
): Promise<string[]> {
  await trx
    .updateTable('customers')
    .set({ merged_into: into, updated_at: now, version: sql`version + 1` })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .execute();
  const carried = await trx
    .updateTable('customers')
    .set({ merged_into: into })
    .where('store_id', '=', storeId)
    .where('merged_into', '=', id)
    .returning('id')
    .execute();
  return carried.map((c) => c.id);
}

/**
 * Makes a merged-away customer a customer again (an undo), and points the customers once
 * merged into it (`carried`) back at it. Its state is then written as any update's.
 */
export async function unmarkMerged(
  trx: DB,
  storeId: string,
  id: string,
  carried: string[],
): Promise<void> {
  await trx
    .updateTable('customers')
    .set({ merged_into: null })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .execute();
  if (carried.length === 0) return;
  await trx
    .updateTable('customers')
    .set({ merged_into: id })
    .where('store_id', '=', storeId)
    .where('id', 'in', carried)
    .execute();
}

export async function removeAllIdentifiers(
  trx: DB,
  storeId: string,
  customerId: string,
): Promise<void> {
  await trx
    .deleteFrom('customer_identifiers')
    .where('store_id', '=', storeId)
    .where('customer_id', '=', customerId)
    .execute();
}

export async function findCustomerById(
  db: DB,
  storeId: string,
  id: string,
): Promise<StoredCustomer | undefined> {
  const row = await db
    .selectFrom('customers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? rowToStored(row) : undefined;
}

/**
 * Customers by id, as stored (merged ones included), keyed by id: one probe of the
 * primary key per id, inside a LATERAL that OFFSET 0 keeps from being turned into a
 * join, whatever the table's statistics say (on a store that has just grown, stale ones
 * made an `IN` list of 256 ids a scan of the store). One statement text for any number
 * of ids, too, where an `IN` list is parsed and planned anew for each length.
 */
export async function findCustomersById(
  db: DB,
  storeId: string,
  ids: string[],
): Promise<Map<string, StoredCustomer>> {
  if (ids.length === 0) return new Map();
  const { rows } = await customersByIdQuery(storeId, ids).execute(db);
  return new Map(rows.map((r) => [r.id, rowToStored(r)]));
}

/** findCustomersById's statement (test/db/plans.test.ts explains it). */
export function customersByIdQuery(storeId: string, ids: string[]) {
  return sql<Row>`
    SELECT c.* FROM unnest(${[...new Set(ids)]}::text[]) AS k(id),
    LATERAL (SELECT * FROM customers c WHERE c.store_id = ${storeId} AND c.id = k.id OFFSET 0) c`;
}

export async function findCustomerByKey(
  db: DB,
  storeId: string,
  key: IdentityKey,
): Promise<StoredCustomer | undefined> {
  const row = await db
    .selectFrom('customer_identifiers as i')
    .innerJoin('customers as c', (j) =>
      j.onRef('c.store_id', '=', 'i.store_id').onRef('c.id', '=', 'i.customer_id'),
    )
    .selectAll('c')
    .where('i.store_id', '=', storeId)
    .where('i.kind', '=', key.kind)
    .where('i.value', '=', key.value)
    .executeTakeFirst();
  return row ? rowToStored(row) : undefined;
}

/**
 * Newest first by id (or oldest first, `asc`: an export's pages), past the cursor id;
 * ids only grow, so a cursor never repeats or skips a customer.
 */
export async function listCustomers(
  db: DB,
  storeId: string,
  limit: number,
  cursor: string | undefined,
  direction: 'asc' | 'desc' = 'desc',
): Promise<StoredCustomer[]> {
  let q = db
    .selectFrom('customers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('merged_into', 'is', null);
  if (cursor) q = q.where('id', direction === 'desc' ? '<' : '>', cursor);
  const rows = await q.orderBy('id', direction).limit(limit).execute();
  return rows.map(rowToStored);
}

/** The customers merged into this one, and when. */
export async function mergedInto(db: DB, storeId: string, id: string) {
  const rows = await db
    .selectFrom('customers')
    .select(['id', 'updated_at'])
    .where('store_id', '=', storeId)
    .where('merged_into', '=', id)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, mergedAt: new Date(r.updated_at).toISOString() }));
}

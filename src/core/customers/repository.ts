import { createHash } from 'node:crypto';
import { type Selectable, sql } from 'kysely';
import type { DB } from '../db/database.js';
import type { CustomerRow } from '../db/schema.js';
import type { FieldValue } from '../fields/types.js';
import {
  type Customer,
  type CustomerState,
  emptyLocation,
  type Location,
  toCustomer,
} from './customer.js';
import type { IdentityKey } from './identity.js';

/** All SQL about customers, their identifiers and their history. Row types stay here. */

type Row = Selectable<CustomerRow>;

export interface StoredCustomer {
  id: string;
  seq: number;
  version: number;
  mergedInto: string | null;
  createdAt: Date;
  updatedAt: Date;
  state: CustomerState;
}

/** A `date` column as YYYY-MM-DD, whichever way the driver hands it over. */
function dateOnly(value: string | Date | null): string | null {
  return value instanceof Date ? value.toISOString().slice(0, 10) : value;
}

function rowToStored(row: Row): StoredCustomer {
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
    },
  };
}

export function storedToCustomer(storeId: string, stored: StoredCustomer): Customer {
  return toCustomer(
    {
      id: stored.id,
      storeId,
      version: stored.version,
      createdAt: stored.createdAt.toISOString(),
      updatedAt: stored.updatedAt.toISOString(),
    },
    stored.state,
  );
}

function stateColumns(state: CustomerState) {
  return {
    external_id: state.externalId,
    email: state.email,
    phone_numbers: state.phoneNumbers,
    first_name: state.firstName,
    last_name: state.lastName,
    birthdate: state.birthdate,
    description: state.description,
    active: state.active,
    location: JSON.stringify(state.location),
    identifiers: JSON.stringify(state.identifiers),
    custom_fields: JSON.stringify(state.customFields),
    metadata: JSON.stringify(state.metadata),
    channels: JSON.stringify(state.channels),
    loyalty: state.loyalty === null ? null : JSON.stringify(state.loyalty),
  };
}

/** A 64-bit advisory-lock number for one identifier value of one store. */
function lockNumber(storeId: string, key: IdentityKey): string {
  const digest = createHash('sha256')
    .update(`${storeId}\u0000${key.kind}\u0000${key.value}`)
    .digest();
  return digest.readBigInt64BE(0).toString();
}

/**
 * Holds, until the transaction ends, a lock on each identifier value: two writers naming
 * the same value take turns, even when neither customer exists yet. Locks are taken in
 * one order so that writers naming several values cannot deadlock.
 */
export async function lockIdentityKeys(
  trx: DB,
  storeId: string,
  keys: IdentityKey[],
): Promise<void> {
  if (keys.length === 0) return;
  const numbers = [...new Set(keys.map((k) => lockNumber(storeId, k)))].sort();
  await sql`SELECT pg_advisory_xact_lock(n) FROM unnest(${numbers}::bigint[]) AS n`.execute(trx);
}

export async function findOwners(
  trx: DB,
  storeId: string,
  keys: IdentityKey[],
): Promise<{ kind: string; value: string; customerId: string }[]> {
  if (keys.length === 0) return [];
  const rows = await sql<{ kind: string; value: string; customer_id: string }>`
    SELECT kind, value, customer_id FROM customer_identifiers
    WHERE store_id = ${storeId}
      AND (kind, value) IN (SELECT * FROM unnest(${keys.map((k) => k.kind)}::text[], ${keys.map((k) => k.value)}::text[]))
    FOR UPDATE`.execute(trx);
  return rows.rows.map((r) => ({ kind: r.kind, value: r.value, customerId: r.customer_id }));
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

export async function insertCustomer(
  trx: DB,
  storeId: string,
  id: string,
  state: CustomerState,
  now: Date,
): Promise<StoredCustomer> {
  const row = await trx
    .insertInto('customers')
    .values({
      store_id: storeId,
      id,
      ...stateColumns(state),
      version: 1,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToStored(row);
}

export async function updateCustomer(
  trx: DB,
  storeId: string,
  id: string,
  state: CustomerState,
  version: number,
  now: Date,
): Promise<StoredCustomer> {
  const row = await trx
    .updateTable('customers')
    .set({ ...stateColumns(state), version, updated_at: now })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToStored(row);
}

export async function markMerged(
  trx: DB,
  storeId: string,
  id: string,
  into: string,
  now: Date,
): Promise<void> {
  await trx
    .updateTable('customers')
    .set({ merged_into: into, updated_at: now, version: sql`version + 1` })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .execute();
  // Earlier merges into this customer now point at the survivor, so one hop always suffices.
  await trx
    .updateTable('customers')
    .set({ merged_into: into })
    .where('store_id', '=', storeId)
    .where('merged_into', '=', id)
    .execute();
}

export async function addIdentifiers(
  trx: DB,
  storeId: string,
  customerId: string,
  keys: IdentityKey[],
): Promise<void> {
  if (keys.length === 0) return;
  await trx
    .insertInto('customer_identifiers')
    .values(
      keys.map((k) => ({
        store_id: storeId,
        kind: k.kind,
        value: k.value,
        customer_id: customerId,
      })),
    )
    .execute();
}

export async function removeIdentifiers(
  trx: DB,
  storeId: string,
  customerId: string,
  keys: IdentityKey[],
): Promise<void> {
  if (keys.length === 0) return;
  await sql`
    DELETE FROM customer_identifiers
    WHERE store_id = ${storeId} AND customer_id = ${customerId}
      AND (kind, value) IN (SELECT * FROM unnest(${keys.map((k) => k.kind)}::text[], ${keys.map((k) => k.value)}::text[]))`.execute(
    trx,
  );
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

export interface EventRecord {
  id: string;
  customerId: string;
  type: 'created' | 'updated' | 'merged';
  api: string;
  keyId: string | null;
  changes: Record<string, unknown>;
  createdAt: Date;
}

export async function insertEvents(trx: DB, storeId: string, events: EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('customer_events')
    .values(
      events.map((e) => ({
        store_id: storeId,
        id: e.id,
        customer_id: e.customerId,
        type: e.type,
        api: e.api,
        key_id: e.keyId,
        changes: JSON.stringify(e.changes),
        created_at: e.createdAt,
      })),
    )
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

export async function findCustomerBySeq(
  db: DB,
  storeId: string,
  seq: number,
): Promise<StoredCustomer | undefined> {
  const row = await db
    .selectFrom('customers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('seq', '=', seq)
    .where('merged_into', 'is', null)
    .executeTakeFirst();
  return row ? rowToStored(row) : undefined;
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

/** Newest first, by id; ids only grow, so a cursor never repeats or skips a customer. */
export async function listCustomers(
  db: DB,
  storeId: string,
  limit: number,
  before: string | undefined,
): Promise<StoredCustomer[]> {
  let q = db
    .selectFrom('customers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('merged_into', 'is', null);
  if (before) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map(rowToStored);
}

export async function listEvents(
  db: DB,
  storeId: string,
  customerId: string,
  limit: number,
  before: string | undefined,
): Promise<EventRecord[]> {
  let q = db
    .selectFrom('customer_events')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('customer_id', '=', customerId);
  if (before) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    customerId: r.customer_id,
    type: r.type as EventRecord['type'],
    api: r.api,
    keyId: r.key_id,
    changes: r.changes,
    createdAt: r.created_at,
  }));
}

/** A page by offset, for platforms that page by number; with the total it pages through. */
export async function listCustomersByOffset(
  db: DB,
  storeId: string,
  query: { limit: number; offset: number; email?: string | undefined },
): Promise<{ rows: StoredCustomer[]; total: number }> {
  let base = db
    .selectFrom('customers')
    .where('store_id', '=', storeId)
    .where('merged_into', 'is', null);
  if (query.email !== undefined) base = base.where('email', '=', query.email);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('id', 'desc').limit(query.limit).offset(query.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(rowToStored), total: Number(count.n) };
}

/**
 * Removes a customer and everything that identifies it: its identifier rows, its row,
 * its history, and the rows of customers once merged into it.
 */
export async function deleteCustomer(trx: DB, storeId: string, id: string): Promise<boolean> {
  const merged = await trx
    .selectFrom('customers')
    .select('id')
    .where('store_id', '=', storeId)
    .where('merged_into', '=', id)
    .execute();
  const ids = [id, ...merged.map((m) => m.id)];
  await trx
    .deleteFrom('customer_identifiers')
    .where('store_id', '=', storeId)
    .where('customer_id', 'in', ids)
    .execute();
  await trx
    .deleteFrom('customer_events')
    .where('store_id', '=', storeId)
    .where('customer_id', 'in', ids)
    .execute();
  const result = await trx
    .deleteFrom('customers')
    .where('store_id', '=', storeId)
    .where('id', 'in', ids)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

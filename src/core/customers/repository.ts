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

/**
 * The customers that hold any of these identifier values, with the values they hold,
 * locked for update (identifier rows and customer rows, in customer id order) in one
 * round trip.
 */
export async function findOwnersLocked(
  trx: DB,
  storeId: string,
  keys: IdentityKey[],
): Promise<{
  owners: { kind: string; value: string; customerId: string }[];
  customers: Map<string, StoredCustomer>;
}> {
  const customers = new Map<string, StoredCustomer>();
  if (keys.length === 0) return { owners: [], customers };
  const { rows } = await sql<Row & { i_kind: string; i_value: string }>`
    SELECT i.kind AS i_kind, i.value AS i_value, c.*
    FROM customer_identifiers i
    JOIN customers c ON c.store_id = i.store_id AND c.id = i.customer_id
    WHERE i.store_id = ${storeId}
      AND (i.kind, i.value) IN (SELECT * FROM unnest(${keys.map((k) => k.kind)}::text[], ${keys.map((k) => k.value)}::text[]))
    ORDER BY c.id
    FOR UPDATE`.execute(trx);
  const owners = rows.map((r) => {
    if (!customers.has(r.id)) customers.set(r.id, rowToStored(r));
    return { kind: r.i_kind, value: r.i_value, customerId: r.id };
  });
  return { owners, customers };
}

export interface CustomerWrite {
  id: string;
  /** Insert a new customer, or update an existing one to this version. */
  create: boolean;
  version: number;
  state: CustomerState;
  now: Date;
  addedKeys: IdentityKey[];
  removedKeys: IdentityKey[];
  events: EventRecord[];
}

/**
 * Writes a customer, its identifier changes and its history events in one statement
 * (data-modifying CTEs: one round trip, and the identifier foreign keys are checked at
 * its end, once the customer row exists).
 */
export async function writeCustomer(
  trx: DB,
  storeId: string,
  w: CustomerWrite,
): Promise<StoredCustomer> {
  const columns = stateColumns(w.state);
  const parts = [
    w.create
      ? sql`c AS (INSERT INTO customers (store_id, id, external_id, email, phone_numbers, first_name, last_name,
            birthdate, description, active, location, identifiers, custom_fields, metadata, channels, loyalty,
            version, created_at, updated_at)
          VALUES (${storeId}, ${w.id}, ${columns.external_id}, ${columns.email}, ${columns.phone_numbers}::text[],
            ${columns.first_name}, ${columns.last_name}, ${columns.birthdate}::date, ${columns.description}, ${columns.active},
            ${columns.location}::jsonb, ${columns.identifiers}::jsonb, ${columns.custom_fields}::jsonb, ${columns.metadata}::jsonb,
            ${columns.channels}::jsonb, ${columns.loyalty}::jsonb, 1, ${w.now}, ${w.now})
          RETURNING *)`
      : sql`c AS (UPDATE customers SET external_id = ${columns.external_id}, email = ${columns.email},
            phone_numbers = ${columns.phone_numbers}::text[], first_name = ${columns.first_name}, last_name = ${columns.last_name},
            birthdate = ${columns.birthdate}::date, description = ${columns.description}, active = ${columns.active},
            location = ${columns.location}::jsonb, identifiers = ${columns.identifiers}::jsonb,
            custom_fields = ${columns.custom_fields}::jsonb, metadata = ${columns.metadata}::jsonb,
            channels = ${columns.channels}::jsonb, loyalty = ${columns.loyalty}::jsonb,
            version = ${w.version}, updated_at = ${w.now}
          WHERE store_id = ${storeId} AND id = ${w.id}
          RETURNING *)`,
  ];
  if (w.removedKeys.length > 0) {
    parts.push(sql`removed AS (DELETE FROM customer_identifiers
      WHERE store_id = ${storeId} AND customer_id = ${w.id}
        AND (kind, value) IN (SELECT * FROM unnest(${w.removedKeys.map((k) => k.kind)}::text[], ${w.removedKeys.map((k) => k.value)}::text[])))`);
  }
  if (w.addedKeys.length > 0) {
    parts.push(sql`added AS (INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
      SELECT ${storeId}, k, v, ${w.id} FROM unnest(${w.addedKeys.map((k) => k.kind)}::text[], ${w.addedKeys.map((k) => k.value)}::text[]) AS t(k, v))`);
  }
  if (w.events.length > 0) {
    parts.push(sql`events AS (INSERT INTO customer_events (store_id, id, customer_id, type, api, key_id, changes, created_at)
      SELECT ${storeId}, e.id, e.customer_id, e.type, e.api, e.key_id, e.changes, e.created_at
      FROM jsonb_to_recordset(${JSON.stringify(
        w.events.map((e) => ({
          id: e.id,
          customer_id: e.customerId,
          type: e.type,
          api: e.api,
          key_id: e.keyId,
          changes: e.changes,
          created_at: e.createdAt.toISOString(),
        })),
      )}::jsonb) AS e(id text, customer_id text, type text, api text, key_id text, changes jsonb, created_at timestamptz))`);
  }
  const { rows } = await sql<Row>`WITH ${sql.join(parts, sql`, `)} SELECT * FROM c`.execute(trx);
  if (!rows[0]) throw new Error(`customer ${w.id} was not written`);
  return rowToStored(rows[0]);
}

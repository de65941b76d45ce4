import { CompiledQuery, type Selectable, sql } from 'kysely';
import type { DB } from '../db/database.js';
import type { CustomerRow } from '../db/schema.js';
import { named } from '../db/statements.js';
import type { FieldValue } from '../fields/types.js';
import { newId } from '../ids.js';
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

/** A customer's history entry for a write by `by` (the API and key that made it). */
export function historyEvent(
  by: { api: string; keyId: string | null },
  customerId: string,
  type: EventRecord['type'],
  changes: Record<string, unknown>,
  createdAt: Date,
): EventRecord {
  return { id: newId('evt'), customerId, type, api: by.api, keyId: by.keyId, changes, createdAt };
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

// The statements of every upsert are written out once, not built for each call: the hot
// path skips Kysely's query builder. Those that only call functions are sent as prepared
// statements (db/statements.ts): parsed once per connection, not once per batch.
//
// The look-up (migration 0006), unlocked: a function, so that its plan is made once per
// connection. Locked, it is written out here (a function that only reads cannot lock):
// one probe per key, on the whole primary key, inside a LATERAL that OFFSET 0 keeps from
// being turned into a join, so that the planner has no choice to read the store instead.
// Each customer comes back as one JSON value: decoding one JSON text costs the driver
// (PGlite's JavaScript most of all) far less than a dozen typed columns.
const FIND_OWNERS = named(
  'clientele_find_owners',
  'SELECT * FROM clientele_find_owners($3, $1, $2)',
);
const FIND_OWNERS_FOR_UPDATE = `
    SELECT k.kind AS i_kind, k.value AS i_value, row_to_json(c) AS customer
    FROM unnest($1::text[], $2::text[]) AS k(kind, value),
    LATERAL (
      SELECT c.* FROM customer_identifiers i
      JOIN customers c ON c.store_id = i.store_id AND c.id = i.customer_id
      WHERE i.store_id = $3 AND i.kind = k.kind AND i.value = k.value
      OFFSET 0
    ) c
    ORDER BY c.id
    FOR UPDATE OF c`;
const WRITE_CUSTOMERS = named(
  'clientele_write_customers',
  `SELECT * FROM clientele_write_customers($1,
      $2::jsonb, $3::jsonb, $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
      $10::jsonb)`,
);
// A write, and the look-up of the next batch, in one statement (one round trip). The
// look-up reads the statement's snapshot, taken before the write: it does not see this
// write, which the batcher allows for (the next batch names none of this one's values).
const WRITE_CUSTOMERS_THEN_LOOK_UP = named(
  'clientele_write_customers_then_look_up',
  `
    WITH w AS MATERIALIZED (${WRITE_CUSTOMERS})
    SELECT w.written_id, w.written_seq, NULL AS i_kind, NULL AS i_value, NULL::json AS customer
    FROM w
    UNION ALL
    SELECT NULL, NULL, * FROM clientele_find_owners($1, $11, $12)`,
);

type OwnerRow = { i_kind: string; i_value: string; customer: Row };

/** Who holds which identifier values, and those customers as they are stored. */
export interface Owners {
  owners: { kind: string; value: string; customerId: string }[];
  customers: Map<string, StoredCustomer>;
}

function ownersOf(rows: OwnerRow[]): Owners {
  const customers = new Map<string, StoredCustomer>();
  const owners = rows.map(({ i_kind, i_value, customer: c }) => {
    if (!customers.has(c.id)) {
      customers.set(
        c.id,
        rowToStored({
          ...c,
          created_at: new Date(c.created_at),
          updated_at: new Date(c.updated_at),
        }),
      );
    }
    return { kind: i_kind, value: i_value, customerId: c.id };
  });
  return { owners, customers };
}

/**
 * The customers that hold any of these identifier values, with the values they hold, in
 * one round trip; with `lock`, the customers are locked for update, in id order. (An
 * identifier row changes only under its customer's lock, so that lock covers both.)
 */
export async function findOwners(
  db: DB,
  storeId: string,
  keys: IdentityKey[],
  lock: boolean,
): Promise<Owners> {
  if (keys.length === 0) return { owners: [], customers: new Map() };
  const { rows } = await db.executeQuery<OwnerRow>(
    CompiledQuery.raw(lock ? FIND_OWNERS_FOR_UPDATE : FIND_OWNERS, [
      keys.map((k) => k.kind),
      keys.map((k) => k.value),
      storeId,
    ]),
  );
  return ownersOf(rows);
}

export interface CustomerWrite {
  id: string;
  /** Insert a new customer, or update an existing one to this version. */
  create: boolean;
  version: number;
  /** The version an update was computed from: it applies only if the customer is still at it. */
  readVersion: number;
  state: CustomerState;
  now: Date;
  addedKeys: IdentityKey[];
  removedKeys: IdentityKey[];
  events: EventRecord[];
}

/**
 * Writes customers, their identifier changes and their history events in one round trip
 * however many there are, through `clientele_write_customers` (migration 0005). Returns
 * each written customer's seq.
 *
 * An update applies only to the version it was computed from (`readVersion`). If any
 * customer has moved on, or a value to add is held by now, the call fails and writes
 * nothing (40001 or 23505), so it is safe outside a transaction too.
 */
export async function writeCustomers(
  db: DB,
  storeId: string,
  writes: CustomerWrite[],
): Promise<Map<string, number>> {
  return (await writeAndLookUp(db, storeId, writes, [])).seqs;
}

/**
 * writeCustomers, and in the same round trip the owners of `next` (the identifier values
 * of the batch to come), read as they were before this write.
 */
export async function writeAndLookUp(
  db: DB,
  storeId: string,
  writes: CustomerWrite[],
  next: IdentityKey[],
): Promise<{ seqs: Map<string, number>; next: Owners }> {
  const seqs = new Map<string, number>();
  if (writes.length === 0) return { seqs, next: await findOwners(db, storeId, next, false) };
  // A batch's writes share one time: written as text once, not once per row and event
  // (JSON.stringify turning a Date into text costs more than the rest of an event).
  const times = new Map<Date, string>();
  const text = (date: Date) => {
    let iso = times.get(date);
    if (iso === undefined) {
      iso = date.toISOString();
      times.set(date, iso);
    }
    return iso;
  };
  const record = ({ id, state, version, readVersion, now }: CustomerWrite) => ({
    id,
    external_id: state.externalId,
    email: state.email,
    phone_numbers: state.phoneNumbers,
    first_name: state.firstName,
    last_name: state.lastName,
    birthdate: state.birthdate,
    description: state.description,
    active: state.active,
    location: state.location,
    identifiers: state.identifiers,
    custom_fields: state.customFields,
    metadata: state.metadata,
    channels: state.channels,
    loyalty: state.loyalty,
    version,
    read_version: readVersion,
    now: text(now),
  });
  const created = writes.filter((w) => w.create).map(record);
  const updated = writes.filter((w) => !w.create).map(record);
  const removed = writes.flatMap((w) => w.removedKeys.map((k) => ({ ...k, customer: w.id })));
  const added = writes.flatMap((w) => w.addedKeys.map((k) => ({ ...k, customer: w.id })));
  const events = writes.flatMap((w) =>
    w.events.map((e) => ({
      id: e.id,
      customer_id: e.customerId,
      type: e.type,
      api: e.api,
      key_id: e.keyId,
      changes: e.changes,
      created_at: text(e.createdAt),
    })),
  );
  const parameters = [
    storeId,
    JSON.stringify(created),
    JSON.stringify(updated),
    removed.map((k) => k.kind),
    removed.map((k) => k.value),
    removed.map((k) => k.customer),
    added.map((k) => k.kind),
    added.map((k) => k.value),
    added.map((k) => k.customer),
    JSON.stringify(events),
  ];
  const { rows } = await db.executeQuery<
    { written_id: string | null; written_seq: number | string | null } & Partial<OwnerRow>
  >(
    next.length === 0
      ? CompiledQuery.raw(WRITE_CUSTOMERS, parameters)
      : CompiledQuery.raw(WRITE_CUSTOMERS_THEN_LOOK_UP, [
          ...parameters,
          next.map((k) => k.kind),
          next.map((k) => k.value),
        ]),
  );
  const owned: OwnerRow[] = [];
  for (const row of rows) {
    if (row.written_id !== null) seqs.set(row.written_id, Number(row.written_seq));
    else owned.push(row as OwnerRow);
  }
  if (seqs.size !== writes.length) {
    throw new Error(
      `${writes.length - seqs.size} customer(s) of ${writes.length} were not written`,
    );
  }
  return { seqs, next: ownersOf(owned) };
}

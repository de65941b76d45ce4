import { CompiledQuery } from 'kysely';
import type { DB } from '../db/database.js';
import { named } from '../db/statements.js';
import {
  deriveRows,
  type GoneCustomer,
  type SegmentView,
  type ValueRow,
} from '../segments/derive.js';
import type { ChangeRecord } from './changes.js';
import type { CustomerState, StoredCustomer } from './customer.js';
import { type Row, rowToStored, stateColumns } from './customers.repository.js';
import type { IdentityKey } from './identity.js';
import type { SuppressionKeys } from './suppression.js';

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
// The write, and what segments derive from it (customer_values, memberships, their
// change records and counts: migration 0014), in one statement: the derived rows are
// written in the write's own transaction, all or nothing with it.
const WRITE_CUSTOMERS = named(
  'clientele_write_customers',
  `
    WITH w AS MATERIALIZED (
      SELECT * FROM clientele_write_customers($1,
        $2::jsonb, $3::jsonb, $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
        $10::jsonb)
    ), d AS MATERIALIZED (
      SELECT clientele_write_derived($1, $11::bigint, $12::jsonb, $13::jsonb) AS moved
      FROM (SELECT count(*) FROM w) AS written
    )
    SELECT w.written_id, w.written_seq FROM w CROSS JOIN d`,
);
const WRITE_DERIVED = named(
  'clientele_write_derived',
  'SELECT clientele_write_derived($1, $2::bigint, $3::jsonb, $4::jsonb) AS moved',
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
    SELECT NULL, NULL, * FROM clientele_find_owners($1, $14, $15)`,
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
  /** When the customer was created (a filter can name it). */
  createdAt: Date;
  now: Date;
  addedKeys: IdentityKey[];
  removedKeys: IdentityKey[];
  events: ChangeRecord[];
  revived?: boolean; // back from a merge (an undo): every typed value written again
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
  segments: Segmenting,
  gone: GoneCustomer[] = [],
): Promise<Map<string, number>> {
  return (await writeAndLookUp(db, storeId, writes, [], segments, gone)).seqs;
}

/**
 * What a write needs of segments: the store's segments as this process knows them, and
 * a way to tell it they have changed (the write is then computed again, see withRetry).
 */
export interface Segmenting {
  /** Read through `db` when not known (a caller's transaction: PGlite has one connection). */
  viewOf(storeId: string, db: DB): Promise<SegmentView>;
  stale(storeId: string): void;
}

/** What every write path needs beside the database: segments, and suppression's hashes. */
export interface WriteServices {
  segments: Segmenting;
  suppression: SuppressionKeys;
}

/** Whether a write failed because the store's segments changed since they were read. */
function segmentsChanged(error: unknown): boolean {
  return error instanceof Error && /the segments of store \S+ changed/.test(error.message);
}

/**
 * Typed values alone, for customers no write has given theirs (a fill, builder.ts), in
 * the caller's transaction, which holds the store's segments lock at `version`.
 */
export async function writeValues(
  db: DB,
  storeId: string,
  version: string,
  values: ValueRow[],
): Promise<void> {
  if (values.length === 0) return;
  await db.executeQuery(
    CompiledQuery.raw(WRITE_DERIVED, [storeId, version, JSON.stringify(values), '[]']),
  );
}

/**
 * Only what segments derive (customers merged away or erased, re-evaluation with the
 * clock): their memberships, change records and counts, in the caller's transaction.
 */
export async function writeDerived(
  db: DB,
  storeId: string,
  segments: Segmenting,
  written: Parameters<typeof deriveRows>[1],
  gone: GoneCustomer[],
): Promise<void> {
  const view = await segments.viewOf(storeId, db);
  const { values, members } = deriveRows(view, written, gone);
  try {
    await db.executeQuery(
      CompiledQuery.raw(WRITE_DERIVED, [
        storeId,
        view.version,
        JSON.stringify(values),
        JSON.stringify(members),
      ]),
    );
  } catch (error) {
    if (segmentsChanged(error)) segments.stale(storeId);
    throw error;
  }
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
  segments: Segmenting,
  gone: GoneCustomer[] = [],
): Promise<{ seqs: Map<string, number>; next: Owners }> {
  const seqs = new Map<string, number>();
  if (writes.length === 0) return { seqs, next: await findOwners(db, storeId, next, false) };
  const view = await segments.viewOf(storeId, db);
  const derived = deriveRows(view, writes, gone);
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
  const record = ({ id, state, version, readVersion, now }: CustomerWrite) => {
    const r: Record<string, unknown> = { id };
    for (const [column, , of] of stateColumns) r[column] = of(state);
    r.version = version;
    r.read_version = readVersion;
    r.now = text(now);
    return r;
  };
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
      previous_version: e.previousVersion,
      version: e.version,
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
    view.version,
    JSON.stringify(derived.values),
    JSON.stringify(derived.members),
  ];
  let rows: ({
    written_id: string | null;
    written_seq: number | string | null;
  } & Partial<OwnerRow>)[];
  try {
    ({ rows } = await db.executeQuery<
      { written_id: string | null; written_seq: number | string | null } & Partial<OwnerRow>
    >(
      next.length === 0
        ? CompiledQuery.raw(WRITE_CUSTOMERS, parameters)
        : CompiledQuery.raw(WRITE_CUSTOMERS_THEN_LOOK_UP, [
            ...parameters,
            next.map((k) => k.kind),
            next.map((k) => k.value),
          ]),
    ));
  } catch (error) {
    if (segmentsChanged(error)) segments.stale(storeId);
    throw error;
  }
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

import { type SelectQueryBuilder, sql } from 'kysely';
import type { DB } from '../db/database.js';
import type { Tables } from '../db/schema.js';
import type { StoredCustomer } from './customer.js';
import { rowToStored } from './customers.repository.js';

/**
 * The SQL of the filtered, ordered list of a store's customers (platforms that page by
 * number or by a creation time). Merged-away customers are never listed.
 */

export interface ListFilters {
  /** Normalised, as the customer's email is stored. */
  email?: string | undefined;
  city?: string | undefined;
  /** The whole name, as the customer object shows it (first and last name). */
  name?: string | undefined;
  createdBefore?: Date | undefined;
  createdAfter?: Date | undefined;
  updatedBefore?: Date | undefined;
  updatedAfter?: Date | undefined;
}

export type TimeColumn = 'created_at' | 'updated_at';
export type SortColumn = TimeColumn | 'external_id';

export interface ListSlice {
  by: SortColumn;
  direction: 'asc' | 'desc';
  /** All of them when absent. */
  limit?: number;
  offset?: number;
  /** Only rows whose `by` (a time) is past this one, in list order. */
  past?: Date;
  /** Only rows whose `by` (a time) is exactly this one. */
  at?: Date;
}

type CustomersQuery = SelectQueryBuilder<Tables, 'customers', object>;

function filtered(db: DB, storeId: string, f: ListFilters): CustomersQuery {
  let q = db
    .selectFrom('customers')
    .where('store_id', '=', storeId)
    .where('merged_into', 'is', null);
  if (f.email !== undefined) q = q.where('email', '=', f.email);
  if (f.city !== undefined) q = q.where(sql<string>`location->>'city'`, '=', f.city);
  if (f.name !== undefined)
    q = q.where(sql<string>`concat_ws(' ', first_name, last_name)`, '=', f.name);
  if (f.createdBefore) q = q.where('created_at', '<', f.createdBefore);
  if (f.createdAfter) q = q.where('created_at', '>', f.createdAfter);
  if (f.updatedBefore) q = q.where('updated_at', '<', f.updatedBefore);
  if (f.updatedAfter) q = q.where('updated_at', '>', f.updatedAfter);
  return q;
}

/** One slice of the list, in its order; ties on `by` are ordered by id, the same way. */
export async function listCustomerSlice(
  db: DB,
  storeId: string,
  filters: ListFilters,
  slice: ListSlice,
): Promise<StoredCustomer[]> {
  const time = slice.by as TimeColumn;
  let q = filtered(db, storeId, filters);
  if (slice.past) q = q.where(time, slice.direction === 'asc' ? '>' : '<', slice.past);
  if (slice.at) q = q.where(time, '=', slice.at);
  let ordered = q.selectAll().orderBy(slice.by, slice.direction).orderBy('id', slice.direction);
  if (slice.limit !== undefined) ordered = ordered.limit(slice.limit);
  if (slice.offset) ordered = ordered.offset(slice.offset);
  const rows = await ordered.execute();
  return rows.map(rowToStored);
}

/** How many customers the filters leave. */
export async function countCustomers(
  db: DB,
  storeId: string,
  filters: ListFilters,
): Promise<number> {
  const row = await filtered(db, storeId, filters)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

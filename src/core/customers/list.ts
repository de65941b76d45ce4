import type { DB } from '../db/database.js';
import { normalizeEmail } from './contact.js';
import { type Customer, customerOf, type StoredCustomer } from './customer.js';
import {
  countCustomers,
  type ListFilters,
  listCustomerSlice,
  type SortColumn,
  type TimeColumn,
} from './list.repository.js';

/**
 * A store's customers, filtered and ordered, a page at a time: by page number, or after a
 * time (a created or updated time, as platforms whose clients page by `starting_after`
 * do). Merged-away customers are not listed.
 */

export type { ListFilters } from './list.repository.js';

type Direction = 'asc' | 'desc';
export type TimeOrder = { by: 'createdAt' | 'updatedAt'; direction: Direction };
export type ListOrder = TimeOrder | { by: 'externalId'; direction: Direction };

export type CustomerListQuery = { limit: number; filters?: ListFilters } & (
  | { order?: ListOrder; page?: number }
  /** The customers past `after` in the order's time, the next page of a list paged by time. */
  | { order?: TimeOrder; after: Date }
);

export interface CustomerList {
  data: Customer[];
  /** How many customers the filters leave, whatever the page. */
  total: number;
  hasMore: boolean;
}

const columns: Record<ListOrder['by'], SortColumn> = {
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  externalId: 'external_id',
};

/** Newest first, unless the query says otherwise. */
const defaultOrder: TimeOrder = { by: 'createdAt', direction: 'desc' };

export async function listCustomerPage(
  db: DB,
  storeId: string,
  query: CustomerListQuery,
): Promise<CustomerList> {
  const filters = { ...query.filters };
  if (filters.email !== undefined) filters.email = normalizeEmail(filters.email) ?? filters.email;
  const order = query.order ?? defaultOrder;
  const slice = { by: columns[order.by], direction: order.direction };
  const [total, { rows, hasMore }] = await Promise.all([
    countCustomers(db, storeId, filters),
    'after' in query
      ? pageAfter(db, storeId, filters, {
          by: slice.by as TimeColumn,
          direction: slice.direction,
          limit: query.limit,
          past: query.after,
        })
      : pageByNumber(db, storeId, filters, { ...slice, limit: query.limit, page: query.page ?? 1 }),
  ]);
  return { data: rows.map((s) => customerOf(storeId, s)), total, hasMore };
}

async function pageByNumber(
  db: DB,
  storeId: string,
  filters: ListFilters,
  slice: { by: SortColumn; direction: Direction; limit: number; page: number },
): Promise<{ rows: StoredCustomer[]; hasMore: boolean }> {
  const offset = (slice.page - 1) * slice.limit;
  // One row more than the page says whether there is another.
  const rows = await listCustomerSlice(db, storeId, filters, {
    ...slice,
    limit: slice.limit + 1,
    offset,
  });
  return { rows: rows.slice(0, slice.limit), hasMore: rows.length > slice.limit };
}

/**
 * The page past a time. Its client asks for the next one past the last time it saw, so a
 * page must end where the time changes: customers written in one batch share a created
 * time to the millisecond, and a page ending among them would lose the rest.
 */
async function pageAfter(
  db: DB,
  storeId: string,
  filters: ListFilters,
  slice: { by: TimeColumn; direction: Direction; limit: number; past: Date },
): Promise<{ rows: StoredCustomer[]; hasMore: boolean }> {
  const timeOf = (s: StoredCustomer) =>
    (slice.by === 'created_at' ? s.createdAt : s.updatedAt).getTime();
  const rows = await listCustomerSlice(db, storeId, filters, { ...slice, limit: slice.limit + 1 });
  const cut = endAtTimeChange(rows, slice.limit, timeOf);
  if (cut.tiedAt === undefined) return { rows: cut.page, hasMore: cut.more };
  // A whole page shares one time: that time's customers are one page, however many (no
  // more than a few batches' worth: a batch holds at most 256 upserts).
  const at = new Date(cut.tiedAt);
  const [tied, beyond] = await Promise.all([
    listCustomerSlice(db, storeId, filters, { by: slice.by, direction: slice.direction, at }),
    listCustomerSlice(db, storeId, filters, { ...slice, limit: 1, past: at }),
  ]);
  return { rows: tied, hasMore: beyond.length > 0 };
}

/**
 * Of `rows` (a page and the row after it, when there is one), the page ending before the
 * last run of equal times that the row after it continues. `tiedAt` is that time when the
 * run fills the whole page, which then must be read whole.
 */
export function endAtTimeChange<T>(
  rows: T[],
  limit: number,
  timeOf: (row: T) => number,
): { page: T[]; more: boolean; tiedAt?: number } {
  const next = rows[limit];
  if (next === undefined) return { page: rows, more: false };
  const tie = timeOf(next);
  let end = limit;
  while (end > 0 && timeOf(rows[end - 1] as T) === tie) end--;
  if (end === 0) return { page: [], more: true, tiedAt: tie };
  return { page: rows.slice(0, end), more: true };
}

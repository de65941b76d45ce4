import { type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/database.js';
import { FULL_NAME_KEY, LAST_NAME_KEY } from '../db/migrations/0018_customer_search.js';
import { NAMED } from '../db/migrations/0019_write_plans.js';
import type { StoredCustomer } from './customer.js';
import { type Row, rowToStored } from './customers.repository.js';
import type { SearchTerms } from './search.js';

/** Where a match sorts: the value it matched, then its customer's id (code-point order). */
export interface SearchKey {
  key: string;
  id: string;
}

/**
 * The plan this search must have, whatever the statistics say (migration 0004 hides the
 * stores' sizes from the planner, so every range looks like a few rows): each range read
 * in index order and stopped at its limit, never a bitmap of the whole range sorted
 * (seen: 400 ms for "ma" among 200,000 Marys), and each match's customer found by its
 * primary key, never by hashing the whole store. Settings of this transaction only.
 */
const PLAN = ['enable_bitmapscan', 'enable_hashjoin', 'enable_mergejoin'];

// The highest code point: every string starting with a prefix sorts below prefix + it.
const TOP = '\u{10FFFF}';

/**
 * One index range: the keys starting with `prefix`, past `after`, in key order, at most
 * `limit` of them. `key` and `id` are the indexed expressions, already COLLATE "C".
 */
function range(
  from: RawBuilder<unknown>,
  key: RawBuilder<unknown>,
  id: RawBuilder<unknown>,
  customer: RawBuilder<unknown>,
  prefix: string,
  limit: number,
  after: SearchKey | undefined,
): RawBuilder<unknown> {
  const past = after
    ? sql`AND ${key} >= ${after.key} AND (${key} > ${after.key} OR ${id} > ${after.id})`
    : sql``;
  // `id` sorts as the index does; `customer` is the same id as stored, to join by.
  return sql`(SELECT ${key} AS key, ${id} AS id, ${customer} AS customer FROM ${from}
    AND ${key} >= ${prefix} AND ${key} < ${prefix + TOP} ${past}
    ORDER BY 1, 2 LIMIT ${limit})`;
}

type MatchRow = Row & { match_key: string; match_id: string };

/**
 * The query of the first `limit` matches past `after`, with their customers: each form of
 * the query is one range of an index of migration 0018, the ranges merged in key order.
 * Run it after `pinPlan` in the same transaction (test/db/plans.test.ts reads its plan).
 */
export function searchQuery(
  storeId: string,
  terms: SearchTerms,
  limit: number,
  after: SearchKey | undefined,
): RawBuilder<MatchRow> {
  const identifiers = sql`customer_identifiers WHERE store_id = ${storeId}`;
  const live = sql`customers WHERE store_id = ${storeId} AND merged_into IS NULL`;
  const idKey = sql`value COLLATE "C"`;
  const owner = [sql`customer_id COLLATE "C"`, sql`customer_id`] as const;
  const self = [sql`id COLLATE "C"`, sql`id`] as const;
  const fullName = sql`(${sql.raw(FULL_NAME_KEY)}) COLLATE "C"`;
  const lastName = sql`(${sql.raw(LAST_NAME_KEY)}) COLLATE "C"`;
  const ranges = [
    ...terms.identifiers.map((p) => range(identifiers, idKey, ...owner, p, limit, after)),
    range(
      sql`customers WHERE store_id = ${storeId} AND ${sql.raw(NAMED)}`,
      fullName,
      ...self,
      terms.name,
      limit,
      after,
    ),
    range(sql`${live} AND last_name IS NOT NULL`, lastName, ...self, terms.name, limit, after),
  ];
  return sql<MatchRow>`
    SELECT m.key AS match_key, m.id AS match_id, c.*
    FROM (${sql.join(ranges, sql` UNION `)}) AS m
    CROSS JOIN LATERAL (
      -- Planned apart (OFFSET 0), once per match: one probe of the primary key each. Not
      -- a word of merged_into in here, or the partial name indexes would compete with it.
      SELECT * FROM customers WHERE store_id = ${storeId} AND id = m.customer OFFSET 0
    ) AS c
    WHERE c.merged_into IS NULL
    ORDER BY m.key, m.id
    LIMIT ${limit}`;
}

/** Gives the rest of the transaction the search's plan (see PLAN). */
export async function pinPlan(trx: DB): Promise<void> {
  await sql`SELECT ${sql.join(PLAN.map((name) => sql`set_config(${name}, 'off', true)`))}`.execute(
    trx,
  );
}

export async function searchCustomerRows(
  db: DB,
  storeId: string,
  terms: SearchTerms,
  limit: number,
  after: SearchKey | undefined,
): Promise<{ key: SearchKey; customer: StoredCustomer }[]> {
  const { rows } = await db.transaction().execute(async (trx) => {
    await pinPlan(trx);
    return searchQuery(storeId, terms, limit, after).execute(trx);
  });
  return rows.map((r) => ({ key: { key: r.match_key, id: r.match_id }, customer: rowToStored(r) }));
}

import { sql } from 'kysely';
import { type Customer, customerOf } from '../customers/customer.js';
import { type Row, rowToStored } from '../customers/customers.repository.js';
import type { DB } from '../db/database.js';
import { matchingSql } from './compile.js';
import type { Condition } from './filter.js';

/**
 * The SQL of what a condition holds for (compile.ts's `matchingSql`): a preview, the ids
 * for tests, and the plan for the benchmark and docs. A build's is build.repository.ts's.
 */

/** The store's customers a condition holds for at `now`: live ones, never merged away. */
const matching = (storeId: string, condition: Condition, now: number) =>
  matchingSql(storeId, condition, now);

/**
 * How many customers a condition holds for, and the first few of them (newest first):
 * the matching ids found once, counted and their top few taken in one statement, then
 * those few read.
 */
export async function previewCondition(
  db: DB,
  storeId: string,
  condition: Condition,
  now: number,
  sample: number,
): Promise<{ count: number; sample: Customer[] }> {
  const { rows: counted } = await sql<{ n: string; top: string[] | null }>`
    WITH m AS MATERIALIZED (${matching(storeId, condition, now)})
    SELECT (SELECT count(*) FROM m) AS n,
      ARRAY(SELECT id FROM m ORDER BY id DESC LIMIT ${sample}) AS top`.execute(db);
  const top = counted[0]?.top ?? [];
  const { rows: some } =
    top.length === 0
      ? { rows: [] as Row[] }
      : await sql<Row>`
          SELECT c.* FROM customers AS c WHERE c.store_id = ${storeId} AND c.id = ANY(${top}::text[])
          ORDER BY c.id DESC`.execute(db);
  return {
    count: Number(counted[0]?.n ?? 0),
    sample: some.map((r) => customerOf(storeId, rowToStored(r))),
  };
}

/** The ids a condition holds for at `now`: for tests and tools. */
export async function matchingIds(
  db: DB,
  storeId: string,
  condition: Condition,
  now: number,
): Promise<string[]> {
  const { rows } = await sql<{
    id: string;
  }>`SELECT t.id FROM (${matching(storeId, condition, now)}) AS t ORDER BY t.id`.execute(db);
  return rows.map((r) => r.id);
}

/** PostgreSQL's plan for counting what a condition holds for: for the benchmark and docs. */
export async function explainCount(
  db: DB,
  storeId: string,
  condition: Condition,
  now: number,
): Promise<string[]> {
  const { rows } = await sql<{ 'QUERY PLAN': string }>`
    EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)
    SELECT count(*) FROM (${matching(storeId, condition, now)}) AS t`.execute(db);
  return rows.map((r) => r['QUERY PLAN']);
}

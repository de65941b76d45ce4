import { type RawBuilder, sql } from 'kysely';
import type { FieldType } from '../fields/types.js';
import type { FieldRef } from './fields.js';
import { anniversaryDays, type Condition, relativeBounds, type Test } from './filter.js';

/**
 * The SQL reading of a filter: a boolean over `customers AS c` at `now` (epoch ms), the
 * same meaning as predicate.ts. Every leaf is coalesced to true or false, so `not` is
 * plain negation (an unset field fails a positive test, never yields NULL). Custom
 * fields are read from their typed rows in customer_values, whose btree indexes serve
 * equality and ranges (docs/architecture.md, "Segments").
 */
export function conditionSql(c: Condition, now: number): RawBuilder<boolean> {
  switch (c.kind) {
    case 'and':
    case 'or': {
      const joiner = c.kind === 'and' ? sql` AND ` : sql` OR `;
      return sql<boolean>`(${sql.join(
        c.of.map((x) => conditionSql(x, now)),
        joiner,
      )})`;
    }
    case 'not':
      return sql<boolean>`(NOT ${conditionSql(c.of, now)})`;
    case 'leaf': {
      const held = leafSql(c.field, c.test, now);
      return c.negate ? sql<boolean>`(NOT ${held})` : held;
    }
  }
}

/** Where a custom field's values of each type are kept in customer_values. */
const valueColumn: Record<FieldType, string> = {
  STRING: 'txt',
  NUMBER: 'num',
  BOOLEAN: 'bool',
  DATE: 'ts',
};

/** How much of a STRING value its index holds (a btree entry has a size limit). */
export const INDEXED_PREFIX = 200;

function leafSql(field: FieldRef, test: Test, now: number): RawBuilder<boolean> {
  const { source } = field;
  switch (source.kind) {
    case 'scalar':
      if (test.op === 'is_set') return sql<boolean>`(${source.sql} IS NOT NULL)`;
      return sql<boolean>`coalesce(${testSql(field.type, source.sql, test, now)}, false)`;
    case 'list':
      return sql<boolean>`EXISTS (SELECT 1 FROM ${source.sql} WHERE p.x IS NOT NULL${
        test.op === 'is_set' ? sql`` : sql` AND ${testSql(field.type, sql`p.x`, test, now)}`
      })`;
    case 'custom': {
      const column = sql.ref(`v.${valueColumn[field.type]}`);
      let filter =
        test.op === 'is_set' ? sql`` : sql` AND ${testSql(field.type, column, test, now)}`;
      // The index on a STRING value holds its first characters: equality names them too.
      if (field.type === 'STRING' && test.op === 'eq') {
        filter = sql` AND left(v.txt, ${sql.lit(INDEXED_PREFIX)}) = left(${test.value}::text, ${sql.lit(INDEXED_PREFIX)})${filter}`;
      }
      return sql<boolean>`EXISTS (SELECT 1 FROM customer_values AS v
        WHERE v.store_id = c.store_id AND v.customer_id = c.id
          AND v.field = ${source.name}::text AND ${column} IS NOT NULL${filter})`;
    }
  }
}

const at = (ms: number) => sql`${new Date(ms).toISOString()}::timestamptz`;

function literal(
  type: FieldType,
  value: string | number | boolean | number[],
): RawBuilder<unknown> {
  if (type === 'NUMBER') return sql`${value}::float8`;
  if (type === 'BOOLEAN') return sql`${value}::boolean`;
  if (type === 'DATE') return at(value as number);
  return sql`${value}::text`;
}

function testSql(
  type: FieldType,
  e: RawBuilder<unknown>,
  test: Test,
  now: number,
): RawBuilder<boolean> {
  switch (test.op) {
    case 'is_set':
      return sql<boolean>`(${e} IS NOT NULL)`;
    case 'eq':
      return sql<boolean>`(${e} = ${literal(type, test.value)})`;
    case 'in':
      return sql<boolean>`(${e} = ANY(${test.value}::text[]))`;
    case 'contains':
      return sql<boolean>`(strpos(${e}, ${test.value}::text) > 0)`;
    case 'starts_with':
      return sql<boolean>`starts_with(${e}, ${test.value}::text)`;
    case 'ends_with':
      return sql<boolean>`(right(${e}, length(${test.value}::text)) = ${test.value}::text)`;
    case 'gt':
      return sql<boolean>`(${e} > ${test.value}::float8)`;
    case 'gte':
      return sql<boolean>`(${e} >= ${test.value}::float8)`;
    case 'lt':
      return sql<boolean>`(${e} < ${test.value}::float8)`;
    case 'lte':
      return sql<boolean>`(${e} <= ${test.value}::float8)`;
    case 'between':
      return sql<boolean>`(${e} BETWEEN ${literal(type, test.value[0])} AND ${literal(type, test.value[1])})`;
    case 'before':
      return sql<boolean>`(${e} < ${at(test.value)})`;
    case 'after':
      return sql<boolean>`(${e} > ${at(test.value)})`;
    case 'anniversary_in_the_next':
      return sql<boolean>`(to_char(${e} AT TIME ZONE 'UTC', 'MM-DD') = ANY(${anniversaryDays(now, test.ms)}::text[]))`;
    default: {
      const [lo, hi] = relativeBounds(test, now);
      return lo === null
        ? sql<boolean>`(${e} <= ${at(hi)})`
        : sql<boolean>`(${e} BETWEEN ${at(lo)} AND ${at(hi)})`;
    }
  }
}

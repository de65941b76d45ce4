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
export function conditionSql(
  c: Condition,
  now: number,
  custom: CustomLeaf = existsValue,
): RawBuilder<boolean> {
  switch (c.kind) {
    case 'and':
    case 'or': {
      const joiner = c.kind === 'and' ? sql` AND ` : sql` OR `;
      return sql<boolean>`(${sql.join(
        c.of.map((x) => conditionSql(x, now, custom)),
        joiner,
      )})`;
    }
    case 'not':
      return sql<boolean>`(NOT ${conditionSql(c.of, now, custom)})`;
    case 'leaf': {
      const held = leafSql(c.field, c.test, now, custom);
      return c.negate ? sql<boolean>`(NOT ${held})` : held;
    }
  }
}

/** How a leaf on a custom field reads: whether the customer has a value passing `test`. */
type CustomLeaf = (name: string, type: FieldType, test: Test, now: number) => RawBuilder<boolean>;

/** By a probe of the customer's values (indexed by field and value, or by its key). */
const existsValue: CustomLeaf = (name, type, test, now) =>
  sql<boolean>`EXISTS (SELECT 1 FROM customer_values AS v
    WHERE v.store_id = c.store_id AND v.customer_id = c.id
      AND ${valueTest(name, type, test, now)})`;

/**
 * A filter over `customers AS c` whose custom-field leaves read columns of `a`: one row
 * a customer of its values, each leaf's column `bool_or` of its test over them (the
 * `aggregates`, in a query grouped by customer_id over `customer_values AS v`). A
 * customer with no values has no row of `a`, and fails every such leaf.
 */
export function groupedConditionSql(
  c: Condition,
  now: number,
): { condition: RawBuilder<boolean>; aggregates: RawBuilder<unknown>[] } {
  const aggregates: RawBuilder<unknown>[] = [];
  const condition = conditionSql(c, now, (name, type, test, at) => {
    const column = sql.ref(`l${aggregates.length}`);
    aggregates.push(sql`bool_or(${valueTest(name, type, test, at)}) AS ${column}`);
    return sql<boolean>`coalesce(a.${column}, false)`;
  });
  return { condition, aggregates };
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

function leafSql(
  field: FieldRef,
  test: Test,
  now: number,
  custom: CustomLeaf,
): RawBuilder<boolean> {
  const { source } = field;
  switch (source.kind) {
    case 'scalar':
      if (test.op === 'is_set') return sql<boolean>`(${source.sql} IS NOT NULL)`;
      return sql<boolean>`coalesce(${testSql(field.type, source.sql, test, now)}, false)`;
    case 'list':
      return sql<boolean>`EXISTS (SELECT 1 FROM ${source.sql} WHERE p.x IS NOT NULL${
        test.op === 'is_set' ? sql`` : sql` AND ${testSql(field.type, sql`p.x`, test, now)}`
      })`;
    case 'custom':
      return custom(source.name, field.type, test, now);
  }
}

/**
 * A test of `customer_values AS v`'s row for one field. A STRING's index holds its first
 * characters (`txt_key`, migration 0024): equality names them, and compares the whole
 * value only when the literal is that long (a shorter literal equal to the first
 * characters is the whole value), so that a count reads the index alone.
 */
function valueTest(name: string, type: FieldType, test: Test, now: number): RawBuilder<boolean> {
  const column = sql.ref(`v.${valueColumn[type]}`);
  const field = sql`v.field = ${name}::text`;
  if (type === 'STRING' && test.op === 'eq') {
    const value = String(test.value);
    // UTF-16 units: never fewer than the characters left() counts.
    const whole = value.length >= INDEXED_PREFIX ? sql` AND v.txt = ${value}::text` : sql``;
    return sql<boolean>`(${field} AND v.txt_key = left(${value}::text, ${sql.lit(INDEXED_PREFIX)})${whole})`;
  }
  const held = test.op === 'is_set' ? sql`` : sql` AND ${testSql(type, column, test, now)}`;
  return sql<boolean>`(${field} AND ${column} IS NOT NULL${held})`;
}

/**
 * The customers a condition holds for at `now`, as a query of their ids (`id`): live
 * ones, never merged away. The positive conditions on custom fields at its top (the
 * condition, or the parts of a top-level `and`) are read as index ranges of
 * customer_values, intersected (a hash of each range's ids), instead of a probe per
 * customer of each; what is left is tested on the customers those ranges give, or on
 * every customer when there are none. With nothing left, customers is not read at all:
 * a customer merged away or erased has no typed values (derive.ts clears them).
 */
export function matchingSql(
  storeId: string,
  condition: Condition,
  now: number,
): RawBuilder<{ id: string }> {
  const parts = condition.kind === 'and' ? condition.of : [condition];
  const ranges: RawBuilder<unknown>[] = [];
  const rest: Condition[] = [];
  for (const part of parts) {
    if (part.kind === 'leaf' && !part.negate && part.field.source.kind === 'custom') {
      ranges.push(sql`SELECT v.customer_id FROM customer_values AS v
        WHERE v.store_id = ${storeId} AND ${valueTest(part.field.source.name, part.field.type, part.test, now)}`);
    } else {
      rest.push(part);
    }
  }
  const others = rest.length === 0 ? undefined : conditionSql({ kind: 'and', of: rest }, now);
  if (ranges.length === 0) {
    return sql`SELECT c.id FROM customers AS c
      WHERE c.store_id = ${storeId} AND c.merged_into IS NULL AND ${others ?? sql`true`}`;
  }
  const ids = sql.join(ranges, sql` INTERSECT `);
  if (!others) return sql`SELECT r.customer_id AS id FROM (${ids}) AS r`;
  return sql`SELECT c.id FROM (${ids}) AS r
    JOIN customers AS c ON c.store_id = ${storeId} AND c.id = r.customer_id
    WHERE c.merged_into IS NULL AND ${others}`;
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

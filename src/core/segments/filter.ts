import { ClienteleError, type FieldProblem } from '../errors.js';
import { type FieldType, normalizeDateTime } from '../fields/types.js';
import { type FieldRef, resolveField } from './fields.js';
import { operators, relativeOperators } from './vocabulary.js';

/**
 * The filter language of segments (docs/api.md, "Segments"): a JSON tree of `and`,
 * `or`, `not` and leaves `{field, op, value}`. `validateFilter` turns what a client sent
 * into a `Condition`, or refuses it with one 422 naming every bad path; the predicate
 * (predicate.ts) and the SQL (compile.ts) both read the Condition, never the raw JSON.
 *
 * Each negative operator is the negation of a positive one (`neq` is `not eq`, `not_in`
 * is `not in`, `not_contains` is `not contains`, `is_not_set` is `not is_set`), so an
 * unset field fails every positive test and passes every negative one.
 */

export type Unit = 'hour' | 'day' | 'week' | 'month';
const unitMs: Record<Unit, number> = {
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  // A month is 30 days: a fixed length reads the same in JavaScript and in SQL, in any
  // time zone (calendar months would depend on the session's zone).
  month: 30 * 86_400_000,
};

export type Test =
  | { op: 'eq'; value: string | number | boolean }
  | { op: 'in'; value: string[] }
  | { op: 'contains' | 'starts_with' | 'ends_with'; value: string }
  | { op: 'gt' | 'gte' | 'lt' | 'lte'; value: number }
  /** Inclusive at both ends; DATE bounds as epoch ms. */
  | { op: 'between'; value: [number, number] }
  /** Epoch ms. */
  | { op: 'before' | 'after'; value: number }
  | { op: 'in_the_last' | 'more_than_ago' | 'in_the_next'; ms: number }
  | { op: 'anniversary_in_the_next'; ms: number }
  | { op: 'is_set' };

export type Condition =
  | { kind: 'and' | 'or'; of: Condition[] }
  | { kind: 'not'; of: Condition }
  | { kind: 'leaf'; field: FieldRef; test: Test; negate: boolean };

export interface FilterLimits {
  /** The most leaves a filter has (store setting segmentFilterLeaves). */
  leaves: number;
  /** The deepest a node sits, the root at 1 (store setting segmentFilterDepth). */
  depth: number;
}

const negations: Record<string, string> = {
  neq: 'eq',
  not_in: 'in',
  not_contains: 'contains',
  is_not_set: 'is_set',
};

const relative = new Set(Object.keys(relativeOperators));
const MAX_LIST = 100;
const MAX_STRING = 2048;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The filter as a Condition, or a ClienteleError: 422 `invalid_filter` naming each bad
 * path (`/filter/and/0/op`), or 422 `limit_exceeded` past the store's limits.
 */
export function validateFilter(
  raw: unknown,
  declared: ReadonlyMap<string, FieldType>,
  limits: FilterLimits,
  root = '/filter',
): Condition {
  const problems: FieldProblem[] = [];
  const over: FieldProblem[] = [];
  let leaves = 0;

  const node = (v: unknown, path: string, depth: number): Condition | undefined => {
    if (depth > limits.depth) {
      over.push({
        path,
        message: `is nested ${depth} deep; a filter is at most ${limits.depth} deep (store setting segmentFilterDepth)`,
      });
      return undefined;
    }
    if (!isObject(v)) {
      problems.push({
        path,
        message: 'must be an object: {and}, {or}, {not} or {field, op, value}',
      });
      return undefined;
    }
    const keys = Object.keys(v);
    for (const kind of ['and', 'or'] as const) {
      if (!(kind in v)) continue;
      if (keys.length !== 1) {
        problems.push({ path, message: `holds '${kind}' and nothing else` });
        return undefined;
      }
      const list = v[kind];
      if (!Array.isArray(list) || list.length === 0) {
        problems.push({
          path: `${path}/${kind}`,
          message: 'must be a non-empty array of conditions',
        });
        return undefined;
      }
      const of = list.map((c, i) => node(c, `${path}/${kind}/${i}`, depth + 1));
      return of.every((c) => c !== undefined) ? { kind, of: of as Condition[] } : undefined;
    }
    if ('not' in v) {
      if (keys.length !== 1) {
        problems.push({ path, message: "holds 'not' and nothing else" });
        return undefined;
      }
      const of = node(v.not, `${path}/not`, depth + 1);
      return of && { kind: 'not', of };
    }
    leaves++;
    return leaf(v, path);
  };

  const leaf = (v: Record<string, unknown>, path: string): Condition | undefined => {
    const bad = (at: string, message: string) => {
      problems.push({ path: `${path}${at}`, message });
      return undefined;
    };
    for (const key of Object.keys(v)) {
      if (key !== 'field' && key !== 'op' && key !== 'value') {
        return bad(`/${key}`, 'is not part of a condition (field, op, value)');
      }
    }
    if (typeof v.field !== 'string') return bad('/field', 'must be a string naming a field');
    const field = resolveField(v.field, declared);
    if (typeof field === 'string') return bad('/field', field);
    const ops = operators[field.type];
    if (typeof v.op !== 'string' || !ops.includes(v.op)) {
      return bad(
        '/op',
        `must be one of ${ops.join(', ')} for ${field.name}, a ${field.type} field`,
      );
    }
    const negate = v.op in negations;
    const op = negations[v.op] ?? v.op;
    const test = testOf(field.type, op, v, (message) => bad('/value', message));
    return test && { kind: 'leaf', field, test, negate };
  };

  const condition = node(raw, root, 1);
  if (problems.length > 0) {
    throw new ClienteleError(
      'invalid_filter',
      problems.length === 1 && problems[0]
        ? `${problems[0].path}: ${problems[0].message}`
        : `${problems.length} parts of the filter are invalid`,
      problems,
    );
  }
  if (leaves > limits.leaves) {
    over.push({
      path: root,
      message: `has ${leaves} conditions; a filter has at most ${limits.leaves} (store setting segmentFilterLeaves)`,
    });
  }
  const [first] = over;
  if (first) throw new ClienteleError('limit_exceeded', `${first.path}: ${first.message}`, over);
  return condition as Condition;
}

function testOf(
  type: FieldType,
  op: string,
  v: Record<string, unknown>,
  bad: (message: string) => undefined,
): Test | undefined {
  const value = v.value;
  if (op === 'is_set') return 'value' in v ? bad('takes no value') : { op };
  if (relative.has(op)) return relativeTest(op as 'in_the_last', value, bad) as Test | undefined;
  switch (type) {
    case 'STRING': {
      if (op === 'in') {
        if (
          !Array.isArray(value) ||
          value.length === 0 ||
          value.length > MAX_LIST ||
          !value.every((s) => typeof s === 'string' && s.length <= MAX_STRING)
        ) {
          return bad(`must be an array of 1 to ${MAX_LIST} strings`);
        }
        return { op, value: value as string[] };
      }
      if (typeof value !== 'string' || value.length > MAX_STRING) {
        return bad(`must be a string of at most ${MAX_STRING} characters`);
      }
      if (op !== 'eq' && value === '') return bad('must not be empty');
      return { op: op as 'eq' | 'contains', value };
    }
    case 'NUMBER': {
      if (op === 'between') {
        const pair = numberPair(value);
        return pair ?? bad('must be [low, high], two finite numbers with low ≤ high');
      }
      if (typeof value !== 'number' || !Number.isFinite(value))
        return bad('must be a finite number');
      return { op: op as 'eq' | 'gt', value };
    }
    case 'BOOLEAN':
      return typeof value === 'boolean' ? { op: 'eq', value } : bad('must be true or false');
    case 'DATE': {
      if (op === 'between') {
        const lo = Array.isArray(value) && value.length === 2 ? dateMs(value[0]) : undefined;
        const hi = Array.isArray(value) && value.length === 2 ? dateMs(value[1]) : undefined;
        if (lo === undefined || hi === undefined || lo > hi) {
          return bad('must be [from, to], two ISO 8601 date-times with a time zone, from ≤ to');
        }
        return { op, value: [lo, hi] };
      }
      const ms = dateMs(value);
      if (ms === undefined) return bad('must be an ISO 8601 date-time with a time zone');
      return { op: op as 'before', value: ms };
    }
  }
}

function numberPair(value: unknown): Test | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [lo, hi] = value;
  if (typeof lo !== 'number' || typeof hi !== 'number') return undefined;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) return undefined;
  return { op: 'between', value: [lo, hi] };
}

function dateMs(value: unknown): number | undefined {
  const utc = typeof value === 'string' ? normalizeDateTime(value) : undefined;
  return utc === undefined ? undefined : Date.parse(utc);
}

function relativeTest(
  op: 'in_the_last' | 'more_than_ago' | 'in_the_next' | 'anniversary_in_the_next',
  value: unknown,
  bad: (message: string) => undefined,
): Test | undefined {
  const units = relativeOperators[op] ?? [];
  const shape = `must be {amount, unit}: amount a whole number from 1 to 1000, unit one of ${units.join(', ')}`;
  if (!isObject(value)) return bad(shape);
  const { amount, unit } = value;
  if (Object.keys(value).some((k) => k !== 'amount' && k !== 'unit')) return bad(shape);
  if (!Number.isInteger(amount) || (amount as number) < 1 || (amount as number) > 1000) {
    return bad(shape);
  }
  if (typeof unit !== 'string' || !units.includes(unit)) return bad(shape);
  const ms = (amount as number) * unitMs[unit as Unit];
  if (op === 'anniversary_in_the_next' && ms > 366 * unitMs.day) {
    return bad('reaches at most 366 days ahead');
  }
  return { op, ms };
}

/** Whether the filter's members move with the clock (a relative-date condition). */
export function movesWithClock(c: Condition): boolean {
  switch (c.kind) {
    case 'and':
    case 'or':
      return c.of.some(movesWithClock);
    case 'not':
      return movesWithClock(c.of);
    case 'leaf':
      return relative.has(c.test.op);
  }
}

/** The custom fields a filter names: a segment pins their types. */
export function fieldsOf(c: Condition, into = new Set<string>()): Set<string> {
  if (c.kind === 'leaf') into.add(c.field.name);
  else if (c.kind === 'not') fieldsOf(c.of, into);
  else for (const x of c.of) fieldsOf(x, into);
  return into;
}

/**
 * Month-days (`MM-DD`, UTC) from the day of `now` on, for `ms` worth of days: the days
 * an anniversary falls in. A 29 February anniversary falls on the 28th in other years.
 */
export function anniversaryDays(now: number, ms: number): string[] {
  const days = Math.ceil(ms / unitMs.day);
  const start = new Date(now);
  const day0 = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  const out = new Set<string>();
  for (let i = 0; i <= days && out.size < 366; i++) {
    const d = new Date(day0 + i * unitMs.day);
    const md = `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
    out.add(md);
    const y = d.getUTCFullYear();
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    if (md === '02-28' && !leap) out.add('02-29');
  }
  return [...out];
}

/** The bounds (epoch ms, inclusive) a relative test asks a date to fall within at `now`. */
export function relativeBounds(
  test: { op: 'in_the_last' | 'more_than_ago' | 'in_the_next'; ms: number },
  now: number,
): [number | null, number] {
  switch (test.op) {
    case 'in_the_last':
      return [now - test.ms, now];
    case 'more_than_ago':
      // Strictly more than: up to one ms short of the bound (every time here is in ms).
      return [null, now - test.ms - 1];
    case 'in_the_next':
      return [now, now + test.ms];
  }
}

import type { FilterSubject } from './fields.js';
import { anniversaryDays, type Condition, relativeBounds, type Test } from './filter.js';

/**
 * The in-memory reading of a filter: whether a customer, as a write leaves it, is a
 * member at `now` (epoch ms). Pure; compile.ts is the same meaning in SQL, and a
 * property test holds the two to the same members (test/http/segment-properties.test.ts).
 */
export function matches(c: Condition, subject: FilterSubject, now: number): boolean {
  switch (c.kind) {
    case 'and':
      return c.of.every((x) => matches(x, subject, now));
    case 'or':
      return c.of.some((x) => matches(x, subject, now));
    case 'not':
      return !matches(c.of, subject, now);
    case 'leaf': {
      const pass = passes(c.test, now);
      const held = c.field.read(subject).some(pass);
      return c.negate ? !held : held;
    }
  }
}

/** The test of one value. DATE values and bounds are epoch ms. */
function passes(test: Test, now: number): (v: string | number | boolean) => boolean {
  switch (test.op) {
    case 'is_set':
      return () => true;
    case 'eq':
      return (v) => v === test.value;
    case 'in': {
      const set = new Set(test.value);
      return (v) => typeof v === 'string' && set.has(v);
    }
    case 'contains':
      return (v) => typeof v === 'string' && v.includes(test.value);
    case 'starts_with':
      return (v) => typeof v === 'string' && v.startsWith(test.value);
    case 'ends_with':
      return (v) => typeof v === 'string' && v.endsWith(test.value);
    case 'gt':
      return (v) => (v as number) > test.value;
    case 'gte':
      return (v) => (v as number) >= test.value;
    case 'lt':
      return (v) => (v as number) < test.value;
    case 'lte':
      return (v) => (v as number) <= test.value;
    case 'between':
      return (v) => (v as number) >= test.value[0] && (v as number) <= test.value[1];
    case 'before':
      return (v) => (v as number) < test.value;
    case 'after':
      return (v) => (v as number) > test.value;
    case 'anniversary_in_the_next': {
      const days = new Set(anniversaryDays(now, test.ms));
      return (v) => days.has(new Date(v as number).toISOString().slice(5, 10));
    }
    default: {
      const [lo, hi] = relativeBounds(test, now);
      return (v) => (lo === null || (v as number) >= lo) && (v as number) <= hi;
    }
  }
}

import { describe, expect, it } from 'vitest';
import { emptyState } from '../../src/core/customers/customer.js';
import type { FieldType } from '../../src/core/fields/types.js';
import { anniversaryDays, validateFilter } from '../../src/core/segments/filter.js';
import { matches } from '../../src/core/segments/predicate.js';

const declared = new Map<string, FieldType>([
  ['tier', 'STRING'],
  ['points', 'NUMBER'],
  ['vip', 'BOOLEAN'],
  ['signup', 'DATE'],
]);
const limits = { leaves: 50, depth: 4 };
const now = Date.parse('2026-06-15T12:00:00.000Z');
const DAY = 86_400_000;

function customer(customFields: Record<string, string | number | boolean>, extra = {}) {
  return {
    state: { ...emptyState(), customFields, ...extra },
    createdAt: new Date(now - 10 * DAY),
    updatedAt: new Date(now),
  };
}
const holds = (filter: unknown, c: ReturnType<typeof customer>) =>
  matches(validateFilter(filter, declared, limits), c, now);

const gold = customer({ tier: 'Gold', points: 150, vip: true, signup: '2026-06-10T00:00:00.000Z' });
const unset = customer({});

describe('each operator, on a set field and on an unset one', () => {
  it.each([
    // [field, op, value, on gold, on unset]
    ['customFields.tier', 'eq', 'Gold', true, false],
    ['customFields.tier', 'eq', 'gold', false, false], // case-sensitive
    ['customFields.tier', 'neq', 'Gold', false, true],
    ['customFields.tier', 'in', ['Gold', 'Silver'], true, false],
    ['customFields.tier', 'not_in', ['Silver'], true, true],
    ['customFields.tier', 'contains', 'ol', true, false],
    ['customFields.tier', 'not_contains', 'ol', false, true],
    ['customFields.tier', 'starts_with', 'Go', true, false],
    ['customFields.tier', 'ends_with', 'ld', true, false],
    ['customFields.points', 'eq', 150, true, false],
    ['customFields.points', 'neq', 150, false, true],
    ['customFields.points', 'gt', 149, true, false],
    ['customFields.points', 'gte', 150, true, false],
    ['customFields.points', 'lt', 150, false, false],
    ['customFields.points', 'lte', 150, true, false],
    ['customFields.points', 'between', [150, 200], true, false],
    ['customFields.vip', 'eq', true, true, false],
    ['customFields.signup', 'before', '2026-06-11T00:00:00Z', true, false],
    ['customFields.signup', 'after', '2026-06-11T00:00:00+02:00', false, false],
    [
      'customFields.signup',
      'between',
      ['2026-06-01T00:00:00Z', '2026-06-10T00:00:00Z'],
      true,
      false,
    ],
    ['customFields.signup', 'in_the_last', { amount: 1, unit: 'week' }, true, false],
    ['customFields.signup', 'more_than_ago', { amount: 3, unit: 'day' }, true, false],
    ['customFields.signup', 'in_the_next', { amount: 1, unit: 'month' }, false, false],
    ['customFields.signup', 'anniversary_in_the_next', { amount: 1, unit: 'month' }, false, false],
    ['customFields.tier', 'is_set', undefined, true, false],
    ['customFields.tier', 'is_not_set', undefined, false, true],
  ])('%s %s %j', (field, op, value, onGold, onUnset) => {
    const filter = value === undefined ? { field, op } : { field, op, value };
    expect(holds(filter, gold)).toBe(onGold);
    expect(holds(filter, unset)).toBe(onUnset);
  });

  it('a list field holds when any of its values passes (phone numbers)', () => {
    const c = customer({}, { phoneNumbers: ['+12025550100', '+447911123456'] });
    expect(holds({ field: 'phoneNumbers', op: 'starts_with', value: '+44' }, c)).toBe(true);
    expect(holds({ field: 'phoneNumbers', op: 'neq', value: '+12025550100' }, c)).toBe(false);
    expect(holds({ field: 'phoneNumbers', op: 'is_set' }, unset)).toBe(false);
  });

  it('a birthday falls in the next days, 29 February on the 28th in other years', () => {
    const born = (birthdate: string) => customer({}, { birthdate });
    const soon = {
      field: 'birthdate',
      op: 'anniversary_in_the_next',
      value: { amount: 7, unit: 'day' },
    };
    expect(holds(soon, born('1990-06-20'))).toBe(true);
    expect(holds(soon, born('1990-06-30'))).toBe(false);
    expect(anniversaryDays(Date.parse('2027-02-27T10:00:00Z'), DAY)).toEqual([
      '02-27',
      '02-28',
      '02-29',
    ]);
  });

  it('and, or, not', () => {
    const t = { field: 'customFields.vip', op: 'eq', value: true };
    const f = { field: 'customFields.vip', op: 'eq', value: false };
    expect(holds({ and: [t, f] }, gold)).toBe(false);
    expect(holds({ or: [t, f] }, gold)).toBe(true);
    expect(holds({ not: f }, gold)).toBe(true);
  });
});

describe('validation', () => {
  const problem = (filter: unknown) => {
    try {
      validateFilter(filter, declared, limits);
    } catch (error) {
      return error as { code: string; errors: { path: string }[] };
    }
    throw new Error('accepted');
  };

  it('names every bad path at once', () => {
    const e = problem({
      and: [
        { field: 'nope', op: 'eq', value: 1 },
        { field: 'customFields.vip', op: 'gt', value: 1 },
        { field: 'customFields.points', op: 'between', value: [5, 1] },
        { field: 'email', op: 'is_set', value: 'x' },
      ],
    });
    expect(e.code).toBe('invalid_filter');
    expect(e.errors.map((x) => x.path)).toEqual([
      '/filter/and/0/field',
      '/filter/and/1/op',
      '/filter/and/2/value',
      '/filter/and/3/value',
    ]);
  });

  it('refuses an empty list, an unknown key, a mixed node', () => {
    expect(problem({ and: [] }).errors[0]!.path).toBe('/filter/and');
    expect(problem({ field: 'email', op: 'is_set', extra: 1 }).errors[0]!.path).toBe(
      '/filter/extra',
    );
    expect(problem({ and: [], or: [] }).errors[0]!.path).toBe('/filter');
    expect(problem('email').errors[0]!.path).toBe('/filter');
  });
});

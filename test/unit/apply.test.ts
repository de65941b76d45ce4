import { describe, expect, it } from 'vitest';
import { applyInput } from '../../src/core/customers/apply.js';
import { displayNameOf, emptyState } from '../../src/core/customers/customer.js';
import { type CustomerInput, normalizeInput } from '../../src/core/customers/input.js';
import { mergeStates } from '../../src/core/customers/merge.js';
import { ClienteleError } from '../../src/core/errors.js';
import type { FieldType } from '../../src/core/fields/types.js';

const apply = (state = emptyState(), input: CustomerInput, types: Record<string, FieldType> = {}) =>
  applyInput(state, normalizeInput(input, 'exists'), new Map(Object.entries(types)));

describe('display name', () => {
  it('is generated from first and last name', () => {
    expect(displayNameOf('Jane', 'Doe')).toBe('Jane Doe');
    expect(displayNameOf('Jane', null)).toBe('Jane');
    expect(displayNameOf(null, 'Doe')).toBe('Doe');
    expect(displayNameOf(null, null)).toBeNull();
    expect(displayNameOf('  ', null)).toBeNull();
  });
});

describe('applying a write', () => {
  it('leaves out what is left out and clears what is null', () => {
    const { next: first } = apply(undefined, {
      email: 'a@example.com',
      firstName: 'Ann',
      lastName: 'Lee',
    });
    const { next, changes } = apply(first, { email: 'a@example.com', lastName: null });
    expect(next.firstName).toBe('Ann');
    expect(next.lastName).toBeNull();
    expect(changes).toEqual({ lastName: { before: 'Lee', after: null } });
  });

  it('keeps the email and external id when a write names one the customer answers to since a merge', () => {
    const merged = {
      ...emptyState(),
      email: 'new@example.com',
      externalId: null,
      mergedIdentifiers: [
        { type: 'email' as const, value: 'old@example.com' },
        { type: 'externalId' as const, value: 'OLD-1' },
      ],
    };
    const named = apply(merged, { email: 'Old@Example.com', firstName: 'Ann' });
    expect(named.next.email).toBe('new@example.com');
    expect(named.changes).toEqual({ firstName: { before: null, after: 'Ann' } });
    // An empty field takes it back from the merged identifiers.
    const back = apply(merged, { email: 'new@example.com', externalId: 'OLD-1' });
    expect(back.next.externalId).toBe('OLD-1');
    expect(back.next.mergedIdentifiers).toEqual([{ type: 'email', value: 'old@example.com' }]);
    expect(Object.keys(back.changes).sort()).toEqual(['externalId', 'mergedIdentifiers']);
    // One write taking both back, the fields empty: each leaves the list once.
    const empty = { ...merged, email: null };
    const both = apply(empty, { email: 'old@example.com', externalId: 'OLD-1' });
    expect(both.next).toMatchObject({
      email: 'old@example.com',
      externalId: 'OLD-1',
      mergedIdentifiers: [],
    });
    expect(both.changes.mergedIdentifiers?.after).toEqual([]);
    // Any other value replaces the email as it always does; the merged ones stay.
    const other = apply(merged, { email: 'third@example.com' });
    expect(other.next.email).toBe('third@example.com');
    expect(other.next.mergedIdentifiers).toEqual(merged.mergedIdentifiers);
  });

  it('appends phone numbers, never replacing', () => {
    const { next: first } = apply(undefined, { phoneNumber: '+12025550143' });
    const { next } = apply(first, { phoneNumbers: ['+447911123456', '+12025550143'] });
    expect(next.phoneNumbers).toEqual(['+12025550143', '+447911123456']);
  });

  it('updates only the location parts given; null clears one part', () => {
    const { next: first } = apply(undefined, {
      email: 'a@example.com',
      location: { city: 'Boston', region: 'MA' },
    });
    const { next, changes } = apply(first, { location: { postalCode: '02110', region: null } });
    expect(next.location).toMatchObject({ city: 'Boston', region: null, postalCode: '02110' });
    expect(changes).toEqual({
      'location.postalCode': { before: null, after: '02110' },
      'location.region': { before: 'MA', after: null },
    });
  });

  it('merges metadata key by key; null removes a key', () => {
    const { next: first } = apply(undefined, { metadata: { lang: 'en', tier: { a: 1 } } });
    const { next } = apply(first, { metadata: { lang: null, tier: { b: 2 }, more: true } });
    expect(next.metadata).toEqual({ tier: { b: 2 }, more: true });
  });

  it('clears a custom field with null and keeps the others', () => {
    const types = { a: 'NUMBER', b: 'STRING' } as const;
    const { next: first } = apply(undefined, { customFields: { a: 1, b: 'x' } }, types);
    const { next } = apply(first, { customFields: { a: null } }, types);
    expect(next.customFields).toEqual({ b: 'x' });
  });

  it('refuses a value of another type than declared, naming field and types', () => {
    try {
      apply(undefined, { customFields: { points: 'many' } }, { points: 'NUMBER' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ClienteleError);
      expect((error as ClienteleError).code).toBe('custom_field_type_mismatch');
      expect((error as ClienteleError).errors[0]).toEqual({
        path: '/customFields/points',
        message: "field 'points' is NUMBER; got a string",
      });
    }
  });

  it('finds no change in a write that repeats what is there', () => {
    const { next: first } = apply(undefined, {
      email: 'a@example.com',
      firstName: 'Ann',
      location: { city: 'X' },
    });
    const { changes } = apply(first, {
      email: 'a@example.com',
      firstName: 'Ann',
      location: { city: 'X' },
    });
    expect(changes).toEqual({});
  });

  it('keeps loyalty moving forward only', () => {
    const { next } = apply(undefined, {
      loyalty: { status: 'loyalty', enrollments: [{ programId: 7, points: 10 }] },
    });
    expect(() => apply(next, { loyalty: { status: 'non_loyalty' } })).toThrow(/non_loyalty/);
    expect(() => apply(next, { loyalty: { enrollments: [{ programId: 7 }] } })).toThrow(
      /program 7/,
    );
    expect(
      apply(next, { loyalty: { enrollments: [{ programId: 8 }] } }).next.loyalty?.enrollments,
    ).toHaveLength(2);
  });
});

describe('merging two customers', () => {
  it('keeps the survivor’s values and takes what it lacks', () => {
    const survivor = apply(
      undefined,
      { email: 's@example.com', customFields: { a: 1 } },
      { a: 'NUMBER', b: 'NUMBER' },
    ).next;
    const other = apply(
      undefined,
      {
        email: 'o@example.com',
        firstName: 'Olga',
        phoneNumber: '+12025550143',
        customFields: { a: 2, b: 3 },
      },
      { a: 'NUMBER', b: 'NUMBER' },
    ).next;
    const merged = mergeStates(survivor, other);
    expect(merged.email).toBe('s@example.com');
    expect(merged.firstName).toBe('Olga');
    expect(merged.phoneNumbers).toEqual(['+12025550143']);
    expect(merged.customFields).toEqual({ a: 1, b: 3 });
  });
});

describe('names a plain object inherits', () => {
  // JSON.parse makes `__proto__` an own key, as a body or a stored row has it.
  const hostile = (json: string) => JSON.parse(json) as Record<string, never>;

  it('are keys of their own: __proto__ sets a field, never a prototype', () => {
    const { next, changes } = apply(
      undefined,
      {
        email: 'p@example.com',
        customFields: hostile('{"__proto__": "x", "constructor": "y"}'),
        metadata: hostile('{"__proto__": {"polluted": true}, "toString": 1}'),
      },
      hostile('{"__proto__": "STRING", "constructor": "STRING"}'),
    );
    expect(Object.getPrototypeOf(next.customFields)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(next.metadata)).toBe(Object.prototype);
    expect(Object.keys(next.customFields)).toEqual(['__proto__', 'constructor']);
    expect(Object.hasOwn(next.metadata, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(next.metadata))).toEqual(
      hostile('{"__proto__": {"polluted": true}, "toString": 1}'),
    );
    // What was not there before was null, not what Object.prototype holds.
    expect(changes['customFields.constructor']).toEqual({ before: null, after: 'y' });
    expect(changes['metadata.toString']).toEqual({ before: null, after: 1 });
  });
});

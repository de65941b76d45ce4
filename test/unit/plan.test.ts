import { describe, expect, it } from 'vitest';
import { applyInput } from '../../src/core/customers/apply.js';
import {
  type CustomerState,
  emptyState,
  type StoredCustomer,
} from '../../src/core/customers/customer.js';
import { keysOfState } from '../../src/core/customers/identity.js';
import { type CustomerInput, normalizeInput } from '../../src/core/customers/input.js';
import {
  type Found,
  type PlanOptions,
  planUpsert,
  RetryableConflict,
} from '../../src/core/customers/plan.js';
import { ClienteleError } from '../../src/core/errors.js';
import { defaultSettings, type StoreSettings } from '../../src/core/stores/settings.js';

/** The planner on its own: what it decides from a read and an input, case by case. */

const now = new Date('2026-12-01T10:00:00Z');
const ctx = { storeId: 'sto_x', api: 'native', keyId: 'key_x' };

function stored(id: string, input: CustomerInput, version = 1): StoredCustomer {
  const state: CustomerState = applyInput(
    emptyState(),
    normalizeInput(input, 'exists'),
    new Map([['points', 'NUMBER']]),
  ).next;
  return {
    id,
    seq: 7,
    version,
    mergedInto: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-02T00:00:00Z'),
    state,
  };
}

/** What a read would find for this input among these customers. */
function read(input: CustomerInput, customers: StoredCustomer[], byId?: StoredCustomer): Found {
  const wanted = normalizeInput(input, 'exists');
  const keys = [
    ...(wanted.externalId ? [{ kind: 'externalId', value: wanted.externalId }] : []),
    ...(wanted.email ? [{ kind: 'email', value: wanted.email }] : []),
    ...wanted.phoneNumbers.map((p) => ({ kind: 'phone', value: p })),
    ...(wanted.identifiers ?? []).map((i) => ({ kind: i.type, value: i.value })),
  ];
  const owners = keys.flatMap((key) => {
    const customer = customers.find((c) =>
      keysOfState(c.state).some((k) => k.kind === key.kind && k.value === key.value),
    );
    return customer ? [{ key, customer }] : [];
  });
  return { owners, byId };
}

function plan(
  input: CustomerInput,
  found: Found,
  options: PlanOptions = {},
  settings: Partial<StoreSettings> = {},
) {
  return planUpsert(found, normalizeInput(input, 'exists'), options, {
    ctx,
    settings: { ...defaultSettings, ...settings },
    fieldTypes: new Map([['points', 'NUMBER']]),
    now,
  });
}

function refusal(run: () => unknown): ClienteleError {
  try {
    run();
  } catch (error) {
    if (error instanceof ClienteleError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('planUpsert', () => {
  it('creates a customer nobody holds, at version 1, with one change record from version 0', () => {
    const p = plan({ email: 'new@example.com', firstName: 'New' }, { owners: [] });
    expect(p.outcome).toBe('created');
    if (p.outcome !== 'created') return;
    expect(p.matchedBy).toBeNull();
    expect(p.customer.version).toBe(1);
    expect(p.readVersion).toBe(0);
    expect(p.customer.id).toMatch(/^cust_/);
    expect(p.addedKeys).toEqual([{ kind: 'email', value: 'new@example.com' }]);
    expect(p.events).toEqual([
      expect.objectContaining({
        type: 'created',
        customerId: p.customer.id,
        previousVersion: 0,
        version: 1,
        api: 'native',
        keyId: 'key_x',
        createdAt: now,
      }),
    ]);
  });

  it('updates the customer an identifier finds: next version, the fields that changed', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com', firstName: 'Ann' }, 3);
    const p = plan(
      { email: 'ANN@example.com', lastName: 'Lee' },
      read({ email: 'ann@example.com' }, [ann]),
    );
    expect(p.outcome).toBe('updated');
    if (p.outcome !== 'updated') return;
    expect(p.matchedBy).toBe('email');
    expect(p.readVersion).toBe(3);
    expect(p.customer).toMatchObject({ id: 'cust_ann', version: 4, createdAt: ann.createdAt });
    expect(p.customer.state.firstName).toBe('Ann');
    expect(p.changes).toEqual({ lastName: { before: null, after: 'Lee' } });
    expect(p.events).toHaveLength(1);
    expect(p.events[0]).toMatchObject({ type: 'updated', previousVersion: 3, version: 4 });
  });

  it('leaves a customer unchanged when the write changes nothing', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com', firstName: 'Ann' });
    const p = plan(
      { email: 'ann@example.com', firstName: 'Ann' },
      read({ email: 'ann@example.com' }, [ann]),
    );
    expect(p).toEqual({ outcome: 'unchanged', matchedBy: 'email', customer: ann });
  });

  it('names the strongest identifier that matched', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com', externalId: 'A1' });
    const input = { email: 'ann@example.com', externalId: 'A1', firstName: 'Ann' };
    expect(plan(input, read(input, [ann])).matchedBy).toBe('externalId');
  });

  it('refuses identifiers held by two customers when the store rejects conflicts', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com' });
    const bob = stored('cust_bob', { phoneNumber: '+12025550143' });
    const input = { email: 'ann@example.com', phoneNumber: '+12025550143' };
    const error = refusal(() => plan(input, read(input, [ann, bob])));
    expect(error.code).toBe('identity_conflict');
    expect(error.details).toEqual({
      conflicts: [
        { identifier: 'email', value: 'ann@example.com', customerId: 'cust_ann' },
        { identifier: 'phone', value: '+12025550143', customerId: 'cust_bob' },
      ],
    });
  });

  it('merges them into the one the strongest identifier found when the store merges', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com', firstName: 'Ann' }, 2);
    const bob = stored('cust_bob', { externalId: 'B1', lastName: 'Lee' }, 5);
    const input = { email: 'ann@example.com', externalId: 'B1' };
    const p = plan(input, read(input, [ann, bob]), {}, { identityConflict: 'merge' });
    expect(p.outcome).toBe('updated');
    if (p.outcome !== 'updated') return;
    expect(p.customer.id).toBe('cust_bob'); // externalId is stronger than email
    expect(p.absorbed.map((c) => c.id)).toEqual(['cust_ann']);
    expect(p.customer.state).toMatchObject({
      firstName: 'Ann',
      lastName: 'Lee',
      email: 'ann@example.com',
    });
    expect(p.events.map((e) => [e.customerId, e.type, e.previousVersion, e.version])).toEqual([
      ['cust_bob', 'merged', 5, 6],
      ['cust_ann', 'merged', 2, 3],
    ]);
  });

  it('refuses a merge that would take the survivor past a limit, naming it', () => {
    const numbers = (from: number) =>
      Array.from({ length: 30 }, (_, i) => `+1202555${1000 + from + i}`);
    const ann = stored('cust_ann', { email: 'ann@example.com', phoneNumbers: numbers(0) });
    const bob = stored('cust_bob', { externalId: 'B1', phoneNumbers: numbers(30) });
    const input = { email: 'ann@example.com', externalId: 'B1' };
    const error = refusal(() =>
      plan(input, read(input, [ann, bob]), {}, { identityConflict: 'merge' }),
    );
    expect(error.code).toBe('identity_conflict');
    expect(error.errors[0]).toEqual({
      path: '/phoneNumbers',
      message: 'merging these customers would give 60 phone numbers; a customer has at most 50',
    });
  });

  it('refuses to create with mode update, and to take a held value with mode create', () => {
    expect(
      refusal(() => plan({ email: 'x@example.com' }, { owners: [] }, { mode: 'update' })).code,
    ).toBe('customer_not_found');
    const ann = stored('cust_ann', { email: 'ann@example.com' });
    const input = { email: 'ann@example.com' };
    expect(refusal(() => plan(input, read(input, [ann]), { mode: 'create' })).code).toBe(
      'identity_conflict',
    );
  });

  it('finds only by lookupBy, yet never takes a value another customer holds', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com', phoneNumber: '+12025550143' });
    const bob = stored('cust_bob', { phoneNumber: '+447911123456' });
    // The phone finds nobody here: a new customer, since only the email looks up.
    const fresh = { email: 'new@example.com', phoneNumber: '+12025550143' };
    expect(refusal(() => plan(fresh, read(fresh, [ann]), { lookupBy: ['email'] })).code).toBe(
      'identity_conflict',
    );
    // The customer's own phone is no conflict.
    const own = { email: 'ann@example.com', phoneNumber: '+12025550143', firstName: 'A' };
    expect(plan(own, read(own, [ann]), { lookupBy: ['email'] }).outcome).toBe('updated');
    const other = { email: 'ann@example.com', phoneNumber: '+447911123456' };
    expect(refusal(() => plan(other, read(other, [ann, bob]), { lookupBy: ['email'] })).code).toBe(
      'identity_conflict',
    );
  });

  it('addresses a customer by id, and refuses an id nobody has', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com' });
    const p = plan({ id: 'cust_ann', firstName: 'Ann' }, { owners: [], byId: ann });
    expect(p).toMatchObject({ outcome: 'updated', matchedBy: 'id' });
    expect(refusal(() => plan({ id: 'cust_nobody', firstName: 'X' }, { owners: [] })).code).toBe(
      'customer_not_found',
    );
  });

  it('applies only at an expected version', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com' }, 4);
    const found = { owners: [], byId: ann };
    const at = (expectedVersions: number[]) => () =>
      plan({ id: 'cust_ann', firstName: 'A' }, found, { expectedVersions });
    expect(refusal(at([3])).code).toBe('precondition_failed');
    expect(refusal(at([])).code).toBe('precondition_failed');
    expect(at([4])().outcome).toBe('updated');
    expect(at([2, 4])().outcome).toBe('updated');
  });

  it('passes on the rules of the input (a custom field of the wrong type)', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com' });
    const input = { email: 'ann@example.com', customFields: { points: 'many' } };
    expect(refusal(() => plan(input, read(input, [ann]))).code).toBe('custom_field_type_mismatch');
  });

  it('asks for a fresh read when a customer it found was merged away since', () => {
    const ann = { ...stored('cust_ann', { email: 'ann@example.com' }), mergedInto: 'cust_bob' };
    const input = { email: 'ann@example.com', firstName: 'A' };
    expect(() => plan(input, read(input, [ann]))).toThrow(RetryableConflict);
  });

  it('adds the identifier rows of new values', () => {
    const ann = stored('cust_ann', { email: 'ann@example.com' });
    const input = { email: 'ann@example.com', phoneNumber: '+12025550143' };
    const p = plan(input, read(input, [ann]));
    expect(p.outcome === 'updated' && p.addedKeys).toEqual([
      { kind: 'phone', value: '+12025550143' },
    ]);
  });
});

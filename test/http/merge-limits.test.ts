import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * A merge never takes a customer past its limits (50 phone numbers, 50 typed
 * identifiers): it is refused with 409, naming the limit, and both customers keep what
 * they hold. A customer over a limit already (merged by an earlier release) still takes
 * writes that name its own identifiers.
 */
let t: TestApp;
let store: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  const res = await t.admin('PATCH', `/v1/stores/${store.id}`, {
    settings: { identityConflict: 'merge' },
  });
  expect(res.statusCode).toBe(200);
});
afterAll(() => t.close());

const phones = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `+1202555${1000 + from + i}`);
const cards = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ type: 'card', value: `${prefix}-${i}` }));

describe('merges within the limits', () => {
  it('refuses to merge two customers of 30 phone numbers each, naming the limit', async () => {
    const a = await t.as(store).upsert({ email: 'p-a@example.com', phoneNumbers: phones(0, 30) });
    const b = await t.as(store).upsert({ email: 'p-b@example.com', phoneNumbers: phones(30, 30) });
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);

    const res = await t.as(store).upsert({ phoneNumbers: [phones(0, 1)[0], phones(30, 1)[0]] });
    expect(res.statusCode).toBe(409);
    const body = res.json();
    expect(body.code).toBe('identity_conflict');
    expect(body.errors[0]).toEqual({
      path: '/phoneNumbers',
      message: 'merging these customers would give 60 phone numbers; a customer has at most 50',
    });
    expect(body.conflicts.map((c: { customerId: string }) => c.customerId).sort()).toEqual(
      [a.json().customer.id, b.json().customer.id].sort(),
    );
    // Nothing was merged: each still has its own numbers and finds itself.
    for (const [res0, first] of [
      [a, 0],
      [b, 30],
    ] as const) {
      const read = await t.as(store).get(`/customers/${res0.json().customer.id}`);
      expect(read.json().phoneNumbers).toEqual(phones(first, 30));
      const found = await t.as(store).upsert({ phoneNumber: phones(first, 1)[0], firstName: 'X' });
      expect(found.json().customer.id).toBe(res0.json().customer.id);
    }
  });

  it('refuses to merge past 50 typed identifiers, and merges within them', async () => {
    const a = await t.as(store).upsert({ email: 'i-a@example.com', identifiers: cards('a', 30) });
    const b = await t.as(store).upsert({ email: 'i-b@example.com', identifiers: cards('b', 30) });
    const res = await t.as(store).upsert({ identifiers: [cards('a', 1)[0], cards('b', 1)[0]] });
    expect(res.statusCode).toBe(409);
    expect(res.json().errors[0].path).toBe('/identifiers');
    expect(res.json().errors[0].message).toContain('at most 50');

    const c = await t.as(store).upsert({ email: 'i-c@example.com', identifiers: cards('c', 20) });
    const merged = await t.as(store).upsert({
      email: 'i-a@example.com',
      identifiers: [cards('c', 1)[0]],
    });
    expect(merged.statusCode).toBe(200);
    expect(merged.json().customer.id).toBe(a.json().customer.id);
    expect(merged.json().customer.identifiers).toHaveLength(50);
    expect((await t.as(store).get(`/customers/${c.json().customer.id}`)).json().mergedInto).toBe(
      a.json().customer.id,
    );
    expect(b.statusCode).toBe(201);
  });

  it('keeps taking writes through its own numbers for a customer already past the limit', async () => {
    const created = await t.as(store).upsert({ email: 'over@example.com' });
    const id = created.json().customer.id;
    // As an earlier release's merge left it: 60 numbers, each an identifier row.
    const sixty = phones(100, 60);
    await sql`UPDATE customers SET phone_numbers = ${sixty}::text[]
      WHERE store_id = ${store.id} AND id = ${id}`.execute(t.clientele.db);
    for (const phone of sixty) {
      await sql`INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
        VALUES (${store.id}, 'phone', ${phone}, ${id})`.execute(t.clientele.db);
    }
    const own = await t.as(store).upsert({ phoneNumber: sixty[59], firstName: 'Olive' });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ matchedBy: 'phone', customer: { id, firstName: 'Olive' } });
    const more = await t
      .as(store)
      .upsert({ email: 'over@example.com', phoneNumber: '+12025559999' });
    expect(more.statusCode).toBe(422);
    expect(more.json()).toMatchObject({
      code: 'limit_exceeded',
      errors: [{ path: '/phoneNumbers' }],
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * Capillary's integer ids are numbered per store: a store's customers are 1, 2, 3, …
 * whatever other stores create meanwhile, so no store learns from its own ids how many
 * customers the others have. Concurrent creates (through two pools on PostgreSQL: the
 * batch and the path alone both) still get numbers no two customers share.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const basic = (store: TestStore) =>
  `Basic ${Buffer.from(`${store.id}:${store.apiKey}`).toString('base64')}`;

/** The integer id Capillary shows for the customer with this email. */
async function entityOf(store: TestStore, email: string): Promise<number> {
  const res = await t.app.inject({
    method: 'GET',
    url: `/compat/capillary/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=${encodeURIComponent(email)}`,
    headers: { authorization: basic(store) },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().entity;
}

describe('Capillary customer numbers', () => {
  it('count from 1 in each store, whatever other stores create', async () => {
    const a = await t.createStore();
    const b = await t.createStore();
    for (let i = 0; i < 3; i++) {
      expect((await t.as(a).upsert({ email: `a${i}@example.com` })).statusCode).toBe(201);
      expect((await t.as(b).upsert({ email: `b${i}@example.com` })).statusCode).toBe(201);
    }
    expect(await Promise.all([0, 1, 2].map((i) => entityOf(a, `a${i}@example.com`)))).toEqual([
      1, 2, 3,
    ]);
    expect(await Promise.all([0, 1, 2].map((i) => entityOf(b, `b${i}@example.com`)))).toEqual([
      1, 2, 3,
    ]);
    // A customer keeps its number through updates, and Capillary's update answers it.
    const update = await t.app.inject({
      method: 'PUT',
      url: '/compat/capillary/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=a1%40example.com',
      headers: { authorization: basic(a) },
      payload: { profiles: [{ firstName: 'Al' }] },
    });
    expect(update.json().createdId).toBe(2);
  });

  it('are distinct and without gaps under concurrent creates in two stores', async () => {
    const a = await t.createStore();
    const b = await t.createStore();
    const writes = Array.from({ length: 24 }, (_, i) => {
      const store = i % 2 === 0 ? a : b;
      // Some declare a field, and so run alone; the others are batched.
      const body =
        i % 3 === 0
          ? { email: `c${i}@example.com`, customFields: { [`f${i}`]: i } }
          : { email: `c${i}@example.com` };
      return t.as(store).upsert(body);
    });
    for (const res of await Promise.all(writes)) expect(res.statusCode, res.body).toBe(201);
    for (const [store, parity] of [
      [a, 0],
      [b, 1],
    ] as const) {
      const emails = Array.from({ length: 12 }, (_, k) => `c${2 * k + parity}@example.com`);
      const numbers = await Promise.all(emails.map((e) => entityOf(store, e)));
      expect(numbers.sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, k) => k + 1));
    }
  });
});

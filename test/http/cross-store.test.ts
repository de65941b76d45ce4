import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * A store's key never reaches another store's data: every store route answers 404 to a
 * key of another store, exactly as if the store did not exist, and changes nothing.
 */
let t: TestApp;
let a: TestStore;
let b: TestStore;
let bCustomer: string;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.createStore('A');
  b = await t.createStore('B');
  bCustomer = (
    await t
      .as(b)
      .upsert({ email: 'b@example.com', externalId: 'B-1', customFields: { colour: 'blue' } })
  ).json().customer.id;
});
afterAll(() => t.close());

const routes = (storeId: string): [string, string, unknown?][] => [
  ['POST', `/v1/stores/${storeId}/customers`, { email: 'b@example.com', firstName: 'Intruder' }],
  ['POST', `/v1/stores/${storeId}/customers`, { id: 'placeholder', firstName: 'Intruder' }],
  ['GET', `/v1/stores/${storeId}/customers`],
  ['GET', `/v1/stores/${storeId}/customers?email=b%40example.com`],
  ['GET', `/v1/stores/${storeId}/customers?externalId=B-1`],
  ['GET', `/v1/stores/${storeId}/customers/placeholder`],
  ['GET', `/v1/stores/${storeId}/customers/placeholder/events`],
  ['GET', `/v1/stores/${storeId}/custom-fields`],
  ['GET', `/v1/stores/${storeId}/custom-fields/colour/options`],
];

describe('cross-store access', () => {
  it('answers 404 on every route of another store, the same as for a store that does not exist', async () => {
    const nowhere = 'sto_01JD0000000000000000000000';
    for (const [method, url, body] of routes(b.id)) {
      const real = url.replace('placeholder', bCustomer);
      const payload = body && JSON.parse(JSON.stringify(body).replace('placeholder', bCustomer));
      const res = await t.as(a).request(method, real, payload);
      expect(res.statusCode, `${method} ${real}`).toBe(404);
      expect(res.json().code).toBe('store_not_found');
      const ghost = await t.as(a).request(method, real.replace(b.id, nowhere), payload);
      expect(ghost.statusCode).toBe(404);
      expect(ghost.json().detail).toBe(res.json().detail);
    }
    const customer = (await t.as(b).get(`/customers/${bCustomer}`)).json();
    expect(customer).toMatchObject({ firstName: null, version: 1 });
  });

  it("cannot reach another store's customer through its own store path", async () => {
    const res = await t.as(a).get(`/customers/${bCustomer}`);
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('customer_not_found');
    expect((await t.as(a).get('/customers?email=b%40example.com')).statusCode).toBe(404);
    // The same identifiers in store A make A's own customer, leaving B's alone.
    const mine = await t.as(a).upsert({ email: 'b@example.com', externalId: 'B-1' });
    expect(mine.statusCode).toBe(201);
    expect(mine.json().customer.id).not.toBe(bCustomer);
    expect((await t.as(a).get('/custom-fields/colour/options')).statusCode).toBe(404);
  });

  it('answers 401 with WWW-Authenticate to a missing, malformed or revoked key on every route', async () => {
    for (const [method, url, body] of routes(b.id)) {
      for (const authorization of [undefined, 'Bearer ck_not_a_real_key', 'Basic abc', b.apiKey]) {
        const res = await t.app.inject({
          method: method as 'GET',
          url,
          headers: authorization ? { authorization } : {},
          ...(body ? { payload: body as object } : {}),
        });
        expect(res.statusCode, `${method} ${url} ${authorization}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="clientele"');
      }
    }
  });
});

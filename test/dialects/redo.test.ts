import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithTwoStores, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
let other: TestStore;

beforeAll(async () => {
  ({ t, store, other } = await startWithTwoStores({
    aliases: { redo: '64e5a8a1af49a89df37e4ee7' },
  }));
});
afterAll(() => t.close());

const put = (storeId: string, body: unknown, key = store.apiKey) =>
  t.app.inject({
    method: 'PUT',
    url: `/compat/redo/v2.2/stores/${storeId}/customers`,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    payload: body as object,
  });
const get = (storeId: string, email: string, key = store.apiKey) =>
  t.app.inject({
    method: 'GET',
    url: `/compat/redo/v2.2/stores/${storeId}/customers?email=${encodeURIComponent(email)}`,
    headers: { authorization: `Bearer ${key}` },
  });

/** The seed page's own example. */
const seed = {
  email: 'jane@example.com',
  firstName: 'Jane',
  lastName: 'Doe',
  phoneNumber: '+12025550143',
  location: {
    city: 'Boston',
    state: 'Massachusetts',
    stateCode: 'MA',
    postalCode: '02110',
    countryCode: 'US',
    ianaTimeZoneName: 'America/New_York',
  },
  customFields: {
    subscription_source: 'web',
    status: 'Active',
    loyalty_points: 1250,
    vip_member: true,
    signup_date: '2026-02-24T12:15:00.000Z',
  },
};

describe('Redo dialect', () => {
  it("takes the seed page's example: 201 created, by the store's Redo id", async () => {
    const res = await put('64e5a8a1af49a89df37e4ee7', seed);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.stringMatching(/^cust_/),
      email: 'jane@example.com',
      created: true,
    });
  });

  it('updates by email: 200 created false; only the location parts sent change; phones append', async () => {
    const res = await put(store.id, {
      email: 'JANE@example.com',
      phoneNumber: '+447911123456',
      location: { city: 'Cambridge' },
      customFields: { loyalty_points: 1300 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().created).toBe(false);
    const read = await get(store.id, 'jane@example.com');
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      email: 'jane@example.com',
      firstName: 'Jane',
      lastName: 'Doe',
      phoneNumber: '+447911123456',
      location: {
        city: 'Cambridge',
        state: 'Massachusetts',
        stateCode: 'MA',
        postalCode: '02110',
        ianaTimeZoneName: 'America/New_York',
      },
      customFields: {
        loyalty_points: 1300,
        vip_member: true,
        signup_date: '2026-02-24T12:15:00.000Z',
        status: 'Active',
      },
    });
    const native = await t.as(store).get('/customers?email=jane%40example.com');
    expect(native.json()).toMatchObject({
      phoneNumbers: ['+12025550143', '+447911123456'],
      displayName: 'Jane Doe',
      location: { region: 'Massachusetts', regionCode: 'MA', timezone: 'America/New_York' },
    });
    const history = (await t.as(store).get(`/customers/${native.json().id}/events`)).json().data;
    expect(history.map((e: { api: string }) => e.api)).toEqual(['redo', 'redo']);
  });

  it.each([
    [{ firstName: 'No email' }, /email/],
    [{ email: 'not-an-email' }, /email/],
    [{ email: 'x@example.com', nickname: 'x' }, /nickname/],
    [{ email: 'x@example.com', phoneNumber: '2025550143' }, /phoneNumber/],
    [{ email: 'x@example.com', location: { planet: 'Mars' } }, /planet/],
    [{ email: 'x@example.com', customFields: { loyalty_points: 'many' } }, /loyalty_points/],
    [{ email: 'x@example.com', customFields: { bad: [1] } }, /bad/],
  ])('answers a bad body %j with 400 problem+json', async (body, detail) => {
    const res = await put(store.id, body);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      type: 'about:blank',
      title: 'Bad Request',
      instance: `/compat/redo/v2.2/stores/${store.id}/customers`,
    });
    expect(res.json().detail).toMatch(detail);
    expect((await get(store.id, 'x@example.com')).statusCode).toBe(404);
  });

  it('answers 401 to missing or bad keys and 403 to another store’s key', async () => {
    expect((await put(store.id, seed, '')).statusCode).toBe(401);
    const bad = await put(store.id, seed, 'ck_wrong');
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    const foreign = await put(store.id, seed, other.apiKey);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().detail).toBe('Token does not have access to this store');
    expect((await get(store.id, 'jane@example.com', other.apiKey)).statusCode).toBe(403);
  });

  it('answers 404 problem+json for an unknown email', async () => {
    const res = await get(store.id, 'nobody@example.com');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ type: 'about:blank', title: 'Not Found' });
  });

  it('refuses, with 409, a phone number another customer holds', async () => {
    await put(store.id, { email: 'holder@example.com', phoneNumber: '+12025550177' });
    const res = await put(store.id, { email: 'taker@example.com', phoneNumber: '+12025550177' });
    expect(res.statusCode).toBe(409);
    expect((await get(store.id, 'taker@example.com')).statusCode).toBe(404);
  });

  it('reads back through Cheqpay what Redo wrote', async () => {
    await put(store.id, { email: 'round@example.com', firstName: 'Round', lastName: 'Trip' });
    await t.as(store).upsert({ email: 'round@example.com', externalId: 'RT-1' });
    const res = await t.app.inject({
      method: 'GET',
      url: '/compat/cheqpay/customers/RT-1',
      headers: { 'x-api-key': store.apiKey, 'x-merchant-id': store.id },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      externalId: 'RT-1',
      firstName: 'Round',
      lastName: 'Trip',
      email: 'round@example.com',
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithTwoStores, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
let other: TestStore;

beforeAll(async () => {
  ({ t, store, other } = await startWithTwoStores({ aliases: { cheqpay: 'merchant-77' } }));
});
afterAll(() => t.close());

const creds = (key = store.apiKey, merchant = 'merchant-77') => ({
  'x-api-key': key,
  'x-merchant-id': merchant,
});
const addUpdate = (body: unknown, headers: Record<string, string> = creds()) =>
  t.app.inject({
    method: 'POST',
    url: '/compat/cheqpay/customers/add-update',
    headers,
    payload: body as object,
  });
const read = (id: string, headers: Record<string, string> = creds()) =>
  t.app.inject({ method: 'GET', url: `/compat/cheqpay/customers/${id}`, headers });

/** The seed page's example, as its curl sends it. */
const seed = {
  externalId: 'CUST-123',
  firstName: 'John',
  lastName: 'Doe',
  email: 'john.doe@example.com',
  phoneNumber: '+1234567890',
  active: true,
  notificationOptions: { notifyEmail: false, notifyPhone: false },
};

describe('Cheqpay dialect', () => {
  it("takes the seed page's example (its +1234567890 checked for E.164 form only)", async () => {
    const res = await addUpdate(seed);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      ...seed,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('updates by externalId, keeping what is left out', async () => {
    const res = await addUpdate({
      externalId: 'CUST-123',
      firstName: 'Johnny',
      active: false,
      notificationOptions: { notifyEmail: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      externalId: 'CUST-123',
      firstName: 'Johnny',
      lastName: 'Doe',
      email: 'john.doe@example.com',
      active: false,
      notificationOptions: { notifyEmail: true, notifyPhone: false },
    });
    const byExternal = (await read('CUST-123')).json();
    const byId = (await read(byExternal.id)).json();
    expect(byId).toEqual(byExternal);
    expect((await t.as(store).get('/customers?externalId=CUST-123')).json()).toMatchObject({
      firstName: 'Johnny',
      active: false,
      phoneNumbers: ['+1234567890'],
      metadata: { cheqpay: { notificationOptions: { notifyEmail: true } } },
    });
  });

  it.each([
    [{ firstName: 'No id' }, 'externalId'],
    [{ externalId: 'C-2' }, 'firstName'],
    [{ externalId: 'C-2', firstName: 'A', email: 'nope' }, 'email'],
    [{ externalId: 'C-2', firstName: 'A', phoneNumber: '1234567890' }, 'phoneNumber'],
    [{ externalId: 'C-2', firstName: 'A', active: 'yes' }, 'active'],
    [{ externalId: 'C-2', firstName: 'A', loyalty: 1 }, 'loyalty'],
    [
      { externalId: 'C-2', firstName: 'A', notificationOptions: { notifySms: true } },
      'notificationOptions.notifySms',
    ],
  ])('refuses %j with 400 VALIDATION_ERROR naming %s', async (body, field) => {
    const res = await addUpdate(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
    expect(res.json().error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect((await read('C-2')).statusCode).toBe(404);
  });

  it('answers 409 DUPLICATE when the email belongs to another customer', async () => {
    const res = await addUpdate({
      externalId: 'CUST-999',
      firstName: 'Jane',
      email: 'john.doe@example.com',
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('DUPLICATE');
  });

  it('answers 404 NOT_FOUND for an unknown customer', async () => {
    const res = await read('CUST-404');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('needs both headers; takes the key as a Bearer token too; refuses another store’s key', async () => {
    for (const headers of <Record<string, string>[]>[
      {},
      { 'x-api-key': store.apiKey },
      { 'x-merchant-id': 'merchant-77' },
      creds('ck_bad'),
      creds(other.apiKey),
      creds(store.apiKey, other.id),
    ]) {
      const res = await addUpdate(seed, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
    const bearer = await addUpdate(seed, {
      authorization: `Bearer ${store.apiKey}`,
      'x-merchant-id': store.id,
    });
    expect(bearer.statusCode).toBe(200);
  });

  it('reads back through Yotpo what Cheqpay wrote', async () => {
    await t.admin('PATCH', `/v1/stores/${store.id}`, {
      settings: { aliases: { cheqpay: 'merchant-77', yotpo: 'yp-77' } },
    });
    const res = await t.app.inject({
      method: 'GET',
      url: '/compat/yotpo/core/v3/stores/yp-77/customers?external_ids=CUST-123',
      headers: { 'x-yotpo-token': store.apiKey },
    });
    expect(res.json().customers[0]).toMatchObject({
      external_id: 'CUST-123',
      first_name: 'John',
      email: 'john.doe@example.com',
    });
  });
});

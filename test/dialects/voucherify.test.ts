import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithTwoStores, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
let other: TestStore;

beforeAll(async () => {
  ({ t, store, other } = await startWithTwoStores({ aliases: { voucherify: 'vf-app-1' } }));
});
afterAll(() => t.close());

const creds = (token = store.apiKey, app = 'vf-app-1') => ({
  'x-app-id': app,
  'x-app-token': token,
});
const call = (
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = creds(),
) =>
  t.app.inject({
    method: method as 'GET',
    url: `/compat/voucherify/v1${url}`,
    headers,
    ...(body === undefined ? {} : { payload: body as object }),
  });

/** The seed page's example request. */
const seed = {
  source_id: 'source_123',
  name: 'Bob Smith',
  description: 'A frequent customer',
  email: 'bob.smith@email.com',
  phone: '+1 933 222 3333',
  address: {
    city: 'New York',
    country: 'United States',
    line_1: '123 Main St.',
    line_2: 'APT 3 BLG 4',
    postal_code: '10001',
    state: 'NY',
  },
  metadata: { lang: 'en', test: true },
  birthdate: '2022-01-01',
};

describe('Voucherify dialect', () => {
  let id: string;

  it("takes the seed page's example: 200 with the customer object", async () => {
    const res = await call('POST', '/customers', seed);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    id = body.id;
    expect(body).toMatchObject({
      id: expect.stringMatching(/^cust_/),
      source_id: 'source_123',
      name: 'Bob Smith',
      description: 'A frequent customer',
      email: 'bob.smith@email.com',
      phone: '+19332223333',
      birthdate: '2022-01-01',
      address: {
        city: 'New York',
        state: 'NY',
        line_1: '123 Main St.',
        line_2: 'APT 3 BLG 4',
        country: 'United States',
        postal_code: '10001',
      },
      metadata: { lang: 'en', test: true },
      summary: { orders: { total_count: 0 } },
      loyalty: { points: 0, referred_customers: 0, campaigns: {} },
      referrals: { total: 0, campaigns: [] },
      system_metadata: {},
      object: 'customer',
    });
    expect(body.updated_at).toBeUndefined();
  });

  it('updates by source_id, then by id; source_id is ignored beside an id', async () => {
    const bySource = await call('POST', '/customers', {
      source_id: 'source_123',
      metadata: { lang: 'fr' },
    });
    expect(bySource.json()).toMatchObject({
      id,
      metadata: { lang: 'fr', test: true },
      updated_at: expect.any(String),
    });
    const byId = await call('POST', '/customers', {
      id,
      source_id: 'ignored',
      name: 'Robert Smith',
    });
    expect(byId.json()).toMatchObject({ id, source_id: 'source_123', name: 'Robert Smith' });
    expect(
      (await call('POST', '/customers', { id: 'cust_01JD0000000000000000000000', name: 'X' }))
        .statusCode,
    ).toBe(404);
  });

  it('creates a new customer each time without id or source_id', async () => {
    const a = (await call('POST', '/customers', { name: 'Anon One' })).json();
    const b = (await call('POST', '/customers', { name: 'Anon One' })).json();
    expect(a.id).not.toBe(b.id);
    const dup = await call('POST', '/customers', { name: 'Copy', email: 'bob.smith@email.com' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 409, key: 'duplicate_found' });
  });

  it('reads by id or source_id, updates with PUT, lists, and deletes', async () => {
    expect((await call('GET', `/customers/${id}`)).json().id).toBe(id);
    expect((await call('GET', '/customers/source_123')).json().id).toBe(id);
    const put = await call('PUT', `/customers/${id}`, { description: 'Changed', address: null });
    expect(put.json()).toMatchObject({
      id,
      description: 'Changed',
      address: null,
      email: 'bob.smith@email.com',
    });

    const list = (await call('GET', '/customers?limit=2&page=1')).json();
    expect(list).toMatchObject({ object: 'list', data_ref: 'customers', total: 3, has_more: true });
    expect(list.customers).toHaveLength(2);
    const filtered = (await call('GET', '/customers?email=BOB.SMITH%40email.com')).json();
    expect(filtered.customers.map((c: { id: string }) => c.id)).toEqual([id]);

    expect((await call('DELETE', `/customers/${id}`)).statusCode).toBe(204);
    const gone = await call('GET', `/customers/${id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({
      code: 404,
      key: 'not_found',
      resource_id: id,
      resource_type: 'customer',
    });
    expect((await t.as(store).get(`/customers/${id}`)).statusCode).toBe(404);
    // Its identifiers are suppressed (refused as Voucherify refuses a bad payload) until lifted.
    const again = await call('POST', '/customers', {
      source_id: 'source_123',
      email: 'bob.smith@email.com',
    });
    expect(again.statusCode).toBe(400);
    expect(again.json().details).toContain('/source_id: belongs to an erased customer');
    for (const query of ['externalId=source_123', 'email=bob.smith%40email.com']) {
      const lift = await t
        .as(store)
        .request('DELETE', `/v1/stores/${store.id}/suppressions?${query}`);
      expect(lift.statusCode, lift.body).toBe(204);
    }
    expect(
      (await call('POST', '/customers', { source_id: 'source_123', email: 'bob.smith@email.com' }))
        .statusCode,
    ).toBe(200);
  });

  it.each([
    [{ email: 'bob' }, /email/],
    [{ phone: 'call me' }, /phone/],
    [{ phone: '+1 (555)' }, /phone/],
    [{ birthdate: '2022-02-30' }, /birthdate/],
    [{ birthday: '01/01/2022' }, /birthdate/],
    [{ address: { line_3: 'x' } }, /line_3/],
    [{ metadata: 'x' }, /metadata/],
    [{ nickname: 'x' }, /nickname/],
  ])('refuses %j with 400 invalid_payload, writing nothing', async (body, details) => {
    const before = (await call('GET', '/customers')).json().total;
    const res = await call('POST', '/customers', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 400,
      key: 'invalid_payload',
      request_id: expect.stringMatching(/^req_/),
    });
    expect(res.json().details).toMatch(details);
    expect((await call('GET', '/customers')).json().total).toBe(before);
  });

  it('answers 401 unauthorized to missing, bad and another store’s credentials', async () => {
    for (const headers of <Record<string, string>[]>[
      {},
      creds('ck_bad'),
      creds(other.apiKey),
      creds(store.apiKey, other.id),
      { 'x-app-token': store.apiKey },
    ]) {
      const res = await call('POST', '/customers', { name: 'X' }, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 401, key: 'unauthorized' });
    }
  });

  it('reads back through Capillary and the native API what Voucherify wrote; metadata stays metadata', async () => {
    const written = (
      await call('POST', '/customers', {
        source_id: 'vf-rt',
        name: 'Round Trip',
        phone: '+1 202 555 0188',
        metadata: { plan: 'gold' },
      })
    ).json();
    const native = (await t.as(store).get(`/customers/${written.id}`)).json();
    expect(native).toMatchObject({
      externalId: 'vf-rt',
      firstName: 'Round',
      lastName: 'Trip',
      phoneNumbers: ['+12025550188'],
      metadata: { plan: 'gold' },
    });
    const capillary = await t.app.inject({
      method: 'GET',
      url: '/compat/capillary/v2/customers/lookup?source=WEBSITE&identifierName=externalId&identifierValue=vf-rt',
      headers: {
        authorization: `Basic ${Buffer.from(`${store.id}:${store.apiKey}`).toString('base64')}`,
      },
    });
    expect(capillary.json().entity).toEqual(expect.any(Number));
  });
});

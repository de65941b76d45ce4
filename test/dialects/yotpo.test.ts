import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithTwoStores, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
let other: TestStore;
const appKey = 'yotpo-app-key-123';

beforeAll(async () => {
  ({ t, store, other } = await startWithTwoStores({ aliases: { yotpo: appKey } }));
});
afterAll(() => t.close());

const patch = (
  customer: unknown,
  headers: Record<string, string> = { 'x-yotpo-token': store.apiKey },
  query = '',
) =>
  t.app.inject({
    method: 'PATCH',
    url: `/compat/yotpo/core/v3/stores/${appKey}/customers${query}`,
    headers,
    payload: { customer } as object,
  });
const list = (query: string, token = store.apiKey) =>
  t.app.inject({
    method: 'GET',
    url: `/compat/yotpo/core/v3/stores/${appKey}/customers?${query}`,
    headers: { 'x-yotpo-token': token },
  });

describe('Yotpo dialect', () => {
  it("takes the seed page's request shape, identified by external_id: 200 {}", async () => {
    const res = await patch({
      external_id: 'shopify-1001',
      email: 'ann@example.com',
      first_name: 'Ann',
      last_name: 'Lee',
      gender: 'F',
      account_status: 'enabled',
      default_language: 'en',
      default_currency: 'USD',
      tags: 'vip,newsletter',
      accepts_email_marketing: true,
      address: {
        address1: '1 Main St',
        city: 'Austin',
        state: 'Texas',
        province_code: 'TX',
        zip: '73301',
        country_code: 'US',
        company: 'Acme',
      },
      custom_properties: { loyalty_tier: 'gold', orders: 3, member_since: '2024-05-01T00:00:00Z' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    const read = (await list('external_ids=shopify-1001')).json();
    expect(read.customers).toHaveLength(1);
    expect(read.customers[0]).toMatchObject({
      external_id: 'shopify-1001',
      email: 'ann@example.com',
      first_name: 'Ann',
      gender: 'F',
      account_status: 'enabled',
      tags: 'vip,newsletter',
      accepts_email_marketing: true,
      address: {
        address1: '1 Main St',
        city: 'Austin',
        state: 'Texas',
        province_code: 'TX',
        zip: '73301',
        company: 'Acme',
      },
      custom_properties: {
        loyalty_tier: 'gold',
        orders: 3,
        member_since: '2024-05-01T00:00:00.000Z',
      },
    });
  });

  it('updates the same customer; null and left-out fields are skipped, not cleared', async () => {
    const res = await patch({
      external_id: 'shopify-1001',
      first_name: null,
      last_name: 'Lee-Smith',
      tags: null,
    });
    expect(res.statusCode).toBe(200);
    const customer = (await t.as(store).get('/customers?externalId=shopify-1001')).json();
    expect(customer).toMatchObject({
      firstName: 'Ann',
      lastName: 'Lee-Smith',
      email: 'ann@example.com',
      active: true,
    });
    expect(customer.metadata.yotpo.tags).toBe('vip,newsletter');
  });

  it('without external_id identifies by exactly one of email or phone_number', async () => {
    expect((await patch({ email: 'ann@example.com', first_name: 'Annie' })).statusCode).toBe(200);
    expect((await t.as(store).get('/customers?externalId=shopify-1001')).json().firstName).toBe(
      'Annie',
    );
    expect((await patch({ phone_number: '+12025550160', first_name: 'Phoebe' })).statusCode).toBe(
      200,
    );
    expect((await list('phone_numbers=%2B12025550160')).json().customers[0].first_name).toBe(
      'Phoebe',
    );
    const both = await patch({ email: 'x@example.com', phone_number: '+12025550161' });
    expect(both.statusCode).toBe(400);
    expect(both.json()).toEqual({
      status: {
        message: expect.stringContaining('only one of email or phone_number'),
        code: 400,
        error_type: 'bad_request',
      },
    });
    expect((await patch({ first_name: 'Nobody' })).statusCode).toBe(400);
  });

  it.each([
    [{ external_id: 'y-1', custom_properties: { gone: null } }, /null/],
    [{ external_id: 'y-1', custom_properties: { 'has space': 1 } }, /_ instead of spaces/],
    [{ external_id: 'y-1', gender: 'X' }, /gender/],
    [{ external_id: 'y-1', account_status: 'asleep' }, /account_status/],
    [{ external_id: 'y-1', default_currency: 'dollars' }, /default_currency/],
    [{ external_id: 'y-1', email: 'bad' }, /email/],
    [{ external_id: 'y-1', phone_number: '555-0100' }, /phone/],
    [{ external_id: 'y-1', favourite_colour: 'red' }, /favourite_colour/],
    [{ external_id: 'x'.repeat(256) }, /external_id/],
  ])('refuses %j with 400 in Yotpo’s error shape, writing nothing', async (customer, message) => {
    const res = await patch(customer);
    expect(res.statusCode).toBe(400);
    expect(res.json().status.code).toBe(400);
    expect(res.json().status.message).toMatch(message);
    expect((await list('external_ids=y-1')).json().customers).toEqual([]);
  });

  it('exchanges a store key for an access token, taken in the header or the query', async () => {
    const exchange = await t.app.inject({
      method: 'POST',
      url: `/compat/yotpo/core/v3/stores/${appKey}/access_tokens`,
      payload: { secret: store.apiKey },
    });
    expect(exchange.statusCode).toBe(200);
    const token = exchange.json().access_token;
    expect(token).toMatch(/^at_/);
    expect((await patch({ external_id: 'tok-1' }, { 'x-yotpo-token': token })).statusCode).toBe(
      200,
    );
    expect((await patch({ external_id: 'tok-2' }, {}, `?access_token=${token}`)).statusCode).toBe(
      200,
    );
    const rows = await t.clientele.db.selectFrom('access_tokens').select('token_hash').execute();
    expect(JSON.stringify(rows)).not.toContain(token);

    const wrong = await t.app.inject({
      method: 'POST',
      url: `/compat/yotpo/core/v3/stores/${appKey}/access_tokens`,
      payload: { secret: 'ck_nope' },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it('answers 401 to a missing or bad token and to another store’s key', async () => {
    for (const headers of <Record<string, string>[]>[
      {},
      { 'x-yotpo-token': 'wrong' },
      { 'x-yotpo-token': other.apiKey },
    ]) {
      const res = await patch({ external_id: 'auth-1' }, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().status.error_type).toBe('unauthorized');
    }
    expect((await list('external_ids=shopify-1001', other.apiKey)).statusCode).toBe(401);
  });

  it('reads back through Voucherify what Yotpo wrote', async () => {
    await t.admin('PATCH', `/v1/stores/${store.id}`, {
      settings: { aliases: { yotpo: appKey, voucherify: 'vf-app' } },
    });
    const res = await t.app.inject({
      method: 'GET',
      url: '/compat/voucherify/v1/customers/shopify-1001',
      headers: { 'x-app-id': 'vf-app', 'x-app-token': store.apiKey },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      source_id: 'shopify-1001',
      email: 'ann@example.com',
      name: 'Annie Lee-Smith',
    });
  });

  it('pages the customer list with page_info', async () => {
    const first = (await list('limit=2')).json();
    expect(first.customers).toHaveLength(2);
    const second = (await list(`limit=2&page_info=${first.page_info}`)).json();
    expect(second.customers[0].external_id).not.toBe(first.customers[0].external_id);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
let api: StoreClient;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  api = t.as(store);
});
afterAll(() => t.close());

describe('reading customers', () => {
  it('reads one by id, and 404s for an unknown id', async () => {
    const c = (await api.upsert({ email: 'read@example.com', firstName: 'Rea' })).json().customer;
    const res = await api.get(`/customers/${c.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(c);
    expect(res.headers.etag).toBe('"1"');
    const missing = await api.get('/customers/cust_01JD0000000000000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('customer_not_found');
  });

  it('looks up by email, phone, externalId and typed identifier', async () => {
    const c = (
      await api.upsert({
        email: 'Look@Example.com',
        phoneNumber: '+12025550111',
        externalId: 'LOOK-1',
        identifiers: [{ type: 'wechat', value: 'wx:with:colons' }],
      })
    ).json().customer;
    for (const query of [
      'email=LOOK%40example.com',
      'phone=%2B12025550111',
      'externalId=LOOK-1',
      'identifier=wechat:wx:with:colons',
    ]) {
      const res = await api.get(`/customers?${query}`);
      expect(res.statusCode, query).toBe(200);
      expect(res.json().id, query).toBe(c.id);
    }
    expect((await api.get('/customers?email=nobody%40example.com')).statusCode).toBe(404);
    expect((await api.get('/customers?identifier=wechat:nope')).statusCode).toBe(404);
  });

  it('refuses a malformed lookup, two lookups at once, and unknown query keys', async () => {
    expect((await api.get('/customers?identifier=novalue')).json().errors[0].path).toBe(
      '/query/identifier',
    );
    expect((await api.get('/customers?email=a%40b.co&phone=%2B1')).statusCode).toBe(400);
    const unknown = await api.get('/customers?colour=red');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0]).toEqual({
      path: '/query/colour',
      message: 'is not a field of this object',
    });
    expect((await api.get('/customers?limit=0')).statusCode).toBe(400);
    expect((await api.get('/customers?limit=101')).statusCode).toBe(400);
    expect((await api.get('/customers?cursor=bogus')).json().errors[0].path).toBe('/query/cursor');
  });
});

describe('listing customers', () => {
  it('pages newest first with no repeats or gaps while others write', async () => {
    const s = await t.createStore();
    const c = t.as(s);
    const created: string[] = [];
    for (let i = 0; i < 25; i++)
      created.push((await c.upsert({ email: `list${i}@example.com` })).json().customer.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const res = await c.get(`/customers?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.data.map((x: { id: string }) => x.id));
      cursor = body.nextCursor;
      // Writes between pages: new customers and updates of listed ones.
      await Promise.all([
        c.upsert({ email: `during${page}@example.com` }),
        c.upsert({ email: `list${page}@example.com`, firstName: `Updated ${page}` }),
      ]);
      page++;
    } while (cursor);

    // Everything that existed when paging started, once each, newest first.
    const expected = [...created].reverse();
    expect(seen.filter((id) => created.includes(id))).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('an empty store lists nothing', async () => {
    const s = await t.createStore();
    expect((await t.as(s).get('/customers')).json()).toEqual({ data: [], nextCursor: null });
  });
});

describe('history', () => {
  it('records each create and update with the API, key and every field before and after', async () => {
    const c = (
      await api.upsert({
        email: 'history@example.com',
        customFields: { tier: 'gold' },
        location: { city: 'Oslo' },
      })
    ).json().customer;
    await api.upsert({
      email: 'history@example.com',
      firstName: 'Hi',
      customFields: { tier: 'silver' },
      location: { city: 'Bergen' },
    });
    await api.upsert({ email: 'history@example.com', firstName: 'Hi' }); // unchanged: no event

    const res = await api.get(`/customers/${c.id}/events`);
    expect(res.statusCode).toBe(200);
    const [updated, created] = res.json().data;
    expect(res.json().data).toHaveLength(2);
    const keyId = (
      await t.clientele.db
        .selectFrom('api_keys')
        .select('id')
        .where('store_id', '=', store.id)
        .executeTakeFirstOrThrow()
    ).id;
    expect(updated).toMatchObject({
      type: 'updated',
      api: 'native',
      keyId,
      customerId: c.id,
      changes: {
        firstName: { before: null, after: 'Hi' },
        'customFields.tier': { before: 'gold', after: 'silver' },
        'location.city': { before: 'Oslo', after: 'Bergen' },
      },
    });
    expect(Object.keys(updated.changes).sort()).toEqual([
      'customFields.tier',
      'firstName',
      'location.city',
    ]);
    expect(created).toMatchObject({
      type: 'created',
      changes: { email: { before: null, after: 'history@example.com' } },
    });
    expect(Date.parse(updated.createdAt)).toBeGreaterThanOrEqual(Date.parse(created.createdAt));
  });

  it('pages history and 404s for an unknown customer', async () => {
    const c = (await api.upsert({ email: 'pages@example.com' })).json().customer;
    for (let i = 0; i < 4; i++)
      await api.upsert({ email: 'pages@example.com', description: `v${i}` });
    const first = (await api.get(`/customers/${c.id}/events?limit=3`)).json();
    expect(first.data).toHaveLength(3);
    const second = (
      await api.get(`/customers/${c.id}/events?limit=3&cursor=${first.nextCursor}`)
    ).json();
    expect(second.data).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    expect(second.data.at(-1).type).toBe('created');
    expect((await api.get('/customers/cust_01JD0000000000000000000000/events')).statusCode).toBe(
      404,
    );
  });
});

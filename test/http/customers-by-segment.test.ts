import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/** `GET …/customers?segment=`: the customers list narrowed to one segment's members. */
let t: TestApp;
let store: TestStore;
let api: StoreClient;
let gold: string;
const golden: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  api = t.as(store);
  for (let i = 0; i < 7; i++) {
    const res = await api.upsert({
      email: `c${i}@example.com`,
      customFields: { tier: i % 2 === 0 ? 'gold' : 'silver' },
    });
    expect(res.statusCode, res.body).toBe(201);
    if (i % 2 === 0) golden.push(res.json().customer.id);
  }
  const res = await api.request('POST', `/v1/stores/${store.id}/segments`, {
    name: 'Gold',
    filter: { field: 'customFields.tier', op: 'eq', value: 'gold' },
  });
  expect(res.statusCode, res.body).toBe(201);
  gold = res.json().id;
});
afterAll(() => t?.close());

const list = (query: string, client = api, on = store) =>
  client.request('GET', `/v1/stores/${on.id}/customers?${query}`);

describe('customers?segment=: happy paths', () => {
  it("pages through the segment's members, newest first, as customers", async () => {
    const seen: string[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const res = await list(`segment=${gold}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page.data.length).toBeLessThanOrEqual(3);
      for (const c of page.data) expect(c.customFields.tier).toBe('gold');
      seen.push(...page.data.map((c: { id: string }) => c.id));
      cursor = page.nextCursor ?? '';
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual([...golden].reverse());
  });

  it('follows a write: a customer that starts to match is listed, one that stops is not', async () => {
    const silver = (await list('email=c1@example.com')).json().id;
    await api.upsert({ id: silver, customFields: { tier: 'gold' } });
    await api.upsert({ id: golden[0], customFields: { tier: 'bronze' } });
    const ids = (await list(`segment=${gold}&limit=100`))
      .json()
      .data.map((c: { id: string }) => c.id);
    expect(ids).toContain(silver);
    expect(ids).not.toContain(golden[0]);
    await api.upsert({ id: silver, customFields: { tier: 'silver' } });
    await api.upsert({ id: golden[0], customFields: { tier: 'gold' } });
  });

  it('an empty segment is an empty page', async () => {
    const res = await api.request('POST', `/v1/stores/${store.id}/segments`, {
      name: 'Nobody',
      filter: { field: 'customFields.tier', op: 'eq', value: 'diamond' },
    });
    const page = await list(`segment=${res.json().id}`);
    expect(page.statusCode).toBe(200);
    expect(page.json()).toEqual({ data: [], nextCursor: null });
  });
});

describe('customers?segment=: bad input', () => {
  it('an unknown segment is 404 naming /query/segment', async () => {
    const res = await list('segment=seg_01ZZZZZZZZZZZZZZZZZZZZZZZZ');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      code: 'segment_not_found',
      errors: [{ path: '/query/segment', message: 'no segment with this id in this store' }],
    });
  });

  it('with q, or with a look-up, is 400 naming the second', async () => {
    const withQ = await list(`q=c1&segment=${gold}`);
    expect(withQ.statusCode).toBe(400);
    expect(withQ.json().errors).toEqual([
      {
        path: '/query/segment',
        message:
          'search (q), filter by segment, or look up by one of email, phone, externalId or identifier, one at a time',
      },
    ]);
    const withEmail = await list(`segment=${gold}&email=c1@example.com`);
    expect(withEmail.statusCode).toBe(400);
    expect(withEmail.json().errors[0].path).toBe('/query/email');
  });

  it('a cursor this list did not give, or a limit out of range, is 400 naming it', async () => {
    const cursor = await list(
      `segment=${gold}&cursor=${Buffer.from('seg_x').toString('base64url')}`,
    );
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().errors[0].path).toBe('/query/cursor');
    const limit = await list(`segment=${gold}&limit=0`);
    expect(limit.statusCode).toBe(400);
    expect(limit.json().errors[0].path).toBe('/query/limit');
  });
});

describe('customers?segment=: cross-store', () => {
  it("another store's segment is not found, even on that store's own path", async () => {
    const other = await t.createStore();
    const intruder = t.as(other);
    expect((await list(`segment=${gold}`, intruder)).statusCode).toBe(404);
    const own = await list(`segment=${gold}`, intruder, other);
    expect(own.statusCode).toBe(404);
    expect(own.json().code).toBe('segment_not_found');
  });
});

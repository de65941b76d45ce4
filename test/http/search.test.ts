import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/** GET /v1/stores/{id}/customers?q=: the console's search box. */

let t: TestApp;
let store: TestStore;
let api: StoreClient;

const search = async (q: string, extra = '') =>
  api.get(`/customers?q=${encodeURIComponent(q)}${extra}`);
const emailsOf = (res: { json(): { data: { email: string | null }[] } }) =>
  res.json().data.map((c) => c.email);

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  api = t.as(store);
  const people = [
    {
      email: 'jane.doe@example.com',
      firstName: 'Jane',
      lastName: 'Doe',
      phoneNumber: '+12025550143',
    },
    { email: 'janet@example.org', firstName: 'Janet', lastName: 'Moss', externalId: 'EXT-1001' },
    { email: 'bob@example.com', firstName: 'Bob', lastName: 'Janeway', externalId: 'ext-2002' },
    {
      email: 'zoe@example.net',
      firstName: 'Zoë',
      lastName: 'Quinn',
      identifiers: [{ type: 'wechat', value: 'wx_zoe' }],
    },
  ];
  for (const p of people) expect((await api.upsert(p)).statusCode).toBe(201);
});
afterAll(() => t.close());

describe('search: what it finds', () => {
  it('finds by the start of an email, in any case', async () => {
    const res = await search('JANE');
    expect(res.statusCode).toBe(200);
    // Jane by name and email, Janet by name and email, Bob by his last name "Janeway".
    expect(emailsOf(res).sort()).toEqual([
      'bob@example.com',
      'jane.doe@example.com',
      'janet@example.org',
    ]);
    expect(emailsOf(await search('jane.d'))).toEqual(['jane.doe@example.com']);
    expect(emailsOf(await search('janet@ex'))).toEqual(['janet@example.org']);
  });

  it('finds by a phone number as E.164, or its digits as people write them', async () => {
    for (const q of ['+1202555', '1202555', '1 (202) 555-01']) {
      expect(emailsOf(await search(q)), q).toEqual(['jane.doe@example.com']);
    }
  });

  it('finds by external id as written, by typed identifier, and by name', async () => {
    expect(emailsOf(await search('EXT-1'))).toEqual(['janet@example.org']);
    expect(emailsOf(await search('ext-2'))).toEqual(['bob@example.com']);
    expect(emailsOf(await search('wx_z'))).toEqual(['zoe@example.net']);
    expect(emailsOf(await search('jane doe'))).toEqual(['jane.doe@example.com']);
    expect(emailsOf(await search('  Jane   Do '))).toEqual(['jane.doe@example.com']);
    expect(emailsOf(await search('quinn'))).toEqual(['zoe@example.net']);
  });

  it('answers an empty page for what nobody starts with', async () => {
    const res = await search('nobody-starts-like-this');
    expect(res.json()).toEqual({ data: [], nextCursor: null });
  });

  it('pages with a cursor, each match once, without repeats or gaps', async () => {
    const local = await t.createStore();
    const client = t.as(local);
    for (let i = 0; i < 7; i++) {
      await client.upsert({ email: `page${i}@example.com` });
    }
    await client.upsert({ email: 'other@example.com' });
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const res = await client.get(
        `/customers?q=page&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.data.map((c: { email: string }) => c.email));
      cursor = body.nextCursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `page${i}@example.com`));
  });

  it('does not find a customer erased or merged away', async () => {
    const local = await t.createStore();
    const client = t.as(local);
    const gone = (await client.upsert({ email: 'gone@example.com', firstName: 'Gone' })).json();
    expect(
      (await client.request('DELETE', `/v1/stores/${local.id}/customers/${gone.customer.id}`))
        .statusCode,
    ).toBe(204);
    const res = await client.get('/customers?q=gone');
    expect(res.json().data).toEqual([]);
  });
});

describe('search: bad input', () => {
  it('refuses a blank query, naming /query/q', async () => {
    const res = await search('   ');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { path: '/query/q', message: 'must hold something to search for' },
    ]);
  });

  it('refuses a query past 255 characters', async () => {
    const res = await search('a'.repeat(256));
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('/query/q');
  });

  it('refuses q beside a lookup, and a cursor it did not give', async () => {
    const both = await api.get('/customers?q=jane&email=jane.doe@example.com');
    expect(both.statusCode).toBe(400);
    expect(both.json().errors[0].path).toBe('/query/email');
    for (const cursor of ['nonsense', Buffer.from('cust_01').toString('base64url')]) {
      const res = await search('jane', `&cursor=${cursor}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([
        { path: '/query/cursor', message: 'is not a cursor this search gave' },
      ]);
    }
  });

  it('refuses a limit outside 1-100', async () => {
    for (const limit of ['0', '101', 'x']) {
      expect((await search('jane', `&limit=${limit}`)).statusCode).toBe(400);
    }
  });
});

describe('search: security', () => {
  it("never finds another store's customers, and refuses another store's path", async () => {
    const other = await t.createStore();
    const otherClient = t.as(other);
    expect((await otherClient.get('/customers?q=jane')).json().data).toEqual([]);
    const cross = await otherClient.request('GET', `/v1/stores/${store.id}/customers?q=jane`);
    expect(cross.statusCode).toBe(404);
    expect(cross.json().code).toBe('store_not_found');
  });

  it('needs a key', async () => {
    const res = await t.app.inject({ url: `/v1/stores/${store.id}/customers?q=jane` });
    expect(res.statusCode).toBe(401);
  });
});

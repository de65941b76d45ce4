import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsOf } from '../../src/core/segments/segments.repository.js';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

/** A store with fields declared (tier STRING, points NUMBER, vip BOOLEAN, signup DATE). */
async function storeWithFields(): Promise<{ store: TestStore; api: StoreClient }> {
  const store = await t.createStore();
  const api = t.as(store);
  const res = await api.upsert({
    email: 'seed@example.com',
    customFields: { tier: 'bronze', points: 0, vip: false, signup: '2020-01-01T00:00:00Z' },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { store, api };
}

const segmentsOf = (store: TestStore) => `/v1/stores/${store.id}/segments`;

async function createSegment(api: StoreClient, store: TestStore, filter: unknown, name = 'seg') {
  const res = await api.request('POST', segmentsOf(store), { name, filter });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; count: number; status: string };
}

async function countOf(api: StoreClient, store: TestStore, id: string): Promise<number> {
  const res = await api.request('GET', `${segmentsOf(store)}/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().count;
}

async function memberIds(api: StoreClient, store: TestStore, id: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await api.request(
      'GET',
      `${segmentsOf(store)}/${id}/customers?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    ids.push(...page.data.map((m: { id: string }) => m.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids.sort();
}

const gold = {
  and: [
    { field: 'customFields.tier', op: 'eq', value: 'gold' },
    { field: 'location.city', op: 'eq', value: 'Boston' },
    { field: 'customFields.points', op: 'gt', value: 1000 },
    { field: 'createdAt', op: 'in_the_last', value: { amount: 30, unit: 'day' } },
  ],
};

describe('segments: happy paths', () => {
  it('finds the members of a new segment, counts them, lists them with when they joined', async () => {
    const { store, api } = await storeWithFields();
    const ann = (
      await api.upsert({
        email: 'ann@example.com',
        location: { city: 'Boston' },
        customFields: { tier: 'gold', points: 1500 },
      })
    ).json().customer;
    await api.upsert({
      email: 'bob@example.com',
      location: { city: 'Boston' },
      customFields: { tier: 'gold', points: 900 },
    });
    await api.upsert({
      email: 'cy@example.com',
      location: { city: 'Denver' },
      customFields: { tier: 'gold', points: 5000 },
    });

    const segment = await createSegment(api, store, gold, 'gold in Boston');
    expect(segment).toMatchObject({ name: 'gold in Boston', count: 1, status: 'ready' });
    expect(segment.id).toMatch(/^seg_[0-9A-Z]{26}$/);
    const members = (
      await api.request('GET', `${segmentsOf(store)}/${segment.id}/customers`)
    ).json();
    expect(members.data).toHaveLength(1);
    expect(members.data[0].id).toBe(ann.id);
    expect(members.data[0].customer.email).toBe('ann@example.com');
    expect(Date.parse(members.data[0].joinedAt)).toBeGreaterThan(0);

    const list = (await api.request('GET', segmentsOf(store))).json();
    expect(list.data.map((s: { id: string }) => s.id)).toEqual([segment.id]);
    const mine = (await api.get(`/customers/${ann.id}/segments`)).json();
    expect(mine.data).toEqual([
      { id: segment.id, name: 'gold in Boston', joinedAt: members.data[0].joinedAt },
    ]);
  });

  it('keeps membership and count current at every write: join, leave, merge away, erase', async () => {
    const { store, api } = await storeWithFields();
    const segment = await createSegment(api, store, {
      field: 'customFields.points',
      op: 'between',
      value: [100, 200],
    });
    expect(segment.count).toBe(0);
    const dee = (
      await api.upsert({ email: 'dee@example.com', customFields: { points: 150 } })
    ).json().customer;
    expect(await countOf(api, store, segment.id)).toBe(1);
    await api.upsert({ email: 'dee@example.com', customFields: { points: 250 } });
    expect(await countOf(api, store, segment.id)).toBe(0);
    await api.upsert({ email: 'dee@example.com', customFields: { points: 120 } });
    expect(await memberIds(api, store, segment.id)).toEqual([dee.id]);

    // Cleared: unset fails a positive test.
    await api.upsert({ email: 'dee@example.com', customFields: { points: null } });
    expect(await countOf(api, store, segment.id)).toBe(0);
    await api.upsert({ email: 'dee@example.com', customFields: { points: 120 } });

    const erase = await t.app.inject({
      method: 'DELETE',
      url: `/compat/voucherify/v1/customers/${dee.id}`,
      headers: { 'x-app-id': store.id, 'x-app-token': store.apiKey },
    });
    expect(erase.statusCode, erase.body).toBe(204);
    expect(await countOf(api, store, segment.id)).toBe(0);
    expect(await memberIds(api, store, segment.id)).toEqual([]);
  });

  it('a merge takes the absorbed customer out of its segments', async () => {
    const { store, api } = await storeWithFields();
    await t.admin('PATCH', `/v1/stores/${store.id}`, { settings: { identityConflict: 'merge' } });
    const segment = await createSegment(api, store, {
      field: 'customFields.tier',
      op: 'eq',
      value: 'gold',
    });
    const a = (await api.upsert({ email: 'a@example.com', customFields: { tier: 'gold' } })).json()
      .customer;
    const b = (await api.upsert({ externalId: 'ext-b', customFields: { tier: 'gold' } })).json()
      .customer;
    expect(await countOf(api, store, segment.id)).toBe(2);
    const merged = await api.upsert({ email: 'a@example.com', externalId: 'ext-b' });
    expect(merged.statusCode, merged.body).toBe(200);
    const survivor = merged.json().customer.id;
    expect([a.id, b.id]).toContain(survivor);
    expect(await memberIds(api, store, segment.id)).toEqual([survivor]);
    expect(await countOf(api, store, segment.id)).toBe(1);
    // Counted from the typed values alone, a preview and a new build see the survivor only.
    const filter = { field: 'customFields.tier', op: 'eq', value: 'gold' };
    const preview = await api.request('POST', `/v1/stores/${store.id}/segments/preview`, {
      filter,
    });
    expect(preview.json()).toMatchObject({ count: 1, sample: [{ id: survivor }] });
    const again = await createSegment(api, store, filter);
    expect(again.count).toBe(1);
    expect(await memberIds(api, store, again.id)).toEqual([survivor]);
  });

  it('a dialect write moves membership like a native one', async () => {
    const { store, api } = await storeWithFields();
    const segment = await createSegment(api, store, {
      field: 'emailDomain',
      op: 'eq',
      value: 'voucher.example',
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/compat/voucherify/v1/customers',
      headers: { 'x-app-id': store.id, 'x-app-token': store.apiKey },
      payload: { source_id: 'v-1', email: 'vee@voucher.example', name: 'Vee' },
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    expect(await countOf(api, store, segment.id)).toBe(1);
  });

  it('PATCH renames, or rebuilds on a new filter; DELETE removes', async () => {
    const { store, api } = await storeWithFields();
    await api.upsert({ email: 'x@example.com', customFields: { vip: true } });
    const segment = await createSegment(api, store, {
      field: 'customFields.vip',
      op: 'eq',
      value: true,
    });
    expect(segment.count).toBe(1);
    const renamed = await api.request('PATCH', `${segmentsOf(store)}/${segment.id}`, {
      name: 'VIPs',
    });
    expect(renamed.json()).toMatchObject({ name: 'VIPs', count: 1 });
    const refiltered = await api.request('PATCH', `${segmentsOf(store)}/${segment.id}`, {
      filter: { field: 'customFields.vip', op: 'is_set' },
    });
    expect(refiltered.json()).toMatchObject({ count: 2 });
    expect((await api.request('DELETE', `${segmentsOf(store)}/${segment.id}`)).statusCode).toBe(
      204,
    );
    expect((await api.request('GET', `${segmentsOf(store)}/${segment.id}`)).statusCode).toBe(404);
  });

  it('previews a filter without saving it', async () => {
    const { store, api } = await storeWithFields();
    await api.upsert({ email: 'p1@example.com', customFields: { tier: 'gold', points: 10 } });
    await api.upsert({ email: 'p2@example.com', customFields: { tier: 'gold', points: 99 } });
    const res = await api.request('POST', `${segmentsOf(store)}/preview`, {
      filter: {
        and: [
          { field: 'customFields.tier', op: 'eq', value: 'gold' },
          { field: 'customFields.points', op: 'lt', value: 50 },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().count).toBe(1);
    expect(res.json().sample.map((c: { email: string }) => c.email)).toEqual(['p1@example.com']);
    expect((await api.request('GET', segmentsOf(store))).json().data).toEqual([]);
  });

  it('entering and leaving are events of the feed', async () => {
    const { store, api } = await storeWithFields();
    const segment = await createSegment(api, store, {
      field: 'customFields.tier',
      op: 'in',
      value: ['gold', 'silver'],
    });
    const c = (await api.upsert({ email: 'ev@example.com', customFields: { tier: 'gold' } })).json()
      .customer;
    await api.upsert({ email: 'ev@example.com', customFields: { tier: 'bronze' } });
    // The feed serves transactions older than the oldest one running on the server
    // (another test's, on a shared PostgreSQL): wait for it to pass ours.
    let feed = {
      data: [] as {
        type: string;
        data: {
          segment: { id: string };
          customer: { id: string; customFields: Record<string, unknown> };
        };
      }[],
    };
    for (let i = 0; i < 200 && feed.data.length < 2; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      feed = (await api.get('/events?types=segment.entered,segment.exited')).json();
    }
    expect(feed.data.map((e: { type: string }) => e.type)).toEqual([
      'segment.entered',
      'segment.exited',
    ]);
    expect(feed.data[0]!.data.segment).toEqual({ id: segment.id });
    expect(feed.data[0]!.data.customer.id).toBe(c.id);
    expect(feed.data[0]!.data.customer.customFields.tier).toBe('gold');
    // The customer's own history stays its writes.
    const history = (await api.get(`/customers/${c.id}/events`)).json();
    expect(history.data.map((e: { type: string }) => e.type)).toEqual(['updated', 'created']);
  });
});

describe('segments: bad input', () => {
  let store: TestStore;
  let api: StoreClient;
  beforeAll(async () => {
    ({ store, api } = await storeWithFields());
  });

  const refused = async (filter: unknown) => {
    const res = await api.request('POST', segmentsOf(store), { name: 'bad', filter });
    return { status: res.statusCode, body: res.json() };
  };

  it.each([
    [
      'an unknown field',
      { field: 'shoeSize', op: 'eq', value: 1 },
      '/filter/field',
      'invalid_filter',
    ],
    [
      'an undeclared custom field',
      { and: [{ field: 'customFields.nope', op: 'eq', value: 'x' }] },
      '/filter/and/0/field',
      'invalid_filter',
    ],
    [
      'an operator of another type',
      { or: [{ field: 'customFields.points', op: 'contains', value: 'x' }] },
      '/filter/or/0/op',
      'invalid_filter',
    ],
    [
      'a value of the wrong type',
      { not: { field: 'customFields.points', op: 'gt', value: '10' } },
      '/filter/not/value',
      'invalid_filter',
    ],
    [
      'a date that is not one',
      { field: 'customFields.signup', op: 'before', value: 'yesterday' },
      '/filter/value',
      'invalid_filter',
    ],
    [
      'a relative amount out of range',
      { field: 'createdAt', op: 'in_the_last', value: { amount: 0, unit: 'day' } },
      '/filter/value',
      'invalid_filter',
    ],
    [
      'too deep',
      { not: { not: { not: { not: { field: 'email', op: 'is_set' } } } } },
      '/filter/not/not/not/not',
      'limit_exceeded',
    ],
    [
      'too many leaves',
      { or: Array.from({ length: 51 }, () => ({ field: 'email', op: 'is_set' })) },
      '/filter',
      'limit_exceeded',
    ],
  ])('%s: 422 naming the path, nothing saved', async (_, filter, path, code) => {
    const { status, body } = await refused(filter);
    expect(status).toBe(422);
    expect(body.code).toBe(code);
    expect(body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect((await api.request('GET', segmentsOf(store))).json().data).toEqual([]);
  });

  it('the preview refuses as creation does', async () => {
    const res = await api.request('POST', `${segmentsOf(store)}/preview`, {
      filter: { field: 'active', op: 'eq', value: 'yes' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].path).toBe('/filter/value');
  });

  it('limits are store settings', async () => {
    const other = await t.createStore();
    const res = await t.admin('PATCH', `/v1/stores/${other.id}`, {
      settings: { segmentFilterLeaves: 2, segmentsLimit: 1 },
    });
    expect(res.statusCode, res.body).toBe(200);
    const client = t.as(other);
    const three = { and: [1, 2, 3].map(() => ({ field: 'email', op: 'is_set' })) };
    const tooMany = await client.request('POST', segmentsOf(other), { name: 'x', filter: three });
    expect(tooMany.statusCode).toBe(422);
    await createSegment(client, other, { field: 'email', op: 'is_set' });
    const second = await client.request('POST', segmentsOf(other), {
      name: 'y',
      filter: { field: 'email', op: 'is_set' },
    });
    expect(second.statusCode).toBe(422);
    expect(second.json().code).toBe('limit_exceeded');
  });

  it('an unknown segment is 404 segment_not_found', async () => {
    const res = await api.request('GET', `${segmentsOf(store)}/seg_01ZZZZZZZZZZZZZZZZZZZZZZZZ`);
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('segment_not_found');
  });
});

describe('segments: cross-store', () => {
  it("another store's key reaches none of a store's segments", async () => {
    const { store, api } = await storeWithFields();
    const segment = await createSegment(api, store, { field: 'email', op: 'is_set' });
    const other = await t.createStore();
    const intruder = t.as(other);
    for (const [method, url] of [
      ['GET', segmentsOf(store)],
      ['GET', `${segmentsOf(store)}/${segment.id}`],
      ['GET', `${segmentsOf(store)}/${segment.id}/customers`],
      ['DELETE', `${segmentsOf(store)}/${segment.id}`],
    ] as const) {
      expect((await intruder.request(method, url)).statusCode).toBe(404);
    }
    // Its own path, another store's segment id: not found either.
    const own = await intruder.request('GET', `${segmentsOf(other)}/${segment.id}`);
    expect(own.json().code).toBe('segment_not_found');
    expect(await countOf(api, store, segment.id)).toBe(1);
  });
});

describe('segments: concurrency', () => {
  it('many upserts at once keep every count exact', async () => {
    const { store, api } = await storeWithFields();
    const even = await createSegment(api, store, {
      field: 'customFields.points',
      op: 'lt',
      value: 50,
    });
    const odd = await createSegment(api, store, {
      field: 'customFields.points',
      op: 'gte',
      value: 50,
    });
    const writes = Array.from({ length: 120 }, (_, i) =>
      api.upsert({
        email: `c${i % 40}@example.com`,
        customFields: { points: (i * 37) % 100 },
      }),
    );
    const answers = await Promise.all(writes);
    for (const a of answers) expect(a.statusCode, a.body).toBeLessThan(300);
    for (const segment of [even, odd]) {
      const counts = await countsOf(t.clientele.db, store.id, segment.id);
      expect(counts.counter).toBe(counts.members);
    }
    // Every customer (the seed has points 0) is in exactly one of the two.
    const total = (await countOf(api, store, even.id)) + (await countOf(api, store, odd.id));
    expect(total).toBe(41);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { feedCaughtUp } from '../helpers/database.js';

/**
 * Merging customers and undoing it, as a user checks it: the result's fields and where
 * each came from, what the sources' ids and identifiers find, the history, the event
 * feed, segments, and the undo giving everyone back what was theirs.
 */
let t: TestApp;
let store: TestStore;
let api: StoreClient;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  api = t.as(store);
});
afterAll(() => t.close());

const path = (s: TestStore, p: string) => `/v1/stores/${s.id}${p}`;
const merge = (targetId: string, sourceIds: unknown, client = api, s = store) =>
  client.request('POST', path(s, `/customers/${targetId}/merge`), { sourceIds });
const undo = (mergeId: string, client = api, s = store) =>
  client.request('POST', path(s, `/merges/${mergeId}/undo`));
const create = async (body: Record<string, unknown>, client = api) => {
  const res = await client.upsert(body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().customer as { id: string; version: number };
};
const byEmail = (address: string, client = api) =>
  client.get(`/customers?email=${encodeURIComponent(address)}`);
const feedTypes = async (customerId: string) => {
  await feedCaughtUp(t.clientele.db);
  const events = (await api.get('/events?limit=100')).json().data as {
    type: string;
    data: { customer: { id: string } };
  }[];
  return events.filter((e) => e.data.customer.id === customerId).map((e) => e.type);
};

describe('merge', () => {
  it("keeps the target's values, fills its empty fields from the most recently updated source, unites the rest, and says where each came from", async () => {
    const target = await create({
      email: 'm1.target@example.com',
      firstName: 'Tara',
      phoneNumber: '+14155550101',
      customFields: { tier: 'gold' },
      metadata: { a: 'target' },
    });
    const older = await create({
      email: 'm1.older@example.com',
      firstName: 'Olive',
      lastName: 'Older',
      description: 'from older',
      phoneNumber: '+14155550102',
      identifiers: [{ type: 'wechat', value: 'wx_older' }],
      customFields: { tier: 'silver', visits: 3 },
      metadata: { a: 'older', b: 'older' },
    });
    const newer = await create({
      email: 'm1.newer@example.com',
      lastName: 'Newer',
      phoneNumber: '+14155550103',
      customFields: { visits: 9, city_code: 'SF' },
    });
    const res = await merge(target.id, [older.id, newer.id]);
    expect(res.statusCode, res.body).toBe(201);
    const { merge: m, customer } = res.json();
    expect(m.id).toMatch(/^mrg_/);
    expect(m).toMatchObject({ targetId: target.id, origin: 'request', undoneAt: null });
    expect(customer).toMatchObject({
      id: target.id,
      email: 'm1.target@example.com',
      firstName: 'Tara',
      lastName: 'Newer',
      description: 'from older',
      customFields: { tier: 'gold', visits: 9, city_code: 'SF' },
      metadata: { a: 'target', b: 'older' },
      identifiers: [{ type: 'wechat', value: 'wx_older' }],
      version: target.version + 1,
    });
    expect([...customer.phoneNumbers].sort()).toEqual([
      '+14155550101',
      '+14155550102',
      '+14155550103',
    ]);
    expect(m.provenance).toMatchObject({
      email: target.id,
      firstName: target.id,
      lastName: newer.id,
      description: older.id,
      'customFields.tier': target.id,
      'customFields.visits': newer.id,
      'metadata.b': older.id,
      'phoneNumbers.+14155550102': older.id,
      'identifiers.wechat:wx_older': older.id,
    });
    // A source is no customer now: its id says where it went, its identifiers find the
    // target, lists show it no more; its own history stays readable.
    const read = await api.get(`/customers/${older.id}`);
    expect(read.statusCode).toBe(307);
    expect(read.json()).toEqual({ id: older.id, mergedInto: target.id, mergeId: m.id });
    expect((await api.get('/customers?phone=%2B14155550102')).json().id).toBe(target.id);
    // Its email is not the target's (whose own wins), and finds the target all the same.
    expect(customer.mergedIdentifiers).toEqual([
      { type: 'email', value: 'm1.newer@example.com' },
      { type: 'email', value: 'm1.older@example.com' },
    ]);
    expect((await byEmail('m1.older@example.com')).json().id).toBe(target.id);
    expect((await api.get('/customers?identifier=wechat:wx_older')).json().id).toBe(target.id);
    const history = (await api.get(`/customers/${older.id}/events`)).json().data;
    expect(history.map((e: { type: string }) => e.type)).toEqual(['merged', 'created']);
    expect(history[0].changes).toEqual({ mergedInto: target.id, mergeId: m.id });
    const targetHistory = (await api.get(`/customers/${target.id}/events`)).json().data;
    expect(
      targetHistory
        .filter((e: { type: string }) => e.type === 'merged')
        .map((e: { changes: { mergedFrom: string } }) => e.changes.mergedFrom)
        .sort(),
    ).toEqual([older.id, newer.id].sort());
    // Read from the target, with the sources' records in one history, newest first.
    const whole = (await api.get(`/customers/${target.id}/events?merged=true&limit=100`)).json();
    const records = whole.data as { id: string; customerId: string; type: string }[];
    expect(new Set(records.map((e) => e.customerId))).toEqual(
      new Set([target.id, older.id, newer.id]),
    );
    expect(records.filter((e) => e.customerId === older.id).map((e) => e.type)).toEqual([
      'merged',
      'created',
    ]);
    expect(records.map((e) => e.id)).toEqual(
      records
        .map((e) => e.id)
        .sort()
        .reverse(),
    );
    const bad = await api.get(`/customers/${target.id}/events?merged=maybe`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toMatch(/merged/);
    // The merge is listed and read back, with the customer's merges found either way.
    expect((await api.get(`/merges/${m.id}`)).json()).toEqual(m);
    expect((await api.get(`/merges?customerId=${older.id}`)).json().data).toEqual([m]);
    expect((await api.get(`/merges?customerId=${target.id}`)).json().data).toEqual([m]);
    expect(await feedTypes(target.id)).toContain('customer.merged');
  });

  it('pages the merges newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await create({ email: `page${i}.a@example.com` });
      const b = await create({ email: `page${i}.b@example.com` });
      ids.push((await merge(a.id, [b.id])).json().merge.id);
    }
    const first = (await api.get('/merges?limit=2')).json();
    expect(first.data.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[1]]);
    const second = (await api.get(`/merges?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.data[0].id).toBe(ids[0]);
  });
});

describe('merge: bad input changes nothing', () => {
  it('refuses each, naming the field and the rule', async () => {
    const target = await create({ email: 'bad.target@example.com' });
    const source = await create({ email: 'bad.source@example.com' });
    const eleven = Array.from({ length: 11 }, () => source.id);
    const tooMany = await merge(target.id, eleven);
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json()).toMatchObject({
      code: 'limit_exceeded',
      errors: [{ path: '/sourceIds', message: 'must NOT have more than 10 items' }],
    });
    const none = await merge(target.id, []);
    expect(none.statusCode).toBe(400);
    expect(none.json().errors[0].path).toBe('/sourceIds');

    const itself = await merge(target.id, [source.id, target.id]);
    expect(itself.statusCode).toBe(400);
    expect(itself.json().errors).toEqual([
      { path: '/sourceIds/1', message: 'is the target itself' },
    ]);
    const twice = await merge(target.id, [source.id, source.id]);
    expect(twice.statusCode).toBe(400);
    expect(twice.json().errors[0].path).toBe('/sourceIds/1');

    const unknown = 'cust_01JD000000000000000000000Z';
    const missing = await merge(target.id, [source.id, unknown]);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors).toEqual([
      { path: '/sourceIds/1', message: `no customer ${unknown}` },
    ]);
    const noTarget = await merge(unknown, [source.id]);
    expect(noTarget.statusCode).toBe(404);
    expect(noTarget.json().errors[0].path).toBe('/path/customerId');

    // A source merged away already: 409 naming it.
    const gone = await create({ email: 'bad.gone@example.com' });
    const other = await create({ email: 'bad.other@example.com' });
    expect((await merge(other.id, [gone.id])).statusCode).toBe(201);
    const again = await merge(target.id, [source.id, gone.id]);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'already_merged',
      errors: [{ path: '/sourceIds/1', message: `was merged into ${other.id}` }],
    });

    // None of these wrote anything.
    for (const c of [target, source]) {
      const now = (await api.get(`/customers/${c.id}`)).json();
      expect(now.version).toBe(c.version);
    }
    expect((await api.get(`/merges?customerId=${target.id}`)).json().data).toEqual([]);
  });

  it("reaches no other store's customers", async () => {
    const other = await t.createStore('other');
    const mine = await create({ email: 'cross.mine@example.com' });
    const theirs = await create({ email: 'cross.theirs@example.com' }, t.as(other));
    const res = await merge(mine.id, [theirs.id]);
    expect(res.statusCode).toBe(404);
    const m = (await merge(mine.id, [(await create({ email: 'cross.2@example.com' })).id])).json()
      .merge;
    expect((await t.as(other).get(`/merges/${m.id}`)).statusCode).toBe(404);
    expect((await undo(m.id, t.as(other), other)).statusCode).toBe(404);
    expect((await t.as(other).request('GET', path(store, '/merges'))).statusCode).toBe(404);
  });
});

describe('undo', () => {
  it('gives every source back its id, identifiers and fields, and takes from the target what came from them', async () => {
    const target = await create({ email: 'u1.target@example.com', customFields: { tier: 'gold' } });
    const source = await create({
      email: 'u1.source@example.com',
      firstName: 'Sam',
      phoneNumber: '+14155550201',
      identifiers: [{ type: 'fbId', value: 'fb_u1' }],
      customFields: { tier: 'bronze', visits: 4 },
    });
    const m = (await merge(target.id, [source.id])).json().merge;
    const res = await undo(m.id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.collisions).toEqual([]);
    expect(body.merge.undoneAt).not.toBeNull();
    expect(body.customer).toMatchObject({
      id: target.id,
      firstName: null,
      phoneNumbers: [],
      identifiers: [],
      customFields: { tier: 'gold' },
    });
    const back = (await api.get(`/customers/${source.id}`)).json();
    expect(back).toMatchObject({
      id: source.id,
      email: 'u1.source@example.com',
      firstName: 'Sam',
      phoneNumbers: ['+14155550201'],
      identifiers: [{ type: 'fbId', value: 'fb_u1' }],
      customFields: { tier: 'bronze', visits: 4 },
    });
    expect(body.sources).toEqual([back]);
    expect((await byEmail('u1.source@example.com')).json().id).toBe(source.id);
    expect((await api.get('/customers?phone=%2B14155550201')).json().id).toBe(source.id);
    expect((await byEmail('u1.target@example.com')).json().id).toBe(target.id);
    expect(await feedTypes(source.id)).toContain('customer.unmerged');
    expect(await feedTypes(target.id)).toContain('customer.unmerged');

    const twice = await undo(m.id);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('merge_not_undoable');
    expect((await undo('mrg_01JD000000000000000000000Z')).statusCode).toBe(404);
  });

  it('keeps on the target what changed since, and lists each collision and how it was settled', async () => {
    const target = await create({ email: 'u2.target@example.com' });
    const source = await create({
      email: 'u2.source@example.com',
      firstName: 'Sid',
      lastName: 'Source',
      phoneNumber: '+14155550301',
    });
    const m = (await merge(target.id, [source.id])).json().merge;
    // Since the merge: a field from the source written again, its phone number taken
    // off the target and given to someone else.
    expect((await api.upsert({ id: target.id, firstName: 'Tim' })).statusCode).toBe(200);
    const removed = await api.request(
      'DELETE',
      path(store, `/customers/${target.id}/phone-numbers/%2B14155550301`),
    );
    expect(removed.statusCode, removed.body).toBe(200);
    const other = await create({ email: 'u2.other@example.com', phoneNumber: '+14155550301' });

    const res = await undo(m.id);
    expect(res.statusCode, res.body).toBe(200);
    const { collisions, customer, sources } = res.json();
    expect(collisions).toEqual([
      expect.objectContaining({ path: 'firstName', customerId: source.id, heldBy: target.id }),
      expect.objectContaining({
        path: 'phoneNumbers.+14155550301',
        customerId: source.id,
        heldBy: other.id,
      }),
    ]);
    expect(customer).toMatchObject({ firstName: 'Tim', lastName: null });
    expect(sources[0]).toMatchObject({ firstName: 'Sid', lastName: 'Source', phoneNumbers: [] });
    expect((await api.get('/customers?phone=%2B14155550301')).json().id).toBe(other.id);
    expect((await api.get(`/merges/${m.id}`)).json().collisions).toEqual(collisions);
  });

  it('undoes a merge made by the "merge" identity-conflict setting the same way', async () => {
    const s = await t.createStore('merging');
    await t.admin('PATCH', `/v1/stores/${s.id}`, { settings: { identityConflict: 'merge' } });
    const c = t.as(s);
    const a = await create({ email: 'ic.a@example.com', firstName: 'Ann' }, c);
    const b = await create({ externalId: 'IC-B', lastName: 'Bee' }, c);
    const res = await c.upsert({ email: 'ic.a@example.com', externalId: 'IC-B' });
    expect(res.json().customer).toMatchObject({ id: b.id, firstName: 'Ann', lastName: 'Bee' });
    const [m] = (await c.get(`/merges?customerId=${b.id}`)).json().data;
    expect(m).toMatchObject({ targetId: b.id, sourceIds: [a.id], origin: 'identityConflict' });
    expect(m.provenance).toMatchObject({ email: a.id, firstName: a.id, externalId: b.id });
    const undone = await undo(m.id, c, s);
    expect(undone.statusCode, undone.body).toBe(200);
    expect((await c.get(`/customers/${a.id}`)).json()).toMatchObject({
      email: 'ic.a@example.com',
      firstName: 'Ann',
    });
    expect((await c.get(`/customers/${b.id}`)).json()).toMatchObject({
      email: null,
      firstName: null,
      externalId: 'IC-B',
    });
  });
});

describe("a source's email and external id the target's own replaced", () => {
  it('find the target, never change its own, are held from others, can be removed, and go back on undo', async () => {
    const target = await create({ email: 'mi.target@example.com', externalId: 'MI-T' });
    const source = await create({
      email: 'mi.source@example.com',
      externalId: 'MI-S',
      firstName: 'Sam',
    });
    const m = (await merge(target.id, [source.id])).json().merge;
    expect(m.provenance).toMatchObject({
      'mergedIdentifiers.email:mi.source@example.com': source.id,
      'mergedIdentifiers.externalId:MI-S': source.id,
    });

    // A write naming the old email (in any case) or the old external id is the target's.
    const byOld = await api.upsert({ email: 'MI.Source@example.com', lastName: 'Smith' });
    expect(byOld.statusCode, byOld.body).toBe(200);
    expect(byOld.json()).toMatchObject({
      result: 'updated',
      matchedBy: 'email',
      customer: {
        id: target.id,
        email: 'mi.target@example.com',
        externalId: 'MI-T',
        lastName: 'Smith',
        mergedIdentifiers: [
          { type: 'externalId', value: 'MI-S' },
          { type: 'email', value: 'mi.source@example.com' },
        ],
      },
    });
    const again = await api.upsert({ externalId: 'MI-S', lastName: 'Smith' });
    expect(again.json()).toMatchObject({
      result: 'unchanged',
      matchedBy: 'externalId',
      customer: { id: target.id },
    });
    expect((await api.get('/customers?externalId=MI-S')).json().id).toBe(target.id);

    // No one else can take them while the target holds them.
    const other = await create({ email: 'mi.other@example.com' });
    const taken = await api.upsert({ id: other.id, email: 'mi.source@example.com' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({
      code: 'identity_conflict',
      conflicts: [
        { identifier: 'id', customerId: other.id },
        { identifier: 'email', value: 'mi.source@example.com', customerId: target.id },
      ],
    });

    // Removed, one is free again; the other still finds the target.
    const removed = await api.request(
      'DELETE',
      path(store, `/customers/${target.id}/merged-identifiers/email/MI.Source%40example.com`),
    );
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json().mergedIdentifiers).toEqual([{ type: 'externalId', value: 'MI-S' }]);
    expect((await byEmail('mi.source@example.com')).statusCode).toBe(404);
    const twice = await api.request(
      'DELETE',
      path(store, `/customers/${target.id}/merged-identifiers/email/mi.source%40example.com`),
    );
    expect(twice.statusCode).toBe(404);
    const badType = await api.request(
      'DELETE',
      path(store, `/customers/${target.id}/merged-identifiers/phone/%2B14155550100`),
    );
    expect(badType.statusCode).toBe(400);
    expect(badType.json().errors[0].path).toMatch(/type/);

    // The undo gives the source both back: the email, free, and the external id, which
    // the target gives up.
    const undone = await undo(m.id);
    expect(undone.statusCode, undone.body).toBe(200);
    expect(undone.json().collisions).toEqual([]);
    expect(undone.json().customer).toMatchObject({
      email: 'mi.target@example.com',
      externalId: 'MI-T',
      mergedIdentifiers: [],
    });
    expect(undone.json().sources[0]).toMatchObject({
      email: 'mi.source@example.com',
      externalId: 'MI-S',
      mergedIdentifiers: [],
    });
    expect((await byEmail('mi.source@example.com')).json().id).toBe(source.id);
    expect((await api.get('/customers?externalId=MI-S')).json().id).toBe(source.id);
  });

  it('are erased and suppressed with the target', async () => {
    const target = await create({ email: 'me.target@example.com' });
    const source = await create({ email: 'me.source@example.com' });
    expect((await merge(target.id, [source.id])).statusCode).toBe(201);
    const exported = (await api.get(`/customers/${target.id}/export`)).json();
    expect(exported.identifiers).toContainEqual({
      kind: 'email',
      value: 'me.source@example.com',
      suppressed: false,
    });
    const erased = await api.request('DELETE', path(store, `/customers/${target.id}`));
    expect(erased.statusCode).toBe(204);
    expect((await byEmail('me.source@example.com')).statusCode).toBe(404);
    const back = await api.upsert({ email: 'me.source@example.com' });
    expect(back.statusCode).toBe(422);
    expect(back.json().code).toBe('customer_suppressed');
  });
});

describe('merge and segments', () => {
  it('keeps membership and counts exact through a merge and its undo', async () => {
    const s = await t.createStore('segments');
    const c = t.as(s);
    const target = await create({ email: 'seg.target@example.com' }, c);
    const source = await create(
      { email: 'seg.source@example.com', customFields: { tier: 'gold' } },
      c,
    );
    const segment = (
      await c.request('POST', path(s, '/segments'), {
        name: 'gold',
        filter: { field: 'customFields.tier', op: 'eq', value: 'gold' },
      })
    ).json();
    const members = async (id: string) =>
      (await c.get(`/segments/${id}/customers`)).json().data.map((m: { id: string }) => m.id);
    const count = async (id: string) => (await c.get(`/segments/${id}`)).json().count;
    expect(await members(segment.id)).toEqual([source.id]);
    const m = (await merge(target.id, [source.id], c, s)).json().merge;
    expect(await members(segment.id)).toEqual([target.id]);
    expect(await count(segment.id)).toBe(1);
    // A segment built after the merge, from the stored values, agrees.
    const built = (
      await c.request('POST', path(s, '/segments'), {
        name: 'gold again',
        filter: { field: 'customFields.tier', op: 'eq', value: 'gold' },
      })
    ).json();
    expect(await members(built.id)).toEqual([target.id]);
    expect((await undo(m.id, c, s)).statusCode).toBe(200);
    for (const id of [segment.id, built.id]) {
      expect(await members(id)).toEqual([source.id]);
      expect(await count(id)).toBe(1);
    }
    const rebuilt = (
      await c.request('POST', path(s, '/segments'), {
        name: 'gold after undo',
        filter: { field: 'customFields.tier', op: 'eq', value: 'gold' },
      })
    ).json();
    expect(await members(rebuilt.id)).toEqual([source.id]);
  });
});

describe('merge and erasure', () => {
  it("forgets the merge's snapshot of the erased person, and the merge can no longer be undone", async () => {
    const target = await create({ email: 'er.target@example.com' });
    const source = await create({ email: 'er.source@example.com', firstName: 'Eulalia' });
    const m = (await merge(target.id, [source.id])).json().merge;
    expect((await api.request('DELETE', path(store, `/customers/${target.id}`))).statusCode).toBe(
      204,
    );
    const after = (await api.get(`/merges/${m.id}`)).json();
    expect(after).toMatchObject({ id: m.id, erased: true, provenance: null });
    const res = await undo(m.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('merge_not_undoable');
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM merges
      WHERE store_id = ${store.id} AND (snapshot::text LIKE '%Eulalia%' OR merged::text LIKE '%er.source%')`.execute(
      t.clientele.db,
    );
    expect(rows[0]?.n).toBe(0);
  });
});

describe('removing one identifier', () => {
  it('removes a phone number or a typed identifier through a write, and 404s one the customer lacks', async () => {
    const c = await create({
      email: 'rm@example.com',
      phoneNumbers: ['+14155550401', '+14155550402'],
      identifiers: [{ type: 'wechat', value: 'wx_rm' }],
    });
    const phone = await api.request(
      'DELETE',
      path(store, `/customers/${c.id}/phone-numbers/%2B14155550401`),
    );
    expect(phone.statusCode, phone.body).toBe(200);
    expect(phone.json()).toMatchObject({ phoneNumbers: ['+14155550402'], version: c.version + 1 });
    expect((await api.get('/customers?phone=%2B14155550401')).statusCode).toBe(404);
    const typed = await api.request(
      'DELETE',
      path(store, `/customers/${c.id}/identifiers/wechat/wx_rm`),
    );
    expect(typed.statusCode, typed.body).toBe(200);
    expect(typed.json()).toMatchObject({ identifiers: [], version: c.version + 2 });
    expect((await api.get('/customers?identifier=wechat:wx_rm')).statusCode).toBe(404);
    const history = (await api.get(`/customers/${c.id}/events`)).json().data;
    expect(history[0]).toMatchObject({ type: 'updated', version: c.version + 2 });
    expect(Object.keys(history[1].changes)).toEqual(['phoneNumbers']);

    for (const url of [
      `/customers/${c.id}/phone-numbers/%2B14155550401`,
      `/customers/${c.id}/identifiers/wechat/wx_rm`,
      '/customers/cust_01JD000000000000000000000Z/identifiers/wechat/wx_rm',
    ]) {
      expect((await api.request('DELETE', path(store, url))).statusCode, url).toBe(404);
    }
    expect((await api.get(`/customers/${c.id}`)).json().version).toBe(c.version + 2);
  });
});

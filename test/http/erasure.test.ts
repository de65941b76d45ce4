import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';
import { dumpDatabase } from '../helpers/dump.js';

/**
 * Erasure forgets: after DELETE …/customers/{id}, nothing of the person is left in the
 * database (its whole dump), and suppression refuses its identifiers through every API
 * until lifted.
 */
let t: TestApp;
let store: TestStore;
let api: StoreClient;

beforeAll(async () => {
  t = await startTestApp(undefined, { imports: { idleMs: 20 } });
  t.clientele.imports.startWorking();
  store = await t.createStore();
  api = t.as(store);
});
afterAll(() => t.close());

const erase = (client: StoreClient, s: TestStore, id: string) =>
  client.request('DELETE', `/v1/stores/${s.id}/customers/${id}`);

describe('erasure', () => {
  it(`leaves none of the person in the database (${onPostgres ? 'pg_dump' : 'every row of every table'})`, async () => {
    const person = {
      email: 'wilhelmina.zork@example.com',
      phoneNumbers: ['+14155550171', '+14155550172'],
      firstName: 'Wilhelmina',
      lastName: 'Zorkowski',
      externalId: 'EXT-ZORK-7731',
      identifiers: [{ type: 'wechat', value: 'wx_zorkowski' }],
      customFields: { nickname: 'Quetzalcoatlina', tier: 'gold' },
      metadata: { note: 'prefers-orchids-and-kumquats' },
    };
    const secrets = [
      'wilhelmina.zork@example.com',
      '+14155550171',
      '+14155550172',
      '4155550171',
      'Wilhelmina',
      'Zorkowski',
      'EXT-ZORK-7731',
      'wx_zorkowski',
      'Quetzalcoatlina',
      'prefers-orchids-and-kumquats',
      'Hieronymus',
      'duplicate.zork@example.org',
    ];
    // Another customer shares the tier: that option stays.
    expect(
      (await api.upsert({ email: 'other@example.com', customFields: { tier: 'gold' } })).statusCode,
    ).toBe(201);
    const segment = await api.request('POST', `/v1/stores/${store.id}/segments`, {
      name: 'gold',
      filter: { field: 'customFields.tier', op: 'eq', value: 'gold' },
    });
    expect(segment.statusCode, segment.body).toBe(201);
    // Written with an Idempotency-Key: its stored answer names the person.
    const created = await api.upsert(person, { 'idempotency-key': 'zork-create-1' });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().customer.id as string;
    // Updates, and a duplicate merged into it: the history and the merged row hold them too.
    expect((await api.upsert({ id, firstName: 'Hieronymus' })).statusCode).toBe(200);
    expect((await api.upsert({ id, firstName: 'Wilhelmina' })).statusCode).toBe(200);
    const settings = await t.admin('PATCH', `/v1/stores/${store.id}`, {
      settings: { identityConflict: 'merge' },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    const dup = await api.upsert({ email: 'duplicate.zork@example.org', description: 'dup' });
    expect(dup.statusCode).toBe(201);
    const merged = await api.upsert({
      externalId: 'EXT-ZORK-7731',
      email: 'duplicate.zork@example.org',
    });
    expect(merged.statusCode, merged.body).toBe(200);
    expect(merged.json().customer.id).toBe(id);

    const before = await dumpDatabase(t.database, t.clientele);
    for (const s of secrets) expect(before, s).toContain(s);

    const res = await erase(api, store, id);
    expect(res.statusCode, res.body).toBe(204);
    expect((await api.get(`/customers/${id}`)).statusCode).toBe(404);
    expect((await api.get(`/customers/${dup.json().customer.id}`)).statusCode).toBe(404);

    const after = await dumpDatabase(t.database, t.clientele);
    for (const s of secrets) expect(after.includes(s), `${s} is still in the database`).toBe(false);
    // What is not the person's stays: the other customer, the shared option, the field names.
    expect(after).toContain('other@example.com');
    const tier = (await api.get('/custom-fields/tier/options')).json();
    expect(tier.options).toEqual(['gold']);
    const nickname = (await api.get('/custom-fields/nickname/options')).json();
    expect(nickname.options).toEqual([]);
    // The idempotent replay no longer answers with the person: the key runs afresh, refused.
    const replay = await api.upsert(person, { 'idempotency-key': 'zork-create-1' });
    expect(replay.statusCode, replay.body).toBe(422);
    expect(replay.json().code).toBe('customer_suppressed');
    expect(replay.body).not.toContain(id);
    // Its segment lost it.
    const members = (await api.get(`/segments/${segment.json().id}`)).json();
    expect(members.count).toBe(1);
  });

  it('unknown id: 404', async () => {
    const res = await erase(api, store, 'cust_01JD0000000000000000000000');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('customer_not_found');
  });
});

describe('suppression', () => {
  let s: TestStore;
  let c: StoreClient;
  beforeAll(async () => {
    s = await t.createStore('suppressing');
    c = t.as(s);
    const made = await c.upsert({
      email: 'Gone.Person@Example.com',
      phoneNumbers: ['+442071838750'],
      externalId: 'gone-1',
      identifiers: [{ type: 'loyaltyCard', value: 'LC-998877' }],
    });
    expect(made.statusCode).toBe(201);
    expect((await erase(c, s, made.json().customer.id)).statusCode).toBe(204);
  });

  it('refuses a write naming any erased identifier, normalised, with 422 naming the field', async () => {
    const cases: [object, string][] = [
      [{ email: 'gone.person@example.com' }, '/email'],
      [{ email: 'GONE.PERSON@EXAMPLE.COM', firstName: 'X' }, '/email'],
      [{ phoneNumbers: ['+442071838750'] }, '/phoneNumbers'],
      [{ phoneNumber: '+442071838750', email: 'new@example.com' }, '/phoneNumbers'],
      [{ externalId: 'gone-1' }, '/externalId'],
      [{ identifiers: [{ type: 'loyaltyCard', value: 'LC-998877' }] }, '/identifiers/loyaltyCard'],
      [{ email: 'fresh@example.com', externalId: 'gone-1' }, '/externalId'],
    ];
    for (const [body, path] of cases) {
      const res = await c.upsert(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      const problem = res.json();
      expect(problem.code).toBe('customer_suppressed');
      expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    // Nobody was created by any of them.
    expect((await c.get('/customers?email=fresh@example.com')).statusCode).toBe(404);
  });

  it('refuses them in a batch of concurrent upserts too, and lets the rest through', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        c.upsert(
          i % 3 === 0 ? { externalId: 'gone-1', metadata: { i } } : { email: `b${i}@example.com` },
        ),
      ),
    );
    for (const [i, res] of answers.entries()) {
      expect(res.statusCode, res.body).toBe(i % 3 === 0 ? 422 : 201);
    }
  });

  it('an erasure racing upserts of the person: each upsert updated them before, or was refused after; nothing half-erased', async () => {
    // A store of its own: its suppressions are not the ones listed below.
    const s = await t.createStore('racing');
    const c = t.as(s);
    const person = { email: 'racing.person@example.com', phoneNumbers: ['+442071838751'] };
    const made = await c.upsert(person);
    expect(made.statusCode).toBe(201);
    const id = made.json().customer.id as string;
    const upserts = Array.from({ length: 16 }, (_, i) =>
      c.upsert(i % 2 === 0 ? { ...person, metadata: { i } } : { phoneNumber: '+442071838751' }),
    );
    const [erased, ...answers] = await Promise.all([erase(c, s, id), ...upserts]);
    expect(erased.statusCode).toBe(204);
    for (const res of answers) {
      expect([200, 422], res.body).toContain(res.statusCode);
      if (res.statusCode === 200) expect(res.json().customer.id).toBe(id);
      else expect(res.json().code).toBe('customer_suppressed');
    }
    // No customer holds the person's values, and the erased one is gone whole.
    expect((await c.get('/customers?email=racing.person@example.com')).statusCode).toBe(404);
    expect((await c.get('/customers?phone=%2B442071838751')).statusCode).toBe(404);
    const left = await c.get(`/customers/${id}`);
    expect(left.statusCode).toBe(404);
    // And afterwards every write naming them is refused.
    expect((await c.upsert(person)).statusCode).toBe(422);
  });

  it('refuses them through a dialect (Voucherify: its 400, naming its field)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/compat/voucherify/v1/customers',
      headers: { 'x-app-id': s.id, 'x-app-token': s.apiKey },
      payload: { source_id: 'gone-1' },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().details).toBe(
      '/source_id: belongs to an erased customer and is suppressed; lift the suppression to use it',
    );
  });

  it('refuses them in an import, row by row', async () => {
    const rows = [{ email: 'imported@example.com' }, { externalId: 'gone-1', firstName: 'Back' }];
    const posted = await t.app.inject({
      method: 'POST',
      url: `/v1/stores/${s.id}/imports`,
      headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/x-ndjson' },
      payload: `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`,
    });
    expect(posted.statusCode, posted.body).toBe(202);
    let job = posted.json();
    for (let i = 0; i < 2000 && !['completed', 'failed'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 20));
      job = (await c.get(`/imports/${job.id}`)).json();
    }
    expect(job.status).toBe('completed');
    const errors = (await c.get(`/imports/${job.id}/errors`)).json().data;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ row: 2, code: 'customer_suppressed' });
    expect((await c.get('/customers?email=imported@example.com')).statusCode).toBe(200);
  });

  it('lists hashes only, lifts one by identifier, then accepts it again', async () => {
    const list = await c.get('/suppressions?limit=10');
    expect(list.statusCode).toBe(200);
    const data = list.json().data as { kind: string; hash: string }[];
    expect(data.map((d) => d.kind).sort()).toEqual(['email', 'externalId', 'loyaltyCard', 'phone']);
    for (const d of data) expect(d.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const value of ['gone.person', '442071838750', 'gone-1', 'LC-998877']) {
      expect(list.body).not.toContain(value);
    }
    const page = await c.get('/suppressions?limit=3');
    expect(page.json().data).toHaveLength(3);
    const rest = await c.get(`/suppressions?limit=3&cursor=${page.json().nextCursor}`);
    expect(rest.json().data).toHaveLength(1);

    const lift = await c.request(
      'DELETE',
      `/v1/stores/${s.id}/suppressions?email=GONE.Person%40example.com`,
    );
    expect(lift.statusCode, lift.body).toBe(204);
    expect(
      (await c.request('DELETE', `/v1/stores/${s.id}/suppressions?email=gone.person%40example.com`))
        .statusCode,
    ).toBe(404);
    const back = await c.upsert({ email: 'gone.person@example.com' });
    expect(back.statusCode, back.body).toBe(201);
    // The other identifiers stay suppressed.
    expect((await c.upsert({ externalId: 'gone-1' })).statusCode).toBe(422);
    const liftId = await c.request(
      'DELETE',
      `/v1/stores/${s.id}/suppressions?identifier=loyaltyCard:LC-998877`,
    );
    expect(liftId.statusCode).toBe(204);
  });

  it('lift: a bad identifier is a 400 naming it', async () => {
    const bad = await c.request('DELETE', `/v1/stores/${s.id}/suppressions?email=not-an-email`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/query/email');
    const none = await c.request('DELETE', `/v1/stores/${s.id}/suppressions`);
    expect(none.statusCode).toBe(400);
    expect(none.json().errors[0].path).toBe('/query');
    const two = await c.request(
      'DELETE',
      `/v1/stores/${s.id}/suppressions?email=a%40b.com&externalId=x`,
    );
    expect(two.statusCode).toBe(400);
    const cursor = await c.get('/suppressions?cursor=bm9wZQ');
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().errors[0].path).toBe('/query/cursor');
  });

  it('is per store: another store accepts the identifier, and cannot see the list', async () => {
    const other = await t.createStore('other');
    const o = t.as(other);
    expect((await o.upsert({ externalId: 'gone-1' })).statusCode).toBe(201);
    expect((await o.get('/suppressions')).json().data).toEqual([]);
    const cross = await o.request('GET', `/v1/stores/${s.id}/suppressions`);
    expect(cross.statusCode).toBe(404);
    const crossLift = await o.request(
      'DELETE',
      `/v1/stores/${s.id}/suppressions?externalId=gone-1`,
    );
    expect(crossLift.statusCode).toBe(404);
    expect((await c.upsert({ externalId: 'gone-1' })).statusCode).toBe(422);
  });

  it('the store setting turns it off for later erasures; a bad value is named', async () => {
    const off = await t.createStore('no suppression');
    const bad = await t.admin('PATCH', `/v1/stores/${off.id}`, { settings: { suppression: 'no' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0]).toEqual({
      path: '/settings/suppression',
      message: 'must be true or false',
    });
    const ok = await t.admin('PATCH', `/v1/stores/${off.id}`, { settings: { suppression: false } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().settings.suppression).toBe(false);
    const o = t.as(off);
    const made = await o.upsert({ email: 'comes.back@example.com' });
    expect((await erase(o, off, made.json().customer.id)).statusCode).toBe(204);
    expect((await o.get('/suppressions')).json().data).toEqual([]);
    const again = await o.upsert({ email: 'comes.back@example.com' });
    expect(again.statusCode).toBe(201);
    expect(again.json().customer.id).not.toBe(made.json().customer.id);
  });

  it('needs no key for reading, but a key: no key is 401', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/stores/${s.id}/suppressions` });
    expect(res.statusCode).toBe(401);
  });
});

describe('export of one customer', () => {
  it('holds the profile, identifiers, typed custom fields, merges, segments and history', async () => {
    const s = await t.createStore('export');
    const c = t.as(s);
    await t.admin('PATCH', `/v1/stores/${s.id}`, { settings: { identityConflict: 'merge' } });
    const made = await c.upsert({
      email: 'ex.port@example.com',
      identifiers: [{ type: 'wechat', value: 'wx_export' }],
      customFields: { points: 12, tier: 'gold' },
    });
    const seg = await c.request('POST', `/v1/stores/${s.id}/segments`, {
      name: 'points',
      filter: { field: 'customFields.points', op: 'gte', value: 10 },
    });
    expect(seg.statusCode, seg.body).toBe(201);
    const dup = await c.upsert({ externalId: 'EXP-2' });
    // The external id is the stronger identifier: its holder absorbs the other.
    const merged = await c.upsert({ email: 'ex.port@example.com', externalId: 'EXP-2' });
    const id = merged.json().customer.id as string;
    expect(id).toBe(dup.json().customer.id);
    const absorbed = made.json().customer.id as string;
    const res = await c.get(`/customers/${id}/export`);
    expect(res.statusCode, res.body).toBe(200);
    const doc = res.json();
    expect(doc).toMatchObject({
      format: 'clientele.customer-export/1',
      storeId: s.id,
      customer: { id, email: 'ex.port@example.com', externalId: 'EXP-2' },
      merged: [{ id: absorbed }],
      segments: [{ id: seg.json().id, name: 'points' }],
    });
    expect(doc.identifiers).toEqual([
      { kind: 'externalId', value: 'EXP-2', suppressed: false },
      { kind: 'email', value: 'ex.port@example.com', suppressed: false },
      { kind: 'wechat', value: 'wx_export', suppressed: false },
    ]);
    expect(doc.customFields).toEqual([
      { name: 'points', type: 'NUMBER', value: 12 },
      { name: 'tier', type: 'STRING', value: 'gold' },
    ]);
    // Its own history and the merged customer's, oldest first.
    const types = doc.history.map((e: { customerId: string; type: string }) => [
      e.customerId === id,
      e.type,
    ]);
    expect(types).toContainEqual([true, 'created']);
    expect(types).toContainEqual([false, 'created']);
    expect(types).toContainEqual([true, 'merged']);
    // The merged id exports the customer it went into.
    const viaMerged = (await c.get(`/customers/${absorbed}/export`)).json();
    expect(viaMerged.customer.id).toBe(id);

    // Another store's key: 404; unknown: 404; erased: 404.
    const other = t.as(await t.createStore('other export'));
    expect(
      (await other.request('GET', `/v1/stores/${s.id}/customers/${id}/export`)).statusCode,
    ).toBe(404);
    expect((await c.get('/customers/cust_01JD0000000000000000000000/export')).json().code).toBe(
      'customer_not_found',
    );
    expect((await erase(c, s, id)).statusCode).toBe(204);
    expect((await c.get(`/customers/${id}/export`)).statusCode).toBe(404);
  });
});

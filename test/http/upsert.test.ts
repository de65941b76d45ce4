import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
let api: StoreClient;
let n = 0;
/** An email no other test uses. */
const email = () => `person${++n}@example.com`;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  api = t.as(store);
});
afterAll(() => t.close());

const events = async (customerId: string) =>
  (await api.get(`/customers/${customerId}/events`)).json().data;

describe('upsert: create, update, unchanged', () => {
  it('creates with 201, then updates with 200, then reports unchanged', async () => {
    const address = email();
    const created = await api.upsert({ email: address, firstName: 'Jane', lastName: 'Doe' });
    expect(created.statusCode).toBe(201);
    const c = created.json();
    expect(c).toMatchObject({ result: 'created', matchedBy: null, warnings: [] });
    expect(c.customer).toMatchObject({
      email: address,
      displayName: 'Jane Doe',
      version: 1,
      storeId: store.id,
      active: true,
    });
    expect(c.customer.id).toMatch(/^cust_[0-9A-Z]{26}$/);

    const updated = await api.upsert({ email: address, lastName: 'Smith' });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ result: 'updated', matchedBy: 'email' });
    expect(updated.json().customer).toMatchObject({
      id: c.customer.id,
      firstName: 'Jane',
      displayName: 'Jane Smith',
      version: 2,
    });

    const same = await api.upsert({ email: address, lastName: 'Smith' });
    expect(same.statusCode).toBe(200);
    expect(same.json().result).toBe('unchanged');
    expect(same.json().customer.version).toBe(2);
    expect(same.json().customer.updatedAt).toBe(updated.json().customer.updatedAt);
    expect((await events(c.customer.id)).map((e: { type: string }) => e.type)).toEqual([
      'updated',
      'created',
    ]);
  });

  it('normalises email: trimmed and lower-cased, and found that way', async () => {
    const res = await api.upsert({ email: '  MiXeD.Case@Example.COM ' });
    expect(res.json().customer.email).toBe('mixed.case@example.com');
    const again = await api.upsert({ email: 'mixed.case@example.com', firstName: 'M' });
    expect(again.json()).toMatchObject({ result: 'updated', matchedBy: 'email' });
  });

  it('appends each new phone number and finds the customer by any of them', async () => {
    const first = await api.upsert({ phoneNumber: '+12025550101' });
    const id = first.json().customer.id;
    const second = await api.upsert({
      phoneNumber: '+12025550101',
      phoneNumbers: ['+447911123456'],
    });
    expect(second.json().customer.phoneNumbers).toEqual(['+12025550101', '+447911123456']);
    const byNew = await api.upsert({ phoneNumber: '+447911123456', firstName: 'P' });
    expect(byNew.json()).toMatchObject({ result: 'updated', matchedBy: 'phone', customer: { id } });
  });

  it('merges location part by part; null clears one part', async () => {
    const address = email();
    await api.upsert({
      email: address,
      location: { city: 'Boston', region: 'MA', countryCode: 'us' },
    });
    const res = await api.upsert({
      email: address,
      location: { postalCode: '02110', region: null },
    });
    expect(res.json().customer.location).toEqual({
      street1: null,
      street2: null,
      city: 'Boston',
      region: null,
      regionCode: null,
      postalCode: '02110',
      country: null,
      countryCode: 'US',
      latitude: null,
      longitude: null,
      timezone: null,
    });
  });

  it('merges metadata key by key; null removes a key', async () => {
    const address = email();
    await api.upsert({ email: address, metadata: { lang: 'en', plan: 'pro' } });
    const res = await api.upsert({ email: address, metadata: { lang: null, seen: 3 } });
    expect(res.json().customer.metadata).toEqual({ plan: 'pro', seen: 3 });
  });

  it('sets birthdate, description and active, and clears with null', async () => {
    const address = email();
    const res = await api.upsert({
      email: address,
      birthdate: '1990-01-31',
      description: 'VIP',
      active: false,
    });
    expect(res.json().customer).toMatchObject({
      birthdate: '1990-01-31',
      description: 'VIP',
      active: false,
    });
    const cleared = await api.upsert({ email: address, birthdate: null, description: null });
    expect(cleared.json().customer).toMatchObject({
      birthdate: null,
      description: null,
      active: false,
    });
  });
});

describe('upsert: identity', () => {
  it('requires at least one identifier', async () => {
    const res = await api.upsert({ firstName: 'Nobody' });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('identifier_required');
  });

  it('finds by id, externalId and typed identifiers, and names the strongest match', async () => {
    const created = (
      await api.upsert({ externalId: 'EXT-1', identifiers: [{ type: 'wechat', value: 'wx_1' }] })
    ).json();
    const id = created.customer.id;
    expect((await api.upsert({ id, firstName: 'A' })).json()).toMatchObject({
      matchedBy: 'id',
      customer: { id },
    });
    expect((await api.upsert({ externalId: 'EXT-1', firstName: 'B' })).json()).toMatchObject({
      matchedBy: 'externalId',
    });
    const typed = await api.upsert({
      identifiers: [{ type: 'wechat', value: 'wx_1' }],
      firstName: 'C',
    });
    expect(typed.json()).toMatchObject({
      matchedBy: 'identifier',
      customer: { id, firstName: 'C' },
    });
    const both = await api.upsert({
      id,
      externalId: 'EXT-1',
      identifiers: [{ type: 'wechat', value: 'wx_1' }],
      firstName: 'D',
    });
    expect(both.json().matchedBy).toBe('id');
  });

  it('answers 404 for an unknown id', async () => {
    const res = await api.upsert({ id: 'cust_01JD0000000000000000000000', firstName: 'X' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('customer_not_found');
  });

  it('gives new identifiers to the customer found; a changed email replaces the old one', async () => {
    const old = email();
    const id = (await api.upsert({ externalId: 'EXT-2', email: old })).json().customer.id;
    const next = email();
    const res = await api.upsert({
      externalId: 'EXT-2',
      email: next,
      identifiers: [{ type: 'fbId', value: 'fb-2' }],
    });
    expect(res.json()).toMatchObject({ result: 'updated', customer: { id, email: next } });
    expect((await api.get(`/customers?email=${old}`)).statusCode).toBe(404);
    expect((await api.get(`/customers?email=${next}`)).json().id).toBe(id);
    expect((await api.get('/customers?identifier=fbId:fb-2')).json().id).toBe(id);
    // The old address is free again: it now makes a new customer.
    expect((await api.upsert({ email: old })).statusCode).toBe(201);
  });

  it('a changed externalId replaces the old one', async () => {
    const id = (await api.upsert({ externalId: 'EXT-OLD', email: email() })).json().customer.id;
    await api.upsert({ id, externalId: 'EXT-NEW' });
    expect((await api.get('/customers?externalId=EXT-OLD')).statusCode).toBe(404);
    expect((await api.get('/customers?externalId=EXT-NEW')).json().id).toBe(id);
  });

  it('rejects identifiers held by two customers with 409 naming who holds what, and writes nothing', async () => {
    const a = (await api.upsert({ email: email(), firstName: 'A' })).json().customer;
    const b = (await api.upsert({ phoneNumber: '+12025550102', firstName: 'B' })).json().customer;
    const res = await api.upsert({
      email: a.email,
      phoneNumber: '+12025550102',
      lastName: 'Clash',
    });
    expect(res.statusCode).toBe(409);
    const body = res.json();
    expect(body.code).toBe('identity_conflict');
    expect(body.conflicts).toEqual(
      expect.arrayContaining([
        { identifier: 'email', value: a.email, customerId: a.id },
        { identifier: 'phone', value: '+12025550102', customerId: b.id },
      ]),
    );
    expect((await api.get(`/customers/${a.id}`)).json()).toMatchObject({
      lastName: null,
      version: 1,
    });
    expect((await api.get(`/customers/${b.id}`)).json()).toMatchObject({
      lastName: null,
      version: 1,
    });
  });

  it('refuses typed identifiers that shadow a first-class one, and bad type names', async () => {
    const res = await api.upsert({
      identifiers: [
        { type: 'email', value: 'x@example.com' },
        { type: '9lives', value: 'x' },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual([
      '/identifiers/0/type',
      '/identifiers/1/type',
    ]);
  });
});

describe('upsert: identity conflicts merged', () => {
  it('merges into the customer found by the strongest identifier and records the merge', async () => {
    const mergeStore = await t.createStore();
    await t.admin('PATCH', `/v1/stores/${mergeStore.id}`, {
      settings: { identityConflict: 'merge' },
    });
    const m = t.as(mergeStore);
    const byEmail = (
      await m.upsert({ email: 'merge@example.com', customFields: { tier: 'gold' } })
    ).json().customer;
    const byPhone = (
      await m.upsert({
        phoneNumber: '+12025550103',
        firstName: 'Phil',
        customFields: { tier: 'silver', visits: 3 },
      })
    ).json().customer;
    const byExternal = (await m.upsert({ externalId: 'MERGE-1', lastName: 'Ext' })).json().customer;

    const res = await m.upsert({
      email: 'merge@example.com',
      phoneNumber: '+12025550103',
      externalId: 'MERGE-1',
    });
    expect(res.statusCode).toBe(200);
    const merged = res.json();
    expect(merged).toMatchObject({ result: 'updated', matchedBy: 'externalId' });
    expect(merged.customer).toMatchObject({
      id: byExternal.id,
      email: 'merge@example.com',
      phoneNumbers: ['+12025550103'],
      firstName: 'Phil',
      lastName: 'Ext',
      customFields: { tier: 'gold', visits: 3 },
    });
    // The merged-away ids say they were merged, into whom and by which merge; lists
    // show one customer.
    for (const away of [byEmail, byPhone]) {
      const read = await m.get(`/customers/${away.id}`);
      expect(read.statusCode).toBe(307);
      expect(read.headers.location).toBe(`/v1/stores/${mergeStore.id}/customers/${byExternal.id}`);
      expect(read.json()).toMatchObject({ id: away.id, mergedInto: byExternal.id });
      expect(read.json().mergeId).toMatch(/^mrg_/);
    }
    expect((await m.get('/customers')).json().data).toHaveLength(1);
    const history = await (await m.get(`/customers/${byExternal.id}/events`)).json().data;
    expect(
      history
        .filter((e: { type: string }) => e.type === 'merged')
        .map((e: { changes: { mergedFrom: string } }) => e.changes.mergedFrom)
        .sort(),
    ).toEqual([byEmail.id, byPhone.id].sort());
  });
});

describe('upsert: custom fields', () => {
  it('declares a field from its first value and holds its type', async () => {
    const address = email();
    const res = await api.upsert({
      email: address,
      customFields: {
        loyalty_points: 1250,
        vip_member: true,
        signup_date: '2026-02-24T12:15:00+02:00',
        favourite: 'tea',
      },
    });
    expect(res.json().customer.customFields).toEqual({
      loyalty_points: 1250,
      vip_member: true,
      signup_date: '2026-02-24T10:15:00.000Z',
      favourite: 'tea',
    });
    const fields = (await api.get('/custom-fields')).json().data;
    expect(fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'loyalty_points', type: 'NUMBER' }),
        expect.objectContaining({ name: 'vip_member', type: 'BOOLEAN' }),
        expect.objectContaining({ name: 'signup_date', type: 'DATE' }),
        expect.objectContaining({ name: 'favourite', type: 'STRING', optionCount: 1 }),
      ]),
    );

    const mismatch = await api.upsert({
      email: address,
      customFields: { favourite: 'coffee', loyalty_points: 'lots' },
    });
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json()).toMatchObject({
      code: 'custom_field_type_mismatch',
      errors: [
        {
          path: '/customFields/loyalty_points',
          message: "field 'loyalty_points' is NUMBER; got a string",
        },
      ],
    });
    // Nothing of the refused request was written.
    expect((await api.get(`/customers?email=${address}`)).json().customFields.favourite).toBe(
      'tea',
    );

    const date = await api.upsert({ email: address, customFields: { signup_date: 'tomorrow' } });
    expect(date.statusCode).toBe(422);
    expect(date.json().errors[0].message).toBe("field 'signup_date' is DATE; got a string");
  });

  it('refuses bad field names and clears with null', async () => {
    const address = email();
    const bad = await api.upsert({
      email: address,
      customFields: { '1st': 1, 'has space': 2, ok_name: 3 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual([
      '/customFields/1st',
      '/customFields/has space',
    ]);
    await api.upsert({ email: address, customFields: { ok_name: 3, other_num: 4 } });
    const cleared = await api.upsert({ email: address, customFields: { ok_name: null } });
    expect(cleared.json().customer.customFields).toEqual({ other_num: 4 });
  });

  it('a refused request declares nothing', async () => {
    const res = await api.upsert({
      email: email(),
      customFields: { never_declared: 'x', loyalty_points: false },
    });
    expect(res.statusCode).toBe(422);
    const names = (await api.get('/custom-fields'))
      .json()
      .data.map((f: { name: string }) => f.name);
    expect(names).not.toContain('never_declared');
  });

  it('tracks STRING values as options, up to the per-field cap', async () => {
    const capped = await t.createStore();
    await t.admin('PATCH', `/v1/stores/${capped.id}`, { settings: { customFieldOptionsLimit: 3 } });
    const c = t.as(capped);
    for (const [i, colour] of ['red', 'green', 'blue', 'red', 'black', 'white'].entries()) {
      expect(
        (await c.upsert({ email: `c${i}@example.com`, customFields: { colour, size: i } }))
          .statusCode,
      ).toBe(201);
    }
    const options = (await c.get('/custom-fields/colour/options')).json();
    expect(options).toEqual({
      field: 'colour',
      type: 'STRING',
      options: ['blue', 'green', 'red'],
      optionsTruncated: true,
    });
    expect((await c.get('/custom-fields/colour/options?prefix=gr')).json().options).toEqual([
      'green',
    ]);
    expect((await c.get('/custom-fields/colour/options?limit=1')).json().options).toEqual(['blue']);
    const declared = (await c.get('/custom-fields')).json().data;
    expect(declared.find((f: { name: string }) => f.name === 'colour')).toMatchObject({
      optionCount: 3,
      optionsTruncated: true,
    });
    expect(declared.find((f: { name: string }) => f.name === 'size')).toMatchObject({
      type: 'NUMBER',
      optionCount: 0,
    });
    expect((await c.get('/custom-fields/nope/options')).statusCode).toBe(404);
  });
});

describe('upsert: bad input', () => {
  it('refuses unknown and read-only keys by name', async () => {
    const res = await api.upsert({
      email: email(),
      nickname: 'x',
      version: 9,
      createdAt: 'now',
      storeId: 'sto_x',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: '/nickname', message: 'is not a field of this object' },
        { path: '/version', message: 'is read-only and cannot be written' },
        { path: '/createdAt', message: 'is read-only and cannot be written' },
        { path: '/storeId', message: 'is read-only and cannot be written' },
      ]),
    );
    expect(body.requestId).toMatch(/^req_/);
  });

  it.each([
    [{ email: 'not-an-email' }, '/email'],
    [{ email: 'a@example.com', phoneNumber: '2025550143' }, '/phoneNumber'],
    [{ email: 'a@example.com', phoneNumber: '+1234567890' }, '/phoneNumber'],
    [{ email: 'a@example.com', phoneNumbers: ['+12025550143', '+999'] }, '/phoneNumbers/1'],
    [{ email: 'a@example.com', birthdate: '1990-02-30' }, '/birthdate'],
    [{ email: 'a@example.com', active: 'yes' }, '/active'],
    [{ email: 'a@example.com', location: { latitude: 123 } }, '/location/latitude'],
    [{ email: 'a@example.com', location: { timezone: 'Mars/Olympus' } }, '/location/timezone'],
    [{ email: 'a@example.com', location: { planet: 'Mars' } }, '/location/planet'],
    [{ email: 'a@example.com', firstName: 42 }, '/firstName'],
    [{ email: 'a@example.com', customFields: { x: [1] } }, '/customFields/x'],
    [{ email: 'a@example.com', customFields: { x: 'y'.repeat(2049) } }, '/customFields/x'],
    [{ externalId: '   ' }, '/externalId'],
  ])('refuses %j naming %s, and writes nothing', async (body, path) => {
    const before = (await api.get('/customers?limit=100')).json().data.length;
    const res = await api.upsert(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    expect((await api.get('/customers?limit=100')).json().data.length).toBe(before);
  });

  it('answers malformed JSON with 400', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/stores/${store.id}/customers`,
      headers: { authorization: `Bearer ${store.apiKey}`, 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('malformed_json');
  });

  it('answers a body over 1 MiB with 413', async () => {
    const res = await api.upsert({ email: email(), description: 'x'.repeat(1024 * 1024) });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('payload_too_large');
  });
});

describe('upsert: limits', () => {
  it('300 custom fields per request', async () => {
    const fields = Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`f${i}`, i]));
    const res = await api.upsert({ email: email(), customFields: fields });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      code: 'limit_exceeded',
      errors: [{ path: '/customFields' }],
    });
    expect(res.json().errors[0].message).toContain('300');
  });

  it('1,000 custom field declarations per store', async () => {
    const s = await t.createStore();
    const c = t.as(s);
    for (let batch = 0; batch < 3; batch++) {
      const fields = Object.fromEntries(
        Array.from({ length: 300 }, (_, i) => [`b${batch}_${i}`, i]),
      );
      expect(
        (await c.upsert({ email: `d${batch}@example.com`, customFields: fields })).statusCode,
      ).toBe(201);
    }
    const fits = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`last_${i}`, i]));
    expect((await c.upsert({ email: 'fits@example.com', customFields: fits })).statusCode).toBe(
      201,
    );
    const res = await c.upsert({ email: 'over@example.com', customFields: { one_too_many: 1 } });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain('1000 custom fields');
    expect((await c.get('/custom-fields')).json().data).toHaveLength(1000);
  });

  it('50 phone numbers and 50 typed identifiers per customer', async () => {
    const address = email();
    const phones = Array.from(
      { length: 50 },
      (_, i) => `+1202555${String(1000 + i).padStart(4, '0')}`,
    );
    expect((await api.upsert({ email: address, phoneNumbers: phones })).statusCode).toBe(201);
    const over = await api.upsert({ email: address, phoneNumber: '+12025552000' });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({
      code: 'limit_exceeded',
      errors: [{ path: '/phoneNumbers' }],
    });

    const ids = Array.from({ length: 50 }, (_, i) => ({
      type: 'loyaltyCard',
      value: `LC-${address}-${i}`,
    }));
    expect((await api.upsert({ email: address, identifiers: ids })).statusCode).toBe(200);
    const more = await api.upsert({
      email: address,
      identifiers: [{ type: 'loyaltyCard', value: 'one-more' }],
    });
    expect(more.statusCode).toBe(422);
    expect(more.json().errors[0].path).toBe('/identifiers');
  });

  it('16 KiB of metadata', async () => {
    const address = email();
    expect(
      (await api.upsert({ email: address, metadata: { a: 'x'.repeat(10_000) } })).statusCode,
    ).toBe(201);
    const res = await api.upsert({ email: address, metadata: { b: 'y'.repeat(10_000) } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'limit_exceeded', errors: [{ path: '/metadata' }] });
  });
});

describe('upsert: conditional writes', () => {
  it('applies an If-Match write only at the current version', async () => {
    const c = (await api.upsert({ email: email() })).json().customer;
    const stale = await api.upsert({ id: c.id, firstName: 'Late' }, { 'if-match': '"7"' });
    expect(stale.statusCode).toBe(412);
    expect((await api.get(`/customers/${c.id}`)).json().firstName).toBeNull();
    const fresh = await api.upsert(
      { id: c.id, firstName: 'OnTime' },
      { 'if-match': `"${c.version}"` },
    );
    expect(fresh.statusCode).toBe(200);
    expect(fresh.headers.etag).toBe('"2"');
    const noId = await api.upsert({ email: c.email }, { 'if-match': '"2"' });
    expect(noId.statusCode).toBe(400);
  });
});

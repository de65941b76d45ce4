import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startWithTwoStores, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * Inputs built to break things: none may get a 5xx, and each bad one gets a 4xx that
 * names the field and the rule, having changed nothing.
 */

let t: TestApp;
let store: TestStore;
let other: TestStore;
const redoId = '64e5a8a1af49a89df37e4ee7';
const yotpoKey = 'yotpo-app-key-hostile';

beforeAll(async () => {
  ({ t, store, other } = await startWithTwoStores({
    aliases: { redo: redoId, yotpo: yotpoKey, voucherify: 'vf-hostile' },
  }));
});
afterAll(() => t.close());

const native = () => t.as(store);

/** Every customer of the store, as the API lists them: what "nothing changed" compares. */
const everyone = async () => (await native().get('/customers?limit=100')).json().data;

/** Names every plain object inherits: a record keyed by a client's names must not see them. */
const inherited = {
  constructor: 'built',
  toString: 'text',
  hasOwnProperty: 3,
  valueOf: true,
  isPrototypeOf: '2026-01-02T03:04:05Z',
};

describe('names that Object.prototype has, as custom fields and metadata keys', () => {
  it('are ordinary names in the native API: declared, stored, read back, in the history', async () => {
    const email = 'proto@example.com';
    const created = await native().upsert({
      email,
      customFields: inherited,
      metadata: { constructor: { a: 1 }, toString: 'x' },
    });
    expect(created.statusCode).toBe(201);
    const { customer } = created.json();
    expect(customer.customFields).toEqual({
      ...inherited,
      isPrototypeOf: '2026-01-02T03:04:05.000Z',
    });
    expect(customer.metadata).toEqual({ constructor: { a: 1 }, toString: 'x' });

    // Declared with the types their first values gave.
    const fields = (await native().get('/custom-fields')).json().data;
    expect(
      Object.fromEntries(fields.map((f: { name: string; type: string }) => [f.name, f.type])),
    ).toEqual({
      constructor: 'STRING',
      toString: 'STRING',
      hasOwnProperty: 'NUMBER',
      valueOf: 'BOOLEAN',
      isPrototypeOf: 'DATE',
    });

    // The same again changes nothing (the batched path this time: all are declared).
    const again = await native().upsert({ email, customFields: inherited });
    expect(again.statusCode).toBe(200);
    expect(again.json().result).toBe('unchanged');

    // A type is held like any field's; a change is recorded from the value before.
    const mismatch = await native().upsert({ email, customFields: { hasOwnProperty: 'three' } });
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().errors[0].path).toBe('/customFields/hasOwnProperty');
    const changed = await native().upsert({
      email,
      customFields: { constructor: 'rebuilt', toString: null },
      metadata: { valueOf: 1 },
    });
    expect(changed.statusCode).toBe(200);
    const [latest, first] = (await native().get(`/customers/${customer.id}/events`)).json().data;
    expect(latest.changes).toEqual({
      'customFields.constructor': { before: 'built', after: 'rebuilt' },
      'customFields.toString': { before: 'text', after: null },
      'metadata.valueOf': { before: null, after: 1 },
    });
    expect(first.changes['metadata.constructor']).toEqual({ before: null, after: { a: 1 } });
    expect(first.changes['customFields.valueOf']).toEqual({ before: null, after: true });

    const read = (await native().get(`/customers/${customer.id}`)).json();
    expect(read.customFields).toEqual({
      constructor: 'rebuilt',
      hasOwnProperty: 3,
      valueOf: true,
      isPrototypeOf: '2026-01-02T03:04:05.000Z',
    });
    expect(read.metadata).toEqual({ constructor: { a: 1 }, toString: 'x', valueOf: 1 });
  });

  it('are ordinary names in Redo', async () => {
    const put = (customFields: Record<string, unknown>) =>
      t.app.inject({
        method: 'PUT',
        url: `/compat/redo/v2.2/stores/${redoId}/customers`,
        headers: { authorization: `Bearer ${store.apiKey}` },
        payload: { email: 'redo-proto@example.com', customFields },
      });
    const created = await put({ constructor: 'redo', toString: 'r', valueOf: false });
    expect(created.statusCode).toBe(201);
    expect((await put({ constructor: 'redo', toString: 'r', valueOf: false })).statusCode).toBe(
      200,
    );
    const read = await t.app.inject({
      method: 'GET',
      url: `/compat/redo/v2.2/stores/${redoId}/customers?email=redo-proto%40example.com`,
      headers: { authorization: `Bearer ${store.apiKey}` },
    });
    expect(read.statusCode).toBe(200);
    expect(read.json().customFields).toEqual({
      constructor: 'redo',
      toString: 'r',
      valueOf: false,
    });
  });

  it('are ordinary names in Yotpo', async () => {
    const patch = (custom_properties: Record<string, unknown>) =>
      t.app.inject({
        method: 'PATCH',
        url: `/compat/yotpo/core/v3/stores/${yotpoKey}/customers`,
        headers: { 'x-yotpo-token': store.apiKey },
        payload: { customer: { external_id: 'yotpo-proto', custom_properties } },
      });
    expect((await patch({ constructor: 'y', hasOwnProperty: 7 })).statusCode).toBe(200);
    expect((await patch({ constructor: 'y2', toString: 'z' })).statusCode).toBe(200);
    const list = await t.app.inject({
      method: 'GET',
      url: `/compat/yotpo/core/v3/stores/${yotpoKey}/customers?external_ids=yotpo-proto`,
      headers: { 'x-yotpo-token': store.apiKey },
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().customers[0].custom_properties).toEqual({
      constructor: 'y2',
      hasOwnProperty: 7,
      toString: 'z',
    });
  });

  it('are not extended fields unless the store enabled them (Capillary)', async () => {
    const auth = `Basic ${Buffer.from(`${store.id}:${store.apiKey}`).toString('base64')}`;
    await native().upsert({ email: 'cap-proto@example.com' });
    const res = await t.app.inject({
      method: 'PUT',
      url: '/compat/capillary/v2/customers/lookup?identifierName=email&identifierValue=cap-proto%40example.com&source=INSTORE',
      headers: { authorization: auth },
      payload: { extendedFields: { constructor: 'x' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].message).toBe(
      '/extendedFields/constructor: is not an extended field enabled for this store',
    );
  });
});

describe('NUL and lone surrogates, anywhere in a request', () => {
  const raw = (method: string, url: string, payload: string, headers = {}) =>
    t.app.inject({
      method: method as 'POST',
      url,
      headers: {
        authorization: `Bearer ${store.apiKey}`,
        'content-type': 'application/json',
        ...headers,
      },
      payload,
    });
  const customers = () => `/v1/stores/${store.id}/customers`;

  it('answers 400 naming the body field (a JSON Pointer), writing nothing', async () => {
    const before = await everyone();
    for (const [payload, path, rule] of [
      ['{"email":"n@example.com","firstName":"a\\u0000b"}', '/firstName', 'NUL'],
      ['{"email":"n@example.com","firstName":"a\\ud800b"}', '/firstName', 'surrogate'],
      ['{"email":"n@example.com","lastName":"\\udc00"}', '/lastName', 'surrogate'],
      [
        '{"email":"n@example.com","metadata":{"a/b":{"c":["ok","\\u0000"]}}}',
        '/metadata/a~1b/c/1',
        'NUL',
      ],
      [
        '{"email":"n@example.com","customFields":{"tier":"gold\\u0000"}}',
        '/customFields/tier',
        'NUL',
      ],
      // A bad key is named by the object that holds it, not echoed back.
      ['{"email":"n@example.com","metadata":{"k\\u0000":1}}', '/metadata', 'NUL'],
      ['{"email":"n@example.com","x\\ud800":1}', '', 'surrogate'],
    ] as const) {
      const res = await raw('POST', customers(), payload);
      expect(res.statusCode, payload).toBe(400);
      const problem = res.json();
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors).toHaveLength(1);
      expect(problem.errors[0].path, payload).toBe(path);
      expect(problem.errors[0].message).toContain(rule);
    }
    expect(await everyone()).toEqual(before);
    // A surrogate pair is a character, and is stored as one.
    const pair = await raw(
      'POST',
      customers(),
      '{"email":"pair@example.com","firstName":"\\ud83d\\ude00"}',
    );
    expect(pair.statusCode).toBe(201);
    expect(pair.json().customer.firstName).toBe('😀');
  });

  it('answers 400 naming the query parameter or the path parameter', async () => {
    const get = (url: string) => native().request('GET', `/v1/stores/${store.id}${url}`);
    for (const [url, path] of [
      ['/customers?email=a%00b%40example.com', '/query/email'],
      ['/customers?externalId=%00', '/query/externalId'],
      ['/customers?cursor=%00', '/query/cursor'],
      ['/customers/cust_%00', '/path/customerId'],
      ['/custom-fields/tier%00/options', '/path/name'],
      ['/custom-fields/tier/options?prefix=%00', '/query/prefix'],
    ] as const) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors[0].path, url).toBe(path);
    }
    const res = await native().request('GET', `/v1/stores/${store.id}%00/customers`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('/path/storeId');
  });

  it('answers 400 in the admin API, changing no store', async () => {
    const admin = (method: string, url: string, payload?: string) =>
      t.app.inject({
        method: method as 'POST',
        url,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { payload }),
      });
    const before = (await t.admin('GET', `/v1/stores/${store.id}`)).json();
    for (const [method, url, payload, path] of [
      ['POST', '/v1/stores', '{"name":"shop\\u0000"}', '/name'],
      ['PATCH', `/v1/stores/${store.id}`, '{"name":"\\ud800"}', '/name'],
      [
        'PATCH',
        `/v1/stores/${store.id}`,
        '{"settings":{"aliases":{"redo":"r\\u0000"}}}',
        '/settings/aliases/redo',
      ],
      ['GET', `/v1/stores/sto_%00`, undefined, '/path/storeId'],
      ['DELETE', `/v1/stores/${store.id}/api-keys/key_%00`, undefined, '/path/keyId'],
    ] as const) {
      const res = await admin(method, url, payload);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors[0].path, url).toBe(path);
    }
    expect((await t.admin('GET', `/v1/stores/${store.id}`)).json()).toEqual(before);
  });

  it('answers 400 naming the header or query parameter a dialect reads credentials from', async () => {
    const voucherify = await t.app.inject({
      method: 'GET',
      url: '/compat/voucherify/v1/customers/x',
      headers: { 'x-app-id': 'vf-hostile\u0000', 'x-app-token': store.apiKey },
    });
    expect(voucherify.statusCode).toBe(400);
    expect(voucherify.json().details).toContain('/header/x-app-id');

    const cheqpay = await t.app.inject({
      method: 'GET',
      url: '/compat/cheqpay/customers/x',
      headers: { 'x-api-key': `${store.apiKey}\u0000`, 'x-merchant-id': store.id },
    });
    expect(cheqpay.statusCode).toBe(400);
    expect(cheqpay.json().error.details[0].field).toBe('header.x-api-key');

    const yotpo = await t.app.inject({
      method: 'GET',
      url: `/compat/yotpo/core/v3/stores/${yotpoKey}/customers?access_token=%00`,
    });
    expect(yotpo.statusCode).toBe(400);
    expect(yotpo.json().status.message).toContain('/query/access_token');

    // Capillary's Basic credentials: the header is clean, what it encodes is not.
    const capillary = await t.app.inject({
      method: 'GET',
      url: '/compat/capillary/v2/customers/lookup?identifierName=email&identifierValue=a%40b.co&source=INSTORE',
      headers: {
        authorization: `Basic ${Buffer.from(`${store.id}\u0000:${store.apiKey}`).toString('base64')}`,
      },
    });
    expect(capillary.statusCode).toBe(400);
    expect(capillary.json().errors[0].message).toContain('/header/authorization');

    const redo = await t.app.inject({
      method: 'PUT',
      url: `/compat/redo/v2.2/stores/${redoId}/customers`,
      headers: { authorization: `Bearer ${store.apiKey}` },
      payload: { email: 'redo-nul@example.com', firstName: 'R\u0000' },
    });
    expect(redo.statusCode).toBe(400);
    expect(redo.json().detail).toContain('/firstName');
    const found = await native().get('/customers?email=redo-nul%40example.com');
    expect(found.statusCode).toBe(404);
  });
});

describe('answers that were wrong', () => {
  it('answers an id too long to exist with 404 as a problem, in each API its own shape', async () => {
    const long = 'c'.repeat(200);
    const get = await native().get(`/customers/${long}`);
    expect(get.statusCode).toBe(404);
    expect(get.headers['content-type']).toContain('application/problem+json');
    expect(get.json().code).toBe('customer_not_found');
    expect((await native().get(`/customers/cust_${'x'.repeat(5000)}/events`)).json().code).toBe(
      'customer_not_found',
    );
    const store404 = await t.admin('GET', `/v1/stores/${long}`);
    expect(store404.statusCode).toBe(404);
    expect(store404.json().code).toBe('store_not_found');
    const keyOfNoStore = await t.admin('POST', `/v1/stores/${long}/api-keys`);
    expect(keyOfNoStore.statusCode).toBe(404);
    expect(keyOfNoStore.json().code).toBe('store_not_found');
    const voucherify = await t.app.inject({
      method: 'GET',
      url: `/compat/voucherify/v1/customers/${long}`,
      headers: { 'x-app-id': 'vf-hostile', 'x-app-token': store.apiKey },
    });
    expect(voucherify.statusCode).toBe(404);
    expect(voucherify.json()).toMatchObject({ key: 'not_found', resource_type: 'customer' });
  });

  it('answers a path that is not percent-encoded UTF-8 with 400 as a problem', async () => {
    const res = await native().get('/customers/%E0%A4%A');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: '/path' }] });
  });

  it('answers a method a path does not take with 405 and Allow, as a problem', async () => {
    const res = await native().request('DELETE', `/v1/stores/${store.id}/customers`);
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 405, code: 'method_not_allowed' });
    expect(res.json().errors[0].path).toBe('/method');

    const admin = await t.admin('PUT', '/v1/stores');
    expect(admin.statusCode).toBe(405);
    expect(admin.headers.allow).toBe('GET, HEAD, POST');

    // In a dialect's own shape, with the same Allow.
    const redo = await t.app.inject({
      method: 'DELETE',
      url: `/compat/redo/v2.2/stores/${redoId}/customers`,
      headers: { authorization: `Bearer ${store.apiKey}` },
    });
    expect(redo.statusCode).toBe(405);
    expect(redo.headers.allow).toBe('GET, HEAD, PUT');
    expect(redo.json()).toMatchObject({ title: 'Method Not Allowed' });

    // A path no route has is still 404.
    const none = await native().request('DELETE', `/v1/stores/${store.id}/nothing-here`);
    expect(none.statusCode).toBe(404);
    expect(none.headers.allow).toBeUndefined();
    expect(none.json().code).toBe('not_found');
    expect(await everyone()).not.toHaveLength(0);
  });

  describe('If-Match', () => {
    let id: string;
    let version: number;
    beforeAll(async () => {
      const res = await native().upsert({ email: 'if-match@example.com', firstName: 'One' });
      ({ id, version } = res.json().customer);
    });
    const write = (ifMatch: string, firstName: string) =>
      native().upsert({ id, firstName }, { 'if-match': ifMatch });
    const current = async () => (await native().get(`/customers/${id}`)).json();

    it('"*" matches the customer the id names, whatever its version', async () => {
      const res = await write('*', 'Star');
      expect(res.statusCode).toBe(200);
      expect(res.json().customer.firstName).toBe('Star');
      version = res.json().customer.version;
      const none = await native().upsert(
        { id: 'cust_nobody', firstName: 'X' },
        { 'if-match': '*' },
      );
      expect(none.statusCode).toBe(404);
    });

    it('compares strongly: a weak tag never matches, even of the current version (412)', async () => {
      const before = await current();
      const res = await write(`W/"${version}"`, 'Weak');
      expect(res.statusCode).toBe(412);
      expect(res.json().code).toBe('precondition_failed');
      expect(res.json().errors[0].path).toBe('/header/if-match');
      expect(await current()).toEqual(before);
      // A list matches when one of its strong tags does.
      const listed = await write(`W/"${version}", "${version + 7}", "${version}"`, 'Listed');
      expect(listed.statusCode).toBe(200);
      version = listed.json().customer.version;
    });

    it('refuses a header that is no list of entity tags (400 naming it), changing nothing', async () => {
      const before = await current();
      for (const bad of ['"1', '1"', `"${version}" "${version}"`, 'W/', 'abc', '"1",,']) {
        const res = await write(bad, 'Bad');
        expect(res.statusCode, bad).toBe(400);
        expect(res.json().code).toBe('validation_failed');
        expect(res.json().errors[0].path).toBe('/header/if-match');
      }
      expect(await current()).toEqual(before);
    });
  });

  it('refuses a look-up whose value cannot be valid (400 naming the expected form)', async () => {
    const phone = '+14155550123';
    await native().upsert({ email: 'lookup@example.com', phoneNumber: phone });
    for (const [query, path, form] of [
      ['phone=abc', '/query/phone', 'E.164'],
      ['phone=14155550123', '/query/phone', 'E.164'],
      [`phone=${phone}`, '/query/phone', '%2B'],
      ['email=notanemail', '/query/email', 'email address'],
      ['email=a%40b', '/query/email', 'email address'],
    ] as const) {
      const res = await native().get(`/customers?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors[0].path).toBe(path);
      expect(res.json().errors[0].message, query).toContain(form);
    }
    expect((await native().get(`/customers?phone=${encodeURIComponent(phone)}`)).statusCode).toBe(
      200,
    );
    expect((await native().get('/customers?email=nobody%40example.com')).statusCode).toBe(404);
  });

  it('names the part of the request in every error path: /query, /path, /header, or the body', async () => {
    const path = async (res: Promise<{ json(): { errors: { path: string }[] } }>) =>
      (await res).json().errors[0]?.path;
    expect(await path(native().get('/customers?limit=abc'))).toBe('/query/limit');
    expect(await path(native().get('/customers?colour=red'))).toBe('/query/colour');
    expect(await path(native().get('/customers?cursor=bogus'))).toBe('/query/cursor');
    expect(await path(native().get('/custom-fields/x/options?limit=0'))).toBe('/query/limit');
    expect(
      await path(
        native().upsert({ email: 'h@example.com' }, { 'idempotency-key': 'k'.repeat(256) }),
      ),
    ).toBe('/header/idempotency-key');
    expect(await path(native().upsert({ email: 'nope' }))).toBe('/email');
  });

  it("answers another store's path exactly as a store that does not exist", async () => {
    const asOther = (storeId: string) =>
      t.app.inject({
        method: 'GET',
        url: `/v1/stores/${storeId}/customers`,
        headers: { authorization: `Bearer ${other.apiKey}` },
      });
    const someoneElses = await asOther(store.id);
    const nobodys = await asOther('sto_01AAAAAAAAAAAAAAAAAAAAAAAA');
    for (const res of [someoneElses, nobodys]) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({
        code: 'store_not_found',
        detail: 'No store with this id is visible to this key.',
        errors: [
          { path: '/path/storeId', message: 'no store with this id is visible to this key' },
        ],
      });
    }
    const withoutId = (body: string) => body.replace(/"requestId":"[^"]+"/, '');
    expect(withoutId(someoneElses.body)).toBe(withoutId(nobodys.body));
    expect(someoneElses.headers['content-type']).toBe(nobodys.headers['content-type']);
  });
});

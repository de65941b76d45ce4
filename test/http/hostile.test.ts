import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithTwoStores, type TestApp, type TestStore } from '../helpers/app.js';

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

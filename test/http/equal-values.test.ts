import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * Equal values are equal: one phone number or one email address, however it is written,
 * finds one customer (docs/api.md, "Equal values are equal").
 */
let t: TestApp;
let store: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  const res = await t.admin('PATCH', `/v1/stores/${store.id}`, {
    settings: { aliases: { cheqpay: `m-${store.id}` } },
  });
  expect(res.statusCode).toBe(200);
});
afterAll(() => t.close());

const upsert = (body: unknown) => t.as(store).upsert(body);
const find = (query: string) => t.as(store).get(`/customers?${query}`);

describe('phone numbers in their canonical E.164', () => {
  it('takes a national trunk zero after the country code as the same number', async () => {
    const first = await upsert({ phoneNumber: '+447911123456' });
    expect(first.statusCode).toBe(201);
    const second = await upsert({ phoneNumber: '+4407911123456', firstName: 'Sam' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({
      result: 'updated',
      matchedBy: 'phone',
      customer: { id: first.json().customer.id, phoneNumbers: ['+447911123456'] },
    });
    const found = await find(`phone=${encodeURIComponent('+4407911123456')}`);
    expect(found.json().id).toBe(first.json().customer.id);
  });

  it('stores the canonical form whichever form comes first, through a lenient dialect too', async () => {
    const res = await upsert({ phoneNumbers: ['+4407911123460', '+447911123460'] });
    expect(res.json().customer.phoneNumbers).toEqual(['+447911123460']);
    const cheqpay = await t.app.inject({
      method: 'POST',
      url: '/compat/cheqpay/customers/add-update',
      headers: { 'x-api-key': store.apiKey, 'x-merchant-id': `m-${store.id}` },
      payload: { externalId: 'cq-1', firstName: 'Cy', phoneNumber: '+4407911123461' },
    });
    expect(cheqpay.statusCode).toBe(200);
    expect(cheqpay.json().phoneNumber).toBe('+447911123461');
    // A number of the E.164 form that no plan has is still taken as written there.
    const loose = await t.app.inject({
      method: 'POST',
      url: '/compat/cheqpay/customers/add-update',
      headers: { 'x-api-key': store.apiKey, 'x-merchant-id': `m-${store.id}` },
      payload: { externalId: 'cq-2', firstName: 'Di', phoneNumber: '+19332223333' },
    });
    expect(loose.json().phoneNumber).toBe('+19332223333');
  });
});

describe('email addresses in one form', () => {
  it('takes composed and decomposed accents, any case and full-width letters as one address', async () => {
    const first = await upsert({ email: 'Jos\u00e9@Example.com' });
    expect(first.statusCode).toBe(201);
    expect(first.json().customer.email).toBe('jos\u00e9@example.com');
    for (const email of [
      'jose\u0301@example.com',
      'JOSE\u0301@EXAMPLE.COM',
      'ｊｏｓé@ｅｘａｍｐｌｅ.ｃｏｍ',
    ]) {
      const res = await upsert({ email, lastName: email });
      expect(res.statusCode, email).toBe(200);
      expect(res.json().customer.id, email).toBe(first.json().customer.id);
      expect(res.json().customer.email).toBe('jos\u00e9@example.com');
    }
    const found = await find(`email=${encodeURIComponent('jose\u0301@EXAMPLE.com')}`);
    expect(found.json().id).toBe(first.json().customer.id);
  });

  it('compares an IDN domain in its Unicode form, however it is written', async () => {
    const first = await upsert({ email: 'ann@xn--mnchen-3ya.de' });
    expect(first.json().customer.email).toBe('ann@münchen.de');
    const second = await upsert({ email: 'ann@MÜNCHEN.de' });
    expect(second.json()).toMatchObject({
      result: 'unchanged',
      customer: { id: first.json().customer.id },
    });
  });

  it('refuses an address with an invisible character, naming the field, and writes nothing', async () => {
    for (const [email, code] of [
      ['bea\u200b@example.com', '200B'],
      ['bea@exam\u00adple.com', '00AD'],
      ['\u2060bea@example.com', '2060'],
      ['bea\ufeff@example.com', 'FEFF'],
    ] as const) {
      const res = await upsert({ email, firstName: 'Bea' });
      expect(res.statusCode, email).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'validation_failed',
        errors: [
          {
            path: '/email',
            message: `must not contain invisible or control characters (found U+${code})`,
          },
        ],
      });
    }
    expect((await find('email=bea%40example.com')).statusCode).toBe(404);
  });
});

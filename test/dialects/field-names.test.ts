import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * A dialect's errors name the field as its platform's body does, whichever rule refused it
 * (the dialect's schema or the core's rules), never the native name behind it.
 */

let t: TestApp;
let store: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
});
afterAll(() => t.close());

const inject = (method: string, url: string, headers: Record<string, string>, body: object) =>
  t.app.inject({ method: method as 'POST', url, headers, payload: body });

const voucherify = (body: object) =>
  inject(
    'POST',
    '/compat/voucherify/v1/customers',
    { 'x-app-id': store.id, 'x-app-token': store.apiKey },
    body,
  );
const redo = (body: object) =>
  inject(
    'PUT',
    `/compat/redo/v2.2/stores/${store.id}/customers`,
    { authorization: `Bearer ${store.apiKey}` },
    body,
  );
const yotpo = (customer: object) =>
  inject(
    'PATCH',
    `/compat/yotpo/core/v3/stores/${store.id}/customers`,
    { 'x-yotpo-token': store.apiKey },
    { customer },
  );
const cheqpay = (body: object) =>
  inject(
    'POST',
    '/compat/cheqpay/customers/add-update',
    { 'x-api-key': store.apiKey, 'x-merchant-id': store.id },
    body,
  );

describe("a dialect's errors name its platform's fields", () => {
  it('Voucherify: phone and source_id', async () => {
    for (const [body, field] of [
      [{ phone: '+1 (555)' }, '/phone'],
      [{ source_id: '   ' }, '/source_id'],
    ] as const) {
      const res = await voucherify(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().details).toMatch(new RegExp(`^${field}: `));
      expect(res.json().message).toMatch(new RegExp(`^${field}: `));
    }
    await voucherify({ source_id: 'vf-holder', phone: '+1 202 555 0101' });
    const taken = await voucherify({ phone: '+1 202 555 0101' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().details).toMatch(/^\/phone: /);
  });

  it('Redo: a taken phone is phoneNumber, a bad time zone location/ianaTimeZoneName', async () => {
    await redo({ email: 'redo-holder@example.com', phoneNumber: '+12025550102' });
    const taken = await redo({ email: 'redo-taker@example.com', phoneNumber: '+12025550102' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().detail).toMatch(/^\/phoneNumber: /);
    const zone = await redo({
      email: 'redo-zone@example.com',
      location: { ianaTimeZoneName: 'Mars/Olympus', state: 'Washington' },
    });
    expect(zone.statusCode).toBe(400);
    expect(zone.json().detail).toMatch(/^\/location\/ianaTimeZoneName: /);
    expect(zone.json().detail).not.toMatch(/timezone/);
  });

  it('Yotpo: names under customer, as its body nests them', async () => {
    for (const [customer, field] of [
      [{ email: 'not-an-email' }, '/customer/email'],
      [{ external_id: 'y-1', phone_number: '+1 555' }, '/customer/phone_number'],
      [{ external_id: 'y-2', address: { country_code: '1Z' } }, '/customer/address/country_code'],
    ] as const) {
      const res = await yotpo(customer);
      expect(res.statusCode).toBe(400);
      expect(res.json().status.message).toMatch(new RegExp(`^${field}: `));
    }
    // Its list pages with page_info, which is what a bad one is called.
    const page = await t.app.inject({
      method: 'GET',
      url: `/compat/yotpo/core/v3/stores/${store.id}/customers?page_info=not-a-cursor`,
      headers: { 'x-yotpo-token': store.apiKey },
    });
    expect(page.statusCode).toBe(400);
    expect(page.json().status.message).toMatch(/^\/query\/page_info: /);
  });

  it('a look-up no customer can match is a 400 in every API, naming its own parameter', async () => {
    const get = (url: string, headers: Record<string, string>) =>
      t.app.inject({ method: 'GET', url, headers });
    const native = await get(`/v1/stores/${store.id}/customers?email=notanemail`, {
      authorization: `Bearer ${store.apiKey}`,
    });
    expect(native.statusCode).toBe(400);
    expect(native.json().errors[0].path).toBe('/query/email');
    const viaRedo = await get(`/compat/redo/v2.2/stores/${store.id}/customers?email=notanemail`, {
      authorization: `Bearer ${store.apiKey}`,
    });
    expect(viaRedo.statusCode).toBe(400);
    expect(viaRedo.body).toContain('/query/email');
    const basic = Buffer.from(`${store.id}:${store.apiKey}`).toString('base64');
    const viaCapillary = await get(
      '/compat/capillary/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=notanemail',
      { authorization: `Basic ${basic}` },
    );
    expect(viaCapillary.statusCode).toBe(400);
    expect(viaCapillary.body).toContain('/query/identifierValue');
  });

  it('Cheqpay: a taken phone is phoneNumber in details', async () => {
    await cheqpay({ externalId: 'c-1', firstName: 'A', phoneNumber: '+12025550103' });
    const taken = await cheqpay({ externalId: 'c-2', firstName: 'B', phoneNumber: '+12025550103' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.details).toEqual([
      { field: 'phoneNumber', message: expect.any(String) },
    ]);
  });

  it('Capillary: a bad number is a mobile', async () => {
    await redo({ email: 'cap@example.com' });
    const res = await t.app.inject({
      method: 'PUT',
      url: '/compat/capillary/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=cap@example.com',
      headers: {
        authorization: `Basic ${Buffer.from(`${store.id}:${store.apiKey}`).toString('base64')}`,
      },
      payload: { profiles: [{ identifiers: [{ type: 'mobile', value: '12' }] }] },
    });
    expect(res.statusCode).toBe(400);
    const { message } = res.json().errors[0];
    expect(message).toMatch(/^\/mobile\/0: /);
  });
});

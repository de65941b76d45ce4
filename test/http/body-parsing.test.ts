import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
});
afterAll(() => t.close());

const send = (method: string, url: string, payload: string, contentType?: string) =>
  t.app.inject({
    method: method as 'POST',
    url,
    headers: {
      authorization: `Bearer ${store.apiKey}`,
      ...(contentType === undefined ? {} : { 'content-type': contentType }),
    },
    payload,
  });
const upsert = (payload: string, contentType = 'application/json') =>
  send('POST', `/v1/stores/${store.id}/customers`, payload, contentType);

describe('body parsing', () => {
  it('takes an empty body with a JSON Content-Type as no body (a DELETE as SDKs send it)', async () => {
    const created = (await upsert('{"email":"empty-delete@example.com"}')).json().customer;
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/compat/voucherify/v1/customers/${created.id}`,
      headers: {
        'x-app-id': store.id,
        'x-app-token': store.apiKey,
        'content-type': 'application/json',
      },
      payload: '',
    });
    expect(res.statusCode).toBe(204);
    expect((await t.as(store).get(`/customers/${created.id}`)).statusCode).toBe(404);
  });

  it('still refuses an empty body where the route needs one: 400 naming the body', async () => {
    const res = await upsert('');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: '' }] });
  });

  it.each([
    'text/plain',
    'text/plain; charset=utf-8',
    'application/x-www-form-urlencoded',
    'application/xml',
  ])(
    'answers a JSON body sent as %s with 415 unsupported_media_type, writing nothing',
    async (type) => {
      const res = await upsert('{"email":"wrong-type@example.com"}', type);
      expect(res.statusCode).toBe(415);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 415, code: 'unsupported_media_type' });
      expect((await t.as(store).get('/customers?email=wrong-type%40example.com')).statusCode).toBe(
        404,
      );
    },
  );

  it('answers 415 in a dialect’s own shape too', async () => {
    const res = await send(
      'PUT',
      `/compat/redo/v2.2/stores/${store.id}/customers`,
      '{"email":"redo-type@example.com"}',
      'text/plain',
    );
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ type: 'about:blank', title: 'Unsupported Media Type' });
  });

  it.each([
    ['{"email":"big@example.com","customFields":{"points":1e309}}', '/customFields/points'],
    ['{"email":"big@example.com","metadata":{"a":[1,-1e400]}}', '/metadata/a/1'],
    ['{"email":"big@example.com","location":{"latitude":2e308}}', '/location/latitude'],
    ['1e309', ''],
  ])('refuses %s, a number too large for a double, naming %j', async (payload, path) => {
    const res = await upsert(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
    expect(res.json().errors).toEqual([{ path, message: expect.stringMatching(/too large/) }]);
    expect((await t.as(store).get('/customers?email=big%40example.com')).statusCode).toBe(404);
  });

  it('keeps the largest double and the smallest ones as numbers', async () => {
    const res = await upsert(
      '{"email":"edge@example.com","customFields":{"max":1.7976931348623157e308,"tiny":5e-324}}',
    );
    expect(res.statusCode).toBe(201);
    expect(res.json().customer.customFields).toEqual({ max: 1.7976931348623157e308, tiny: 5e-324 });
  });
});

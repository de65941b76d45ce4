import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { ADMIN_TOKEN, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
});
afterAll(() => t.close());

describe('rate limits', () => {
  it('answers 429 with Retry-After and RateLimit headers past the per-key limit; other keys go on', async () => {
    const app = await buildApp({ clientele: t.clientele, adminToken: ADMIN_TOKEN, rateLimit: 5 });
    const other = await t.createStore();
    const get = (key: string) =>
      app.inject({
        method: 'GET',
        url: `/v1/stores/${key === store.apiKey ? store.id : other.id}/customers`,
        headers: { authorization: `Bearer ${key}` },
      });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await get(store.apiKey);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) limited ??= res;
      else expect(res.headers['ratelimit-limit']).toBe('5');
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(limited!.headers['retry-after']).toBeDefined();
    expect(limited!.headers['ratelimit-remaining']).toBe('0');
    expect(limited!.headers['content-type']).toContain('application/problem+json');
    expect(limited!.json().code).toBe('rate_limited');

    // A noisy key does not starve another.
    expect((await get(other.apiKey)).statusCode).toBe(200);
    // Operations endpoints are never limited.
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    await app.close();
  });

  it('answers 429 in the dialect’s own shape', async () => {
    const app = await buildApp({ clientele: t.clientele, rateLimit: 1 });
    const send = () =>
      app.inject({
        method: 'GET',
        url: '/compat/cheqpay/customers/none',
        headers: { 'x-api-key': store.apiKey, 'x-merchant-id': store.id },
      });
    await send();
    const res = await send();
    expect(res.statusCode).toBe(429);
    expect(res.json().error.code).toBe('RATE_LIMITED');
    expect(res.headers['retry-after']).toBeDefined();
    await app.close();
  });
});

describe('hostile JSON', () => {
  const raw = (payload: string) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/stores/${store.id}/customers`,
      headers: { authorization: `Bearer ${store.apiKey}`, 'content-type': 'application/json' },
      payload,
    });

  it('refuses __proto__ and constructor.prototype keys anywhere, polluting nothing', async () => {
    for (const [payload, path] of [
      ['{"email":"p@example.com","__proto__":{"polluted":true}}', '/__proto__'],
      [
        '{"email":"p@example.com","metadata":{"__proto__":{"polluted":true}}}',
        '/metadata/__proto__',
      ],
      [
        '{"email":"p@example.com","metadata":{"a":{"constructor":{"prototype":{"polluted":true}}}}}',
        '/metadata/a/constructor',
      ],
      // The pointer escapes ~ and / (RFC 6901).
      [
        '{"email":"p@example.com","metadata":{"a/b~c":{"__proto__":1}}}',
        '/metadata/a~1b~0c/__proto__',
      ],
    ]) {
      const res = await raw(payload!);
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().errors[0]).toEqual({ path, message: 'is not an allowed key' });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await t.as(store).get('/customers?email=p%40example.com')).statusCode).toBe(404);
  });

  it('takes a plain "constructor" metadata key as data', async () => {
    const res = await raw('{"email":"c@example.com","metadata":{"constructor":"Acme Ltd"}}');
    expect(res.statusCode).toBe(201);
    expect(res.json().customer.metadata).toEqual({ constructor: 'Acme Ltd' });
  });

  it('caps nesting depth', async () => {
    let deep = '1';
    for (let i = 0; i < 40; i++) deep = `{"a":${deep}}`;
    const res = await raw(`{"email":"d@example.com","metadata":${deep}}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toEqual({
      path: `/metadata${'/a'.repeat(31)}`,
      message: 'nests deeper than 32 levels',
    });
    let veryDeep = '1';
    for (let i = 0; i < 100_000; i++) veryDeep = `[${veryDeep}]`;
    expect((await raw(`{"email":"d@example.com","metadata":{"x":${veryDeep}}}`)).statusCode).toBe(
      400,
    );
  });

  it('refuses bodies that are not JSON objects where one is expected', async () => {
    for (const payload of ['[]', '"text"', '42', 'null', '']) {
      const res = await raw(payload);
      expect(res.statusCode, payload).toBe(400);
    }
  });
});

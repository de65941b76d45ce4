import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { bucketFor } from '../../src/http/plugins/rate-limit.js';
import { ADMIN_TOKEN, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * One key, one limit: a key counts in one bucket however its credential is written
 * (any spelling of Bearer, any header a dialect reads, an access token exchanged for
 * it), and requests without a valid credential count by client address, junk
 * credentials included.
 */
let t: TestApp;
let store: TestStore;
let other: TestStore;
let accessToken: string;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  other = await t.createStore();
  const exchange = await t.app.inject({
    method: 'POST',
    url: `/compat/yotpo/core/v3/stores/${store.id}/access_tokens`,
    payload: { secret: store.apiKey },
  });
  accessToken = exchange.json().access_token;
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await t.close();
});

async function limitedApp(perSecond: number): Promise<FastifyInstance> {
  const app = await buildApp({
    clientele: t.clientele,
    adminToken: ADMIN_TOKEN,
    rateLimit: perSecond,
  });
  apps.push(app);
  return app;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** One key's credential, written each way the native API and the dialects take it. */
function spellings(s: TestStore, token: string) {
  const native = (authorization: string) => ({
    method: 'GET' as const,
    url: `/v1/stores/${s.id}/customers?limit=1`,
    headers: { authorization },
  });
  return [
    native(`Bearer ${s.apiKey}`),
    native(`bearer ${s.apiKey}`),
    native(`BEARER   ${s.apiKey}`),
    native(`Bearer\t${s.apiKey}  `),
    {
      method: 'GET' as const,
      url: '/compat/cheqpay/customers/none',
      headers: { 'x-api-key': s.apiKey, 'x-merchant-id': s.id },
    },
    {
      method: 'GET' as const,
      url: '/compat/voucherify/v1/customers?limit=1',
      headers: { 'x-app-id': s.id, 'x-app-token': s.apiKey },
    },
    {
      method: 'GET' as const,
      url: '/compat/capillary/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=none%40example.com',
      headers: { authorization: basic(s.id, s.apiKey) },
    },
    {
      method: 'GET' as const,
      url: `/compat/yotpo/core/v3/stores/${s.id}/customers?external_ids=none&access_token=${token}`,
      headers: {},
    },
  ];
}

describe('rate limits: one key, one limit', () => {
  // Requests are sent together: a bucket lasts a second, which a busy machine can spend
  // between requests sent one after another.
  it('counts eight spellings of one key in one bucket; another key goes on', async () => {
    const requests = spellings(store, accessToken);
    expect(requests).toHaveLength(8);
    // Each spelling authenticates as the key.
    for (const request of requests) {
      const res = await t.app.inject(request);
      expect([200, 404], `${request.url} ${res.body}`).toContain(res.statusCode);
    }
    const app = await limitedApp(2);
    const [answers, otherKey] = await Promise.all([
      Promise.all(requests.map((r) => app.inject(r))),
      app.inject({
        method: 'GET',
        url: `/v1/stores/${other.id}/customers?limit=1`,
        headers: { authorization: `Bearer ${other.apiKey}` },
      }),
    ]);
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    expect(statuses.filter((s) => s === 200 || s === 404)).toHaveLength(2);
    expect(otherKey.statusCode).toBe(200);
  });

  it('limits junk credentials by client address, whatever they are, and no one else', async () => {
    const app = await limitedApp(3);
    const from = (remoteAddress: string, headers: Record<string, string> = {}) =>
      app.inject({
        method: 'GET',
        url: `/v1/stores/${store.id}/customers`,
        headers,
        remoteAddress,
      });
    const junk = Array.from({ length: 6 }, (_, i) =>
      from(
        '203.0.113.7',
        i % 2 === 0 ? { authorization: `Bearer ck_junk${i}` } : { 'x-api-key': `junk-${i}` },
      ),
    );
    const [answers, none, elsewhere, valid] = await Promise.all([
      Promise.all(junk),
      // No credential at all counts the same way.
      from('203.0.113.7'),
      from('198.51.100.9', { authorization: 'Bearer ck_junk-elsewhere' }),
      from('203.0.113.7', { authorization: `Bearer ${store.apiKey}` }),
    ]);
    const statuses = [...answers, none].map((r) => r.statusCode).sort();
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429]);
    expect(elsewhere.statusCode).toBe(401);
    expect(valid.statusCode).toBe(200);
  });

  it('names a bucket by the key it stands for, never by a secret', async () => {
    const bucketOf = bucketFor(t.clientele, ADMIN_TOKEN);
    const app = await limitedApp(1000);
    const buckets: string[] = [];
    app.addHook('onRequest', async (request) => {
      buckets.push(await bucketOf(request));
    });
    for (const request of spellings(store, accessToken)) await app.inject(request);
    await app.inject({
      method: 'GET',
      url: '/v1/stores',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const keyId = (await t.clientele.keys.identify(store.apiKey))?.keyId;
    expect(new Set(buckets.slice(0, 8))).toEqual(new Set([`key:${keyId}`]));
    expect(buckets[8]).toBe('admin');
    for (const bucket of buckets) {
      expect(bucket).not.toContain(store.apiKey);
      expect(bucket).not.toContain(accessToken);
      expect(bucket).not.toContain(ADMIN_TOKEN);
    }
  });
});

import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * Another store's credentials, or this store's credentials naming another store, reach
 * nothing through any dialect: refused in the platform's own way, and no store changes.
 */
let t: TestApp;
let a: TestStore;
let b: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.createStore('A');
  b = await t.createStore('B');
  await t.as(a).upsert({ email: 'a@example.com', externalId: 'A-1' });
  await t.as(b).upsert({ email: 'b@example.com', externalId: 'B-1' });
});
afterAll(() => t.close());

async function fingerprint(): Promise<string> {
  const { rows } = await sql`
    SELECT store_id, count(*) AS n, sum(version) AS v FROM customers GROUP BY store_id ORDER BY store_id`.execute(
    t.clientele.db,
  );
  return JSON.stringify(rows);
}

const basic = (user: string, key: string) =>
  `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;

/** Each dialect's routes, as a caller holding `key` and naming store `tenant` would send them. */
const requests = (tenant: string, key: string): InjectOptions[] => [
  {
    method: 'PUT',
    url: `/compat/redo/v2.2/stores/${tenant}/customers`,
    headers: { authorization: `Bearer ${key}` },
    payload: { email: 'a@example.com', firstName: 'X' },
  },
  {
    method: 'GET',
    url: `/compat/redo/v2.2/stores/${tenant}/customers?email=a%40example.com`,
    headers: { authorization: `Bearer ${key}` },
  },
  {
    method: 'PATCH',
    url: `/compat/yotpo/core/v3/stores/${tenant}/customers`,
    headers: { 'x-yotpo-token': key },
    payload: { customer: { external_id: 'A-1', first_name: 'X' } },
  },
  {
    method: 'GET',
    url: `/compat/yotpo/core/v3/stores/${tenant}/customers?external_ids=A-1`,
    headers: { 'x-yotpo-token': key },
  },
  {
    method: 'POST',
    url: `/compat/yotpo/core/v3/stores/${tenant}/access_tokens`,
    headers: {},
    payload: { secret: key },
  },
  {
    method: 'PUT',
    url: '/compat/capillary/v2/customers/lookup?source=INSTORE&identifierName=externalId&identifierValue=A-1',
    headers: { authorization: basic(tenant, key) },
    payload: { profiles: [{ firstName: 'X' }] },
  },
  {
    method: 'GET',
    url: '/compat/capillary/v2/customers/lookup?source=INSTORE&identifierName=externalId&identifierValue=A-1',
    headers: { authorization: basic(tenant, key) },
  },
  {
    method: 'POST',
    url: '/compat/cheqpay/customers/add-update',
    headers: { 'x-api-key': key, 'x-merchant-id': tenant },
    payload: { externalId: 'A-1', firstName: 'X' },
  },
  {
    method: 'GET',
    url: '/compat/cheqpay/customers/A-1',
    headers: { 'x-api-key': key, 'x-merchant-id': tenant },
  },
  {
    method: 'POST',
    url: '/compat/voucherify/v1/customers',
    headers: { 'x-app-id': tenant, 'x-app-token': key },
    payload: { source_id: 'A-1', name: 'X' },
  },
  {
    method: 'PUT',
    url: '/compat/voucherify/v1/customers/A-1',
    headers: { 'x-app-id': tenant, 'x-app-token': key },
    payload: { name: 'X' },
  },
  {
    method: 'GET',
    url: '/compat/voucherify/v1/customers/A-1',
    headers: { 'x-app-id': tenant, 'x-app-token': key },
  },
  {
    method: 'DELETE',
    url: '/compat/voucherify/v1/customers/A-1',
    headers: { 'x-app-id': tenant, 'x-app-token': key },
  },
  {
    method: 'GET',
    url: '/compat/voucherify/v1/customers',
    headers: { 'x-app-id': tenant, 'x-app-token': key },
  },
];

describe('cross-store access through the dialects', () => {
  it("store B's key naming store A is refused on every dialect route, and nothing changes", async () => {
    const before = await fingerprint();
    for (const request of requests(a.id, b.apiKey)) {
      const res = await t.app.inject(request);
      expect([401, 403], `${request.method} ${request.url}`).toContain(res.statusCode);
      expect(res.body).not.toContain('a@example.com');
    }
    expect(await fingerprint()).toBe(before);
  });

  it("store B's key naming store B finds nothing of store A's", async () => {
    const before = await fingerprint();
    const reads = requests(b.id, b.apiKey).filter((r) => r.method === 'GET');
    for (const request of reads) {
      const res = await t.app.inject(request);
      expect(res.body, `${request.method} ${request.url}`).not.toContain('a@example.com');
    }
    expect(await fingerprint()).toBe(before);
  });
});

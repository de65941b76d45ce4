import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
});
afterAll(() => t.close());

describe('operations endpoints', () => {
  it('/healthz and /readyz', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: t.database.kind });
  });

  it('/metrics counts requests and upserts by result', async () => {
    const api = t.as(store);
    await api.upsert({ email: 'metrics@example.com' });
    await api.upsert({ email: 'metrics@example.com', firstName: 'M' });
    await api.upsert({ email: 'metrics@example.com', firstName: 'M' });
    const res = await t.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    for (const result of ['created', 'updated', 'unchanged']) {
      expect(text).toContain(`clientele_customer_upserts_total{api="native",result="${result}"} 1`);
    }
    expect(text).toMatch(
      /clientele_http_request_duration_seconds_count\{method="POST",route="\/v1\/stores\/:storeId\/customers",status="201"\} 1/,
    );
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('/openapi.json is OpenAPI 3.1 generated from the route schemas', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    const upsert = doc.paths['/v1/stores/{storeId}/customers'].post;
    expect(upsert.requestBody.content['application/json'].schema.properties).toHaveProperty(
      'customFields',
    );
    expect(upsert.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect(Object.keys(upsert.responses)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '404', '409', '422']),
    );
    expect(doc.paths).toHaveProperty('/v1/stores');
    expect(doc.paths).toHaveProperty('/v1/stores/{storeId}/custom-fields/{name}/options');
    expect(doc.paths).not.toHaveProperty('/metrics');
  });

  it('/docs serves the interactive reference', async () => {
    const res = await t.app.inject('/docs/');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('swagger-ui');
  });

  it('unknown routes get problem details', async () => {
    const res = await t.app.inject('/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('a 5xx says nothing of the internals', async () => {
    // A database missing a table fails deep inside the engine, with SQL in the error.
    const other = await startTestApp();
    await sql`DROP TABLE api_keys CASCADE`.execute(other.clientele.db);
    const res = await other.admin('POST', '/v1/stores', { name: 'x' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toMatch(/api_keys|relation|insert|at .*\.[jt]s/i);
    expect(res.json()).toMatchObject({ code: 'internal_error', status: 500 });
    expect(res.json().requestId).toBe(res.headers['x-request-id']);
    await other.close();
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
let api: StoreClient;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  api = t.as(store);
});
afterAll(() => t.close());

const eventsOf = async (id: string) => (await api.get(`/customers/${id}/events`)).json().data;

describe('Idempotency-Key', () => {
  it('a retry with the same key and body gets the first response and writes nothing', async () => {
    const body = { email: 'idem@example.com', customFields: { visits: 1 } };
    const first = await api.upsert(body, { 'idempotency-key': 'k-1' });
    expect(first.statusCode).toBe(201);
    // Meanwhile the customer changes through another request.
    await api.upsert({ email: 'idem@example.com', firstName: 'Changed' });
    const retry = await api.upsert(body, { 'idempotency-key': 'k-1' });
    expect(retry.statusCode).toBe(201);
    expect(retry.body).toBe(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const events = await eventsOf(first.json().customer.id);
    expect(events.map((e: { type: string }) => e.type)).toEqual(['updated', 'created']);
  });

  it('the same key with another body is 422, and writes nothing', async () => {
    await api.upsert({ email: 'reuse@example.com' }, { 'idempotency-key': 'k-2' });
    const res = await api.upsert({ email: 'other@example.com' }, { 'idempotency-key': 'k-2' });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('idempotency_key_reused');
    expect((await api.get('/customers?email=other%40example.com')).statusCode).toBe(404);
  });

  it('a retry while the first is still running is 409', async () => {
    await sql`INSERT INTO idempotency_keys (store_id, idem_key, request_hash, status) VALUES (${store.id}, 'k-3', 'x', 'running')`.execute(
      t.clientele.db,
    );
    const res = await api.upsert({ email: 'running@example.com' }, { 'idempotency-key': 'k-3' });
    // A different hash is a misuse whatever the state; the same request in flight is told to wait.
    expect(res.statusCode).toBe(422);
    const body = { email: 'running@example.com' };
    const hash = (
      await t.clientele.db
        .selectFrom('idempotency_keys')
        .select('request_hash')
        .where('idem_key', '=', 'k-1')
        .executeTakeFirstOrThrow()
    ).request_hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const { createHash } = await import('node:crypto');
    const mine = createHash('sha256')
      .update(`POST /v1/stores/${store.id}/customers\n${JSON.stringify(body)}`)
      .digest('hex');
    await sql`UPDATE idempotency_keys SET request_hash = ${mine} WHERE idem_key = 'k-3'`.execute(
      t.clientele.db,
    );
    const inFlight = await api.upsert(body, { 'idempotency-key': 'k-3' });
    expect(inFlight.statusCode).toBe(409);
    expect(inFlight.json().code).toBe('idempotency_in_progress');
    expect((await api.get('/customers?email=running%40example.com')).statusCode).toBe(404);
  });

  it('concurrent retries of one request write once', async () => {
    const body = { email: 'burst@example.com', metadata: { n: 1 } };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api.upsert(body, { 'idempotency-key': 'k-4' })),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const customer = (await api.get('/customers?email=burst%40example.com')).json();
    expect(await eventsOf(customer.id)).toHaveLength(1);
  });

  it('keys expire after 24 hours', async () => {
    await api.upsert({ email: 'old@example.com' }, { 'idempotency-key': 'k-5' });
    await sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE idem_key = 'k-5'`.execute(
      t.clientele.db,
    );
    const res = await api.upsert({ email: 'fresh@example.com' }, { 'idempotency-key': 'k-5' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  });

  it('expired keys and access tokens are purged', async () => {
    await api.upsert({ email: 'purge@example.com' }, { 'idempotency-key': 'k-purge' });
    await sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE idem_key = 'k-purge'`.execute(
      t.clientele.db,
    );
    await t.clientele.keys.createAccessToken({
      storeId: store.id,
      keyId: (await t.clientele.keys.authenticate(store.apiKey))!.keyId,
    });
    await sql`UPDATE access_tokens SET expires_at = now() - interval '1 second'`.execute(
      t.clientele.db,
    );
    expect(await t.clientele.purgeExpired()).toBeGreaterThanOrEqual(2);
    const left = await t.clientele.db
      .selectFrom('idempotency_keys')
      .select('idem_key')
      .where('idem_key', '=', 'k-purge')
      .execute();
    expect(left).toEqual([]);
    expect(await t.clientele.db.selectFrom('access_tokens').selectAll().execute()).toEqual([]);
  });

  it('keys are per store', async () => {
    const other = await t.createStore();
    const a = await api.upsert({ email: 'shared-key@example.com' }, { 'idempotency-key': 'k-6' });
    const b = await t
      .as(other)
      .upsert({ email: 'shared-key@example.com' }, { 'idempotency-key': 'k-6' });
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json().customer.id).not.toBe(a.json().customer.id);
  });

  it('a replayed error stays the same error', async () => {
    const bad = { email: 'err@example.com', customFields: { visits: 'many' } };
    const first = await api.upsert(bad, { 'idempotency-key': 'k-7' });
    expect(first.statusCode).toBe(422);
    const again = await api.upsert(bad, { 'idempotency-key': 'k-7' });
    expect(again.statusCode).toBe(422);
    expect(again.json().code).toBe(first.json().code);
    expect(again.headers['content-type']).toContain('application/problem+json');
  });

  it('holds on dialect writes too: a Voucherify create retried creates one customer', async () => {
    const headers = {
      'x-app-id': store.id,
      'x-app-token': store.apiKey,
      'idempotency-key': 'vf-1',
    };
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/compat/voucherify/v1/customers',
        headers,
        payload: { name: 'Once Only' },
      });
    const first = await send();
    const second = await send();
    expect(second.json().id).toBe(first.json().id);
    const list = await t.app.inject({
      method: 'GET',
      url: '/compat/voucherify/v1/customers?limit=100',
      headers,
    });
    expect(
      list.json().customers.filter((c: { name: string }) => c.name === 'Once Only'),
    ).toHaveLength(1);
  });

  it('holds on admin writes: a retried store creation creates one store, and keeps no key', async () => {
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/v1/stores',
        headers: {
          authorization: 'Bearer test-admin-token-0123456789',
          'idempotency-key': 'store-1',
        },
        payload: { name: 'Once' },
      });
    const first = await send();
    const second = await send();
    expect(second.json().id).toBe(first.json().id);
    expect(first.json().apiKey).toMatch(/^ck_/);
    expect(second.json().apiKey).toBeNull();
    const stored = await t.clientele.db
      .selectFrom('idempotency_keys')
      .select('response_body')
      .execute();
    expect(JSON.stringify(stored)).not.toContain(first.json().apiKey);
  });

  it('refuses an over-long key', async () => {
    const res = await api.upsert(
      { email: 'long@example.com' },
      { 'idempotency-key': 'x'.repeat(256) },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('/header/idempotency-key');
  });
});

import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { storesRead } from '../helpers/one-store.js';

/**
 * The request path reads one store (docs/scaling.md): every statement the engine sends
 * while a store's key makes a round of representative requests (writes batched and
 * alone, reads, history, the feed, segments, webhooks, imports, erasure, an access
 * token) is planned again with its own parameters, and each must scan every distributed
 * table under its store alone (helpers/one-store.ts). On Citus each is then a router
 * query. The admin API (which lists every store) and the background jobs (which read
 * across stores, store by store on Citus) are not in the round.
 */
let t: TestApp;
let store: TestStore;
let capturing = false;
const sent: { sql: string; parameters: readonly unknown[] }[] = [];

beforeAll(async () => {
  t = await startTestApp(await createTestDatabase(), {
    onQuery: (sql, parameters) => {
      if (capturing) sent.push({ sql, parameters });
    },
  });
  store = await t.createStore('one');
  await t.createStore('another');
});
afterAll(async () => {
  await t.close();
  await t.database.drop();
});

const ok = (res: LightMyRequestResponse, status = [200, 201, 202, 204]) => {
  expect(status, res.body).toContain(res.statusCode);
  return res;
};

it('sends no statement that reads two stores, or a store not named', async () => {
  const api = t.as(store);
  capturing = true;
  // Batched writes (they arrive together), and one alone (it declares a field).
  const made = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      api.upsert({ email: `c${i}@example.com`, firstName: 'C' }),
    ),
  );
  const id = ok(made[0]!).json().customer.id;
  ok(await api.upsert({ email: 'c0@example.com', customFields: { tier: 'gold', points: 5 } }));
  ok(await api.upsert({ externalId: 'x-1', email: 'c1@example.com' }));
  for (let i = 0; i < 2; i++) {
    ok(await api.upsert({ email: 'idem@example.com' }, { 'idempotency-key': 'once' }));
  }
  ok(await api.get(`/customers/${id}`));
  ok(await api.get('/customers?limit=5'));
  ok(await api.get(`/customers/${id}/events`));
  ok(await api.get('/events?limit=5'));
  ok(await api.get('/custom-fields'));
  const segment = ok(
    await api.request('POST', `/v1/stores/${store.id}/segments`, {
      name: 'gold',
      filter: { field: 'customFields.tier', op: 'eq', value: 'gold' },
    }),
  ).json();
  ok(await api.upsert({ email: 'c2@example.com', customFields: { tier: 'gold' } }));
  ok(await api.get(`/segments/${segment.id}`));
  ok(await api.get(`/customers/${id}/segments`));
  ok(
    await api.request('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
      url: 'http://127.0.0.1:9/hook',
      events: ['customer.updated'],
    }),
  );
  ok(await api.get('/webhook-endpoints'));
  ok(
    await api.request('POST', `/v1/stores/${store.id}/imports?format=ndjson`, undefined, {
      'content-type': 'application/x-ndjson',
    }),
    [201, 202, 400, 415],
  );
  ok(await api.get('/imports'));
  ok(
    await api.request('DELETE', `/v1/stores/${store.id}/customers/${made[3]!.json().customer.id}`),
  );
  const token = ok(
    await t.app.inject({
      method: 'POST',
      url: `/compat/yotpo/core/v3/stores/${store.id}/access_tokens`,
      payload: { secret: store.apiKey },
    }),
    [200],
  ).json().access_token;
  expect(await t.clientele.keys.identify(token)).toMatchObject({ storeId: store.id });
  capturing = false;
  await new Promise((resolve) => setTimeout(resolve, 1_200)); // the key-use flush, per store

  const statements = sent.filter(
    (s) => !/^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|start transaction)/i.test(s.sql),
  );
  expect(statements.length).toBeGreaterThan(40);
  const found: string[] = [];
  for (const s of statements) {
    for (const w of await storesRead(t.clientele.db, s.sql, s.parameters)) {
      found.push(`${w}\n  in: ${s.sql.replace(/\s+/g, ' ').slice(0, 300)}`);
    }
  }
  expect(found).toEqual([]);
});

it('finds the statement a careless change would send: a key looked up by its hash alone', async () => {
  const wrong = await storesRead(
    t.clientele.db,
    'SELECT store_id, id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
    ['0'.repeat(64)],
  );
  expect(wrong).toEqual([expect.stringMatching(/Scan on api_keys without store_id = …$/)]);
  const two = await storesRead(
    t.clientele.db,
    'SELECT count(*) FROM customers WHERE store_id IN ($1, $2)',
    [store.id, 'sto_01JD0000000000000000000000'],
  );
  expect(two.some((w) => /names 2 stores/.test(w))).toBe(true);
  expect(
    await storesRead(t.clientele.db, 'SELECT count(*) FROM customers WHERE store_id = $1', [
      store.id,
    ]),
  ).toEqual([]);
});

import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

/**
 * The fan-out reads the feed up to the oldest transaction still running in its own
 * database (migration 0023): a long transaction in another database of the same server
 * (another application, a backup, a migration) does not hold webhooks back. PostgreSQL
 * only: PGlite holds one database.
 */
let t: TestApp;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await startTestApp(undefined, { webhooks: { allowPrivate: true, allowHttp: true } });
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

it.runIf(onPostgres)('delivers while a transaction of another database stays open', async () => {
  const store = await t.createStore();
  const api = t.as(store);
  const res = await api.request('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
    url: receiver.url,
    events: ['*'],
  });
  expect(res.statusCode, res.body).toBe(201);
  // The server's database the tests connect to is not the test's own (helpers/database.ts).
  const other = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query('SELECT pg_current_xact_id()');
    expect((await api.upsert({ email: 'horizon@example.com' })).statusCode).toBe(201);
    const deadline = Date.now() + 10_000;
    while (receiver.received.length === 0 && Date.now() < deadline) {
      await t.clientele.webhooks.sender.tick();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(['customer.created']);
  } finally {
    await other.query('ROLLBACK');
    await other.end();
  }
});

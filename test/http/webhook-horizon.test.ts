import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

/**
 * The fan-out and `GET …/events` read the feed up to the oldest transaction still running
 * in their own database (FEED_HORIZON, migration 0023): a long transaction in another
 * database of the same server (another application, a backup, a migration) holds neither
 * webhooks nor the feed back. PostgreSQL only: PGlite holds one database.
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

/** Runs `fn` while a transaction of another database of the same server stays open. */
async function whileOtherDatabaseWrites(fn: () => Promise<void>): Promise<void> {
  // The server's database the tests connect to is not the test's own (helpers/database.ts).
  const other = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query('SELECT pg_current_xact_id()');
    await fn();
  } finally {
    await other.query('ROLLBACK');
    await other.end();
  }
}

it.runIf(onPostgres)('delivers while a transaction of another database stays open', async () => {
  const store = await t.createStore();
  const api = t.as(store);
  const res = await api.request('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
    url: receiver.url,
    events: ['*'],
  });
  expect(res.statusCode, res.body).toBe(201);
  await whileOtherDatabaseWrites(async () => {
    expect((await api.upsert({ email: 'horizon@example.com' })).statusCode).toBe(201);
    const deadline = Date.now() + 10_000;
    while (receiver.received.length === 0 && Date.now() < deadline) {
      await t.clientele.webhooks.sender.tick();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(['customer.created']);
  });
});

it.runIf(onPostgres)(
  'lists a new event while a transaction of another database stays open',
  async () => {
    const api = t.as(await t.createStore());
    await whileOtherDatabaseWrites(async () => {
      expect((await api.upsert({ email: 'feed-horizon@example.com' })).statusCode).toBe(201);
      const res = await api.get('/events');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().data.map((e: { type: string }) => e.type)).toEqual(['customer.created']);
    });
  },
);

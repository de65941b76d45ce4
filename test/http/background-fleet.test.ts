import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

/**
 * Background jobs in several engines at once on one database, as in a fleet of stateless
 * processes (on PGlite, which has one process, the one engine): imports of many stores
 * and webhook delivery store by store (the way a database distributed by store, Citus,
 * has it done), each with every engine working. No import row and no delivery is done
 * twice, and none is left undone. (Segment rounds: test/http/segment-clock.test.ts;
 * webhooks across stores in real processes, kill -9 included: test/process/webhooks.test.ts.)
 */
const ENGINES = onPostgres ? 3 : 1;
let database: TestDatabase;
let engines: TestApp[] = [];
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  database = await createTestDatabase();
  for (let i = 0; i < ENGINES; i++) {
    engines.push(
      await startTestApp(database, {
        webhooks: { allowPrivate: true, allowHttp: true, perStore: true, idleMs: 20 },
        imports: { batchRows: 25 },
      }),
    );
  }
});
afterAll(async () => {
  for (const e of engines) await e.close();
  engines = [];
  await database.drop();
  await receiver.close();
});

const ndjson = (store: number, rows: number) =>
  Array.from({ length: rows }, (_, i) =>
    JSON.stringify({ email: `s${store}-r${i}@example.com`, firstName: `R${i}` }),
  ).join('\n');

it('imports of many stores, run by every engine at once, apply each row once', async () => {
  const first = engines[0]!;
  const stores: TestStore[] = [];
  const jobs: string[] = [];
  for (let s = 0; s < 6; s++) {
    const store = await first.createStore(`imports ${s}`);
    stores.push(store);
    for (let j = 0; j < 2; j++) {
      const res = await engines[(s + j) % ENGINES]!.as(store).request(
        'POST',
        `/v1/stores/${store.id}/imports`,
        ndjson(s, 120).replaceAll('@', `+${j}@`),
        { 'content-type': 'application/x-ndjson' },
      );
      expect(res.statusCode, res.body).toBe(202);
      jobs.push(res.json().id);
    }
  }
  for (const e of engines) e.clientele.imports.startWorking();
  try {
    for (const [n, store] of stores.entries()) {
      for (const id of jobs.slice(n * 2, n * 2 + 2)) {
        const deadline = Date.now() + 120_000;
        for (;;) {
          const job = (await first.as(store).get(`/imports/${id}`)).json();
          if (job.status === 'completed') {
            expect(job).toMatchObject({ processed: 120, created: 120, updated: 0, failed: 0 });
            break;
          }
          expect(['queued', 'running']).toContain(job.status);
          if (Date.now() > deadline) throw new Error(`import ${id} still ${job.status}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      // Each customer once, with one change record: no row was applied twice; and each
      // job's completion recorded once.
      const { rows } = await sql<{
        events: number;
        customers: number;
        rows: number;
        completed: number;
      }>`
        SELECT count(*) FILTER (WHERE type <> 'import_completed')::int AS events,
          count(DISTINCT customer_id) FILTER (WHERE type <> 'import_completed')::int AS customers,
          (SELECT count(*)::int FROM customers WHERE store_id = ${store.id}) AS rows,
          count(*) FILTER (WHERE type = 'import_completed')::int AS completed
        FROM customer_events WHERE store_id = ${store.id}`.execute(first.clientele.db);
      expect(rows[0]).toEqual({ events: 240, customers: 240, rows: 240, completed: 2 });
    }
  } finally {
    for (const e of engines) await e.clientele.imports.stopWorking();
  }
});

it('webhook delivery store by store, by every engine at once, sends each event once', async () => {
  const first = engines[0]!;
  const stores: TestStore[] = [];
  // More stores than one round fans out (50): each is reached in turn.
  for (let s = 0; s < 60; s++) {
    const store = await first.createStore(`hooks ${s}`);
    stores.push(store);
    const res = await first.as(store).request('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
      url: receiver.url,
      events: ['customer.created'],
    });
    expect(res.statusCode, res.body).toBe(201);
  }
  for (const e of engines) e.clientele.webhooks.startSending();
  try {
    await Promise.all(
      stores.flatMap((store, s) =>
        Array.from({ length: 2 }, (_, i) =>
          engines[i % ENGINES]!.as(store).upsert({ email: `h${s}-${i}@example.com` }),
        ),
      ),
    );
    await receiver.until((r) => r.length >= 120, 60_000);
    await new Promise((r) => setTimeout(r, 1_000)); // time for a second delivery of any
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(ids.length).toBe(120);
    expect(new Set(ids).size).toBe(120);
    const byStore = new Map<string, number>();
    for (const r of receiver.received) {
      const { storeId } = JSON.parse(r.body) as { storeId: string };
      byStore.set(storeId, (byStore.get(storeId) ?? 0) + 1);
    }
    expect(byStore.size).toBe(60);
    expect([...byStore.values()].every((n) => n === 2)).toBe(true);
  } finally {
    for (const e of engines) await e.clientele.webhooks.stopSending();
  }
});

import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Clientele } from '../../src/core/clientele.js';
import { leaseBuild } from '../../src/core/segments/build.repository.js';
import { SegmentBuilder } from '../../src/core/segments/builder.js';
import { matchingIds } from '../../src/core/segments/matching.repository.js';
import { countsOf } from '../../src/core/segments/segments.repository.js';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

/**
 * A segment over a store bigger than one chunk is built in the background (builder.ts):
 * it answers `building`, writes during the build keep their customers' memberships, and
 * it ends `ready` with exactly the members the filter holds for, and their count; a build
 * left midway is finished by another builder, and two never build one segment at once.
 */
const builds = { chunkCustomers: 50, inRequestMs: 0, leaseMs: 400, idleMs: 20 };
const CUSTOMERS = 320;
const high = { field: 'customFields.score', op: 'gte', value: 5 };

let database: TestDatabase;
let t: TestApp;
let store: TestStore;
let api: StoreClient;

beforeAll(async () => {
  database = await createTestDatabase();
  t = await startTestApp(database, { segmentBuilds: builds });
  store = await t.createStore();
  api = t.as(store);
  for (let i = 0; i < CUSTOMERS; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, k) =>
        api.upsert({ email: `c${i + k}@example.com`, customFields: { score: (i + k) % 10 } }),
      ),
    );
  }
});
afterAll(async () => {
  await t.close();
  await database.drop();
});

const path = (id = '') => `/v1/stores/${store.id}/segments${id ? `/${id}` : ''}`;

async function untilReady(id: string, c: StoreClient = api) {
  for (let i = 0; i < 600; i++) {
    const s = (await c.request('GET', path(id))).json();
    if (s.status === 'ready') return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`segment ${id} never became ready`);
}

/** Members, count and the filter's own answer agree, with no duplicates. */
async function expectExact(db: Clientele['db'], clientele: Clientele, id: string, filter: unknown) {
  const condition = await clientele.segments.condition(store.id, filter);
  const want = await matchingIds(db, store.id, condition, Date.now());
  const { rows } = await sql<{ customer_id: string }>`
    SELECT customer_id FROM segment_members WHERE store_id = ${store.id} AND segment_id = ${id}
    ORDER BY customer_id`.execute(db);
  expect(rows.map((r) => r.customer_id)).toEqual(want);
  const counts = await countsOf(db, store.id, id);
  expect(counts).toEqual({ counter: want.length, members: want.length });
  const shown = (await api.request('GET', path(id))).json();
  expect(shown).toMatchObject({ status: 'ready', count: want.length });
  return want;
}

async function enteredBy(db: Clientele['db'], id: string) {
  const { rows } = await sql<{ customer_id: string; type: string }>`
    SELECT customer_id, type FROM customer_events WHERE store_id = ${store.id} AND segment_id = ${id}`.execute(
    db,
  );
  return rows;
}

it('answers building, keeps concurrent writes, and ends ready with exact members and count', async () => {
  const res = await api.request('POST', path(), { name: 'high', filter: high });
  expect(res.statusCode, res.body).toBe(201);
  expect(res.json()).toMatchObject({ status: 'building', count: 0 });
  const id = res.json().id;
  t.clientele.segments.startBuilding();
  const written = new Set<string>();
  const seen = new Set<string>();
  const writes = Array.from({ length: 120 }, async (_, k) => {
    if (k % 10 === 0) seen.add((await api.request('GET', path(id))).json().status);
    const r = await api.upsert({
      email: `c${(k * 37) % (CUSTOMERS + 40)}@example.com`,
      customFields: { score: (k * 7) % 10 },
    });
    expect(r.statusCode, r.body).toBeLessThan(300);
    written.add(r.json().customer.id);
  });
  await Promise.all(writes);
  // Some writes ran while it was building.
  expect(seen).toContain('building');
  await untilReady(id);
  await t.clientele.segments.stopBuilding();
  await expectExact(t.clientele.db, t.clientele, id, high);
  // The build's members join without change records, as a create's always did; a write
  // during the build records the entries and exits it makes.
  for (const e of await enteredBy(t.clientele.db, id)) expect(written).toContain(e.customer_id);

  const low = { field: 'customFields.score', op: 'lt', value: 3 };
  const patched = await api.request('PATCH', path(id), { filter: low });
  expect(patched.json()).toMatchObject({ status: 'building' });
  t.clientele.segments.startBuilding();
  await Promise.all(
    Array.from({ length: 40 }, (_, k) =>
      api.upsert({ email: `c${(k * 11) % CUSTOMERS}@example.com`, customFields: { score: k % 4 } }),
    ),
  );
  await untilReady(id);
  await t.clientele.segments.stopBuilding();
  await expectExact(t.clientele.db, t.clientele, id, low);
});

it('a build whose builder stopped midway is finished by another, exactly', async () => {
  const res = await api.request('POST', path(), { name: 'high again', filter: high });
  const id = res.json().id;
  const first = new SegmentBuilder(t.clientele.db, builds);
  expect(await leaseBuild(t.clientele.db, first.owner, builds.leaseMs)).toEqual({
    storeId: store.id,
    segmentId: id,
  });
  expect(await first.chunk(store.id, id)).toBe('more');
  expect(await first.chunk(store.id, id)).toBe('more');
  const midway = (await api.request('GET', path(id))).json();
  expect(midway.status).toBe('building');
  expect(midway.count).toBeGreaterThan(0);
  // It dies here: its lease lapses and this engine's builder takes the build up.
  t.clientele.segments.startBuilding();
  await untilReady(id);
  await t.clientele.segments.stopBuilding();
  expect(await first.chunk(store.id, id)).toBe('lost');
  await expectExact(t.clientele.db, t.clientele, id, high);
  expect(await enteredBy(t.clientele.db, id)).toEqual([]);
});

it.runIf(onPostgres)('two engines building at once build a segment once', async () => {
  const other = await startTestApp(database, { segmentBuilds: builds });
  try {
    const res = await api.request('POST', path(), { name: 'high twice', filter: high });
    const id = res.json().id;
    t.clientele.segments.startBuilding();
    other.clientele.segments.startBuilding();
    await untilReady(id);
    await expectExact(t.clientele.db, t.clientele, id, high);
    expect(await enteredBy(t.clientele.db, id)).toEqual([]);
  } finally {
    await t.clientele.segments.stopBuilding();
    await other.close();
  }
});

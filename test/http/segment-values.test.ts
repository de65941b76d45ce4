import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

/**
 * A store keeps the typed custom-field values segments read only from its first segment
 * or preview on (migration 0030): the writes before write none; the first preview or
 * build fills them, a chunk of customers at a time, while writes go on; and what it then
 * counts is what the customers hold, as this test wrote them.
 */
const builds = { chunkCustomers: 10, inRequestMs: 0, leaseMs: 400, idleMs: 20 };
const high = { field: 'customFields.score', op: 'gte', value: 5 };

let database: TestDatabase;
let t: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  t = await startTestApp(database, { segmentBuilds: builds });
});
afterAll(async () => {
  await t.close();
  await database.drop();
});

/** A store of `n` customers, each score written down as the test knows it (or cleared). */
async function storeOf(n: number) {
  const store = await t.createStore();
  const api = t.as(store);
  const scores = new Map<string, number | null>();
  for (let i = 0; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, async (_, k) => {
        const email = `v${i + k}@example.com`;
        const res = await api.upsert({ email, customFields: { score: (i + k) % 10 } });
        expect(res.statusCode, res.body).toBe(201);
        scores.set(email, (i + k) % 10);
      }),
    );
  }
  return { store, api, scores };
}

const expectedHigh = (scores: Map<string, number | null>) =>
  [...scores.values()].filter((s) => s !== null && s >= 5).length;

async function valueRows(store: TestStore): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM customer_values WHERE store_id = ${store.id}`.execute(t.clientele.db);
  return Number(rows[0]?.n);
}

const preview = (api: StoreClient, store: TestStore) =>
  api.request('POST', `/v1/stores/${store.id}/segments/preview`, { filter: high });

/** Previews until one is answered (each request fills a chunk): the answers met on the way. */
async function previewUntilAnswered(api: StoreClient, store: TestStore) {
  const refused: { status: number; code: string; retryAfter: unknown }[] = [];
  for (let i = 0; i < 500; i++) {
    const res = await preview(api, store);
    if (res.statusCode === 200) return { answer: res.json(), refused };
    refused.push({
      status: res.statusCode,
      code: res.json().code,
      retryAfter: res.headers['retry-after'],
    });
  }
  throw new Error('the preview never answered');
}

describe('typed values, kept from the first segment or preview', () => {
  it('writes keep none before; the first preview fills them, answering 503 until done', async () => {
    const { store, api, scores } = await storeOf(45);
    expect(await valueRows(store)).toBe(0);

    const { answer, refused } = await previewUntilAnswered(api, store);
    // 45 customers, 10 a chunk: the requests before the last chunk are refused.
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r).toEqual({ status: 503, code: 'values_preparing', retryAfter: '1' });
    }
    expect(answer.count).toBe(expectedHigh(scores));
    expect(await valueRows(store)).toBe(45);

    // Kept from now on: writes move what the preview counts at once.
    for (const email of ['v0@example.com', 'v1@example.com', 'v9@example.com']) {
      const res = await api.upsert({
        email,
        customFields: { score: email === 'v9@example.com' ? null : 7 },
      });
      expect(res.statusCode, res.body).toBe(200);
      scores.set(email, email === 'v9@example.com' ? null : 7);
    }
    const after = await preview(api, store);
    expect(after.statusCode, after.body).toBe(200);
    expect(after.json().count).toBe(expectedHigh(scores));
  });

  it('a first segment fills them before it builds, and counts exactly', async () => {
    const { store, api, scores } = await storeOf(35);
    const created = await api.request('POST', `/v1/stores/${store.id}/segments`, {
      name: 'high',
      filter: high,
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().status).toBe('building');
    t.clientele.segments.startBuilding();
    try {
      const segment = await untilReady(api, store, created.json().id);
      expect(segment.count).toBe(expectedHigh(scores));
    } finally {
      await t.clientele.segments.stopBuilding();
    }
  });

  it('writes racing the fill leave every customer counted by what it holds last', async () => {
    const { store, api, scores } = await storeOf(200);
    // The first preview starts the fill (one chunk in its request); the builders go on.
    const first = await preview(api, store);
    expect(first.statusCode).toBe(503);
    t.clientele.segments.startBuilding();
    try {
      await Promise.all(
        Array.from({ length: 150 }, async (_, k) => {
          const email = `v${(k * 37) % 230}@example.com`;
          const score = k % 3 === 0 ? null : (k * 7) % 10;
          const res = await api.upsert({ email, customFields: { score } });
          expect(res.statusCode, res.body).toBeLessThan(300);
          scores.set(email, score);
        }),
      );
      const { answer } = await previewUntilAnswered(api, store);
      expect(answer.count).toBe(expectedHigh(scores));
      const has = [...scores.values()].filter((s) => s !== null).length;
      expect(await valueRows(store)).toBe(has);
    } finally {
      await t.clientele.segments.stopBuilding();
    }
  });

  it.runIf(onPostgres)('two engines filling at once fill each customer once', async () => {
    const other = await startTestApp(database, { segmentBuilds: builds });
    try {
      const { store, api, scores } = await storeOf(150);
      expect((await preview(api, store)).statusCode).toBe(503);
      t.clientele.segments.startBuilding();
      other.clientele.segments.startBuilding();
      const { answer } = await previewUntilAnswered(api, store);
      expect(answer.count).toBe(expectedHigh(scores));
      expect(await valueRows(store)).toBe(150);
    } finally {
      await t.clientele.segments.stopBuilding();
      await other.close();
    }
  });
});

async function untilReady(api: StoreClient, store: TestStore, id: string) {
  for (let i = 0; i < 600; i++) {
    const s = (await api.request('GET', `/v1/stores/${store.id}/segments/${id}`)).json();
    if (s.status === 'ready') return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`segment ${id} never became ready`);
}

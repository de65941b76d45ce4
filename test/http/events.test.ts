import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { feedCaughtUp, onPostgres } from '../helpers/database.js';

let t: TestApp;
let store: TestStore;
let api: StoreClient;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  api = t.as(store);
});
afterAll(() => t.close());

interface FeedEvent {
  id: string;
  type: string;
  storeId: string;
  data: {
    customer: { id: string; version: number; email: string | null };
    changes: { field: string; before: unknown; after: unknown }[];
    version: number | null;
    previousVersion: number;
    api: string;
  };
}

/**
 * Every event of the store's feed after `after`, page by page: once it shows every write
 * acknowledged so far, unless told to read it as it stands.
 */
async function readAll(
  client: StoreClient,
  storeId: string,
  after?: string,
  query = '',
  asItStands = false,
) {
  if (!asItStands) await feedCaughtUp(t.clientele.db);
  const events: FeedEvent[] = [];
  let cursor = after;
  for (;;) {
    const res = await client.request(
      'GET',
      `/v1/stores/${storeId}/events?limit=7${cursor ? `&after=${cursor}` : ''}${query}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { data: FeedEvent[]; hasMore: boolean };
    events.push(...page.data);
    cursor = page.data.at(-1)?.id ?? cursor;
    if (!page.hasMore) return events;
  }
}

describe('the event feed', () => {
  it('has one event per acknowledged change, in order, each with the customer as that change left it', async () => {
    const answered: { customer: { id: string; version: number } }[] = [];
    const write = async (body: unknown) => {
      const res = await api.upsert(body);
      expect(res.statusCode, res.body).toBeLessThan(300);
      const answer = res.json();
      if (answer.result !== 'unchanged') answered.push(answer);
    };
    await write({ email: 'feed@example.com', firstName: 'Fe', location: { city: 'Boston' } });
    await write({
      email: 'feed@example.com',
      phoneNumber: '+12025550181',
      customFields: { tier: 'gold' },
    });
    await write({ email: 'feed@example.com', phoneNumber: '+12025550181' }); // unchanged
    await write({ phoneNumber: '+12025550181', metadata: { source: 'pos' }, lastName: 'Ed' });
    await write({ email: 'other@example.com', customFields: { tier: 'silver', points: 3 } });
    await write({
      email: 'feed@example.com',
      metadata: { source: null },
      location: { city: null, region: 'MA' },
    });
    await write({
      email: 'feed@example.com',
      customFields: { tier: 'platinum' },
      firstName: 'Feed',
    });
    // Through a dialect: the same engine, the same feed.
    const redo = await t.app.inject({
      method: 'PUT',
      url: `/compat/redo/v2.2/stores/${store.id}/customers`,
      headers: { authorization: `Bearer ${store.apiKey}` },
      payload: { email: 'other@example.com', firstName: 'Ot' },
    });
    expect(redo.statusCode, redo.body).toBeLessThan(300);
    const afterRedo = await api.get(`/customers?email=other@example.com`);

    const events = await readAll(api, store.id);
    expect(events.map((e) => e.type)).toEqual([
      'customer.created',
      'customer.updated',
      'customer.updated',
      'customer.created',
      'customer.updated',
      'customer.updated',
      'customer.updated',
    ]);
    // Each event's customer is exactly what the write answered, at that version.
    expect(events.slice(0, 6).map((e) => e.data.customer)).toEqual(answered.map((a) => a.customer));
    expect(events[6]?.data.customer).toEqual(afterRedo.json());
    expect(events[6]?.data.api).toBe('redo');
    for (const e of events) {
      expect(e.storeId).toBe(store.id);
      expect(e.data.version).toBe(e.data.customer.version);
      expect(e.data.previousVersion).toBe((e.data.version as number) - 1);
    }
    expect(events[1]?.data.changes).toEqual(
      expect.arrayContaining([
        { field: 'phoneNumbers', before: [], after: ['+12025550181'] },
        { field: 'customFields.tier', before: null, after: 'gold' },
      ]),
    );

    // Resumes after any event; filters by type.
    const third = events[2]?.id as string;
    expect((await readAll(api, store.id, third)).map((e) => e.id)).toEqual(
      events.slice(3).map((e) => e.id),
    );
    const created = await readAll(api, store.id, undefined, '&types=customer.created');
    expect(created.map((e) => e.id)).toEqual(
      events.filter((e) => e.type === 'customer.created').map((e) => e.id),
    );
  });

  it('refuses an unknown event type or a cursor that is not one of its events, by name', async () => {
    const badType = await api.get('/events?types=customer.created,customer.exploded');
    expect(badType.statusCode).toBe(400);
    expect(badType.json().errors[0].path).toBe('/query/types');
    const badAfter = await api.get('/events?after=evt_01JD0000000000000000000000');
    expect(badAfter.statusCode).toBe(400);
    expect(badAfter.json().errors[0].path).toBe('/query/after');
    // Another store's event is not this store's cursor.
    const other = await t.createStore('other');
    await t.as(other).upsert({ email: 'x@example.com' });
    const [theirs] = await readAll(t.as(other), other.id);
    const foreign = await api.get(`/events?after=${theirs?.id}`);
    expect(foreign.statusCode).toBe(400);
    const limit = await api.get('/events?limit=501');
    expect(limit.statusCode).toBe(400);
  });

  it('shows no store another store’s events, and refuses a key on another store’s feed', async () => {
    const other = await t.createStore('another');
    await t.as(other).upsert({ email: 'mine@example.com' });
    const theirs = await readAll(t.as(other), other.id);
    expect(theirs.map((e) => e.storeId)).toEqual([other.id]);
    const res = await api.request('GET', `/v1/stores/${other.id}/events`);
    expect(res.statusCode).toBe(404);
  });

  it('while writes race, a reader resuming after its last event sees each acknowledged change exactly once', async () => {
    const racing = await t.createStore('racing');
    const client = t.as(racing);
    const seen: string[] = [];
    let last: string | undefined;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        const page = await readAll(client, racing.id, last);
        seen.push(...page.map((e) => e.id));
        last = page.at(-1)?.id ?? last;
        // As a poller does: a pause between polls (and a turn of the event loop for the writes).
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        client.upsert({ email: `race${i % 40}@example.com`, customFields: { n: i } }),
      ),
    );
    writing = false;
    await reader;
    seen.push(...(await readAll(client, racing.id, last)).map((e) => e.id));
    const changed = answers.map((a) => a.json()).filter((a) => a.result !== 'unchanged');
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(changed.length);
    // And every customer's events come in version order.
    const all = await readAll(client, racing.id);
    const versions = new Map<string, number>();
    for (const e of all) {
      expect(e.data.version).toBe((versions.get(e.data.customer.id) ?? 0) + 1);
      versions.set(e.data.customer.id, e.data.version as number);
    }
  });

  it('an erasure leaves one customer.erased event, with the id alone, and nothing else of the person', async () => {
    const gone = await t.createStore('erasing');
    const client = t.as(gone);
    const created = (await client.upsert({ email: 'forget@example.com', firstName: 'Fo' })).json();
    await client.upsert({ email: 'forget@example.com', lastName: 'Rget' });
    await client.upsert({ email: 'stays@example.com' });
    const erase = await t.app.inject({
      method: 'DELETE',
      url: `/compat/voucherify/v1/customers/${created.customer.id}`,
      headers: { 'x-app-id': gone.id, 'x-app-token': gone.apiKey },
    });
    expect(erase.statusCode, erase.body).toBe(204);
    const events = await readAll(client, gone.id);
    expect(events.map((e) => e.type)).toEqual(['customer.created', 'customer.erased']);
    const erased = events[1] as FeedEvent;
    expect(erased.data).toEqual({
      customer: { id: created.customer.id },
      changes: [],
      version: null,
      previousVersion: 2,
      api: 'voucherify',
    });
    expect(JSON.stringify(events)).not.toContain('forget');
    const only = await readAll(client, gone.id, undefined, '&types=customer.erased');
    expect(only.map((e) => e.id)).toEqual([erased.id]);
  });

  it('reaches back as many days as the store keeps events', async () => {
    const kept = await t.createStore('kept');
    const client = t.as(kept);
    await client.upsert({ email: 'old@example.com' });
    await client.upsert({ email: 'new@example.com' });
    const [old] = await readAll(client, kept.id);
    await sql`UPDATE customer_events SET created_at = now() - interval '2 days'
      WHERE store_id = ${kept.id} AND id = ${old?.id}`.execute(t.clientele.db);
    expect((await readAll(client, kept.id)).length).toBe(2);
    const set = await t.admin('PATCH', `/v1/stores/${kept.id}`, {
      settings: { eventRetentionDays: 1 },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().settings.eventRetentionDays).toBe(1);
    const left = await readAll(client, kept.id);
    expect(left.map((e) => e.data.customer.email)).toEqual(['new@example.com']);
    const bad = await t.admin('PATCH', `/v1/stores/${kept.id}`, {
      settings: { eventRetentionDays: 0 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/settings/eventRetentionDays');
  });

  it.runIf(onPostgres)(
    'holds back a change that committed while an older one is still being written',
    async () => {
      const held = await t.createStore('held');
      const client = t.as(held);
      await client.upsert({ email: 'first@example.com' });
      const before = await readAll(client, held.id);
      // A transaction that has written a change record and not yet committed: its
      // position is taken, its commit is still to come.
      const open = new pg.Client({ connectionString: t.database.url });
      await open.connect();
      try {
        await open.query('BEGIN');
        await open.query(
          `INSERT INTO customer_events (store_id, id, customer_id, type, api, key_id, changes,
             created_at, previous_version, version)
           SELECT store_id, 'evt_01JD0000000000000000000001', customer_id, 'updated', 'native',
             NULL, '{}'::jsonb, now(), 1, 2 FROM customer_events WHERE store_id = $1`,
          [held.id],
        );
        await client.upsert({ email: 'second@example.com' });
        // The second write has committed, but it sorts after the open one: not yet.
        expect(await readAll(client, held.id, before.at(-1)?.id, '', true)).toEqual([]);
        await open.query('ROLLBACK');
      } finally {
        await open.end();
      }
      const after = await readAll(client, held.id, before.at(-1)?.id);
      expect(after.map((e) => e.type)).toEqual(['customer.created']);
    },
  );
});

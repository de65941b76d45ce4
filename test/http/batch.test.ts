import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCustomers } from '../../src/core/customers/write.repository.js';
import {
  type Fleet,
  type StoreClient,
  startFleet,
  type TestApp,
  type TestStore,
} from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';

/**
 * Upserts that arrive together are written together (one read, one write for the lot).
 * What a client sees must be exactly what it would see if each had been written alone:
 * these tests send requests at once, so that they share batches, and check each answer
 * and what was stored. On PostgreSQL they go through two app instances on one database.
 */
let fleet: Fleet;
let instances: TestApp[];
let store: TestStore;
let clients: StoreClient[];

beforeAll(async () => {
  fleet = await startFleet();
  ({ instances, store, clients } = fleet);
  // Declare the fields first: an upsert that declares one is written on its own.
  const first = await clients[0]!.upsert({
    email: 'declares@example.com',
    customFields: { visits: 0, plan: 'free' },
  });
  expect(first.statusCode).toBe(201);
});
afterAll(() => fleet.close());

/** The first instance's /metrics text, and one counter's value in it. */
async function metrics(): Promise<string> {
  return (await instances[0]!.app.inject({ url: '/metrics' })).body;
}
function count(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
}

function together(bodies: unknown[]) {
  return Promise.all(bodies.map((body, i) => clients[i % clients.length]!.upsert(body)));
}

describe('upserts that arrive together', () => {
  it('20 at once for one new email: one customer, each answer the state its own write left', async () => {
    const responses = await together(
      Array.from({ length: 20 }, (_, i) => ({
        email: 'group@example.com',
        customFields: { visits: i + 1 },
      })),
    );
    expect(responses.map((r) => r.statusCode).sort()).toEqual([...Array(19).fill(200), 201]);
    const answers = responses.map((r) => r.json());
    expect(new Set(answers.map((a) => a.customer.id)).size).toBe(1);
    // Versions 1 to 20, one per write, and each answer shows its own value.
    expect(answers.map((a) => a.customer.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    responses.forEach((r, i) => {
      expect(r.json().customer.customFields.visits).toBe(i + 1);
    });
    const created = answers.find((a) => a.result === 'created')!;
    expect(created.customer.version).toBe(1);
    expect(created.matchedBy).toBeNull();
    for (const a of answers.filter((x) => x.result === 'updated')) {
      expect(a.matchedBy).toBe('email');
    }

    const stored = (await clients[0]!.get('/customers?email=group%40example.com')).json();
    expect(stored.version).toBe(20);
    const last = answers.find((a) => a.customer.version === 20)!;
    expect(stored.customFields.visits).toBe(last.customer.customFields.visits);
    const history = (await clients[0]!.get(`/customers/${stored.id}/events?limit=100`)).json();
    expect(history.data).toHaveLength(20);
    expect(history.data.filter((e: { type: string }) => e.type === 'created')).toHaveLength(1);

    // Each answer says what its own write did: the one at version 1 created the customer
    // (201), every other one updated it (200) and no write was a no-op.
    for (const r of responses) {
      const a = r.json();
      expect([r.statusCode, a.result]).toEqual(
        a.customer.version === 1 ? [201, 'created'] : [200, 'updated'],
      );
    }
  });

  it('20 at once updating one existing customer: one batch writes them all, versions in order', async () => {
    const client = clients[0]!;
    const customer = (await client.upsert({ email: 'existing@example.com' })).json().customer;
    const before = await metrics();
    // All through one instance: within a process nothing races the batch, so none of
    // these may fall back to running alone.
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.upsert({ email: 'existing@example.com', customFields: { visits: 100 + i } }),
      ),
    );
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(responses.map((r) => r.json().customer.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => customer.version + 1 + i),
    );
    const after = await metrics();
    expect(count(after, 'clientele_upsert_alone_total')).toBe(
      count(before, 'clientele_upsert_alone_total'),
    );
    expect(count(after, 'clientele_upsert_batched_total')).toBe(
      count(before, 'clientele_upsert_batched_total') + 20,
    );
    const stored = (await client.get('/customers?email=existing%40example.com')).json();
    expect(stored.version).toBe(customer.version + 20);
    const last = responses.map((r) => r.json()).find((a) => a.customer.version === stored.version);
    expect(stored.customFields.visits).toBe(last.customer.customFields.visits);
  });

  it('new values of a STRING field past its option cap are batched, and still not recorded', async () => {
    const capped = await instances[0]!.createStore();
    await instances[0]!.admin('PATCH', `/v1/stores/${capped.id}`, {
      settings: { customFieldOptionsLimit: 2 },
    });
    const c = instances[0]!.as(capped);
    for (const [i, order] of ['o-1', 'o-2', 'o-3'].entries()) {
      expect(
        (await c.upsert({ email: `cap-${i}@example.com`, customFields: { order } })).statusCode,
      ).toBe(201);
    }
    const alone = (text: string) => count(text, 'clientele_upsert_alone_total');
    const before = alone(await metrics());
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        c.upsert({ email: `cap-more-${i}@example.com`, customFields: { order: `o-${10 + i}` } }),
      ),
    );
    expect(responses.every((r) => r.statusCode === 201)).toBe(true);
    // The field is known to be full: none of them needed the one-at-a-time path.
    expect(alone(await metrics())).toBe(before);
    const options = (await c.get('/custom-fields/order/options')).json();
    expect(options.options).toEqual(['o-1', 'o-2']);
    expect(options.optionsTruncated).toBe(true);
    expect(
      (await c.get('/customers?email=cap-more-3%40example.com')).json().customFields.order,
    ).toBe('o-13');

    // A larger cap makes room again: the next new value is recorded.
    await instances[0]!.admin('PATCH', `/v1/stores/${capped.id}`, {
      settings: { customFieldOptionsLimit: 3 },
    });
    await new Promise((resolve) => setTimeout(resolve, 5_100)); // settings are cached 5 s
    await c.upsert({ email: 'cap-last@example.com', customFields: { order: 'o-99' } });
    expect((await c.get('/custom-fields/order/options')).json().options).toEqual([
      'o-1',
      'o-2',
      'o-99',
    ]);
  }, 20_000);

  it('a refused request among good ones is refused as it would be alone, and changes nothing', async () => {
    const holder = (
      await clients[0]!.upsert({ email: 'holder@example.com', phoneNumber: '+12025550140' })
    ).json().customer;
    const other = (await clients[0]!.upsert({ email: 'other@example.com' })).json().customer;
    const good = Array.from({ length: 8 }, (_, i) => ({
      email: `good-${i}@example.com`,
      customFields: { visits: i, plan: 'free' },
    }));
    const responses = await together([
      ...good,
      // A NUMBER field given a string: 422 naming the field.
      { email: 'wrong-type@example.com', customFields: { visits: 'many' } },
      // Two identifiers held by two customers: 409 naming both.
      { email: 'other@example.com', phoneNumber: '+12025550140' },
      // A field seen for the first time: declared, and written.
      { email: 'new-field@example.com', customFields: { referrer: 'ads' } },
    ]);
    const status = responses.map((r) => r.statusCode);
    expect(status.slice(0, 8)).toEqual(Array(8).fill(201));
    expect(status[8]).toBe(422);
    expect(responses[8]!.json().errors[0].path).toBe('/customFields/visits');
    expect(status[9]).toBe(409);
    expect(JSON.stringify(responses[9]!.json())).toContain(holder.id);
    expect(JSON.stringify(responses[9]!.json())).toContain(other.id);
    expect(status[10]).toBe(201);
    expect(responses[10]!.json().customer.customFields).toEqual({ referrer: 'ads' });

    expect((await clients[0]!.get('/customers?email=wrong-type%40example.com')).statusCode).toBe(
      404,
    );
    const unchanged = (await clients[0]!.get('/customers?email=other%40example.com')).json();
    expect(unchanged.phoneNumbers).toEqual([]);
    expect(unchanged.version).toBe(other.version);
  });

  it('repeats that change nothing answer unchanged, keeping version and time', async () => {
    const body = { email: 'same@example.com', firstName: 'Ada', customFields: { visits: 3 } };
    const first = (await clients[0]!.upsert(body)).json().customer;
    const responses = await together(Array.from({ length: 6 }, () => body));
    for (const r of responses) {
      expect(r.statusCode).toBe(200);
      expect(r.json().result).toBe('unchanged');
      expect(r.json().customer.version).toBe(first.version);
      expect(r.json().customer.updatedAt).toBe(first.updatedAt);
    }
    const history = (await clients[0]!.get(`/customers/${first.id}/events`)).json();
    expect(history.data).toHaveLength(1);
  });

  it('40 at once over 4 new emails: 4 customers, no write lost', async () => {
    const responses = await together(
      Array.from({ length: 40 }, (_, i) => ({
        email: `quad-${i % 4}@example.com`,
        phoneNumber: `+1202555${String(1000 + i)}`,
      })),
    );
    expect(responses.every((r) => r.statusCode < 300)).toBe(true);
    for (let e = 0; e < 4; e++) {
      const c = (await clients[0]!.get(`/customers?email=quad-${e}%40example.com`)).json();
      expect(c.version).toBe(10);
      expect(c.phoneNumbers).toHaveLength(10);
    }
  });

  it("a stream of upserts: each write carries the next batch's look-up, and nothing is lost", async () => {
    // Through one instance, in waves a millisecond apart.
    const client = clients[0]!;
    const emails = Array.from({ length: 12 }, (_, i) => `stream-${i}@example.com`);
    for (const email of emails.slice(0, 6)) {
      expect((await client.upsert({ email })).statusCode).toBe(201);
    }
    const before = await metrics();
    const sent: { email: string; n: number; response: ReturnType<StoreClient['upsert']> }[] = [];
    const chained = (text: string) => count(text, 'clientele_upsert_chained_batches_total');
    // 30 waves at least; on PostgreSQL, more (up to 300: a loaded machine chains later) until a batch has chained. There,
    // upserts arrive while a batch is being written and ride along with it; PGlite runs
    // each statement on the event loop's own thread, so nothing arrives meanwhile.
    for (let wave = 0; wave < 300; wave++) {
      for (let j = 0; j < 8; j++) {
        const n = sent.length;
        const email = emails[n % emails.length]!;
        sent.push({ email, n, response: client.upsert({ email, metadata: { [`r${n}`]: n } }) });
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (wave >= 30 && (!onPostgres || chained(await metrics()) > chained(before))) break;
    }
    const responses = await Promise.all(sent.map((s) => s.response));
    expect(responses.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
    if (onPostgres) expect(chained(await metrics())).toBeGreaterThan(chained(before));

    // Every customer holds every key its upserts set, at one version per upsert.
    for (const [i, email] of emails.entries()) {
      const mine = sent.filter((s) => s.email === email);
      const stored = (await client.get(`/customers?email=${encodeURIComponent(email)}`)).json();
      expect(Object.keys(stored.metadata).sort()).toEqual(mine.map((s) => `r${s.n}`).sort());
      expect(stored.version).toBe(mine.length + (i < 6 ? 1 : 0));
      const history = (await client.get(`/customers/${stored.id}/events?limit=100`)).json();
      expect(history.data).toHaveLength(stored.version);
    }
  });

  it('a batch computed from a version that has moved on writes nothing at all', async () => {
    const customer = (
      await clients[0]!.upsert({ email: 'stale@example.com', firstName: 'Old' })
    ).json().customer;
    await clients[0]!.upsert({ email: 'stale@example.com', firstName: 'Newer' }); // version 2
    const now = new Date();
    const other = 'cust_01ZZZZZZZZZZZZZZZZZZZZZZZZ';
    const write = writeCustomers(
      instances[0]!.clientele.db,
      store.id,
      [
        {
          // A new customer, fine on its own...
          id: other,
          create: true,
          version: 1,
          readVersion: 0,
          state: { ...customer, email: 'innocent@example.com', phoneNumbers: [] },
          now,
          addedKeys: [{ kind: 'email', value: 'innocent@example.com' }],
          removedKeys: [],
          createdAt: now,
          events: [],
        },
        {
          // ...beside an update computed from version 1, which is gone.
          id: customer.id,
          create: false,
          version: 2,
          readVersion: 1,
          state: { ...customer, firstName: 'Stale', phoneNumbers: ['+12025550177'] },
          createdAt: new Date(customer.createdAt),
          now,
          addedKeys: [{ kind: 'phone', value: '+12025550177' }],
          removedKeys: [],
          events: [
            {
              id: 'evt_01ZZZZZZZZZZZZZZZZZZZZZZZZ',
              customerId: customer.id,
              type: 'updated',
              api: 'native',
              keyId: null,
              previousVersion: 1,
              version: 2,
              changes: {},
              createdAt: now,
            },
          ],
        },
      ],
      instances[0]!.clientele.segments,
    );
    await expect(write).rejects.toMatchObject({ code: '40001' });

    const after = (await clients[0]!.get('/customers?email=stale%40example.com')).json();
    expect(after.firstName).toBe('Newer');
    expect(after.version).toBe(2);
    expect((await clients[0]!.get('/customers?phone=%2B12025550177')).statusCode).toBe(404);
    expect((await clients[0]!.get('/customers?email=innocent%40example.com')).statusCode).toBe(404);
    const history = (await clients[0]!.get(`/customers/${customer.id}/events`)).json();
    expect(history.data).toHaveLength(2);
  });
});

describe('dialect upserts', () => {
  it('join batches like native ones, each answered as alone', async () => {
    const app = instances[0]!.app;
    const before = instances[0]!.clientele.customers.batchStats();
    // Redo finds by email only; Voucherify's update addresses a customer by id.
    const redo = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.inject({
          method: 'PUT',
          url: `/compat/redo/v2.2/stores/${store.id}/customers`,
          headers: { authorization: `Bearer ${store.apiKey}` },
          payload: { email: `redo${i}@example.com`, firstName: `R${i}` },
        }),
      ),
    );
    expect(redo.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    const ids = redo.map((r) => r.json().id as string);
    const voucherify = await Promise.all(
      ids.map((id, i) =>
        app.inject({
          method: 'PUT',
          url: `/compat/voucherify/v1/customers/${id}`,
          headers: { 'x-app-id': store.id, 'x-app-token': store.apiKey },
          payload: { name: `V${i} Lee` },
        }),
      ),
    );
    expect(voucherify.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    voucherify.forEach((r, i) => {
      expect(r.json()).toMatchObject({
        id: ids[i],
        name: `V${i} Lee`,
        email: `redo${i}@example.com`,
      });
    });
    const after = instances[0]!.clientele.customers.batchStats();
    // Within one process nothing races these, so every one of the 40 was written by a batch.
    expect(after.batched - before.batched).toBe(40);
    for (const [i, id] of ids.entries()) {
      const history = (await clients[0]!.get(`/customers/${id}/events`)).json();
      expect(
        history.data.map((e: { type: string; api: string; version: number }) => [
          e.type,
          e.api,
          e.version,
        ]),
      ).toEqual([
        ['updated', 'voucherify', 2],
        ['created', 'redo', 1],
      ]);
      expect(history.data[0].changes).toMatchObject({
        firstName: { before: `R${i}`, after: `V${i}` },
      });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, type StoreClient, startFleet, type TestApp } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';

/**
 * Exactly one customer per person, and no acknowledged change lost, however many
 * requests race. On PostgreSQL the requests go through two app instances, each with its
 * own connection pool, as two processes of a fleet would; on PGlite through one.
 */
let fleet: Fleet;
let instances: TestApp[];
let clients: StoreClient[];

beforeAll(async () => {
  fleet = await startFleet();
  ({ instances, clients } = fleet);
});
afterAll(() => fleet.close());

/** Sends n requests at once, spread over the instances. */
function race(n: number, body: (i: number) => unknown) {
  return Promise.all(
    Array.from({ length: n }, (_, i) => clients[i % clients.length]!.upsert(body(i))),
  );
}

describe(`concurrent upserts (${onPostgres ? 'two instances on PostgreSQL' : 'PGlite'})`, () => {
  it('50 upserts of one new email, each with its own custom field: one customer, all 50 fields', async () => {
    const responses = await race(50, (i) => ({
      email: 'race@example.com',
      customFields: { [`field_${i}`]: i },
    }));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([...Array(49).fill(200), 201]);
    const ids = new Set(responses.map((r) => r.json().customer.id));
    expect(ids.size).toBe(1);

    const list = (await clients[0]!.get('/customers?limit=100')).json().data;
    expect(list.filter((c: { email: string }) => c.email === 'race@example.com')).toHaveLength(1);
    const customer = (await clients[0]!.get('/customers?email=race%40example.com')).json();
    expect(Object.keys(customer.customFields)).toHaveLength(50);
    for (let i = 0; i < 50; i++) expect(customer.customFields[`field_${i}`]).toBe(i);
    expect(customer.version).toBe(50);
    const history = (await clients[0]!.get(`/customers/${customer.id}/events?limit=100`)).json()
      .data;
    expect(history).toHaveLength(50);
  });

  it('50 concurrent phone appends: all 50 kept, each finding the customer', async () => {
    const phones = Array.from({ length: 50 }, (_, i) => `+1202555${String(3000 + i)}`);
    const responses = await race(50, (i) => ({
      email: 'phones@example.com',
      phoneNumber: phones[i],
    }));
    expect(responses.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
    const customer = (await clients[0]!.get('/customers?email=phones%40example.com')).json();
    expect([...customer.phoneNumbers].sort()).toEqual([...phones].sort());
    for (const phone of [phones[0]!, phones[49]!]) {
      expect(
        (
          await clients[1 % clients.length]!.get(`/customers?phone=${encodeURIComponent(phone)}`)
        ).json().id,
      ).toBe(customer.id);
    }
  });

  it('races through different identifiers of one known customer lose nothing', async () => {
    const id = (
      await clients[0]!.upsert({
        email: 'multi@example.com',
        externalId: 'MULTI-1',
        phoneNumber: '+12025550199',
      })
    ).json().customer.id;
    const ways = [
      { email: 'multi@example.com' },
      { externalId: 'MULTI-1' },
      { phoneNumber: '+12025550199' },
      { id },
    ];
    const responses = await race(40, (i) => ({
      ...ways[i % ways.length],
      metadata: { [`k${i}`]: i },
    }));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(40).fill(200));
    const customer = (await clients[0]!.get(`/customers/${id}`)).json();
    expect(Object.keys(customer.metadata)).toHaveLength(40);
    expect(
      (await clients[0]!.get('/customers?limit=100'))
        .json()
        .data.filter((c: { id: string }) => c.id === id),
    ).toHaveLength(1);
  });

  it('a field first declared by racing writers gets one type; the others are told', async () => {
    const responses = await race(20, (i) => ({
      email: `decl${i}@example.com`,
      customFields: { contested: i % 2 === 0 ? i : `text ${i}` },
    }));
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 201 || s === 422)).toBe(true);
    const field = (await clients[0]!.get('/custom-fields'))
      .json()
      .data.find((f: { name: string }) => f.name === 'contested');
    const winners = responses
      .filter((r) => r.statusCode === 201)
      .map((r) => typeof r.json().customer.customFields.contested);
    expect(new Set(winners)).toEqual(new Set([field.type === 'NUMBER' ? 'number' : 'string']));
    expect(
      responses
        .filter((r) => r.statusCode === 422)
        .every((r) => r.json().code === 'custom_field_type_mismatch'),
    ).toBe(true);
  });

  it('STRING options stay within the cap under racing writers', async () => {
    const capped = await instances[0]!.createStore();
    await instances[0]!.admin('PATCH', `/v1/stores/${capped.id}`, {
      settings: { customFieldOptionsLimit: 10 },
    });
    const cs = instances.map((i) => i.as(capped));
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        cs[i % cs.length]!.upsert({ email: `o${i}@example.com`, customFields: { city: `c${i}` } }),
      ),
    );
    const options = (await cs[0]!.get('/custom-fields/city/options?limit=1000')).json();
    expect(options.options).toHaveLength(10);
    expect(options.optionsTruncated).toBe(true);
  });
});

describe.skipIf(!onPostgres)('key revocation across instances', () => {
  it('a key revoked through one instance stops working on the other at once', async () => {
    const [a, b] = instances as [TestApp, TestApp];
    const s = await a.createStore();
    const created = (await a.admin('POST', `/v1/stores/${s.id}/api-keys`)).json();
    const key = { id: s.id, apiKey: created.apiKey };
    // Both instances have seen (and may remember) the key.
    expect((await a.as(key).get('/customers')).statusCode).toBe(200);
    expect((await b.as(key).get('/customers')).statusCode).toBe(200);

    expect((await b.admin('DELETE', `/v1/stores/${s.id}/api-keys/${created.id}`)).statusCode).toBe(
      204,
    );
    // The announcement travels through PostgreSQL; allow it a moment, no more.
    let status = 200;
    for (let i = 0; i < 20 && status !== 401; i++) {
      status = (await a.as(key).get('/customers')).statusCode;
      if (status !== 401) await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe(401);
    expect((await b.as(key).get('/customers')).statusCode).toBe(401);
  });
});

/**
 * An upsert that waits for a customer's lock reads that customer as its writer committed
 * it, identifiers included. A second connection holds the lock, as a slow writer would;
 * the upsert under test names a field never declared, so it runs alone (locked read).
 */
describe.skipIf(!onPostgres)('an upsert that waited for a customer', () => {
  const card = (value: string) => ({ type: 'card', value });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function whileLocked(customerId: string, writes: () => Promise<unknown>[]) {
    const pg = (await import('pg')).default;
    const blocker = new pg.Client({ connectionString: instances[0]!.database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [customerId]);
      const pending = writes();
      await sleep(400);
      await blocker.query('COMMIT');
      return await Promise.all(pending);
    } finally {
      await blocker.end();
    }
  }

  it('matches by the identifier the write before it gave the customer', async () => {
    const api = clients[0]!;
    const c = (await api.upsert({ identifiers: [card('W3')] })).json().customer;
    const [first, second] = (await whileLocked(c.id, () => {
      const a = api.upsert({ identifiers: [card('W3')], externalId: 'WX1' });
      const b = sleep(200).then(() =>
        clients[1 % clients.length]!.upsert({
          externalId: 'WX1',
          identifiers: [card('W3')],
          customFields: { waited1: 1 },
        }),
      );
      return [a, b];
    })) as { json(): { matchedBy: string; customer: { id: string; version: number } } }[];
    expect(first!.json()).toMatchObject({ matchedBy: 'identifier', customer: { version: 2 } });
    // As if run after it: the customer now holds WX1, the stronger identifier.
    expect(second!.json()).toMatchObject({
      matchedBy: 'externalId',
      customer: { id: c.id, version: 3 },
    });
  });

  it('merges into the survivor the write before it made the strongest match', async () => {
    const store = await instances[0]!.createStore();
    await instances[0]!.admin('PATCH', `/v1/stores/${store.id}`, {
      settings: { identityConflict: 'merge' },
    });
    const api = instances[0]!.as(store);
    const a = (await api.upsert({ email: 'wait@example.com', identifiers: [card('M2')] })).json()
      .customer;
    await api.upsert({ identifiers: [card('M1')] });
    const [, merged] = (await whileLocked(a.id, () => {
      const x = api.upsert({ phoneNumber: '+12025553002', identifiers: [card('M2')] });
      const y = sleep(200).then(() =>
        api.upsert({
          phoneNumber: '+12025553002',
          identifiers: [card('M1'), card('M2')],
          customFields: { waited2: 1 },
        }),
      );
      return [x, y];
    })) as { json(): { matchedBy: string; customer: { id: string } } }[];
    // A holds the phone by now, a stronger identifier than the cards: A survives.
    expect(merged!.json()).toMatchObject({ matchedBy: 'phone', customer: { id: a.id } });
  });
});

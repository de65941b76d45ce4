import { createRequire } from 'node:module';
import type { VoucherifyServerSide } from '@voucherify/sdk';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestStore } from '../helpers/app.js';
import { type RecordedServer, startRecordedServer } from '../helpers/platform-app.js';
import { voucherifySpec } from '../helpers/platform-schemas.js';

/**
 * Voucherify's dialect driven by Voucherify's own clients, @voucherify/sdk and the older
 * voucherify package, over HTTP on 127.0.0.1; every answer the dialect gives is checked
 * against Voucherify's published OpenAPI.
 */

// Both ship CommonJS (the newer one as UMD, whose exports Node's ESM cannot name).
const require = createRequire(import.meta.url);
const { VoucherifyServerSide: newSdk } = require('@voucherify/sdk') as {
  VoucherifyServerSide: typeof VoucherifyServerSide;
};
const legacySdk = require('voucherify') as (options: object) => { customers: Customers };

/** What the two clients' `customers` have in common, the calls the dialect serves. */
interface Customers {
  create(body: object): Promise<Customer>;
  get(id: string): Promise<Customer>;
  update(body: object): Promise<Customer>;
  delete(id: string): Promise<unknown>;
  list(params?: object): Promise<{ customers: Customer[]; total: number; has_more?: boolean }>;
  scroll(params?: object): AsyncIterable<Customer>;
}
type Customer = Record<string, unknown> & { id: string; created_at: string };

const clients: [string, (url: string, store: TestStore) => Customers][] = [
  [
    '@voucherify/sdk',
    (url, store) =>
      newSdk({ applicationId: store.id, secretKey: store.apiKey, apiUrl: url })
        .customers as unknown as Customers,
  ],
  [
    'voucherify (legacy)',
    (url, store) =>
      legacySdk({ applicationId: store.id, clientSecretKey: store.apiKey, apiUrl: url }).customers,
  ],
];

const spec = voucherifySpec();
let server: RecordedServer;

beforeAll(async () => {
  server = await startRecordedServer('/compat/voucherify');
});
afterAll(() => server.close());
afterEach(() => {
  // Every answer of the test, success or error, as Voucherify's OpenAPI describes it.
  const answers = server.answers.splice(0);
  expect(answers.length).toBeGreaterThan(0);
  expect(answers.flatMap((a) => spec.check(a))).toEqual([]);
});

/** Voucherify's own example requests, from its OpenAPI (the create is the seed page's too). */
const seed = spec.requestExamples('/v1/customers', 'post').Example as Record<string, unknown>;
const updateExample = spec.requestExamples('/v1/customers/{customerId}', 'put').Example as Record<
  string,
  unknown
>;

async function refusal(call: Promise<unknown>): Promise<Record<string, unknown>> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the call should have been refused').toBeInstanceOf(Error);
  return error as Record<string, unknown>;
}

describe.each(clients)('Voucherify dialect through %s', (_name, connect) => {
  let customers: Customers;

  beforeAll(async () => {
    const store = await server.createStore();
    customers = connect(`${server.url}/compat/voucherify`, store);
  });

  it('creates the seed page’s customer and reads it back by id and by source_id', async () => {
    const created = await customers.create(seed);
    expect(created).toMatchObject({
      id: expect.stringMatching(/^cust_/),
      source_id: 'source_123',
      name: 'Bob Smith',
      email: 'bob.smith@email.com',
      phone: '+19332223333',
      address: { city: 'New York', line_1: '123 Main St.', postal_code: '10001' },
      object: 'customer',
    });
    expect(await customers.get(created.id)).toEqual(created);
    expect((await customers.get('source_123')).id).toBe(created.id);
  });

  it('leaves out what a customer created with a source_id alone does not have', async () => {
    const created = await customers.create({ source_id: 'only-source' });
    for (const field of ['name', 'email', 'phone', 'birthdate', 'description']) {
      expect(created, field).not.toHaveProperty(field);
    }
    expect(created).toMatchObject({ source_id: 'only-source', address: null, metadata: {} });
    const bare = await customers.create({ name: 'No Source' });
    expect(bare).not.toHaveProperty('source_id');
  });

  it('updates by id and by source_id, changing only what is sent', async () => {
    const created = await customers.create({ source_id: 'to-update', name: 'Alice Morgan' });
    const byId = await customers.update({ id: created.id, description: 'Updated by id' });
    expect(byId).toMatchObject({
      id: created.id,
      name: 'Alice Morgan',
      description: 'Updated by id',
    });
    // Voucherify's own update example, addressed by source_id.
    const bySource = await customers.update({ source_id: 'to-update', ...updateExample });
    expect(bySource).toMatchObject({
      id: created.id,
      source_id: 'to-update',
      name: 'Alice McDonald',
      email: 'alice.mdconald@email.com',
      description: 'Updating customer data',
      phone: '+11322222222',
      birthdate: '2022-01-01',
      address: { city: 'New York', line_2: 'APT 3 BLG 4', state: 'NY' },
      updated_at: expect.any(String),
    });
  });

  it('deletes a customer: 204, then 404 not_found naming it', async () => {
    const created = await customers.create({ source_id: 'to-delete', email: 'del@example.com' });
    await customers.delete(created.id);
    const gone = await refusal(customers.get(created.id));
    expect(gone).toMatchObject({ code: 404, key: 'not_found', resource_id: created.id });
    expect(await refusal(customers.delete(created.id))).toMatchObject({ code: 404 });
    // Its identifiers are suppressed: a later create is refused (test/http/erasure.test.ts lifts one).
    expect(await refusal(customers.create({ source_id: 'to-delete' }))).toMatchObject({
      code: 400,
      key: 'invalid_payload',
    });
  });

  it('refuses a bad phone with 400 invalid_payload naming the phone as Voucherify does', async () => {
    const error = await refusal(customers.create({ source_id: 'bad-phone', phone: '+1 (555)' }));
    expect(error).toMatchObject({ code: 400, key: 'invalid_payload' });
    expect(error.details).toMatch(/^\/phone: /);
    expect(String(error.details)).not.toMatch(/phoneNumber/);
    expect(await refusal(customers.get('bad-phone'))).toMatchObject({ code: 404 });
  });
});

describe.each(clients)('Voucherify errors through %s', (_name, connect) => {
  let customers: Customers;
  let intruder: Customers;

  beforeAll(async () => {
    const store = await server.createStore();
    const other = await server.createStore();
    customers = connect(`${server.url}/compat/voucherify`, store);
    intruder = connect(`${server.url}/compat/voucherify`, { id: store.id, apiKey: other.apiKey });
  });

  it('answers each refusal in Voucherify’s error shape, with its status', async () => {
    await customers.create({ source_id: 'err-holder', email: 'err@example.com' });
    expect(await refusal(customers.create({ email: 'err@example.com' }))).toMatchObject({
      code: 409,
      key: 'duplicate_found',
    });
    expect(
      await refusal(customers.create({ email: 'nope', birthdate: '2022-02-30' })),
    ).toMatchObject({
      code: 400,
      key: 'invalid_payload',
      details: expect.stringMatching(/\/email.*\/birthdate/),
    });
    expect(
      await refusal(customers.update({ id: 'cust_01JD0000000000000000000000', name: 'X' })),
    ).toMatchObject({ code: 404, key: 'not_found' });
    expect(await refusal(intruder.get('err-holder'))).toMatchObject({
      code: 401,
      key: 'unauthorized',
    });
  });
});

describe.each(clients)('Voucherify lists through %s', (_name, connect) => {
  let customers: Customers;
  const ids: string[] = [];

  beforeAll(async () => {
    const store = await server.createStore();
    customers = connect(`${server.url}/compat/voucherify`, store);
    // One at a time, then a burst. Customers the core writes in one batch share their
    // created_at to the millisecond, which scroll's starting_after must not split: the
    // burst is made one such batch for sure, and three of the others another.
    for (let i = 0; i < 8; i++) {
      ids.push(
        (await customers.create({ source_id: `one-${i}`, email: `one-${i}@example.com` })).id,
      );
    }
    const burst = await Promise.all(
      Array.from({ length: 17 }, (_, i) =>
        customers.create({ source_id: `burst-${i}`, address: { city: i % 2 ? 'Oslo' : 'Bergen' } }),
      ),
    );
    ids.push(...burst.map((c) => c.id));
    const db = server.clientele.db;
    const burstIds = burst.map((c) => c.id);
    await sql`UPDATE customers SET created_at = (SELECT max(created_at) FROM customers
      WHERE id = ANY(${burstIds})) WHERE id = ANY(${burstIds})`.execute(db);
    await sql`UPDATE customers SET created_at = (SELECT created_at FROM customers
      WHERE id = ${ids[3]}) WHERE id = ANY(${[ids[4], ids[5]]})`.execute(db);
    server.answers.splice(0);
  }, 120_000);

  it('scrolls through every customer once, newest first and oldest first', async () => {
    const newest: Customer[] = [];
    for await (const c of customers.scroll({})) newest.push(c);
    expect(newest.map((c) => c.id).sort()).toEqual([...ids].sort());
    expect(newest.map((c) => c.created_at)).toEqual(
      newest.map((c) => c.created_at).sort((a, b) => b.localeCompare(a)),
    );
    const oldest: Customer[] = [];
    for await (const c of customers.scroll({ order: 'created_at', limit: 4 })) oldest.push(c);
    expect(oldest.map((c) => c.id).sort()).toEqual([...ids].sort());
    expect(oldest.map((c) => c.created_at)).toEqual(oldest.map((c) => c.created_at).sort());
  });

  it('pages by number and filters by email, city and creation time', async () => {
    const first = await customers.list({ limit: 10, page: 1 });
    const third = await customers.list({ limit: 10, page: 3 });
    expect(first).toMatchObject({ total: 25, has_more: true });
    expect(first.customers).toHaveLength(10);
    expect(third).toMatchObject({ total: 25, has_more: false });
    expect(third.customers).toHaveLength(5);

    const byEmail = await customers.list({ email: 'ONE-3@example.com' });
    expect(byEmail.customers.map((c) => c.id)).toEqual([ids[3]]);
    const inOslo = await customers.list({ city: 'Oslo', limit: 100 });
    expect(inOslo.total).toBe(8);

    const eighth = await customers.get(ids[7] as string);
    const after = await customers.list({ limit: 100, created_at: { after: eighth.created_at } });
    expect(after.customers.map((c) => c.id).sort()).toEqual(ids.slice(8).sort());
    const bySource = await customers.list({ limit: 3, order: 'source_id' });
    expect(bySource.customers.map((c) => c.source_id)).toEqual(['burst-0', 'burst-1', 'burst-10']);
  });

  it('refuses, with 400 naming it, what the list cannot do', async () => {
    for (const params of [
      { segment_id: 'seg_1' },
      { limit: 101 },
      { order: 'name' },
      { starting_after: 'yesterday' },
      { starting_after: '2024-01-01T00:00:00Z', page: 2 },
      { created_at: { before: 'soon' } },
      { nickname: 'x' },
    ]) {
      const error = await refusal(customers.list(params));
      expect(error, JSON.stringify(params)).toMatchObject({ code: 400, key: 'invalid_payload' });
      expect(error.details, JSON.stringify(params)).toMatch(/\/query\//);
    }
  });
});

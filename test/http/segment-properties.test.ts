import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findCustomersById } from '../../src/core/customers/customers.repository.js';
import { validateFilter } from '../../src/core/segments/filter.js';
import { matchingIds } from '../../src/core/segments/matching.repository.js';
import { matches } from '../../src/core/segments/predicate.js';
import { type StoreClient, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * One meaning, two evaluators: random filters over random customers, where the SQL
 * (preview, build, re-evaluation) and the in-memory predicate (every write) must find
 * the same members, and a saved segment kept by the writes holds exactly them too.
 */
let t: TestApp;
let store: TestStore;
let api: StoreClient;
const now = Date.now();
const DAY = 86_400_000;

const words = ['gold', 'Gold', 'silver', 'go', 'ld', 'é', ''];
const cities = ['Boston', 'boston', 'Denver'];
const at = (days: number) => new Date(now + days * DAY).toISOString();

const customer = (i: number) =>
  fc.record(
    {
      email: fc.constant(`c${i}@${i % 3 === 0 ? 'shop.example' : 'example.com'}`),
      firstName: fc.option(fc.constantFrom(...words.filter(Boolean)), { nil: undefined }),
      birthdate: fc.option(
        fc.constantFrom('1990-01-15', '1985-02-28', '2000-12-31', '1992-02-29'),
        { nil: undefined },
      ),
      location: fc.option(fc.record({ city: fc.constantFrom(...cities) }), { nil: undefined }),
      // Phone numbers are identifiers: one of its own each.
      phoneNumbers: fc.option(
        fc.constant([
          i % 2 ? `+1202555${String(100 + i).padStart(4, '0')}` : `+4479111234${10 + i}`,
        ]),
        { nil: undefined },
      ),
      metadata: fc.option(fc.record({ lang: fc.constantFrom('en', 'fr', 'EN') }), {
        nil: undefined,
      }),
      customFields: fc.record(
        {
          tier: fc.constantFrom(...words.filter(Boolean)),
          points: fc.constantFrom(-5, 0, 0.5, 10, 100, 1000, 1e9),
          vip: fc.boolean(),
          signup: fc.constantFrom(-400, -40, -3, -0.5, 0.5, 5, 40).map(at),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['email', 'customFields'] },
  );

const stringValue = fc.constantFrom(...words, 'Boston', 'boston', 'en', 'shop.example', '+1');
const leaf = fc.oneof(
  fc.record({
    field: fc.constantFrom(
      'customFields.tier',
      'firstName',
      'location.city',
      'emailDomain',
      'metadata.lang',
      'phoneNumbers',
    ),
    op: fc.constantFrom('eq', 'neq', 'contains', 'not_contains', 'starts_with', 'ends_with'),
    value: stringValue.filter((s) => s !== ''),
  }),
  fc.record({
    field: fc.constantFrom('customFields.tier', 'location.city'),
    op: fc.constantFrom('in', 'not_in'),
    value: fc.uniqueArray(stringValue, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    field: fc.constant('customFields.points'),
    op: fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte'),
    value: fc.constantFrom(-5, 0, 0.5, 10, 100, 1000, 1e9),
  }),
  fc.record({
    field: fc.constant('customFields.points'),
    op: fc.constant('between'),
    value: fc.tuple(fc.constantFrom(-5, 0, 10), fc.constantFrom(10, 100, 1e9)),
  }),
  fc.record({ field: fc.constant('customFields.vip'), op: fc.constant('eq'), value: fc.boolean() }),
  fc.record({
    field: fc.constantFrom('customFields.signup', 'birthdate', 'createdAt'),
    op: fc.constantFrom('before', 'after'),
    value: fc.constantFrom(-100, -1, 0, 1, 10).map(at),
  }),
  fc.record({
    field: fc.constantFrom('customFields.signup', 'birthdate', 'createdAt'),
    op: fc.constantFrom('in_the_last', 'more_than_ago', 'in_the_next', 'anniversary_in_the_next'),
    value: fc.record({ amount: fc.constantFrom(1, 7, 30), unit: fc.constantFrom('day', 'week') }),
  }),
  fc.record({
    field: fc.constantFrom(
      'customFields.tier',
      'customFields.points',
      'customFields.vip',
      'customFields.signup',
      'firstName',
      'birthdate',
      'phoneNumbers',
      'metadata.lang',
      'location.city',
    ),
    op: fc.constantFrom('is_set', 'is_not_set'),
  }),
);
const filter = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ and: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ or: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('node') }),
  ),
})).node;

const limits = { leaves: 1000, depth: 1000 };

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  api = t.as(store);
  await t.admin('PATCH', `/v1/stores/${store.id}`, {
    settings: { segmentFilterDepth: 10, segmentFilterLeaves: 200, segmentsLimit: 500 },
  });
  // Declares the four fields with their types.
  await api.upsert({
    email: 'seed@example.com',
    customFields: { tier: 'gold', points: 1, vip: true, signup: at(0) },
  });
  const people = fc.sample(fc.tuple(...Array.from({ length: 40 }, (_, i) => customer(i))), {
    numRuns: 1,
    seed: 42,
  })[0]!;
  for (const person of people) {
    const res = await api.upsert(person);
    expect(res.statusCode, res.body).toBe(201);
  }
});
afterAll(async () => {
  await t.close();
});

async function declared() {
  const fields = await t.clientele.fields.list(store.id);
  return new Map(fields.map((f) => [f.name, f.type]));
}

async function storedCustomers() {
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM customers WHERE store_id = ${store.id}`.execute(t.clientele.db);
  return findCustomersById(
    t.clientele.db,
    store.id,
    rows.map((r) => r.id),
  );
}

it('the SQL and the predicate find the same members of any filter', async () => {
  // The customers were written before the store kept typed values (none is kept until
  // its first segment or preview): this preview fills them, as a write derives them.
  const first = await api.request('POST', `/v1/stores/${store.id}/segments/preview`, {
    filter: { field: 'customFields.vip', op: 'eq', value: true },
  });
  expect(first.statusCode, first.body).toBe(200);
  const types = await declared();
  const customers = await storedCustomers();
  await fc.assert(
    fc.asyncProperty(filter, async (raw) => {
      const condition = validateFilter(raw, types, limits);
      const bySql = await matchingIds(t.clientele.db, store.id, condition, now);
      const byPredicate = [...customers.values()]
        .filter((c) => matches(condition, c, now))
        .map((c) => c.id)
        .sort();
      expect(bySql.sort()).toEqual(byPredicate);
    }),
    {
      numRuns: Number(process.env.SEGMENT_RUNS ?? 150),
      seed: Number(process.env.SEGMENT_SEED ?? Date.now() % 1e9),
    },
  );
});

it('a saved segment, kept by the writes after it, holds what the SQL finds', async () => {
  const types = await declared();
  await fc.assert(
    fc.asyncProperty(filter, fc.integer({ min: 0, max: 39 }), async (raw, who) => {
      const res = await api.request('POST', `/v1/stores/${store.id}/segments`, {
        name: 'prop',
        filter: raw,
      });
      fc.pre(res.statusCode !== 422 || res.json().code !== 'limit_exceeded');
      expect(res.statusCode, res.body).toBe(201);
      const segment = res.json();
      // A write after the build: the predicate moves this customer in or out.
      await api.upsert({
        email: `c${who}@${who % 3 === 0 ? 'shop.example' : 'example.com'}`,
        customFields: { points: (who * 7) % 120, tier: who % 2 ? 'gold' : 'silver' },
      });
      const condition = validateFilter(raw, types, limits);
      const expected = await matchingIds(t.clientele.db, store.id, condition, Date.now());
      const { rows } = await sql<{ customer_id: string }>`
        SELECT customer_id FROM segment_members
        WHERE store_id = ${store.id} AND segment_id = ${segment.id}`.execute(t.clientele.db);
      expect(rows.map((r) => r.customer_id).sort()).toEqual(expected.sort());
      const count = (
        await api.request('GET', `/v1/stores/${store.id}/segments/${segment.id}`)
      ).json().count;
      expect(count).toBe(expected.length);
      await api.request('DELETE', `/v1/stores/${store.id}/segments/${segment.id}`);
    }),
    { numRuns: Number(process.env.SEGMENT_RUNS ?? 40) / 4 + 10 },
  );
});

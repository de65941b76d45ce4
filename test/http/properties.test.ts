import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * Random and adversarial bodies thrown at the native upsert and at each dialect: never
 * a 5xx, and a refused request (4xx) changes nothing at all.
 */
let t: TestApp;
let store: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  await t.admin('PATCH', `/v1/stores/${store.id}`, {
    settings: { extendedFields: { tier: 'STRING' } },
  });
  // Some existing customers for random writes to collide with.
  const api = t.as(store);
  await api.upsert({
    email: 'a@example.com',
    externalId: 'A',
    phoneNumber: '+12025550143',
    customFields: { n: 1, s: 'x', b: true },
  });
  await api.upsert({
    email: 'b@example.com',
    externalId: 'B',
    identifiers: [{ type: 'wechat', value: 'w' }],
  });
});
afterAll(() => t.close());

/** Everything a write could touch in the store, reduced to one comparable value. */
async function fingerprint(): Promise<string> {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT
      (SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(max(updated_at)::text, '') FROM customers WHERE store_id = ${store.id}) AS customers,
      (SELECT count(*) FROM customer_events WHERE store_id = ${store.id}) AS events,
      (SELECT count(*) FROM customer_identifiers WHERE store_id = ${store.id}) AS identifiers,
      (SELECT count(*) FROM custom_fields WHERE store_id = ${store.id}) AS fields,
      (SELECT count(*) FROM custom_field_options WHERE store_id = ${store.id}) AS options`.execute(
    t.clientele.db,
  );
  return JSON.stringify(rows[0]);
}

const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant('__proto__'),
  fc.constant('2026-02-30T10:00:00Z'),
  fc.constant('+12025550143'),
  fc.constant('a@example.com'),
  fc.constant('B'),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(
    fc.string({ maxLength: 8 }),
    fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    { maxKeys: 3 },
  ),
);

/** Objects with the keys a platform's body has (and some it has not), holding anything. */
const bodyWith = (keys: string[]) =>
  fc.oneof(
    fc.dictionary(fc.constantFrom(...keys, 'unknown', 'storeId', 'version'), junk, { maxKeys: 8 }),
    fc.dictionary(fc.constantFrom(...keys), junk, { maxKeys: 8 }),
    fc.anything(),
  );

const nativeKeys = [
  'id',
  'externalId',
  'email',
  'phoneNumber',
  'phoneNumbers',
  'firstName',
  'lastName',
  'birthdate',
  'description',
  'active',
  'location',
  'identifiers',
  'customFields',
  'extendedFields',
  'metadata',
  'channels',
  'loyalty',
];

async function holds(
  send: (body: unknown) => Promise<{ statusCode: number; body: string }>,
  body: unknown,
) {
  const before = await fingerprint();
  const res = await send(body);
  expect(res.statusCode, `${res.statusCode} for ${JSON.stringify(body)}: ${res.body}`).toBeLessThan(
    500,
  );
  if (res.statusCode >= 400) expect(await fingerprint(), JSON.stringify(body)).toBe(before);
}

const runs = { numRuns: 60 };

describe('property: no 5xx, no partial write', () => {
  it('native upsert', async () => {
    await fc.assert(
      fc.asyncProperty(bodyWith(nativeKeys), (body) => holds((b) => t.as(store).upsert(b), body)),
      runs,
    );
  });

  it('native upsert with structured values', async () => {
    const customFields = fc.dictionary(
      fc.oneof(
        fc.constantFrom('n', 's', 'b', 'tier', 'new_one', '1bad', '__proto__'),
        fc.string({ maxLength: 5 }),
      ),
      fc.oneof(
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.constant('2026-01-01T00:00:00Z'),
      ),
      { maxKeys: 4 },
    );
    const body = fc.record(
      {
        email: fc.constantFrom('a@example.com', 'b@example.com', 'c@example.com', 'not an email'),
        externalId: fc.constantFrom('A', 'B', 'C'),
        phoneNumber: fc.constantFrom('+12025550143', '+12025550144', '12345'),
        customFields,
        extendedFields: fc.dictionary(
          fc.constantFrom('tier', 'other'),
          fc.oneof(fc.string(), fc.integer()),
          { maxKeys: 2 },
        ),
        location: fc.record({ city: junk, latitude: junk }, { requiredKeys: [] }),
        metadata: fc.dictionary(fc.string({ maxLength: 4 }), junk, { maxKeys: 3 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, (b) => holds((x) => t.as(store).upsert(x), b)),
      runs,
    );
  });

  const inject =
    (method: string, url: string, headers: Record<string, string>) => (body: unknown) =>
      t.app.inject({
        method: method as 'POST',
        url,
        headers: { 'content-type': 'application/json', ...headers },
        payload: JSON.stringify(body) ?? 'null',
      });

  it('Redo', async () => {
    const send = inject('PUT', `/compat/redo/v2.2/stores/${store.id}/customers`, {
      authorization: `Bearer ${store.apiKey}`,
    });
    await fc.assert(
      fc.asyncProperty(
        bodyWith(['email', 'firstName', 'lastName', 'phoneNumber', 'location', 'customFields']),
        (b) => holds(send, b),
      ),
      runs,
    );
  });

  it('Yotpo', async () => {
    const send = inject('PATCH', `/compat/yotpo/core/v3/stores/${store.id}/customers`, {
      'x-yotpo-token': store.apiKey,
    });
    const customer = bodyWith([
      'external_id',
      'email',
      'phone_number',
      'first_name',
      'gender',
      'address',
      'custom_properties',
      'tags',
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          customer.map((c) => ({ customer: c })),
          fc.anything(),
        ),
        (b) => holds(send, b),
      ),
      runs,
    );
  });

  it('Capillary', async () => {
    const auth = `Basic ${Buffer.from(`${store.id}:${store.apiKey}`).toString('base64')}`;
    const query = fc.constantFrom(
      'source=INSTORE&identifierName=email&identifierValue=a@example.com',
      'source=INSTORE&identifierName=externalId&identifierValue=B',
      'source=BAD&identifierName=email&identifierValue=a@example.com',
      'identifierName=mobile&identifierValue=12025550143&source=WEBSITE',
    );
    const body = bodyWith([
      'profiles',
      'loyaltyInfo',
      'loyaltyType',
      'extendedFields',
      'loyaltyProgramEnrollments',
    ]);
    await fc.assert(
      fc.asyncProperty(query, body, (q, b) =>
        holds(
          inject('PUT', `/compat/capillary/v2/customers/lookup?${q}`, { authorization: auth }),
          b,
        ),
      ),
      runs,
    );
  });

  it('Cheqpay', async () => {
    const send = inject('POST', '/compat/cheqpay/customers/add-update', {
      'x-api-key': store.apiKey,
      'x-merchant-id': store.id,
    });
    await fc.assert(
      fc.asyncProperty(
        bodyWith([
          'externalId',
          'firstName',
          'lastName',
          'email',
          'phoneNumber',
          'active',
          'notificationOptions',
        ]),
        (b) => holds(send, b),
      ),
      runs,
    );
  });

  it('Voucherify', async () => {
    const send = inject('POST', '/compat/voucherify/v1/customers', {
      'x-app-id': store.id,
      'x-app-token': store.apiKey,
    });
    await fc.assert(
      fc.asyncProperty(
        bodyWith(['id', 'source_id', 'name', 'email', 'phone', 'birthdate', 'address', 'metadata']),
        (b) => holds(send, b),
      ),
      runs,
    );
  });
});

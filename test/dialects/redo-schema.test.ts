import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestStore } from '../helpers/app.js';
import { type RecordedServer, startRecordedServer } from '../helpers/platform-app.js';
import { redoSpec } from '../helpers/platform-schemas.js';

/**
 * Redo's dialect over HTTP on 127.0.0.1, every answer (successes and errors) checked
 * against Redo's published OpenAPI (@redotech/redo-api-schema), and Redo's own example
 * requests taken as they are.
 */

const spec = redoSpec();
let server: RecordedServer;
let store: TestStore;
let other: TestStore;

beforeAll(async () => {
  server = await startRecordedServer('/compat/redo');
  store = await server.createStore();
  other = await server.createStore();
});
afterAll(() => server.close());
afterEach(() => {
  const answers = server.answers.splice(0);
  expect(answers.length).toBeGreaterThan(0);
  expect(answers.flatMap((a) => spec.check(a))).toEqual([]);
});

const customers = (storeId = store.id) =>
  `${server.url}/compat/redo/v2.2/stores/${storeId}/customers`;

async function call(
  method: 'GET' | 'PUT',
  url: string,
  body?: unknown,
  key: string | undefined = store.apiKey,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const put = (body: unknown, key?: string) => call('PUT', customers(), body, key);
const get = (email: string, storeId = store.id) =>
  call('GET', `${customers(storeId)}?email=${encodeURIComponent(email)}`);

const examples = spec.requestExamples('/stores/{storeId}/customers', 'put') as Record<
  string,
  Record<string, unknown>
>;

describe('Redo dialect, held against Redo’s OpenAPI', () => {
  it('takes Redo’s own example requests, phone number +11234567890 included', async () => {
    expect(Object.keys(examples)).toEqual(['create_customer', 'update_custom_fields']);
    const create = examples.create_customer ?? {};
    const created = await put(create);
    expect(created).toMatchObject({ status: 201, body: { created: true, email: create.email } });
    const updated = await put(examples.update_custom_fields);
    expect(updated).toMatchObject({ status: 200, body: { id: created.body.id, created: false } });
    const read = await get(String(create.email));
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: created.body.id,
      phoneNumber: '+11234567890',
      location: { city: 'Seattle', stateCode: 'WA', latitude: 47.6062 },
      customFields: { status: 'Cancelled', cancellation_reason: 'Too expensive', vip_member: true },
    });
  });

  it('leaves out, on a read, what the customer does not have', async () => {
    await put({ email: 'bare@example.com' });
    const read = await get('bare@example.com');
    expect(read.status).toBe(200);
    for (const field of ['firstName', 'lastName', 'phoneNumber', 'location']) {
      expect(read.body, field).not.toHaveProperty(field);
    }
    await put({ email: 'partial@example.com', location: { city: 'Boston' } });
    expect((await get('partial@example.com')).body.location).toEqual({ city: 'Boston' });
  });

  it('answers its errors as problem details', async () => {
    expect((await put({ email: 'not-an-email' })).status).toBe(400);
    expect((await put({ email: 'x@example.com', phoneNumber: '12345' })).status).toBe(400);
    expect((await put({ email: 'x@example.com', nickname: 'x' })).status).toBe(400);
    expect((await put({ email: 'x@example.com' }, 'ck_wrong')).status).toBe(401);
    expect((await put({ email: 'x@example.com' }, '')).status).toBe(401);
    expect((await put({ email: 'x@example.com' }, other.apiKey)).status).toBe(403);
    expect((await get('nobody@example.com')).status).toBe(404);
    expect((await get('nobody@example.com', other.id)).status).toBe(403);
    await put({ email: 'holder@example.com', phoneNumber: '+12025550199' });
    const taken = await put({ email: 'taker@example.com', phoneNumber: '+12025550199' });
    expect(taken.status).toBe(409);
    expect(taken.body.detail).toMatch(/^\/phoneNumber: /);
  });
});

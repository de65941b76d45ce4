import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * A DATE value the API returns can always be sent back: a date-time outside the years
 * 0001 to 9999 (in UTC) is refused, naming the field; a string written like a date-time
 * that is no real one declares a STRING and says so, and a DATE field refuses it saying
 * why.
 */
let t: TestApp;
let store: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
});
afterAll(() => t.close());

const upsert = (body: unknown) => t.as(store).upsert(body);
const declared = async () =>
  Object.fromEntries(
    (await t.as(store).get('/custom-fields'))
      .json()
      .data.map((f: { name: string; type: string }) => [f.name, f.type]),
  );

describe('DATE custom fields', () => {
  it('refuses a first value past the year 9999 in UTC with 422 naming the field, declaring nothing', async () => {
    const res = await upsert({
      email: 'late@example.com',
      customFields: { ends: '9999-12-31T23:59:59-23:59' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      code: 'custom_field_type_mismatch',
      errors: [
        {
          path: '/customFields/ends',
          message: expect.stringContaining('outside the years 0001 to 9999'),
        },
      ],
    });
    expect(await declared()).not.toHaveProperty('ends');
    expect((await t.as(store).get('/customers?email=late%40example.com')).statusCode).toBe(404);
  });

  it('takes the last and first instants of the range, and what it returns can be sent back', async () => {
    const first = await upsert({
      email: 'range@example.com',
      customFields: { last: '9999-12-31T23:59:59.999Z', first: '0001-01-01T00:00:00+00:00' },
    });
    expect(first.statusCode).toBe(201);
    const { customFields } = first.json().customer;
    expect(customFields).toEqual({
      last: '9999-12-31T23:59:59.999Z',
      first: '0001-01-01T00:00:00.000Z',
    });
    const again = await upsert({ email: 'range@example.com', customFields });
    expect(again.statusCode).toBe(200);
    expect(again.json().result).toBe('unchanged');

    for (const value of ['9999-12-31T23:59:59-00:01', '0001-01-01T00:00:00+00:01']) {
      const res = await upsert({ email: 'range@example.com', customFields: { last: value } });
      expect(res.statusCode, value).toBe(422);
      expect(res.json().errors[0]).toEqual({
        path: '/customFields/last',
        message:
          "field 'last' is DATE; got a date-time outside the years 0001 to 9999 (in UTC), which a DATE field cannot hold",
      });
    }
  });

  it('declares a STRING for a first value that is no real date-time, and says so in warnings', async () => {
    const res = await upsert({
      email: 'feb@example.com',
      customFields: { due: '2026-02-30T00:00:00Z' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().warnings).toEqual([
      "customFields.due: '2026-02-30T00:00:00Z' is not a real date-time, so the field was declared STRING",
    ]);
    expect((await declared()).due).toBe('STRING');
    // The next value of that field warns of nothing.
    const next = await upsert({
      email: 'feb@example.com',
      customFields: { due: '2026-02-31T00:00:00Z' },
    });
    expect(next.json().warnings).toEqual([]);
  });

  it('refuses a date-time that is no real one in a DATE field, saying so', async () => {
    expect(
      (await upsert({ email: 'real@example.com', customFields: { since: '2026-02-01T00:00:00Z' } }))
        .statusCode,
    ).toBe(201);
    const res = await upsert({
      email: 'real@example.com',
      customFields: { since: '2026-02-30T00:00:00Z' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0]).toEqual({
      path: '/customFields/since',
      message:
        "field 'since' is DATE; got a string written as a date-time that is not a real one (no such date or time)",
    });
    const plain = await upsert({ email: 'real@example.com', customFields: { since: 'soon' } });
    expect(plain.json().errors[0].message).toBe("field 'since' is DATE; got a string");
  });

  it('refuses a birthdate in the year 0000 with 400 naming the field', async () => {
    const res = await upsert({ email: 'zero@example.com', birthdate: '0000-01-01' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { path: '/birthdate', message: 'must be a real date written YYYY-MM-DD' },
    ]);
    expect(
      (await upsert({ email: 'zero@example.com', birthdate: '0001-01-01' })).json().customer
        .birthdate,
    ).toBe('0001-01-01');
  });
});

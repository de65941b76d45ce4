import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithTwoStores, type TestApp, type TestStore } from '../helpers/app.js';

let t: TestApp;
let store: TestStore;
let other: TestStore;

beforeAll(async () => {
  ({ t, store, other } = await startWithTwoStores({
    aliases: { capillary: 'till-org-42' },
    extendedFields: { gender: 'STRING', anniversary: 'DATE' },
  }));
});
afterAll(() => t.close());

const basic = (tenant: string, key: string) =>
  `Basic ${Buffer.from(`${tenant}:${key}`).toString('base64')}`;
const lookup = (query: string, body: unknown, authorization = basic('till-org-42', store.apiKey)) =>
  t.app.inject({
    method: 'PUT',
    url: `/compat/capillary/v2/customers/lookup?${query}`,
    headers: { authorization },
    payload: body as object,
  });
const read = (query: string) =>
  t.app.inject({
    method: 'GET',
    url: `/compat/capillary/v2/customers/lookup?${query}`,
    headers: { authorization: basic(store.id, store.apiKey) },
  });

/** The seed page's request body, as its table describes it. */
const seedBody = {
  loyaltyType: 'loyalty',
  profiles: [
    {
      Firstname: 'Tom',
      Lastname: 'Sawyer',
      fields: { preferred_store: 'Downtown' },
      identifiers: [
        { type: 'email', value: 'tom@example.com' },
        { type: 'wechat', value: 'wx_tom' },
      ],
      commChannels: [
        {
          type: 'email',
          value: 'tom@example.com',
          primary: 'true',
          verified: false,
          meta: { residence: true },
        },
        { type: 'mobile', value: '919876543210', primary: true, verified: 'true' },
      ],
    },
  ],
  extendedFields: { gender: 'Male' },
  loyaltyProgramEnrollments: [
    {
      programId: 7,
      tierNumber: 1,
      loyaltyPoints: 100,
      tierExpiryDate: '2027-01-01T00:00:00+05:30',
      pointsExpiryDate: '2027-06-01T00:00:00+05:30',
    },
  ],
};

describe('Capillary dialect', () => {
  let seq: number;
  let id: string;

  it('updates only: an unknown identifier is error 8015', async () => {
    const res = await lookup(
      'source=INSTORE&identifierName=mobile&identifierValue=919876543210',
      seedBody,
    );
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      errors: [{ status: false, code: 8015, message: expect.any(String) }],
    });
  });

  it("takes the seed page's example on a known customer, with a stable integer id", async () => {
    const created = (await t.as(store).upsert({ phoneNumber: '+919876543210' })).json().customer;
    id = created.id;
    const res = await lookup(
      'source=INSTORE&identifierName=mobile&identifierValue=919876543210',
      seedBody,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ createdId: expect.any(Number), warnings: [], sideEffects: [] });
    seq = res.json().createdId;
    expect(Number.isInteger(seq)).toBe(true);

    const customer = (await t.as(store).get(`/customers/${id}`)).json();
    expect(customer).toMatchObject({
      firstName: 'Tom',
      lastName: 'Sawyer',
      email: 'tom@example.com',
      identifiers: [{ type: 'wechat', value: 'wx_tom' }],
      customFields: { preferred_store: 'Downtown', gender: 'Male' },
      channels: [
        {
          type: 'email',
          value: 'tom@example.com',
          primary: true,
          verified: false,
          subscribed: true,
          meta: { residence: true },
        },
        { type: 'mobile', value: '+919876543210', primary: true, verified: true, subscribed: true },
      ],
      loyalty: {
        status: 'loyalty',
        enrollments: [
          {
            programId: 7,
            tierNumber: 1,
            points: 100,
            tierExpiresAt: '2027-01-01T00:00:00+05:30',
            pointsExpireAt: '2027-06-01T00:00:00+05:30',
          },
        ],
      },
    });
    const history = (await t.as(store).get(`/customers/${id}/events`)).json().data;
    expect(history[0].api).toBe('capillary');
  });

  it('finds the same customer by each identifier, with the same integer id', async () => {
    for (const q of [
      'identifierName=email&identifierValue=tom%40example.com',
      'identifierName=mobile&identifierValue=%2B919876543210',
    ]) {
      const res = await read(`source=INSTORE&${q}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ entity: seq, warnings: [] });
    }
    const again = await lookup(
      'source=WEBSITE&identifierName=email&identifierValue=tom@example.com',
      { profiles: [{ firstName: 'Thomas' }] },
    );
    expect(again.json().createdId).toBe(seq);
  });

  it('keeps loyalty moving forward: no downgrade, no second enrolment', async () => {
    const q = 'source=INSTORE&identifierName=email&identifierValue=tom@example.com';
    const downgrade = await lookup(q, { loyaltyInfo: { loyaltyType: 'non_loyalty' } });
    expect(downgrade.statusCode).toBe(422);
    expect(downgrade.json().errors[0].message).toMatch(/non_loyalty/);
    const twice = await lookup(q, { loyaltyProgramEnrollments: [{ programId: 7 }] });
    expect(twice.statusCode).toBe(422);
    expect((await t.as(store).get(`/customers/${id}`)).json().loyalty.enrollments).toHaveLength(1);
  });

  it.each([
    ['source=NOWHERE&identifierName=email&identifierValue=tom@example.com', {}, 8003],
    ['identifierName=email&identifierValue=tom@example.com', {}, 8003],
    ['source=INSTORE&identifierName=passport&identifierValue=X1', {}, 8013],
    ['source=INSTORE&identifierName=email', {}, 8013],
    [
      'source=INSTORE&identifierName=email&identifierValue=tom@example.com',
      { profiles: [{ identifiers: [{ type: 'ssn', value: '1' }] }] },
      8013,
    ],
    [
      'source=INSTORE&identifierName=email&identifierValue=tom@example.com',
      { extendedFields: { shoe_size: 42 } },
      400,
    ],
    [
      'source=INSTORE&identifierName=email&identifierValue=tom@example.com',
      { extendedFields: { anniversary: 'soon' } },
      400,
    ],
    [
      'source=INSTORE&identifierName=email&identifierValue=tom@example.com',
      { profiles: [{ commChannels: [{ type: 'fax', value: '1' }] }] },
      400,
    ],
  ])('refuses %s %j with code %i, writing nothing', async (query, body, code) => {
    const before = (await t.as(store).get(`/customers/${id}`)).json().version;
    const res = await lookup(query, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ status: false, code });
    expect((await t.as(store).get(`/customers/${id}`)).json().version).toBe(before);
  });

  it('answers 401 to missing, bad and another store’s credentials', async () => {
    const q = 'source=INSTORE&identifierName=email&identifierValue=tom@example.com';
    for (const authorization of [
      '',
      'Bearer x',
      basic('till-org-42', 'ck_wrong'),
      basic('till-org-42', other.apiKey),
      basic(other.id, store.apiKey),
    ]) {
      const res = await lookup(q, {}, authorization);
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json().errors[0]).toMatchObject({ status: false, code: 401 });
    }
  });

  it('reads back through Redo what Capillary wrote', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/compat/redo/v2.2/stores/${store.id}/customers?email=tom%40example.com`,
      headers: { authorization: `Bearer ${store.apiKey}` },
    });
    expect(res.json()).toMatchObject({
      firstName: 'Thomas',
      lastName: 'Sawyer',
      phoneNumber: '+919876543210',
      customFields: { gender: 'Male' },
    });
  });
});

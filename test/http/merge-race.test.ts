import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';

/**
 * Merges racing other writes, over real HTTP: on PostgreSQL through two app instances
 * (two pools, as two processes), on PGlite through one. No acknowledged upsert is lost
 * to a merge of its customer, and of two merges over one customer one wins and the other
 * is refused with 409, changing nothing.
 */
let fleet: Fleet;
let bases: string[];

beforeAll(async () => {
  fleet = await startFleet();
  bases = [];
  for (const instance of fleet.instances) {
    await instance.app.listen({ host: '127.0.0.1', port: 0 });
    bases.push(`http://127.0.0.1:${(instance.app.server.address() as AddressInfo).port}`);
  }
});
afterAll(() => fleet.close());

async function send(i: number, method: string, path: string, body?: unknown) {
  const res = await fetch(`${bases[i % bases.length]}/v1/stores/${fleet.store.id}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      authorization: `Bearer ${fleet.store.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // The answers are read as a test reads JSON: loosely.
  return { status: res.status, body: (await res.json()) as ReturnType<typeof JSON.parse> };
}

const create = async (body: unknown) => {
  const res = await send(0, 'POST', '/customers', body);
  expect(res.status).toBe(201);
  return res.body.customer as { id: string; version: number };
};

describe(`merges racing writes over HTTP (${onPostgres ? 'two instances on PostgreSQL' : 'PGlite'})`, () => {
  it('a merge racing upserts of the same people loses no acknowledged write', async () => {
    const target = await create({ email: 'race.target@example.com' });
    const phones = ['+14155550601', '+14155550602'];
    const sources = [
      await create({ phoneNumber: phones[0] }),
      await create({ phoneNumber: phones[1] }),
    ];
    // 40 upserts through the three people's identifiers, each with a metadata key of its
    // own, and the merge in the middle of them.
    const ways = [
      { email: 'race.target@example.com' },
      { phoneNumber: phones[0] },
      { phoneNumber: phones[1] },
    ];
    const upserts = Array.from({ length: 40 }, (_, i) =>
      send(i, 'POST', '/customers', { ...ways[i % 3], metadata: { [`k${i}`]: i } }),
    );
    const merged = send(1, 'POST', `/customers/${target.id}/merge`, {
      sourceIds: sources.map((s) => s.id),
    });
    const answers = await Promise.all(upserts);
    const merge = await merged;
    expect(merge.status, JSON.stringify(merge.body)).toBe(201);
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);

    const now = await send(0, 'GET', `/customers/${target.id}`);
    for (let i = 0; i < 40; i++) expect(now.body.metadata[`k${i}`], `k${i}`).toBe(i);
    expect([...now.body.phoneNumbers].sort()).toEqual(phones);
    for (const phone of phones) {
      const found = await send(0, 'GET', `/customers?phone=${encodeURIComponent(phone)}`);
      expect(found.body.id).toBe(target.id);
    }
    const list = await send(0, 'GET', '/customers?limit=100');
    expect(list.body.data.map((c: { id: string }) => c.id)).toEqual([target.id]);
  });

  it('two merges over one customer: one wins, the other gets 409 and changes nothing', async () => {
    for (let round = 0; round < 4; round++) {
      const a = await create({ email: `two.a${round}@example.com` });
      const b = await create({ email: `two.b${round}@example.com` });
      const shared = await create({ email: `two.shared${round}@example.com`, firstName: 'Shay' });
      const [first, second] = await Promise.all([
        send(0, 'POST', `/customers/${a.id}/merge`, { sourceIds: [shared.id] }),
        send(1, 'POST', `/customers/${b.id}/merge`, { sourceIds: [shared.id] }),
      ]);
      const statuses = [first.status, second.status].sort();
      expect(statuses, JSON.stringify([first.body, second.body])).toEqual([201, 409]);
      const [won, lost] = first.status === 201 ? [a, b] : [b, a];
      const refusal = (first.status === 409 ? first : second).body;
      expect(refusal).toMatchObject({ code: 'already_merged' });
      expect(refusal.errors[0]).toEqual({
        path: '/sourceIds/0',
        message: `was merged into ${won.id}`,
      });
      const read = await send(0, 'GET', `/customers/${shared.id}`);
      expect(read.status).toBe(307);
      expect(read.body.mergedInto).toBe(won.id);
      expect((await send(0, 'GET', `/customers/${won.id}`)).body.firstName).toBe('Shay');
      const loser = await send(0, 'GET', `/customers/${lost.id}`);
      expect(loser.body).toMatchObject({ version: lost.version, firstName: null });
      const theirs = await send(0, 'GET', `/merges?customerId=${lost.id}`);
      expect(theirs.body.data).toEqual([]);
    }
  });

  it('two merges of two customers into each other: one wins, the other gets 409', async () => {
    for (let round = 0; round < 4; round++) {
      const a = await create({ email: `cross.a${round}@example.com` });
      const b = await create({ email: `cross.b${round}@example.com` });
      const answers = await Promise.all([
        send(0, 'POST', `/customers/${a.id}/merge`, { sourceIds: [b.id] }),
        send(1, 'POST', `/customers/${b.id}/merge`, { sourceIds: [a.id] }),
      ]);
      expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
      const list = await send(0, 'GET', `/merges?customerId=${a.id}`);
      expect(list.body.data).toHaveLength(1);
    }
  });
});

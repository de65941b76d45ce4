import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';

/**
 * An alias belongs to one store: a name a platform's requests route by (a store's id,
 * or an alias on that platform) cannot be claimed by a second store, however many
 * claim it at once, so no store can take over another's dialect traffic.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const setAliases = (store: TestStore, aliases: Record<string, string | null>) =>
  t.admin('PATCH', `/v1/stores/${store.id}`, { settings: { aliases } });

/** A Redo upsert naming the store `name`, with `key`: who answers it. */
const redoPut = (name: string, key: string, email: string) =>
  t.app.inject({
    method: 'PUT',
    url: `/compat/redo/v2.2/stores/${name}/customers`,
    headers: { authorization: `Bearer ${key}` },
    payload: { email },
  });

describe('store names: one name, one store', () => {
  it("refuses another store's alias on that platform with 409, changing nothing", async () => {
    const a = await t.createStore();
    const b = await t.createStore();
    expect((await setAliases(a, { yotpo: 'shared-app' })).statusCode).toBe(200);
    const res = await setAliases(b, { yotpo: 'shared-app', redo: 'b-redo' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'alias_taken',
      errors: [{ path: '/settings/aliases/yotpo', message: expect.stringContaining('alias') }],
    });
    // Nothing of the refused change was kept, not even the free alias beside it.
    expect((await t.admin('GET', `/v1/stores/${b.id}`)).json().settings.aliases).toEqual({});
    expect((await redoPut('b-redo', b.apiKey, 'x@example.com')).statusCode).toBe(403);
    // The same name on another platform is another name.
    expect((await setAliases(b, { redo: 'shared-app' })).statusCode).toBe(200);
  });

  it("refuses another store's id as an alias, and that store keeps its traffic", async () => {
    const a = await t.createStore();
    const b = await t.createStore();
    const res = await setAliases(b, { redo: a.id });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'alias_taken',
      errors: [{ path: '/settings/aliases/redo', message: expect.stringContaining('id') }],
    });
    // Requests naming a's id still reach a, and b's key is refused there.
    expect((await redoPut(a.id, a.apiKey, 'a@example.com')).statusCode).toBe(201);
    expect((await redoPut(a.id, b.apiKey, 'b@example.com')).statusCode).toBe(403);
  });

  it('frees an alias its store gives up, for another store to take', async () => {
    const a = await t.createStore();
    const b = await t.createStore();
    expect((await setAliases(a, { redo: 'moving-alias' })).statusCode).toBe(200);
    expect((await redoPut('moving-alias', a.apiKey, 'm1@example.com')).statusCode).toBe(201);
    expect((await setAliases(a, { redo: null })).statusCode).toBe(200);
    expect((await setAliases(b, { redo: 'moving-alias' })).statusCode).toBe(200);
    expect((await redoPut('moving-alias', b.apiKey, 'm2@example.com')).statusCode).toBe(201);
    expect((await redoPut('moving-alias', a.apiKey, 'm3@example.com')).statusCode).toBe(403);
    // A store may change its alias, and keep the one it has.
    expect((await setAliases(b, { redo: 'moved-again' })).statusCode).toBe(200);
    expect((await setAliases(b, { redo: 'moved-again' })).statusCode).toBe(200);
    expect((await redoPut('moved-again', b.apiKey, 'm4@example.com')).statusCode).toBe(201);
    expect((await redoPut('moving-alias', a.apiKey, 'm5@example.com')).statusCode).toBe(403);
  });

  it.skipIf(!onPostgres)('lets one of four stores claiming one alias at once have it', async () => {
    const stores = await Promise.all([1, 2, 3, 4].map(() => t.createStore()));
    for (let round = 0; round < 5; round++) {
      const alias = `raced-${round}`;
      const answers = await Promise.all(stores.map((s) => setAliases(s, { cheqpay: alias })));
      const statuses = answers.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 409, 409, 409]);
      const winner = stores[answers.findIndex((r) => r.statusCode === 200)]!;
      for (const s of stores) {
        const aliases = (await t.admin('GET', `/v1/stores/${s.id}`)).json().settings.aliases;
        expect(aliases.cheqpay === alias).toBe(s === winner);
        await setAliases(s, { cheqpay: null });
      }
    }
  });
});

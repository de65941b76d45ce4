import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { hashApiKey } from '../../src/core/stores/api-keys.js';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/**
 * A secret names its store, so that finding it reads one store (docs/scaling.md, "API
 * keys"); one issued before secrets named their store is found through `secret_routes`
 * (migration 0020 fills it: test/http/migration-0009.test.ts migrates such a key). The
 * store part is no credential: the hash covers the whole secret.
 */
let t: TestApp;
let store: TestStore;
let other: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore('one');
  other = await t.createStore('two');
});
afterAll(() => t.close());

const read = (storeId: string, key: string) =>
  t.app.inject({
    method: 'GET',
    url: `/v1/stores/${storeId}/customers?limit=1`,
    headers: { authorization: `Bearer ${key}` },
  });

it('issues keys and access tokens that name their store, and they work', async () => {
  expect(store.apiKey).toMatch(new RegExp(`^ck_[A-Za-z0-9_-]{43}\\.${store.id}$`));
  expect((await read(store.id, store.apiKey)).statusCode).toBe(200);
  const made = await t.admin('POST', `/v1/stores/${store.id}/api-keys`, { name: 'second' });
  expect(made.json().apiKey).toMatch(new RegExp(`\\.${store.id}$`));
  const caller = await t.clientele.keys.authenticate(store.apiKey);
  const token = await t.clientele.keys.createAccessToken(caller!);
  expect(token.accessToken).toMatch(new RegExp(`^at_[A-Za-z0-9_-]{43}\\.${store.id}$`));
  expect(await t.clientele.keys.authenticateAccessToken(token.accessToken)).toEqual(caller);
  const forged = token.accessToken.replace(store.id, other.id);
  expect(await t.clientele.keys.authenticateAccessToken(forged)).toBeUndefined();
});

it('refuses a key whose store part was changed, removed or mangled', async () => {
  const secret = store.apiKey.slice(0, store.apiKey.indexOf('.'));
  for (const forged of [
    `${secret}.${other.id}`,
    secret,
    `${secret}.`,
    `${secret}.${store.id}x`,
    `${secret}.sto x`,
    `${store.apiKey}.${store.id}`,
  ]) {
    expect((await read(store.id, forged)).statusCode, forged).toBe(401);
    expect((await read(other.id, forged)).statusCode, forged).toBe(401);
  }
  // The key itself reaches its own store only.
  expect((await read(other.id, store.apiKey)).statusCode).toBe(404);
});

it('finds a key issued before keys named their store by its route, and only so', async () => {
  const legacy = `ck_${randomBytes(32).toString('base64url')}`;
  const unrouted = `ck_${randomBytes(32).toString('base64url')}`;
  for (const key of [legacy, unrouted]) {
    await t.clientele.db
      .insertInto('api_keys')
      .values({
        store_id: store.id,
        id: newId('key'),
        name: null,
        key_hash: hashApiKey(key),
        key_prefix: key.slice(0, 7),
      })
      .execute();
  }
  await t.clientele.db
    .insertInto('secret_routes')
    .values({ secret_hash: hashApiKey(legacy), store_id: store.id })
    .execute();
  expect((await read(store.id, legacy)).statusCode).toBe(200);
  expect((await read(store.id, unrouted)).statusCode).toBe(401);
  expect((await read(store.id, `${legacy}.${store.id}`)).statusCode).toBe(401);

  const keys = (await t.admin('GET', `/v1/stores/${store.id}/api-keys?limit=100`)).json().data;
  const id = keys.find((k: { prefix: string }) => k.prefix === legacy.slice(0, 7)).id;
  expect((await t.admin('DELETE', `/v1/stores/${store.id}/api-keys/${id}`)).statusCode).toBe(204);
  expect((await read(store.id, legacy)).statusCode).toBe(401);
});

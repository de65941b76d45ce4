import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('admin API: stores', () => {
  it('creates a store with one API key, shown once and stored only as a hash', async () => {
    const res = await t.admin('POST', '/v1/stores', { name: 'Acme' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ name: 'Acme', settings: { identityConflict: 'reject' } });
    expect(body.id).toMatch(/^sto_[0-9A-Z]{26}$/);
    expect(body.apiKey).toMatch(/^ck_/);
    expect(body.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const read = await t.admin('GET', `/v1/stores/${body.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json().apiKey).toBeUndefined();

    const rows = await t.clientele.db
      .selectFrom('api_keys')
      .selectAll()
      .where('store_id', '=', body.id)
      .execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(body.apiKey);
    expect(rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('patches name and settings, and names a bad setting', async () => {
    const store = await t.createStore();
    const ok = await t.admin('PATCH', `/v1/stores/${store.id}`, {
      name: 'Renamed',
      settings: { identityConflict: 'merge', aliases: { redo: 'abc123' } },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      name: 'Renamed',
      settings: { identityConflict: 'merge', aliases: { redo: 'abc123' } },
    });

    const bad = await t.admin('PATCH', `/v1/stores/${store.id}`, {
      settings: { identityConflict: 'maybe', colour: 'red' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([
      { path: '/settings/identityConflict', message: "must be 'reject' or 'merge'" },
      { path: '/settings/colour', message: 'unknown setting' },
    ]);
    expect((await t.admin('GET', `/v1/stores/${store.id}`)).json().settings.identityConflict).toBe(
      'merge',
    );
  });

  it('refuses an alias another store already uses', async () => {
    const a = await t.createStore();
    const b = await t.createStore();
    expect(
      (await t.admin('PATCH', `/v1/stores/${a.id}`, { settings: { aliases: { yotpo: 'shared' } } }))
        .statusCode,
    ).toBe(200);
    const res = await t.admin('PATCH', `/v1/stores/${b.id}`, {
      settings: { aliases: { yotpo: 'shared' } },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('alias_taken');
    expect(res.json().errors[0].path).toBe('/settings/aliases/yotpo');
  });

  it('refuses a store without a name, and unknown body keys', async () => {
    const res = await t.admin('POST', '/v1/stores', { title: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual(
      expect.arrayContaining([
        { path: '/name', message: 'is required' },
        { path: '/title', message: 'is not a field of this object' },
      ]),
    );
  });

  it('answers 404 for a store that does not exist', async () => {
    const res = await t.admin('GET', '/v1/stores/sto_01JD0000000000000000000000');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('store_not_found');
  });
});

describe('admin API: keys', () => {
  it('creates keys that work and revokes them at once', async () => {
    const store = await t.createStore();
    const created = await t.admin('POST', `/v1/stores/${store.id}/api-keys`);
    expect(created.statusCode).toBe(201);
    const { id, apiKey } = created.json();
    expect(id).toMatch(/^key_/);
    const second = { id: store.id, apiKey };
    expect((await t.as(second).get('/customers')).statusCode).toBe(200);

    expect((await t.admin('DELETE', `/v1/stores/${store.id}/api-keys/${id}`)).statusCode).toBe(204);
    const after = await t.as(second).get('/customers');
    expect(after.statusCode).toBe(401);
    expect((await t.as(store).get('/customers')).statusCode).toBe(200);

    const again = await t.admin('DELETE', `/v1/stores/${store.id}/api-keys/${id}`);
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('api_key_not_found');
  });

  it("cannot revoke another store's key through this store's path", async () => {
    const a = await t.createStore();
    const b = await t.createStore();
    const key = (await t.admin('POST', `/v1/stores/${b.id}/api-keys`)).json();
    expect((await t.admin('DELETE', `/v1/stores/${a.id}/api-keys/${key.id}`)).statusCode).toBe(404);
    expect((await t.as({ id: b.id, apiKey: key.apiKey }).get('/customers')).statusCode).toBe(200);
  });
});

describe('admin API: security', () => {
  it('refuses a missing or wrong admin token with 401 and WWW-Authenticate', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-000000000000' },
      { authorization: ADMIN_TOKEN },
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/stores',
        headers,
        payload: { name: 'x' },
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('refuses a store key on the admin API', async () => {
    const store = await t.createStore();
    const res = await t.as(store).request('GET', `/v1/stores/${store.id}`);
    expect(res.statusCode).toBe(401);
  });

  it('is off when no admin token is configured', async () => {
    const app = await buildApp({ clientele: t.clientele });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stores',
      headers: { authorization: 'Bearer anything-at-all' },
      payload: { name: 'x' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toContain('CLIENTELE_ADMIN_TOKEN');
    await app.close();
  });
});

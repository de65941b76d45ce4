import { sql } from 'kysely';
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

describe('admin API: finding stores again', () => {
  it('lists stores newest first, a page at a time, each once', async () => {
    const made = [];
    for (const name of ['Listed A', 'Listed B', 'Listed C']) {
      made.push((await t.admin('POST', '/v1/stores', { name })).json().id as string);
    }
    const seen: { id: string; name: string; apiKey?: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const res = await t.admin('GET', `/v1/stores?limit=2${query}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    const ids = seen.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Newest first: the three just made lead, in reverse order of making.
    expect(ids.slice(0, 3)).toEqual([...made].reverse());
    expect(seen[0]).toMatchObject({ name: 'Listed C', settings: { identityConflict: 'reject' } });
    expect(seen.some((s) => s.apiKey !== undefined)).toBe(false);
  });

  it('names a cursor it did not give, and a limit out of range', async () => {
    const bad = await t.admin('GET', '/v1/stores?cursor=bm9wZQ');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/query/cursor');
    const limit = await t.admin('GET', '/v1/stores?limit=500');
    expect(limit.statusCode).toBe(400);
    expect(limit.json().errors[0].path).toBe('/query/limit');
  });

  it("returns the first key's id with the store, and lists keys with names but never a secret", async () => {
    const created = (await t.admin('POST', '/v1/stores', { name: 'Keyed' })).json();
    expect(created.apiKeyId).toMatch(/^key_/);
    const named = await t.admin('POST', `/v1/stores/${created.id}/api-keys`, { name: 'CI deploy' });
    expect(named.statusCode).toBe(201);
    expect(named.json()).toMatchObject({
      name: 'CI deploy',
      apiKey: expect.stringMatching(/^ck_/),
    });
    expect(named.json().id).toMatch(/^key_/);
    const revoked = (await t.admin('POST', `/v1/stores/${created.id}/api-keys`)).json();
    expect(revoked.name).toBeNull();
    await t.admin('DELETE', `/v1/stores/${created.id}/api-keys/${revoked.id}`);

    const res = await t.admin('GET', `/v1/stores/${created.id}/api-keys`);
    expect(res.statusCode).toBe(200);
    const { data, nextCursor } = res.json();
    expect(nextCursor).toBeNull();
    expect(data.map((k: { id: string }) => k.id)).toEqual([
      revoked.id,
      named.json().id,
      created.apiKeyId,
    ]);
    expect(data[0]).toMatchObject({ name: null, revokedAt: expect.any(String) });
    expect(data[1]).toMatchObject({ name: 'CI deploy', revokedAt: null, lastUsedAt: null });
    expect(data[2]).toMatchObject({ id: created.apiKeyId, prefix: created.apiKey.slice(0, 7) });
    for (const key of data) {
      expect(Object.keys(key).sort()).toEqual(
        ['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt'].sort(),
      );
    }
    const hashes = await t.clientele.db
      .selectFrom('api_keys')
      .select('key_hash')
      .where('store_id', '=', created.id)
      .execute();
    for (const secret of [
      created.apiKey,
      named.json().apiKey,
      revoked.apiKey,
      ...hashes.map((h) => h.key_hash),
    ]) {
      expect(res.body).not.toContain(secret);
    }

    const page = await t.admin('GET', `/v1/stores/${created.id}/api-keys?limit=1`);
    expect(page.json().data).toHaveLength(1);
    const next = await t.admin(
      'GET',
      `/v1/stores/${created.id}/api-keys?limit=2&cursor=${page.json().nextCursor}`,
    );
    expect(next.json().data.map((k: { id: string }) => k.id)).toEqual([
      named.json().id,
      created.apiKeyId,
    ]);
  });

  it('refuses a bad key name, and answers 404 for the keys of a store that does not exist', async () => {
    const store = await t.createStore();
    for (const body of [{ name: '' }, { name: 'x'.repeat(256) }, { name: 7 }, { label: 'x' }]) {
      const res = await t.admin('POST', `/v1/stores/${store.id}/api-keys`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().errors[0].path).toMatch(/^\/(name|label)$/);
    }
    const missing = await t.admin('GET', '/v1/stores/sto_01JD0000000000000000000000/api-keys');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('store_not_found');
  });

  it('records when a key was last used: one write for many requests, at most one a minute', async () => {
    const store = await t.createStore();
    // Every write of a key's last use, counted by the database itself.
    await sql`CREATE TABLE IF NOT EXISTS key_uses_written (key_id text NOT NULL)`.execute(
      t.clientele.db,
    );
    await sql`
      CREATE OR REPLACE FUNCTION count_key_use() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.last_used_at IS DISTINCT FROM OLD.last_used_at THEN
          INSERT INTO key_uses_written VALUES (NEW.id);
        END IF;
        RETURN NEW;
      END $$`.execute(t.clientele.db);
    await sql`
      CREATE OR REPLACE TRIGGER count_key_use AFTER UPDATE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION count_key_use()`.execute(t.clientele.db);
    const keyId = (await t.admin('GET', `/v1/stores/${store.id}/api-keys`)).json().data[0].id;
    const written = async () =>
      Number(
        (
          await sql<{
            n: number;
          }>`SELECT count(*) AS n FROM key_uses_written WHERE key_id = ${keyId}`.execute(
            t.clientele.db,
          )
        ).rows[0]?.n,
      );

    const before = Date.now();
    for (let i = 0; i < 30; i++) expect((await t.as(store).get('/customers')).statusCode).toBe(200);
    // Thirty requests, one write, a moment after the first of them.
    for (let i = 0; i < 50 && (await written()) === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await written()).toBe(1);

    const key = (await t.admin('GET', `/v1/stores/${store.id}/api-keys`)).json().data[0];
    expect(Date.parse(key.lastUsedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(key.lastUsedAt)).toBeLessThanOrEqual(Date.now());

    // Used again within the minute: nothing more is written.
    for (let i = 0; i < 30; i++) await t.as(store).get('/customers');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await written()).toBe(1);
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
    for (const url of [`/v1/stores/${store.id}`, '/v1/stores', `/v1/stores/${store.id}/api-keys`]) {
      const res = await t.as(store).request('GET', url);
      expect(res.statusCode, url).toBe(401);
    }
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

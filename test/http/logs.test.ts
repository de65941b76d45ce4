import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { ADMIN_TOKEN, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';

/** What the logs say, line by line, of an app that logs as the server does (level info). */
let lines: Record<string, unknown>[];
let logged: string;
let t: TestApp;
let app: FastifyInstance;
let store: TestStore;

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore();
  lines = [];
  logged = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logged += chunk.toString();
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  app = await buildApp({
    clientele: t.clientele,
    adminToken: ADMIN_TOKEN,
    logger: { level: 'info', stream },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await t.close();
});

const upsert = (body: object) =>
  app.inject({
    method: 'POST',
    url: `/v1/stores/${store.id}/customers`,
    headers: { authorization: `Bearer ${store.apiKey}` },
    payload: body,
  });

describe('logs', () => {
  it('carry no customer data when a database error quotes it, yet name what failed', async () => {
    // An operator's own constraints, which Clientele knows nothing of: the database's
    // refusal is a 500, and PostgreSQL's detail quotes the row (`Key (…)=(…)`, `Failing
    // row contains (…)`).
    await sql`CREATE UNIQUE INDEX operator_first_names ON customers (store_id, first_name)`.execute(
      t.clientele.db,
    );
    await sql`ALTER TABLE customers ADD CONSTRAINT operator_no_zed
      CHECK (last_name IS DISTINCT FROM 'Zed-Secret-Surname')`.execute(t.clientele.db);
    expect(
      (await upsert({ email: 'zelda.one@example.com', firstName: 'Zelda-Secret' })).statusCode,
    ).toBe(201);

    const unique = await upsert({ email: 'zelda.two@example.com', firstName: 'Zelda-Secret' });
    const check = await upsert({
      email: 'zelda.three@example.com',
      lastName: 'Zed-Secret-Surname',
    });
    for (const res of [unique, check]) {
      expect(res.statusCode).toBe(500);
      expect(res.json().detail).toBe('Something went wrong on our side.');
    }

    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    const [first, second] = errors.map((l) => l.err as Record<string, unknown>);
    expect(first).toMatchObject({ code: '23505', constraint: 'operator_first_names' });
    expect(second).toMatchObject({ code: '23514', constraint: 'operator_no_zed' });
    expect(String(first?.stack)).toContain('operator_first_names');
    for (const secret of ['Zelda-Secret', 'zelda.two', 'zelda.three', 'Zed-Secret-Surname']) {
      expect(logged).not.toContain(secret);
    }
    expect(logged).not.toContain('detail');
  });

  it('log a request by its path and the names of its query parameters, never their values', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/stores/${store.id}/customers?email=hidden.person%40example.com&limit=5`,
      headers: { authorization: `Bearer ${store.apiKey}` },
    });
    expect(res.statusCode).toBe(404);
    const incoming = lines.filter((l) => l.msg === 'incoming request').at(-1);
    expect((incoming?.req as { url: string } | undefined)?.url).toBe(
      `/v1/stores/${store.id}/customers?email=…&limit=…`,
    );
    expect(logged).not.toContain('hidden.person');
  });
});

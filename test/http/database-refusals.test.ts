import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clientele } from '../../src/core/clientele.js';
import { buildApp } from '../../src/http/app.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

/**
 * A database that refuses us is an outage, whatever the reason it gives: every API
 * answers 503 with Retry-After, never 500. Each cause is real: a port nothing listens
 * on, and on the local PostgreSQL a database that does not exist, a role that does not
 * exist, and a role whose connection limit is reached.
 */

const ADMIN = 'refusals-admin-token-0123456789';

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Requests of each kind an app answers from the database, and what each answered. */
async function answersOn(databaseUrl: string) {
  const clientele = await Clientele.open({ databaseUrl, poolSize: 2 });
  const app = await buildApp({ clientele, adminToken: ADMIN });
  try {
    const key = { authorization: 'Bearer ck_live_nothing_to_find_here' };
    return await Promise.all([
      app.inject({ method: 'GET', url: '/v1/stores/sto_x/customers', headers: key }),
      app.inject({
        method: 'POST',
        url: '/v1/stores/sto_x/customers',
        headers: key,
        payload: { email: 'refused@example.com' },
      }),
      app.inject({
        method: 'POST',
        url: '/v1/stores',
        headers: { authorization: `Bearer ${ADMIN}` },
        payload: { name: 'refused' },
      }),
      app.inject({
        method: 'GET',
        url: '/compat/voucherify/v1/customers/x',
        headers: { 'x-app-id': 'sto_x', 'x-app-token': 'ck_live_nothing' },
      }),
    ]);
  } finally {
    await app.close();
    await clientele.close();
  }
}

async function expectOutage(databaseUrl: string) {
  const [find, upsert, createStore, voucherify] = await answersOn(databaseUrl);
  for (const res of [find, upsert, createStore]) {
    expect(res?.statusCode, res?.body).toBe(503);
    expect(res?.headers['retry-after']).toBe('1');
    expect(res?.json()).toMatchObject({ code: 'service_unavailable', status: 503 });
  }
  expect(voucherify?.statusCode).toBe(503);
  expect(voucherify?.headers['retry-after']).toBe('1');
  expect(voucherify?.json()).toMatchObject({ code: 503, key: 'service_unavailable' });
}

describe('a database that refuses connections', () => {
  it('answers 503 with Retry-After when nothing listens (ECONNREFUSED)', async () => {
    await expectOutage(`postgres://postgres@127.0.0.1:${await freePort()}/clientele`);
  });
});

describe.skipIf(!onPostgres)('a PostgreSQL that refuses us', () => {
  let database: TestDatabase;
  const role = `clientele_refused_${randomBytes(4).toString('hex')}`;
  const admin = () => new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  const urlAs = (user: string, name?: string) => {
    const url = new URL(database.url ?? '');
    url.username = user;
    if (name) url.pathname = `/${name}`;
    return url.toString();
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    // Migrated, so that only the refusal stands between a request and an answer.
    await (await database.open()).close();
    const c = admin();
    await c.connect();
    await c.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
    await c.end();
  });
  afterAll(async () => {
    const c = admin();
    await c.connect();
    await c.query(`DROP ROLE IF EXISTS ${role}`);
    await c.end();
    await database.drop();
  });

  it('answers 503 for a database that does not exist (3D000)', async () => {
    await expectOutage(urlAs('postgres', `no_such_db_${randomBytes(4).toString('hex')}`));
  });

  it('answers 503 for a role that does not exist (28000)', async () => {
    await expectOutage(urlAs(`no_such_role_${randomBytes(4).toString('hex')}`));
  });

  it('answers 503 for a role whose connection limit is reached (53300)', async () => {
    await expectOutage(urlAs(role));
  });

  it('still answers on the same database when it lets us in', async () => {
    const [find] = await answersOn(urlAs('postgres'));
    expect(find?.statusCode).toBe(401);
  });
});

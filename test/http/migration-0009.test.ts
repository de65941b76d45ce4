import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clientele } from '../../src/core/clientele.js';
import { migrateTo } from '../../src/core/db/migrate.js';
import { newId } from '../../src/core/ids.js';
import { hashApiKey } from '../../src/core/stores/api-keys.js';
import { buildApp } from '../../src/http/app.js';
import { ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { cli } from '../helpers/server-process.js';

/**
 * Migration 0009 on data written by the release before it: emails and phone numbers
 * stored in the forms the old rules let through, aliases that name another store, and
 * customer numbers from one sequence for every store. The data is written with SQL on a
 * database migrated to 0008; `clientele migrate` (a real process) applies 0009; then the
 * API is asked what a user would check.
 */
let database: TestDatabase;
let dataDir: string;
let clientele: Clientele;
let app: FastifyInstance;
let migrateOutput = '';

// A key in the form keys had then: no store part (migration 0020 routes it).
const key = `ck_${randomBytes(32).toString('base64url')}`;
const s1 = newId('sto');
const s2 = newId('sto');
const s3 = newId('sto');
const ids = {
  jose: newId('cust'),
  mary1: newId('cust'),
  mary2: newId('cust'),
  ann: newId('cust'),
  phoneA: newId('cust'),
  phoneB: newId('cust'),
  both: newId('cust'),
  otherJose: newId('cust'),
};

/** A database handle on the test's database, without migrating it. */
function openUnmigrated(): Promise<Clientele> {
  return Clientele.open(database.url ? { databaseUrl: database.url } : { dataDir, migrate: false });
}

async function seedOldForms(db: Clientele['db']): Promise<void> {
  const store = (id: string, name: string, aliases: Record<string, string>, at: string) =>
    sql`INSERT INTO stores (id, name, settings, created_at)
      VALUES (${id}, ${name}, ${JSON.stringify({ aliases })}::jsonb, ${at})`.execute(db);
  await store(s1, 'one', { redo: 'redo-one' }, '2026-01-01T00:00:00Z');
  // Store 2's Redo alias is store 1's id; store 3's is store 1's alias.
  await store(s2, 'two', { redo: s1, yotpo: 'yotpo-two' }, '2026-01-02T00:00:00Z');
  await store(s3, 'three', { redo: 'redo-one' }, '2026-01-03T00:00:00Z');
  await sql`INSERT INTO api_keys (store_id, id, key_hash, key_prefix)
    VALUES (${s1}, ${newId('key')}, ${hashApiKey(key)}, 'ck_x')`.execute(db);

  const customer = async (
    storeId: string,
    id: string,
    email: string | null,
    phones: string[] = [],
  ) => {
    await sql`INSERT INTO customers (store_id, id, email, phone_numbers, created_at, updated_at)
      VALUES (${storeId}, ${id}, ${email}, ${phones}::text[], now(), now())`.execute(db);
    const rows = [...(email ? [['email', email]] : []), ...phones.map((p) => ['phone', p])];
    for (const [kind, value] of rows) {
      await sql`INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
        VALUES (${storeId}, ${kind}, ${value}, ${id})`.execute(db);
    }
  };
  // Stores 1 and 2 take turns creating customers: one sequence numbered them all.
  await customer(s1, ids.jose, 'jose\u0301@example.com', ['+4407911123456']);
  await customer(s2, ids.otherJose, 'jose\u0301@example.com');
  await customer(s1, ids.mary1, 'ｍａｒｙ@example.com');
  await customer(s2, newId('cust'), 'filler@example.com');
  await customer(s1, ids.mary2, 'mary@example.com');
  await customer(s1, ids.ann, 'ann\u200b@xn--mnchen-3ya.de');
  await customer(s1, ids.phoneA, null, ['+4407911123457']);
  await customer(s1, ids.phoneB, null, ['+447911123457']);
  await customer(s1, ids.both, null, ['+4407911123458', '+447911123458', '+12025550143']);
}

function runCli(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: {
        ...process.env,
        CLIENTELE_DATA_DIR: dataDir,
        DATABASE_URL: database.url ?? '',
        LOG_LEVEL: 'silent',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'clientele-0009-'));
  const before = await openUnmigrated();
  await migrateTo(before.db, '0008_change_record');
  await seedOldForms(before.db);
  await before.close();

  const migrated = await runCli(['migrate']);
  expect(migrated.code, migrated.stderr).toBe(0);
  migrateOutput = migrated.stdout;

  clientele = await openUnmigrated();
  app = await buildApp({ clientele, adminToken: ADMIN_TOKEN });
  await app.ready();
}, 120_000);
afterAll(async () => {
  await app?.close();
  await clientele?.close();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const as = (method: string, url: string, body?: unknown) =>
  app.inject({
    method: method as 'GET',
    url: `/v1/stores/${s1}${url}`,
    headers: { authorization: `Bearer ${key}` },
    ...(body === undefined ? {} : { payload: body as object }),
  });

describe('migration 0009 on data in the old forms', () => {
  it('`clientele migrate` applies it and says that collisions were left, without personal data', () => {
    expect(migrateOutput).toContain('Applied: 0009_identity');
    expect(migrateOutput).toContain('4 identity collisions left as found by migration 0009');
    expect(migrateOutput).toContain('identity_collisions');
    expect(migrateOutput).not.toMatch(/mary|@|\+44/);
  });

  // Before any other test creates a customer in store 1.
  it('keeps every customer’s number, and numbers new customers on from the store’s highest', async () => {
    const seqOf = (id: string) => clientele.customers.seqOf(s1, id);
    expect(await seqOf(ids.jose)).toBe(1);
    expect(await seqOf(ids.both)).toBe(9);
    const created = await as('POST', '/customers', { email: 'new@example.com' });
    expect(await seqOf(created.json().customer.id)).toBe(10);
    // Store 2 counts on from its own highest (4), not from store 1's.
    const two = await clientele.customers.upsert(
      { storeId: s2, api: 'native', keyId: null },
      { email: 'two-new@example.com' },
    );
    expect(await clientele.customers.seqOf(s2, two.customer.id)).toBe(5);
  });

  it('finds a customer by the canonical forms of what it held, and an upsert in any form updates it', async () => {
    const byPhone = await as('GET', `/customers?phone=${encodeURIComponent('+447911123456')}`);
    expect(byPhone.statusCode).toBe(200);
    expect(byPhone.json()).toMatchObject({
      id: ids.jose,
      email: 'jos\u00e9@example.com',
      phoneNumbers: ['+447911123456'],
    });
    for (const email of ['jos\u00e9@example.com', 'JOSE\u0301@EXAMPLE.COM']) {
      const res = await as('POST', '/customers', { email, phoneNumber: '+4407911123456' });
      expect(res.statusCode, email).toBe(200);
      expect(res.json()).toMatchObject({ result: 'unchanged', customer: { id: ids.jose } });
    }
    const ann = await as('GET', `/customers?email=${encodeURIComponent('ann@münchen.de')}`);
    expect(ann.json().id).toBe(ids.ann);
  });

  it('joins the two forms one customer held into one number', async () => {
    const res = await as('GET', `/customers/${ids.both}`);
    expect(res.json().phoneNumbers).toEqual(['+447911123458', '+12025550143']);
  });

  it('records the rewrite in the customer’s history, at a new version', async () => {
    const res = await as('GET', `/customers/${ids.jose}/events`);
    expect(res.statusCode).toBe(200);
    const [event] = res.json().data;
    expect(event).toMatchObject({ type: 'updated', api: 'migration', version: 3 });
    const all = res.json().data.map((e: { changes: object }) => e.changes);
    expect(all).toEqual(
      expect.arrayContaining([
        { email: { before: 'jose\u0301@example.com', after: 'jos\u00e9@example.com' } },
        { phoneNumbers: { before: ['+4407911123456'], after: ['+447911123456'] } },
      ]),
    );
  });

  it('merges nothing: two customers that would hold one value keep theirs, and the collision is listed', async () => {
    const mary1 = (await as('GET', `/customers/${ids.mary1}`)).json();
    const mary2 = (await as('GET', `/customers/${ids.mary2}`)).json();
    expect([mary1.email, mary2.email]).toEqual(['ｍａｒｙ@example.com', 'mary@example.com']);
    expect((await as('GET', `/customers/${ids.phoneA}`)).json().phoneNumbers).toEqual([
      '+4407911123457',
    ]);
    expect((await as('GET', `/customers/${ids.phoneB}`)).json().phoneNumbers).toEqual([
      '+447911123457',
    ]);
    const rows = await clientele.db
      .selectFrom('identity_collisions')
      .select(['store_id', 'kind', 'value', 'holders', 'stored_values'])
      .orderBy('kind')
      .execute();
    expect(rows).toEqual(
      expect.arrayContaining([
        {
          store_id: s1,
          kind: 'email',
          value: 'mary@example.com',
          holders: [ids.mary1, ids.mary2].sort(),
          stored_values: expect.arrayContaining(['ｍａｒｙ@example.com', 'mary@example.com']),
        },
        {
          store_id: s1,
          kind: 'phone',
          value: '+447911123457',
          holders: [ids.phoneA, ids.phoneB].sort(),
          stored_values: expect.arrayContaining(['+4407911123457', '+447911123457']),
        },
      ]),
    );
    // Another store's customer with the same email is its own, and was normalised.
    const other = await clientele.customers.get(s2, ids.otherJose);
    expect(other.email).toBe('jos\u00e9@example.com');
  });

  it('keeps the first store an alias named, drops it from the others, and lists each', async () => {
    const redo = await app.inject({
      method: 'PUT',
      url: '/compat/redo/v2.2/stores/redo-one/customers',
      headers: { authorization: `Bearer ${key}` },
      payload: { email: 'redo@example.com' },
    });
    expect(redo.statusCode).toBe(201);
    const settings = async (id: string) =>
      (
        await app.inject({
          method: 'GET',
          url: `/v1/stores/${id}`,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).json().settings.aliases;
    expect(await settings(s1)).toEqual({ redo: 'redo-one' });
    expect(await settings(s2)).toEqual({ yotpo: 'yotpo-two' });
    expect(await settings(s3)).toEqual({});
    const rows = await clientele.db
      .selectFrom('identity_collisions')
      .select(['store_id', 'value', 'holders'])
      .where('kind', '=', 'alias:redo')
      .orderBy('store_id')
      .execute();
    expect(rows).toEqual([
      { store_id: s2, value: s1, holders: [s1] },
      { store_id: s3, value: 'redo-one', holders: [s1] },
    ]);
  });
});

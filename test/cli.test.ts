import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { cli } from './helpers/server-process.js';

/**
 * The `clientele` command as a user runs it: a real process on a real database (a PGlite
 * directory, or a PostgreSQL database when TEST_DATABASE_URL is set).
 */

let database: TestDatabase;
let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'clientele-cli-'));
  env = {
    ...process.env,
    CLIENTELE_DATA_DIR: dataDir,
    DATABASE_URL: database.url ?? '',
    LOG_LEVEL: 'silent',
  };
});
afterAll(async () => {
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args], {
      cwd: join(import.meta.dirname, '..'),
      env: { ...env, ...extraEnv },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `clientele serve` on a free port; resolves once it says where it serves. */
function serve(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cli, 'serve'], {
      cwd: join(import.meta.dirname, '..'),
      env: { ...env, PORT: '0' },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, output: () => out });
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

describe('clientele CLI', () => {
  it('migrate, then stores create and list, keys create, list and revoke', async () => {
    const migrated = await run(['migrate']);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/Applied: 0001_init|Already up to date/);

    const created = await run(['stores', 'create', 'Corner', 'Shop']);
    expect(created.code, created.stderr).toBe(0);
    const store = JSON.parse(created.stdout);
    expect(store).toMatchObject({ name: 'Corner Shop' });
    expect(store.apiKey).toMatch(/^ck_/);

    expect(store.apiKeyId).toMatch(/^key_/);

    const key = await run(['keys', 'create', store.id, 'CI', 'deploy']);
    expect(key.code, key.stderr).toBe(0);
    const { id, name, apiKey } = JSON.parse(key.stdout);
    expect(id).toMatch(/^key_/);
    expect(name).toBe('CI deploy');

    const stores = await run(['stores', 'list']);
    expect(stores.code, stores.stderr).toBe(0);
    expect(JSON.parse(stores.stdout)).toContainEqual(
      expect.objectContaining({ id: store.id, name: 'Corner Shop' }),
    );
    expect(stores.stdout).not.toContain(store.apiKey);

    const keys = await run(['keys', 'list', store.id]);
    expect(keys.code, keys.stderr).toBe(0);
    expect(JSON.parse(keys.stdout)).toEqual([
      expect.objectContaining({ id, name: 'CI deploy', lastUsedAt: null, revokedAt: null }),
      expect.objectContaining({ id: store.apiKeyId, name: null }),
    ]);
    expect(keys.stdout).not.toContain(store.apiKey);
    expect(keys.stdout).not.toContain(apiKey);

    expect((await run(['keys', 'revoke', store.id, id])).stdout).toContain(`Revoked ${id}`);
    const again = await run(['keys', 'revoke', store.id, id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('api_key_not_found');
    const after = JSON.parse((await run(['keys', 'list', store.id])).stdout);
    expect(after[0]).toMatchObject({ id, revokedAt: expect.any(String) });

    const unknown = await run(['keys', 'list', 'sto_01JD0000000000000000000000']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('store_not_found: No such store.');
  }, 90_000);

  it('customers export and erase: one person as JSON, then forgotten and suppressed', async () => {
    // On PostgreSQL the secret key must be configured; PGlite keeps its own in its directory.
    const keyed = database.url
      ? { CLIENTELE_SECRET_KEY: 'cli-test-secret-key-0123456789abcdef' }
      : {};
    const store = JSON.parse((await run(['stores', 'create', 'Privacy'])).stdout);
    const file = join(dataDir, 'person.ndjson');
    writeFileSync(
      file,
      `${JSON.stringify({ email: 'cli.person@example.com', firstName: 'Clio', customFields: { tier: 'gold' } })}\n`,
    );
    const imported = await run(['import', file, '--store', store.id], keyed);
    expect(imported.code, imported.stderr).toBe(0);
    // Named by email, as a person's request names them; the document gives the id.
    const byEmail = await run(['customers', 'export', store.id, 'cli.person@example.com'], keyed);
    expect(byEmail.code, byEmail.stderr).toBe(0);
    const customerId = JSON.parse(byEmail.stdout).customer.id as string;
    expect(customerId).toMatch(/^cust_/);

    const exported = await run(['customers', 'export', store.id, customerId], keyed);
    expect(exported.code, exported.stderr).toBe(0);
    const doc = JSON.parse(exported.stdout);
    expect(doc).toMatchObject({
      format: 'clientele.customer-export/1',
      storeId: store.id,
      customer: { id: customerId, email: 'cli.person@example.com', firstName: 'Clio' },
      identifiers: [{ kind: 'email', value: 'cli.person@example.com', suppressed: false }],
      customFields: [{ name: 'tier', type: 'STRING', value: 'gold' }],
    });
    expect(doc.history.map((e: { type: string }) => e.type)).toEqual(['created']);

    if (database.url) {
      const unkeyed = await run(['customers', 'erase', store.id, customerId]);
      expect(unkeyed.code).toBe(2);
      expect(unkeyed.stderr).toContain('CLIENTELE_SECRET_KEY');
    }
    const erased = await run(['customers', 'erase', store.id, customerId], keyed);
    expect(erased.code, erased.stderr).toBe(0);
    expect(erased.stdout).toContain(`Erased ${customerId}.`);
    const gone = await run(['customers', 'export', store.id, customerId], keyed);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('customer_not_found');
    expect((await run(['customers', 'erase', store.id, customerId], keyed)).code).toBe(2);
    // The same row again is refused: the email is suppressed.
    const again = await run(['import', file, '--store', store.id], keyed);
    expect(again.code).toBe(1);
    const missing = await run(['customers', 'export', store.id], keyed);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Missing <customerId>');
  }, 120_000);

  it('explains itself on bad usage and bad configuration', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Usage: clientele');
    const missing = await run(['keys', 'create']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Missing <storeId>');
    const option = await run(['stores', 'create', '--name', 'Shop']);
    expect(option.code).toBe(1);
    expect(option.stderr).toContain("Unknown option '--name'");
    expect(option.stderr).toContain('Usage: clientele');
    expect(option.stderr).not.toContain('at checkOptionUsage');
    const bad = await run(['migrate'], { PORT: 'x' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('PORT');
  }, 60_000);

  it.skipIf(Boolean(process.env.TEST_DATABASE_URL))(
    'refuses a second process on a PGlite directory a server holds, and takes over after a crash',
    async () => {
      const server = await serve();
      const pid = server.child.pid;
      const second = await run(['stores', 'create', 'Intruder']);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`in use by process ${pid}`);
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      // The dead server's lock is taken over.
      const after = await run(['stores', 'create', 'After crash']);
      expect(after.code, after.stderr).toBe(0);
    },
    90_000,
  );

  it('serve: the first start on an empty database creates the default store and prints its key once', async () => {
    const fresh = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'clientele-serve-'));
    const saved = env;
    env = { ...env, CLIENTELE_DATA_DIR: dir, DATABASE_URL: fresh.url ?? '' };
    try {
      const first = await serve();
      const key = /(ck_\S+)/.exec(first.output())?.[1];
      const storeId = /"default" \((sto_\w+)\)/.exec(first.output())?.[1];
      const keyId = /API key \((key_\w+)\)/.exec(first.output())?.[1];
      expect(key).toBeDefined();
      expect(keyId).toBeDefined();
      const res = await fetch(`${first.url}/v1/stores/${storeId}/customers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'served@example.com' }),
      });
      expect(res.status).toBe(201);
      expect(await stop(first.child)).toBe(0);

      const second = await serve();
      expect(second.output()).not.toContain('ck_');
      const read = await fetch(
        `${second.url}/v1/stores/${storeId}/customers?email=served%40example.com`,
        {
          headers: { authorization: `Bearer ${key}` },
        },
      );
      expect(read.status).toBe(200);
      expect(await stop(second.child)).toBe(0);

      // The key the first start printed is the store's key, found again by its id.
      const keys = await run(['keys', 'list', storeId ?? '']);
      expect(JSON.parse(keys.stdout)).toEqual([expect.objectContaining({ id: keyId })]);
    } finally {
      env = saved;
      await fresh.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

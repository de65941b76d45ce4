import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import {
  bootstrapCredentials,
  missingCustomers,
  type ServerProcess,
  startServerProcess,
  upsertStream,
} from '../helpers/server-process.js';

/**
 * Durability as an operator sees it: a server killed outright, or stopped with SIGTERM
 * under load, loses no upsert it acknowledged. On the PGlite directory by default, on a
 * PostgreSQL database when TEST_DATABASE_URL is set.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function environment() {
  const database: TestDatabase = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'clientele-durability-'));
  cleanups.push(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    DATABASE_URL: database.url ?? '',
    CLIENTELE_DATA_DIR: dataDir,
    CLIENTELE_RATE_LIMIT: '0',
  };
}

function track(server: ServerProcess) {
  cleanups.unshift(async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });
  return server;
}

/**
 * Until the stream has had more than ten upserts acknowledged, and a second more: the
 * process is then under load however slow the machine is (a fixed wait was not always).
 */
async function underLoad(stream: { acknowledged: unknown[] }) {
  const deadline = Date.now() + 30_000;
  while (stream.acknowledged.length <= 10 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1000));
}

describe('durability', () => {
  it('kill -9 in the middle of a stream of upserts: every acknowledged upsert survives', async () => {
    const env = await environment();
    const first = track(await startServerProcess(env));
    const { storeId, apiKey } = bootstrapCredentials(first.output());
    const stream = upsertStream(first.url, storeId, apiKey);
    await underLoad(stream);
    first.child.kill('SIGKILL');
    await first.exited;
    await stream.stop();
    expect(stream.acknowledged.length).toBeGreaterThan(10);

    const second = track(await startServerProcess(env));
    expect(await missingCustomers(second.url, storeId, apiKey, stream.acknowledged)).toEqual([]);
  }, 90_000);

  it('SIGTERM under load: in-flight requests finish, the process exits within 10 s, nothing acknowledged is lost', async () => {
    const env = await environment();
    const first = track(await startServerProcess(env));
    const { storeId, apiKey } = bootstrapCredentials(first.output());
    const stream = upsertStream(first.url, storeId, apiKey, 8);
    await underLoad(stream);
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const code = await first.exited;
    const took = Date.now() - signalled;
    await stream.stop();
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000);
    expect(stream.acknowledged.length).toBeGreaterThan(10);
    // Requests after the stop are refused (503 or a closed connection), never half-done.
    expect(stream.errors.every((e) => e === '503' || !/^\d+$/.test(e))).toBe(true);

    const second = track(await startServerProcess(env));
    expect(await missingCustomers(second.url, storeId, apiKey, stream.acknowledged)).toEqual([]);
  }, 90_000);
});

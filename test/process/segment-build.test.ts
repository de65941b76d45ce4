import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Clientele } from '../../src/core/clientele.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import {
  bootstrapCredentials,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * A server killed with SIGKILL in the middle of a segment's build: the next server takes
 * the build up where its last chunk ended, once the lease lapses, and the segment ends
 * ready with exactly the members the filter holds for.
 */
const servers: ServerProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await s.exited;
  }
  for (const c of cleanups.splice(0)) await c();
});

const CUSTOMERS = 1200;

it('kill -9 mid-build: another server finishes the segment, exactly', async () => {
  const database: TestDatabase = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'clientele-segment-build-'));
  cleanups.push(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = {
    CLIENTELE_DATA_DIR: join(dir, 'data'),
    DATABASE_URL: database.url ?? '',
    CLIENTELE_RATE_LIMIT: '0',
    CLIENTELE_SEGMENT_BUILD_CHUNK: '1',
    CLIENTELE_SEGMENT_BUILD_REQUEST_MS: '0',
    CLIENTELE_SEGMENT_BUILD_LEASE_MS: '1000',
  };
  const first = await startServerProcess(env);
  servers.push(first);
  const { storeId, apiKey } = bootstrapCredentials(first.output());
  const call = async (url: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/v1/stores/${storeId}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
  for (let i = 0; i < CUSTOMERS; i += 40) {
    await Promise.all(
      Array.from({ length: 40 }, (_, k) =>
        call(first.url, 'POST', '/customers', {
          email: `k${i + k}@example.com`,
          customFields: { score: (i + k) % 3 },
        }),
      ),
    );
  }
  const filter = { field: 'customFields.score', op: 'eq', value: 1 };
  const created = await call(first.url, 'POST', '/segments', { name: 'ones', filter });
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('building');
  const id = created.body.id;
  // Killed at once: one customer a chunk, its build is well under way, not done.
  first.child.kill('SIGKILL');
  await first.exited;

  // Where the killed server left it, read from the database itself.
  const engine = await Clientele.open(
    database.url ? { databaseUrl: database.url } : { dataDir: env.CLIENTELE_DATA_DIR },
  );
  const midway = await engine.segments.get(storeId, id);
  await engine.close();
  expect(midway.status).toBe('building');
  expect(midway.count).toBeLessThan(CUSTOMERS / 3);

  const second = await startServerProcess(env);
  servers.push(second);
  const deadline = Date.now() + 60_000;
  let done = midway;
  while (done.status !== 'ready' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    done = (await call(second.url, 'GET', `/segments/${id}`)).body;
  }
  expect(done.status).toBe('ready');
  const preview = await call(second.url, 'POST', '/segments/preview', { filter });
  expect(done.count).toBe(preview.body.count);
  expect(done.count).toBe(CUSTOMERS / 3);
  const ids: string[] = [];
  let cursor = '';
  do {
    const page = await call(second.url, 'GET', `/segments/${id}/customers?limit=100${cursor}`);
    ids.push(...page.body.data.map((m: { id: string }) => m.id));
    cursor = page.body.nextCursor ? `&cursor=${page.body.nextCursor}` : '';
  } while (cursor);
  expect(ids).toHaveLength(done.count);
  expect(new Set(ids).size).toBe(done.count);
}, 120_000);

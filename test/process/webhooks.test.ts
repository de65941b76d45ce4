import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  feedCaughtUp,
  onPostgres,
  type TestDatabase,
} from '../helpers/database.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import {
  bootstrapCredentials,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * Three real server processes on one PostgreSQL, all delivering webhooks: each
 * attempt is made by one of them, and a process killed in the middle of deliveries
 * loses none (another takes them over when its lease runs out).
 */
let database: TestDatabase;
let receiver: Receiver;
const servers: ServerProcess[] = [];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!onPostgres) return;
  database = await createTestDatabase();
  receiver = await startReceiver();
  env = {
    DATABASE_URL: database.url as string,
    CLIENTELE_RATE_LIMIT: '0',
    CLIENTELE_SECRET_KEY: 'fleet-secret-key-0123456789abcdef0123456789',
    CLIENTELE_WEBHOOK_ALLOW_PRIVATE: 'true',
    CLIENTELE_WEBHOOK_ALLOW_HTTP: 'true',
    CLIENTELE_WEBHOOK_LEASE_MS: '3000',
  };
  servers.push(await startServerProcess(env));
  servers.push(await startServerProcess(env));
  servers.push(await startServerProcess(env));
}, 90_000);

afterAll(async () => {
  for (const server of servers) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await receiver?.close();
  if (database) await database.drop();
});

async function writeMany(storeId: string, apiKey: string, prefix: string, n: number) {
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, async (_, j) => {
        const server = servers[(i + j) % servers.length] as ServerProcess;
        const res = await fetch(`${server.url}/v1/stores/${storeId}/customers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ email: `${prefix}${i + j}@example.com` }),
        });
        expect(res.status).toBe(201);
        await res.arrayBuffer();
      }),
    );
  }
}

/** The store's feed, once it shows every write acknowledged so far. */
async function feedIds(url: string, storeId: string, apiKey: string): Promise<string[]> {
  await feedCaughtUp(database.url as string);
  const ids: string[] = [];
  let after = '';
  for (;;) {
    const res = await fetch(`${url}/v1/stores/${storeId}/events?limit=500${after}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    const page = (await res.json()) as { data: { id: string }[]; hasMore: boolean };
    ids.push(...page.data.map((e) => e.id));
    if (!page.hasMore) return ids;
    after = `&after=${ids.at(-1)}`;
  }
}

describe.skipIf(!onPostgres)('webhooks from a fleet of three processes on one PostgreSQL', () => {
  it('delivers every event once, and loses none when a process is killed mid-delivery', async () => {
    const { storeId, apiKey } = bootstrapCredentials(servers.map((s) => s.output()).join('\n'));
    const first = servers[0] as ServerProcess;
    const created = await fetch(`${first.url}/v1/stores/${storeId}/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['*'] }),
    });
    expect(created.status).toBe(201);
    const endpoint = (await created.json()) as { id: string };

    await writeMany(storeId, apiKey, 'fleet', 150);
    const ids = await feedIds(first.url, storeId, apiKey);
    expect(ids).toHaveLength(150);
    await receiver.until((r) => r.length >= 150, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const delivered = receiver.received.map((r) => String(r.headers['webhook-id']));
    // Each attempt made once, by one of the three.
    expect(delivered.sort()).toEqual([...ids].sort());

    // Now a slow receiver, so that deliveries are in flight when a process dies.
    receiver.received.length = 0;
    receiver.answer = () => new Promise((resolve) => setTimeout(() => resolve(200), 150));
    // A request sent to the process that is killed may fail; the ones acknowledged count.
    const writing = writeMany(storeId, apiKey, 'crash', 120).catch(() => {});
    await receiver.until((r) => r.length >= 15, 60_000);
    const victim = servers[1] as ServerProcess;
    victim.child.kill('SIGKILL');
    await victim.exited;
    servers.splice(1, 1);
    await writing;
    const all = await feedIds(first.url, storeId, apiKey);
    const crashIds = all.slice(150);
    await receiver.until((r) => {
      const got = new Set(r.map((x) => String(x.headers['webhook-id'])));
      return crashIds.every((id) => got.has(id));
    }, 60_000);
    // The dead process's deliveries were in flight: another process sends them again
    // once their lease runs out, and the queue empties.
    const pending = async () => {
      const log = await fetch(
        `${first.url}/v1/stores/${storeId}/webhook-endpoints/${endpoint.id}/attempts?limit=1`,
        { headers: { authorization: `Bearer ${apiKey}` } },
      );
      return ((await log.json()) as { pending: number }).pending;
    };
    const deadline = Date.now() + 60_000;
    while ((await pending()) > 0) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Nothing lost; an event sent twice (one in flight when its process died) kept its id.
    // The feed is read again: the killed process's last transaction may have ended only
    // now (its backend outlives it for a moment), holding back the events after it.
    const final = (await feedIds(first.url, storeId, apiKey)).slice(150);
    expect(final).toEqual(expect.arrayContaining(crashIds));
    await receiver.until((r) => {
      const ids = new Set(r.map((x) => String(x.headers['webhook-id'])));
      return final.every((id) => ids.has(id));
    }, 60_000);
    const got = receiver.received.map((x) => String(x.headers['webhook-id']));
    expect(new Set(got)).toEqual(new Set(final));
    expect(got.length).toBeGreaterThanOrEqual(final.length);
  }, 180_000);
});

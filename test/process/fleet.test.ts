import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import {
  bootstrapCredentials,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * Two real server processes on one PostgreSQL, as a fleet runs: requests for one person
 * spread over both still make exactly one customer and lose no change.
 */
let database: TestDatabase;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  if (!onPostgres) return;
  database = await createTestDatabase();
  const env = { DATABASE_URL: database.url!, CLIENTELE_RATE_LIMIT: '0' };
  servers.push(await startServerProcess(env));
  servers.push(await startServerProcess(env));
}, 60_000);

afterAll(async () => {
  for (const server of servers) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  if (database) await database.drop();
});

describe.skipIf(!onPostgres)('a fleet of two processes on one PostgreSQL', () => {
  it('50 concurrent upserts of one new person, spread over both: one customer, every field', async () => {
    const { storeId, apiKey } = bootstrapCredentials(servers.map((s) => s.output()).join('\n'));
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${servers[i % 2]!.url}/v1/stores/${storeId}/customers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            email: 'fleet@example.com',
            phoneNumber: `+1202555${String(4000 + i)}`,
            customFields: { [`f${i}`]: i },
          }),
        }),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([...Array(49).fill(200), 201]);
    const list = (await (
      await fetch(`${servers[0]!.url}/v1/stores/${storeId}/customers?limit=100`, {
        headers: { authorization: `Bearer ${apiKey}` },
      })
    ).json()) as { data: { customFields: Record<string, number>; phoneNumbers: string[] }[] };
    expect(list.data).toHaveLength(1);
    expect(Object.keys(list.data[0]!.customFields)).toHaveLength(50);
    expect(list.data[0]!.phoneNumbers).toHaveLength(50);
  }, 60_000);
});

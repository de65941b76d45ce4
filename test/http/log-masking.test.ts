import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import {
  bootstrapCredentials,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * A real server's request log never carries a credential from the URL, however the
 * parameter naming it is written: percent-encoded (once or twice), in any case.
 */
let database: TestDatabase;
let dataDir: string;
let server: ServerProcess;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'clientele-logs-'));
  server = await startServerProcess({
    CLIENTELE_DATA_DIR: dataDir,
    DATABASE_URL: database.url ?? '',
    LOG_LEVEL: 'info',
  });
}, 60_000);
afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('request logs', () => {
  it('mask a token in the URL however its parameter name is encoded', async () => {
    const { storeId, apiKey } = bootstrapCredentials(server.output());
    const secrets: string[] = [];
    const secret = () => {
      const s = `sekret${secrets.length}x${Math.random().toString(36).slice(2)}`;
      secrets.push(s);
      return s;
    };
    // The first start printed the key, once: only what is logged from here on is read.
    const from = server.output().length;
    const base = `${server.url}/compat/yotpo/core/v3/stores/${storeId}/customers`;
    const urls = [
      `${base}?access_token=${secret()}`,
      `${base}?access%5Ftoken=${secret()}`,
      `${base}?access%5ftoken=${secret()}&external_ids=a`,
      `${base}?ACCESS_TOKEN=${secret()}`,
      `${base}?external_ids=a&Access_Token=${secret()}`,
      `${base}?access%255Ftoken=${secret()}`,
      `${base}?%61ccess_token=${secret()}`,
      `${base}?access_token%3D${secret()}`,
      `${server.url}/v1/stores/${storeId}/customers?api_key=${secret()}`,
    ];
    for (const url of urls)
      await (await fetch(url, { headers: { 'x-yotpo-token': apiKey } })).text();
    // The log is written as the requests complete; give the last line a moment.
    await new Promise((r) => setTimeout(r, 300));
    const log = server.output().slice(from);
    // Each parameter is still named, as it was written.
    expect(log).toContain('access%5Ftoken=…');
    expect(log).toContain('ACCESS_TOKEN=…');
    for (const s of secrets) expect(log, s).not.toContain(s);
    expect(log).not.toContain(apiKey);
    expect(log).toContain('external_ids=…');
  }, 60_000);
});

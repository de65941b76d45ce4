import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, onPostgres } from '../helpers/database.js';
import {
  bootstrapCredentials,
  runCli,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * `clientele serve` as an operator meets it when something around it is wrong (its port
 * taken, the database away or missing) and when it is stopped with a client still
 * connected. On a PGlite directory by default, on a PostgreSQL database when
 * TEST_DATABASE_URL is set.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function environment() {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'clientele-serve-'));
  cleanups.push(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { DATABASE_URL: database.url ?? '', CLIENTELE_DATA_DIR: dataDir };
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

/** A port something else listens on, until the test ends. */
async function takenPort(): Promise<number> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => holder.close(() => resolve())));
  return (holder.address() as AddressInfo).port;
}

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** What an operator reads on stderr: one line, and no stack trace. */
function expectOneLine(stderr: string) {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('serve, when its surroundings are wrong', () => {
  it('exits non-zero with one line naming the port when the port is taken, and frees the data directory', async () => {
    const env = await environment();
    const port = await takenPort();
    const began = Date.now();
    const run = await runCli(['serve'], { ...env, PORT: String(port) });
    expect(run.code).toBe(2);
    expect(Date.now() - began).toBeLessThan(25_000);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain(`Port ${port}`);
    expect(run.stderr).toContain('in use');
    expect(existsSync(join(env.CLIENTELE_DATA_DIR, 'clientele.pid'))).toBe(false);

    // The failed start left nothing behind: the same database serves on a free port.
    const server = track(await startServerProcess(env));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 90_000);

  it('says in one line that the database cannot be reached, for serve and the other commands', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: `postgres://postgres:secret-pw@127.0.0.1:${port}/clientele` };
    for (const args of [['serve'], ['migrate'], ['stores', 'create', 'Shop']]) {
      const run = await runCli(args, env);
      expect(run.code, args.join(' ')).toBe(2);
      expectOneLine(run.stderr);
      expect(run.stderr).toContain(`Cannot reach PostgreSQL at 127.0.0.1:${port}`);
      expect(run.stderr).toContain('DATABASE_URL');
      expect(run.stderr).not.toContain('secret-pw');
    }
  }, 90_000);

  it.skipIf(!onPostgres)(
    'says in one line that the database does not exist, and how to create it',
    async () => {
      const url = new URL(process.env.TEST_DATABASE_URL ?? '');
      url.pathname = '/clientele_missing_db';
      for (const args of [['serve'], ['migrate'], ['keys', 'list', 'sto_x']]) {
        const run = await runCli(args, { DATABASE_URL: url.toString() });
        expect(run.code, args.join(' ')).toBe(2);
        expectOneLine(run.stderr);
        expect(run.stderr).toContain('no database "clientele_missing_db"');
        expect(run.stderr).toContain('createdb');
      }
    },
    90_000,
  );
});

describe('serve, stopped with a client connected', () => {
  it('SIGTERM with a keep-alive request in flight: the request is answered, the process exits 0 at once and frees the data directory', async () => {
    const env = await environment();
    const server = track(await startServerProcess({ ...env, CLIENTELE_RATE_LIMIT: '0' }));
    const { storeId, apiKey } = bootstrapCredentials(server.output());
    const agent = new Agent({ keepAlive: true });
    cleanups.push(async () => agent.destroy());
    const url = new URL(`${server.url}/v1/stores/${storeId}/customers`);
    const body = JSON.stringify({ email: 'in-flight@example.com' });

    // A warm keep-alive connection first, as a client's pool has one.
    const warm = await fetch(`${server.url}/healthz`);
    expect(warm.status).toBe(200);

    // The request's headers and half its body arrive; the rest only after SIGTERM.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 500);
      }, 500);
    });
    const signalled = Date.now() + 500;
    const response = await answer;
    expect(response.status, response.body).toBe(201);
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(existsSync(join(env.CLIENTELE_DATA_DIR, 'clientele.pid'))).toBe(false);

    // What it acknowledged is there after a restart.
    const again = track(await startServerProcess(env));
    const read = await fetch(
      `${again.url}/v1/stores/${storeId}/customers?email=in-flight%40example.com`,
      {
        headers: { authorization: `Bearer ${apiKey}` },
      },
    );
    expect(read.status).toBe(200);
  }, 90_000);
});

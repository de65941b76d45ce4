import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodePostgres from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clientele } from '../../src/core/clientele.js';
import { buildApp } from '../../src/http/app.js';
import {
  bootstrapCredentials,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * A PostgreSQL that goes away and comes back: a throwaway cluster on a spare port,
 * stopped in the middle of the run. Needs PostgreSQL's server binaries (initdb, pg_ctl),
 * as CI has them; without them the test says so and is skipped.
 */
function findBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  for (const version of readdirSync(base).sort().reverse()) {
    const bin = join(base, version, 'bin');
    if (existsSync(join(bin, 'initdb'))) return bin;
  }
  return undefined;
}

const bin = findBin();
let port: number;

/** A port nothing listens on now (a fixed range once landed on the machine's own 5432). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as AddressInfo;
      server.close(() => resolve(free));
    });
  });
}
const asRoot = process.getuid?.() === 0;
let dir: string;
let server: ServerProcess | undefined;

/** Runs a PostgreSQL binary as the postgres user when we are root (initdb refuses root). */
function pg(tool: string, args: string[]) {
  const command = asRoot ? 'runuser' : join(bin!, tool);
  const argv = asRoot ? ['-u', 'postgres', '--', join(bin!, tool), ...args] : args;
  execFileSync(command, argv, { stdio: 'pipe' });
}
const start = () =>
  pg('pg_ctl', [
    '-D',
    join(dir, 'data'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    '-l',
    join(dir, 'log'),
    '-w',
    'start',
  ]);
const stop = () => pg('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
const reload = () => pg('pg_ctl', ['-D', join(dir, 'data'), 'reload']);

beforeAll(async () => {
  if (!bin) return;
  port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'clientele-outage-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  pg('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  start();
}, 60_000);

afterAll(async () => {
  if (!bin) return;
  if (server) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  try {
    stop();
  } catch {
    // already stopped
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!bin)('PostgreSQL outage', () => {
  it('answers 503 quickly while the database is down, and recovers by itself', async () => {
    server = await startServerProcess({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      CLIENTELE_RATE_LIMIT: '0',
    });
    const { storeId, apiKey } = bootstrapCredentials(server.output());
    let ended: number | string | null | undefined;
    void server.exited.then((code) => {
      ended = code;
    });
    // A refused connection means the server is gone: say how it ended, and what it said.
    const upsert = (email: string) =>
      fetch(`${server!.url}/v1/stores/${storeId}/customers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      }).catch((error: unknown) => {
        throw new Error(
          `${String(error)}; the server ${ended === undefined ? 'runs' : `ended (${ended})`}: ${server!.output()}`,
        );
      });
    expect((await upsert('before@example.com')).status).toBe(201);

    stop();
    for (let i = 0; i < 3; i++) {
      const began = Date.now();
      const res = await upsert(`during${i}@example.com`);
      expect(res.status).toBe(503);
      expect(Date.now() - began).toBeLessThan(2000);
      expect((await res.json()).code).toBe('service_unavailable');
    }
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    start();
    let recovered = 0;
    for (let i = 0; i < 50 && recovered !== 201; i++) {
      recovered = (await upsert('after@example.com')).status;
      if (recovered !== 201) await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered).toBe(201);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  }, 90_000);

  it('answers 503 with Retry-After to a wrong password (28P01), as to any refusal', async () => {
    // The local server of the other tests trusts every login; this one asks this role
    // for its password.
    const admin = new nodePostgres.Client({
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    });
    await admin.connect();
    await admin.query(`CREATE ROLE clientele_pw LOGIN PASSWORD 'the-right-one'`);
    await admin.end();
    const hba = join(dir, 'data', 'pg_hba.conf');
    writeFileSync(
      hba,
      `host all clientele_pw 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`,
    );
    reload();

    // A server that started with the right password, whose password then changes (a
    // rotation gone wrong): each new connection is refused. (A wrong password at start is
    // a one-line exit instead: test/process/serve.test.ts.)
    const clientele = await Clientele.open({
      databaseUrl: `postgres://clientele_pw:the-right-one@127.0.0.1:${port}/postgres`,
      poolSize: 1,
    });
    const app = await buildApp({ clientele });
    const asAdmin = async (statement: string) => {
      const c = new nodePostgres.Client({
        connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
      });
      await c.connect();
      await c.query(statement);
      // Its open connections go, so the next query needs a new login.
      await c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'clientele_pw'`,
      );
      await c.end();
    };
    const answer = () =>
      app.inject({
        method: 'GET',
        url: '/v1/stores/sto_x/customers',
        headers: { authorization: 'Bearer ck_live_nothing' },
      });
    try {
      await asAdmin(`ALTER ROLE clientele_pw PASSWORD 'another-one'`);
      let wrong = await answer();
      // The first query may meet the connection as it is terminated; the next logs in anew.
      if (wrong.statusCode === 503 && wrong.json().code !== 'service_unavailable')
        wrong = await answer();
      wrong = await answer();
      expect(wrong.statusCode).toBe(503);
      expect(wrong.headers['retry-after']).toBe('1');
      expect(wrong.json().code).toBe('service_unavailable');
      // The password back: it gets in again, so the refusal was the password's.
      await asAdmin(`ALTER ROLE clientele_pw PASSWORD 'the-right-one'`);
      expect((await answer()).statusCode).not.toBe(503);
    } finally {
      await app.close();
      await clientele.close();
    }
  }, 60_000);
});

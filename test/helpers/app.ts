import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Clientele, ClienteleOptions } from '../../src/core/clientele.js';
import { buildApp } from '../../src/http/app.js';
import { createTestDatabase, onPostgres, type TestDatabase } from './database.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestStore {
  id: string;
  apiKey: string;
}

export interface TestApp {
  app: FastifyInstance;
  clientele: Clientele;
  database: TestDatabase;
  /** A new store, created through the admin API. */
  createStore(name?: string): Promise<TestStore>;
  /** A request with a store's key. */
  as(store: TestStore): StoreClient;
  admin(method: string, url: string, body?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface StoreClient {
  upsert(body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  get(path: string): Promise<LightMyRequestResponse>;
  request(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

export async function startTestApp(
  database?: TestDatabase,
  options?: Partial<ClienteleOptions>,
): Promise<TestApp> {
  const db = database ?? (await createTestDatabase());
  const clientele = await db.open(options);
  const app = await buildApp({ clientele, adminToken: ADMIN_TOKEN });
  await app.ready();

  const admin = (method: string, url: string, body?: unknown) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });

  return {
    app,
    clientele,
    database: db,
    admin,
    async createStore(name = 'test store') {
      const res = await admin('POST', '/v1/stores', { name });
      if (res.statusCode !== 201) throw new Error(`store creation failed: ${res.body}`);
      const body = res.json();
      return { id: body.id, apiKey: body.apiKey };
    },
    as(store) {
      const request = (
        method: string,
        url: string,
        body?: unknown,
        headers: Record<string, string> = {},
      ) =>
        app.inject({
          method: method as 'GET',
          url,
          headers: { authorization: `Bearer ${store.apiKey}`, ...headers },
          ...(body === undefined ? {} : { payload: body as object }),
        });
      return {
        request,
        upsert: (body, headers) =>
          request('POST', `/v1/stores/${store.id}/customers`, body, headers),
        get: (path) => request('GET', `/v1/stores/${store.id}${path}`),
      };
    },
    async close() {
      await app.close();
      await clientele.close();
      if (!database) await db.drop();
    },
  };
}

/**
 * An app with a store configured by `settings` (a dialect's alias, say) and another
 * store whose credentials must reach nothing of the first.
 */
export async function startWithTwoStores(
  settings: Record<string, unknown>,
): Promise<{ t: TestApp; store: TestStore; other: TestStore }> {
  const t = await startTestApp();
  const store = await t.createStore();
  const other = await t.createStore();
  const res = await t.admin('PATCH', `/v1/stores/${store.id}`, { settings });
  if (res.statusCode !== 200) throw new Error(`settings refused: ${res.body}`);
  return { t, store, other };
}

/**
 * What a fleet looks like to a test: on PostgreSQL two app instances on one database
 * (each with its own pool, as two processes would have), on PGlite one; a store, and a
 * client of it per instance. `close()` stops them and drops the database.
 */
export interface Fleet {
  instances: TestApp[];
  store: TestStore;
  clients: StoreClient[];
  close(): Promise<void>;
}

export async function startFleet(): Promise<Fleet> {
  const database = await createTestDatabase();
  const instances = [await startTestApp(database)];
  if (onPostgres) instances.push(await startTestApp(database));
  const store = await instances[0]!.createStore();
  return {
    instances,
    store,
    clients: instances.map((i) => i.as(store)),
    async close() {
      for (const i of instances) await i.close();
      await database.drop();
    },
  };
}

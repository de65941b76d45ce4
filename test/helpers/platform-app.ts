import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Clientele } from '../../src/core/clientele.js';
import { buildApp } from '../../src/http/app.js';
import { ADMIN_TOKEN, type TestStore } from './app.js';
import { createTestDatabase } from './database.js';
import { type Answer, recordAnswers } from './platform-schemas.js';

/**
 * The app serving on a port of 127.0.0.1, for a platform's own client to call, with every
 * answer it gives under `prefix` recorded for checking against the platform's schema.
 */
export interface RecordedServer {
  app: FastifyInstance;
  clientele: Clientele;
  url: string;
  answers: Answer[];
  createStore(settings?: Record<string, unknown>): Promise<TestStore>;
  close(): Promise<void>;
}

export async function startRecordedServer(prefix: string): Promise<RecordedServer> {
  const database = await createTestDatabase();
  const clientele = await database.open();
  const app = await buildApp({ clientele, adminToken: ADMIN_TOKEN });
  const answers = recordAnswers(app, prefix);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const admin = (method: 'POST' | 'PATCH', url: string, payload: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload });
  return {
    app,
    clientele,
    url: `http://127.0.0.1:${port}`,
    answers,
    async createStore(settings) {
      const created = await admin('POST', '/v1/stores', { name: 'platform test' });
      if (created.statusCode !== 201) throw new Error(`store creation failed: ${created.body}`);
      const { id, apiKey } = created.json();
      if (settings) {
        const res = await admin('PATCH', `/v1/stores/${id}`, { settings });
        if (res.statusCode !== 200) throw new Error(`settings refused: ${res.body}`);
      }
      return { id, apiKey };
    },
    async close() {
      await app.close();
      await clientele.close();
      await database.drop();
    },
  };
}

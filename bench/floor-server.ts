/**
 * The HTTP floor: Fastify answering the bench's upserts with no database and no rules,
 * only a parsed body and an answer of the real one's shape and size. What the server
 * and the load generator cost per request here, every HTTP service on this machine
 * pays before doing any work of its own. Started by bench/run.ts as the real server is
 * (same node flags); prints `serving on <url>`.
 */
import Fastify from 'fastify';
import { customerOf, emptyState } from '../src/core/customers/customer.js';

const app = Fastify({ logger: false });
// The real answer's customer, made once by the code that makes it; each request only
// puts in its own email, custom fields, version and time.
const started = new Date();
const template = customerOf('sto_floor', {
  id: 'cust_01JBENCHFLOOR0000000000000',
  seq: 1,
  version: 1,
  mergedInto: null,
  createdAt: started,
  updatedAt: started,
  state: emptyState(),
});
let version = 0;

app.post<{ Params: { storeId: string }; Body: { email?: string; customFields?: object } }>(
  '/v1/stores/:storeId/customers',
  async (request, reply) => {
    version++;
    reply.header('ETag', `"${version}"`);
    return {
      result: 'updated',
      matchedBy: 'email',
      customer: {
        ...template,
        storeId: request.params.storeId,
        email: request.body.email ?? null,
        customFields: request.body.customFields ?? {},
        version,
        updatedAt: new Date().toISOString(),
      },
      warnings: [],
    };
  },
);

process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`serving on ${url}`);

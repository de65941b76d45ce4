/**
 * The HTTP floor: Fastify answering the bench's upserts with no database and no rules,
 * only a parsed body and an answer of the real one's shape and size. What the server
 * and the load generator cost per request here, every HTTP service on this machine
 * pays before doing any work of its own. Started by bench/run.ts as the real server is
 * (same node flags); prints `serving on <url>`.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
let version = 0;

app.post<{ Params: { storeId: string }; Body: { email?: string; customFields?: object } }>(
  '/v1/stores/:storeId/customers',
  async (request, reply) => {
    const now = new Date().toISOString();
    version++;
    reply.header('ETag', `"${version}"`);
    return {
      result: 'updated',
      matchedBy: 'email',
      customer: {
        id: 'cust_01JBENCHFLOOR0000000000000',
        storeId: request.params.storeId,
        externalId: null,
        email: request.body.email ?? null,
        phoneNumbers: [],
        firstName: null,
        lastName: null,
        birthdate: null,
        description: null,
        active: true,
        location: {},
        identifiers: [],
        customFields: request.body.customFields ?? {},
        metadata: {},
        channels: {},
        loyalty: null,
        version,
        createdAt: now,
        updatedAt: now,
      },
      warnings: [],
    };
  },
);

process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`serving on ${url}`);

import type { FastifyPluginAsync } from 'fastify';
import type { Clientele } from '../../core/clientele.js';

export const healthRoutes: FastifyPluginAsync<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const ready = await clientele.ready();
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unavailable', database: clientele.databaseKind });
  });
};

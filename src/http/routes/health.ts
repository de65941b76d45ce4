import type { FastifyPluginAsync } from 'fastify';
import type { Clientele } from '../../core/clientele.js';

export const healthRoutes: FastifyPluginAsync<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  const livenessSchema = { hide: true, operationId: 'checkLiveness' };
  app.get('/healthz', { schema: livenessSchema }, async () => ({ status: 'ok' }));

  const readinessSchema = { hide: true, operationId: 'checkReadiness' };
  app.get('/readyz', { schema: readinessSchema }, async (_request, reply) => {
    const ready = await clientele.ready();
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unavailable', database: clientele.databaseKind });
  });
};

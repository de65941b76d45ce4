import type { FastifyInstance } from 'fastify';
import type { Clientele } from '../../core/clientele.js';
import { requireStoreKey } from './auth.js';
import { idempotencyGuard } from './idempotency.js';

/**
 * What every native route of a store runs first: the store's API key (its caller), then
 * the idempotency guard keyed by that store.
 */
export function guardStoreRoutes(app: FastifyInstance, clientele: Clientele): void {
  app.addHook('preHandler', requireStoreKey(clientele));
  app.addHook(
    'preHandler',
    idempotencyGuard(clientele, (request) => request.caller.storeId),
  );
}

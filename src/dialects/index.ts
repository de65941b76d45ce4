import type { FastifyInstance } from 'fastify';
import type { Clientele } from '../core/clientele.js';
import { capillaryRoutes } from './capillary/capillary.js';
import { cheqpayRoutes } from './cheqpay/cheqpay.js';
import { redoRoutes } from './redo/redo.js';
import { voucherifyRoutes } from './voucherify/voucherify.js';
import { yotpoRoutes } from './yotpo/yotpo.js';

/** Mounts each platform's dialect under /compat/<platform>, with its own error shape. */
export async function registerDialects(app: FastifyInstance, clientele: Clientele): Promise<void> {
  await app.register(redoRoutes, { prefix: '/compat/redo', clientele });
  await app.register(yotpoRoutes, { prefix: '/compat/yotpo', clientele });
  await app.register(capillaryRoutes, { prefix: '/compat/capillary', clientele });
  await app.register(cheqpayRoutes, { prefix: '/compat/cheqpay', clientele });
  await app.register(voucherifyRoutes, { prefix: '/compat/voucherify', clientele });
}

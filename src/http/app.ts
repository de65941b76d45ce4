import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import type { Clientele } from '../core/clientele.js';
import { newId } from '../core/ids.js';
import { registerDialects } from '../dialects/index.js';
import { withLoggableSerializers } from './logging.js';
import { registerOpenApi } from './openapi.js';
import { errorsPlugin, toClienteleError } from './plugins/errors.js';
import { idempotencyPlugin } from './plugins/idempotency.js';
import { jsonPlugin } from './plugins/json.js';
import { MAX_PARAM_LENGTH, methodsPlugin } from './plugins/methods.js';
import { metricsPlugin } from './plugins/metrics.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { textPlugin } from './plugins/text.js';
import { sendProblem } from './problem.js';
import { consoleRoutes } from './routes/console.js';
import { healthRoutes } from './routes/health.js';
import { customFieldRoutes } from './routes/v1/custom-fields.js';
import { customerRoutes } from './routes/v1/customers.js';
import { eventRoutes } from './routes/v1/events.js';
import { importRoutes } from './routes/v1/imports.js';
import { mergeRoutes } from './routes/v1/merges.js';
import { segmentRoutes } from './routes/v1/segments.js';
import { storeRoutes } from './routes/v1/stores.js';
import { suppressionRoutes } from './routes/v1/suppressions.js';
import { webhookRoutes } from './routes/v1/webhooks.js';

// ajv and ajv-formats ship CommonJS with a default export that ESM sees one level down.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

export interface AppOptions {
  clientele: Clientele;
  adminToken?: string | undefined;
  logger?: FastifyServerOptions['logger'];
  /** Requests per second per API key; 0 or absent: no limit. */
  rateLimit?: number;
}

export const BODY_LIMIT = 1024 * 1024;

/**
 * Bodies are validated strictly (no coercion, unknown keys refused, every problem
 * reported); query strings and params are coerced, since they arrive as text.
 */
function validatorCompilers() {
  const common = {
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  } as const;
  const body = new Ajv({ ...common, coerceTypes: false });
  const text = new Ajv({ ...common, coerceTypes: true });
  addFormats(body);
  addFormats(text);
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? body : text).compile(schema);
}

/** The HTTP face of Clientele. It never listens: server.ts (or a test) does. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withLoggableSerializers(options.logger),
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // What the router itself refuses (a path that is not percent-encoded UTF-8) is
    // answered as a problem too; no route, so no dialect's shape, is known yet.
    frameworkErrors: (error, request, reply) => {
      sendProblem(reply as FastifyReply, toClienteleError(error, request));
    },
    genReqId: () => newId('req'),
    requestIdHeader: false,
    return503OnClosing: true,
    ajv: { customOptions: {} },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompilers());
  // Once the app is closing, each response ends its connection: a keep-alive connection
  // left idle after its last answer would hold the server open (Fastify closes only the
  // connections idle when it begins to close), and a stopping process past its grace.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Hooks on every request take a callback rather than return a promise: cheaper.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('X-Request-Id', request.id);
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });

  await app.register(errorsPlugin);
  await app.register(methodsPlugin);
  await app.register(jsonPlugin);
  await app.register(textPlugin);
  await app.register(metricsPlugin, { clientele: options.clientele });
  await app.register(idempotencyPlugin, { clientele: options.clientele });
  await app.register(rateLimitPlugin, {
    clientele: options.clientele,
    adminToken: options.adminToken,
    perSecond: options.rateLimit ?? 0,
  });
  await registerOpenApi(app);

  const { clientele } = options;
  await app.register(healthRoutes, { clientele });
  await app.register(consoleRoutes);
  await app.register(storeRoutes, { clientele, adminToken: options.adminToken });
  await app.register(customerRoutes, { clientele });
  await app.register(customFieldRoutes, { clientele });
  await app.register(eventRoutes, { clientele });
  await app.register(webhookRoutes, { clientele });
  await app.register(importRoutes, { clientele });
  await app.register(segmentRoutes, { clientele });
  await app.register(suppressionRoutes, { clientele });
  await app.register(mergeRoutes, { clientele });
  await registerDialects(app, clientele);
  return app;
}

import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Platform } from '../core/stores/settings.js';
import { bodyExamples, dialectSummaries } from './openapi-content.js';
import { Problem } from './schemas/common.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** False on a write route that does not honour Idempotency-Key (no store known before it runs). */
    idempotencyKey?: boolean;
    /** A body the route streams itself (not parsed): its media types, each with an example. */
    fileBody?: Record<string, string>;
  }
}

/**
 * The OpenAPI document (`/openapi.json`, `/docs`, `npm run openapi`): each route's own
 * schema, plus what holds for every route, added here once rather than on each route:
 * the platform's tag and credentials on each dialect route, the Idempotency-Key header
 * on each write, the 429 and 503 answers, and the example bodies of the seed pages.
 */

const description = `Clientele is a self-hostable, multi-tenant **customer profile service**: the customer core that marketing, loyalty and commerce platforms are built on. Its heart is one operation, **create or update a customer**, done right: identity resolution over several identifiers, typed custom fields that declare themselves, partial updates that never lose data, and exactly one profile per person however many requests for that person arrive at once.

Beside its native API (\`/v1\`) it speaks five platforms' dialects under \`/compat/<platform>\` (Redo, Yotpo, Capillary, Cheqpay, Voucherify), so an integration written for one of them only changes its base URL and credentials.

- **Store API**: \`Authorization: Bearer ck_…\`, a store's API key. **Admin API**: \`Authorization: Bearer <CLIENTELE_ADMIN_TOKEN>\`. Each dialect takes the same store keys in its platform's own way.
- **Errors** are RFC 9457 problem documents (\`application/problem+json\`) with a \`code\`; a dialect answers in its platform's error shape.
- **Idempotency-Key** on a write: a retry with the same key and request within 24 hours gets the first answer again (\`Idempotent-Replayed: true\`) and writes nothing.
- **429** past the rate limit of a credential, **503** while the database is unavailable: both with \`Retry-After\`.`;

/** Each platform's tag, what its section says, and how its credentials travel. */
export const dialectDocs: Record<
  Platform,
  { tag: string; description: string; security: Record<string, string[]>[] }
> = {
  redo: {
    tag: 'Redo',
    description:
      "Redo's customer API at `/compat/redo/v2.2`: `Authorization: Bearer ck_…`; the path names the store by its id or its Redo alias.",
    security: [{ apiKey: [] }],
  },
  yotpo: {
    tag: 'Yotpo',
    description:
      "Yotpo's Core API at `/compat/yotpo/core/v3`: a token in `X-Yotpo-Token` or `?access_token=`, exchanged for a store key (or the key itself); the path names the store by its id or its Yotpo alias.",
    security: [{ yotpoToken: [] }, { yotpoAccessToken: [] }],
  },
  capillary: {
    tag: 'Capillary',
    description:
      "Capillary's customer API at `/compat/capillary/v2`: `Authorization: Basic base64(<store id or alias>:<key>)`. Updates only; its integer customer ids are Clientele's per-store numbers.",
    security: [{ capillaryBasic: [] }],
  },
  cheqpay: {
    tag: 'Cheqpay',
    description:
      'The merchant customer API at `/compat/cheqpay`: `x-api-key: ck_…` (or `Authorization: Bearer`) and `x-merchant-id: <store id or alias>`.',
    security: [{ cheqpayApiKey: [], cheqpayMerchantId: [] }],
  },
  voucherify: {
    tag: 'Voucherify',
    description:
      "Voucherify's customers API at `/compat/voucherify/v1`: `X-App-Id: <store id or alias>` and `X-App-Token: ck_…`.",
    security: [{ voucherifyAppId: [], voucherifyAppToken: [] }],
  },
};

const header = (name: string, text: string) =>
  ({ type: 'apiKey', in: 'header', name, description: text }) as const;

const securitySchemes = {
  apiKey: { type: 'http', scheme: 'bearer', description: 'A store API key, ck_…' },
  adminToken: { type: 'http', scheme: 'bearer', description: 'CLIENTELE_ADMIN_TOKEN' },
  yotpoToken: header('X-Yotpo-Token', 'An access token (or a store key, ck_…)'),
  yotpoAccessToken: {
    type: 'apiKey',
    in: 'query',
    name: 'access_token',
    description: 'An access token (or a store key), in the query string',
  },
  capillaryBasic: {
    type: 'http',
    scheme: 'basic',
    description: 'The store id (or its Capillary alias) as user, a store key as password',
  },
  cheqpayApiKey: header('x-api-key', 'A store key, ck_…'),
  cheqpayMerchantId: header('x-merchant-id', 'The store id, or its Cheqpay alias'),
  voucherifyAppId: header('X-App-Id', 'The store id, or its Voucherify alias'),
  voucherifyAppToken: header('X-App-Token', 'A store key, ck_…'),
} as const;

const tags = [
  { name: 'customers', description: 'Create or update customers, find them, read their history.' },
  {
    name: 'custom fields',
    description: 'The custom fields a store has declared, and their values.',
  },
  { name: 'events', description: "The store's change records, in order: its event feed." },
  {
    name: 'webhooks',
    description: 'Endpoints that receive the events, signed, and their deliveries.',
  },
  {
    name: 'segments',
    description: 'Saved filters over profiles and custom fields, their members and counts, live.',
  },
  {
    name: 'merges',
    description: 'Merging duplicate customers, where each field came from, and undoing a merge.',
  },
  {
    name: 'privacy',
    description: "Erasure's suppressions: an erased customer's identifiers, kept as keyed hashes.",
  },
  { name: 'admin', description: 'Stores and their API keys (CLIENTELE_ADMIN_TOKEN).' },
  ...Object.values(dialectDocs).map(({ tag, description: text }) => ({
    name: tag,
    description: text,
  })),
];

const writeMethods = ['POST', 'PUT', 'PATCH', 'DELETE'];

const retryAfter = {
  type: 'integer',
  description: 'Seconds to wait before trying again',
};

/**
 * An error answer as the document shows it: a native one is a problem document
 * (`application/problem+json`, as sendProblem answers), a dialect's in its own shape.
 */
function errorAnswer(schema: object | undefined, description?: string, headers?: object) {
  const said = description === undefined ? {} : { 'x-response-description': description };
  const told = headers === undefined ? {} : { headers };
  if (schema === Problem) {
    return {
      description: description ?? 'RFC 9457 problem details',
      content: { 'application/problem+json': { schema: Problem } },
      ...told,
    };
  }
  return { ...schema, ...said, ...told };
}

/** The answers every route can give, whatever it does. */
function everyRouteAnswers(errorSchema: object | undefined) {
  return {
    429: errorAnswer(
      errorSchema,
      'Too many requests with this credential (CLIENTELE_RATE_LIMIT per second); retry after Retry-After.',
      {
        'Retry-After': retryAfter,
        'RateLimit-Limit': { type: 'integer', description: 'Requests allowed per second' },
        'RateLimit-Remaining': { type: 'integer', description: 'Requests left in this second' },
        'RateLimit-Reset': { type: 'integer', description: 'Seconds until the limit resets' },
      },
    ),
    503: errorAnswer(
      errorSchema,
      "The database is unavailable (or the server is stopping), or, for a store's first segment preview, its custom-field values are being indexed (`values_preparing`); retry after Retry-After.",
      { 'Retry-After': retryAfter },
    ),
  };
}

type RouteSchema = {
  hide?: boolean;
  tags?: string[];
  security?: unknown;
  headers?: { properties?: Record<string, unknown>; [key: string]: unknown };
  body?: Record<string, unknown>;
  response?: Record<string, unknown>;
  [key: string]: unknown;
};

const platformOf = (url: string) => /^\/compat\/([a-z]+)\//.exec(url)?.[1] as Platform | undefined;

/** One route's entry in the document: its schema, with what holds for every route. */
function documentRoute({
  schema,
  url,
  route,
}: {
  schema: unknown;
  url: string;
  route: RouteOptions;
}) {
  const own = (schema ?? {}) as RouteSchema;
  if (own.hide) return { schema: own, url };
  const next: RouteSchema = { ...own };
  const platform = platformOf(url);
  if (platform) {
    const docs = dialectDocs[platform];
    next.tags = [docs.tag];
    next.security ??= docs.security;
  }
  const methods = ([] as string[]).concat(route.method);
  if (methods.some((m) => writeMethods.includes(m)) && route.config?.idempotencyKey !== false) {
    next.headers = {
      type: 'object',
      ...own.headers,
      properties: {
        ...own.headers?.properties,
        'Idempotency-Key': {
          type: 'string',
          minLength: 1,
          maxLength: 255,
          description:
            'Makes a retry safe: the same key with the same request within 24 hours gets the first answer again, with Idempotent-Replayed: true, and writes nothing.',
        },
      },
    };
  }
  // A route answers 429 and 503 as it answers any error: in the shape of its other errors.
  const response = own.response ?? {};
  const errorSchema = (response[400] ??
    response[401] ??
    response[404] ??
    (platform ? undefined : Problem)) as object | undefined;
  // A route with no answer schema of its own (yet) still says that it succeeds.
  const success = Object.keys(response).some((status) => status.startsWith('2'))
    ? {}
    : { '2XX': { 'x-response-description': 'Success, in the shape the route answers in' } };
  const ownAnswers = Object.fromEntries(
    Object.entries(response).map(([status, answer]) => [
      status,
      answer === Problem ? errorAnswer(Problem) : answer,
    ]),
  );
  next.response = { ...success, ...everyRouteAnswers(errorSchema), ...ownAnswers };
  const id = typeof own.operationId === 'string' ? own.operationId : '';
  next.summary ??= dialectSummaries[id];
  const example = bodyExamples[id];
  if (example !== undefined && own.body) next.body = { ...own.body, examples: [example] };
  // A body streamed past the parser (an import's file): described by its media types.
  const files = route.config?.fileBody;
  if (files) {
    next.body = {
      content: Object.fromEntries(
        Object.entries(files).map(([type, text]) => [
          type,
          { schema: { type: 'string', examples: [text] } },
        ]),
      ),
    };
  }
  return { schema: next, url };
}

/** Registers the document, `/openapi.json` and the interactive reference at `/docs`. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Clientele', version: '1', description },
      tags,
      components: { securitySchemes },
    },
    transform: documentRoute,
  } as FastifyDynamicSwaggerOptions);
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    theme: { title: 'Clientele API reference' },
    uiConfig: { deepLinking: true, docExpansion: 'list' },
  });
  app.get(
    '/openapi.json',
    { schema: { hide: true, operationId: 'getOpenApiDocument' } },
    async () => app.swagger(),
  );
}

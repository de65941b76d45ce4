import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import { requireAdmin } from '../../plugins/auth.js';
import { idempotencyGuard } from '../../plugins/idempotency.js';
import { Nullable, PageQuery, Problem, StoreIdParams } from '../../schemas/common.js';

const Settings = Type.Object({
  identityConflict: Type.Union([Type.Literal('reject'), Type.Literal('merge')]),
  customFieldOptionsLimit: Type.Integer(),
  eventRetentionDays: Type.Integer(),
  importsAtOnce: Type.Integer(),
  segmentFilterLeaves: Type.Integer(),
  segmentFilterDepth: Type.Integer(),
  segmentsLimit: Type.Integer(),
  suppression: Type.Boolean(),
  aliases: Type.Record(Type.String(), Type.String()),
  extendedFields: Type.Record(Type.String(), Type.String()),
});

const Store = Type.Object({
  id: Type.String(),
  name: Type.String(),
  settings: Settings,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const nullableString = Nullable(Type.String());

const StorePage = Type.Object({ data: Type.Array(Store), nextCursor: nullableString });

/** A key as lists show it: never its secret, nor the secret's hash. */
const ApiKey = Type.Object({
  id: Type.String(),
  name: nullableString,
  prefix: Type.String({
    description: "The key's first characters, to tell it apart (not a secret)",
  }),
  createdAt: Type.String(),
  lastUsedAt: Nullable(
    Type.String({
      description: 'When a request last used the key, to within a minute; null if none has',
    }),
  ),
  revokedAt: nullableString,
});

const ApiKeyPage = Type.Object({ data: Type.Array(ApiKey), nextCursor: nullableString });

const adminErrors = { 400: Problem, 401: Problem, 404: Problem };
const security = [{ adminToken: [] }];

export interface StoreRouteOptions {
  clientele: Clientele;
  adminToken: string | undefined;
}

/** The admin API: stores and their keys. Every route needs CLIENTELE_ADMIN_TOKEN. */
export const storeRoutes: FastifyPluginAsyncTypebox<StoreRouteOptions> = async (
  app,
  { clientele, adminToken },
) => {
  app.addHook('preHandler', requireAdmin(adminToken));
  app.addHook(
    'preHandler',
    idempotencyGuard(clientele, () => 'admin'),
  );

  app.post(
    '/v1/stores',
    {
      schema: {
        tags: ['admin'],
        operationId: 'createStore',
        summary: 'Create a store, with its first API key (shown this once)',
        security,
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 255 }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Intersect([
            Store,
            Type.Object({
              apiKey: Type.String({ description: 'The first key, shown this once' }),
              apiKeyId: Type.String({ description: "The first key's id (key_…)" }),
            }),
          ]),
          ...adminErrors,
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await clientele.stores.create(request.body.name)),
  );

  app.get(
    '/v1/stores',
    {
      schema: {
        tags: ['admin'],
        operationId: 'listStores',
        summary: 'List stores, newest first',
        security,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: StorePage, ...adminErrors },
      },
    },
    async (request) =>
      clientele.stores.list({ limit: request.query.limit ?? 20, cursor: request.query.cursor }),
  );

  app.get(
    '/v1/stores/:storeId',
    {
      schema: {
        tags: ['admin'],
        operationId: 'getStore',
        summary: 'Read a store',
        security,
        params: StoreIdParams,
        response: { 200: Store, ...adminErrors },
      },
    },
    async (request) => clientele.stores.get(request.params.storeId),
  );

  app.patch(
    '/v1/stores/:storeId',
    {
      schema: {
        tags: ['admin'],
        operationId: 'updateStore',
        summary: "Change a store's name or settings",
        description:
          'settings: identityConflict (reject | merge), customFieldOptionsLimit, eventRetentionDays (1-365), importsAtOnce (1-16: imports of the store running at once), segmentFilterLeaves (1-200, default 50), segmentFilterDepth (1-10, default 4), segmentsLimit (0-500, default 100), suppression (true | false, default true: an erasure suppresses the identifiers of the customer), aliases ({platform: id}; null removes one; 409 alias_taken for a name another store is known by on that platform, its id included).',
        security,
        params: StoreIdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
            settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
        response: { 200: Store, 409: Problem, ...adminErrors },
      },
    },
    async (request) => clientele.stores.update(request.params.storeId, request.body),
  );

  app.get(
    '/v1/stores/:storeId/api-keys',
    {
      schema: {
        tags: ['admin'],
        operationId: 'listApiKeys',
        summary: "List a store's API keys, newest first, revoked ones too (never their secrets)",
        security,
        params: StoreIdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: ApiKeyPage, ...adminErrors },
      },
    },
    async (request) =>
      clientele.keys.list(request.params.storeId, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      }),
  );

  app.post(
    '/v1/stores/:storeId/api-keys',
    {
      // The body is optional: no body is a key without a name.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['admin'],
        operationId: 'createApiKey',
        summary: 'Create an API key (shown this once)',
        security,
        params: StoreIdParams,
        body: Type.Object(
          {
            name: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 255,
                description: 'What the key is for, to find it again (optional)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            id: Type.String(),
            name: nullableString,
            apiKey: Type.String({ description: 'The secret, shown this once' }),
            createdAt: Type.String(),
          }),
          ...adminErrors,
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await clientele.keys.create(request.params.storeId, request.body.name)),
  );

  app.delete(
    '/v1/stores/:storeId/api-keys/:keyId',
    {
      schema: {
        tags: ['admin'],
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key, at once',
        security,
        params: Type.Object({ storeId: Type.String(), keyId: Type.String() }),
        response: { 204: Type.Null(), ...adminErrors },
      },
    },
    async (request, reply) => {
      await clientele.keys.revoke(request.params.storeId, request.params.keyId);
      return reply.code(204).send(null);
    },
  );
};

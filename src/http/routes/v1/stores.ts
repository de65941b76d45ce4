import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import { requireAdmin } from '../../plugins/auth.js';
import { idempotencyGuard } from '../../plugins/idempotency.js';
import { Problem, StoreIdParams } from '../../schemas/common.js';

const Settings = Type.Object({
  identityConflict: Type.Union([Type.Literal('reject'), Type.Literal('merge')]),
  customFieldOptionsLimit: Type.Integer(),
  eventRetentionDays: Type.Integer(),
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
          201: Type.Intersect([Store, Type.Object({ apiKey: Type.String() })]),
          ...adminErrors,
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await clientele.stores.create(request.body.name)),
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
          'settings: identityConflict (reject | merge), customFieldOptionsLimit, eventRetentionDays (1-365), aliases ({platform: id}; null removes one; 409 alias_taken for a name another store is known by on that platform, its id included).',
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

  app.post(
    '/v1/stores/:storeId/api-keys',
    {
      schema: {
        tags: ['admin'],
        operationId: 'createApiKey',
        summary: 'Create an API key (shown this once)',
        security,
        params: StoreIdParams,
        response: {
          201: Type.Object({ id: Type.String(), apiKey: Type.String() }),
          ...adminErrors,
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await clientele.keys.create(request.params.storeId)),
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

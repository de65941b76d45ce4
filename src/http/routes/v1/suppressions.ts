import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import { fail } from '../../../core/errors.js';
import { guardStoreRoutes } from '../../plugins/store-routes.js';
import { PageQuery, StoreIdParams, storeRouteErrors } from '../../schemas/common.js';
import { LookupQuery, lookupOf } from './customers.js';

const security = [{ apiKey: [] }];

const Suppression = Type.Object({
  id: Type.String(),
  kind: Type.String({
    description: 'email, phone, externalId, or the type of a typed identifier',
  }),
  hash: Type.String({
    description: "base64url HMAC-SHA256 of the normalised identifier, under the store's key",
  }),
  createdAt: Type.String(),
});

const SuppressionPage = Type.Object({
  data: Type.Array(Suppression),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const suppressionRoutes: FastifyPluginAsyncTypebox<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  guardStoreRoutes(app, clientele);

  app.get(
    '/v1/stores/:storeId/suppressions',
    {
      schema: {
        tags: ['privacy'],
        operationId: 'listSuppressions',
        summary: "The store's suppressed identifiers, newest first (hashes only)",
        security,
        params: StoreIdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: SuppressionPage, ...storeRouteErrors },
      },
    },
    async (request) =>
      clientele.customers.suppressions(request.caller.storeId, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      }),
  );

  app.delete(
    '/v1/stores/:storeId/suppressions',
    {
      schema: {
        tags: ['privacy'],
        operationId: 'liftSuppression',
        summary: 'Lift the suppression of one identifier',
        description:
          'Names the identifier as a look-up does (exactly one of email, phone, externalId, identifier=type:value); writes naming it are accepted again. 204; 404 when it is not suppressed.',
        security,
        params: StoreIdParams,
        querystring: Type.Object(LookupQuery, { additionalProperties: false }),
        response: { 204: Type.Null(), ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      const lookup = lookupOf(request.query);
      if (!lookup) {
        throw fail.field(
          '/query',
          'name the identifier: one of email, phone, externalId or identifier',
        );
      }
      await clientele.customers.liftSuppression(request.caller.storeId, lookup);
      return reply.code(204).send(null);
    },
  );
};

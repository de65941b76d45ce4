import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import { requireStoreKey } from '../../plugins/auth.js';
import { StoreIdParams, storeRouteErrors } from '../../schemas/common.js';

const security = [{ apiKey: [] }];
const FieldType = Type.Union([
  Type.Literal('STRING'),
  Type.Literal('NUMBER'),
  Type.Literal('BOOLEAN'),
  Type.Literal('DATE'),
]);

export const customFieldRoutes: FastifyPluginAsyncTypebox<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  app.addHook('preHandler', requireStoreKey(clientele));

  app.get(
    '/v1/stores/:storeId/custom-fields',
    {
      schema: {
        tags: ['custom fields'],
        operationId: 'listCustomFields',
        summary: "The store's custom field declarations",
        security,
        params: StoreIdParams,
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                name: Type.String(),
                type: FieldType,
                createdAt: Type.String(),
                optionCount: Type.Integer(),
                optionsTruncated: Type.Boolean(),
              }),
            ),
          }),
          ...storeRouteErrors,
        },
      },
    },
    async (request) => ({ data: await clientele.fields.list(request.caller.storeId) }),
  );

  app.get(
    '/v1/stores/:storeId/custom-fields/:name/options',
    {
      schema: {
        tags: ['custom fields'],
        operationId: 'listCustomFieldOptions',
        summary: "A STRING field's distinct values, as segment filters offer them",
        security,
        params: Type.Object({ storeId: Type.String(), name: Type.String() }),
        querystring: Type.Object(
          {
            prefix: Type.Optional(Type.String({ maxLength: 2048 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            field: Type.String(),
            type: FieldType,
            options: Type.Array(Type.String()),
            optionsTruncated: Type.Boolean(),
          }),
          ...storeRouteErrors,
        },
      },
    },
    async (request) =>
      clientele.fields.options(request.caller.storeId, request.params.name, {
        ...(request.query.prefix === undefined ? {} : { prefix: request.query.prefix }),
        limit: request.query.limit ?? 100,
      }),
  );
};

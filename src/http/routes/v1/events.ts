import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import { fail } from '../../../core/errors.js';
import { type EventType, eventTypes } from '../../../core/events/events.js';
import { EventPage } from '../../../core/events/schema.js';
import { requireStoreKey } from '../../plugins/auth.js';
import { StoreIdParams, storeRouteErrors } from '../../schemas/common.js';

const security = [{ apiKey: [] }];
const known = Object.keys(eventTypes);

/** `customer.created,customer.updated` as event types, refusing any other name. */
function typesOf(list: string | undefined): EventType[] | undefined {
  if (list === undefined || list.trim() === '') return undefined;
  const types = list.split(',').map((t) => t.trim());
  const unknown = types.find((t) => !known.includes(t));
  if (unknown !== undefined) {
    throw fail.field(
      '/query/types',
      `unknown event type ${JSON.stringify(unknown)}; one of ${known.join(', ')}`,
    );
  }
  return types as EventType[];
}

export const eventRoutes: FastifyPluginAsyncTypebox<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  app.addHook('preHandler', requireStoreKey(clientele));

  app.get(
    '/v1/stores/:storeId/events',
    {
      schema: {
        tags: ['events'],
        operationId: 'listEvents',
        summary: "The store's change events, oldest first, resumable from any of them",
        description:
          'Every acknowledged change appears exactly once, in an order that never changes: resume with ?after=<the last event id you have>. Kept eventRetentionDays (a store setting, 30 by default).',
        security,
        params: StoreIdParams,
        querystring: Type.Object(
          {
            after: Type.Optional(Type.String({ description: 'an event id (evt_…)' })),
            types: Type.Optional(
              Type.String({ description: `comma-separated: ${known.join(', ')}` }),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: EventPage, ...storeRouteErrors },
      },
    },
    async (request) =>
      clientele.events.list(request.caller.storeId, {
        after: request.query.after,
        types: typesOf(request.query.types),
        limit: request.query.limit ?? 100,
      }),
  );
};

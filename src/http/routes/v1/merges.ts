import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import type { MergeRecord } from '../../../core/customers/merge.js';
import { Customer, MergedIdentifier } from '../../../core/customers/schema.js';
import { fail } from '../../../core/errors.js';
import { guardStoreRoutes } from '../../plugins/store-routes.js';
import { PageQuery, Problem, StoreIdParams, storeRouteErrors } from '../../schemas/common.js';
import { writeContextOf } from '../../upsert.js';

const security = [{ apiKey: [] }];

const Collision = Type.Object({
  path: Type.String({ description: 'the field, as provenance names it' }),
  customerId: Type.String({ description: 'the customer the value was to go back to' }),
  heldBy: Type.String({ description: 'who holds it now, and keeps it' }),
  settled: Type.String(),
});

const Merge = Type.Object({
  id: Type.String({ description: 'mrg_…' }),
  targetId: Type.String(),
  sourceIds: Type.Array(Type.String()),
  origin: Type.Union([Type.Literal('request'), Type.Literal('identityConflict')]),
  api: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  targetVersion: Type.Integer({ description: "the target's version the merge wrote" }),
  provenance: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()], {
    description:
      'each field of the result (email, location.city, customFields.tier, phoneNumbers.+1…, identifiers.type:value, …) and the customer it came from; null once a customer of the merge was erased',
  }),
  undoneAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  collisions: Type.Union([Type.Array(Collision), Type.Null()]),
  erased: Type.Boolean({ description: 'a customer of the merge was erased: it cannot be undone' }),
});

const MergePage = Type.Object({
  data: Type.Array(Merge),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

function mergeView(m: MergeRecord) {
  return {
    id: m.id,
    targetId: m.targetId,
    sourceIds: m.sourceIds,
    origin: m.origin,
    api: m.api,
    createdAt: m.createdAt.toISOString(),
    targetVersion: m.targetVersion,
    provenance: m.provenance,
    undoneAt: m.undoneAt ? m.undoneAt.toISOString() : null,
    collisions: m.collisions,
    erased: m.erasedAt !== null,
  };
}

const CustomerParams = Type.Object({ storeId: Type.String(), customerId: Type.String() });
const MergeParams = Type.Object({ storeId: Type.String(), mergeId: Type.String() });

export const mergeRoutes: FastifyPluginAsyncTypebox<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  guardStoreRoutes(app, clientele);

  app.post(
    '/v1/stores/:storeId/customers/:customerId/merge',
    {
      schema: {
        tags: ['merges'],
        operationId: 'mergeCustomers',
        summary: 'Merge customers into this one',
        description:
          'The sources (1 to 10) stop being customers and go into this one: its set values win, its empty fields are filled from the sources (the most recently updated first), phone numbers, typed identifiers, channels and enrolments are united, custom fields and metadata key by key. The merge records where each field came from and a snapshot that an undo restores. 201 with the merge and the customer; 404 naming each unknown id; 409 already_merged naming a customer merged away already; 400 for the target among the sources or a source named twice.',
        security,
        params: CustomerParams,
        body: Type.Object(
          {
            sourceIds: Type.Array(Type.String(), {
              minItems: 1,
              maxItems: 10,
              description: 'the customers to merge into this one (cust_…)',
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ merge: Merge, customer: Customer }),
          ...storeRouteErrors,
          409: Problem,
          422: Problem,
        },
      },
    },
    async (request, reply) => {
      const { merge, customer } = await clientele.customers.merge(
        writeContextOf(request, 'native'),
        request.params.customerId,
        request.body.sourceIds,
      );
      return reply.code(201).send({ merge: mergeView(merge), customer });
    },
  );

  app.get(
    '/v1/stores/:storeId/merges',
    {
      schema: {
        tags: ['merges'],
        operationId: 'listMerges',
        summary: "The store's merges, newest first",
        description: 'With customerId: only the merges it was the target or a source of.',
        security,
        params: StoreIdParams,
        querystring: Type.Object(
          { customerId: Type.Optional(Type.String()), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: MergePage, ...storeRouteErrors },
      },
    },
    async (request) => {
      const page = await clientele.customers.merges(
        request.caller.storeId,
        request.query.customerId,
        { limit: request.query.limit ?? 20, cursor: request.query.cursor },
      );
      return { data: page.data.map(mergeView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/stores/:storeId/merges/:mergeId',
    {
      schema: {
        tags: ['merges'],
        operationId: 'getMerge',
        summary: 'Read a merge, with where each field came from',
        security,
        params: MergeParams,
        response: { 200: Merge, ...storeRouteErrors },
      },
    },
    async (request) =>
      mergeView(
        await clientele.customers.mergeById(request.caller.storeId, request.params.mergeId),
      ),
  );

  app.post(
    '/v1/stores/:storeId/merges/:mergeId/undo',
    {
      schema: {
        tags: ['merges'],
        operationId: 'undoMerge',
        summary: 'Undo a merge',
        description:
          'Every source gets back its id, identifiers and fields as they were at the merge, and the target loses what came from them. What changed on the target since stays there; where that collides with what is restored (an identifier held by someone since, a field written since), the undo completes and lists each collision and how it was settled. 409 merge_not_undoable for a merge undone already, one whose customer was erased, or whose target was merged away since.',
        security,
        params: MergeParams,
        response: {
          200: Type.Object({
            merge: Merge,
            customer: Customer,
            sources: Type.Array(Customer),
            collisions: Type.Array(Collision),
          }),
          ...storeRouteErrors,
          409: Problem,
        },
      },
    },
    async (request) => {
      const outcome = await clientele.customers.undoMerge(
        writeContextOf(request, 'native'),
        request.params.mergeId,
      );
      return { ...outcome, merge: mergeView(outcome.merge) };
    },
  );

  app.delete(
    '/v1/stores/:storeId/customers/:customerId/phone-numbers/:e164',
    {
      schema: {
        tags: ['customers'],
        operationId: 'removePhoneNumber',
        summary: 'Remove one phone number from a customer',
        description:
          'The number (E.164, + encoded as %2B) no longer finds the customer. 200 with the customer at its new version; 404 when the customer does not hold it.',
        security,
        params: Type.Object({
          storeId: Type.String(),
          customerId: Type.String(),
          e164: Type.String(),
        }),
        response: { 200: Customer, ...storeRouteErrors },
      },
    },
    async (request) =>
      clientele.customers.removeIdentifier(
        writeContextOf(request, 'native'),
        request.params.customerId,
        {
          kind: 'phone',
          value: request.params.e164.trim(),
        },
      ),
  );

  app.delete(
    '/v1/stores/:storeId/customers/:customerId/identifiers/:type/:value',
    {
      schema: {
        tags: ['customers'],
        operationId: 'removeIdentifier',
        summary: 'Remove one typed identifier from a customer',
        description:
          'The identifier no longer finds the customer. 200 with the customer at its new version; 404 when the customer does not hold it.',
        security,
        params: Type.Object({
          storeId: Type.String(),
          customerId: Type.String(),
          type: Type.String(),
          value: Type.String(),
        }),
        response: { 200: Customer, ...storeRouteErrors },
      },
    },
    async (request) => {
      const { type, value } = request.params;
      if (['email', 'phone', 'externalId'].includes(type)) {
        throw fail.field(
          '/path/type',
          'is a typed identifier’s type, not email, phone or externalId',
        );
      }
      return clientele.customers.removeIdentifier(
        writeContextOf(request, 'native'),
        request.params.customerId,
        {
          kind: type,
          value,
        },
      );
    },
  );

  app.delete(
    '/v1/stores/:storeId/customers/:customerId/merged-identifiers/:type/:value',
    {
      schema: {
        tags: ['customers'],
        operationId: 'removeMergedIdentifier',
        summary: 'Remove one merged email or external id from a customer',
        description:
          'An email or external id the customer answers to since a merge (`mergedIdentifiers`) no longer finds it, and is free for another customer. 200 with the customer at its new version; 404 when the customer does not hold it so.',
        security,
        params: Type.Object({
          storeId: Type.String(),
          customerId: Type.String(),
          type: MergedIdentifier.properties.type,
          value: Type.String(),
        }),
        response: { 200: Customer, ...storeRouteErrors },
      },
    },
    async (request) =>
      clientele.customers.removeIdentifier(
        writeContextOf(request, 'native'),
        request.params.customerId,
        { kind: request.params.type, value: request.params.value },
      ),
  );
};

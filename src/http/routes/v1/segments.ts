import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import {
  CustomerSegments,
  MemberPage,
  Preview,
  PreviewRequest,
  Segment,
  SegmentCreate,
  SegmentList,
  SegmentUpdate,
} from '../../../core/segments/schema.js';
import { guardStoreRoutes } from '../../plugins/store-routes.js';
import { PageQuery, Problem, StoreIdParams, storeRouteErrors } from '../../schemas/common.js';

const security = [{ apiKey: [] }];
const tags = ['segments'];
const SegmentParams = Type.Object({ storeId: Type.String(), segmentId: Type.String() });
const base = '/v1/stores/:storeId/segments';
const refusals = { ...storeRouteErrors, 422: Problem };

export const segmentRoutes: FastifyPluginAsyncTypebox<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  guardStoreRoutes(app, clientele);
  const segments = clientele.segments;

  app.post(
    base,
    {
      schema: {
        tags,
        operationId: 'createSegment',
        summary: 'Save a filter as a segment; its members are found before the answer',
        security,
        params: StoreIdParams,
        body: SegmentCreate,
        response: { 201: Segment, ...refusals },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return segments.create(request.caller.storeId, request.body);
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        operationId: 'listSegments',
        summary: "The store's segments, newest first, with their counts",
        security,
        params: StoreIdParams,
        response: { 200: SegmentList, ...storeRouteErrors },
      },
    },
    async (request) => ({ data: await segments.list(request.caller.storeId) }),
  );

  app.post(
    `${base}/preview`,
    {
      schema: {
        tags,
        operationId: 'previewSegment',
        summary: 'How many customers a filter holds now, and a few of them (nothing is saved)',
        security,
        params: StoreIdParams,
        body: PreviewRequest,
        response: { 200: Preview, ...refusals },
      },
    },
    async (request) => segments.preview(request.caller.storeId, request.body.filter),
  );

  app.get(
    `${base}/:segmentId`,
    {
      schema: {
        tags,
        operationId: 'getSegment',
        summary: 'A segment and its count',
        security,
        params: SegmentParams,
        response: { 200: Segment, ...storeRouteErrors },
      },
    },
    async (request) => segments.get(request.caller.storeId, request.params.segmentId),
  );

  app.patch(
    `${base}/:segmentId`,
    {
      schema: {
        tags,
        operationId: 'updateSegment',
        summary: 'Rename a segment, or give it a new filter (its members are found again)',
        security,
        params: SegmentParams,
        body: SegmentUpdate,
        response: { 200: Segment, ...refusals },
      },
    },
    async (request) =>
      segments.update(request.caller.storeId, request.params.segmentId, request.body),
  );

  app.delete(
    `${base}/:segmentId`,
    {
      schema: {
        tags,
        operationId: 'deleteSegment',
        summary: 'Delete a segment and its memberships',
        security,
        params: SegmentParams,
        response: { 204: Type.Null(), ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      await segments.remove(request.caller.storeId, request.params.segmentId);
      reply.code(204);
    },
  );

  app.get(
    `${base}/:segmentId/customers`,
    {
      schema: {
        tags,
        operationId: 'listSegmentMembers',
        summary: "A segment's members, newest customer first, with when each joined",
        security,
        params: SegmentParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: MemberPage, ...storeRouteErrors },
      },
    },
    async (request) =>
      segments.members(request.caller.storeId, request.params.segmentId, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      }),
  );

  app.get(
    '/v1/stores/:storeId/customers/:customerId/segments',
    {
      schema: {
        tags,
        operationId: 'listCustomerSegments',
        summary: 'The segments a customer is in',
        security,
        params: Type.Object({ storeId: Type.String(), customerId: Type.String() }),
        response: { 200: CustomerSegments, ...storeRouteErrors },
      },
    },
    async (request) => {
      // 404 for a customer the store does not have, as every customer route answers.
      const customer = await clientele.customers.get(
        request.caller.storeId,
        request.params.customerId,
      );
      return { data: await segments.ofCustomer(request.caller.storeId, customer.id) };
    },
  );
};

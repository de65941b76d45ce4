import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import {
  AttemptPage,
  CreatedEndpoint,
  Endpoint,
  EndpointCreate,
  EndpointUpdate,
  PingResult,
} from '../../../core/webhooks/schema.js';
import { guardStoreRoutes } from '../../plugins/store-routes.js';
import { StoreIdParams, storeRouteErrors } from '../../schemas/common.js';

const security = [{ apiKey: [] }];
const tags = ['webhooks'];
const EndpointParams = Type.Object({ storeId: Type.String(), endpointId: Type.String() });
const base = '/v1/stores/:storeId/webhook-endpoints';

export const webhookRoutes: FastifyPluginAsyncTypebox<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  guardStoreRoutes(app, clientele);
  const hooks = clientele.webhooks;

  app.post(
    base,
    {
      schema: {
        tags,
        operationId: 'createWebhookEndpoint',
        summary: 'Subscribe a URL to events; the answer shows its signing secret, once',
        security,
        params: StoreIdParams,
        body: EndpointCreate,
        response: { 201: CreatedEndpoint, ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return hooks.create(request.caller.storeId, request.body);
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        operationId: 'listWebhookEndpoints',
        summary: "The store's webhook endpoints",
        security,
        params: StoreIdParams,
        response: { 200: Type.Object({ data: Type.Array(Endpoint) }), ...storeRouteErrors },
      },
    },
    async (request) => ({ data: await hooks.list(request.caller.storeId) }),
  );

  app.get(
    `${base}/:endpointId`,
    {
      schema: {
        tags,
        operationId: 'getWebhookEndpoint',
        summary: 'A webhook endpoint',
        security,
        params: EndpointParams,
        response: { 200: Endpoint, ...storeRouteErrors },
      },
    },
    async (request) => hooks.get(request.caller.storeId, request.params.endpointId),
  );

  app.patch(
    `${base}/:endpointId`,
    {
      schema: {
        tags,
        operationId: 'updateWebhookEndpoint',
        summary: 'Change a webhook endpoint (enabled: true turns a disabled one back on)',
        security,
        params: EndpointParams,
        body: EndpointUpdate,
        response: { 200: Endpoint, ...storeRouteErrors },
      },
    },
    async (request) =>
      hooks.update(request.caller.storeId, request.params.endpointId, request.body),
  );

  app.delete(
    `${base}/:endpointId`,
    {
      schema: {
        tags,
        operationId: 'deleteWebhookEndpoint',
        summary: 'Delete a webhook endpoint, its queue and its log',
        security,
        params: EndpointParams,
        response: { 204: Type.Null(), ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      await hooks.remove(request.caller.storeId, request.params.endpointId);
      reply.code(204);
    },
  );

  app.post(
    `${base}/:endpointId/rotate-secret`,
    {
      schema: {
        tags,
        operationId: 'rotateWebhookSecret',
        summary: 'A new signing secret; the old one keeps signing beside it for 24 hours',
        security,
        params: EndpointParams,
        response: {
          200: Type.Object({ secret: Type.String(), previousSecretUntil: Type.String() }),
          ...storeRouteErrors,
        },
      },
    },
    async (request) => hooks.rotateSecret(request.caller.storeId, request.params.endpointId),
  );

  app.post(
    `${base}/:endpointId/ping`,
    {
      schema: {
        tags,
        operationId: 'pingWebhookEndpoint',
        summary: 'Send a signed webhook.ping now, and see what the receiver answered',
        security,
        params: EndpointParams,
        response: { 200: PingResult, ...storeRouteErrors },
      },
    },
    async (request) => hooks.ping(request.caller.storeId, request.params.endpointId),
  );

  app.get(
    `${base}/:endpointId/attempts`,
    {
      schema: {
        tags,
        operationId: 'listWebhookAttempts',
        summary: "The endpoint's delivery log, newest first",
        security,
        params: EndpointParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
            before: Type.Optional(
              Type.String({ description: 'the last attempt id of the page before' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: AttemptPage, ...storeRouteErrors },
      },
    },
    async (request) =>
      hooks.attempts(request.caller.storeId, request.params.endpointId, {
        limit: request.query.limit ?? 20,
        before: request.query.before,
      }),
  );

  app.post(
    `${base}/:endpointId/redeliver`,
    {
      schema: {
        tags,
        operationId: 'redeliverWebhookEvent',
        summary: 'Deliver one event again (same webhook-id)',
        security,
        params: EndpointParams,
        body: Type.Object({ eventId: Type.String() }, { additionalProperties: false }),
        response: { 202: Type.Object({ queued: Type.Integer() }), ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      reply.code(202);
      return hooks.redeliver(
        request.caller.storeId,
        request.params.endpointId,
        request.body.eventId,
      );
    },
  );

  app.post(
    `${base}/:endpointId/replay`,
    {
      schema: {
        tags,
        operationId: 'replayWebhookEvents',
        summary: 'Deliver again every subscribed event since a time (within retention)',
        security,
        params: EndpointParams,
        body: Type.Object({ since: Type.String() }, { additionalProperties: false }),
        response: { 202: Type.Object({ queued: Type.Integer() }), ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      reply.code(202);
      return hooks.replay(request.caller.storeId, request.params.endpointId, request.body.since);
    },
  );
};

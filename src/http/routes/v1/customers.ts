import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import type { Lookup } from '../../../core/customers/read.js';
import {
  Customer,
  CustomerEventPage,
  CustomerExport,
  CustomerPage,
  CustomerWrite,
  UpsertResponse,
} from '../../../core/customers/schema.js';
import { ClienteleError, fail } from '../../../core/errors.js';
import { guardStoreRoutes } from '../../plugins/store-routes.js';
import { PageQuery, Problem, StoreIdParams, storeRouteErrors } from '../../schemas/common.js';
import { upsertFor, writeContextOf } from '../../upsert.js';

const security = [{ apiKey: [] }];
const CustomerParams = Type.Object({ storeId: Type.String(), customerId: Type.String() });
const MergedAway = Type.Object({
  id: Type.String(),
  mergedInto: Type.String({ description: 'the customer it was merged into' }),
  mergeId: Type.Union([Type.String(), Type.Null()], { description: 'the merge (mrg_…)' }),
});

/** One entity tag of a list (RFC 9110 §8.8.3), and the comma or end after it. */
const ENTITY_TAG = /\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/y;

/**
 * `If-Match` (RFC 9110 §13.1.1) as the versions it accepts: `*` any (undefined: no
 * condition but the customer the id names), else the versions its entity tags name,
 * compared strongly: a customer's tag is its version in quotes ("3"); a weak tag (W/"3")
 * or another tag matches no version. A bare 3 is read as "3". Anything else is a 400.
 */
function parseIfMatch(header: string): number[] | undefined {
  const value = header.trim();
  if (value === '*') return undefined;
  if (/^\d+$/.test(value)) return [Number(value)];
  const versions: number[] = [];
  ENTITY_TAG.lastIndex = 0;
  while (ENTITY_TAG.lastIndex < value.length) {
    const tag = ENTITY_TAG.exec(value);
    if (!tag) {
      throw fail.field(
        '/header/if-match',
        'must be * or entity tags, each a customer version in quotes, such as "3"',
      );
    }
    if (!tag[1] && /^\d+$/.test(tag[2] ?? '')) versions.push(Number(tag[2]));
  }
  return versions;
}

/** One identifier named in a query, as lookupOf reads it. */
export const LookupQuery = {
  email: Type.Optional(Type.String()),
  phone: Type.Optional(Type.String()),
  externalId: Type.Optional(Type.String()),
  identifier: Type.Optional(Type.String({ description: 'type:value' })),
};

export function lookupOf(query: {
  q?: string | undefined;
  segment?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  externalId?: string | undefined;
  identifier?: string | undefined;
}): Lookup | undefined {
  // A search within a segment is not offered: the search reads its index ranges in key
  // order and stops at the page's size, which a filter applied after would leave short.
  const given = (['q', 'segment', 'email', 'phone', 'externalId', 'identifier'] as const).filter(
    (k) => query[k] !== undefined,
  );
  if (given.length > 1) {
    throw fail.field(
      `/query/${given[1]}`,
      'search (q), filter by segment, or look up by one of email, phone, externalId or identifier, one at a time',
    );
  }
  if (query.email !== undefined) return { email: query.email };
  if (query.phone !== undefined) return { phone: query.phone };
  if (query.externalId !== undefined) return { externalId: query.externalId };
  if (query.identifier !== undefined) {
    const at = query.identifier.indexOf(':');
    if (at < 1 || at === query.identifier.length - 1) {
      throw fail.field('/query/identifier', 'must be type:value, such as wechat:wx_123');
    }
    return {
      identifier: { type: query.identifier.slice(0, at), value: query.identifier.slice(at + 1) },
    };
  }
  return undefined;
}

export const customerRoutes: FastifyPluginAsyncTypebox<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  guardStoreRoutes(app, clientele);

  app.post(
    '/v1/stores/:storeId/customers',
    {
      schema: {
        tags: ['customers'],
        operationId: 'upsertCustomer',
        summary: 'Create or update a customer',
        description:
          'Finds the customer by every identifier the body carries (id, externalId, email, phone numbers, typed identifiers) and creates or updates it. Fields left out are kept; null clears.',
        security,
        params: StoreIdParams,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        body: CustomerWrite,
        response: {
          200: UpsertResponse,
          201: UpsertResponse,
          ...storeRouteErrors,
          409: Problem,
          412: Problem,
          422: Problem,
        },
      },
    },
    async (request, reply) => {
      const ifMatch = request.headers['if-match'];
      const expectedVersions = ifMatch === undefined ? undefined : parseIfMatch(ifMatch);
      if (ifMatch !== undefined && request.body.id === undefined) {
        throw new ClienteleError('validation_failed', 'If-Match needs an upsert addressed by id.', [
          { path: '/id', message: 'is required with If-Match' },
        ]);
      }
      const outcome = await upsertFor(
        clientele,
        request,
        'native',
        request.body,
        expectedVersions === undefined ? {} : { expectedVersions },
      );
      reply.header('ETag', `"${outcome.customer.version}"`);
      return reply.code(outcome.result === 'created' ? 201 : 200).send({
        result: outcome.result,
        matchedBy: outcome.matchedBy,
        customer: outcome.customer,
        warnings: outcome.warnings,
      });
    },
  );

  app.get(
    '/v1/stores/:storeId/customers',
    {
      schema: {
        tags: ['customers'],
        operationId: 'findOrListCustomers',
        summary: 'Look a customer up by one identifier, search, or list customers newest first',
        description:
          "With email, phone, externalId or identifier=type:value: that customer (or 404). With q: a page of the customers whose email, phone number, external id, typed identifier or name starts with it, in the order of what matched. With segment: a page of that segment's members, newest first (404 naming /query/segment for a segment the store does not have). Without: a page of customers, newest first. These parameters go one at a time (400 naming the second).",
        security,
        params: StoreIdParams,
        querystring: Type.Object(
          {
            q: Type.Optional(
              Type.String({
                description:
                  'a prefix of an email, phone number (digits are enough), external id, typed identifier value, or name ("first last" or the last name)',
              }),
            ),
            segment: Type.Optional(
              Type.String({ description: "a segment's id (seg_…): only its members" }),
            ),
            ...LookupQuery,
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Union([Customer, CustomerPage]), ...storeRouteErrors },
      },
    },
    async (request) => {
      const { storeId } = request.caller;
      const lookup = lookupOf(request.query);
      if (lookup) return clientele.customers.find(storeId, lookup);
      if (request.query.segment !== undefined) {
        const page = await clientele.segments.members(
          storeId,
          request.query.segment,
          { limit: request.query.limit ?? 20, cursor: request.query.cursor },
          '/query/segment',
        );
        return { data: page.data.map((m) => m.customer), nextCursor: page.nextCursor };
      }
      if (request.query.q !== undefined) {
        return clientele.customers.search(storeId, {
          q: request.query.q,
          limit: request.query.limit ?? 20,
          cursor: request.query.cursor,
        });
      }
      return clientele.customers.list(storeId, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      });
    },
  );

  app.get(
    '/v1/stores/:storeId/customers/:customerId',
    {
      schema: {
        tags: ['customers'],
        operationId: 'getCustomer',
        summary: 'Read a customer',
        description:
          'An id merged into another customer is no customer: 307 to the customer it went into (Location), the body naming it (mergedInto) and the merge (mergeId).',
        security,
        params: CustomerParams,
        response: { 200: Customer, 307: MergedAway, ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      const { storeId } = request.caller;
      const read = await clientele.customers.read(storeId, request.params.customerId);
      if ('mergedInto' in read) {
        reply.header('Location', `/v1/stores/${storeId}/customers/${read.mergedInto}`);
        return reply.code(307).send({ id: request.params.customerId, ...read });
      }
      reply.header('ETag', `"${read.customer.version}"`);
      return read.customer;
    },
  );

  app.delete(
    '/v1/stores/:storeId/customers/:customerId',
    {
      schema: {
        tags: ['customers'],
        operationId: 'eraseCustomer',
        summary: 'Erase a customer',
        description:
          "Forgets the customer (and those once merged into it): its profile, identifiers, custom field values, the values in its history (the records stay, emptied), stored idempotent answers and queued webhook deliveries naming it, and STRING options only it held; one customer.erased event holds its id alone. With the store's suppression setting on (the default), its identifiers are suppressed: later writes naming one are refused (422 customer_suppressed) until lifted. 204; an unknown id is 404.",
        security,
        params: CustomerParams,
        response: { 204: Type.Null(), ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      await clientele.customers.erase(writeContextOf(request, 'native'), request.params.customerId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/stores/:storeId/customers/:customerId/export',
    {
      schema: {
        tags: ['customers'],
        operationId: 'exportCustomer',
        summary: 'Everything held about one customer, as one JSON document',
        description:
          'The profile, each identifier (and whether it is suppressed), custom fields with their types, the customers merged into it, its segments, and every change record, oldest first: the format clientele.customer-export/1 of docs/api.md. An id merged away exports the customer it was merged into.',
        security,
        params: CustomerParams,
        response: { 200: CustomerExport, ...storeRouteErrors },
      },
    },
    async (request) =>
      clientele.customers.export(request.caller.storeId, request.params.customerId),
  );

  app.get(
    '/v1/stores/:storeId/customers/:customerId/events',
    {
      schema: {
        tags: ['customers'],
        operationId: 'listCustomerEvents',
        summary: "A customer's history, newest first",
        security,
        params: CustomerParams,
        querystring: Type.Object(
          {
            ...PageQuery,
            merged: Type.Optional(
              Type.Boolean({
                description:
                  'Also the records of the customers merged into it (each names its customerId), in one history.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: CustomerEventPage, ...storeRouteErrors },
      },
    },
    async (request) =>
      clientele.customers.events(
        request.caller.storeId,
        request.params.customerId,
        { limit: request.query.limit ?? 20, cursor: request.query.cursor },
        { merged: request.query.merged ?? false },
      ),
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { compactPhone } from '../../core/customers/contact.js';
import { type Customer, splitFullName } from '../../core/customers/customer.js';
import type { CustomerInput } from '../../core/customers/input.js';
import type { UpsertOptions } from '../../core/customers/upsert.js';
import { fail } from '../../core/errors.js';
import { OptionalNullableString } from '../../http/schemas/common.js';
import { upsertFor } from '../../http/upsert.js';
import {
  authorize,
  type DialectOptions,
  type FieldNames,
  guard,
  header,
  latestPhone,
  platformStatus,
  present,
  problemText,
  useErrorShape,
} from '../common.js';
import { ListQuery, listQueryOf } from './list.js';

/**
 * Voucherify: `POST /v1/customers` creates, or updates the customer an `id` or
 * `source_id` names; without either it always creates. `source_id` is the external id.
 */

const Address = Type.Object(
  {
    city: OptionalNullableString(),
    state: OptionalNullableString(),
    line_1: OptionalNullableString(),
    line_2: OptionalNullableString(),
    country: OptionalNullableString(),
    postal_code: OptionalNullableString(32),
  },
  { additionalProperties: false },
);

const Body = Type.Object(
  {
    id: Type.Optional(Type.String()),
    source_id: OptionalNullableString(),
    name: OptionalNullableString(),
    description: OptionalNullableString(2048),
    email: OptionalNullableString(320),
    phone: OptionalNullableString(32),
    birthdate: OptionalNullableString(10),
    birthday: OptionalNullableString(10),
    address: Type.Optional(Type.Union([Address, Type.Null()])),
    metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  },
  { additionalProperties: false },
);
type VoucherifyBody = Static<typeof Body>;

function toInput(body: VoucherifyBody): CustomerInput {
  const input: CustomerInput = {};
  if (body.id !== undefined) input.id = body.id;
  else if (body.source_id !== undefined) input.externalId = body.source_id;
  if (body.name !== undefined) Object.assign(input, splitFullName(body.name));
  if (body.description !== undefined) input.description = body.description;
  if (body.email !== undefined) input.email = body.email;
  if (body.phone !== undefined && body.phone !== null) input.phoneNumber = compactPhone(body.phone);
  const birthdate = body.birthdate !== undefined ? body.birthdate : body.birthday;
  if (birthdate !== undefined) input.birthdate = birthdate;
  if (body.address === null) input.location = null;
  else if (body.address !== undefined) {
    const a = body.address;
    const location: NonNullable<CustomerInput['location']> = {};
    if (a.line_1 !== undefined) location.street1 = a.line_1;
    if (a.line_2 !== undefined) location.street2 = a.line_2;
    if (a.city !== undefined) location.city = a.city;
    if (a.state !== undefined) location.region = a.state;
    if (a.postal_code !== undefined) location.postalCode = a.postal_code;
    if (a.country !== undefined) location.country = a.country;
    input.location = location;
  }
  if (body.metadata) input.metadata = body.metadata;
  return input;
}

function optionsFor(body: VoucherifyBody): UpsertOptions {
  const base = { phoneCheck: 'e164' as const, requireIdentifier: false };
  if (body.id !== undefined) return { ...base, lookupBy: ['id'], mode: 'update' };
  if (body.source_id) return { ...base, lookupBy: ['externalId'] };
  return { ...base, mode: 'create' };
}

function toVoucherify(customer: Customer) {
  const l = customer.location;
  const address = present({
    city: l.city,
    state: l.region,
    line_1: l.street1,
    line_2: l.street2,
    country: l.country,
    postal_code: l.postalCode,
  });
  // Voucherify's schema types these as strings: an unset one is left out, as Voucherify does.
  return {
    id: customer.id,
    ...present({
      source_id: customer.externalId,
      name: customer.displayName,
      description: customer.description,
      email: customer.email,
      phone: latestPhone(customer.phoneNumbers),
      birthdate: customer.birthdate,
    }),
    address: Object.keys(address).length > 0 ? address : null,
    summary: {
      redemptions: {
        total_redeemed: 0,
        total_failed: 0,
        total_succeeded: 0,
        total_rolled_back: 0,
        total_rollback_failed: 0,
        total_rollback_succeeded: 0,
        gift: { redeemed_amount: 0, amount_to_go: 0 },
        loyalty_card: { redeemed_points: 0, points_to_go: 0 },
      },
      orders: { total_amount: 0, total_count: 0, average_amount: 0, last_order_amount: 0 },
    },
    loyalty: { points: 0, referred_customers: 0, campaigns: {} },
    referrals: { total: 0, campaigns: [] },
    metadata: customer.metadata,
    system_metadata: {},
    created_at: customer.createdAt,
    ...(customer.version > 1 ? { updated_at: customer.updatedAt } : {}),
    object: 'customer',
  };
}

/** The core's fields as Voucherify's body names them. */
const fieldNames: FieldNames = {
  '/externalId': '/source_id',
  '/firstName': '/name',
  '/lastName': '/name',
  '/phoneNumber': '/phone',
  '/phoneNumbers': '/phone',
  '/location': '/address',
  '/location/street1': '/address/line_1',
  '/location/street2': '/address/line_2',
  '/location/region': '/address/state',
  '/location/postalCode': '/address/postal_code',
};

const keys: Record<number, string> = {
  400: 'invalid_payload',
  401: 'unauthorized',
  404: 'not_found',
  409: 'duplicate_found',
  413: 'payload_too_large',
  429: 'too_many_requests',
  500: 'internal_error',
  503: 'service_unavailable',
};

export const voucherifyRoutes: FastifyPluginAsyncTypebox<DialectOptions> = async (
  app,
  { clientele },
) => {
  useErrorShape(
    app,
    (error, request) => {
      const status = platformStatus(error, { 412: 400, 422: 400 });
      const notFound = error.code === 'customer_not_found';
      return {
        status,
        body: {
          code: status,
          key: keys[status] ?? 'error',
          message: notFound ? 'Resource not found' : error.message,
          details: problemText(error),
          request_id: String(request.id),
          ...(notFound
            ? {
                resource_id: (request.params as { id?: string }).id ?? null,
                resource_type: 'customer',
              }
            : {}),
        },
      };
    },
    fieldNames,
  );

  const authorized = (request: FastifyRequest) =>
    authorize(clientele, 'voucherify', {
      key: header(request, 'x-app-token'),
      tenant: header(request, 'x-app-id') ?? '',
    });
  // Every route of this dialect needs the platform's credentials.
  for (const hook of guard(clientele, authorized)) app.addHook('preHandler', hook);

  const write = async (request: FastifyRequest, body: VoucherifyBody) => {
    const outcome = await upsertFor(
      clientele,
      request,
      'voucherify',
      toInput(body),
      optionsFor(body),
    );
    return toVoucherify(outcome.customer);
  };

  /** A customer by its Clientele id or its source_id. */
  const find = (storeId: string, ref: string) => clientele.customers.resolve(storeId, ref);

  const IdParams = Type.Object({ id: Type.String() });

  const upsertSchema = { hide: true, operationId: 'voucherifyUpsertCustomer', body: Body };
  app.post('/v1/customers', { schema: upsertSchema }, async (request) =>
    write(request, request.body),
  );

  app.put(
    '/v1/customers/:id',
    {
      schema: { hide: true, operationId: 'voucherifyUpdateCustomer', params: IdParams, body: Body },
    },
    async (request) => {
      const { caller } = request;
      const existing = await find(caller.storeId, request.params.id);
      if (request.body.id !== undefined && request.body.id !== existing.id) {
        throw fail.field('/id', 'differs from the customer in the path');
      }
      const { source_id: sourceId, ...rest } = request.body;
      // The path names the customer; a source_id in the body renames its external id.
      const input = toInput({ ...rest, id: existing.id });
      if (sourceId !== undefined) input.externalId = sourceId;
      const outcome = await upsertFor(clientele, request, 'voucherify', input, {
        phoneCheck: 'e164',
        lookupBy: ['id'],
        mode: 'update',
      });
      return toVoucherify(outcome.customer);
    },
  );

  const getSchema = { hide: true, operationId: 'voucherifyGetCustomer', params: IdParams };
  app.get('/v1/customers/:id', { schema: getSchema }, async (request) => {
    const { caller } = request;
    return toVoucherify(await find(caller.storeId, request.params.id));
  });

  app.delete(
    '/v1/customers/:id',
    { schema: { hide: true, operationId: 'voucherifyDeleteCustomer', params: IdParams } },
    async (request, reply) => {
      const { caller } = request;
      const customer = await find(caller.storeId, request.params.id);
      await clientele.customers.erase(
        { storeId: caller.storeId, api: 'voucherify', keyId: caller.keyId },
        customer.id,
      );
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/customers',
    {
      schema: { hide: true, operationId: 'voucherifyListCustomers', querystring: ListQuery },
    },
    async (request) => {
      const result = await clientele.customers.listPage(
        request.caller.storeId,
        listQueryOf(request.query),
      );
      return {
        object: 'list',
        data_ref: 'customers',
        customers: result.data.map(toVoucherify),
        total: result.total,
        has_more: result.hasMore,
      };
    },
  );
};

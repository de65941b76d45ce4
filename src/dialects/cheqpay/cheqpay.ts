import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { Customer } from '../../core/customers/customer.js';
import type { CustomerInput } from '../../core/customers/input.js';
import { ClienteleError } from '../../core/errors.js';
import { bearerToken } from '../../http/plugins/auth.js';
import { upsertFor } from '../../http/upsert.js';
import {
  authorize,
  type DialectOptions,
  type FieldNames,
  guard,
  header,
  latestPhone,
  platformStatus,
  useErrorShape,
} from '../common.js';

/**
 * Cheqpay's merchant API: `POST /customers/add-update`, keyed by externalId. Its
 * notification preferences have no field of their own here and are kept under
 * metadata.cheqpay.
 */

const Body = Type.Object(
  {
    externalId: Type.String({ minLength: 1, maxLength: 255 }),
    firstName: Type.String({ minLength: 1, maxLength: 255 }),
    lastName: Type.Optional(Type.String({ maxLength: 255 })),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    phoneNumber: Type.Optional(Type.String({ maxLength: 32 })),
    active: Type.Optional(Type.Boolean()),
    notificationOptions: Type.Optional(
      Type.Object(
        { notifyEmail: Type.Optional(Type.Boolean()), notifyPhone: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

function toInput(body: Static<typeof Body>): CustomerInput {
  const input: CustomerInput = { externalId: body.externalId, firstName: body.firstName };
  if (body.lastName !== undefined) input.lastName = body.lastName;
  if (body.email !== undefined) input.email = body.email;
  if (body.phoneNumber !== undefined) input.phoneNumber = body.phoneNumber;
  if (body.active !== undefined) input.active = body.active;
  if (body.notificationOptions !== undefined)
    input.metadata = { cheqpay: { notificationOptions: body.notificationOptions } };
  return input;
}

function toCheqpay(customer: Customer) {
  const cheqpay = (customer.metadata.cheqpay ?? {}) as {
    notificationOptions?: Record<string, boolean>;
  };
  return {
    id: customer.id,
    externalId: customer.externalId,
    firstName: customer.firstName,
    lastName: customer.lastName,
    email: customer.email,
    phoneNumber: latestPhone(customer.phoneNumbers),
    active: customer.active,
    notificationOptions: { notifyEmail: false, notifyPhone: false, ...cheqpay.notificationOptions },
    createdAt: customer.createdAt,
    updatedAt: customer.updatedAt,
  };
}

/** The core's fields as Cheqpay's body names them. */
const fieldNames: FieldNames = {
  '/phone': '/phoneNumber',
  '/phoneNumbers': '/phoneNumber',
  // Its notification preferences are kept in metadata.
  '/metadata': '/notificationOptions',
};

const codes: Record<number, string> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  409: 'DUPLICATE',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

function credentials(request: FastifyRequest) {
  return {
    key: header(request, 'x-api-key') ?? bearerToken(request),
    merchant: header(request, 'x-merchant-id'),
  };
}

export const cheqpayRoutes: FastifyPluginAsyncTypebox<DialectOptions> = async (
  app,
  { clientele },
) => {
  useErrorShape(
    app,
    (error) => {
      const status = platformStatus(error, { 422: 400 });
      return {
        status,
        body: {
          error: {
            code: codes[status] ?? 'ERROR',
            message: error.message,
            details: error.errors.map((e) => ({
              field: e.path.replace(/^\//, '').replaceAll('/', '.'),
              message: e.message,
            })),
          },
        },
      };
    },
    fieldNames,
  );

  const authorized = async (request: FastifyRequest) => {
    const { key, merchant } = credentials(request);
    if (!merchant) throw new ClienteleError('unauthorized', 'x-merchant-id is required.');
    return authorize(clientele, 'cheqpay', { key, tenant: merchant });
  };
  // Every route of this dialect needs the platform's credentials.
  for (const hook of guard(clientele, authorized)) app.addHook('preHandler', hook);

  const upsertSchema = { hide: true, operationId: 'cheqpayUpsertCustomer', body: Body };
  app.post('/customers/add-update', { schema: upsertSchema }, async (request) => {
    const outcome = await upsertFor(clientele, request, 'cheqpay', toInput(request.body), {
      lookupBy: ['externalId'],
      phoneCheck: 'e164',
    });
    return toCheqpay(outcome.customer);
  });

  app.get(
    '/customers/:id',
    {
      schema: {
        hide: true,
        operationId: 'cheqpayGetCustomer',
        params: Type.Object({ id: Type.String() }),
      },
    },
    async (request) => {
      const { caller } = request;
      const { id } = request.params;
      return toCheqpay(await clientele.customers.resolve(caller.storeId, id));
    },
  );
};

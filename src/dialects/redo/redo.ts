import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Customer } from '../../core/customers/customer.js';
import type { CustomerInput } from '../../core/customers/input.js';
import { bearerToken } from '../../http/plugins/auth.js';
import { problemTitle } from '../../http/problem.js';
import { Nullable } from '../../http/schemas/common.js';
import { upsertFor } from '../../http/upsert.js';
import {
  authorize,
  type DialectOptions,
  type FieldNames,
  guard,
  latestPhone,
  platformStatus,
  present,
  problemText,
  useErrorShape,
} from '../common.js';

/** Redo: `PUT /v2.2/stores/{storeId}/customers`, the email being the upsert key. */

const RedoLocation = Type.Object(
  {
    street1: Type.Optional(Nullable(Type.String())),
    street2: Type.Optional(Nullable(Type.String())),
    city: Type.Optional(Nullable(Type.String())),
    state: Type.Optional(Nullable(Type.String())),
    stateCode: Type.Optional(Nullable(Type.String())),
    postalCode: Type.Optional(Nullable(Type.String())),
    country: Type.Optional(Nullable(Type.String())),
    countryCode: Type.Optional(Nullable(Type.String())),
    ianaTimeZoneName: Type.Optional(Nullable(Type.String())),
    latitude: Type.Optional(Nullable(Type.Number())),
    longitude: Type.Optional(Nullable(Type.Number())),
  },
  { additionalProperties: false },
);

const RedoCustomerWrite = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    firstName: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    lastName: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    phoneNumber: Type.Optional(Type.String({ maxLength: 32 })),
    location: Type.Optional(RedoLocation),
    customFields: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Unsafe<string | number | boolean | null>({
          type: ['string', 'number', 'boolean', 'null'],
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

const parts = {
  street1: 'street1',
  street2: 'street2',
  city: 'city',
  state: 'region',
  stateCode: 'regionCode',
  postalCode: 'postalCode',
  country: 'country',
  countryCode: 'countryCode',
  ianaTimeZoneName: 'timezone',
  latitude: 'latitude',
  longitude: 'longitude',
} as const;

function toInput(body: {
  email: string;
  firstName?: string | null;
  lastName?: string | null;
  phoneNumber?: string;
  location?: Partial<Record<keyof typeof parts, string | number | null>>;
  customFields?: Record<string, string | number | boolean | null>;
}): CustomerInput {
  const input: CustomerInput = { email: body.email };
  if (body.firstName !== undefined) input.firstName = body.firstName;
  if (body.lastName !== undefined) input.lastName = body.lastName;
  if (body.phoneNumber !== undefined) input.phoneNumber = body.phoneNumber;
  if (body.customFields !== undefined) input.customFields = body.customFields;
  if (body.location !== undefined) {
    input.location = Object.fromEntries(
      Object.entries(body.location).map(([part, value]) => [
        parts[part as keyof typeof parts],
        value,
      ]),
    );
  }
  return input;
}

/** Redo's schema types every field as a string or a number: an unset one is left out. */
function toRedo(customer: Customer) {
  const l = customer.location;
  const location = present(
    Object.fromEntries(Object.entries(parts).map(([redo, ours]) => [redo, l[ours]])),
  );
  return {
    id: customer.id,
    email: customer.email,
    ...present({
      firstName: customer.firstName,
      lastName: customer.lastName,
      phoneNumber: latestPhone(customer.phoneNumbers),
    }),
    ...(Object.keys(location).length > 0 ? { location } : {}),
    customFields: customer.customFields,
    createdAt: customer.createdAt,
    updatedAt: customer.updatedAt,
  };
}

/** The core's fields as Redo's body names them. */
const fieldNames: FieldNames = {
  '/phone': '/phoneNumber',
  '/phoneNumbers': '/phoneNumber',
  '/location/region': '/location/state',
  '/location/regionCode': '/location/stateCode',
  '/location/timezone': '/location/ianaTimeZoneName',
};

export const redoRoutes: FastifyPluginAsyncTypebox<DialectOptions> = async (app, { clientele }) => {
  useErrorShape(
    app,
    (error, request) => {
      // Redo answers a bad body with 400 whatever rule it broke.
      const status = platformStatus(error, { 422: 400 }, 403);
      const detail =
        error.code === 'forbidden'
          ? 'Token does not have access to this store'
          : problemText(error);
      return {
        status,
        body: {
          type: 'about:blank',
          title: problemTitle(status),
          detail,
          instance: request.url.split('?')[0],
        },
        headers: {
          'content-type': 'application/problem+json',
          ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
        },
      };
    },
    fieldNames,
  );

  const StoreParams = Type.Object({ storeId: Type.String() });
  const preHandler = guard(clientele, (request) =>
    authorize(clientele, 'redo', {
      key: bearerToken(request),
      tenant: (request.params as { storeId: string }).storeId,
    }),
  );

  app.put(
    '/v2.2/stores/:storeId/customers',
    {
      preHandler,
      schema: {
        hide: true,
        operationId: 'redoUpsertCustomer',
        params: StoreParams,
        body: RedoCustomerWrite,
      },
    },
    async (request, reply) => {
      // Redo's spec asks only for the E.164 form: its own example, +11234567890, is in no
      // numbering plan.
      const outcome = await upsertFor(clientele, request, 'redo', toInput(request.body), {
        lookupBy: ['email'],
        phoneCheck: 'e164',
      });
      const created = outcome.result === 'created';
      return reply
        .code(created ? 201 : 200)
        .send({ id: outcome.customer.id, email: outcome.customer.email, created });
    },
  );

  app.get(
    '/v2.2/stores/:storeId/customers',
    {
      preHandler,
      schema: {
        hide: true,
        operationId: 'redoGetCustomer',
        params: StoreParams,
        querystring: Type.Object({ email: Type.String() }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const { caller } = request;
      return toRedo(await clientele.customers.find(caller.storeId, { email: request.query.email }));
    },
  );
};

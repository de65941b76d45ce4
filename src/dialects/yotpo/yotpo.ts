import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Customer } from '../../core/customers/customer.js';
import type { CustomerInput } from '../../core/customers/input.js';
import type { Lookup } from '../../core/customers/read.js';
import { fail } from '../../core/errors.js';
import { setOwnValue } from '../../core/records.js';
import { upsertFor } from '../../http/upsert.js';
import {
  authorize,
  type DialectOptions,
  type FieldNames,
  guard,
  header,
  latestPhone,
  platformStatus,
  problemText,
  useErrorShape,
} from '../common.js';
import { type YotpoBody, YotpoCustomer } from './schema.js';

/**
 * Yotpo: `PATCH /core/v3/stores/{store_id}/customers` with `{"customer": {…}}`. Found by
 * external_id, else by exactly one of email or phone_number. Attributes Clientele's
 * customer has no field for are kept under metadata.yotpo and read back from there.
 */

/** Attributes that live under metadata.yotpo: Yotpo's, with no field of their own here. */
const kept = [
  'gender',
  'account_created_at',
  'account_updated_at',
  'account_status',
  'default_language',
  'default_currency',
  'tags',
  'accepts_sms_marketing',
  'accepts_email_marketing',
] as const;

function toInput(c: YotpoBody): {
  input: CustomerInput;
  lookupBy: ('externalId' | 'email' | 'phone')[];
} {
  // Yotpo skips a field left out or null, so null never clears here.
  const has = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;
  if (!has(c.external_id) && has(c.email) && has(c.phone_number)) {
    throw fail.field('/customer', 'without external_id, give only one of email or phone_number');
  }
  if (!has(c.external_id) && !has(c.email) && !has(c.phone_number)) {
    throw fail.field(
      '/customer/external_id',
      'identify the customer by external_id, email or phone_number',
    );
  }
  const input: CustomerInput = {};
  if (has(c.external_id)) input.externalId = c.external_id;
  if (has(c.email)) input.email = c.email;
  if (has(c.phone_number)) input.phoneNumber = c.phone_number;
  if (has(c.first_name)) input.firstName = c.first_name;
  if (has(c.last_name)) input.lastName = c.last_name;
  if (c.account_status === 'enabled' || c.account_status === 'disabled')
    input.active = c.account_status === 'enabled';

  const yotpo: Record<string, unknown> = {};
  for (const key of kept) if (has(c[key])) yotpo[key] = c[key];
  if (has(c.address)) {
    const a = c.address;
    const location: NonNullable<CustomerInput['location']> = {};
    if (has(a.address1)) location.street1 = a.address1;
    if (has(a.address2)) location.street2 = a.address2;
    if (has(a.city)) location.city = a.city;
    if (has(a.state)) location.region = a.state;
    if (has(a.province_code)) location.regionCode = a.province_code;
    if (has(a.zip)) location.postalCode = a.zip;
    if (has(a.country_code)) location.countryCode = a.country_code;
    input.location = location;
    if (has(a.company)) yotpo.company = a.company;
    if (has(a.phone_number)) yotpo.address_phone_number = a.phone_number;
  }
  if (Object.keys(yotpo).length > 0) input.metadata = { yotpo };

  if (has(c.custom_properties)) {
    const fields: Record<string, string | number | boolean> = {};
    for (const [name, value] of Object.entries(c.custom_properties)) {
      if (value === null)
        throw fail.field(`/customer/custom_properties/${name}`, 'null values are not supported');
      if (/\s/.test(name))
        throw fail.field(`/customer/custom_properties/${name}`, 'names use _ instead of spaces');
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw fail.field(
          `/customer/custom_properties/${name}`,
          'must be a string, boolean, number or ISO date',
        );
      }
      setOwnValue(fields, name, value);
    }
    input.customFields = fields;
  }
  const lookupBy = has(c.external_id)
    ? (['externalId'] as const)
    : has(c.email)
      ? (['email'] as const)
      : (['phone'] as const);
  return { input, lookupBy: [...lookupBy] };
}

function toYotpo(customer: Customer) {
  const yotpo = (customer.metadata.yotpo ?? {}) as Record<string, unknown>;
  const l = customer.location;
  return {
    external_id: customer.externalId,
    email: customer.email,
    phone_number: latestPhone(customer.phoneNumbers),
    first_name: customer.firstName,
    last_name: customer.lastName,
    ...Object.fromEntries(kept.map((k) => [k, yotpo[k] ?? null])),
    address: {
      address1: l.street1,
      address2: l.street2,
      city: l.city,
      company: yotpo.company ?? null,
      state: l.region,
      zip: l.postalCode,
      province_code: l.regionCode,
      country_code: l.countryCode,
      phone_number: yotpo.address_phone_number ?? null,
    },
    custom_properties: customer.customFields,
    created_at: customer.createdAt,
    updated_at: customer.updatedAt,
  };
}

/** The core's fields as Yotpo's body (and list query) names them. */
const fieldNames: FieldNames = {
  '/externalId': '/customer/external_id',
  '/email': '/customer/email',
  '/phone': '/customer/phone_number',
  '/phoneNumber': '/customer/phone_number',
  '/phoneNumbers': '/customer/phone_number',
  '/firstName': '/customer/first_name',
  '/lastName': '/customer/last_name',
  '/active': '/customer/account_status',
  '/customFields': '/customer/custom_properties',
  // Yotpo's attributes without a field of their own are kept in metadata.
  '/metadata': '/customer',
  '/location': '/customer/address',
  '/location/street1': '/customer/address/address1',
  '/location/street2': '/customer/address/address2',
  '/location/region': '/customer/address/state',
  '/location/regionCode': '/customer/address/province_code',
  '/location/postalCode': '/customer/address/zip',
  '/location/countryCode': '/customer/address/country_code',
  '/query/cursor': '/query/page_info',
};

const errorTypes: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'too_many_requests',
  500: 'internal_error',
  503: 'service_unavailable',
};

/** The token from X-Yotpo-Token, or from ?access_token= as Yotpo also takes it. */
function token(request: FastifyRequest): string | undefined {
  return (
    header(request, 'x-yotpo-token') ?? (request.query as { access_token?: string }).access_token
  );
}

export const yotpoRoutes: FastifyPluginAsyncTypebox<DialectOptions> = async (
  app,
  { clientele },
) => {
  useErrorShape(
    app,
    (error) => {
      const status = platformStatus(error, { 422: 400 });
      const message = problemText(error);
      return {
        status,
        body: { status: { message, code: status, error_type: errorTypes[status] ?? 'error' } },
      };
    },
    fieldNames,
  );

  const StoreParams = Type.Object({ store_id: Type.String() });
  const TokenQuery = { access_token: Type.Optional(Type.String()) };
  const preHandler = guard(clientele, (request) =>
    authorize(clientele, 'yotpo', {
      key: token(request),
      tenant: (request.params as { store_id: string }).store_id,
      accessTokens: true,
    }),
  );

  app.post(
    '/core/v3/stores/:store_id/access_tokens',
    {
      schema: {
        hide: true,
        operationId: 'yotpoCreateAccessToken',
        params: StoreParams,
        body: Type.Object({ secret: Type.String() }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const caller = await authorize(clientele, 'yotpo', {
        key: request.body.secret,
        tenant: request.params.store_id,
      });
      const { accessToken } = await clientele.keys.createAccessToken(caller);
      return { access_token: accessToken };
    },
  );

  app.patch(
    '/core/v3/stores/:store_id/customers',
    {
      preHandler,
      schema: {
        hide: true,
        operationId: 'yotpoUpsertCustomer',
        params: StoreParams,
        querystring: Type.Object(TokenQuery, { additionalProperties: false }),
        body: Type.Object({ customer: YotpoCustomer }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const { input, lookupBy } = toInput(request.body.customer);
      await upsertFor(clientele, request, 'yotpo', input, { lookupBy });
      return {};
    },
  );

  app.get(
    '/core/v3/stores/:store_id/customers',
    {
      preHandler,
      schema: {
        hide: true,
        operationId: 'yotpoListCustomers',
        params: StoreParams,
        querystring: Type.Object(
          {
            ...TokenQuery,
            external_ids: Type.Optional(Type.String()),
            emails: Type.Optional(Type.String()),
            phone_numbers: Type.Optional(Type.String()),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 100 })),
            page_info: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { caller } = request;
      const q = request.query;
      const split = (v: string | undefined) =>
        (v ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      const lookups: Lookup[] = [
        ...split(q.external_ids).map((externalId) => ({ externalId })),
        ...split(q.emails).map((email) => ({ email })),
        ...split(q.phone_numbers).map((phone) => ({ phone })),
      ];
      if (lookups.length > 0) {
        const found = await clientele.customers.findMany(caller.storeId, lookups.slice(0, 100));
        return { customers: found.map(toYotpo), page_info: null };
      }
      const page = await clientele.customers.list(caller.storeId, {
        limit: q.limit ?? 100,
        cursor: q.page_info,
      });
      return { customers: page.data.map(toYotpo), page_info: page.nextCursor };
    },
  );
};

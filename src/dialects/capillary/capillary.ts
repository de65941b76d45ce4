import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { e164FromDigits } from '../../core/customers/contact.js';
import type { CustomerInput } from '../../core/customers/input.js';
import type { Lookup } from '../../core/customers/read.js';
import { fail } from '../../core/errors.js';
import { basicCredentials } from '../../http/plugins/auth.js';
import { upsertFor } from '../../http/upsert.js';
import { authorize, type DialectOptions, guard, useErrorShape } from '../common.js';
import { capillaryError, capillaryFieldNames, renderCapillaryError } from './errors.js';

/**
 * Capillary: `PUT /v2/customers/lookup?identifierName=&identifierValue=&source=`, update
 * only. Basic auth carries the store (id or alias) and key. Its integer customer ids are
 * Clientele's per-store customer sequence numbers.
 */

const sources = [
  'FACEBOOK',
  'WEB_ENGAGE',
  'WECHAT',
  'INSTORE',
  'MARTJACK',
  'TMALL',
  'TAOBAO',
  'JD',
  'ECOMMERCE',
  'WEBSITE',
  'LINE',
  'MOBILE_APP',
];
const identifierNames = ['mobile', 'email', 'externalId'] as const;
const identifierTypes = [
  'mobile',
  'email',
  'externalId',
  'wechat',
  'martjackId',
  'fbId',
  'tmall_uname',
  'cuid',
  'ali_uname',
  'jd_uname',
  'vip_uname',
  'line',
];
const channelTypes = ['mobile', 'email', 'wechat', 'ios', 'android', 'line', 'mobilePush'];

const flag = () =>
  Type.Optional(Type.Union([Type.Boolean(), Type.Literal('true'), Type.Literal('false')]));
const scalar = Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'] });

const Profile = Type.Object(
  {
    firstName: Type.Optional(Type.String({ maxLength: 255 })),
    lastName: Type.Optional(Type.String({ maxLength: 255 })),
    Firstname: Type.Optional(Type.String({ maxLength: 255 })),
    Lastname: Type.Optional(Type.String({ maxLength: 255 })),
    fields: Type.Optional(Type.Record(Type.String(), scalar)),
    identifiers: Type.Optional(
      Type.Array(
        Type.Object({ type: Type.String(), value: Type.String({ minLength: 1, maxLength: 255 }) }),
        { maxItems: 50 },
      ),
    ),
    commChannels: Type.Optional(
      Type.Array(
        Type.Object({
          type: Type.String(),
          value: Type.String({ minLength: 1, maxLength: 320 }),
          primary: flag(),
          verified: flag(),
          meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        }),
        { maxItems: 50 },
      ),
    ),
  },
  { additionalProperties: true },
);

const Body = Type.Object(
  {
    profiles: Type.Optional(Type.Array(Profile, { maxItems: 10 })),
    loyaltyInfo: Type.Optional(
      Type.Object({
        loyaltyType: Type.Union([Type.Literal('loyalty'), Type.Literal('non_loyalty')]),
      }),
    ),
    loyaltyType: Type.Optional(Type.Union([Type.Literal('loyalty'), Type.Literal('non_loyalty')])),
    extendedFields: Type.Optional(Type.Record(Type.String(), scalar)),
    loyaltyProgramEnrollments: Type.Optional(
      Type.Array(
        Type.Object({
          programId: Type.Integer(),
          tierNumber: Type.Optional(Type.Integer()),
          loyaltyPoints: Type.Optional(Type.Number()),
          tierExpiryDate: Type.Optional(Type.String()),
          pointsExpiryDate: Type.Optional(Type.String()),
        }),
        { maxItems: 50 },
      ),
    ),
  },
  { additionalProperties: true },
);

const Query = Type.Object({
  identifierName: Type.Optional(Type.String()),
  identifierValue: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  accountId: Type.Optional(Type.String()),
  use_async: Type.Optional(Type.String()),
});

function lookupOf(query: Static<typeof Query>): Lookup {
  if (!query.source || !sources.includes(query.source)) {
    throw capillaryError(8003, 'validation_failed', `Invalid source: one of ${sources.join(', ')}`);
  }
  const name = query.identifierName;
  const value = query.identifierValue?.trim();
  if (!name || !(identifierNames as readonly string[]).includes(name) || !value) {
    throw capillaryError(
      8013,
      'validation_failed',
      'Invalid identifier: identifierName mobile, email or externalId, with identifierValue',
    );
  }
  if (name === 'mobile') return { phone: e164FromDigits(value) };
  if (name === 'email') return { email: value };
  return { externalId: value };
}

const bool = (v: boolean | 'true' | 'false' | undefined) =>
  v === undefined ? undefined : v === true || v === 'true';

function toInput(lookup: Lookup, body: Static<typeof Body>): CustomerInput {
  const input: CustomerInput = {};
  if ('phone' in lookup) input.phoneNumbers = [lookup.phone];
  if ('email' in lookup) input.email = lookup.email;
  if ('externalId' in lookup) input.externalId = lookup.externalId;

  for (const [p, profile] of (body.profiles ?? []).entries()) {
    const firstName = profile.firstName ?? profile.Firstname;
    const lastName = profile.lastName ?? profile.Lastname;
    if (firstName !== undefined) input.firstName = firstName;
    if (lastName !== undefined) input.lastName = lastName;
    if (profile.fields) input.customFields = { ...input.customFields, ...profile.fields };
    for (const [i, { type, value }] of (profile.identifiers ?? []).entries()) {
      if (!identifierTypes.includes(type)) {
        throw capillaryError(
          8013,
          'validation_failed',
          `Invalid identifier type at profiles/${p}/identifiers/${i}: ${type}`,
        );
      }
      if (type === 'mobile')
        input.phoneNumbers = [...(input.phoneNumbers ?? []), e164FromDigits(value)];
      else if (type === 'email') setOnce(input, 'email', value, `profiles/${p}/identifiers/${i}`);
      else if (type === 'externalId')
        setOnce(input, 'externalId', value, `profiles/${p}/identifiers/${i}`);
      else input.identifiers = [...(input.identifiers ?? []), { type, value }];
    }
    for (const [i, channel] of (profile.commChannels ?? []).entries()) {
      if (!channelTypes.includes(channel.type)) {
        throw fail.field(
          `/profiles/${p}/commChannels/${i}/type`,
          `must be one of ${channelTypes.join(', ')}`,
        );
      }
      const primary = bool(channel.primary);
      const verified = bool(channel.verified);
      input.channels = [
        ...(input.channels ?? []),
        {
          type: channel.type,
          value: channel.type === 'mobile' ? e164FromDigits(channel.value) : channel.value,
          ...(primary === undefined ? {} : { primary }),
          ...(verified === undefined ? {} : { verified }),
          ...(channel.meta ? { meta: channel.meta } : {}),
        },
      ];
    }
  }
  const loyaltyType = body.loyaltyInfo?.loyaltyType ?? body.loyaltyType;
  if (loyaltyType !== undefined || body.loyaltyProgramEnrollments) {
    input.loyalty = {
      ...(loyaltyType === undefined ? {} : { status: loyaltyType }),
      ...(body.loyaltyProgramEnrollments
        ? {
            enrollments: body.loyaltyProgramEnrollments.map((e) => ({
              programId: e.programId,
              tierNumber: e.tierNumber ?? null,
              points: e.loyaltyPoints ?? 0,
              tierExpiresAt: e.tierExpiryDate ?? null,
              pointsExpireAt: e.pointsExpiryDate ?? null,
            })),
          }
        : {}),
    };
  }
  if (body.extendedFields) input.extendedFields = body.extendedFields;
  return input;
}

/** The customer is found by the query; an identifier in the body cannot re-point it. */
function setOnce(
  input: CustomerInput,
  field: 'email' | 'externalId',
  value: string,
  where: string,
) {
  if (input[field] !== undefined && input[field] !== value) {
    throw capillaryError(
      8013,
      'validation_failed',
      `${where}: ${field} differs from the one the customer is looked up by`,
    );
  }
  input[field] = value;
}

export const capillaryRoutes: FastifyPluginAsyncTypebox<DialectOptions> = async (
  app,
  { clientele },
) => {
  useErrorShape(app, renderCapillaryError, capillaryFieldNames);

  const authorized = async (request: FastifyRequest) => {
    const { user, password } = basicCredentials(request);
    return authorize(clientele, 'capillary', { key: password, tenant: user ?? '' });
  };
  // Every route of this dialect needs the platform's credentials.
  for (const hook of guard(clientele, authorized)) app.addHook('preHandler', hook);

  app.put(
    '/v2/customers/lookup',
    {
      schema: {
        hide: true,
        operationId: 'capillaryUpdateCustomer',
        querystring: Query,
        body: Body,
      },
    },
    async (request) => {
      const lookup = lookupOf(request.query);
      const lookupBy = 'phone' in lookup ? 'phone' : 'email' in lookup ? 'email' : 'externalId';
      const outcome = await upsertFor(
        clientele,
        request,
        'capillary',
        toInput(lookup, request.body ?? {}),
        { mode: 'update', lookupBy: [lookupBy] },
      );
      return { createdId: outcome.seq, warnings: [], sideEffects: [] };
    },
  );

  app.get(
    '/v2/customers/lookup',
    { schema: { hide: true, operationId: 'capillaryGetCustomer', querystring: Query } },
    async (request) => {
      const { caller } = request;
      const customer = await clientele.customers.find(caller.storeId, lookupOf(request.query));
      return { entity: await clientele.customers.seqOf(caller.storeId, customer.id), warnings: [] };
    },
  );
};

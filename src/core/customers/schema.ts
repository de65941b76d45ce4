import { type Static, Type } from 'typebox';
import { Nullable } from '../schema.js';
import { limits } from './limits.js';

const text = (maxLength: number = limits.stringLength) => Type.String({ maxLength });

/**
 * The customer, declared once: what a write may carry (`CustomerWrite`) and the
 * customer object every read and answer shows (`Customer`). The request and answer
 * schemas of the HTTP API, its OpenAPI document and the core's types (`Static<…>`, in
 * customer.ts and input.ts) all come from here.
 */

const Location = Type.Object(
  {
    street1: Type.Optional(Nullable(text(255))),
    street2: Type.Optional(Nullable(text(255))),
    city: Type.Optional(Nullable(text(255))),
    region: Type.Optional(Nullable(text(255))),
    regionCode: Type.Optional(Nullable(text(16))),
    postalCode: Type.Optional(Nullable(text(32))),
    country: Type.Optional(Nullable(text(255))),
    countryCode: Type.Optional(Nullable(text(2))),
    latitude: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
    longitude: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
    timezone: Type.Optional(Nullable(text(64))),
  },
  { additionalProperties: false },
);

export const TypedIdentifier = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64 }),
    value: Type.String({ minLength: 1, maxLength: 255 }),
  },
  { additionalProperties: false },
);

export const ChannelWrite = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 32 }),
    value: Type.String({ minLength: 1, maxLength: 320 }),
    primary: Type.Optional(Type.Boolean()),
    verified: Type.Optional(Type.Boolean()),
    subscribed: Type.Optional(Type.Boolean()),
    meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

const Enrollment = Type.Object(
  {
    programId: Type.Integer(),
    tierNumber: Type.Optional(Nullable(Type.Integer())),
    points: Type.Optional(Type.Number()),
    tierExpiresAt: Type.Optional(Nullable(Type.String())),
    pointsExpireAt: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
);

export const LoyaltyWrite = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('loyalty'), Type.Literal('non_loyalty')])),
    enrollments: Type.Optional(Type.Array(Enrollment, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

const CustomFieldValue = Type.Unsafe<string | number | boolean | null>({
  type: ['string', 'number', 'boolean', 'null'],
  maxLength: limits.stringLength,
});

/** The upsert body: any writable field of the customer, plus `id` to address a known one. */
export const CustomerWrite = Type.Object(
  {
    id: Type.Optional(Type.String({ description: 'Address a known customer (cust_…)' })),
    externalId: Type.Optional(Nullable(text(255))),
    email: Type.Optional(Nullable(text(320))),
    phoneNumber: Type.Optional(
      Type.String({ maxLength: 32, description: 'E.164; appended if new' }),
    ),
    phoneNumbers: Type.Optional(
      Type.Array(Type.String({ maxLength: 32 }), { maxItems: limits.phoneNumbersPerCustomer }),
    ),
    firstName: Type.Optional(Nullable(text(255))),
    lastName: Type.Optional(Nullable(text(255))),
    birthdate: Type.Optional(Nullable(Type.String({ description: 'YYYY-MM-DD' }))),
    description: Type.Optional(Nullable(text())),
    active: Type.Optional(Type.Boolean()),
    location: Type.Optional(Nullable(Location)),
    identifiers: Type.Optional(
      Type.Array(TypedIdentifier, { maxItems: limits.identifiersPerCustomer }),
    ),
    customFields: Type.Optional(
      Type.Record(Type.String(), CustomFieldValue, {
        maxProperties: limits.customFieldsPerRequest,
      }),
    ),
    extendedFields: Type.Optional(
      Type.Record(Type.String(), CustomFieldValue, {
        maxProperties: limits.customFieldsPerRequest,
      }),
    ),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    channels: Type.Optional(Type.Array(ChannelWrite, { maxItems: 50 })),
    loyalty: Type.Optional(LoyaltyWrite),
  },
  { additionalProperties: false },
);

const nullableString = Nullable(Type.String());

export const StoredLocation = Type.Object({
  street1: nullableString,
  street2: nullableString,
  city: nullableString,
  region: nullableString,
  regionCode: nullableString,
  postalCode: nullableString,
  country: nullableString,
  countryCode: nullableString,
  latitude: Nullable(Type.Number()),
  longitude: Nullable(Type.Number()),
  timezone: nullableString,
});

export const Channel = Type.Object({
  type: Type.String(),
  value: Type.String(),
  primary: Type.Boolean(),
  verified: Type.Boolean(),
  subscribed: Type.Boolean(),
  meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const LoyaltyEnrollment = Type.Object({
  programId: Type.Integer(),
  tierNumber: Nullable(Type.Integer()),
  points: Type.Number(),
  tierExpiresAt: nullableString,
  pointsExpireAt: nullableString,
});

export const Loyalty = Type.Object({
  status: Type.Union([Type.Literal('loyalty'), Type.Literal('non_loyalty')]),
  enrollments: Type.Array(LoyaltyEnrollment),
});

/** An email or external id this customer answers to since a merge (docs/api.md, Merges). */
export const MergedIdentifier = Type.Object({
  type: Type.Unsafe<'email' | 'externalId'>({ type: 'string', enum: ['email', 'externalId'] }),
  value: Type.String(),
});

export const Customer = Type.Object({
  id: Type.String(),
  storeId: Type.String(),
  externalId: nullableString,
  email: nullableString,
  phoneNumbers: Type.Array(Type.String()),
  firstName: nullableString,
  lastName: nullableString,
  displayName: nullableString,
  birthdate: nullableString,
  description: nullableString,
  active: Type.Boolean(),
  location: StoredLocation,
  identifiers: Type.Array(Type.Object({ type: Type.String(), value: Type.String() })),
  mergedIdentifiers: Type.Array(MergedIdentifier, {
    description:
      'Emails and external ids of customers merged into this one that its own replaced: each still finds this customer (an undo gives them back).',
  }),
  customFields: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
  ),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  channels: Type.Array(Channel),
  // Written out loose, not as a union with null: the answer's serializer would check
  // each branch against every answer (the upsert's hot path).
  loyalty: Type.Unsafe<Static<typeof Loyalty> | null>({
    type: ['object', 'null'],
    additionalProperties: true,
  }),
  version: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const UpsertResponse = Type.Object({
  result: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('unchanged')]),
  matchedBy: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    enum: ['id', 'externalId', 'email', 'phone', 'identifier', null],
  }),
  customer: Customer,
  warnings: Type.Array(Type.String()),
});

export const CustomerPage = Type.Object({ data: Type.Array(Customer), nextCursor: nullableString });

export const CustomerEvent = Type.Object({
  id: Type.String(),
  customerId: Type.String(),
  type: Type.String({ description: 'created | updated | merged' }),
  api: Type.String({ description: 'native, or the dialect the write came through' }),
  keyId: nullableString,
  importId: Type.Optional(
    Type.String({ description: 'The import (imp_…) whose row made the change, when one did' }),
  ),
  previousVersion: Nullable(
    Type.Integer({ description: 'The version before the write (0 for a new customer)' }),
  ),
  version: Nullable(Type.Integer({ description: 'The version the write left the customer at' })),
  changes: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'Each changed field (customFields.x, location.city, …) with its value before and after',
  }),
  createdAt: Type.String(),
});

export const CustomerEventPage = Type.Object({
  data: Type.Array(CustomerEvent),
  nextCursor: nullableString,
});

/** GET …/customers/{id}/export: everything held about one person (docs/api.md). */
export const CustomerExport = Type.Object({
  format: Type.Literal('clientele.customer-export/1'),
  exportedAt: Type.String(),
  storeId: Type.String(),
  customer: Customer,
  identifiers: Type.Array(
    Type.Object({
      kind: Type.String({ description: 'externalId, email, phone, or a typed identifier type' }),
      value: Type.String(),
      suppressed: Type.Boolean(),
    }),
  ),
  customFields: Type.Array(
    Type.Object({ name: Type.String(), type: Nullable(Type.String()), value: Type.Unknown() }),
  ),
  merged: Type.Array(Type.Object({ id: Type.String(), mergedAt: Type.String() })),
  segments: Type.Array(
    Type.Object({ id: Type.String(), name: Type.String(), joinedAt: Type.String() }),
  ),
  history: Type.Array(
    Type.Object({
      id: Type.String(),
      customerId: Type.String(),
      type: Type.String(),
      api: Type.String(),
      keyId: nullableString,
      previousVersion: Nullable(Type.Integer()),
      version: Nullable(Type.Integer()),
      changes: Type.Record(Type.String(), Type.Unknown()),
      segmentId: nullableString,
      createdAt: Type.String(),
    }),
  ),
});

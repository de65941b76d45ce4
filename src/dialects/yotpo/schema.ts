import { type Static, Type } from 'typebox';
import { OptionalNullableString } from '../../http/schemas/common.js';

/** Yotpo's customer body, as its API takes it. */

const bool = () => Type.Optional(Type.Union([Type.Boolean(), Type.Null()]));

const Address = Type.Object(
  {
    address1: OptionalNullableString(),
    address2: OptionalNullableString(),
    city: OptionalNullableString(),
    company: OptionalNullableString(),
    state: OptionalNullableString(),
    zip: OptionalNullableString(32),
    province_code: OptionalNullableString(16),
    country_code: OptionalNullableString(2),
    phone_number: OptionalNullableString(32),
  },
  { additionalProperties: false },
);

export const YotpoCustomer = Type.Object(
  {
    external_id: OptionalNullableString(255),
    email: OptionalNullableString(320),
    phone_number: OptionalNullableString(32),
    first_name: OptionalNullableString(),
    last_name: OptionalNullableString(),
    gender: Type.Optional(
      Type.Union([Type.Literal('F'), Type.Literal('M'), Type.Literal('Other'), Type.Null()]),
    ),
    account_created_at: OptionalNullableString(64),
    account_updated_at: OptionalNullableString(64),
    account_status: Type.Optional(
      Type.Union([
        Type.Literal('enabled'),
        Type.Literal('disabled'),
        Type.Literal('invited'),
        Type.Literal('declined'),
        Type.Null(),
      ]),
    ),
    default_language: Type.Optional(
      Type.Union([Type.String({ pattern: '^[a-z]{2}$' }), Type.Null()]),
    ),
    default_currency: Type.Optional(
      Type.Union([Type.String({ pattern: '^[A-Z]{3}$' }), Type.Null()]),
    ),
    tags: OptionalNullableString(2048),
    address: Type.Optional(Type.Union([Address, Type.Null()])),
    accepts_sms_marketing: bool(),
    accepts_email_marketing: bool(),
    custom_properties: Type.Optional(
      Type.Union([Type.Record(Type.String(), Type.Unsafe<unknown>({})), Type.Null()]),
    ),
  },
  { additionalProperties: false },
);

export type YotpoBody = Static<typeof YotpoCustomer>;

import { Type } from 'typebox';
import { Nullable } from '../../core/schema.js';

export { Nullable };

/** An optional string that may also be null (platforms that send null for "not given"). */
export const OptionalNullableString = (maxLength = 255) =>
  Type.Optional(Nullable(Type.String({ maxLength })));

export const StoreIdParams = Type.Object({
  storeId: Type.String({ description: 'The store id (sto_…)' }),
});

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
};

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
    requestId: Type.String(),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

/** The error responses every store route can give. */
export const storeRouteErrors = {
  400: Problem,
  401: Problem,
  404: Problem,
};

import { type Static, Type } from 'typebox';
import type { CustomerListQuery, ListFilters, ListOrder } from '../../core/customers/list.js';
import { fail } from '../../core/errors.js';

/**
 * Voucherify's `GET /v1/customers` query, as its OpenAPI lists it, turned into the core's
 * list query. What Clientele cannot do (segments) is refused by name, never ignored.
 */

const DateTime = () => Type.Optional(Type.String({ format: 'date-time' }));
const orders = [
  'created_at',
  '-created_at',
  'updated_at',
  '-updated_at',
  'source_id',
  '-source_id',
] as const;

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    email: Type.Optional(Type.String()),
    city: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    segment_id: Type.Optional(Type.String()),
    'created_at[before]': DateTime(),
    'created_at[after]': DateTime(),
    'updated_at[before]': DateTime(),
    'updated_at[after]': DateTime(),
    order: Type.Optional(
      Type.Unsafe<(typeof orders)[number]>({ type: 'string', enum: [...orders] }),
    ),
    starting_after: DateTime(),
  },
  { additionalProperties: false },
);
type VoucherifyListQuery = Static<typeof ListQuery>;

const orderFields = { created_at: 'createdAt', updated_at: 'updatedAt', source_id: 'externalId' };

const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

export function listQueryOf(q: VoucherifyListQuery): CustomerListQuery {
  if (q.segment_id !== undefined) {
    throw fail.field('/query/segment_id', 'segments are not supported');
  }
  const filters: ListFilters = {
    email: q.email,
    city: q.city,
    name: q.name?.trim(),
    createdBefore: date(q['created_at[before]']),
    createdAfter: date(q['created_at[after]']),
    updatedBefore: date(q['updated_at[before]']),
    updatedAfter: date(q['updated_at[after]']),
  };
  const limit = q.limit ?? 10;
  const order: ListOrder | undefined =
    q.order &&
    ({
      by: orderFields[q.order.replace(/^-/, '') as keyof typeof orderFields],
      direction: q.order.startsWith('-') ? 'desc' : 'asc',
    } as ListOrder);
  if (q.starting_after === undefined) {
    return { limit, filters, ...(order ? { order } : {}), page: q.page ?? 1 };
  }
  // starting_after is a time in the list's order: newest first unless `order` says otherwise.
  if (q.page !== undefined) {
    throw fail.field(
      '/query/page',
      'cannot be combined with starting_after, which pages by itself',
    );
  }
  if (order?.by === 'externalId') {
    throw fail.field(
      '/query/starting_after',
      'pages by created_at or updated_at; a list ordered by source_id pages with page',
    );
  }
  return { limit, filters, ...(order ? { order } : {}), after: new Date(q.starting_after) };
}

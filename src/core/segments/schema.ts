import { Type } from 'typebox';
import { Customer } from '../customers/schema.js';

/** The routes' schemas of segments (docs/api.md, "Segments"). */

const filterDescription =
  'A condition tree: {"and": [...]}, {"or": [...]}, {"not": {...}}, or a leaf {"field", "op", "value"}. ' +
  'Checked by the server (not by this schema): a bad part is 422 invalid_filter naming its path ' +
  '(/filter/and/0/op), past the store limits 422 limit_exceeded. Fields, operators and what an unset field does: docs/api.md.';

export const Filter = Type.Unknown({
  description: filterDescription,
  examples: [
    {
      and: [
        { field: 'customFields.tier', op: 'eq', value: 'gold' },
        { field: 'location.city', op: 'eq', value: 'Boston' },
        { field: 'customFields.points', op: 'gt', value: 1000 },
        { field: 'createdAt', op: 'in_the_last', value: { amount: 30, unit: 'day' } },
      ],
    },
  ],
});

export const SegmentCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }), filter: Filter },
  { additionalProperties: false },
);

export const SegmentUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    filter: Type.Optional(Filter),
  },
  { additionalProperties: false },
);

export const Segment = Type.Object({
  id: Type.String({ description: 'seg_…' }),
  name: Type.String(),
  filter: Filter,
  count: Type.Integer({
    description:
      'Members now: exact, current with every acknowledged write (while building: those built so far and those writes made)',
  }),
  status: Type.Union([Type.Literal('building'), Type.Literal('ready')], {
    description:
      'building: its members are being made in the background (a big store); ready: every customer the filter holds for is a member',
  }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const SegmentList = Type.Object({ data: Type.Array(Segment) });

export const MemberPage = Type.Object({
  data: Type.Array(
    Type.Object({
      id: Type.String({ description: 'The customer id' }),
      joinedAt: Type.String({ format: 'date-time' }),
      customer: Customer,
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const CustomerSegments = Type.Object({
  data: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      joinedAt: Type.String({ format: 'date-time' }),
    }),
  ),
});

export const PreviewRequest = Type.Object({ filter: Filter }, { additionalProperties: false });

export const Preview = Type.Object({
  count: Type.Integer(),
  sample: Type.Array(Customer, { description: 'Up to 10 matching customers, newest first' }),
});

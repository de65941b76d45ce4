import { Type } from 'typebox';
import { Customer } from '../customers/schema.js';
import { Nullable } from '../schema.js';

/** The feed's event (events.ts builds it; docs/api.md, "Events"). */
export const Event = Type.Object({
  id: Type.String({ description: 'evt_…; resume after it with ?after=' }),
  type: Type.Union([
    Type.Literal('customer.created'),
    Type.Literal('customer.updated'),
    Type.Literal('customer.merged'),
    Type.Literal('customer.unmerged'),
    Type.Literal('customer.erased'),
    Type.Literal('segment.entered'),
    Type.Literal('segment.exited'),
    Type.Literal('import.completed'),
  ]),
  createdAt: Type.String({ format: 'date-time' }),
  storeId: Type.String(),
  data: Type.Object({
    /** The customer as this change left it (its version is the event's); erased: the id alone. */
    customer: Type.Optional(
      Type.Union([Customer, Type.Object({ id: Type.String() })], {
        description: 'Of every customer.* and segment.* event (not of import.completed)',
      }),
    ),
    import: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Of import.completed: the job as it completed, as GET …/imports/{id} shows it',
      }),
    ),
    changes: Type.Array(
      Type.Object({ field: Type.String(), before: Type.Unknown(), after: Type.Unknown() }),
    ),
    version: Nullable(Type.Integer()),
    previousVersion: Nullable(Type.Integer()),
    api: Type.String({
      description:
        'native, or the dialect the write came through; clock for a segment a relative-date condition moved',
    }),
    segment: Type.Optional(
      Type.Object(
        { id: Type.String() },
        { description: 'Of segment.entered and segment.exited: the segment' },
      ),
    ),
    importId: Type.Optional(
      Type.String({ description: 'The import (imp_…) whose row made this change, when one did' }),
    ),
  }),
});

export const EventPage = Type.Object({
  data: Type.Array(Event),
  hasMore: Type.Boolean({
    description: 'More events are ready now; otherwise poll again later with the last id',
  }),
});

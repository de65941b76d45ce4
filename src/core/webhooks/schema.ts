import { Type } from 'typebox';
import { Nullable } from '../schema.js';
import { subscribable } from './webhooks.js';

/** The webhook API's objects (webhooks.ts builds them; docs/webhooks.md). */

const EventName = Type.String({ description: `one of ${subscribable.join(', ')}` });

export const Endpoint = Type.Object({
  id: Type.String({ description: 'whe_…' }),
  url: Type.String(),
  events: Type.Array(EventName),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String({ description: 'why the server disabled it' })),
  failingSince: Nullable(Type.String({ description: 'since when every attempt has failed' })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const CreatedEndpoint = Type.Intersect([
  Endpoint,
  Type.Object({
    secret: Type.String({ description: 'whsec_…: the signing secret, shown this once' }),
  }),
]);

export const EndpointCreate = Type.Object(
  {
    url: Type.String(),
    events: Type.Array(Type.String()),
    description: Type.Optional(Nullable(Type.String())),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const EndpointUpdate = Type.Partial(EndpointCreate, { additionalProperties: false });

export const Attempt = Type.Object({
  id: Type.String(),
  deliveryId: Nullable(Type.String()),
  eventId: Type.String(),
  eventType: Type.String(),
  attempt: Type.Integer(),
  at: Type.String(),
  status: Nullable(
    Type.Integer({ description: "the receiver's HTTP status; null when none came" }),
  ),
  latencyMs: Type.Integer(),
  response: Nullable(Type.String({ description: 'the first KiB of the answer' })),
  error: Nullable(Type.String()),
});

export const AttemptPage = Type.Object({
  data: Type.Array(Attempt),
  hasMore: Type.Boolean(),
  pending: Type.Integer({ description: 'deliveries still to be made' }),
});

export const PingResult = Type.Object({
  eventId: Type.String(),
  status: Nullable(Type.Integer()),
  latencyMs: Type.Integer(),
  response: Nullable(Type.String()),
  error: Nullable(Type.String()),
});

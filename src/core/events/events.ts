import { fieldChanges } from '../customers/changes.js';
import { type Customer, customerOf } from '../customers/customer.js';
import { findCustomersById } from '../customers/customers.repository.js';
import type { DB } from '../db/database.js';
import { fail } from '../errors.js';
import {
  changesSince,
  type FeedPlace,
  type FeedRow,
  placeOf,
  readById,
  readFeed,
} from './feed.repository.js';
import { undoChanges } from './snapshot.js';

/** The event types of the feed, and the change record's type each comes from. */
export const eventTypes = {
  'customer.created': 'created',
  'customer.updated': 'updated',
  'customer.merged': 'merged',
  'customer.unmerged': 'unmerged',
  'customer.erased': 'erased',
  'segment.entered': 'segment_entered',
  'segment.exited': 'segment_exited',
  'import.completed': 'import_completed',
} as const;
export type EventType = keyof typeof eventTypes;
const typeOfRecord = new Map(Object.entries(eventTypes).map(([k, v]) => [v, k as EventType]));

/** One event of a store's feed (docs/api.md, "Events"). */
export interface Event {
  id: string;
  type: EventType;
  createdAt: string;
  storeId: string;
  data: {
    /**
     * The customer as this change left it (its `version` is the event's); of an erased
     * customer, the id alone.
     */
    customer?: Customer | { id: string };
    /** Of import.completed: the job as it completed (GET …/imports/{id}'s shape). */
    import?: Record<string, unknown>;
    changes: { field: string; before: unknown; after: unknown }[];
    version: number | null;
    previousVersion: number | null;
    api: string;
    /** Of segment.entered and segment.exited: the segment. */
    segment?: { id: string };
    /** The import whose batch made the change, when an import did. */
    importId?: string;
  };
}

/** What orders an event's deliveries: its customer, or the import it tells of. */
export function subjectOf(event: Event): string {
  const id = event.data.customer?.id ?? event.data.import?.id;
  if (typeof id !== 'string') throw new Error(`event ${event.id} has no subject`);
  return id;
}

export interface FeedQuery {
  /** The id of the last event the reader has; the page starts after it. */
  after?: string | undefined;
  types?: EventType[] | undefined;
  limit: number;
}

/** `clientele.events`: a store's change events, in order, resumable from any of them. */
export class Events {
  constructor(
    private readonly db: DB,
    private readonly retentionDaysOf: (storeId: string) => Promise<number>,
  ) {}

  async list(storeId: string, query: FeedQuery): Promise<{ data: Event[]; hasMore: boolean }> {
    const days = await this.retentionDaysOf(storeId);
    const since = new Date(Date.now() - days * 86_400_000);
    let after: Awaited<ReturnType<typeof placeOf>>;
    if (query.after !== undefined) {
      after = await placeOf(this.db, storeId, query.after);
      if (!after) {
        throw fail.field(
          '/query/after',
          "is not an event of this store's feed (unknown, or its customer was erased)",
        );
      }
    }
    const types = query.types?.map((t) => eventTypes[t]);
    const rows = await readFeed(this.db, storeId, {
      after,
      types,
      since,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    return { data: await this.eventsOf(storeId, page), hasMore: rows.length > query.limit };
  }

  /** These events of the store, in feed order; ids it no longer has are left out. */
  async byIds(storeId: string, ids: string[]): Promise<Event[]> {
    return this.eventsOf(storeId, await readById(this.db, storeId, ids));
  }

  /** The ids and customers of the store's events since a time, in feed order. */
  async idsSince(storeId: string, since: Date, types: EventType[] | undefined) {
    const rows = await readFeed(this.db, storeId, {
      after: undefined,
      types: types?.map((t) => eventTypes[t]),
      since,
      limit: 1_000_000,
    });
    return rows.map((r) => ({ id: r.id, customerId: r.customerId }));
  }

  /**
   * The next events after a place in the store's feed, read through `db` (a caller's
   * transaction), and the place of the last one (undefined when there is none).
   */
  async next(db: DB, storeId: string, after: FeedPlace, limit: number) {
    const rows = await readFeed(db, storeId, {
      after,
      types: undefined,
      since: new Date(0),
      limit,
    });
    const last = rows.at(-1);
    return {
      events: await this.eventsOf(storeId, rows, db),
      last: last ? { tx: last.tx, position: last.position } : undefined,
    };
  }

  /** How many days of events the store keeps. */
  retentionDays(storeId: string): Promise<number> {
    return this.retentionDaysOf(storeId);
  }

  /**
   * The rows as events, each with its customer as that change left it: the customer as
   * it is now, with every later change undone.
   */
  private async eventsOf(storeId: string, rows: FeedRow[], db: DB = this.db): Promise<Event[]> {
    if (rows.length === 0) return [];
    const first = new Map<string, string>();
    for (const r of rows) {
      if (r.type !== eventTypes['import.completed'] && !first.has(r.customerId))
        first.set(r.customerId, r.position);
    }
    const [customers, later] = await Promise.all([
      first.size === 0
        ? new Map<string, never>()
        : findCustomersById(db, storeId, [...first.keys()]),
      changesSince(
        db,
        storeId,
        [...first].map(([customerId, position]) => ({ customerId, position })),
      ),
    ]);
    const events: Event[] = [];
    for (const r of rows) {
      const stored = customers.get(r.customerId);
      const type = typeOfRecord.get(r.type as (typeof eventTypes)[EventType]);
      // An import's record: the job as it completed, no customer.
      if (type === 'import.completed') {
        events.push(eventOf(storeId, { ...r, changes: {} }, type, undefined, r.changes));
        continue;
      }
      // Erased (or, for a segment's record, erased since): the id alone.
      if (type === 'customer.erased' || (type?.startsWith('segment.') && !stored)) {
        events.push(eventOf(storeId, r, type, { id: r.customerId }));
        continue;
      }
      if (!stored || !type) continue;
      const undo = later
        .filter((l) => l.customerId === r.customerId && BigInt(l.position) > BigInt(r.position))
        .map((l) => l.changes);
      const customer = undoChanges(customerOf(storeId, stored), undo);
      if (r.version !== null) customer.version = r.version;
      customer.updatedAt = r.createdAt.toISOString();
      events.push(eventOf(storeId, r, type, customer));
    }
    return events;
  }
}

function eventOf(
  storeId: string,
  r: FeedRow,
  type: EventType,
  customer: Event['data']['customer'],
  job?: Record<string, unknown>,
): Event {
  return {
    id: r.id,
    type,
    createdAt: r.createdAt.toISOString(),
    storeId,
    data: {
      ...(customer ? { customer } : {}),
      ...(job ? { import: job } : {}),
      changes: Object.entries(fieldChanges(r.changes)).map(([field, c]) => {
        const { before, after } = c as { before?: unknown; after?: unknown };
        return { field, before: before ?? null, after: after ?? null };
      }),
      version: r.version,
      previousVersion: r.previousVersion,
      api: r.api,
      ...(r.segmentId === null ? {} : { segment: { id: r.segmentId } }),
      ...(r.importId === null || job ? {} : { importId: r.importId }),
    },
  };
}

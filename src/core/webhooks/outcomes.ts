import type { DB } from '../db/database.js';
import type { Event } from '../events/events.js';
import { newId } from '../ids.js';
import * as deliveries from './deliveries.repository.js';
import * as endpoints from './endpoints.repository.js';
import type { PostOutcome } from './post.js';
import { FAILING_DISABLES_AFTER_MS, nextAttemptAt } from './schedule.js';

/** A leased delivery with what it needs to be sent (none when its endpoint or event went). */
export interface Job {
  d: deliveries.DeliveryRow;
  endpoint: endpoints.EndpointRow | undefined;
  event: Event | undefined;
}
export interface Sent extends Job {
  outcome: PostOutcome | undefined;
}

const key = (storeId: string, id: string) => `${storeId} ${id}`;

/**
 * Records finished sends in a few statements: their attempts and outcomes written
 * together, and each endpoint's failing streak where it changed (a 410 disables it; so
 * does a streak of FAILING_DISABLES_AFTER_MS).
 */
export async function recordSent(db: DB, sent: Sent[], schedule: readonly number[]): Promise<void> {
  const attempts: Parameters<typeof deliveries.recordAttempts>[1] = [];
  const settled: Parameters<typeof deliveries.recordAttempts>[2] = [];
  const gone = new Set<string>();
  const byEndpoint = new Map<
    string,
    { storeId: string; id: string; ok: boolean; failing: boolean }
  >();
  for (const { d, endpoint, event, outcome } of sent) {
    if (!endpoint || !event || !outcome) {
      settled.push({ storeId: d.store_id, id: d.id, retryAt: null });
      continue;
    }
    attempts.push({
      store_id: d.store_id,
      endpoint_id: d.endpoint_id,
      id: newId('wha'),
      delivery_id: d.id,
      event_id: event.id,
      event_type: event.type,
      attempt: d.attempts,
      status_code: outcome.status,
      latency_ms: outcome.latencyMs,
      response: outcome.response,
      error: outcome.error,
    });
    const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
    const retryAt = ok || outcome.status === 410 ? null : nextAttemptAt(d.attempts, schedule);
    // Done when it succeeded, was refused for good (410) or ran out of retries.
    settled.push({ storeId: d.store_id, id: d.id, retryAt });
    const k = key(d.store_id, d.endpoint_id);
    if (outcome.status === 410) gone.add(k);
    // The endpoint's streak: broken by any success of the round.
    byEndpoint.set(k, {
      storeId: d.store_id,
      id: d.endpoint_id,
      ok: ok || (byEndpoint.get(k)?.ok ?? false),
      failing: endpoint.failing_since !== null,
    });
  }
  await deliveries.recordAttempts(db, attempts, settled);
  for (const [k, e] of byEndpoint) {
    // A success where no failing streak runs changes nothing: no statement for it.
    if (e.ok && !gone.has(k) && !e.failing) continue;
    if (gone.has(k)) {
      await endpoints.disableEndpoint(db, e.storeId, e.id, 'the receiver answered 410 Gone');
      continue;
    }
    const { failingSince } = await endpoints.noteOutcome(db, e.storeId, e.id, e.ok);
    if (failingSince && Date.now() - failingSince.getTime() > FAILING_DISABLES_AFTER_MS) {
      await endpoints.disableEndpoint(
        db,
        e.storeId,
        e.id,
        `every attempt has failed since ${failingSince.toISOString()}`,
      );
    }
  }
}

/** The endpoints and events of leased deliveries, read together. */
export async function prepareJobs(
  db: DB,
  events: { byIds(storeId: string, ids: string[]): Promise<Event[]> },
  due: deliveries.DeliveryRow[],
): Promise<Job[]> {
  if (due.length === 0) return [];
  const stores = [...new Set(due.map((d) => d.store_id))];
  const [endpointRows, ...eventsByStore] = await Promise.all([
    endpoints.findEndpoints(
      db,
      [...new Map(due.map((d) => [key(d.store_id, d.endpoint_id), d])).values()].map((d) => ({
        storeId: d.store_id,
        id: d.endpoint_id,
      })),
    ),
    ...stores.map((storeId) =>
      events.byIds(storeId, [
        ...new Set(due.filter((d) => d.store_id === storeId).map((d) => d.event_id)),
      ]),
    ),
  ]);
  const endpointOf = new Map(endpointRows.map((e) => [key(e.store_id, e.id), e]));
  const eventOf = new Map<string, Event>();
  stores.forEach((storeId, i) => {
    for (const e of eventsByStore[i] ?? []) eventOf.set(key(storeId, e.id), e);
  });
  // An endpoint deleted, or an event gone with its erased customer: nothing to send.
  return due.map((d) => ({
    d,
    endpoint: endpointOf.get(key(d.store_id, d.endpoint_id)),
    event: eventOf.get(key(d.store_id, d.event_id)),
  }));
}

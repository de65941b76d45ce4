import type { DB } from '../db/database.js';
import { type Event, type Events, eventTypes } from '../events/events.js';
import { newId } from '../ids.js';
import { PollLoop } from '../poll-loop.js';
import type { OutboundPolicy } from './address.js';
import * as deliveries from './deliveries.repository.js';
import * as endpoints from './endpoints.repository.js';
import { type PostOutcome, post } from './post.js';
import { FAILING_DISABLES_AFTER_MS, nextAttemptAt, retrySchedule } from './schedule.js';
import { type SecretBox, signatureOf } from './secrets.js';

export interface SenderOptions {
  policy: OutboundPolicy;
  /** How long a process holds a delivery it is sending; past it, another may (a crash). */
  leaseMs?: number;
  /** Waits between attempts, ms (schedule.ts). */
  schedule?: readonly number[];
  /** The pause when there was nothing to do, ms. */
  idleMs?: number;
  log?: { warn(details: object, message: string): void };
}

const FAN_OUT_ENDPOINTS = 50;
const FAN_OUT_EVENTS = 1000;
const LEASE_AT_ONCE = 256;

/**
 * The delivery worker every server process runs: turns new events of the feed into
 * deliveries (each endpoint fanned out by one process at a time), leases due
 * deliveries no other process holds, sends them signed, and records each attempt.
 */
export class WebhookSender {
  /** Whether the last round found endpoints to fan out or deliveries to send. */
  private active = false;
  private readonly loop: PollLoop;
  private readonly leaseMs: number;
  private readonly schedule: readonly number[];

  constructor(
    private readonly db: DB,
    private readonly events: Events,
    private readonly box: () => SecretBox,
    private readonly options: SenderOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.schedule = options.schedule ?? retrySchedule;
    this.loop = new PollLoop(
      async () => (await this.tick()) > 0,
      options.idleMs ?? 100,
      (error) => this.options.log?.warn({ err: error }, 'webhook delivery round failed'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /**
   * Something was written here: look for work now rather than at the next poll, if the
   * last round found any endpoint to deliver to (with none, a write costs nothing here).
   */
  poke(): void {
    if (this.active) this.loop.wake();
  }

  /** Stops taking work, and waits for the sends in flight. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One round: fan out, lease, send. How many deliveries it sent. */
  async tick(): Promise<number> {
    const endpointsTaken = await this.fanOut();
    const due = await deliveries.leaseDue(this.db, LEASE_AT_ONCE, this.leaseMs);
    this.active = endpointsTaken > 0 || due.length > 0;
    if (due.length > 0) await this.deliverAll(due);
    return due.length;
  }

  /** Records deliveries for new events; how many endpoints it fanned out. */
  private async fanOut(): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const taken = await deliveries.takeEndpointsToFanOut(trx, FAN_OUT_ENDPOINTS);
      for (const endpoint of taken) {
        const types = endpoint.events.includes('*')
          ? null
          : endpoint.events.map((t) => eventTypes[t as keyof typeof eventTypes]).filter(Boolean);
        await deliveries.fanOutEndpoint(trx, endpoint, types, FAN_OUT_EVENTS);
      }
      return taken.length;
    });
  }

  /**
   * Sends a round's deliveries at once, then records them in a few statements: their
   * endpoints and events read together, their attempts and outcomes written together.
   */
  private async deliverAll(due: deliveries.DeliveryRow[]): Promise<void> {
    const key = (storeId: string, id: string) => `${storeId} ${id}`;
    const endpointRows = await endpoints.findEndpoints(
      this.db,
      [...new Map(due.map((d) => [key(d.store_id, d.endpoint_id), d])).values()].map((d) => ({
        storeId: d.store_id,
        id: d.endpoint_id,
      })),
    );
    const endpointOf = new Map(endpointRows.map((e) => [key(e.store_id, e.id), e]));
    const eventOf = new Map<string, Event>();
    for (const storeId of new Set(due.map((d) => d.store_id))) {
      const ids = due.filter((d) => d.store_id === storeId).map((d) => d.event_id);
      for (const e of await this.events.byIds(storeId, [...new Set(ids)])) {
        eventOf.set(key(storeId, e.id), e);
      }
    }
    const sent = await Promise.all(
      due.map(async (d) => {
        const endpoint = endpointOf.get(key(d.store_id, d.endpoint_id));
        const event = eventOf.get(key(d.store_id, d.event_id));
        // Its customer was erased (the event with it), or the endpoint was deleted.
        if (!endpoint || !event) return { d, event, outcome: undefined };
        return { d, event, outcome: await this.send(endpoint, event) };
      }),
    );

    const attempts: Parameters<typeof deliveries.logAttempts>[1] = [];
    const settled: Parameters<typeof deliveries.settleDeliveries>[1] = [];
    const gone = new Set<string>();
    const okByEndpoint = new Map<string, { storeId: string; id: string; ok: boolean }>();
    for (const { d, event, outcome } of sent) {
      if (!event || !outcome) {
        settled.push({ storeId: d.store_id, id: d.id, status: 'discarded', retryAt: null });
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
      const retryAt =
        ok || outcome.status === 410 ? null : nextAttemptAt(d.attempts, this.schedule);
      settled.push({
        storeId: d.store_id,
        id: d.id,
        status: ok ? 'succeeded' : retryAt ? 'pending' : 'failed',
        retryAt,
      });
      if (outcome.status === 410) gone.add(key(d.store_id, d.endpoint_id));
      const k = key(d.store_id, d.endpoint_id);
      // The endpoint's streak: broken by any success of the round.
      okByEndpoint.set(k, {
        storeId: d.store_id,
        id: d.endpoint_id,
        ok: ok || (okByEndpoint.get(k)?.ok ?? false),
      });
    }
    await deliveries.logAttempts(this.db, attempts);
    await deliveries.settleDeliveries(this.db, settled);
    for (const [k, e] of okByEndpoint) {
      // A success where no failing streak runs changes nothing: no statement for it.
      if (e.ok && !gone.has(k) && !endpointOf.get(k)?.failing_since) continue;
      if (gone.has(k)) {
        await endpoints.disableEndpoint(this.db, e.storeId, e.id, 'the receiver answered 410 Gone');
        continue;
      }
      const { failingSince } = await endpoints.noteOutcome(this.db, e.storeId, e.id, e.ok);
      if (failingSince && Date.now() - failingSince.getTime() > FAILING_DISABLES_AFTER_MS) {
        await endpoints.disableEndpoint(
          this.db,
          e.storeId,
          e.id,
          `every attempt has failed since ${failingSince.toISOString()}`,
        );
      }
    }
  }

  /** Sends one event to an endpoint, signed with its secrets (both, during a rotation). */
  async send(endpoint: endpoints.EndpointRow, event: Event | PingEvent): Promise<PostOutcome> {
    const box = this.box();
    const secrets = [box.open(endpoint.secret)];
    if (
      endpoint.previous_secret &&
      endpoint.previous_secret_until &&
      endpoint.previous_secret_until.getTime() > Date.now()
    ) {
      secrets.push(box.open(endpoint.previous_secret));
    }
    const body = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000);
    return post(
      new URL(endpoint.url),
      {
        'content-type': 'application/json',
        'user-agent': 'Clientele-Webhooks/1',
        'webhook-id': event.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureOf(secrets, event.id, timestamp, body),
      },
      body,
      this.options.policy,
    );
  }
}

/** What a test ping sends. */
export interface PingEvent {
  id: string;
  type: 'webhook.ping';
  createdAt: string;
  storeId: string;
  data: { endpointId: string };
}

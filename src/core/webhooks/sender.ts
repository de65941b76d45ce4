import { performance } from 'node:perf_hooks';
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
  /**
   * Fan out and lease one store at a time (deliveries.repository.ts): what a database
   * distributed by store (Citus) needs, and what Clientele.open sets when the database
   * has the citus extension. One PostgreSQL does both across stores, in one statement.
   */
  perStore?: boolean | (() => false | Promise<boolean>);
  log?: { warn(details: object, message: string): void };
}

const FAN_OUT_ENDPOINTS = 50;
const FAN_OUT_EVENTS = 1000;
const LEASE_AT_ONCE = 256;
/** Sends in flight at once, per process. */
const WINDOW = 512;
/** How long a finished send waits to be recorded with others, ms. */
const RECORD_AFTER_MS = 2;
/**
 * While writes keep the process busy (its event loop over BUSY of the time, and a write
 * within the last BUSY_WINDOW_MS), deliveries yield to them: at most YIELD_LEASE every
 * YIELD_MS (320 a second), the rest waiting until the writes ease off.
 */
const BUSY = 0.9;
const BUSY_WINDOW_MS = 250;
const YIELD_LEASE = 8;
const YIELD_MS = 25;

type Delivery = deliveries.DeliveryRow;
/** A leased delivery with what it needs to be sent (none when its endpoint or event went). */
interface Job {
  d: Delivery;
  endpoint: endpoints.EndpointRow | undefined;
  event: Event | undefined;
}
interface Sent extends Job {
  outcome: PostOutcome | undefined;
}

const key = (storeId: string, id: string) => `${storeId} ${id}`;

/**
 * The delivery worker every server process runs: turns new events of the feed into
 * deliveries (each endpoint fanned out by one process at a time), leases due
 * deliveries no other process holds, sends them signed, and records each attempt.
 *
 * Three loops do it side by side, each on its own connection: fanning out, leasing
 * (up to WINDOW sends in flight), and recording the sends that have finished, many in
 * one statement; none waits for a send. A customer's next delivery to an endpoint is
 * leased only once the one before it is recorded, so order holds however sends overlap.
 */
export class WebhookSender {
  /** Whether the last rounds found endpoints to fan out or deliveries to send. */
  private active = false;
  private loops: { fanOut: PollLoop; lease: PollLoop; record: PollLoop } | undefined;
  private recordSoon: ReturnType<typeof setTimeout> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Sends that have finished and are not yet recorded. */
  private finished: Sent[] = [];
  private lastWrite = 0;
  private utilization = 0;
  private sampler: ReturnType<typeof setInterval> | undefined;
  /** Opened signing secrets, by their sealed form (opening one costs more than a send's HMAC). */
  private readonly opened = new Map<string, string>();
  private readonly leaseMs: number;
  private readonly schedule: readonly number[];
  private readonly idleMs: number;
  private perStore: boolean | undefined;
  /** The last endpoint fanned out, where the next round goes on (rounds rotate). */
  private fanOutAfter: deliveries.FanOutPlace = { store: '', id: '' };

  constructor(
    private readonly db: DB,
    private readonly events: Events,
    private readonly box: () => SecretBox,
    private readonly options: SenderOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.schedule = options.schedule ?? retrySchedule;
    this.idleMs = options.idleMs ?? 100;
    if (typeof options.perStore !== 'function') this.perStore = options.perStore ?? false;
  }

  start(): void {
    if (this.loops) return;
    const onError = (error: unknown) =>
      this.options.log?.warn({ err: error }, 'webhook delivery round failed');
    const loops = {
      fanOut: new PollLoop(
        async () => {
          const made = await this.fanOut();
          if (made > 0) loops.lease.wake();
          return made > 0;
        },
        this.idleMs,
        onError,
      ),
      lease: new PollLoop(
        async () => {
          const room = WINDOW - this.inFlight.size;
          if (!this.yieldsToWrites()) return (await this.lease(Math.min(LEASE_AT_ONCE, room))) > 0;
          await this.lease(Math.min(YIELD_LEASE, room));
          await new Promise((resolve) => setTimeout(resolve, YIELD_MS));
          return true;
        },
        this.idleMs,
        onError,
      ),
      record: new PollLoop(
        async () => {
          const recorded = await this.recordFinished();
          // Room in the window, and each customer's next delivery free to go.
          if (recorded > 0) loops.lease.wake();
          return recorded > 0;
        },
        this.idleMs,
        onError,
      ),
    };
    this.loops = loops;
    for (const loop of Object.values(loops)) loop.start();
    let last = performance.eventLoopUtilization();
    this.sampler = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.utilization = performance.eventLoopUtilization(now, last).utilization;
      last = now;
    }, 100);
    this.sampler.unref();
  }

  /** Whether writes keep this process busy (see BUSY). */
  private yieldsToWrites(): boolean {
    return this.utilization > BUSY && performance.now() - this.lastWrite < BUSY_WINDOW_MS;
  }

  /**
   * Something was written here: look for work now rather than at the next poll, if the
   * last round found any endpoint to deliver to (with none, a write costs nothing here).
   */
  poke(): void {
    this.lastWrite = performance.now();
    if (this.active) this.loops?.fanOut.wake();
  }

  /** Stops taking work, and waits for the sends in flight (recording them). */
  async stop(): Promise<void> {
    const loops = this.loops;
    this.loops = undefined;
    if (!loops) return;
    clearInterval(this.sampler);
    await Promise.all([loops.fanOut.stop(), loops.lease.stop()]);
    await loops.record.stop();
    await this.drain();
  }

  /**
   * One whole round, waiting for its sends and recording them (what tests step
   * through; the running loops do not wait). How many deliveries it sent.
   */
  async tick(): Promise<number> {
    await this.fanOut();
    const leased = await this.lease(LEASE_AT_ONCE);
    await this.drain();
    return leased;
  }

  /** Waits for every send in flight, and records them. */
  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    await this.recordFinished();
  }

  private async recordFinished(): Promise<number> {
    const done = this.finished.splice(0);
    if (done.length > 0) await this.record(done);
    return done.length;
  }

  /** Leases up to `room` due deliveries and starts sending them; how many it leased. */
  private async lease(room: number): Promise<number> {
    const due =
      room > 0
        ? await deliveries.leaseDue(this.db, room, this.leaseMs, await this.storeByStore())
        : [];
    if (due.length > 0) this.active = true;
    for (const job of await this.prepare(due)) {
      const sending: Promise<void> = (
        job.endpoint && job.event
          ? this.send(job.endpoint, job.event).catch(
              (error: Error): PostOutcome => ({
                status: null,
                response: null,
                error: error.message,
                latencyMs: 0,
              }),
            )
          : Promise.resolve(undefined)
      ).then((outcome) => {
        this.finished.push({ ...job, outcome });
        this.inFlight.delete(sending);
        // Recorded with the others that finish about now, in one round.
        this.recordSoon ??= setTimeout(() => {
          this.recordSoon = undefined;
          this.loops?.record.wake();
        }, RECORD_AFTER_MS);
      });
      this.inFlight.add(sending);
    }
    return due.length;
  }

  /** Whether to work store by store (SenderOptions.perStore), asked once. */
  private async storeByStore(): Promise<boolean> {
    if (this.perStore === undefined && typeof this.options.perStore === 'function') {
      this.perStore = await this.options.perStore();
    }
    return this.perStore ?? false;
  }

  /** Records deliveries for new events; how many it made. */
  private async fanOut(): Promise<number> {
    const { endpoints, made, next } = await deliveries.fanOut(
      this.db,
      eventTypes,
      FAN_OUT_ENDPOINTS,
      FAN_OUT_EVENTS,
      this.fanOutAfter,
      await this.storeByStore(),
    );
    this.fanOutAfter = next;
    // With no endpoint to fan out, a write need not wake the sender.
    this.active = endpoints > 0 || this.inFlight.size > 0;
    return made;
  }

  /** The endpoints and events of leased deliveries, read together. */
  private async prepare(due: Delivery[]): Promise<Job[]> {
    if (due.length === 0) return [];
    const stores = [...new Set(due.map((d) => d.store_id))];
    const [endpointRows, ...eventsByStore] = await Promise.all([
      endpoints.findEndpoints(
        this.db,
        [...new Map(due.map((d) => [key(d.store_id, d.endpoint_id), d])).values()].map((d) => ({
          storeId: d.store_id,
          id: d.endpoint_id,
        })),
      ),
      ...stores.map((storeId) =>
        this.events.byIds(storeId, [
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

  /**
   * Records finished sends in a few statements: their attempts and outcomes written
   * together, and each endpoint's failing streak where it changed.
   */
  private async record(sent: Sent[]): Promise<void> {
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
      const retryAt =
        ok || outcome.status === 410 ? null : nextAttemptAt(d.attempts, this.schedule);
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
    await deliveries.recordAttempts(this.db, attempts, settled);
    for (const [k, e] of byEndpoint) {
      // A success where no failing streak runs changes nothing: no statement for it.
      if (e.ok && !gone.has(k) && !e.failing) continue;
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

  private open(sealed: string): string {
    let secret = this.opened.get(sealed);
    if (secret === undefined) {
      if (this.opened.size >= 10_000) this.opened.clear();
      secret = this.box().open(sealed);
      this.opened.set(sealed, secret);
    }
    return secret;
  }

  /** Sends one event to an endpoint, signed with its secrets (both, during a rotation). */
  async send(endpoint: endpoints.EndpointRow, event: Event | PingEvent): Promise<PostOutcome> {
    const secrets = [this.open(endpoint.secret)];
    if (
      endpoint.previous_secret &&
      endpoint.previous_secret_until &&
      endpoint.previous_secret_until.getTime() > Date.now()
    ) {
      secrets.push(this.open(endpoint.previous_secret));
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

import { performance } from 'node:perf_hooks';
import type { DB } from '../db/database.js';
import { type Event, type Events, eventTypes } from '../events/events.js';
import { PollLoop } from '../poll-loop.js';
import type { OutboundPolicy } from './address.js';
import * as deliveries from './deliveries.repository.js';
import type * as endpoints from './endpoints.repository.js';
import { type Job, prepareJobs, recordSent, type Sent } from './outcomes.js';
import type { PostOutcome } from './post.js';
import { retrySchedule } from './schedule.js';
import type { SecretBox } from './secrets.js';
import { type PingEvent, SignedPost } from './signed-post.js';

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
/** Deliveries leased and not yet finished, at most, per process. */
const WINDOW = 1024;
/** Leased batches whose endpoints and events are being read at once (each takes 2 connections). */
const PREPARING = 2;
/** How long a finished send waits to be recorded with others, ms. */
const RECORD_AFTER_MS = 2;
/**
 * After a fan-out round that found new events, how long the next one waits for more, ms.
 * Back to back, at 1,000 upserts a second, rounds found one to three events each and cost
 * the server and its database more than the deliveries did: acknowledgement to delivery
 * took p50 191 ms, p99 1.3 s; with this wait, over six runs, p50 30-275 ms and p99
 * 0.37-1.5 s, both within their ceilings in four (bench:webhooks, docs/benchmarks.md).
 */
const GATHER_MS = 10;
/**
 * While writes queue (a write committed with QUEUEING or more other upserts of this
 * process still waiting or being written, within the last BUSY_WINDOW_MS), deliveries
 * yield to them: every YIELD_MS, a fan-out round takes at most YIELD_LEASE events per
 * endpoint and sends at most YIELD_LEASE of them, and at most YIELD_LEASE more are leased
 * (320 a second in all); the rest wait in the feed, and in the table of deliveries,
 * until the writes ease off.
 */
const QUEUEING = 48;
const BUSY_WINDOW_MS = 250;
const YIELD_LEASE = 4;
const YIELD_MS = 25;

type Delivery = deliveries.DeliveryRow;

/**
 * The delivery worker every server process runs: turns new events of the feed into
 * deliveries (each endpoint fanned out by one process at a time), leases due
 * deliveries no other process holds, sends them signed, and records each attempt.
 *
 * Three loops do it side by side, each on its own connection: fanning out (which leases
 * the deliveries it makes that may go at once, and sends them), leasing the others (up
 * to WINDOW leased at once), and recording the sends that have finished, many in one
 * statement; none waits for a send, and leasing does not wait for the reads of what it
 * leased before. A customer's next delivery to an endpoint is leased only once the one
 * before it is recorded, so order holds however sends overlap.
 */
export class WebhookSender {
  /** Whether the last rounds found endpoints to fan out or deliveries to send. */
  private active = false;
  private loops: { fanOut: PollLoop; lease: PollLoop; record: PollLoop } | undefined;
  private recordSoon: ReturnType<typeof setTimeout> | undefined;
  /** Leased batches being read and sent. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Leased deliveries not yet finished, and batches still being read. */
  private leased = 0;
  private preparing = 0;
  /** Sends that have finished and are not yet recorded. */
  private finished: Sent[] = [];
  private lastQueued = Number.NEGATIVE_INFINITY;
  private readonly signed: SignedPost;
  private readonly leaseMs: number;
  private readonly schedule: readonly number[];
  private readonly idleMs: number;
  private perStore: boolean | undefined;
  /** The last endpoint fanned out, where the next round goes on (rounds rotate). */
  private fanOutAfter: deliveries.FanOutPlace = { store: '', id: '' };

  constructor(
    private readonly db: DB,
    private readonly events: Events,
    box: () => SecretBox,
    private readonly options: SenderOptions,
  ) {
    this.signed = new SignedPost(box, options.policy);
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
          const yielding = this.yieldsToWrites();
          const { made, leased, full } = await this.fanOut(yielding);
          if (made > leased) loops.lease.wake();
          if (made === 0) return false;
          // A full round: more are waiting.
          if (!yielding && full) return true;
          await new Promise((resolve) => setTimeout(resolve, yielding ? YIELD_MS : GATHER_MS));
          return true;
        },
        this.idleMs,
        onError,
      ),
      lease: new PollLoop(
        async () => {
          const yielding = this.yieldsToWrites();
          const leased = await this.lease(this.room(yielding ? YIELD_LEASE : LEASE_AT_ONCE));
          if (!yielding || leased === 0) return leased > 0;
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
  }

  /** How many more deliveries may be leased now, up to `most` (WINDOW, PREPARING). */
  private room(most: number): number {
    return this.preparing >= PREPARING ? 0 : Math.max(0, Math.min(most, WINDOW - this.leased));
  }

  /** Whether writes queue in this process (see QUEUEING). */
  private yieldsToWrites(): boolean {
    return performance.now() - this.lastQueued < BUSY_WINDOW_MS;
  }

  /**
   * A write has committed here, `waiting` other upserts of this process still waiting or
   * being written: fan out now rather than at the next poll, if the last round found any
   * endpoint to deliver to (with none, a write costs nothing here) and writes do not
   * queue.
   */
  poke(waiting = 0): void {
    if (waiting >= QUEUEING) this.lastQueued = performance.now();
    if (this.active && !this.yieldsToWrites()) this.loops?.fanOut.wake();
  }

  /** Stops taking work, and waits for the sends in flight (recording them). */
  async stop(): Promise<void> {
    const loops = this.loops;
    this.loops = undefined;
    if (!loops) return;
    await Promise.all([loops.fanOut.stop(), loops.lease.stop()]);
    await loops.record.stop();
    await this.drain();
  }

  /**
   * One whole round, waiting for its sends and recording them (what tests step
   * through; the running loops do not wait). How many deliveries it sent.
   */
  async tick(): Promise<number> {
    const { leased } = await this.fanOut(false);
    const more = await this.lease(LEASE_AT_ONCE);
    await this.drain();
    return leased + more;
  }

  /** Waits for every send in flight, and records them. */
  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    await this.recordFinished();
  }

  private async recordFinished(): Promise<number> {
    const done = this.finished.splice(0);
    if (done.length > 0) await recordSent(this.db, done, this.schedule);
    return done.length;
  }

  /** Leases up to `room` due deliveries and starts sending them; how many it leased. */
  private async lease(room: number): Promise<number> {
    if (room <= 0) return 0;
    const due = await deliveries.leaseDue(this.db, room, this.leaseMs, await this.storeByStore());
    this.dispatch(due);
    return due.length;
  }

  /**
   * Sends leased deliveries, once their endpoints and events are read; returns at once.
   * A read that fails leaves them leased: their leases run out and they are sent again.
   */
  private dispatch(due: Delivery[]): void {
    if (due.length === 0) return;
    this.active = true;
    this.leased += due.length;
    this.preparing++;
    let prepared = false;
    const batch: Promise<void> = prepareJobs(this.db, this.events, due)
      .then((jobs) => {
        prepared = true;
        this.preparing--;
        // Room for the next lease while these are sent.
        this.loops?.lease.wake();
        return Promise.all(jobs.map((job) => this.sendJob(job)));
      })
      .then(
        () => undefined,
        (error: unknown) => {
          this.options.log?.warn({ err: error }, 'webhook delivery round failed');
          if (!prepared) {
            this.preparing--;
            this.leased -= due.length;
          }
        },
      )
      .finally(() => this.inFlight.delete(batch));
    this.inFlight.add(batch);
  }

  private async sendJob(job: Job): Promise<void> {
    const outcome = await (job.endpoint && job.event
      ? this.send(job.endpoint, job.event).catch(
          (error: Error): PostOutcome => ({
            status: null,
            response: null,
            error: error.message,
            latencyMs: 0,
          }),
        )
      : Promise.resolve(undefined));
    this.finished.push({ ...job, outcome });
    this.leased--;
    // Recorded with the others that finish about now, in one round.
    this.recordSoon ??= setTimeout(() => {
      this.recordSoon = undefined;
      this.loops?.record.wake();
    }, RECORD_AFTER_MS);
  }

  /** Whether to work store by store (SenderOptions.perStore), asked once. */
  private async storeByStore(): Promise<boolean> {
    if (this.perStore === undefined && typeof this.options.perStore === 'function') {
      this.perStore = await this.options.perStore();
    }
    return this.perStore ?? false;
  }

  /**
   * Records deliveries for new events, leasing and sending at once those that may go; a
   * few only while writes queue (`yielding`). How many it made and leased, and whether
   * it stopped at a bound (more may be waiting).
   */
  private async fanOut(
    yielding: boolean,
  ): Promise<{ made: number; leased: number; full: boolean }> {
    const most = yielding ? YIELD_LEASE : LEASE_AT_ONCE;
    const { endpoints, made, leased, next } = await deliveries.fanOut(
      this.db,
      eventTypes,
      FAN_OUT_ENDPOINTS,
      yielding ? YIELD_LEASE : FAN_OUT_EVENTS,
      this.fanOutAfter,
      { limit: this.room(most), ms: this.leaseMs },
      await this.storeByStore(),
    );
    this.fanOutAfter = next;
    this.dispatch(leased);
    // With no endpoint to fan out, a write need not wake the sender.
    this.active = endpoints > 0 || this.leased > 0;
    return {
      made,
      leased: leased.length,
      full: endpoints >= FAN_OUT_ENDPOINTS || made >= FAN_OUT_EVENTS,
    };
  }

  /** Sends one event to an endpoint, signed with its secrets (both, during a rotation). */
  send(endpoint: endpoints.EndpointRow, event: Event | PingEvent): Promise<PostOutcome> {
    return this.signed.send(endpoint, event);
  }
}

export type { PingEvent };

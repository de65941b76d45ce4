import { hostname } from 'node:os';
import { writeValues } from '../customers/write.repository.js';
import type { DB } from '../db/database.js';
import { listDeclarations } from '../fields/fields.repository.js';
import { newId } from '../ids.js';
import { PollLoop } from '../poll-loop.js';
import * as build from './build.repository.js';
import { valueRowsOf } from './derive.js';
import { movesWithClock, validateFilter } from './filter.js';
import { scheduleSegment } from './schedule.repository.js';
import { lockSegments } from './segments.repository.js';
import * as values from './values.repository.js';

export interface SegmentBuildOptions {
  /** Customers per chunk: each chunk is one short transaction. */
  chunkCustomers?: number;
  /** How long a create or a new filter builds within its request before answering, ms. */
  inRequestMs?: number;
  /** How long a process holds a build before another may take it over (a crash), ms. */
  leaseMs?: number;
  /** The pause when no build was waiting, ms. */
  idleMs?: number;
  log?: { warn(details: object, message: string): void };
}

const unlimited = { leaves: Number.POSITIVE_INFINITY, depth: Number.POSITIVE_INFINITY };

/**
 * Builds `building` segments, a chunk of customer ids at a time, in every server
 * process (docs/architecture.md, "Segment builds"). Each chunk is a transaction that
 * takes the store's segments lock alone (so no write is in flight and none starts: the
 * writes around it keep the segment's members for the customers they write, as the
 * segment is in the store's view since it was committed), locks the segment's row and
 * checks it is still this builder's, makes the members of its range and moves the cursor
 * and count. A build is leased: a process killed mid-chunk loses that chunk only, and
 * the next process to find the lease lapsed resumes at the cursor.
 */
export class SegmentBuilder {
  readonly owner = `${hostname()}:${process.pid}:${newId('req').slice(4)}`;
  readonly chunkCustomers: number;
  readonly inRequestMs: number;
  readonly leaseMs: number;
  private readonly loop: PollLoop;

  constructor(
    private readonly db: DB,
    private readonly options: SegmentBuildOptions = {},
  ) {
    this.chunkCustomers = Math.max(1, options.chunkCustomers ?? 10_000);
    this.inRequestMs = options.inRequestMs ?? 2000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.loop = new PollLoop(
      async () => {
        const lease = await build.leaseBuild(this.db, this.owner, this.leaseMs);
        if (lease) {
          await this.run(lease.storeId, lease.segmentId);
          return true;
        }
        // A fill a preview began (a build fills first, in its own chunks).
        const [filling] = await values.storesFilling(this.db, 1);
        if (filling) await this.fill(filling);
        return filling !== undefined;
      },
      options.idleMs ?? 1000,
      (error) => this.options.log?.warn({ err: error }, 'segment build failed'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** A build is waiting: look now rather than at the next poll. */
  poke(): void {
    this.loop.wake();
  }

  /** Stops after the chunk in flight; the build is released for another to take up. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Whether to give up now: the budget spent, or (no budget) the loop stopped. */
  private spent(started: number, budgetMs: number): boolean {
    return (
      performance.now() - started >= budgetMs || (budgetMs === Infinity && !this.loop.isRunning)
    );
  }

  /**
   * Fills the store's typed values (migration 0030) until every customer has them (true),
   * or `budgetMs` has passed or the loop stopped. No lease: each chunk holds the store's
   * segments lock and starts at the cursor the last one left, so builders of several
   * processes take turns, and one killed mid-chunk loses that chunk only.
   */
  async fill(storeId: string, budgetMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const started = performance.now();
    for (;;) {
      const step = await this.db.transaction().execute(async (trx) => {
        await lockSegments(trx, storeId);
        return this.fillChunk(trx, storeId);
      });
      if (step !== 'more') return true;
      if (this.spent(started, budgetMs)) return false;
    }
  }

  /**
   * One chunk of the fill, in a transaction holding the store's segments lock alone: no
   * write is in flight, and those after keep their customers' values themselves. Reads
   * the next customers after the cursor and writes every custom field's typed value
   * (derive.ts, as a write derives them): 'last' when it was the last chunk, 'kept' when
   * there was nothing left to fill.
   */
  private async fillChunk(trx: DB, storeId: string): Promise<'more' | 'last' | 'kept'> {
    const state = await values.valuesState(trx, storeId);
    if (state?.status !== 'filling') return 'kept';
    const customers = await values.customersAfter(trx, storeId, state.cursor, this.chunkCustomers);
    const rows = customers.filter((c) => c.live).flatMap((c) => valueRowsOf(c.id, c.customFields));
    await writeValues(trx, storeId, state.version, rows);
    const last = customers.length < this.chunkCustomers ? null : (customers.at(-1)?.id ?? null);
    await values.advanceFill(trx, storeId, last);
    return last === null ? 'last' : 'more';
  }

  /**
   * Builds a segment this builder holds the lease of, until it is ready (true), the lease
   * is lost, or `budgetMs` has passed or the loop stopped (then released for any process).
   */
  async run(storeId: string, segmentId: string, budgetMs = Number.POSITIVE_INFINITY) {
    const started = performance.now();
    for (;;) {
      if (this.spent(started, budgetMs)) {
        await build.releaseBuild(this.db, storeId, segmentId, this.owner);
        this.poke();
        return false;
      }
      const step = await this.chunk(storeId, segmentId);
      if (step !== 'more') return step === 'done';
    }
  }

  /** One chunk, in its own transaction. */
  async chunk(storeId: string, segmentId: string): Promise<'more' | 'done' | 'lost'> {
    return this.db.transaction().execute(async (trx) => {
      await lockSegments(trx, storeId);
      const state = await build.lockBuild(trx, storeId, segmentId);
      if (state?.status !== 'building' || state.owner !== this.owner) return 'lost';
      // The store's values first: a build reads them.
      if ((await this.fillChunk(trx, storeId)) !== 'kept') {
        await build.takeLease(trx, storeId, segmentId, this.owner, this.leaseMs);
        return 'more';
      }
      const declared = new Map(
        (await listDeclarations(trx, storeId)).map((f) => [f.name, f.type] as const),
      );
      const condition = validateFilter(state.filter, declared, unlimited);
      const upTo = await build.chunkEnd(trx, storeId, state.cursor, this.chunkCustomers);
      const delta = await build.buildRange(
        trx,
        storeId,
        segmentId,
        condition,
        { now: Date.now(), joinedAt: state.updatedAt },
        state.cursor,
        upTo,
      );
      await build.advance(trx, storeId, segmentId, delta, upTo, this.leaseMs);
      if (upTo !== null) return 'more';
      // Moved with the clock once built (the clock would otherwise build it too).
      if (movesWithClock(condition))
        await scheduleSegment(trx, storeId, segmentId, state.updatedAt);
      return 'done';
    });
  }
}

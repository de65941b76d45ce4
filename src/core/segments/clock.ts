import { writeDerived } from '../customers/write.repository.js';
import type { DB } from '../db/database.js';
import * as schedule from './schedule.repository.js';
import type { Segments } from './segments.js';

export interface SegmentClockOptions {
  /** How often a process looks for due segments, ms. */
  pollMs?: number;
  /** A segment is due this long after its last evaluation, ms. */
  everyMs?: number;
  log?: { warn(details: object, message: string): void };
}

/** The most customers one transaction moves in or out of a segment. */
const CROSSING_AT_ONCE = 500;

/**
 * Moves relative-date segments with the clock, in every server process: each round
 * leases the segments due (evaluated more than `everyMs` ago) one at a time, FOR UPDATE
 * SKIP LOCKED, so processes share them and none is done twice; a process killed mid-way
 * leaves its segment to the next round of another. For a leased segment, the customers
 * whose membership the clock has changed (SQL: the compiled filter at now against the
 * members) are locked, as a write locks them, and their memberships written as a write
 * writes them (derive.ts, every segment of the store at once), with their change records.
 *
 * Staleness: a member crossing a relative bound is moved at most `everyMs + pollMs`
 * after it (30 s + 10 s by default) plus one round's run, within 60 s while a round
 * takes under 20 s. A write in between moves it at once, like any other change.
 */
export class SegmentClock {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly pollMs: number;
  private readonly everyMs: number;

  constructor(
    private readonly db: DB,
    private readonly segments: Segments,
    private readonly options: SegmentClockOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 10_000;
    this.everyMs = options.everyMs ?? 30_000;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.round = this.runRound()
        .then(() => undefined)
        .catch((error) => this.options.log?.warn({ err: error }, 'segment re-evaluation failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.pollMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    const timer = this.timer;
    this.timer = undefined;
    clearTimeout(timer);
    await this.round;
  }

  /** Evaluates every due segment no other process holds; returns how many it did. */
  async runRound(now = new Date()): Promise<number> {
    let done = 0;
    // Bounded: at most this many segments a round, the rest next round.
    for (let i = 0; i < 1000; i++) {
      const more = await this.db.transaction().execute(async (trx) => {
        const lease = await schedule.leaseDue(trx, new Date(now.getTime() - this.everyMs));
        if (!lease) return false;
        await this.evaluate(trx, lease.storeId, lease.segmentId, now);
        await schedule.markEvaluated(trx, lease.storeId, lease.segmentId, now);
        return true;
      });
      if (!more) break;
      done++;
    }
    return done;
  }

  private async evaluate(trx: DB, storeId: string, segmentId: string, now: Date): Promise<void> {
    const view = await this.segments.viewOf(storeId, trx);
    const segment = view.segments.find((s) => s.id === segmentId);
    // A view from before the segment was made: the write below would be refused anyway.
    if (!segment) {
      this.segments.stale(storeId);
      return;
    }
    for (let i = 0; i < 10_000; i++) {
      const ids = await schedule.crossing(
        trx,
        storeId,
        segmentId,
        segment.condition,
        now.getTime(),
        CROSSING_AT_ONCE,
      );
      if (ids.length === 0) return;
      const locked = await schedule.lockForEvaluation(trx, storeId, [...new Set(ids)]);
      await writeDerived(
        trx,
        storeId,
        this.segments,
        locked.map((c) => ({
          id: c.id,
          version: c.version,
          state: c.state,
          createdAt: c.createdAt,
          now,
          events: [],
        })),
        [],
      );
    }
  }
}

import type { DB } from '../db/database.js';
import type { FieldCache } from '../fields/field-cache.js';
import type { FieldType } from '../fields/types.js';
import { type BatchRead, planBatch } from './batch-plan.js';
import { findCustomersById } from './customers.repository.js';
import { type IdentityKey, keyOf, keysOfInput } from './identity.js';
import type { NormalizedInput } from './input.js';
import { findsById } from './plan.js';
import type { UpsertRequest, UpsertResult } from './result.js';
import { suppressedKeys } from './suppressions.repository.js';
import * as repo from './write.repository.js';

/**
 * Group commit for the upsert. Upserts that arrive together (read in the same turn of
 * the event loop, or while the previous batch was being written) are resolved and
 * written together, in two round trips for the lot (one, while upserts keep arriving:
 * see `chain`):
 *
 * 1. one statement reads every customer their identifiers name (no locks);
 * 2. the rules run in memory, one upsert after another in arrival order, each seeing
 *    what the ones before it wrote (twenty upserts of one new email make one customer at
 *    version 20, and each answer shows the state its own write left);
 * 3. one call (`clientele_write_customers`) writes every row, identifier and history
 *    event, all or nothing: each update applies only to the version it was computed
 *    from, and a value claimed meanwhile by another process fails on the unique key.
 *
 * A database's cost is per statement and per commit far more than per row, so this
 * divides it by the batch's size; and it needs no transaction held open across round
 * trips, so no row lock is held while JavaScript runs.
 *
 * Every upsert is planned by `planUpsert`, the same planner as alone (batch-plan.ts),
 * whichever API sent it. Only the common case is written by the batch: an upsert that
 * finds at most one customer, names custom fields already declared and STRING values
 * already tracked. Anything else (a merge, a conflict, a refusal, a first declaration)
 * runs alone afterwards, on a locked read, which gives it exactly the answer it would
 * have had alone. If the batch's write fails (a customer changed or a value was claimed
 * by another process since the read, a lost connection), each of its upserts runs alone
 * the same way, and the failure is logged once for the batch.
 */
export interface BatchItem extends UpsertRequest {
  keys: IdentityKey[];
  resolve(result: UpsertResult): void;
  reject(error: unknown): void;
}

export type RunAlone = (item: BatchItem) => Promise<UpsertResult>;

export interface BatcherOptions {
  /** Batches written at once (each holds a connection while it runs). */
  inFlight: number;
  /** The most upserts one batch takes. */
  maxSize: number;
  /** Told once per batch whose read or write failed (its upserts then run alone). */
  onFailure?: (error: unknown, size: number) => void;
}

/**
 * Whether an upsert can join a batch, before anything is read: every custom field it
 * names is declared already (a declaration is a write of its own, made alone).
 */
export function batchable(input: NormalizedInput, known: ReadonlyMap<string, FieldType>): boolean {
  for (const name of Object.keys(input.customFields ?? {})) if (!known.has(name)) return false;
  return true;
}

export interface BatchStats {
  /** Batches written. */
  batches: number;
  /** Batches whose look-up rode on the write of the batch before them. */
  chained: number;
  /** Upserts answered by a batch. */
  batched: number;
  /** Upserts a batch handed back to run alone. */
  alone: number;
}

export class UpsertBatcher {
  readonly stats: BatchStats = { batches: 0, chained: 0, batched: 0, alone: 0 };
  private queue: BatchItem[] = [];
  private running = 0;
  private scheduled = false;
  /**
   * Identifier values named by upserts being written now (in a batch or alone): a batch
   * never races another upsert of this process for a value.
   */
  private readonly busy = new Map<string, number>();

  constructor(
    private readonly db: DB,
    private readonly fieldCache: FieldCache,
    private readonly runAlone: RunAlone,
    private readonly options: BatcherOptions,
    private readonly services: repo.WriteServices,
  ) {}

  submit(request: UpsertRequest): Promise<UpsertResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...request, keys: keysOfInput(request.input), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.inFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // Wait for the turn of the event loop, so that requests read together batch together.
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    while (this.running < this.options.inFlight) {
      const batch = this.take();
      if (batch.length === 0) return;
      this.running++;
      void this.chain(batch).finally(() => {
        this.running--;
        this.schedule();
      });
    }
  }

  private hold(items: BatchItem[]): string[] {
    const keys = items.flatMap((item) => item.keys.map((k) => busyKey(item, k)));
    for (const k of keys) this.busy.set(k, (this.busy.get(k) ?? 0) + 1);
    return keys;
  }

  private release(keys: string[]): void {
    for (const k of keys) {
      const n = (this.busy.get(k) ?? 1) - 1;
      if (n === 0) this.busy.delete(k);
      else this.busy.set(k, n);
    }
  }

  /**
   * The next batch: upserts of the first waiting store, in arrival order, leaving
   * those whose identifiers a batch being written names (they wait for it). With
   * `store`, nothing unless that store is the first waiting one: a chain goes on only
   * while no other store has been waiting longer.
   */
  private take(store?: string): BatchItem[] {
    const batch: BatchItem[] = [];
    const rest: BatchItem[] = [];
    let storeId: string | undefined;
    for (const item of this.queue) {
      const free =
        batch.length < this.options.maxSize &&
        (storeId === undefined || item.ctx.storeId === storeId) &&
        !item.keys.some((k) => this.busy.has(busyKey(item, k)));
      if (free) {
        if (storeId === undefined && store !== undefined && item.ctx.storeId !== store) return [];
        storeId = item.ctx.storeId;
        batch.push(item);
      } else rest.push(item);
    }
    this.queue = rest;
    return batch;
  }

  /**
   * Writes batches one after another on one connection's worth of round trips: each
   * write carries the look-up of the next batch (taken from the queue just before it is
   * sent), so a batch costs one round trip, not two, while upserts keep arriving. The
   * next batch names none of this one's values (they are busy), so reading them before
   * this write lands reads them as they are.
   */
  private async chain(first: BatchItem[]): Promise<void> {
    let batch = first;
    let held = this.hold(batch);
    let found = await this.lookUp(batch);
    for (;;) {
      let written = new Map<BatchItem, UpsertResult>();
      let next: BatchItem[] = [];
      let nextHeld: string[] = [];
      let nextFound: repo.Owners | undefined;
      if (found) {
        try {
          const plan = planBatch(this.fieldCache, batch, found);
          // The next batch: the same store's, so that its look-up can share the write.
          next = this.take(storeOf(batch));
          nextHeld = this.hold(next);
          const done = await repo.writeAndLookUp(
            this.db,
            storeOf(batch),
            plan.writes,
            keysOf(next),
            this.services.segments,
          );
          for (const [item, answer] of plan.answers) written.set(item, answer(done.seqs));
          if (next.length > 0) nextFound = done.next;
        } catch (error) {
          // Whatever went wrong, each upsert of this batch runs alone: it retries what
          // can be retried and answers with its own error otherwise.
          written = new Map();
          this.options.onFailure?.(error, batch.length);
        }
      }
      this.settle(batch, written);
      this.release(held);
      // Nothing rode along: the next batch (if any) starts afresh, once this one is done.
      if (next.length === 0) return;
      batch = next;
      held = nextHeld;
      if (nextFound) {
        this.stats.chained++;
        found = await this.withById(batch, nextFound);
      } else found = await this.lookUp(batch);
    }
  }

  /** A batch's look-up on its own; if it fails, each upsert runs alone with its own error. */
  private async lookUp(batch: BatchItem[]): Promise<BatchRead | undefined> {
    try {
      return await this.withById(
        batch,
        await repo.findOwners(this.db, storeOf(batch), keysOf(batch), false),
      );
    } catch (error) {
      this.options.onFailure?.(error, batch.length);
      return undefined;
    }
  }

  /**
   * The read, with the values of it that are suppressed (one more trip, after the owners:
   * see suppressedKeys) and the customers that upserts addressed by id name (rare).
   */
  private async withById(batch: BatchItem[], owners: repo.Owners): Promise<BatchRead | undefined> {
    const ids = batch.flatMap((b) => (findsById(b.input, b.options) ? [b.input.id] : []));
    const storeId = storeOf(batch);
    try {
      const suppressed = await suppressedKeys(
        this.db,
        this.services.suppression,
        storeId,
        keysOf(batch),
      );
      if (ids.length === 0) return { ...owners, byId: new Map(), suppressed };
      const byId = await findCustomersById(this.db, storeId, ids);
      return { ...owners, byId, suppressed };
    } catch (error) {
      this.options.onFailure?.(error, batch.length);
      return undefined;
    }
  }

  /** Answers what the batch wrote; the rest run alone. */
  private settle(batch: BatchItem[], written: Map<BatchItem, UpsertResult>): void {
    if (written.size > 0) this.stats.batches++;
    this.stats.batched += written.size;
    this.stats.alone += batch.length - written.size;
    for (const item of batch) {
      const result = written.get(item);
      if (result) item.resolve(result);
      else {
        // Its identifiers stay busy while it runs, so no batch races it for them.
        const keys = this.hold([item]);
        this.runAlone(item)
          .then(item.resolve, item.reject)
          .finally(() => {
            this.release(keys);
            this.schedule();
          });
      }
    }
  }
}

function storeOf(batch: BatchItem[]): string {
  const [first] = batch;
  if (!first) throw new Error('a batch is never empty');
  return first.ctx.storeId;
}

/** Every identifier value a batch names, once. */
function keysOf(batch: BatchItem[]): IdentityKey[] {
  const keys = new Map<string, IdentityKey>();
  for (const item of batch) for (const k of item.keys) keys.set(keyOf(k), k);
  return [...keys.values()];
}

function busyKey(item: BatchItem, key: IdentityKey): string {
  return `${item.ctx.storeId}\u0000${keyOf(key)}`;
}

import type { DB } from '../db/database.js';
import { changedStringValues, type FieldCache } from '../fields/fields.js';
import type { FieldType } from '../fields/types.js';
import { newId } from '../ids.js';
import type { StoreSettings } from '../stores/settings.js';
import { applyInput } from './apply.js';
import { type CustomerState, emptyState } from './customer.js';
import { diffKeys, type IdentityKey, keyOf, kindOf, strongerKind } from './identity.js';
import type { IdentifierKind, NormalizedInput } from './input.js';
import * as repo from './repository.js';
import type { UpsertOptions, UpsertOutcome, UpsertResult, WriteContext } from './upsert.js';

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
 * Only the common case is batched: an upsert that finds at most one customer, names
 * custom fields already declared and STRING values already tracked. Anything else (a
 * merge, a conflict, a refusal, a first declaration) runs alone afterwards through the
 * one-at-a-time path, which gives it exactly the answer it would have had alone. If the
 * batch's write fails (a customer changed or a value was claimed by another process
 * since the read, a lost connection), each of its upserts runs alone the same way.
 */
export interface BatchItem {
  ctx: WriteContext;
  input: NormalizedInput;
  keys: IdentityKey[];
  settings: StoreSettings;
  resolve(result: UpsertResult): void;
  reject(error: unknown): void;
}

export type RunAlone = (item: BatchItem) => Promise<UpsertResult>;

export interface BatcherOptions {
  /** Batches written at once (each holds a connection while it runs). */
  inFlight: number;
  /** The most upserts one batch takes. */
  maxSize: number;
}

/** Whether an upsert can be batched at all, before anything is read. */
export function batchable(
  input: NormalizedInput,
  options: UpsertOptions,
  known: ReadonlyMap<string, FieldType>,
): boolean {
  if (options.mode !== undefined && options.mode !== 'upsert') return false;
  if (options.lookupBy !== undefined || options.expectedVersion !== undefined) return false;
  if (input.id !== undefined) return false;
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
  ) {}

  submit(item: Omit<BatchItem, 'resolve' | 'reject'>): Promise<UpsertResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...item, resolve, reject });
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
      const n = this.busy.get(k)! - 1;
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
          );
          written = answersOf(storeOf(batch), plan, done.seqs);
          if (next.length > 0) nextFound = done.next;
        } catch {
          // Whatever went wrong, each upsert of this batch runs alone: it retries what
          // can be retried and answers with its own error otherwise.
        }
      }
      this.settle(batch, written);
      this.release(held);
      // Nothing rode along: the next batch (if any) starts afresh, once this one is done.
      if (next.length === 0) return;
      batch = next;
      held = nextHeld;
      found = nextFound;
      if (found) this.stats.chained++;
      else found = await this.lookUp(batch);
    }
  }

  /** A batch's look-up on its own; if it fails, each upsert runs alone with its own error. */
  private async lookUp(batch: BatchItem[]): Promise<repo.Owners | undefined> {
    try {
      return await repo.findOwners(this.db, storeOf(batch), keysOf(batch), false);
    } catch {
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
  return batch[0]!.ctx.storeId;
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

/** A customer as the batch leaves it so far. */
interface Working {
  id: string;
  stored: repo.StoredCustomer | undefined;
  state: CustomerState;
  version: number;
  events: repo.EventRecord[];
}

interface Answer {
  item: BatchItem;
  working: Working;
  result: UpsertOutcome;
  matchedBy: IdentifierKind | null;
  state: CustomerState;
  version: number;
}

/** What a batch will write, and the answers it will give once written. */
interface Plan {
  now: Date;
  answers: Answer[];
  writes: repo.CustomerWrite[];
}

/**
 * Applies one store's batch to the customers its identifiers found (the unlocked read),
 * one upsert after another in arrival order. The upserts left without an answer (a
 * merge, a conflict, a refusal, an untracked value) run alone.
 */
function planBatch(fieldCache: FieldCache, batch: BatchItem[], found: repo.Owners): Plan {
  const storeId = storeOf(batch);
  const now = new Date();
  const { owners, customers } = found;

  // Who holds each value: what the database said, then what this batch has done.
  const holder = new Map(owners.map((o) => [keyOf(o), o.customerId]));
  const working = new Map<string, Working>();
  const types = fieldCache.typesOf(storeId);
  const answers: Answer[] = [];

  for (const item of batch) {
    const { input, ctx } = item;
    const matched = new Map<string, IdentifierKind>();
    for (const key of item.keys) {
      const k = keyOf(key);
      const id = holder.get(k);
      if (id === undefined) continue;
      const seen = matched.get(id);
      if (!seen || strongerKind(kindOf(key), seen) === kindOf(key)) matched.set(id, kindOf(key));
    }
    if (matched.size > 1) continue; // a merge or a conflict: alone
    const [[targetId, matchedBy] = [undefined, null]] = matched;
    let target = targetId === undefined ? undefined : working.get(targetId);
    if (targetId !== undefined && !target) {
      const stored = customers.get(targetId)!;
      if (stored.mergedInto !== null) continue;
      target = {
        id: stored.id,
        stored,
        state: stored.state,
        version: stored.version,
        events: [],
      };
    }

    let applied: ReturnType<typeof applyInput>;
    try {
      applied = applyInput(target?.state ?? emptyState(), input, types);
    } catch {
      continue; // a rule refuses it: alone, it gets the same refusal
    }
    const { next, changes } = applied;
    const untracked = changedStringValues(next.customFields, changes, types).some((c) =>
      fieldCache.mayTrack(storeId, c.field, c.value, item.settings.customFieldOptionsLimit),
    );
    // A STRING value seen for the first time, in a field with room for it: tracked alone.
    if (untracked) continue;

    if (target && Object.keys(changes).length === 0) {
      answers.push({
        item,
        working: target,
        result: 'unchanged',
        matchedBy,
        state: target.state,
        version: target.version,
      });
      continue;
    }
    const { added, removed } = diffKeys(target?.state, next);
    const w: Working = target ?? {
      id: newId('cust'),
      stored: undefined,
      state: next,
      version: 0,
      events: [],
    };
    w.state = next;
    w.version += 1;
    const result = target ? 'updated' : 'created';
    w.events.push(repo.historyEvent(ctx, w.id, result, changes, now));
    working.set(w.id, w);
    for (const key of added) holder.set(keyOf(key), w.id);
    for (const key of removed) holder.delete(keyOf(key));
    answers.push({ item, working: w, result, matchedBy, state: next, version: w.version });
  }

  const writes = [...working.values()]
    .filter((w) => w.events.length > 0)
    .map((w) => {
      const { added, removed } = diffKeys(w.stored?.state, w.state);
      return {
        id: w.id,
        create: !w.stored,
        version: w.version,
        readVersion: w.stored?.version ?? 0,
        state: w.state,
        now,
        addedKeys: added,
        removedKeys: removed,
        events: w.events,
      };
    });
  return { now, answers, writes };
}

/** The answer of every upsert a written plan holds. */
function answersOf(
  storeId: string,
  { now, answers }: Plan,
  seqs: Map<string, number>,
): Map<BatchItem, UpsertResult> {
  const results = new Map<BatchItem, UpsertResult>();
  for (const a of answers) {
    const { stored } = a.working;
    results.set(a.item, {
      result: a.result,
      matchedBy: a.matchedBy,
      seq: stored?.seq ?? seqs.get(a.working.id)!,
      warnings: [],
      customer: repo.storedToCustomer(storeId, {
        id: a.working.id,
        seq: 0,
        version: a.version,
        mergedInto: null,
        createdAt: stored?.createdAt ?? now,
        // Unchanged, and not changed earlier in this batch: it keeps its time.
        updatedAt: stored && a.version === stored.version ? stored.updatedAt : now,
        state: a.state,
      }),
    });
  }
  return results;
}

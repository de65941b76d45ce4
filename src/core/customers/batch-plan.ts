import type { FieldCache } from '../fields/field-cache.js';
import { changedStringValues } from '../fields/types.js';
import type { ChangeRecord } from './changes.js';
import type { StoredCustomer } from './customer.js';
import { diffKeys, type IdentityKey, keyOf } from './identity.js';
import { type Found, findsById, planUpsert } from './plan.js';
import { resultOf, type UpsertRequest, type UpsertResult } from './result.js';
import type { CustomerWrite, Owners } from './write.repository.js';

/** What a batch read: who holds each value its upserts name, and the customers named by id. */
export interface BatchRead extends Owners {
  byId: Map<string, StoredCustomer>;
  /** The values named that are suppressed, read after the owners. */
  suppressed: IdentityKey[];
}

/** A customer as the batch leaves it so far: the write it will send for it. */
interface Working {
  /** As read (undefined for a customer the batch creates). */
  read: StoredCustomer | undefined;
  latest: StoredCustomer;
  events: ChangeRecord[];
}

export interface BatchPlan<T> {
  writes: CustomerWrite[];
  /** The answer of each upsert the batch will write; the others run alone. */
  answers: Map<T, (seqs: Map<string, number>) => UpsertResult>;
}

/**
 * Plans one store's batch over its unlocked read: `planUpsert` for each upsert in
 * arrival order, each seeing what the ones before it left, then one write per customer.
 * An upsert the planner refuses, or that merges, declares a field or brings a STRING
 * value to track, gets no answer here: it runs alone, on a locked read, where the same
 * planner gives it exactly the answer it would have had alone.
 */
export function planBatch<T extends UpsertRequest & { keys: IdentityKey[] }>(
  fieldCache: FieldCache,
  batch: T[],
  read: BatchRead,
): BatchPlan<T> {
  const now = new Date();
  // Who holds each value: what the database said, then what this batch has done.
  const holder = new Map(read.owners.map((o) => [keyOf(o), o.customerId]));
  const working = new Map<string, Working>();
  const asRead = (id: string) => read.customers.get(id) ?? read.byId.get(id);
  const current = (id: string) => working.get(id)?.latest ?? asRead(id);
  const answers = new Map<T, (seqs: Map<string, number>) => UpsertResult>();
  // A customer's seq: as read, or given by the write that creates it.
  const seqOf = (id: string, seqs: Map<string, number>) =>
    asRead(id)?.seq ?? (seqs.get(id) as number);

  const suppressed = new Set(read.suppressed.map(keyOf));
  for (const item of batch) {
    const { ctx, input, options, settings } = item;
    const storeId = ctx.storeId;
    const found: Found = {
      owners: [],
      suppressed: item.keys.filter((k) => suppressed.has(keyOf(k))),
    };
    for (const key of item.keys) {
      const id = holder.get(keyOf(key));
      const customer = id === undefined ? undefined : current(id);
      if (customer) found.owners.push({ key, customer });
    }
    if (findsById(input, options)) {
      const named = read.byId.get(input.id);
      // Merged away: found through the survivor, which this read may not hold; alone.
      if (named?.mergedInto) continue;
      found.byId = named && current(named.id);
    }
    const fieldTypes = fieldCache.typesOf(storeId);
    let plan: ReturnType<typeof planUpsert>;
    try {
      plan = planUpsert(found, input, options, { ctx, settings, fieldTypes, now });
    } catch {
      continue; // a refusal, or a stale read: alone, on a locked read
    }
    if (plan.outcome === 'unchanged') {
      answers.set(item, (seqs) => resultOf(storeId, plan, seqOf(plan.customer.id, seqs)));
      continue;
    }
    if (plan.absorbed.length > 0) continue; // a merge: alone
    const untracked = changedStringValues(
      plan.customer.state.customFields,
      plan.changes,
      fieldTypes,
    ).some((c) => fieldCache.mayTrack(storeId, c.field, c.value, settings.customFieldOptionsLimit));
    if (untracked) continue; // a STRING value seen for the first time, in a field with room: alone

    const w = working.get(plan.customer.id) ?? {
      read: asRead(plan.customer.id),
      latest: plan.customer,
      events: [],
    };
    w.latest = plan.customer;
    w.events.push(...plan.events);
    working.set(plan.customer.id, w);
    for (const key of plan.addedKeys) holder.set(keyOf(key), plan.customer.id);
    for (const key of plan.removedKeys) holder.delete(keyOf(key));
    answers.set(item, (seqs) => resultOf(storeId, plan, seqOf(plan.customer.id, seqs)));
  }

  const writes = [...working.values()].map(({ read: before, latest, events }) => {
    const { added, removed } = diffKeys(before?.state, latest.state);
    return {
      id: latest.id,
      create: before === undefined,
      version: latest.version,
      readVersion: before?.version ?? 0,
      state: latest.state,
      createdAt: latest.createdAt,
      now,
      addedKeys: added,
      removedKeys: removed,
      events,
    };
  });
  return { writes, answers };
}

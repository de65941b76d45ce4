import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import { hasPrefix } from '../ids.js';
import { changeRecord, type WriteContext } from './changes.js';
import { type Customer, customerOf, type StoredCustomer } from './customer.js';
import { lockCustomers, unmarkMerged } from './customers.repository.js';
import { diffKeys, keyOf, keysOfState } from './identity.js';
import { type Collision, type MergeRecord, mergeLimitProblems, planMerge } from './merge.js';
import { findMerge, markUndone } from './merges.repository.js';
import { diffByPart } from './provenance.js';
import { withRetry } from './retry.js';
import { type KeptMerge, planUndo } from './unmerge.js';
import { findOwners, type WriteServices } from './write.repository.js';
import { writePlanned } from './write-plan.js';

export interface MergeDeps {
  db: DB;
  services: WriteServices;
}

export const maxSources = 10;

/** The request's own rules, before anything is read: 400 naming the source. */
function checkSources(targetId: string, sourceIds: readonly string[]): void {
  if (sourceIds.length < 1 || sourceIds.length > maxSources) {
    throw fail.field('/sourceIds', `must name 1 to ${maxSources} customers`);
  }
  const problems = sourceIds.flatMap((id, i) => {
    const path = `/sourceIds/${i}`;
    if (id === targetId) return [{ path, message: 'is the target itself' }];
    if (sourceIds.indexOf(id) !== i) return [{ path, message: `names ${id} a second time` }];
    return [];
  });
  if (problems.length > 0) throw fail.validation(problems);
}

/** Locks the customers of a merge in id order; a 404 names each one missing. */
async function lockAll(trx: DB, storeId: string, targetId: string, sourceIds: string[]) {
  const locked = new Map(
    (await lockCustomers(trx, storeId, [targetId, ...sourceIds])).map((c) => [c.id, c]),
  );
  const missing = [
    ...(locked.has(targetId)
      ? []
      : [{ path: '/path/customerId', message: `no customer ${targetId}` }]),
    ...sourceIds.flatMap((id, i) =>
      locked.has(id) ? [] : [{ path: `/sourceIds/${i}`, message: `no customer ${id}` }],
    ),
  ];
  if (missing.length > 0) {
    throw new ClienteleError(
      'customer_not_found',
      missing.map((m) => m.message).join('; '),
      missing,
    );
  }
  return locked;
}

/**
 * Merges the sources into the target (POST …/customers/{id}/merge): planMerge decides,
 * the sources filling the target's empty fields most recently updated first, and the
 * write is the upsert's (writePlanned). A customer already merged away is refused (409
 * already_merged), so of two merges racing over one customer, the second is.
 */
export async function mergeInto(
  deps: MergeDeps,
  ctx: WriteContext,
  targetId: string,
  sourceIds: string[],
): Promise<{ merge: MergeRecord; customer: Customer }> {
  checkSources(targetId, sourceIds);
  const { storeId } = ctx;
  return withRetry(() =>
    deps.db.transaction().execute(async (trx) => {
      const locked = await lockAll(trx, storeId, targetId, sourceIds);
      const target = locked.get(targetId) as StoredCustomer;
      const merged = [
        ...(target.mergedInto
          ? [{ path: '/path/customerId', message: `was merged into ${target.mergedInto}` }]
          : []),
        ...sourceIds.flatMap((id, i) => {
          const into = locked.get(id)?.mergedInto;
          return into ? [{ path: `/sourceIds/${i}`, message: `was merged into ${into}` }] : [];
        }),
      ];
      if (merged.length > 0) {
        throw new ClienteleError(
          'already_merged',
          `A customer of this merge is merged away already: ${merged[0]?.message}.`,
          merged,
        );
      }
      const sources = sourceIds
        .map((id) => locked.get(id) as StoredCustomer)
        .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || b.id.localeCompare(a.id));
      const now = new Date();
      const version = target.version + 1;
      const plan = planMerge(target, sources, ctx, 'request', version, now);
      const past = mergeLimitProblems(plan.state);
      if (past.length > 0) {
        throw new ClienteleError('limit_exceeded', past[0]?.message ?? 'past a limit', past);
      }
      const { added, removed } = diffKeys(target.state, plan.state);
      const write = {
        id: target.id,
        create: false,
        version,
        readVersion: target.version,
        state: plan.state,
        createdAt: target.createdAt,
        now,
        addedKeys: added,
        removedKeys: removed,
        events: plan.events,
      };
      const seqs = await writePlanned(trx, deps.services, ctx, [write], sources, plan.merge);
      const customer = customerOf(storeId, {
        ...target,
        seq: seqs.get(target.id) ?? target.seq,
        version,
        updatedAt: now,
        state: plan.state,
      });
      return { merge: plan.merge, customer };
    }),
  );
}

function notUndoable(message: string, path = '/path/mergeId'): ClienteleError {
  return new ClienteleError('merge_not_undoable', message, [{ path, message }]);
}

/**
 * Undoes a merge (POST …/merges/{id}/undo): the sources get back their ids, identifiers
 * and fields as the snapshot holds them; the target loses what came from them; planUndo
 * settles each collision with what changed since, and the answer lists them.
 */
export async function undoMerge(
  deps: MergeDeps,
  ctx: WriteContext,
  mergeId: string,
): Promise<{
  merge: MergeRecord;
  customer: Customer;
  sources: Customer[];
  collisions: Collision[];
}> {
  const { storeId } = ctx;
  return withRetry(() =>
    deps.db.transaction().execute(async (trx) => {
      const merge = hasPrefix(mergeId, 'mrg')
        ? await findMerge(trx, storeId, mergeId, true)
        : undefined;
      if (!merge) throw new ClienteleError('not_found', `No merge ${mergeId}.`);
      if (merge.undoneAt) throw notUndoable(`Merge ${merge.id} was undone already.`);
      if (!merge.snapshot || !merge.merged || !merge.provenance || merge.erasedAt) {
        throw notUndoable(`A customer of merge ${merge.id} was erased: its snapshot is gone.`);
      }
      const kept = merge as KeptMerge;
      const locked = new Map(
        (await lockCustomers(trx, storeId, [merge.targetId, ...merge.sourceIds])).map((c) => [
          c.id,
          c,
        ]),
      );
      const target = locked.get(merge.targetId);
      if (!target || merge.sourceIds.some((id) => !locked.has(id))) {
        throw notUndoable(`A customer of merge ${merge.id} was erased.`);
      }
      if (target.mergedInto) {
        throw notUndoable(
          `${target.id} was merged into ${target.mergedInto} since: undo that merge first.`,
        );
      }
      const keys = kept.snapshot.sources.flatMap((s) => keysOfState(s.state));
      const { owners } = await findOwners(trx, storeId, keys, false);
      // Who holds them now, beside the customers of the merge (the target holds them).
      const ours = new Set([merge.targetId, ...merge.sourceIds]);
      const heldBy = new Map(
        owners.filter((o) => !ours.has(o.customerId)).map((o) => [keyOf(o), o.customerId]),
      );
      const plan = planUndo(kept, target, heldBy);
      const now = new Date();
      const version = target.version + 1;
      const { added, removed } = diffKeys(target.state, plan.target);
      const unmerged = { mergeId: merge.id, unmerged: merge.sourceIds };
      const writes = [
        {
          id: target.id,
          create: false,
          version,
          readVersion: target.version,
          state: plan.target,
          createdAt: target.createdAt,
          now,
          addedKeys: added,
          removedKeys: removed,
          events: [
            changeRecord(
              ctx,
              target.id,
              'unmerged',
              { previousVersion: target.version, version },
              {
                ...unmerged,
                changes: diffByPart(target.state, plan.target),
              },
              now,
            ),
          ],
        },
        ...plan.sources.map((s) => {
          const tombstone = locked.get(s.id) as StoredCustomer;
          const v = tombstone.version + 1;
          return {
            id: s.id,
            create: false,
            version: v,
            readVersion: tombstone.version,
            state: s.state,
            createdAt: tombstone.createdAt,
            now,
            addedKeys: keysOfState(s.state),
            removedKeys: [],
            revived: true,
            events: [
              changeRecord(
                ctx,
                s.id,
                'unmerged',
                { previousVersion: tombstone.version, version: v },
                {
                  mergeId: merge.id,
                  unmergedFrom: target.id,
                  changes: diffByPart(tombstone.state, s.state),
                },
                now,
              ),
            ],
          };
        }),
      ];
      for (const s of plan.sources) await unmarkMerged(trx, storeId, s.id, s.carried);
      await writePlanned(trx, deps.services, ctx, writes);
      await markUndone(trx, storeId, merge.id, now, plan.collisions);
      const written = (w: (typeof writes)[number]) => {
        const before = (w.id === target.id ? target : locked.get(w.id)) as StoredCustomer;
        return customerOf(storeId, {
          ...before,
          mergedInto: null,
          version: w.version,
          updatedAt: now,
          state: w.state,
        });
      };
      const [first, ...rest] = writes;
      return {
        merge: { ...merge, undoneAt: now, collisions: plan.collisions },
        customer: written(first as (typeof writes)[number]),
        sources: rest.map(written),
        collisions: plan.collisions,
      };
    }),
  );
}

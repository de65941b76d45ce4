import type { CustomerState, StoredCustomer } from './customer.js';
import { type IdentityKey, keyOf, keysOfState } from './identity.js';
import type { Collision, MergeRecord, MergeSnapshot } from './merge.js';
import { pathsOf, sameJson, withoutPath } from './provenance.js';

/** A merge that can be undone: its snapshot, merged state and provenance are all kept. */
export type KeptMerge = MergeRecord & {
  snapshot: MergeSnapshot;
  merged: CustomerState;
  provenance: Record<string, string>;
};

export interface UndoPlan {
  /** The target without what came from the sources (what changed since stays). */
  target: CustomerState;
  /** Each source as the snapshot holds it, less what someone else holds now. */
  sources: { id: string; version: number; state: CustomerState; carried: string[] }[];
  collisions: Collision[];
}

/** The path of an identifier a customer in this state holds, in pathsOf's terms. */
function pathOfKey(state: CustomerState, k: IdentityKey): string {
  if (k.kind === 'externalId' || k.kind === 'email')
    return state[k.kind] === k.value ? k.kind : `mergedIdentifiers.${k.kind}:${k.value}`;
  if (k.kind === 'phone') return `phoneNumbers.${k.value}`;
  return `identifiers.${k.kind}:${k.value}`;
}

/**
 * The one decision of an undo. Each value the merge brought from a source leaves the
 * target if the target still has it as the merge left it; one written since stays, and
 * is a collision. Each source gets back its snapshot, but an identifier that the target
 * (by a write since) or another customer (`heldBy`: who holds each value now) holds is
 * left with its holder, and is a collision. Pure.
 */
export function planUndo(
  merge: KeptMerge,
  target: StoredCustomer,
  heldBy: ReadonlyMap<string, string>,
): UndoPlan {
  const collisions: Collision[] = [];
  const sources = new Set(merge.sourceIds);
  const now = pathsOf(target.state);
  const merged = pathsOf(merge.merged);
  let state = target.state;
  for (const [path, origin] of Object.entries(merge.provenance)) {
    if (!sources.has(origin) || !now.has(path)) continue;
    if (sameJson(now.get(path), merged.get(path))) state = withoutPath(state, path);
    else {
      collisions.push({
        path,
        customerId: origin,
        heldBy: target.id,
        settled: `written on ${target.id} since the merge: kept there, not given back`,
      });
    }
  }
  // Loyalty the target had none of before, and that is left empty: none again.
  const loyalty = state.loyalty;
  if (
    merge.snapshot.target.loyalty === null &&
    loyalty?.status === 'non_loyalty' &&
    loyalty.enrollments.length === 0
  ) {
    state = { ...state, loyalty: null };
  }
  const targetKeys = new Set(keysOfState(state).map(keyOf));
  const restored = merge.snapshot.sources.map((s) => {
    let restoredState = s.state;
    for (const key of keysOfState(s.state)) {
      const holder = targetKeys.has(keyOf(key)) ? target.id : heldBy.get(keyOf(key));
      if (holder === undefined || holder === s.id) continue;
      const path = pathOfKey(s.state, key);
      restoredState = withoutPath(restoredState, path);
      collisions.push({
        path,
        customerId: s.id,
        heldBy: holder,
        settled: `held by ${holder} since the merge: left there, not given back to ${s.id}`,
      });
    }
    return { ...s, state: restoredState };
  });
  return { target: state, sources: restored, collisions };
}

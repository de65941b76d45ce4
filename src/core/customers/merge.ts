import type { FieldProblem } from '../errors.js';
import { newId } from '../ids.js';
import { mergeChannels, scalarFields } from './apply.js';
import { type ChangeRecord, changeRecord } from './changes.js';
import type { CustomerState, MergedIdentifier, StoredCustomer } from './customer.js';
import { limits } from './limits.js';
import { diffByPart, provenanceOf } from './provenance.js';

/** What a merge keeps for its undo: the target and each source as they were. */
export interface MergeSnapshot {
  target: CustomerState;
  /** Each source's version and state before the merge, and the customers once merged into it. */
  sources: { id: string; version: number; state: CustomerState; carried: string[] }[];
}

/** How an undo settled a value it could not simply give back or take away. */
export interface Collision {
  path: string;
  customerId: string;
  /** Who holds the value now. */
  heldBy: string;
  settled: string;
}

/** A merge, as stored (`merges`, migration 0022) and answered. */
export interface MergeRecord {
  id: string;
  targetId: string;
  sourceIds: string[];
  /** `request`: POST …/merge; `identityConflict`: an upsert under the store's "merge" setting. */
  origin: 'request' | 'identityConflict';
  api: string;
  keyId: string | null;
  createdAt: Date;
  /** The target's version the merge wrote. */
  targetVersion: number;
  /** Null once a customer of the merge was erased. */
  snapshot: MergeSnapshot | null;
  merged: CustomerState | null;
  provenance: Record<string, string> | null;
  undoneAt: Date | null;
  collisions: Collision[] | null;
  erasedAt: Date | null;
}

/**
 * The one way customers are merged, by a request or by an upsert's identity conflict:
 * the target keeps every value it has; each source in turn fills what is still empty;
 * lists are united. Returns the state, each field's origin, the change records (one per
 * source on the target, one on each source) and the merge to store. Pure; the caller
 * orders the sources and checks the limits (mergeLimitProblems).
 */
export function planMerge(
  target: StoredCustomer,
  sources: readonly StoredCustomer[],
  by: { api: string; keyId: string | null },
  origin: MergeRecord['origin'],
  version: number,
  now: Date,
): { state: CustomerState; events: ChangeRecord[]; merge: MergeRecord } {
  const mergeId = newId('mrg');
  const events: ChangeRecord[] = [];
  let state = target.state;
  for (const source of sources) {
    const before = state;
    state = mergeStates(state, source.state);
    events.push(
      changeRecord(
        by,
        target.id,
        'merged',
        { previousVersion: version - 1, version },
        { mergedFrom: source.id, mergeId, changes: diffByPart(before, state) },
        now,
      ),
      changeRecord(
        by,
        source.id,
        'merged',
        { previousVersion: source.version, version: source.version + 1 },
        { mergedInto: target.id, mergeId },
        now,
      ),
    );
  }
  const merge: MergeRecord = {
    id: mergeId,
    targetId: target.id,
    sourceIds: sources.map((s) => s.id),
    origin,
    api: by.api,
    keyId: by.keyId,
    createdAt: now,
    targetVersion: version,
    snapshot: {
      target: target.state,
      sources: sources.map((s) => ({ id: s.id, version: s.version, state: s.state, carried: [] })),
    },
    merged: state,
    provenance: provenanceOf(state, target, sources),
    undoneAt: null,
    collisions: null,
    erasedAt: null,
  };
  return { state, events, merge };
}

/**
 * The state of a customer that absorbs another: the survivor keeps every value it has,
 * and takes from the other what it lacks; lists are joined.
 */
export function mergeStates(survivor: CustomerState, other: CustomerState): CustomerState {
  const merged = structuredClone(survivor);
  for (const field of scalarFields) {
    if (field !== 'active' && merged[field] === null) {
      (merged as unknown as Record<string, unknown>)[field] = other[field];
    }
  }
  // An email or external id the survivor's own replaces still finds it, as do those the
  // other answered to since merges of its own.
  const answersTo = (type: MergedIdentifier['type'], value: string | null) => {
    if (value === null || merged[type] === value) return;
    if (!merged.mergedIdentifiers.some((m) => m.type === type && m.value === value))
      merged.mergedIdentifiers.push({ type, value });
  };
  answersTo('externalId', other.externalId);
  answersTo('email', other.email);
  for (const m of other.mergedIdentifiers) answersTo(m.type, m.value);
  for (const phone of other.phoneNumbers)
    if (!merged.phoneNumbers.includes(phone)) merged.phoneNumbers.push(phone);
  for (const part of Object.keys(merged.location) as (keyof typeof merged.location)[]) {
    if (merged.location[part] === null)
      (merged.location as Record<string, unknown>)[part] = other.location[part];
  }
  for (const id of other.identifiers) {
    if (!merged.identifiers.some((i) => i.type === id.type && i.value === id.value))
      merged.identifiers.push(id);
  }
  merged.customFields = { ...other.customFields, ...survivor.customFields };
  merged.metadata = { ...other.metadata, ...survivor.metadata };
  merged.channels = mergeChannels(other.channels, survivor.channels);
  if (other.loyalty) {
    const mine = merged.loyalty ?? { status: 'non_loyalty', enrollments: [] };
    merged.loyalty = {
      status:
        mine.status === 'loyalty' || other.loyalty.status === 'loyalty' ? 'loyalty' : 'non_loyalty',
      enrollments: [
        ...mine.enrollments,
        ...other.loyalty.enrollments.filter(
          (e) => !mine.enrollments.some((m) => m.programId === e.programId),
        ),
      ],
    };
  }
  return merged;
}

/**
 * The limits a merged state would break. A merge never takes a customer past a limit
 * (it would then refuse every write naming one of its own numbers); the planner refuses
 * the merge instead, and both customers keep what they hold.
 */
export function mergeLimitProblems(merged: CustomerState): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const past = (path: string, count: number, limit: number, what: string) => {
    if (count > limit) {
      problems.push({
        path,
        message: `merging these customers would give ${count} ${what}; a customer has at most ${limit}`,
      });
    }
  };
  past(
    '/phoneNumbers',
    merged.phoneNumbers.length,
    limits.phoneNumbersPerCustomer,
    'phone numbers',
  );
  past(
    '/identifiers',
    merged.identifiers.length,
    limits.identifiersPerCustomer,
    'typed identifiers',
  );
  past(
    '/mergedIdentifiers',
    merged.mergedIdentifiers.length,
    limits.mergedIdentifiersPerCustomer,
    'merged emails and external ids',
  );
  return problems;
}

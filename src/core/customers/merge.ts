import type { FieldProblem } from '../errors.js';
import { type Changes, mergeChannels, scalarFields } from './apply.js';
import type { CustomerState } from './customer.js';
import { limits } from './limits.js';

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

/** Every top-level field that differs between two states, before and after. */
export function diffStates(before: CustomerState, after: CustomerState): Changes {
  const changes: Changes = {};
  for (const key of Object.keys(after) as (keyof CustomerState)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changes[key] = { before: before[key], after: after[key] };
    }
  }
  return changes;
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
  return problems;
}

import { ClienteleError, type FieldProblem, fail } from '../errors.js';
import type { FieldType } from '../fields/types.js';
import { newId } from '../ids.js';
import type { StoreSettings } from '../stores/settings.js';
import { applyInput, type Changes } from './apply.js';
import { type ChangeRecord, changeRecord, type WriteContext } from './changes.js';
import { type CustomerState, emptyState, type StoredCustomer } from './customer.js';
import { diffKeys, type IdentityKey, kindOf, strongerKind } from './identity.js';
import type { IdentifierKind, NormalizedInput } from './input.js';
import { type MergeRecord, mergeLimitProblems, planMerge } from './merge.js';
import { customerSuppressed } from './suppression.js';

/**
 * The upsert's one decision. Every write of a customer, whether it runs alone in a
 * locked transaction or in a batch over an unlocked read, in the native API or any
 * dialect, is decided here, from what was read and what was sent; nothing else decides.
 */

export interface PlanOptions {
  /**
   * `upsert` (default) creates or updates; `update` refuses to create (404);
   * `create` always creates, failing on an identifier another customer holds.
   */
  mode?: 'upsert' | 'update' | 'create';
  /**
   * Which identifiers find the customer; the others are only written. Default: all of
   * them. A dialect whose platform finds customers by one key names it here.
   */
  lookupBy?: (IdentifierKind | 'id')[];
  /**
   * When set, the write applies only if the customer is at one of these versions (412
   * otherwise; an empty list matches no version, as a weak entity tag in If-Match).
   */
  expectedVersions?: readonly number[];
}

/** What the write's identifiers found, read before planning (locked or not). */
export interface Found {
  /** The customer `input.id` names, followed through a merge; absent when there is none. */
  byId?: StoredCustomer | undefined;
  /** Who holds each identifier value the write names. */
  owners: { key: IdentityKey; customer: StoredCustomer }[];
  /** The identifier values the write names that are suppressed (an erased customer's). */
  suppressed?: IdentityKey[];
}

export interface PlanContext {
  ctx: WriteContext;
  settings: StoreSettings;
  /** The declared type of every custom field the input names. */
  fieldTypes: ReadonlyMap<string, FieldType>;
  now: Date;
}

export type Plan =
  | { outcome: 'unchanged'; matchedBy: IdentifierKind | null; customer: StoredCustomer }
  | {
      outcome: 'created' | 'updated';
      matchedBy: IdentifierKind | null;
      /** The customer written: its id, new version and state. */
      customer: StoredCustomer;
      /** The version the write was computed from (0 for a new customer). */
      readVersion: number;
      /** Customers merged into this one by the write (their rows become tombstones). */
      absorbed: StoredCustomer[];
      changes: Changes;
      addedKeys: IdentityKey[];
      removedKeys: IdentityKey[];
      events: ChangeRecord[];
      /** The merge the write makes (its identity conflict settled by the "merge" setting). */
      merge: MergeRecord | undefined;
    };

/** Whether the write finds its customer by `id` (and so needs it read). */
export function findsById(
  input: NormalizedInput,
  options: PlanOptions,
): input is NormalizedInput & { id: string } {
  return input.id !== undefined && finds(options, 'id');
}

function finds(options: PlanOptions, kind: IdentifierKind | 'id'): boolean {
  return options.mode !== 'create' && (options.lookupBy?.includes(kind) ?? true);
}

/**
 * Decides a write: throws the refusal (identity conflict, not found, version
 * precondition, any rule of the input) or returns what to write. Pure.
 */
export function planUpsert(
  found: Found,
  input: NormalizedInput,
  options: PlanOptions,
  { ctx, settings, fieldTypes, now }: PlanContext,
): Plan {
  // An erased person's identifiers stay refused, whatever else the write says.
  if (found.suppressed && found.suppressed.length > 0) throw customerSuppressed(found.suppressed);
  // Which customers the write names, and the strongest identifier that named each.
  const matched = new Map<string, Match>();
  const noteMatch = (customer: StoredCustomer, kind: IdentifierKind, key?: IdentityKey) => {
    const seen = matched.get(customer.id);
    if (!seen || strongerKind(kind, seen.kind) === kind) {
      matched.set(customer.id, { customerId: customer.id, customer, kind, key });
    }
  };
  if (findsById(input, options)) {
    if (!found.byId) throw fail.customerNotFound(input.id);
    noteMatch(found.byId, 'id');
  }
  const bystanders: { customerId: string; kind: IdentifierKind; key: IdentityKey }[] = [];
  for (const { key, customer } of found.owners) {
    const kind = kindOf(key);
    if (finds(options, kind)) noteMatch(customer, kind, key);
    else bystanders.push({ customerId: customer.id, kind, key });
  }
  // Merged away since the read: the read is stale, so start again on fresh data.
  for (const { customer } of matched.values()) {
    if (customer.mergedInto !== null) throw new RetryableConflict();
  }

  if (matched.size === 0 && options.mode === 'update') throw fail.customerNotFound();
  // An identifier that does not find customers here (the dialect's platform identifies
  // by another) still cannot be taken from the customer who holds it.
  const strays = bystanders.filter((b) => !matched.has(b.customerId));
  if (strays.length > 0) {
    throw identityConflict([...matched.values(), ...strays]);
  }

  // The strongest identifier first; between equals, the newest customer (ids sort by time).
  const ranked = [...matched.values()].sort((a, b) =>
    a.kind === b.kind
      ? b.customerId.localeCompare(a.customerId)
      : strongerKind(a.kind, b.kind) === a.kind
        ? -1
        : 1,
  );
  const [first, ...others] = ranked;
  const target = first?.customer;
  const matchedBy = first?.kind ?? null;
  const version = (target?.version ?? 0) + 1;
  const id = target?.id ?? newId('cust');
  const events: ChangeRecord[] = [];
  let base = target?.state ?? emptyState();

  let merge: MergeRecord | undefined;
  if (others.length > 0 && target) {
    if (settings.identityConflict === 'reject') {
      throw identityConflict(ranked);
    }
    const planned = planMerge(
      target,
      others.map((o) => o.customer),
      ctx,
      'identityConflict',
      version,
      now,
    );
    base = ownValuesAsWritten(planned.state, target.state, input);
    merge = planned.merge;
    events.push(...planned.events);
    const past = mergeLimitProblems(base);
    if (past.length > 0) throw identityConflict(ranked, past);
  }
  const expected = options.expectedVersions;
  if (target && expected !== undefined && !expected.includes(target.version)) {
    throw new ClienteleError(
      'precondition_failed',
      expected.length === 0
        ? `Customer ${target.id} is at version ${target.version}; If-Match names no version that can match.`
        : `Customer ${target.id} is at version ${target.version}, not ${expected.join(' or ')}.`,
      [{ path: '/header/if-match', message: `the customer is at version ${target.version}` }],
    );
  }

  const { next, changes } = applyInput(base, input, fieldTypes);
  const changed = Object.keys(changes).length > 0;
  if (target && !changed && events.length === 0) {
    return { outcome: 'unchanged', matchedBy, customer: target };
  }
  const outcome = target ? 'updated' : 'created';
  if (changed || !target) {
    events.push(
      changeRecord(ctx, id, outcome, { previousVersion: version - 1, version }, changes, now),
    );
  }
  const { added, removed } = diffKeys(target?.state, next);
  return {
    outcome,
    matchedBy,
    customer: {
      id,
      seq: target?.seq ?? 0,
      version,
      mergedInto: null,
      createdAt: target?.createdAt ?? now,
      updatedAt: now,
      state: next,
    },
    readVersion: target?.version ?? 0,
    absorbed: others.map((o) => o.customer),
    changes,
    addedKeys: added,
    removedKeys: removed,
    events,
    merge,
  };
}

interface Match {
  customerId: string;
  customer: StoredCustomer;
  /** The strongest identifier that named the customer, and its value (none for `id`). */
  kind: IdentifierKind;
  key?: IdentityKey | undefined;
}

/** The refusal naming who holds each identifier; `limits`: why a merge could not settle it. */
function identityConflict(
  holders: { customerId: string; kind: IdentifierKind; key?: IdentityKey | undefined }[],
  limits: FieldProblem[] = [],
): ClienteleError {
  const details = holders.map((h) => ({
    identifier: h.kind,
    ...(h.key && h.kind === 'identifier' ? { type: h.key.kind } : {}),
    ...(h.key ? { value: h.key.value } : {}),
    customerId: h.customerId,
  }));
  const settled = limits.length > 0 ? ` They cannot be merged: ${limits[0]?.message}.` : '';
  return new ClienteleError(
    'identity_conflict',
    `The identifiers given belong to ${holders.length} different customers.${settled}`,
    [
      ...limits,
      ...details.map((d) => ({
        path:
          d.identifier === 'id'
            ? '/id'
            : `/${d.identifier === 'identifier' ? 'identifiers' : d.identifier}`,
        message: `${d.value ?? 'id'} belongs to ${d.customerId}`,
      })),
    ],
    { conflicts: details },
  );
}

/**
 * The merged state, less the merged identifiers that the write names as its email or
 * external id and that its own merge has just made (they were a source's): the write says
 * they are its customer's, and applyInput writes them as written. One the target held
 * before stays one, and applyInput keeps the field as it is.
 */
function ownValuesAsWritten(
  merged: CustomerState,
  before: CustomerState,
  input: NormalizedInput,
): CustomerState {
  const named = merged.mergedIdentifiers.filter(
    (m) =>
      input[m.type] === m.value &&
      !before.mergedIdentifiers.some((b) => b.type === m.type && b.value === m.value),
  );
  if (named.length === 0) return merged;
  return {
    ...merged,
    mergedIdentifiers: merged.mergedIdentifiers.filter((m) => !named.includes(m)),
  };
}

/** The read a plan was made from is stale (a customer was merged away since): read again. */
export class RetryableConflict extends Error {
  constructor() {
    super('customer changed under the write; retrying');
    this.name = 'RetryableConflict';
  }
}

import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import {
  changedStringValues,
  type FieldCache,
  resolveFieldTypes,
  trackOptions,
} from '../fields/fields.js';
import { coerceToFieldType, describeValueType, type FieldType } from '../fields/types.js';
import { newId } from '../ids.js';
import type { StoreSettings } from '../stores/settings.js';
import { applyInput, type Changes, mergeStates } from './apply.js';
import { batchable, type UpsertBatcher } from './batch.js';
import type { PhoneCheck } from './contact.js';
import { type Customer, type CustomerState, emptyState } from './customer.js';
import { diffKeys, type IdentityKey, keysOfInput, kindOf, strongerKind } from './identity.js';
import {
  type CustomerInput,
  hasIdentifier,
  type IdentifierKind,
  identifierRequired,
  type NormalizedInput,
  normalizeInput,
} from './input.js';
import * as repo from './repository.js';
import { withRetry } from './retry.js';

/** Who writes: the store, and the API (native or a dialect) and key the write came through. */
export interface WriteContext {
  storeId: string;
  api: string;
  keyId: string | null;
}

export interface UpsertOptions {
  phoneCheck?: PhoneCheck;
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
  /** Whether a write with no identifier at all is refused (422 identifier_required). */
  requireIdentifier?: boolean;
  /** When set, the write applies only if the customer is at this version (412 otherwise). */
  expectedVersion?: number;
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface UpsertResult {
  result: UpsertOutcome;
  matchedBy: IdentifierKind | null;
  customer: Customer;
  /** The customer's stable integer id within its store (for integer-id platforms). */
  seq: number;
  warnings: string[];
}

export interface UpsertDeps {
  db: DB;
  fieldCache: FieldCache;
  settingsOf: (storeId: string) => Promise<StoreSettings>;
  /** Writes the common case together with the upserts that arrive with it. */
  batcher?: UpsertBatcher;
}

/** Create or update one customer: identity resolution, merge rules, history, in one transaction. */
export async function upsertCustomer(
  deps: UpsertDeps,
  ctx: WriteContext,
  raw: CustomerInput,
  options: UpsertOptions = {},
): Promise<UpsertResult> {
  const settings = await deps.settingsOf(ctx.storeId);
  const input = normalizeInput(withExtendedFields(raw, settings), options.phoneCheck ?? 'exists');
  if ((options.requireIdentifier ?? true) && !hasIdentifier(input)) throw identifierRequired();
  if (deps.batcher && batchable(input, options, deps.fieldCache.typesOf(ctx.storeId))) {
    return deps.batcher.submit({ ctx, input, keys: keysOfInput(input), settings });
  }
  return upsertAlone(deps, ctx, input, options, settings);
}

/** One upsert in a transaction of its own: every rule, every path. */
export async function upsertAlone(
  deps: UpsertDeps,
  ctx: WriteContext,
  input: NormalizedInput,
  options: UpsertOptions,
  settings: StoreSettings,
): Promise<UpsertResult> {
  const {
    result,
    declared,
    options: tracked,
  } = await withRetry(() =>
    deps.db
      .transaction()
      .execute((trx) => upsertInTransaction(trx, deps.fieldCache, ctx, input, options, settings)),
  );
  // Only now, with the transaction committed, is what it declared safe to remember.
  const types = deps.fieldCache.typesOf(ctx.storeId);
  for (const [name, type] of declared) types.set(name, type);
  for (const o of tracked.options) deps.fieldCache.rememberOption(ctx.storeId, o.field, o.value);
  for (const field of tracked.full) {
    deps.fieldCache.rememberFull(ctx.storeId, field, settings.customFieldOptionsLimit);
  }
  return result;
}

async function upsertInTransaction(
  trx: DB,
  fieldCache: FieldCache,
  ctx: WriteContext,
  input: NormalizedInput,
  options: UpsertOptions,
  settings: StoreSettings,
): Promise<{
  result: UpsertResult;
  declared: Map<string, FieldType>;
  options: { options: { field: string; value: string }[]; full: string[] };
}> {
  const { storeId } = ctx;
  const now = new Date();
  const keys = keysOfInput(input);
  const { lookupBy } = options;
  const finds = (kind: IdentifierKind | 'id') =>
    options.mode !== 'create' && (lookupBy === undefined || lookupBy.includes(kind));

  // Customers holding these values are locked here. A value nobody holds yet is claimed
  // by the write: of two writers racing to claim it, the second fails on the unique key
  // (after the first commits), and withRetry runs it again on what the first wrote.
  const { owners, customers: ownerRows } = await repo.findOwners(trx, storeId, keys, true);

  // Which customers the write names, and the strongest identifier that named each.
  const matched = new Map<string, { kind: IdentifierKind; key?: IdentityKey }>();
  const noteMatch = (customerId: string, kind: IdentifierKind, key?: IdentityKey) => {
    const seen = matched.get(customerId);
    if (!seen || strongerKind(kind, seen.kind) === kind) {
      matched.set(customerId, key ? { kind, key } : { kind });
    }
  };
  if (input.id !== undefined && finds('id')) {
    const found = await repo.findCustomerById(trx, storeId, input.id);
    if (!found) throw fail.customerNotFound(input.id);
    noteMatch(found.mergedInto ?? found.id, 'id');
  }
  const bystanders: { customerId: string; kind: IdentifierKind; key: IdentityKey }[] = [];
  for (const owner of owners) {
    const key = { kind: owner.kind, value: owner.value };
    if (finds(kindOf(key))) noteMatch(owner.customerId, kindOf(key), key);
    else bystanders.push({ customerId: owner.customerId, kind: kindOf(key), key });
  }
  // Customers found through identifiers are locked already; one named only by id is not.
  const byIdOnly = [...matched.keys()].filter((id) => !ownerRows.has(id));
  const locked = [
    ...[...matched.keys()].flatMap((id) => ownerRows.get(id) ?? []),
    ...(await repo.lockCustomers(trx, storeId, byIdOnly)),
  ];
  if (locked.some((c) => c.mergedInto !== null)) {
    // Merged away between our look-up and our lock: start again on fresh data.
    throw new RetryableConflict();
  }

  const { types, declared } = input.customFields
    ? await resolveFieldTypes(trx, fieldCache, storeId, input.customFields, settings.extendedFields)
    : { types: new Map<string, FieldType>(), declared: new Map<string, FieldType>() };

  const events: repo.EventRecord[] = [];
  const event = (
    customerId: string,
    type: repo.EventRecord['type'],
    changes: Record<string, unknown>,
  ) => events.push(repo.historyEvent(ctx, customerId, type, changes, now));

  let target: repo.StoredCustomer | undefined;
  let matchedBy: IdentifierKind | null = null;
  let base: CustomerState;

  if (locked.length === 0 && options.mode === 'update') throw fail.customerNotFound();
  // An identifier that does not find customers here (the dialect's platform identifies
  // by another) still cannot be taken from the customer who holds it.
  const strays = bystanders.filter((b) => !matched.has(b.customerId));
  if (strays.length > 0) {
    const named = [...matched.entries()].map(([customerId, m]) => ({ customerId, ...m }));
    throw identityConflict([...named, ...strays]);
  }

  if (locked.length === 0) {
    base = emptyState();
  } else {
    const ranked = locked
      .map((c) => ({ customer: c, match: matched.get(c.id)! }))
      .sort((a, b) => (strongerKind(a.match.kind, b.match.kind) === a.match.kind ? -1 : 1));
    target = ranked[0]!.customer;
    matchedBy = ranked[0]!.match.kind;
    base = target.state;

    if (ranked.length > 1) {
      if (settings.identityConflict === 'reject') {
        throw identityConflict(ranked.map((r) => ({ customerId: r.customer.id, ...r.match })));
      }
      for (const { customer: other } of ranked.slice(1)) {
        const before = base;
        base = mergeStates(base, other.state);
        await repo.removeAllIdentifiers(trx, storeId, other.id);
        await repo.markMerged(trx, storeId, other.id, target.id, now);
        event(target.id, 'merged', { mergedFrom: other.id, changes: diffChanges(before, base) });
        event(other.id, 'merged', { mergedInto: target.id });
      }
    }
    if (options.expectedVersion !== undefined && target.version !== options.expectedVersion) {
      throw new ClienteleError(
        'precondition_failed',
        `Customer ${target.id} is at version ${target.version}, not ${options.expectedVersion}.`,
      );
    }
  }

  const { next, changes } = applyInput(base, input, types);
  const { added, removed } = diffKeys(target?.state, next);
  const merged = events.length > 0;

  let stored: repo.StoredCustomer;
  let result: UpsertOutcome;
  if (target && Object.keys(changes).length === 0 && !merged) {
    stored = target;
    result = 'unchanged';
  } else {
    const id = target?.id ?? newId('cust');
    result = target ? 'updated' : 'created';
    if (Object.keys(changes).length > 0 || !target) event(id, result, changes);
    // The row, its identifier changes and its history, in one statement.
    const version = target ? target.version + 1 : 1;
    const seqs = await repo.writeCustomers(trx, storeId, [
      {
        id,
        create: !target,
        version,
        readVersion: target?.version ?? 0,
        state: next,
        now,
        addedKeys: added,
        removedKeys: removed,
        events,
      },
    ]);
    stored = {
      id,
      seq: seqs.get(id)!,
      version,
      mergedInto: null,
      createdAt: target?.createdAt ?? now,
      updatedAt: now,
      state: next,
    };
  }

  const tracked = await trackOptions(
    trx,
    fieldCache,
    storeId,
    changedStringValues(next.customFields, changes, types),
    settings.customFieldOptionsLimit,
  );

  return {
    result: {
      result,
      matchedBy,
      customer: repo.storedToCustomer(storeId, stored),
      seq: stored.seq,
      warnings: [],
    },
    declared,
    options: tracked,
  };
}

/**
 * Extended fields are custom fields whose name and type the store has enabled; any
 * other is refused by name. They are written as custom fields of that type.
 */
function withExtendedFields(raw: CustomerInput, settings: StoreSettings): CustomerInput {
  if (!raw.extendedFields) return raw;
  const { extendedFields, ...rest } = raw;
  const problems: { path: string; message: string }[] = [];
  const customFields = { ...rest.customFields };
  for (const [name, value] of Object.entries(extendedFields)) {
    const type = settings.extendedFields[name];
    const path = `/extendedFields/${name}`;
    if (type === undefined)
      problems.push({ path, message: 'is not an extended field enabled for this store' });
    else if (value !== null && coerceToFieldType(value, type) === undefined) {
      problems.push({
        path,
        message: `must be a ${type} value; got a ${describeValueType(value)}`,
      });
    } else customFields[name] = value;
  }
  if (problems.length > 0) throw fail.validation(problems);
  return { ...rest, customFields };
}

function diffChanges(before: CustomerState, after: CustomerState): Changes {
  const changes: Changes = {};
  for (const key of Object.keys(after) as (keyof CustomerState)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changes[key] = { before: before[key], after: after[key] };
    }
  }
  return changes;
}

function identityConflict(
  holders: { customerId: string; kind: IdentifierKind; key?: IdentityKey }[],
): ClienteleError {
  const details = holders.map((h) => ({
    identifier: h.kind,
    ...(h.key && h.kind === 'identifier' ? { type: h.key.kind } : {}),
    ...(h.key ? { value: h.key.value } : {}),
    customerId: h.customerId,
  }));
  return new ClienteleError(
    'identity_conflict',
    `The identifiers given belong to ${holders.length} different customers.`,
    details.map((d) => ({
      path:
        d.identifier === 'id'
          ? '/id'
          : `/${d.identifier === 'identifier' ? 'identifiers' : d.identifier}`,
      message: `${d.value ?? 'id'} belongs to ${d.customerId}`,
    })),
    { conflicts: details },
  );
}

export class RetryableConflict extends Error {
  constructor() {
    super('customer changed under the write; retrying');
    this.name = 'RetryableConflict';
  }
}

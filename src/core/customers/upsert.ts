import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import type { FieldCache } from '../fields/field-cache.js';
import { resolveFieldTypes, trackOptions } from '../fields/fields.repository.js';
import {
  changedStringValues,
  coerceToFieldType,
  describeValueType,
  type FieldType,
  looksLikeDateTime,
} from '../fields/types.js';
import { ownValue, setOwnValue } from '../records.js';
import type { StoreSettings } from '../stores/settings.js';
import { batchable, type UpsertBatcher } from './batch.js';
import type { WriteContext } from './changes.js';
import type { PhoneCheck } from './contact.js';
import type { StoredCustomer } from './customer.js';
import * as customers from './customers.repository.js';
import { keysOfInput, ownersByState } from './identity.js';
import {
  type CustomerInput,
  hasIdentifier,
  identifierRequired,
  type NormalizedInput,
  normalizeInput,
} from './input.js';
import { type Found, findsById, type PlanOptions, planUpsert, RetryableConflict } from './plan.js';
import { resultOf, type UpsertRequest, type UpsertResult } from './result.js';
import { withRetry } from './retry.js';
import { suppressedKeys } from './suppressions.repository.js';
import { findOwners, type WriteServices } from './write.repository.js';
import { writePlanned } from './write-plan.js';

export type { UpsertOutcome, UpsertRequest, UpsertResult } from './result.js';

export interface UpsertOptions extends PlanOptions {
  phoneCheck?: PhoneCheck;
  /** Whether a write with no identifier at all is refused (422 identifier_required). */
  requireIdentifier?: boolean;
}

export interface UpsertDeps {
  db: DB;
  fieldCache: FieldCache;
  settingsOf: (storeId: string) => Promise<StoreSettings>;
  /** Writes the common case together with the upserts that arrive with it. */
  batcher?: UpsertBatcher;
  /** The store's segments (whose memberships every write keeps) and suppression's hashes. */
  services: WriteServices;
}

/**
 * Create or update one customer. The rules that need no database run first; then the
 * write joins a batch (the common case) or runs alone, and either way `planUpsert` decides it.
 */
export async function upsertCustomer(
  deps: UpsertDeps,
  ctx: WriteContext,
  raw: CustomerInput,
  options: UpsertOptions = {},
): Promise<UpsertResult> {
  const request = prepareUpsert(ctx, raw, await deps.settingsOf(ctx.storeId), options);
  if (deps.batcher && batchable(request.input, deps.fieldCache.typesOf(ctx.storeId))) {
    return deps.batcher.submit(request);
  }
  return upsertAlone(deps, request);
}

/** An upsert checked by every rule that needs no database, ready to plan (or a 4xx). */
export function prepareUpsert(
  ctx: WriteContext,
  raw: CustomerInput,
  settings: StoreSettings,
  options: UpsertOptions = {},
): UpsertRequest {
  const input = normalizeInput(withExtendedFields(raw, settings), options.phoneCheck ?? 'exists');
  if ((options.requireIdentifier ?? true) && !hasIdentifier(input)) throw identifierRequired();
  const { mode, lookupBy, expectedVersions } = options;
  const planOptions: PlanOptions = {};
  if (mode !== undefined) planOptions.mode = mode;
  if (lookupBy !== undefined) planOptions.lookupBy = lookupBy;
  if (expectedVersions !== undefined) planOptions.expectedVersions = expectedVersions;
  return { ctx, input, options: planOptions, settings };
}

/** One upsert in a transaction of its own, retried: locked read, plan, write. */
export async function upsertAlone(deps: UpsertDeps, request: UpsertRequest): Promise<UpsertResult> {
  const { result, declared, tracked } = await withRetry(() =>
    deps.db
      .transaction()
      .execute((trx) => upsertInTransaction(trx, deps.fieldCache, deps.services, request)),
  );
  // Only now, with the transaction committed, is what it declared safe to remember.
  rememberWritten(deps.fieldCache, request, declared, tracked);
  return result;
}

/** What a committed upsert declared and tracked, remembered by the process's field cache. */
export function rememberWritten(
  fieldCache: FieldCache,
  request: UpsertRequest,
  declared: Map<string, FieldType>,
  tracked: { options: { field: string; value: string }[]; full: string[] },
): void {
  const { storeId } = request.ctx;
  const types = fieldCache.typesOf(storeId);
  for (const [name, type] of declared) types.set(name, type);
  for (const o of tracked.options) fieldCache.rememberOption(storeId, o.field, o.value);
  for (const field of tracked.full) {
    fieldCache.rememberFull(storeId, field, request.settings.customFieldOptionsLimit);
  }
}

/**
 * The locked read, the plan and the write of one upsert, in the caller's transaction.
 * What it declared and tracked may be remembered (rememberWritten) once that commits.
 */
export async function upsertInTransaction(
  trx: DB,
  fieldCache: FieldCache,
  services: WriteServices,
  { ctx, input, options, settings }: UpsertRequest,
) {
  const { storeId } = ctx;
  const now = new Date();
  // Customers holding these values are locked here. A value nobody holds yet is claimed
  // by the write: of two writers racing to claim it, the second fails on the unique key
  // (after the first commits), and withRetry runs it again on what the first wrote.
  const keys = keysOfInput(input);
  const { customers: held } = await findOwners(trx, storeId, keys, true);
  const found: Found = {
    owners: ownersByState(keys, held.values()),
    suppressed: await suppressedKeys(trx, services.suppression, storeId, keys),
  };
  if (findsById(input, options)) found.byId = await lockById(trx, storeId, input.id, held);

  const { types, declared } = input.customFields
    ? await resolveFieldTypes(trx, fieldCache, storeId, input.customFields, settings.extendedFields)
    : { types: new Map<string, FieldType>(), declared: new Map<string, FieldType>() };

  let plan: ReturnType<typeof planUpsert>;
  try {
    plan = planUpsert(found, input, options, { ctx, settings, fieldTypes: types, now });
  } catch (error) {
    // The declarations were read after the owners: a write that committed in between
    // may have claimed a value this one read as free, and declared a field with it. A
    // refusal is then judged again on what that write left (it may be a conflict).
    if (
      error instanceof ClienteleError &&
      error.code !== 'identity_conflict' &&
      (await ownersMoved(trx, storeId, keys, held))
    ) {
      throw new RetryableConflict();
    }
    throw error;
  }
  const warnings = declarationWarnings(input, declared);
  if (plan.outcome === 'unchanged') {
    return {
      result: resultOf(storeId, plan, plan.customer.seq, warnings),
      declared,
      tracked: { options: [], full: [] },
    };
  }
  // The row, its identifier changes, its change records and what segments derive from
  // them (the customers merged away leave their segments), with the merge if it makes one.
  const seqs = await writePlanned(
    trx,
    services,
    ctx,
    [
      {
        id: plan.customer.id,
        create: plan.readVersion === 0,
        version: plan.customer.version,
        readVersion: plan.readVersion,
        state: plan.customer.state,
        createdAt: plan.customer.createdAt,
        now,
        addedKeys: plan.addedKeys,
        removedKeys: plan.removedKeys,
        events: plan.events,
      },
    ],
    plan.absorbed,
    plan.merge,
  );
  const tracked = await trackOptions(
    trx,
    fieldCache,
    storeId,
    changedStringValues(plan.customer.state.customFields, plan.changes, types),
    settings.customFieldOptionsLimit,
  );
  const seq = seqs.get(plan.customer.id) ?? plan.customer.seq;
  return { result: resultOf(storeId, plan, seq, warnings), declared, tracked };
}

/** Whether any of the values is now held by a customer other than those read before. */
async function ownersMoved(
  trx: DB,
  storeId: string,
  keys: ReturnType<typeof keysOfInput>,
  before: ReadonlyMap<string, StoredCustomer>,
): Promise<boolean> {
  if (keys.length === 0) return false;
  const { customers: now } = await findOwners(trx, storeId, keys, false);
  return [...now.keys()].some((id) => !before.has(id));
}

/** The customer an upsert by id names, followed through a merge, locked. */
async function lockById(
  trx: DB,
  storeId: string,
  id: string,
  locked: ReadonlyMap<string, StoredCustomer>,
): Promise<StoredCustomer | undefined> {
  const named = await customers.findCustomerById(trx, storeId, id);
  if (!named) return undefined;
  const targetId = named.mergedInto ?? named.id;
  return locked.get(targetId) ?? (await customers.lockCustomers(trx, storeId, [targetId]))[0];
}

/** A first value written like a date-time but not a real one declares a STRING: say so. */
function declarationWarnings(input: NormalizedInput, declared: Map<string, FieldType>): string[] {
  const warnings: string[] = [];
  for (const [name, type] of declared) {
    const value = input.customFields?.[name];
    if (type === 'STRING' && value !== undefined && value !== null && looksLikeDateTime(value)) {
      warnings.push(
        `customFields.${name}: '${value}' is not a real date-time, so the field was declared STRING`,
      );
    }
  }
  return warnings;
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
    const type = ownValue(settings.extendedFields, name);
    const path = `/extendedFields/${name}`;
    if (type === undefined)
      problems.push({ path, message: 'is not an extended field enabled for this store' });
    else if (value !== null && coerceToFieldType(value, type) === undefined) {
      problems.push({
        path,
        message: `must be a ${type} value; got a ${describeValueType(value, type)}`,
      });
    } else setOwnValue(customFields, name, value);
  }
  if (problems.length > 0) throw fail.validation(problems);
  return { ...rest, customFields };
}

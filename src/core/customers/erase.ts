import type { DB } from '../db/database.js';
import { fail } from '../errors.js';
import type { FieldCache } from '../fields/field-cache.js';
import type { StoreSettings } from '../stores/settings.js';
import { changeRecord, type WriteContext } from './changes.js';
import type { CustomerState } from './customer.js';
import { eraseRows, forgetOptions, lockForErasure } from './erase.repository.js';
import { insertRecord } from './events.repository.js';
import { type IdentityKey, keyOf, keysOfState } from './identity.js';
import { forgetMerges } from './merges.repository.js';
import { withRetry } from './retry.js';
import { suppress } from './suppressions.repository.js';
import { type WriteServices, writeDerived } from './write.repository.js';

export interface EraseDeps {
  db: DB;
  fieldCache: FieldCache;
  settingsOf: (storeId: string) => Promise<StoreSettings>;
  services: WriteServices;
}

/**
 * Erases a customer (and the customers once merged into it), in one transaction: its
 * segments end, the STRING options only it held go, its rows and identifiers go, its
 * change records stay as empty tombstones, and every other copy of its data goes
 * (erase.repository.ts). With the store's suppression on, its identifiers are
 * suppressed in the same transaction; one change record (`erased`, the id alone) says
 * it happened. Every API's erasure comes here.
 */
export async function eraseCustomer(
  deps: EraseDeps,
  ctx: WriteContext,
  customerId: string,
): Promise<void> {
  const { storeId } = ctx;
  const settings = await deps.settingsOf(storeId);
  if (settings.suppression) deps.services.suppression.required(storeId);
  const forgotten = await withRetry(() =>
    deps.db.transaction().execute(async (trx) => {
      const locked = await lockForErasure(trx, storeId, customerId);
      if (!locked) return undefined;
      const [target] = locked;
      if (!target) return undefined;
      const ids = locked.map((c) => c.id);
      const now = new Date();
      const states = locked.map((c) => c.state);
      // It leaves every segment it was in (change records before the erasure's own), and
      // its typed custom field values go.
      await writeDerived(
        trx,
        storeId,
        deps.services.segments,
        [],
        [{ id: target.id, api: ctx.api, keyId: ctx.keyId, version: target.version, now }],
      );
      const options = await forgetOptions(trx, storeId, ids, stringValues(states));
      await eraseRows(trx, storeId, ids, personalTexts(states));
      // Its merges keep no snapshot of it (nor of the others: such a merge cannot be undone).
      await forgetMerges(trx, storeId, ids, now);
      if (settings.suppression) {
        await suppress(trx, deps.services.suppression, storeId, identityKeys(states));
      }
      await insertRecord(
        trx,
        storeId,
        changeRecord(
          ctx,
          target.id,
          'erased',
          { previousVersion: target.version, version: null },
          {},
          now,
        ),
      );
      return options;
    }),
  );
  if (!forgotten) throw fail.customerNotFound(customerId);
  for (const o of forgotten) deps.fieldCache.forgetOption(storeId, o.field, o.value);
}

/** Every identifier the customers hold, once. */
function identityKeys(states: CustomerState[]): IdentityKey[] {
  const keys = new Map<string, IdentityKey>();
  for (const state of states) for (const k of keysOfState(state)) keys.set(keyOf(k), k);
  return [...keys.values()];
}

/** Each custom field's text value (a STRING field's, tracked as an option). */
function stringValues(states: CustomerState[]): { field: string; value: string }[] {
  return states.flatMap((s) =>
    Object.entries(s.customFields).flatMap(([field, value]) =>
      typeof value === 'string' ? [{ field, value }] : [],
    ),
  );
}

/**
 * The texts that say who the person is, to find copies of them elsewhere (a stored
 * idempotent answer, an import's refused row): identifiers, names, and the strings of
 * custom fields and metadata. Short strings are left out: "a" or "12" would match
 * everyone's rows.
 */
export function personalTexts(states: CustomerState[]): string[] {
  const texts = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value.length >= 4) texts.add(value);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) add(v);
  };
  for (const s of states) {
    for (const k of keysOfState(s)) add(k.value);
    add(s.firstName);
    add(s.lastName);
    add(s.description);
    add(s.customFields);
    add(s.metadata);
  }
  return [...texts];
}

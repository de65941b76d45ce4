import type { DB } from '../db/database.js';
import type { WriteContext } from './changes.js';
import type { StoredCustomer } from './customer.js';
import * as customers from './customers.repository.js';
import type { MergeRecord } from './merge.js';
import { insertMerge } from './merges.repository.js';
import { type CustomerWrite, type WriteServices, writeCustomers } from './write.repository.js';

/**
 * The write of a planned change in the caller's transaction, for every path that may
 * merge or unmerge (an upsert alone, a merge request, an undo, removing an identifier):
 * the customers a merge absorbs become tombstones (their identifiers go, the customers
 * once merged into them follow), the merge is stored, and then the rows, identifier
 * changes, change records and what segments derive go in one statement, the absorbed
 * customers leaving their segments. Returns each written customer's seq.
 */
export async function writePlanned(
  trx: DB,
  services: WriteServices,
  ctx: WriteContext,
  writes: CustomerWrite[],
  absorbed: readonly StoredCustomer[] = [],
  merge?: MergeRecord,
): Promise<Map<string, number>> {
  const { storeId } = ctx;
  const [into] = writes;
  const now = into?.now ?? new Date();
  for (const other of absorbed) {
    await customers.removeAllIdentifiers(trx, storeId, other.id);
    const carried = await customers.markMerged(trx, storeId, other.id, into?.id ?? '', now);
    const kept = merge?.snapshot?.sources.find((s) => s.id === other.id);
    if (kept) kept.carried = carried;
  }
  if (merge) await insertMerge(trx, storeId, merge);
  return writeCustomers(
    trx,
    storeId,
    writes,
    services.segments,
    absorbed.map((other) => ({
      id: other.id,
      api: ctx.api,
      keyId: ctx.keyId,
      version: other.version,
      now,
    })),
  );
}

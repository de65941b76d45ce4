import { newId } from '../ids.js';

/**
 * The change record: one per customer a write changes, written in the write's own
 * transaction (`customer_events`). It is the customer's history, and what segments,
 * webhooks, merges and erasure read; `position` orders a store's records (see
 * docs/architecture.md, "The change record").
 */
export interface ChangeRecord {
  id: string;
  customerId: string;
  type: 'created' | 'updated' | 'merged' | 'unmerged' | 'erased';
  api: string;
  keyId: string | null;
  /** The customer's version before the write (0 for a new customer) and after it (null: erased). */
  previousVersion: number;
  version: number | null;
  changes: Record<string, unknown>;
  createdAt: Date;
}

/** Who writes: the store, and the API (native or a dialect) and key the write came through. */
export interface WriteContext {
  storeId: string;
  api: string;
  keyId: string | null;
}

/** A change record for a write by `by`, taking a customer from one version to the next. */
export function changeRecord(
  by: { api: string; keyId: string | null },
  customerId: string,
  type: ChangeRecord['type'],
  versions: { previousVersion: number; version: number | null },
  changes: Record<string, unknown>,
  createdAt: Date,
): ChangeRecord {
  return {
    id: newId('evt'),
    customerId,
    type,
    api: by.api,
    keyId: by.keyId,
    previousVersion: versions.previousVersion,
    version: versions.version,
    changes,
    createdAt,
  };
}

/**
 * The field changes a record holds. A merge's and an undo's records carry theirs under
 * `changes`, beside who went where (`mergedFrom`, `mergedInto`, `mergeId`, …).
 */
export function fieldChanges(changes: Record<string, unknown>): Record<string, unknown> {
  if (!('mergeId' in changes || 'mergedFrom' in changes || 'mergedInto' in changes)) {
    return changes;
  }
  const inner = changes.changes;
  return inner && typeof inner === 'object' ? (inner as Record<string, unknown>) : {};
}

import type { DB } from '../db/database.js';
import { fail } from '../errors.js';
import { segmentsOfCustomer } from '../segments/segments.repository.js';
import { type Customer, customerOf } from './customer.js';
import { findCustomerById, mergedInto } from './customers.repository.js';
import { fieldTypesOf, historyOf } from './export.repository.js';
import { keyOf, keysOfState } from './identity.js';
import type { SuppressionKeys } from './suppression.js';
import { suppressedKeys } from './suppressions.repository.js';

/** The format's name and version, first in every document: a reader checks it. */
export const exportFormat = 'clientele.customer-export/1';

/**
 * Everything Clientele holds about one person, as one JSON document (docs/api.md,
 * "Export of one customer"): what a data-access request needs.
 */
export interface CustomerExport {
  format: typeof exportFormat;
  exportedAt: string;
  storeId: string;
  /** The customer as the API shows it. */
  customer: Customer;
  /** Each identifier it holds, as the identity index holds it, and whether it is suppressed. */
  identifiers: { kind: string; value: string; suppressed: boolean }[];
  /** Each custom field value with the field's declared type, by name. */
  customFields: { name: string; type: string | null; value: unknown }[];
  /** The customers merged into it, and when. */
  merged: { id: string; mergedAt: string }[];
  /** The segments it is in. */
  segments: { id: string; name: string; joinedAt: string }[];
  /** Every change record of it and of the customers merged into it, oldest first. */
  history: Awaited<ReturnType<typeof historyOf>>;
}

export async function exportCustomer(
  db: DB,
  suppression: SuppressionKeys,
  storeId: string,
  customerId: string,
): Promise<CustomerExport> {
  let stored = await findCustomerById(db, storeId, customerId);
  if (stored?.mergedInto) stored = await findCustomerById(db, storeId, stored.mergedInto);
  if (!stored) throw fail.customerNotFound(customerId);
  const { id, state } = stored;
  const keys = keysOfState(state);
  const [suppressed, types, merged, segments] = await Promise.all([
    suppressedKeys(db, suppression, storeId, keys),
    fieldTypesOf(db, storeId, Object.keys(state.customFields)),
    mergedInto(db, storeId, id),
    segmentsOfCustomer(db, storeId, id),
  ]);
  const history = await historyOf(db, storeId, [id, ...merged.map((m) => m.id)]);
  const isSuppressed = new Set(suppressed.map(keyOf));
  return {
    format: exportFormat,
    exportedAt: new Date().toISOString(),
    storeId,
    customer: customerOf(storeId, stored),
    identifiers: keys.map((k) => ({ ...k, suppressed: isSuppressed.has(keyOf(k)) })),
    customFields: Object.entries(state.customFields)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => ({ name, type: types.get(name) ?? null, value })),
    merged,
    segments: segments.map((m) => ({ ...m, joinedAt: new Date(m.joinedAt).toISOString() })),
    history,
  };
}

import type { StoreSettings } from '../stores/settings.js';
import type { WriteContext } from './changes.js';
import { type Customer, customerOf, type StoredCustomer } from './customer.js';
import type { IdentifierKind, NormalizedInput } from './input.js';
import type { PlanOptions } from './plan.js';

/** An upsert's request and its answer, as the alone and the batched paths share them. */

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface UpsertResult {
  result: UpsertOutcome;
  matchedBy: IdentifierKind | null;
  customer: Customer;
  /** The customer's stable integer id within its store (for integer-id platforms). */
  seq: number;
  /** What the write did that the caller may not expect (a field declared STRING, …). */
  warnings: string[];
}

/** One upsert, normalized, with everything needed to plan it. */
export interface UpsertRequest {
  ctx: WriteContext;
  input: NormalizedInput;
  options: PlanOptions;
  settings: StoreSettings;
}

export function resultOf(
  storeId: string,
  plan: { outcome: UpsertOutcome; matchedBy: IdentifierKind | null; customer: StoredCustomer },
  seq: number,
  warnings: string[] = [],
): UpsertResult {
  return {
    result: plan.outcome,
    matchedBy: plan.matchedBy,
    customer: customerOf(storeId, plan.customer),
    seq,
    warnings,
  };
}

import { fieldChanges } from '../customers/changes.js';
import { type Customer, displayNameOf } from '../customers/customer.js';

/** Fields whose changes are recorded part by part (`location.city`, `customFields.tier`). */
const byPart = new Set(['location', 'customFields', 'metadata']);

/**
 * A customer as it was before the given changes, newest first, were made: each
 * recorded path set back to its value before. Pure; the customer is not edited. Parts
 * of custom fields and metadata that had no value before are removed.
 */
export function undoChanges(customer: Customer, newestFirst: Record<string, unknown>[]): Customer {
  if (newestFirst.length === 0) return customer;
  const c: Record<string, unknown> = {
    ...customer,
    location: { ...customer.location },
    customFields: { ...customer.customFields },
    metadata: { ...customer.metadata },
  };
  for (const changes of newestFirst) {
    for (const [path, change] of Object.entries(fieldChanges(changes))) {
      const before = (change as { before?: unknown }).before;
      const dot = path.indexOf('.');
      const head = dot < 0 ? path : path.slice(0, dot);
      if (dot > 0 && byPart.has(head)) {
        const parts = c[head] as Record<string, unknown>;
        const part = path.slice(dot + 1);
        if (head !== 'location' && (before === undefined || before === null)) delete parts[part];
        else parts[part] = before ?? null;
      } else {
        c[path] = before ?? null;
      }
    }
  }
  const undone = c as unknown as Customer;
  undone.displayName = displayNameOf(undone.firstName, undone.lastName);
  return undone;
}

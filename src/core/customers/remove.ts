import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import { changeRecord, type WriteContext } from './changes.js';
import { type Customer, customerOf, type StoredCustomer } from './customer.js';
import { findCustomerById, lockCustomers } from './customers.repository.js';
import { type IdentityKey, keyOf, keysOfState } from './identity.js';
import { RetryableConflict } from './plan.js';
import { diffByPart, withoutPath } from './provenance.js';
import { withRetry } from './retry.js';
import type { WriteServices } from './write.repository.js';
import { writePlanned } from './write-plan.js';

/**
 * The state without one identifier, and its change record; 404 when the customer does
 * not hold it. Pure.
 */
export function planRemoval(
  customer: StoredCustomer,
  key: IdentityKey,
  by: { api: string; keyId: string | null },
  now: Date,
) {
  if (!keysOfState(customer.state).some((k) => keyOf(k) === keyOf(key))) {
    const what = key.kind === 'phone' ? 'phone number' : `${key.kind} identifier`;
    throw new ClienteleError('not_found', `${customer.id} has no ${what} ${key.value}.`);
  }
  const path =
    key.kind === 'phone' ? `phoneNumbers.${key.value}` : `identifiers.${key.kind}:${key.value}`;
  const state = withoutPath(customer.state, path);
  const version = customer.version + 1;
  const event = changeRecord(
    by,
    customer.id,
    'updated',
    { previousVersion: customer.version, version },
    diffByPart(customer.state, state),
    now,
  );
  return { state, version, event };
}

/**
 * Removes one phone number or typed identifier from a customer (an id merged away names
 * the customer it went into, as reading it does), through the upsert's write: a change
 * record, a new version, segments kept.
 */
export async function removeIdentifier(
  deps: { db: DB; services: WriteServices },
  ctx: WriteContext,
  customerId: string,
  key: IdentityKey,
): Promise<Customer> {
  const { storeId } = ctx;
  return withRetry(() =>
    deps.db.transaction().execute(async (trx) => {
      const named = await findCustomerById(trx, storeId, customerId);
      if (!named) throw fail.customerNotFound(customerId);
      const [customer] = await lockCustomers(trx, storeId, [named.mergedInto ?? named.id]);
      if (!customer) throw fail.customerNotFound(customerId);
      if (customer.mergedInto) throw new RetryableConflict();
      const now = new Date();
      const plan = planRemoval(customer, key, ctx, now);
      await writePlanned(trx, deps.services, ctx, [
        {
          id: customer.id,
          create: false,
          version: plan.version,
          readVersion: customer.version,
          state: plan.state,
          createdAt: customer.createdAt,
          now,
          addedKeys: [],
          removedKeys: [key],
          events: [plan.event],
        },
      ]);
      return customerOf(storeId, {
        ...customer,
        version: plan.version,
        updatedAt: now,
        state: plan.state,
      });
    }),
  );
}

import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import { changeRecord, type WriteContext } from './changes.js';
import { normalizeEmail } from './contact.js';
import { type Customer, customerOf, type StoredCustomer } from './customer.js';
import { findCustomerById, lockCustomers } from './customers.repository.js';
import type { IdentityKey } from './identity.js';
import { RetryableConflict } from './plan.js';
import { diffByPart, pathsOf, withoutPath } from './provenance.js';
import { withRetry } from './retry.js';
import type { WriteServices } from './write.repository.js';
import { writePlanned } from './write-plan.js';

/**
 * The state without one identifier (a phone number, a typed identifier, or an email or
 * external id it answers to since a merge), and its change record; 404 when the customer
 * does not hold it so. Pure.
 */
export function planRemoval(
  customer: StoredCustomer,
  key: IdentityKey,
  by: { api: string; keyId: string | null },
  now: Date,
) {
  const merged = key.kind === 'email' || key.kind === 'externalId';
  // Named as a write would name it: an address in its compared form, an id trimmed.
  if (merged) {
    const value = key.value.trim();
    key = { kind: key.kind, value: (key.kind === 'email' && normalizeEmail(value)) || value };
  }
  const path =
    key.kind === 'phone'
      ? `phoneNumbers.${key.value}`
      : `${merged ? 'mergedIdentifiers' : 'identifiers'}.${key.kind}:${key.value}`;
  if (!pathsOf(customer.state).has(path)) {
    const what =
      key.kind === 'phone'
        ? 'phone number'
        : merged
          ? `merged ${key.kind}`
          : `${key.kind} identifier`;
    throw new ClienteleError('not_found', `${customer.id} has no ${what} ${key.value}.`);
  }
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
  return { state, version, event, key };
}

/**
 * Removes one phone number, typed identifier or merged identifier from a customer (an id merged away names
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
          removedKeys: [plan.key],
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

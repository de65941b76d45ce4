import type { DB } from '../db/database.js';
import { fail } from '../errors.js';
import { decodeCursor, nextCursorOf, type Page, type PageQuery } from '../paging.js';
import type { ChangeRecord } from './changes.js';
import { normalizeEmail, normalizePhone } from './contact.js';
import type { Customer } from './customer.js';
import { customerOf } from './customer.js';
import * as repo from './customers.repository.js';
import { listEvents } from './events.repository.js';
import type { IdentityKey } from './identity.js';

export type { Page, PageQuery } from '../paging.js';

/** A customer by id; an id merged into another customer reads as that customer. */
export async function getCustomer(db: DB, storeId: string, id: string): Promise<Customer> {
  let stored = await repo.findCustomerById(db, storeId, id);
  if (stored?.mergedInto) stored = await repo.findCustomerById(db, storeId, stored.mergedInto);
  if (!stored) throw fail.customerNotFound(id);
  return customerOf(storeId, stored);
}

export type Lookup =
  | { email: string }
  | { phone: string }
  | { externalId: string }
  | { identifier: { type: string; value: string } };

/**
 * Why a look-up's value can find nobody, whatever the store holds: an email or phone
 * number no customer can have, as the upsert would refuse it. Undefined when it may.
 */
export function lookupProblem(lookup: Lookup): string | undefined {
  if ('email' in lookup && normalizeEmail(lookup.email) === undefined) {
    return 'must be an email address, such as ann@example.com';
  }
  if ('phone' in lookup && normalizePhone(lookup.phone.trim(), 'e164') === undefined) {
    return 'must be a phone number in E.164 form: + then 8 to 15 digits, such as +14155550100';
  }
  return undefined;
}

export function lookupKey(lookup: Lookup): IdentityKey {
  if ('email' in lookup)
    return { kind: 'email', value: normalizeEmail(lookup.email) ?? lookup.email };
  if ('phone' in lookup) {
    const phone = lookup.phone.trim();
    return { kind: 'phone', value: normalizePhone(phone, 'e164') ?? phone };
  }
  if ('externalId' in lookup) return { kind: 'externalId', value: lookup.externalId.trim() };
  return { kind: lookup.identifier.type, value: lookup.identifier.value };
}

/**
 * The customer a look-up finds. A value no customer can have is refused (400 naming
 * `/query/email` or `/query/phone`, which each dialect renames as its platform does),
 * whichever API asks, rather than answered "not found".
 */
export async function findCustomer(db: DB, storeId: string, lookup: Lookup): Promise<Customer> {
  const problem = lookupProblem(lookup);
  if (problem) {
    const name = 'email' in lookup ? 'email' : 'phone';
    // An unencoded + in a query string arrives as a space.
    const plus = 'phone' in lookup && /^ \d/.test(lookup.phone);
    throw fail.field(`/query/${name}`, plus ? `${problem} (send the + as %2B)` : problem);
  }
  const stored = await repo.findCustomerByKey(db, storeId, lookupKey(lookup));
  if (!stored) throw fail.customerNotFound();
  return customerOf(storeId, stored);
}

export async function listCustomers(
  db: DB,
  storeId: string,
  page: PageQuery,
): Promise<Page<Customer>> {
  const before = decodeCursor(page.cursor, 'cust');
  const rows = await repo.listCustomers(db, storeId, page.limit + 1, before);
  const data = rows.slice(0, page.limit).map((s) => customerOf(storeId, s));
  return { data, nextCursor: nextCursorOf(rows.length > page.limit, data) };
}

/** A change record as the history shows it. */
export type CustomerEvent = Omit<ChangeRecord, 'createdAt'> & { createdAt: string };

export async function listCustomerEvents(
  db: DB,
  storeId: string,
  customerId: string,
  page: PageQuery,
  options: { merged: boolean } = { merged: false },
): Promise<Page<CustomerEvent>> {
  const customer = await repo.findCustomerById(db, storeId, customerId);
  if (!customer) throw fail.customerNotFound(customerId);
  const before = decodeCursor(page.cursor, 'evt');
  // Those merged into it point at it directly (one hop always suffices: markMerged).
  const ids = options.merged
    ? [customerId, ...(await repo.mergedInto(db, storeId, customerId)).map((m) => m.id)]
    : [customerId];
  const rows = await listEvents(db, storeId, ids, page.limit + 1, before);
  const data = rows
    .slice(0, page.limit)
    .map(({ position: _position, ...e }) => ({ ...e, createdAt: e.createdAt.toISOString() }));
  return { data, nextCursor: nextCursorOf(rows.length > page.limit, data) };
}

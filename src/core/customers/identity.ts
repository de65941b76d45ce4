import type { CustomerState, StoredCustomer } from './customer.js';
import { type IdentifierKind, identifierKinds, type NormalizedInput } from './input.js';

/**
 * One identifier value as the identity index holds it. `kind` is `externalId`, `email`,
 * `phone`, or a typed identifier's type (`wechat`, `fbId`, …; the first three are
 * reserved so the two never collide).
 */
export interface IdentityKey {
  kind: string;
  value: string;
}

const firstClass = new Set(['externalId', 'email', 'phone']);

export function keyOf(k: IdentityKey): string {
  return `${k.kind}\u0000${k.value}`;
}

/** The identifiers a write names, strongest first. */
export function keysOfInput(input: NormalizedInput): IdentityKey[] {
  const keys: IdentityKey[] = [];
  if (input.externalId) keys.push({ kind: 'externalId', value: input.externalId });
  if (input.email) keys.push({ kind: 'email', value: input.email });
  for (const phone of input.phoneNumbers) keys.push({ kind: 'phone', value: phone });
  for (const identifier of input.identifiers ?? [])
    keys.push({ kind: identifier.type, value: identifier.value });
  return keys;
}

/** Every identifier a customer in this state holds, those it answers to since a merge included. */
export function keysOfState(state: CustomerState): IdentityKey[] {
  const keys: IdentityKey[] = [];
  if (state.externalId) keys.push({ kind: 'externalId', value: state.externalId });
  if (state.email) keys.push({ kind: 'email', value: state.email });
  for (const phone of state.phoneNumbers) keys.push({ kind: 'phone', value: phone });
  for (const identifier of state.identifiers)
    keys.push({ kind: identifier.type, value: identifier.value });
  for (const merged of state.mergedIdentifiers)
    keys.push({ kind: merged.type, value: merged.value });
  return keys;
}

/** The kind of identifier a key is, as `matchedBy` names it. */
export function kindOf(key: IdentityKey): IdentifierKind {
  return firstClass.has(key.kind) ? (key.kind as IdentifierKind) : 'identifier';
}

/**
 * Which of these customers holds each key, by the customers' own states. After a locked
 * read that had to wait for a customer's lock, the customer's row is the one its writer
 * committed, while the identifier rows read beside it are from before: a value that
 * writer gave the customer (or took from it) is seen in its state, not in the rows. A
 * value claimed meanwhile by a customer not among these still fails on the unique key
 * when written, and the write is retried.
 */
export function ownersByState(
  keys: IdentityKey[],
  customers: Iterable<StoredCustomer>,
): { key: IdentityKey; customer: StoredCustomer }[] {
  const holder = new Map<string, StoredCustomer>();
  for (const customer of customers) {
    // A customer merged away holds nothing (its identifier rows went with the merge).
    if (customer.mergedInto !== null) continue;
    for (const k of keysOfState(customer.state)) holder.set(keyOf(k), customer);
  }
  const owned = keys.flatMap((key) => {
    const customer = holder.get(keyOf(key));
    return customer ? [{ key, customer }] : [];
  });
  // In customer id order, as the locked read returns them (a stable sort keeps each
  // customer's keys strongest first).
  return owned.sort((a, b) => a.customer.id.localeCompare(b.customer.id));
}

export function strongerKind(a: IdentifierKind, b: IdentifierKind): IdentifierKind {
  return identifierKinds.indexOf(a) <= identifierKinds.indexOf(b) ? a : b;
}

/** Identifier rows to add and remove when a customer moves from one state to another. */
export function diffKeys(
  before: CustomerState | undefined,
  after: CustomerState,
): { added: IdentityKey[]; removed: IdentityKey[] } {
  const old = new Map((before ? keysOfState(before) : []).map((k) => [keyOf(k), k]));
  const now = new Map(keysOfState(after).map((k) => [keyOf(k), k]));
  return {
    added: [...now.entries()].filter(([k]) => !old.has(k)).map(([, v]) => v),
    removed: [...old.entries()].filter(([k]) => !now.has(k)).map(([, v]) => v),
  };
}

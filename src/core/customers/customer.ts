import type { Static } from 'typebox';
import type * as schema from './schema.js';

export const locationParts = [
  'street1',
  'street2',
  'city',
  'region',
  'regionCode',
  'postalCode',
  'country',
  'countryCode',
  'latitude',
  'longitude',
  'timezone',
] as const;
export type LocationPart = (typeof locationParts)[number];
export type Location = Static<typeof schema.StoredLocation>;
export type TypedIdentifier = Static<typeof schema.TypedIdentifier>;
export type MergedIdentifier = Static<typeof schema.MergedIdentifier>;
export type Channel = Static<typeof schema.Channel>;
export type LoyaltyEnrollment = Static<typeof schema.LoyaltyEnrollment>;
export type Loyalty = Static<typeof schema.Loyalty>;

/** The customer object of the native API (schema.ts declares it). */
export type Customer = Static<typeof schema.Customer>;

/** Everything about a customer that a write can change. */
export type CustomerState = Omit<
  Customer,
  'id' | 'storeId' | 'displayName' | 'version' | 'createdAt' | 'updatedAt'
>;

/** A customer as it is stored: its state and what the store keeps about it. */
export interface StoredCustomer {
  id: string;
  /** Its stable integer id within the store (for integer-id platforms). */
  seq: number;
  version: number;
  mergedInto: string | null;
  createdAt: Date;
  updatedAt: Date;
  state: CustomerState;
}

/** Written out (not built from locationParts): every new customer and every read makes one. */
export function emptyLocation(): Location {
  return {
    street1: null,
    street2: null,
    city: null,
    region: null,
    regionCode: null,
    postalCode: null,
    country: null,
    countryCode: null,
    latitude: null,
    longitude: null,
    timezone: null,
  };
}

export function emptyState(): CustomerState {
  return {
    externalId: null,
    email: null,
    phoneNumbers: [],
    firstName: null,
    lastName: null,
    birthdate: null,
    description: null,
    active: true,
    location: emptyLocation(),
    identifiers: [],
    mergedIdentifiers: [],
    customFields: {},
    metadata: {},
    channels: [],
    loyalty: null,
  };
}

/** "Bob Smith" → first name Bob, last name Smith; displayNameOf gives it back whole. */
export function splitFullName(name: string | null): {
  firstName: string | null;
  lastName: string | null;
} {
  const words = (name ?? '').trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  if (first === undefined) return { firstName: null, lastName: null };
  return { firstName: first, lastName: rest.length > 0 ? rest.join(' ') : null };
}

export function displayNameOf(firstName: string | null, lastName: string | null): string | null {
  const name = [firstName, lastName].filter((p) => p !== null && p.trim() !== '').join(' ');
  return name === '' ? null : name;
}

/** The native API's customer object for a stored customer. */
export function customerOf(storeId: string, stored: StoredCustomer): Customer {
  return toCustomer(
    {
      id: stored.id,
      storeId,
      version: stored.version,
      createdAt: stored.createdAt.toISOString(),
      updatedAt: stored.updatedAt.toISOString(),
    },
    stored.state,
  );
}

export function toCustomer(
  meta: { id: string; storeId: string; version: number; createdAt: string; updatedAt: string },
  state: CustomerState,
): Customer {
  return {
    id: meta.id,
    storeId: meta.storeId,
    externalId: state.externalId,
    email: state.email,
    phoneNumbers: state.phoneNumbers,
    firstName: state.firstName,
    lastName: state.lastName,
    displayName: displayNameOf(state.firstName, state.lastName),
    birthdate: state.birthdate,
    description: state.description,
    active: state.active,
    location: state.location,
    identifiers: state.identifiers,
    mergedIdentifiers: state.mergedIdentifiers,
    customFields: state.customFields,
    metadata: state.metadata,
    channels: state.channels,
    loyalty: state.loyalty,
    version: meta.version,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
  };
}

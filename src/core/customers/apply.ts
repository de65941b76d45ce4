import { ClienteleError, type FieldProblem, fail } from '../errors.js';
import {
  coerceToFieldType,
  describeValueType,
  type FieldType,
  type FieldValue,
} from '../fields/types.js';
import { ownValue, setOwnValue } from '../records.js';
import type { Channel, CustomerState, Loyalty, LoyaltyEnrollment } from './customer.js';
import type { NormalizedInput } from './input.js';
import { limits } from './limits.js';

/** A field's value before and after a write, keyed by its path (`email`, `location.city`, `customFields.tier`). */
export type Changes = Record<string, { before: unknown; after: unknown }>;

export const scalarFields = [
  'externalId',
  'email',
  'firstName',
  'lastName',
  'birthdate',
  'description',
  'active',
] as const;

/**
 * The state a write leaves a customer in, and what it changed. Pure: the caller has
 * already resolved the customer and knows the declared type of every custom field
 * the input names.
 */
export function applyInput(
  current: CustomerState,
  input: NormalizedInput,
  fieldTypes: ReadonlyMap<string, FieldType>,
): { next: CustomerState; changes: Changes } {
  const next = copyState(current);
  const changes: Changes = {};
  const note = (path: string, before: unknown, after: unknown) => {
    if (!sameValue(before, after)) changes[path] = { before, after };
  };

  // Named reads, not input[field] in a loop: a keyed read of a property most inputs lack
  // is one of V8's slowest paths, and this runs for every upsert.
  const scalars: Record<(typeof scalarFields)[number], unknown> = {
    externalId: input.externalId,
    email: input.email,
    firstName: input.firstName,
    lastName: input.lastName,
    birthdate: input.birthdate,
    description: input.description,
    active: input.active,
  };
  for (const field of scalarFields) {
    const value = scalars[field];
    if (value === undefined) continue;
    if (current.mergedIdentifiers.length > 0 && (field === 'email' || field === 'externalId')) {
      const held = next.mergedIdentifiers.filter((m) => m.type !== field || m.value !== value);
      if (held.length < next.mergedIdentifiers.length) {
        // A value it answers to since a merge is its own already: the field keeps its
        // value, or, empty, takes this one back from the merged identifiers.
        if (current[field] !== null) continue;
        next.mergedIdentifiers = held;
        note('mergedIdentifiers', current.mergedIdentifiers, held);
      }
    }
    note(field, current[field], value);
    (next as unknown as Record<string, unknown>)[field] = value;
  }

  if (input.phoneNumbers.length > 0) {
    for (const phone of input.phoneNumbers) {
      if (!next.phoneNumbers.includes(phone)) next.phoneNumbers.push(phone);
    }
    // Past the limit only by adding: a customer over it already (merged before merges
    // kept to the limits) still takes writes that name its own numbers.
    if (
      next.phoneNumbers.length > limits.phoneNumbersPerCustomer &&
      next.phoneNumbers.length > current.phoneNumbers.length
    ) {
      throw fail.limit(
        '/phoneNumbers',
        `a customer has at most ${limits.phoneNumbersPerCustomer} phone numbers`,
      );
    }
    note('phoneNumbers', current.phoneNumbers, next.phoneNumbers);
  }

  if (input.location === null) {
    for (const part of Object.keys(next.location) as (keyof typeof next.location)[]) {
      (next.location as Record<string, unknown>)[part] = null;
    }
  } else if (input.location) {
    Object.assign(next.location, input.location);
  }
  for (const part of Object.keys(next.location) as (keyof typeof next.location)[]) {
    note(`location.${part}`, current.location[part], next.location[part]);
  }

  if (input.identifiers) {
    for (const identifier of input.identifiers) {
      if (
        !next.identifiers.some((i) => i.type === identifier.type && i.value === identifier.value)
      ) {
        next.identifiers.push(identifier);
      }
    }
    if (
      next.identifiers.length > limits.identifiersPerCustomer &&
      next.identifiers.length > current.identifiers.length
    ) {
      throw fail.limit(
        '/identifiers',
        `a customer has at most ${limits.identifiersPerCustomer} typed identifiers`,
      );
    }
    note('identifiers', current.identifiers, next.identifiers);
  }

  if (input.customFields) {
    next.customFields = applyCustomFields(
      current.customFields,
      input.customFields,
      fieldTypes,
      note,
    );
  }

  if (input.metadata) {
    for (const [key, value] of Object.entries(input.metadata)) {
      if (value === null) delete next.metadata[key];
      else setOwnValue(next.metadata, key, value);
      note(
        `metadata.${key}`,
        ownValue(current.metadata, key) ?? null,
        ownValue(next.metadata, key) ?? null,
      );
    }
    if (JSON.stringify(next.metadata).length > limits.metadataBytes) {
      throw fail.limit('/metadata', `metadata must be at most ${limits.metadataBytes / 1024} KiB`);
    }
  }

  if (input.channels) {
    next.channels = mergeChannels(current.channels, input.channels);
    note('channels', current.channels, next.channels);
  }

  if (input.loyalty) {
    next.loyalty = applyLoyalty(current.loyalty, input.loyalty);
    note('loyalty', current.loyalty, next.loyalty);
  }

  return { next, changes };
}

/**
 * A copy of a state that applyInput may change in place: the lists it appends to, the
 * location it assigns into and the metadata whose keys it sets. Custom fields, channels
 * and loyalty are replaced whole when they change, never edited, so they are shared;
 * values inside (metadata values, identifiers) are never edited either.
 */
function copyState(state: CustomerState): CustomerState {
  return {
    ...state,
    phoneNumbers: [...state.phoneNumbers],
    location: { ...state.location },
    identifiers: [...state.identifiers],
    metadata: { ...state.metadata },
  };
}

function applyCustomFields(
  current: Record<string, FieldValue>,
  values: Record<string, FieldValue | null>,
  fieldTypes: ReadonlyMap<string, FieldType>,
  note: (path: string, before: unknown, after: unknown) => void,
): Record<string, FieldValue> {
  const next = { ...current };
  const mismatches: FieldProblem[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (value === null) {
      delete next[name];
    } else {
      const type = fieldTypes.get(name);
      if (type === undefined) throw new Error(`custom field ${name} has no declaration`);
      const stored = coerceToFieldType(value, type);
      if (stored === undefined) {
        mismatches.push({
          path: `/customFields/${name}`,
          message: `field '${name}' is ${type}; got a ${describeValueType(value, type)}`,
        });
        continue;
      }
      setOwnValue(next, name, stored);
    }
    note(`customFields.${name}`, ownValue(current, name) ?? null, ownValue(next, name) ?? null);
  }
  if (mismatches.length > 0) {
    throw new ClienteleError(
      'custom_field_type_mismatch',
      mismatches.map((m) => m.message).join('; '),
      mismatches,
    );
  }
  return next;
}

/** Channels are keyed by type and value: a known one has its flags updated, a new one is added. */
export function mergeChannels(
  current: Channel[],
  incoming: NormalizedInput['channels'] & {},
): Channel[] {
  const next = current.map((c) => ({ ...c }));
  for (const input of incoming) {
    let channel = next.find((c) => c.type === input.type && c.value === input.value);
    if (!channel) {
      channel = {
        type: input.type,
        value: input.value,
        primary: false,
        verified: false,
        subscribed: true,
      };
      next.push(channel);
    }
    if (input.verified !== undefined) channel.verified = input.verified;
    if (input.subscribed !== undefined) channel.subscribed = input.subscribed;
    if (input.meta !== undefined) channel.meta = { ...channel.meta, ...input.meta };
    if (input.primary === true) {
      for (const other of next) if (other.type === channel.type) other.primary = other === channel;
    } else if (input.primary === false) channel.primary = false;
  }
  return next;
}

/** Loyalty only moves forward: no downgrade from `loyalty`, no second enrolment in a program. */
export function applyLoyalty(
  current: Loyalty | null,
  input: NonNullable<NormalizedInput['loyalty']>,
): Loyalty {
  const next: Loyalty = current
    ? { status: current.status, enrollments: current.enrollments.map((e) => ({ ...e })) }
    : { status: 'non_loyalty', enrollments: [] };
  if (input.status !== undefined) {
    if (current?.status === 'loyalty' && input.status === 'non_loyalty') {
      throw new ClienteleError(
        'loyalty_rule_violated',
        'A loyalty customer cannot become non_loyalty.',
        [{ path: '/loyalty/status', message: 'cannot go from loyalty back to non_loyalty' }],
      );
    }
    next.status = input.status;
  }
  for (const [i, e] of (input.enrollments ?? []).entries()) {
    if (next.enrollments.some((x) => x.programId === e.programId)) {
      throw new ClienteleError(
        'loyalty_rule_violated',
        `Already enrolled in program ${e.programId}.`,
        [
          {
            path: `/loyalty/enrollments/${i}/programId`,
            message: 'the customer is already enrolled in this program',
          },
        ],
      );
    }
    const enrollment: LoyaltyEnrollment = {
      programId: e.programId,
      tierNumber: e.tierNumber ?? null,
      points: e.points ?? 0,
      tierExpiresAt: e.tierExpiresAt ?? null,
      pointsExpireAt: e.pointsExpireAt ?? null,
    };
    next.enrollments.push(enrollment);
  }
  return next;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Two values of which one is not an object (or is null) and that are not === differ.
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

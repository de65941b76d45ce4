import type { Static } from 'typebox';
import { ClienteleError, type FieldProblem, fail } from '../errors.js';
import { FIELD_NAME } from '../fields/types.js';
import { checkEmail, isBirthdate, isTimeZone, normalizePhone, type PhoneCheck } from './contact.js';
import type { Location, LocationPart, TypedIdentifier } from './customer.js';
import { locationParts } from './customer.js';
import { limits } from './limits.js';
import type * as schema from './schema.js';

/**
 * What a write may carry, in the native API's terms (schema.ts declares it). Every
 * dialect translates its platform's body into this. A field left out is left as it
 * is; null clears it.
 */
export type CustomerInput = Static<typeof schema.CustomerWrite>;

/** The input after every rule that needs no database has passed. */
export interface NormalizedInput
  extends Omit<CustomerInput, 'phoneNumber' | 'phoneNumbers' | 'location'> {
  phoneNumbers: string[];
  location?: Partial<Location> | null;
}

/**
 * Identifier kinds, strongest first: the strongest that matched a customer names the
 * match (`identifier` is any typed identifier).
 */
export const identifierKinds = ['id', 'externalId', 'email', 'phone', 'identifier'] as const;
export type IdentifierKind = (typeof identifierKinds)[number];

/** Typed identifier types that would shadow a first-class identifier. */
const reservedTypes = new Set(['id', 'externalId', 'email', 'phone', 'phoneNumber']);
const TYPE_NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;

export function normalizeInput(input: CustomerInput, phoneCheck: PhoneCheck): NormalizedInput {
  const problems: FieldProblem[] = [];
  // Rest, not `delete`: deleting a property turns the object into a slow dictionary.
  const { phoneNumber: _phoneNumber, ...rest } = input;
  const out: NormalizedInput = { ...rest, phoneNumbers: [] } as NormalizedInput;

  if (typeof input.email === 'string') {
    const checked = checkEmail(input.email);
    if ('problem' in checked) problems.push({ path: '/email', message: checked.problem });
    else out.email = checked.email;
  }
  if (typeof input.externalId === 'string') {
    const externalId = input.externalId.trim();
    if (externalId === '') problems.push({ path: '/externalId', message: 'must not be empty' });
    out.externalId = externalId;
  }

  const phones: [string, string][] = [];
  if (input.phoneNumber !== undefined) phones.push(['/phoneNumber', input.phoneNumber]);
  for (const [i, p] of (input.phoneNumbers ?? []).entries()) phones.push([`/phoneNumbers/${i}`, p]);
  for (const [path, raw] of phones) {
    const phone = normalizePhone(raw, phoneCheck);
    if (phone === undefined) {
      problems.push({
        path,
        message:
          phoneCheck === 'exists'
            ? 'must be a phone number that exists, written in E.164 (+12345678900)'
            : 'must be in E.164 form: + then 8 to 15 digits',
      });
    } else if (!out.phoneNumbers.includes(phone)) out.phoneNumbers.push(phone);
  }

  if (typeof input.birthdate === 'string' && !isBirthdate(input.birthdate)) {
    problems.push({ path: '/birthdate', message: 'must be a real date written YYYY-MM-DD' });
  }

  if (input.location) out.location = normalizeLocation(input.location, problems);

  if (input.identifiers) {
    const seen = new Set<string>();
    const identifiers: TypedIdentifier[] = [];
    out.identifiers = identifiers;
    input.identifiers.forEach((identifier, i) => {
      if (!TYPE_NAME.test(identifier.type) || identifier.type.length > 64) {
        problems.push({
          path: `/identifiers/${i}/type`,
          message: 'must match [a-zA-Z][a-zA-Z0-9_]* (at most 64)',
        });
      } else if (reservedTypes.has(identifier.type)) {
        problems.push({
          path: `/identifiers/${i}/type`,
          message: `'${identifier.type}' is a field of its own; set it there`,
        });
      } else if (identifier.value.trim() === '') {
        problems.push({ path: `/identifiers/${i}/value`, message: 'must not be empty' });
      } else {
        const key = `${identifier.type}\u0000${identifier.value}`;
        if (!seen.has(key)) identifiers.push({ type: identifier.type, value: identifier.value });
        seen.add(key);
      }
    });
  }

  if (input.customFields) {
    const names = Object.keys(input.customFields);
    if (names.length > limits.customFieldsPerRequest) {
      throw fail.limit(
        '/customFields',
        `at most ${limits.customFieldsPerRequest} custom fields per request`,
      );
    }
    for (const name of names) {
      const value = input.customFields[name];
      if (!FIELD_NAME.test(name)) {
        problems.push({
          path: `/customFields/${name}`,
          message:
            'name must be 1 to 64 characters: a letter or _ first, then letters, digits or _',
        });
      } else if (typeof value === 'number' && !Number.isFinite(value)) {
        problems.push({ path: `/customFields/${name}`, message: 'must be a finite number' });
      } else if (typeof value === 'string' && value.length > limits.stringLength) {
        problems.push({
          path: `/customFields/${name}`,
          message: `must be at most ${limits.stringLength} characters`,
        });
      }
    }
  }

  if (input.metadata !== undefined) {
    if (JSON.stringify(input.metadata).length > limits.metadataBytes) {
      throw fail.limit('/metadata', `metadata must be at most ${limits.metadataBytes / 1024} KiB`);
    }
  }

  const enrollments = input.loyalty?.enrollments ?? [];
  enrollments.forEach((e, i) => {
    const programIds = enrollments.slice(0, i).map((x) => x.programId);
    if (programIds.includes(e.programId)) {
      problems.push({
        path: `/loyalty/enrollments/${i}/programId`,
        message: 'program listed twice',
      });
    }
  });

  if (problems.length > 0) throw fail.validation(problems);
  return out;
}

function normalizeLocation(
  location: Partial<Record<LocationPart, string | number | null>>,
  problems: FieldProblem[],
): Partial<Location> {
  const out: Partial<Record<LocationPart, string | number | null>> = {};
  for (const part of locationParts) {
    if (!(part in location)) continue;
    const value = location[part];
    const path = `/location/${part}`;
    if (value === null || value === undefined) {
      out[part] = null;
    } else if (part === 'latitude' || part === 'longitude') {
      const max = part === 'latitude' ? 90 : 180;
      if (typeof value !== 'number' || value < -max || value > max) {
        problems.push({ path, message: `must be a number from -${max} to ${max}` });
      } else out[part] = value;
    } else if (typeof value !== 'string') {
      problems.push({ path, message: 'must be a string' });
    } else if (part === 'countryCode') {
      if (!/^[A-Za-z]{2}$/.test(value))
        problems.push({ path, message: 'must be an ISO 3166-1 alpha-2 code' });
      else out[part] = value.toUpperCase();
    } else if (part === 'timezone' && !isTimeZone(value)) {
      problems.push({ path, message: 'must be an IANA time zone such as America/New_York' });
    } else {
      out[part] = value;
    }
  }
  return out as Partial<Location>;
}

/** Whether a write carries anything that can identify a customer. */
export function hasIdentifier(input: NormalizedInput): boolean {
  return Boolean(
    input.id ||
      input.externalId ||
      input.email ||
      input.phoneNumbers.length > 0 ||
      (input.identifiers && input.identifiers.length > 0),
  );
}

export function identifierRequired(): ClienteleError {
  return new ClienteleError(
    'identifier_required',
    'Give at least one identifier: id, externalId, email, phoneNumber(s) or identifiers.',
    [{ path: '', message: 'at least one identifier is required' }],
  );
}

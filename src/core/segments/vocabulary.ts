import { locationParts } from '../customers/customer.js';
import type { FieldType } from '../fields/types.js';

/**
 * The words of the filter language a client needs to write one: the operators of each
 * type and the profile fields with their types. No SQL and nothing of the server, so
 * the console's segment builder reads the same lists the server checks against
 * (fields.ts defines how each field is read; test/unit/segment-vocabulary.test.ts holds
 * the two to the same names and types).
 */

/** The operators of each type, as a client writes them. */
export const operators: Record<FieldType, readonly string[]> = {
  STRING: [
    'eq',
    'neq',
    'in',
    'not_in',
    'contains',
    'not_contains',
    'starts_with',
    'ends_with',
    'is_set',
    'is_not_set',
  ],
  NUMBER: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between', 'is_set', 'is_not_set'],
  BOOLEAN: ['eq', 'is_set', 'is_not_set'],
  DATE: [
    'before',
    'after',
    'between',
    'in_the_last',
    'more_than_ago',
    'in_the_next',
    'anniversary_in_the_next',
    'is_set',
    'is_not_set',
  ],
};

/** The operators whose value is `{amount, unit}`, and the units each takes. */
export const relativeOperators: Record<string, readonly string[]> = {
  in_the_last: ['hour', 'day', 'week', 'month'],
  more_than_ago: ['hour', 'day', 'week', 'month'],
  in_the_next: ['hour', 'day', 'week', 'month'],
  anniversary_in_the_next: ['day', 'week', 'month'],
};

/** The profile fields a filter can name, with their types (docs/api.md, "Segments"). */
export const profileFieldTypes: Readonly<Record<string, FieldType>> = {
  email: 'STRING',
  emailDomain: 'STRING',
  firstName: 'STRING',
  lastName: 'STRING',
  externalId: 'STRING',
  active: 'BOOLEAN',
  birthdate: 'DATE',
  createdAt: 'DATE',
  updatedAt: 'DATE',
  phoneNumbers: 'STRING',
  'identifiers.type': 'STRING',
  'channels.type': 'STRING',
  'channels.subscribedType': 'STRING',
  'loyalty.status': 'STRING',
  'loyalty.tierNumber': 'NUMBER',
  'loyalty.points': 'NUMBER',
  ...Object.fromEntries(
    locationParts.map((part) => [
      `location.${part}`,
      part === 'latitude' || part === 'longitude' ? 'NUMBER' : 'STRING',
    ]),
  ),
};

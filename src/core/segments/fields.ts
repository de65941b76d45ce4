import { type RawBuilder, sql } from 'kysely';
import { type CustomerState, locationParts } from '../customers/customer.js';
import type { FieldType } from '../fields/types.js';
import { ownValue } from '../records.js';

/**
 * What a segment filter can name, and how each is read: in memory from a stored customer
 * (the write-time predicate) and in SQL over `customers AS c` (preview, build,
 * re-evaluation). A field gives a list of values: none when it is unset, one for a
 * single-valued field, any number for a list (phone numbers, channels, enrolments). A
 * condition holds when some value passes its test; the two readers of one field live
 * side by side here so that they cannot drift apart.
 */

/** A customer as a filter sees it. */
export interface FilterSubject {
  state: CustomerState;
  createdAt: Date;
  updatedAt: Date;
}

export type Source =
  /** One SQL expression over `c`, NULL when unset. */
  | { kind: 'scalar'; sql: RawBuilder<unknown> }
  /** Elements of a list: the SQL yields a set of rows with the value as `x`. */
  | { kind: 'list'; sql: RawBuilder<unknown> }
  /** A custom field: its typed row in customer_values (migration 0014). */
  | { kind: 'custom'; name: string };

export interface FieldRef {
  /** As written in the filter (`customFields.tier`). */
  name: string;
  type: FieldType;
  source: Source;
  /** Every value the field has on this customer (none: unset). DATE values as epoch ms. */
  read(subject: FilterSubject): (string | number | boolean)[];
}

const one = <T>(v: T | null | undefined): T[] => (v === null || v === undefined ? [] : [v]);
const str = (v: unknown): string[] => (typeof v === 'string' ? [v] : []);
const num = (v: unknown): number[] => (typeof v === 'number' && Number.isFinite(v) ? [v] : []);

/** `YYYY-MM-DD` (a birthdate) as the epoch ms of its midnight in UTC. */
export function dayToMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

function scalar(
  type: FieldType,
  expression: RawBuilder<unknown>,
  read: FieldRef['read'],
): Omit<FieldRef, 'name'> {
  return { type, source: { kind: 'scalar', sql: expression }, read };
}

function list(
  type: FieldType,
  elements: RawBuilder<unknown>,
  read: FieldRef['read'],
): Omit<FieldRef, 'name'> {
  return { type, source: { kind: 'list', sql: elements }, read };
}

/** Channels and enrolments as JSON arrays, each element as `e`. */
const channels = sql`jsonb_array_elements(c.channels) AS e`;
const enrolments = sql`jsonb_array_elements(coalesce(c.loyalty -> 'enrollments', '[]'::jsonb)) AS e`;

const profile: Record<string, Omit<FieldRef, 'name'>> = {
  email: scalar('STRING', sql`c.email`, (s) => one(s.state.email)),
  emailDomain: scalar(
    'STRING',
    sql`nullif(split_part(c.email, '@', 2), '')`,
    // split_part takes what follows the first @ (up to a second one): so does split.
    (s) => {
      const domain = s.state.email?.split('@')[1];
      return domain ? [domain] : [];
    },
  ),
  firstName: scalar('STRING', sql`c.first_name`, (s) => one(s.state.firstName)),
  lastName: scalar('STRING', sql`c.last_name`, (s) => one(s.state.lastName)),
  externalId: scalar('STRING', sql`c.external_id`, (s) => one(s.state.externalId)),
  active: scalar('BOOLEAN', sql`c.active`, (s) => [s.state.active]),
  birthdate: scalar('DATE', sql`(c.birthdate::timestamp AT TIME ZONE 'UTC')`, (s) =>
    s.state.birthdate ? [dayToMs(s.state.birthdate)] : [],
  ),
  createdAt: scalar('DATE', sql`c.created_at`, (s) => [s.createdAt.getTime()]),
  updatedAt: scalar('DATE', sql`c.updated_at`, (s) => [s.updatedAt.getTime()]),
  phoneNumbers: list(
    'STRING',
    sql`(SELECT x FROM unnest(c.phone_numbers) AS x) AS p`,
    (s) => s.state.phoneNumbers,
  ),
  'identifiers.type': list(
    'STRING',
    sql`(SELECT e ->> 'type' AS x FROM jsonb_array_elements(c.identifiers) AS e) AS p`,
    (s) => s.state.identifiers.map((i) => i.type),
  ),
  'channels.type': list('STRING', sql`(SELECT e ->> 'type' AS x FROM ${channels}) AS p`, (s) =>
    s.state.channels.map((ch) => ch.type),
  ),
  'channels.subscribedType': list(
    'STRING',
    sql`(SELECT e ->> 'type' AS x FROM ${channels} WHERE (e -> 'subscribed') = 'true'::jsonb) AS p`,
    (s) => s.state.channels.filter((ch) => ch.subscribed).map((ch) => ch.type),
  ),
  'loyalty.status': scalar('STRING', sql`(c.loyalty ->> 'status')`, (s) =>
    one(s.state.loyalty?.status),
  ),
  'loyalty.tierNumber': list(
    'NUMBER',
    sql`(SELECT (e ->> 'tierNumber')::float8 AS x FROM ${enrolments}
          WHERE jsonb_typeof(e -> 'tierNumber') = 'number') AS p`,
    (s) => (s.state.loyalty?.enrollments ?? []).flatMap((e) => num(e.tierNumber)),
  ),
  'loyalty.points': list(
    'NUMBER',
    sql`(SELECT (e ->> 'points')::float8 AS x FROM ${enrolments}
          WHERE jsonb_typeof(e -> 'points') = 'number') AS p`,
    (s) => (s.state.loyalty?.enrollments ?? []).flatMap((e) => num(e.points)),
  ),
};

for (const part of locationParts) {
  const numeric = part === 'latitude' || part === 'longitude';
  profile[`location.${part}`] = numeric
    ? scalar(
        'NUMBER',
        sql`(CASE WHEN jsonb_typeof(c.location -> ${sql.lit(part)}) = 'number'
              THEN (c.location ->> ${sql.lit(part)})::float8 END)`,
        (s) => num(s.state.location[part]),
      )
    : scalar(
        'STRING',
        sql`(CASE WHEN jsonb_typeof(c.location -> ${sql.lit(part)}) = 'string'
              THEN c.location ->> ${sql.lit(part)} END)`,
        (s) => str(s.state.location[part]),
      );
}

/** The profile fields a filter can name, with their types (docs/api.md, "Segments"). */
export const profileFields: ReadonlyMap<string, FieldType> = new Map(
  Object.entries(profile).map(([name, f]) => [name, f.type]),
);

/** STRING values of a custom field or metadata key; DATE values as epoch ms. */
function customValue(type: FieldType, v: unknown): (string | number | boolean)[] {
  switch (type) {
    case 'STRING':
      return str(v);
    case 'NUMBER':
      return num(v);
    case 'BOOLEAN':
      return typeof v === 'boolean' ? [v] : [];
    case 'DATE': {
      const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
      return Number.isNaN(ms) ? [] : [ms];
    }
  }
}

/**
 * The field a filter names, or a reason it names none. Custom fields are typed by their
 * declarations; metadata keys are strings (a value of another JSON type counts as unset).
 */
export function resolveField(
  name: string,
  declared: ReadonlyMap<string, FieldType>,
): FieldRef | string {
  const known = ownValue(profile, name);
  if (known) return { name, ...known };
  if (name.startsWith('customFields.')) {
    const field = name.slice('customFields.'.length);
    const type = declared.get(field);
    if (!type) return `no custom field '${field}' is declared in this store`;
    return {
      name,
      type,
      source: { kind: 'custom', name: field },
      read: (s) => customValue(type, ownValue(s.state.customFields, field)),
    };
  }
  if (name.startsWith('metadata.') && name.length > 'metadata.'.length) {
    const key = name.slice('metadata.'.length);
    return {
      name,
      type: 'STRING',
      source: {
        kind: 'scalar',
        sql: sql`(CASE WHEN jsonb_typeof(c.metadata -> ${key}::text) = 'string'
                   THEN c.metadata ->> ${key}::text END)`,
      },
      read: (s) => str(ownValue(s.state.metadata, key)),
    };
  }
  return 'is not a field a filter can name (a profile field, customFields.<name> or metadata.<key>)';
}

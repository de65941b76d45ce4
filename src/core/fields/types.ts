/**
 * Custom field typing: a field's type is declared by the first value it is given, and
 * every later value must be of that type.
 */
export type FieldType = 'STRING' | 'NUMBER' | 'BOOLEAN' | 'DATE';
export type FieldValue = string | number | boolean;

export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

export function isRealCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

/**
 * What a string written like an ISO 8601 date-time with a time zone is: a real date and
 * time, with its UTC form (`2026-02-24T10:15:00.000Z`) and whether that falls in the
 * years 0001 to 9999, the years a DATE value can be written back in (past 9999 the UTC
 * form reads `+010000-…`); or not a real one (`2026-02-30T00:00:00Z`). Undefined for
 * anything not written so.
 */
function readDateTime(
  value: string,
): { real: true; utc: string; inRange: boolean } | { real: false } | undefined {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, , zone, zh, zm] = m;
  const real =
    isRealCalendarDate(Number(y), Number(mo), Number(d)) &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s ?? 0) <= 59 &&
    (zone === 'Z' || (Number(zh) <= 23 && Number(zm) <= 59));
  const ms = real ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) return { real: false };
  const utc = new Date(ms);
  const year = utc.getUTCFullYear();
  return { real: true, utc: utc.toISOString(), inRange: year >= 1 && year <= 9999 };
}

/**
 * The UTC form (`2026-02-24T10:15:00.000Z`) of an ISO 8601 date-time that carries a
 * time zone, names a real calendar date and time and falls in the years 0001 to 9999
 * (in UTC), or undefined for anything else.
 */
export function normalizeDateTime(value: string): string | undefined {
  const read = readDateTime(value);
  return read?.real && read.inRange ? read.utc : undefined;
}

/** Written like a date-time, but not a real one (`2026-02-30T00:00:00Z`): it declares a STRING. */
export function looksLikeDateTime(value: FieldValue): boolean {
  return typeof value === 'string' && readDateTime(value)?.real === false;
}

/**
 * The type a first value declares. A real date-time declares a DATE even outside the
 * years 0001 to 9999, which the DATE field then refuses: such a value is refused, not
 * taken as a string.
 */
export function detectFieldType(value: FieldValue): FieldType {
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') return 'NUMBER';
  return readDateTime(value)?.real ? 'DATE' : 'STRING';
}

/**
 * A word for a value's JSON type, as error messages name it (`got a …`). For a DATE
 * field, a string written like a date-time says why it is not one the field takes.
 */
export function describeValueType(value: unknown, expected?: FieldType): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value !== 'string') return typeof value;
  const read = readDateTime(value);
  if (read?.real && read.inRange) return 'date-time string';
  if (expected === 'DATE' && read?.real) {
    return 'date-time outside the years 0001 to 9999 (in UTC), which a DATE field cannot hold';
  }
  if (expected === 'DATE' && read) {
    return 'string written as a date-time that is not a real one (no such date or time)';
  }
  return 'string';
}

/**
 * The stored form of a value for a field of the given type, or undefined when the
 * value is not of that type. DATE values are stored normalised to UTC.
 */
export function coerceToFieldType(value: FieldValue, type: FieldType): FieldValue | undefined {
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? value : undefined;
    case 'NUMBER':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : undefined;
    case 'DATE':
      return typeof value === 'string' ? normalizeDateTime(value) : undefined;
  }
}

/** The STRING custom fields a write changed, with their new values: candidates for options. */
export function changedStringValues(
  customFields: Record<string, FieldValue>,
  changes: Record<string, unknown>,
  types: ReadonlyMap<string, FieldType>,
): { field: string; value: string }[] {
  return Object.entries(customFields)
    .filter(
      ([name]) => types.get(name) === 'STRING' && changes[`customFields.${name}`] !== undefined,
    )
    .map(([field, value]) => ({ field, value: String(value) }));
}

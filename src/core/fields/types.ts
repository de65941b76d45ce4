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
 * The UTC form (`2026-02-24T10:15:00.000Z`) of an ISO 8601 date-time that carries a
 * time zone and names a real calendar date and time, or undefined for anything else.
 */
export function normalizeDateTime(value: string): string | undefined {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, , zone, zh, zm] = m;
  if (!isRealCalendarDate(Number(y), Number(mo), Number(d))) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return undefined;
  if (zone !== 'Z' && (Number(zh) > 23 || Number(zm) > 59)) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString();
}

/** Written like a date-time, but not a real one (`2026-02-30T00:00:00Z`): it declares a STRING. */
export function looksLikeDateTime(value: FieldValue): boolean {
  return typeof value === 'string' && ISO_DATE_TIME.test(value) && !normalizeDateTime(value);
}

/** The type a first value declares. */
export function detectFieldType(value: FieldValue): FieldType {
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') return 'NUMBER';
  return normalizeDateTime(value) === undefined ? 'STRING' : 'DATE';
}

/** A word for a value's JSON type, as error messages name it. */
export function describeValueType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return normalizeDateTime(value) ? 'date-time string' : 'string';
  return typeof value;
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

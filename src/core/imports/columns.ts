import { locationParts } from '../customers/customer.js';
import type { CustomerInput } from '../customers/input.js';
import type { FieldProblem } from '../errors.js';
import { FIELD_NAME, type FieldType } from '../fields/types.js';
import { setOwnValue } from '../records.js';

/**
 * The CSV form of a customer, both ways: the columns the import reads and the export
 * writes, so that an export reads back unchanged. A cell is text; an empty cell leaves
 * the field as it is (it never clears one).
 */

const textColumns = ['externalId', 'email', 'firstName', 'lastName', 'birthdate', 'description'];
const jsonColumns = ['identifiers', 'metadata', 'channels', 'loyalty'];
/** Several phone numbers in one cell are separated by `|`. */
const PHONE_SEPARATOR = '|';

/** What a header names, or a problem naming the header. */
export type Target =
  | { kind: 'text'; name: string }
  | { kind: 'phone'; name: 'phoneNumber' | 'phoneNumbers' }
  | { kind: 'active' }
  | { kind: 'location'; part: string }
  | { kind: 'identifier'; type: string }
  | { kind: 'json'; name: string }
  | { kind: 'customField'; name: string };

export function targetOf(column: string): Target | undefined {
  if (textColumns.includes(column)) return { kind: 'text', name: column };
  if (column === 'phoneNumber' || column === 'phoneNumbers') return { kind: 'phone', name: column };
  if (column === 'active') return { kind: 'active' };
  if (jsonColumns.includes(column)) return { kind: 'json', name: column };
  const [head, rest] = [
    column.slice(0, column.indexOf('.')),
    column.slice(column.indexOf('.') + 1),
  ];
  if (head === 'location' && (locationParts as readonly string[]).includes(rest)) {
    return { kind: 'location', part: rest };
  }
  if (head === 'identifiers' && /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/.test(rest)) {
    return { kind: 'identifier', type: rest };
  }
  if (head === 'customFields' && FIELD_NAME.test(rest)) return { kind: 'customField', name: rest };
  return undefined;
}

/** The file's headers, each with what it writes (through `mapping` when given), or the problems. */
export function readHeader(
  headers: string[],
  mapping: Record<string, string> | undefined,
): { columns: (Target | undefined)[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const columns = headers.map((header) => {
    const name = mapping ? mapping[header] : header.trim();
    // A header the mapping leaves out is not imported.
    if (mapping && name === undefined) return undefined;
    const target = name === undefined ? undefined : targetOf(name);
    if (!target) {
      problems.push({
        path: mapping ? `/query/mapping/${header}` : `/csv/header/${header}`,
        message:
          'is not a column the import reads: email, externalId, phoneNumber, phoneNumbers, ' +
          'firstName, lastName, birthdate, description, active, location.<part>, ' +
          'identifiers.<type>, customFields.<name>, identifiers, metadata, channels, loyalty',
      });
    }
    return target;
  });
  if (mapping) {
    for (const header of Object.keys(mapping)) {
      if (!headers.includes(header)) {
        problems.push({ path: `/query/mapping/${header}`, message: 'is not a header of the file' });
      }
    }
  }
  return { columns, problems };
}

/** A number written as JSON writes one (no leading zeros: `02134` is a postcode, not 2134). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * A cell for a custom field: through the declared type when the field is declared; an
 * undeclared field's first value declares NUMBER when written as a JSON number, BOOLEAN
 * when `true` or `false`, and otherwise is text (a DATE when a real ISO date-time, as in
 * JSON). A cell that its field's type cannot read stays text, which the upsert refuses
 * naming the column.
 */
export function customFieldCell(
  cell: string,
  type: FieldType | undefined,
): string | number | boolean {
  const lower = cell.toLowerCase();
  switch (type) {
    case 'STRING':
    case 'DATE':
      return cell;
    case 'NUMBER':
      return JSON_NUMBER.test(cell.trim()) ? Number(cell.trim()) : cell;
    case 'BOOLEAN':
      return lower === 'true' ? true : lower === 'false' ? false : cell;
    case undefined:
      if (JSON_NUMBER.test(cell)) return Number(cell);
      if (lower === 'true' || lower === 'false') return lower === 'true';
      return cell;
  }
}

/**
 * A phone number as people write one in a spreadsheet: spaces, dashes, dots and
 * brackets dropped, and a leading `00` (the international call prefix) read as `+`.
 */
export function phoneCell(cell: string): string {
  const compact = cell.replace(/[\s\-.()]/g, '');
  return compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
}

/** One CSV record as an upsert body; a cell that cannot be read is a problem at its column. */
export function recordToInput(
  record: string[],
  headers: string[],
  columns: (Target | undefined)[],
  typeOf: (field: string) => FieldType | undefined,
): { input: CustomerInput } | { problem: FieldProblem } {
  const input: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const target = columns[i];
    const cell = record[i];
    if (!target || cell === undefined || cell === '') continue;
    const header = headers[i] ?? '';
    switch (target.kind) {
      case 'text':
        input[target.name] = cell;
        break;
      case 'phone': {
        const phones = cell.split(PHONE_SEPARATOR).map(phoneCell).filter(Boolean);
        const list = (input.phoneNumbers as string[] | undefined) ?? [];
        list.push(...phones);
        input.phoneNumbers = list;
        break;
      }
      case 'active': {
        const lower = cell.toLowerCase();
        if (lower !== 'true' && lower !== 'false') {
          return { problem: { path: header, message: 'must be true or false' } };
        }
        input.active = lower === 'true';
        break;
      }
      case 'location': {
        const location = (input.location as Record<string, unknown> | undefined) ?? {};
        const numeric = target.part === 'latitude' || target.part === 'longitude';
        location[target.part] = numeric && JSON_NUMBER.test(cell) ? Number(cell) : cell;
        input.location = location;
        break;
      }
      case 'identifier': {
        const list = (input.identifiers as { type: string; value: string }[] | undefined) ?? [];
        for (const value of cell.split(PHONE_SEPARATOR)) list.push({ type: target.type, value });
        input.identifiers = list;
        break;
      }
      case 'json':
        try {
          input[target.name] = JSON.parse(cell);
        } catch {
          return { problem: { path: header, message: 'must be JSON' } };
        }
        break;
      case 'customField': {
        const fields = (input.customFields as Record<string, unknown> | undefined) ?? {};
        setOwnValue(fields, target.name, customFieldCell(cell, typeOf(target.name)));
        input.customFields = fields;
        break;
      }
    }
  }
  return { input: input as CustomerInput };
}

/** The CSV column a problem's JSON Pointer falls in (`/customFields/x` → `customFields.x`). */
export function columnOfPath(
  path: string,
  headers: string[],
  columns: (Target | undefined)[],
): string {
  const [first, second] = path.split('/').slice(1);
  const index = columns.findIndex((t) => {
    if (!t) return false;
    switch (t.kind) {
      case 'text':
      case 'json':
        return t.name === first;
      case 'phone':
        return first === 'phoneNumbers' || first === 'phoneNumber';
      case 'active':
        return first === 'active';
      case 'location':
        return first === 'location' && (second === undefined || second === t.part);
      case 'identifier':
        return first === 'identifiers';
      case 'customField':
        return first === 'customFields' && second === t.name;
    }
    return false;
  });
  return index >= 0 ? (headers[index] ?? path) : path;
}

/** The export's header: every column, custom fields by the store's declarations. */
export function exportHeader(customFields: string[]): string[] {
  return [
    'externalId',
    'email',
    'phoneNumbers',
    'firstName',
    'lastName',
    'birthdate',
    'description',
    'active',
    ...locationParts.map((p) => `location.${p}`),
    'identifiers',
    ...customFields.map((f) => `customFields.${f}`),
    'metadata',
    'channels',
    'loyalty',
  ];
}

/** One CSV line (RFC 4180): a cell with a quote, the delimiter or a line break is quoted. */
export function csvLine(cells: string[]): string {
  return `${cells.map((c) => (/[",\r\n;]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',')}\r\n`;
}

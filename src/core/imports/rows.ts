import { Readable } from 'node:stream';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'csv-parse';
import type { CustomerInput } from '../customers/input.js';
import { CustomerWrite } from '../customers/schema.js';
import { ClienteleError, type FieldProblem } from '../errors.js';
import type { FieldType } from '../fields/types.js';
import { checkJsonShape } from '../json-shape.js';
import { findBadText } from '../text.js';
import { type AjvError, validationError } from '../validation.js';
import { columnOfPath, readHeader, recordToInput, type Target } from './columns.js';

// ajv and ajv-formats ship CommonJS with a default export that ESM sees one level down.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/** What a row of the file is: an upsert body, or why it is not one. */
export interface ImportRowItem {
  /** 1-based, counting data rows (not the CSV header). */
  row: number;
  /** The line of the file it is on. */
  line: number;
  text: string;
  input?: CustomerInput;
  problem?: RowProblem;
  /** The CSV column a JSON Pointer of this row's falls in (CSV rows only). */
  column?: (path: string) => string;
}

export interface RowProblem {
  code: string;
  /** The JSON Pointer (NDJSON) or the CSV column. */
  path: string;
  message: string;
}

/** The native upsert's body schema, checked row by row as the HTTP API checks a body. */
const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, strict: false });
addFormats(ajv);
const checkBody = ajv.compile(CustomerWrite);

/** The problem of a ClienteleError, at its first field (as a CSV column when `column` maps it). */
export function problemOf(error: ClienteleError, column?: (path: string) => string): RowProblem {
  const first = error.errors[0];
  const path = first?.path ?? '';
  return {
    code: error.code,
    path: column ? column(path) : path,
    message: error.message,
  };
}

/** A body that passes the same checks as the native API's: JSON's shape, its text, its schema. */
export function checkInput(value: unknown): { input: CustomerInput } | { error: ClienteleError } {
  try {
    checkJsonShape(value);
  } catch (error) {
    if (error instanceof ClienteleError) return { error };
    throw error;
  }
  const bad = findBadText(value, '');
  if (bad) return { error: new ClienteleError('validation_failed', bad.message, [bad]) };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const problem: FieldProblem = { path: '', message: 'must be a JSON object' };
    return {
      error: new ClienteleError('validation_failed', 'body: must be a JSON object', [problem]),
    };
  }
  if (!checkBody(value)) return { error: validationError(checkBody.errors as AjvError[]) };
  return { input: value as CustomerInput };
}

/** NDJSON rows: one JSON object a line; blank lines are skipped (and counted as lines). */
export async function* ndjsonRows(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<ImportRowItem> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  let rest = '';
  let line = 0;
  let row = 0;
  const item = (text: string): ImportRowItem | undefined => {
    line++;
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed.trim() === '') return undefined;
    row++;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      return {
        row,
        line,
        text: trimmed,
        problem: { code: 'malformed_json', path: '', message: 'The line is not valid JSON.' },
      };
    }
    const checked = checkInput(value);
    if ('error' in checked) return { row, line, text: trimmed, problem: problemOf(checked.error) };
    return { row, line, text: trimmed, input: checked.input };
  };
  for await (const chunk of chunks) {
    const text = rest + decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      const it = item(text.slice(start, end));
      if (it) yield it;
      start = end + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.decode();
  if (rest !== '') {
    const it = item(rest);
    if (it) yield it;
  }
}

/** `;` or `,`, whichever the header line has more of outside quotes. */
export function detectDelimiter(headerLine: string): ';' | ',' {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ';') semicolons++;
    else if (!quoted && ch === ',') commas++;
  }
  return semicolons > commas ? ';' : ',';
}

/** The header of a CSV file from its first bytes (a BOM dropped), and the delimiter it uses. */
export function csvHeaderOf(
  start: string,
  delimiter: string | undefined,
): { headers: string[]; delimiter: string } | undefined {
  const text = start.startsWith('\ufeff') ? start.slice(1) : start;
  const end = text.indexOf('\n');
  if (end < 0) return undefined;
  const line = text.slice(0, end).replace(/\r$/, '');
  const used = delimiter ?? detectDelimiter(line);
  // The header through the same parser as the rows.
  const headers: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === used && !quoted) {
      headers.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  headers.push(cell.trim());
  return { headers, delimiter: used };
}

/**
 * CSV rows, through csv-parse (a byte-order mark, quoted cells with line breaks and
 * doubled quotes, CRLF or LF, rows of fewer cells than the header), each as an upsert body
 * typed by `typeOf` (the store's declarations as they stand when the row is read).
 */
export async function* csvRows(
  chunks: AsyncIterable<Uint8Array>,
  options: { delimiter: string; mapping: Record<string, string> | undefined },
  typeOf: (field: string) => FieldType | undefined,
): AsyncGenerator<ImportRowItem> {
  const parser = Readable.from(chunks).pipe(
    parse({
      bom: true,
      delimiter: options.delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      raw: true,
    }),
  );
  let headers: string[] | undefined;
  let columns: (Target | undefined)[] = [];
  let row = 0;
  for await (const { record, info, raw } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
    raw: string;
  }>) {
    if (!headers) {
      headers = record.map((h) => h.trim());
      columns = readHeader(headers, options.mapping).columns;
      continue;
    }
    row++;
    const text = raw.replace(/^[\r\n]+|[\r\n]+$/g, '');
    const column = (path: string) => columnOfPath(path, headers ?? [], columns);
    const read = recordToInput(record, headers, columns, typeOf);
    if ('problem' in read) {
      const { path, message } = read.problem;
      yield {
        row,
        line: info.lines,
        text,
        problem: { code: 'validation_failed', path, message: `${path}: ${message}` },
      };
      continue;
    }
    const checked = checkInput(read.input);
    if ('error' in checked) {
      yield { row, line: info.lines, text, problem: problemOf(checked.error, column) };
    } else yield { row, line: info.lines, text, input: checked.input, column };
  }
}

import type { WriteServices } from '../customers/write.repository.js';
import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import type { FieldCache } from '../fields/field-cache.js';
import { hasPrefix, newId } from '../ids.js';
import type { StoreSettings } from '../stores/settings.js';
import { readHeader } from './columns.js';
import { type ExportFormat, exportCustomers } from './export.js';
import * as repo from './imports.repository.js';
import { jobOf } from './job.js';
import { csvHeaderOf } from './rows.js';
import type { ImportError, ImportJob, ImportQuery } from './schema.js';
import { ImportWorker, type ImportWorkerOptions } from './worker.js';

export type ImportFormat = 'ndjson' | 'csv';

/** How big a piece of the file one row of `import_chunks` holds. */
const CHUNK_BYTES = 1024 * 1024;
/** How much of a CSV file is read for its header before anything is stored. */
const HEADER_BYTES = 64 * 1024;
const NEWLINE = 10;

export interface ImportOptions extends ImportWorkerOptions {
  /** The largest file an import takes (CLIENTELE_IMPORT_MAX_BYTES). */
  maxBytes: number;
}

export function importNotFound(id: string): ClienteleError {
  return new ClienteleError('not_found', `No import ${id}.`);
}

function tooLarge(maxBytes: number): ClienteleError {
  return new ClienteleError(
    'payload_too_large',
    `The file is larger than the ${maxBytes} bytes an import takes (CLIENTELE_IMPORT_MAX_BYTES).`,
  );
}

/** The mapping option, a JSON object of header to column, or a 400 naming it. */
function mappingOf(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw fail.field('/query/mapping', 'must be a JSON object of header to column');
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== 'string')
  ) {
    throw fail.field('/query/mapping', 'must be a JSON object of header to column');
  }
  return value as Record<string, string>;
}

/** `clientele.imports`: bulk import jobs and the export they read back. */
export class Imports {
  /** The worker that runs jobs; the server starts it (`startWorking`). */
  readonly worker: ImportWorker;

  constructor(
    private readonly db: DB,
    fieldCache: FieldCache,
    services: WriteServices,
    settingsOf: (storeId: string) => Promise<StoreSettings>,
    private readonly limits: ImportOptions,
  ) {
    this.worker = new ImportWorker(db, fieldCache, services, settingsOf, limits);
  }

  /** Runs jobs in the background until `stopWorking`. */
  startWorking(): void {
    this.worker.start();
  }

  stopWorking(): Promise<void> {
    return this.worker.stop();
  }

  /**
   * Spools a file as it streams into the database and queues a job to import it. A file
   * over the limit is refused with 413: at once when its declared length says so, else
   * as soon as it passes the limit, with what was spooled deleted. A CSV file whose
   * header names a column the import does not read is refused with 400 before anything
   * is stored.
   */
  async create(
    by: { storeId: string; keyId: string | null },
    format: ImportFormat,
    query: ImportQuery,
    body: AsyncIterable<Uint8Array>,
    declaredLength?: number,
  ): Promise<ImportJob> {
    const mapping = mappingOf(query.mapping);
    if (format !== 'csv' && (mapping || query.delimiter)) {
      throw fail.field(
        query.mapping ? '/query/mapping' : '/query/delimiter',
        'is for CSV files only',
      );
    }
    if (declaredLength !== undefined && declaredLength > this.limits.maxBytes) {
      throw tooLarge(this.limits.maxBytes);
    }
    const { storeId } = by;
    const id = newId('imp');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let bytes = 0;
    let chunks = 0;
    let rows = 0;
    let lineHasText = false;
    let delimiter: string | undefined = query.delimiter;
    let headerChecked = format !== 'csv';
    const flush = async () => {
      if (pendingBytes === 0) return;
      await repo.insertChunk(this.db, storeId, id, chunks++, Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const piece of body) {
        const buffer = Buffer.from(piece);
        bytes += buffer.length;
        if (bytes > this.limits.maxBytes) throw tooLarge(this.limits.maxBytes);
        if (format === 'ndjson') {
          // Rows counted as they pass: a line with anything but blanks is a row.
          for (let i = 0; i < buffer.length; i++) {
            const b = buffer[i] as number;
            if (b === NEWLINE) {
              if (lineHasText) rows++;
              lineHasText = false;
            } else if (b !== 32 && b !== 9 && b !== 13) lineHasText = true;
          }
        }
        pending.push(buffer);
        pendingBytes += buffer.length;
        if (!headerChecked && (pendingBytes >= HEADER_BYTES || buffer.includes(NEWLINE))) {
          delimiter = this.checkHeader(Buffer.concat(pending).toString('utf8'), query, mapping);
          headerChecked = true;
        }
        if (headerChecked && pendingBytes >= CHUNK_BYTES) await flush();
      }
      if (lineHasText) rows++;
      if (bytes === 0) throw fail.field('', 'the file is empty');
      if (!headerChecked) {
        delimiter = this.checkHeader(
          `${Buffer.concat(pending).toString('utf8')}\n`,
          query,
          mapping,
        );
      }
      await flush();
      const row = await repo.insertImport(this.db, {
        store_id: storeId,
        id,
        key_id: by.keyId,
        format,
        mode: query.mode ?? 'upsert',
        dry_run: query.dryRun ?? false,
        options: {
          ...(mapping ? { mapping } : {}),
          ...(delimiter ? { delimiter } : {}),
        },
        bytes,
        chunks,
        total: format === 'ndjson' ? rows : null,
      });
      this.worker.poke();
      return jobOf(row);
    } catch (error) {
      if (chunks > 0) await repo.deleteChunks(this.db, storeId, id).catch(() => {});
      throw error;
    }
  }

  /** The CSV header's delimiter, or a 400 naming each header the import cannot read. */
  private checkHeader(
    start: string,
    query: ImportQuery,
    mapping: Record<string, string> | undefined,
  ): string {
    const header = csvHeaderOf(start, query.delimiter);
    if (!header) throw fail.field('/csv/header', 'the first line (the header) is too long');
    const { problems } = readHeader(header.headers, mapping);
    if (problems.length > 0) throw fail.validation(problems);
    return header.delimiter;
  }

  async list(
    storeId: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ data: ImportJob[]; nextCursor: string | null }> {
    if (page.cursor !== undefined && !hasPrefix(page.cursor, 'imp')) {
      throw fail.field('/query/cursor', 'must be the nextCursor of the page before');
    }
    const rows = await repo.listImports(this.db, storeId, page.limit + 1, page.cursor);
    const data = rows.slice(0, page.limit).map(jobOf);
    return {
      data,
      nextCursor: rows.length > page.limit ? (data[data.length - 1]?.id ?? null) : null,
    };
  }

  async get(storeId: string, id: string): Promise<ImportJob> {
    const row = await repo.findImport(this.db, storeId, id);
    if (!row) throw importNotFound(id);
    return jobOf(row);
  }

  /**
   * Stops a job: one waiting never starts; one running stops before its next batch (the
   * rows already applied stay). A job that has ended is answered as it is.
   */
  async cancel(storeId: string, id: string): Promise<ImportJob> {
    const row = await repo.cancelImport(this.db, storeId, id);
    if (!row) throw importNotFound(id);
    if (row.status === 'cancelled') await repo.deleteChunks(this.db, storeId, id);
    return jobOf(row);
  }

  /** The rows a job refused, in file order, a page at a time. */
  async errors(
    storeId: string,
    id: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ data: ImportError[]; nextCursor: string | null }> {
    if (!(await repo.findImport(this.db, storeId, id))) throw importNotFound(id);
    const after = page.cursor === undefined ? 0 : Number(page.cursor);
    if (!Number.isInteger(after) || after < 0) {
      throw fail.field('/query/cursor', 'must be the nextCursor of the page before');
    }
    const rows = await repo.listErrors(this.db, storeId, id, after, page.limit + 1);
    const data = rows.slice(0, page.limit).map((r) => ({
      row: r.row_number,
      line: r.line,
      code: r.code,
      path: r.path,
      message: r.message,
      rowText: r.row_text,
    }));
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > page.limit && last ? String(last.row) : null };
  }

  /** Every customer of the store, as text the import reads back (export.ts). */
  export(storeId: string, format: ExportFormat): AsyncGenerator<string> {
    return exportCustomers(this.db, storeId, format);
  }
}

import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clientele } from '../core/clientele.js';
import type { ImportFormat } from '../core/imports/imports.js';
import type { ImportError, ImportJob } from '../core/imports/schema.js';

/** `clientele import` and `clientele export`: against a server (--url) or the database itself. */

export interface Remote {
  url: string;
  key: string;
}

/** Where a job is watched from: a server's API, or the engine in this process. */
interface JobSource {
  start(): Promise<ImportJob>;
  get(id: string): Promise<ImportJob>;
  errors(
    id: string,
    cursor: string | undefined,
  ): Promise<{ data: ImportError[]; nextCursor: string | null }>;
}

const ended = ['completed', 'failed', 'cancelled'];

export function formatOf(file: string, given: string | undefined): ImportFormat {
  if (given === 'csv' || given === 'ndjson') return given;
  if (given !== undefined) throw new Error(`--format must be csv or ndjson, not ${given}`);
  return /\.csv$/i.test(file) ? 'csv' : 'ndjson';
}

const mediaType = (format: ImportFormat) =>
  format === 'csv' ? 'text/csv' : 'application/x-ndjson';

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json()) as T & { detail?: string; code?: string };
  if (!res.ok) throw new Error(`${res.status} ${body.code ?? ''}: ${body.detail ?? ''}`.trim());
  return body;
}

function remoteSource(
  remote: Remote,
  storeId: string,
  file: string,
  format: ImportFormat,
  query: string,
): JobSource {
  const base = `${remote.url.replace(/\/$/, '')}/v1/stores/${storeId}/imports`;
  const headers = { authorization: `Bearer ${remote.key}` };
  return {
    start: async () =>
      answer<ImportJob>(
        await fetch(`${base}${query}`, {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': mediaType(format),
            'content-length': String(statSync(file).size),
          },
          body: Readable.toWeb(createReadStream(file)) as ReadableStream,
          duplex: 'half',
        } as RequestInit),
      ),
    get: async (id) => answer<ImportJob>(await fetch(`${base}/${id}`, { headers })),
    errors: async (id, cursor) =>
      answer(
        await fetch(`${base}/${id}/errors?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, {
          headers,
        }),
      ),
  };
}

function localSource(
  clientele: Clientele,
  storeId: string,
  file: string,
  format: ImportFormat,
  options: { mode?: string; dryRun?: boolean },
): JobSource {
  return {
    start: async () => {
      await clientele.stores.get(storeId);
      const job = await clientele.imports.create(
        { storeId, keyId: null },
        format,
        {
          ...(options.mode ? { mode: options.mode as 'upsert' } : {}),
          ...(options.dryRun ? { dryRun: true } : {}),
        },
        createReadStream(file),
        statSync(file).size,
      );
      // This process runs it (a server on the same database may take it too).
      clientele.imports.startWorking();
      return job;
    },
    get: (id) => clientele.imports.get(storeId, id),
    errors: (id, cursor) => clientele.imports.errors(storeId, id, { limit: 1000, cursor }),
  };
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The progress line: rows, rows/s, ETA (once the total is known), failures. */
export function progressLine(job: ImportJob): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const rate = job.rowsPerSecond ?? 0;
  const total = job.total === null ? '' : `/${n(job.total)}`;
  const eta =
    job.total !== null && rate > 0 ? `  ETA ${duration((job.total - job.processed) / rate)}` : '';
  return `${job.status}: ${n(job.processed)}${total} rows  ${n(rate)} rows/s${eta}  ${n(job.failed)} failed`;
}

/**
 * Starts an import and watches it to its end, printing progress on stderr; the refused
 * rows go to `errorsFile` (NDJSON). 0 when every row was applied, 1 when any was refused,
 * 2 when the job failed or was cancelled.
 */
export async function runImport(
  file: string,
  options: {
    storeId: string;
    remote?: Remote | undefined;
    clientele?: Clientele | undefined;
    format?: string | undefined;
    mode?: string | undefined;
    dryRun?: boolean | undefined;
    errorsFile?: string | undefined;
    out?: NodeJS.WritableStream;
  },
): Promise<number> {
  const out = options.out ?? process.stderr;
  const format = formatOf(file, options.format);
  const query = new URLSearchParams();
  if (options.mode) query.set('mode', options.mode);
  if (options.dryRun) query.set('dryRun', 'true');
  const source = options.remote
    ? remoteSource(options.remote, options.storeId, file, format, query.size ? `?${query}` : '')
    : localSource(options.clientele as Clientele, options.storeId, file, format, options);
  let job = await source.start();
  out.write(`Import ${job.id} queued (${job.bytes.toLocaleString('en-US')} bytes).\n`);
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  let lastPrinted = 0;
  while (!ended.includes(job.status)) {
    await new Promise((r) => setTimeout(r, 250));
    job = await source.get(job.id);
    if (tty) out.write(`\r\x1b[2K${progressLine(job)}`);
    else if (Date.now() - lastPrinted >= 2000) {
      out.write(`${progressLine(job)}\n`);
      lastPrinted = Date.now();
    }
  }
  out.write(`${tty ? '\r\x1b[2K' : ''}${progressLine(job)}\n`);
  out.write(
    `created ${job.created}, updated ${job.updated}, unchanged ${job.unchanged}, failed ${job.failed}\n`,
  );
  if (job.status === 'failed') out.write(`The import failed: ${job.error}\n`);
  if (job.failed > 0) {
    const errorsFile = options.errorsFile ?? `${file}.errors.ndjson`;
    const sink = createWriteStream(errorsFile);
    let cursor: string | undefined;
    do {
      const page = await source.errors(job.id, cursor);
      for (const e of page.data) sink.write(`${JSON.stringify(e)}\n`);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    await new Promise<void>((resolve, reject) =>
      sink.end((e?: Error | null) => (e ? reject(e) : resolve())),
    );
    out.write(`${job.failed} refused rows written to ${errorsFile}\n`);
  }
  if (job.status !== 'completed') return 2;
  return job.failed > 0 ? 1 : 0;
}

/** Writes every customer of the store to `sink` (stdout), from a server or the database. */
export async function runExport(options: {
  storeId: string;
  format: 'ndjson' | 'csv';
  remote?: Remote | undefined;
  clientele?: Clientele | undefined;
  sink?: NodeJS.WritableStream;
}): Promise<number> {
  const sink = options.sink ?? process.stdout;
  if (options.remote) {
    const res = await fetch(
      `${options.remote.url.replace(/\/$/, '')}/v1/stores/${options.storeId}/customers/export?format=${options.format}`,
      { headers: { authorization: `Bearer ${options.remote.key}` } },
    );
    if (!res.ok || !res.body) await answer(res);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), sink);
    return 0;
  }
  const clientele = options.clientele as Clientele;
  await clientele.stores.get(options.storeId);
  await pipeline(Readable.from(clientele.imports.export(options.storeId, options.format)), sink);
  return 0;
}

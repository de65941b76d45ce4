import { hostname } from 'node:os';
import { upsertAllInTransaction } from '../customers/batch-transaction.js';
import type { UpsertRequest, UpsertResult } from '../customers/result.js';
import { withRetry } from '../customers/retry.js';
import { prepareUpsert } from '../customers/upsert.js';
import type { WriteServices } from '../customers/write.repository.js';
import type { DB } from '../db/database.js';
import { ClienteleError } from '../errors.js';
import type { FieldCache } from '../fields/field-cache.js';
import { listDeclarations } from '../fields/fields.repository.js';
import type { FieldType } from '../fields/types.js';
import { newId } from '../ids.js';
import { PollLoop } from '../poll-loop.js';
import type { StoreSettings } from '../stores/settings.js';
import * as repo from './imports.repository.js';
import { jobOf } from './job.js';
import { csvRows, type ImportRowItem, ndjsonRows, problemOf } from './rows.js';

export interface ImportWorkerOptions {
  /** How long a process holds a job before another may take it over (a crash). */
  leaseMs: number;
  /** Rows applied per transaction (and per checkpoint), at most. */
  batchRows: number;
  /**
   * How long one batch's transaction should take, ms (0: no bound). Each batch's rows are
   * scaled from the last one's time, between 10 and `batchRows`. On PGlite every request
   * waits for the one connection while a batch holds it: this bounds that wait.
   */
  batchMs?: number;
  /**
   * Whether the next batch is read and prepared while one is written (a database in
   * another process works meanwhile), or only once it has committed.
   */
  overlap?: boolean;
  /** The pause when there was nothing to do, ms. */
  idleMs?: number;
  log?: { warn(details: object, message: string): void };
}

/** How much of a row an error keeps. */
const ROW_TEXT_MAX = 1000;

const planMode = { upsert: 'upsert', create_only: 'create', update_only: 'update' } as const;

/**
 * The rows of the next batch: as many as would take `batchMs` at the last batch's pace
 * (moving halfway there, so one slow batch does not halve the next), between 10 and
 * `batchRows`.
 */
export function nextBatchRows(
  rows: number,
  ms: number,
  options: Pick<ImportWorkerOptions, 'batchRows' | 'batchMs'>,
): number {
  if (!options.batchMs) return options.batchRows;
  const atPace = (rows * options.batchMs) / Math.max(ms, 1);
  return Math.round(Math.min(options.batchRows, Math.max(10, (rows + atPace) / 2)));
}

/** The job is no longer this process's to run: cancelled, or taken over after a lapse. */
class LeaseLost extends Error {}

/**
 * The import worker every server process runs: leases one job at a time (a store runs at
 * most `importsAtOnce` jobs across the fleet), reads the spooled file from the database,
 * and applies its rows in batches through the same planner as every write. Each batch's
 * writes, its refused rows and the checkpoint (the rows applied so far) commit in one
 * transaction, under a lock on the job's row that also proves the lease is still held;
 * so a job resumed after a crash, by this process or another, applies no row twice.
 */
export class ImportWorker {
  private readonly loop: PollLoop;
  private readonly owner = `${hostname()}:${process.pid}:${newId('req').slice(4)}`;

  constructor(
    private readonly db: DB,
    private readonly fieldCache: FieldCache,
    private readonly services: WriteServices,
    private readonly settingsOf: (storeId: string) => Promise<StoreSettings>,
    private readonly options: ImportWorkerOptions,
  ) {
    this.loop = new PollLoop(
      async () => {
        const job = await repo.leaseNext(this.db, this.owner, this.options.leaseMs, async (id) =>
          Math.max(1, (await this.settingsOf(id)).importsAtOnce),
        );
        if (job) await this.run(job);
        return job !== undefined;
      },
      options.idleMs ?? 1000,
      (error) => this.options.log?.warn({ err: error }, 'import round failed'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** A job was queued here: look now rather than at the next poll. */
  poke(): void {
    this.loop.wake();
  }

  /** Stops after the batch in flight (the job's lease lapses, and it resumes elsewhere). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Runs a leased job to its end, or until it is lost, cancelled or this worker stops. */
  async run(job: repo.ImportRow): Promise<void> {
    let lost = false;
    const heartbeat = setInterval(
      () => {
        repo.renewLease(this.db, job, this.owner, this.options.leaseMs).then(
          (held) => {
            if (!held) lost = true;
          },
          () => {},
        );
      },
      Math.max(100, this.options.leaseMs / 3),
    );
    // The batch being written (with `overlap`, while the next is read): settled before
    // this returns, however it ends, so that no transaction outlives the job's run.
    let applying: Promise<void> = Promise.resolve();
    try {
      const settings = await this.settingsOf(job.store_id);
      const types = new Map<string, FieldType>(
        (await listDeclarations(this.db, job.store_id)).map((d) => [d.name, d.type]),
      );
      const known = this.fieldCache.typesOf(job.store_id);
      const typeOf = (field: string) => types.get(field) ?? known.get(field);
      const rows =
        job.format === 'csv'
          ? csvRows(
              this.chunks(job),
              { delimiter: job.options.delimiter ?? ',', mapping: job.options.mapping },
              typeOf,
            )
          : ndjsonRows(this.chunks(job));
      let applied = job.processed;
      let batch: ImportRowItem[] = [];
      let batchRows = this.options.batchMs
        ? Math.min(100, this.options.batchRows)
        : this.options.batchRows;
      // With `overlap`, batches overlap by half: while one batch's transaction runs, the
      // next is read, parsed and prepared (the work that needs no database), so the
      // database and this process work at once. Transactions still run one at a time, in
      // order, each after the one before has committed; at most two batches are in hand.
      // A batch that ends on a declaration is waited for itself: the rows after it are
      // typed through the field it declares (csvRows reads types as it reads rows).
      const applyBatch = async (declared: boolean) => {
        const rowsOf = batch;
        batch = [];
        const prepared = this.prepare(job, settings, rowsOf);
        const previous = applying;
        applying = previous.then(async () => {
          if (lost || !this.loop.isRunning) throw new LeaseLost();
          const started = performance.now();
          applied = await this.apply(job, prepared, applied);
          batchRows = nextBatchRows(rowsOf.length, performance.now() - started, this.options);
        });
        // Its failure is thrown where it is awaited: with the next batch, or at the end.
        applying.catch(() => {});
        await (this.options.overlap && !declared ? previous : applying);
      };
      let seen = 0;
      // A row naming a field not declared yet runs alone (its declaration is a write of
      // its own), and so do the rows after it until that commits: its batch ends with it.
      const named = new Set<string>();
      const declares = (item: ImportRowItem) => {
        let fresh = false;
        for (const name of Object.keys(item.input?.customFields ?? {})) {
          if (!known.has(name) && !named.has(name)) {
            named.add(name);
            fresh = true;
          }
        }
        return fresh;
      };
      for await (const item of rows) {
        seen++;
        if (seen <= job.processed) continue; // applied before a restart
        batch.push(item);
        const declared = declares(item);
        if (batch.length >= batchRows || declared) {
          if (lost || !this.loop.isRunning) throw new LeaseLost();
          await applyBatch(declared);
        }
      }
      if (batch.length > 0) {
        if (lost || !this.loop.isRunning) throw new LeaseLost();
        await applyBatch(false);
      }
      await applying;
      await this.db.transaction().execute(async (trx) => {
        const ended = await repo.finishImport(trx, job, this.owner, {
          status: 'completed',
          total: seen,
        });
        if (ended) await repo.recordCompleted(trx, ended, jobOf(ended));
      });
      await repo.deleteChunks(this.db, job.store_id, job.id);
    } catch (error) {
      await applying.catch(() => {});
      if (error instanceof LeaseLost) return;
      this.options.log?.warn({ err: error, importId: job.id }, 'import failed');
      const message = error instanceof Error ? error.message : String(error);
      // A job that cannot go on (a file that is not CSV, say) ends failed, saying why.
      await repo
        .finishImport(this.db, job, this.owner, { status: 'failed', total: null, error: message })
        .catch(() => {});
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The spooled file, a chunk at a time; a job cancelled meanwhile has lost its chunks. */
  private async *chunks(job: repo.ImportRow): AsyncGenerator<Uint8Array> {
    for (let n = 0; n < job.chunks; n++) {
      const chunk = await repo.readChunk(this.db, job.store_id, job.id, n);
      if (!chunk) throw new LeaseLost();
      yield chunk;
    }
  }

  /** A batch's rows as upserts (what needs no database), and those refused already. */
  private prepare(job: repo.ImportRow, settings: StoreSettings, batch: ImportRowItem[]) {
    const ctx = { storeId: job.store_id, api: 'import', keyId: job.key_id };
    const refused = new Map<ImportRowItem, ClienteleError | ImportRowItem['problem']>();
    const requests: UpsertRequest[] = [];
    const requested: ImportRowItem[] = [];
    for (const item of batch) {
      if (item.problem || !item.input) {
        refused.set(item, item.problem);
        continue;
      }
      try {
        requests.push(prepareUpsert(ctx, item.input, settings, { mode: planMode[job.mode] }));
        requested.push(item);
      } catch (error) {
        if (!(error instanceof ClienteleError)) throw error;
        refused.set(item, error);
      }
    }
    return { size: batch.length, refused, requests, requested };
  }

  /** One batch: its writes, its refused rows and the checkpoint, in one transaction. */
  private async apply(
    job: repo.ImportRow,
    { size, refused, requests, requested }: ReturnType<ImportWorker['prepare']>,
    applied: number,
  ): Promise<number> {
    const remember = await withRetry(() =>
      this.db.transaction().execute(async (trx) => {
        const now = await repo.findImport(trx, job.store_id, job.id, true);
        await repo.writeAsImport(trx, job.id);
        // Still this process's, and where it left it: else another process took it over.
        if (now?.status !== 'running' || now.lease_owner !== this.owner) throw new LeaseLost();
        if (now.processed !== applied) throw new LeaseLost();
        const written = await upsertAllInTransaction(
          trx,
          this.fieldCache,
          this.services,
          requests,
          {
            dryRun: job.dry_run,
          },
        );
        const counts = { created: 0, updated: 0, unchanged: 0, failed: 0 };
        const errors: repo.ImportErrorRow[] = [];
        const refuse = (item: ImportRowItem, problem: ImportRowItem['problem']) => {
          counts.failed++;
          errors.push({
            row_number: item.row,
            line: item.line,
            code: problem?.code ?? 'validation_failed',
            path: problem?.path ?? '',
            message: problem?.message ?? 'The row was refused.',
            row_text: item.text.slice(0, ROW_TEXT_MAX),
          });
        };
        for (const [item, why] of refused) {
          refuse(item, why instanceof ClienteleError ? problemOf(why, item.column) : why);
        }
        written.outcomes.forEach((outcome, i) => {
          const item = requested[i] as ImportRowItem;
          if (outcome instanceof ClienteleError) refuse(item, problemOf(outcome, item.column));
          else counts[(outcome as UpsertResult).result]++;
        });
        errors.sort((a, b) => a.row_number - b.row_number);
        await repo.insertErrors(trx, job.store_id, job.id, errors);
        await repo.recordProgress(trx, job, {
          processed: applied + size,
          ...counts,
          leaseMs: this.options.leaseMs,
        });
        return written.remember;
      }),
    );
    remember();
    // PGlite answers without any I/O: a job's batches would follow one another on
    // promises alone and starve the event loop (requests, timers) until the job ended.
    await new Promise((resolve) => setImmediate(resolve));
    return applied + size;
  }
}

import { sql } from 'kysely';
import type { DB } from '../db/database.js';
import { leaseEnd } from '../db/lease.js';
import { newId } from '../ids.js';

/** The SQL of imports (migration 0016): jobs, their spooled file and their refused rows. */

export interface ImportRow {
  store_id: string;
  id: string;
  key_id: string | null;
  format: 'ndjson' | 'csv';
  mode: 'upsert' | 'create_only' | 'update_only';
  dry_run: boolean;
  options: { mapping?: Record<string, string>; delimiter?: string };
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  bytes: number;
  chunks: number;
  total: number | null;
  processed: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  error: string | null;
  lease_owner: string | null;
  leased_until: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface ImportErrorRow {
  row_number: number;
  line: number;
  code: string;
  path: string;
  message: string;
  row_text: string;
}

export async function insertChunk(
  db: DB,
  storeId: string,
  importId: string,
  n: number,
  data: Uint8Array,
): Promise<void> {
  await sql`INSERT INTO import_chunks (store_id, import_id, n, data)
    VALUES (${storeId}, ${importId}, ${n}, ${data})`.execute(db);
}

export async function readChunk(
  db: DB,
  storeId: string,
  importId: string,
  n: number,
): Promise<Uint8Array | undefined> {
  const { rows } = await sql<{ data: Uint8Array }>`SELECT data FROM import_chunks
    WHERE store_id = ${storeId} AND import_id = ${importId} AND n = ${n}`.execute(db);
  return rows[0]?.data;
}

export async function deleteChunks(db: DB, storeId: string, importId: string): Promise<void> {
  await sql`DELETE FROM import_chunks WHERE store_id = ${storeId} AND import_id = ${importId}`.execute(
    db,
  );
}

export async function insertImport(
  db: DB,
  row: Pick<
    ImportRow,
    'store_id' | 'id' | 'key_id' | 'format' | 'mode' | 'dry_run' | 'options' | 'bytes' | 'chunks'
  > & { total: number | null },
): Promise<ImportRow> {
  const { rows } = await sql<ImportRow>`
    INSERT INTO imports (store_id, id, key_id, format, mode, dry_run, options, bytes, chunks, total)
    VALUES (${row.store_id}, ${row.id}, ${row.key_id}, ${row.format}, ${row.mode}, ${row.dry_run},
      ${JSON.stringify(row.options)}::jsonb, ${row.bytes}, ${row.chunks}, ${row.total})
    RETURNING *`.execute(db);
  return rows[0] as ImportRow;
}

export async function findImport(
  db: DB,
  storeId: string,
  id: string,
  lock = false,
): Promise<ImportRow | undefined> {
  const { rows } = lock
    ? await sql<ImportRow>`SELECT * FROM imports WHERE store_id = ${storeId} AND id = ${id}
        FOR UPDATE`.execute(db)
    : await sql<ImportRow>`SELECT * FROM imports WHERE store_id = ${storeId} AND id = ${id}`.execute(
        db,
      );
  return rows[0];
}

/** A page of the store's imports, newest first. */
export async function listImports(
  db: DB,
  storeId: string,
  limit: number,
  before: string | undefined,
): Promise<ImportRow[]> {
  const { rows } = await sql<ImportRow>`SELECT * FROM imports WHERE store_id = ${storeId}
    ${before === undefined ? sql`` : sql`AND id < ${before}`}
    ORDER BY id DESC LIMIT ${limit}`.execute(db);
  return rows;
}

/**
 * Leases the oldest job that is waiting, or running under a lease that lapsed (its
 * process died), in a store running fewer than its limit. The advisory lock makes the
 * count and the lease one step across processes, so a store never runs past its limit;
 * SKIP LOCKED passes over a job another process is leasing.
 */
export async function leaseNext(
  db: DB,
  owner: string,
  leaseMs: number,
  limitOf: (storeId: string) => Promise<number>,
): Promise<ImportRow | undefined> {
  // The stores' limits first, outside the transaction: reading a store's settings takes a
  // connection of its own (on PGlite, the one connection the transaction would hold).
  const { rows: stores } = await sql<{ store_id: string }>`
    SELECT DISTINCT store_id FROM imports
    WHERE status = 'queued' OR (status = 'running' AND leased_until < clock_timestamp())`.execute(
    db,
  );
  if (stores.length === 0) return undefined;
  const limits = new Map<string, number>();
  for (const { store_id } of stores) limits.set(store_id, await limitOf(store_id));
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(7316001)`.execute(trx);
    // Found across stores without a lock, then locked in its own store: on Citus a lock
    // is taken only by a statement that reads one store (one shard).
    const { rows: candidates } = await sql<{ store_id: string; id: string }>`
      SELECT store_id, id FROM imports
      WHERE status = 'queued' OR (status = 'running' AND leased_until < clock_timestamp())
      ORDER BY created_at LIMIT 20`.execute(trx);
    for (const candidate of candidates) {
      const { rows: held } = await sql<{ store_id: string; id: string; running: number }>`
        SELECT i.store_id, i.id,
          (SELECT count(*)::int FROM imports r WHERE r.store_id = i.store_id
             AND r.status = 'running' AND r.leased_until >= clock_timestamp()) AS running
        FROM imports i
        WHERE i.store_id = ${candidate.store_id} AND i.id = ${candidate.id}
          AND (i.status = 'queued' OR (i.status = 'running' AND i.leased_until < clock_timestamp()))
        FOR UPDATE OF i SKIP LOCKED`.execute(trx);
      const c = held[0];
      if (c === undefined) continue;
      if (c.running >= (limits.get(c.store_id) ?? 1)) continue;
      const { rows } = await sql<ImportRow>`
        UPDATE imports SET status = 'running', lease_owner = ${owner},
          leased_until = ${leaseEnd(leaseMs)}, started_at = coalesce(started_at, now()),
          updated_at = now()
        WHERE store_id = ${c.store_id} AND id = ${c.id}
        RETURNING *`.execute(trx);
      return rows[0];
    }
    return undefined;
  });
}

/** Keeps a lease; false when the job is no longer this owner's to run (cancelled, taken over). */
export async function renewLease(
  db: DB,
  row: { store_id: string; id: string },
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const result = await sql`UPDATE imports SET leased_until = ${leaseEnd(leaseMs)}
    WHERE store_id = ${row.store_id} AND id = ${row.id} AND lease_owner = ${owner}
      AND status = 'running'`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** A batch's checkpoint and counts, written in the batch's transaction. */
export async function recordProgress(
  trx: DB,
  row: { store_id: string; id: string },
  progress: {
    processed: number;
    created: number;
    updated: number;
    unchanged: number;
    failed: number;
    leaseMs: number;
  },
): Promise<void> {
  await sql`UPDATE imports SET processed = ${progress.processed},
      created = created + ${progress.created}, updated = updated + ${progress.updated},
      unchanged = unchanged + ${progress.unchanged}, failed = failed + ${progress.failed},
      leased_until = ${leaseEnd(progress.leaseMs)}, updated_at = now()
    WHERE store_id = ${row.store_id} AND id = ${row.id}`.execute(trx);
}

export async function insertErrors(
  trx: DB,
  storeId: string,
  importId: string,
  errors: ImportErrorRow[],
): Promise<void> {
  if (errors.length === 0) return;
  await sql`INSERT INTO import_errors
      (store_id, import_id, row_number, line, code, path, message, row_text)
    SELECT ${storeId}, ${importId}, e.row_number, e.line, e.code, e.path, e.message, e.row_text
    FROM jsonb_to_recordset(${JSON.stringify(errors)}::jsonb) AS e(row_number int, line int,
      code text, path text, message text, row_text text)
    ON CONFLICT DO NOTHING`.execute(trx);
}

export async function listErrors(
  db: DB,
  storeId: string,
  importId: string,
  after: number,
  limit: number,
): Promise<ImportErrorRow[]> {
  const { rows } = await sql<ImportErrorRow>`
    SELECT row_number, line, code, path, message, row_text FROM import_errors
    WHERE store_id = ${storeId} AND import_id = ${importId} AND row_number > ${after}
    ORDER BY row_number LIMIT ${limit}`.execute(db);
  return rows;
}

/** Ends a job this owner runs (completed or failed): the job as it ended, or undefined when it was not its to end. */
export async function finishImport(
  db: DB,
  row: { store_id: string; id: string },
  owner: string,
  end: { status: 'completed' | 'failed'; total: number | null; error?: string },
): Promise<ImportRow | undefined> {
  const { rows } = await sql<ImportRow>`UPDATE imports SET status = ${end.status},
      total = coalesce(${end.total}, total), error = ${end.error ?? null},
      finished_at = now(), updated_at = now(), lease_owner = NULL, leased_until = NULL
    WHERE store_id = ${row.store_id} AND id = ${row.id} AND lease_owner = ${owner}
      AND status = 'running'
    RETURNING *`.execute(db);
  return rows[0];
}

/**
 * Every change record the caller's transaction writes from now on is this import's
 * (migration 0025: `customer_events.import_id` defaults to this setting).
 */
export async function writeAsImport(trx: DB, importId: string): Promise<void> {
  // SET LOCAL, not set_config(): Citus passes a SET LOCAL on to the nodes the transaction
  // touches (docs/scaling.md). It takes no parameter: the id is checked to be one of ours.
  if (!/^imp_[0-9A-Za-z]+$/.test(importId)) throw new Error(`not an import id: ${importId}`);
  await sql.raw(`SET LOCAL clientele.import_id = '${importId}'`).execute(trx);
}

/**
 * The record of a completed import (the feed's `import.completed`): its subject, which
 * orders its deliveries, is the import; its `changes` are the job as it completed.
 */
export async function recordCompleted(
  trx: DB,
  row: ImportRow,
  job: Record<string, unknown>,
): Promise<void> {
  await trx
    .insertInto('customer_events')
    .values({
      store_id: row.store_id,
      id: newId('evt'),
      customer_id: row.id,
      type: 'import_completed',
      api: 'import',
      key_id: row.key_id,
      changes: JSON.stringify(job),
      created_at: row.finished_at ?? new Date(),
      previous_version: null,
      version: null,
      import_id: row.id,
    })
    .execute();
}

/** Cancels a job that has not ended; the job as it is now. */
export async function cancelImport(
  db: DB,
  storeId: string,
  id: string,
): Promise<ImportRow | undefined> {
  await sql`UPDATE imports SET status = 'cancelled', finished_at = now(), updated_at = now(),
      lease_owner = NULL, leased_until = NULL
    WHERE store_id = ${storeId} AND id = ${id} AND status IN ('queued', 'running')`.execute(db);
  return findImport(db, storeId, id);
}

import type { ImportRow } from './imports.repository.js';
import type { ImportJob } from './schema.js';

/** A job as the API shows it (and as its `import.completed` event carries it). */
export function jobOf(row: ImportRow): ImportJob {
  const end = row.finished_at ?? new Date();
  const seconds = row.started_at ? (end.getTime() - row.started_at.getTime()) / 1000 : 0;
  return {
    id: row.id,
    status: row.status,
    format: row.format,
    mode: row.mode,
    dryRun: row.dry_run,
    bytes: Number(row.bytes),
    total: row.total,
    processed: row.processed,
    created: row.created,
    updated: row.updated,
    unchanged: row.unchanged,
    failed: row.failed,
    rowsPerSecond: seconds > 0 ? Math.round(row.processed / seconds) : null,
    error: row.error,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Bulk imports (docs/api.md, "Imports"). The file is spooled into `import_chunks` as it
 * arrives, so that a job survives a restart and any process of a fleet can run it. A
 * job is leased by one process at a time (`FOR UPDATE SKIP LOCKED`, `leased_until`
 * renewed while it runs); `processed`, the rows applied so far, is written in the same
 * transaction as each batch's writes, so a job resumed after a crash applies no row twice.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE imports (
      store_id text NOT NULL,
      id text NOT NULL,
      key_id text,
      format text NOT NULL,
      mode text NOT NULL,
      dry_run boolean NOT NULL,
      options jsonb NOT NULL,
      status text NOT NULL DEFAULT 'queued',
      bytes bigint NOT NULL,
      chunks integer NOT NULL,
      total integer,
      processed integer NOT NULL DEFAULT 0,
      created integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      unchanged integer NOT NULL DEFAULT 0,
      failed integer NOT NULL DEFAULT 0,
      error text,
      lease_owner text,
      leased_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (store_id, id)
    )`.execute(db);
  // What a worker looks for: jobs waiting, or running under a lease that lapsed.
  await sql`
    CREATE INDEX imports_to_run ON imports (created_at)
      WHERE status IN ('queued', 'running')`.execute(db);
  await sql`
    CREATE TABLE import_chunks (
      store_id text NOT NULL,
      import_id text NOT NULL,
      n integer NOT NULL,
      data bytea NOT NULL,
      PRIMARY KEY (store_id, import_id, n)
    )`.execute(db);
  await sql`
    CREATE TABLE import_errors (
      store_id text NOT NULL,
      import_id text NOT NULL,
      row_number integer NOT NULL,
      line integer NOT NULL,
      code text NOT NULL,
      path text NOT NULL,
      message text NOT NULL,
      row_text text NOT NULL,
      PRIMARY KEY (store_id, import_id, row_number),
      FOREIGN KEY (store_id, import_id) REFERENCES imports (store_id, id) ON DELETE CASCADE
    )`.execute(db);
}

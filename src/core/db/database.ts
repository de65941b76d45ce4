import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Tables } from './schema.js';

export type DB = Kysely<Tables>;

export interface Database {
  db: DB;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string. Without it, PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite's directory; `memory://` (or undefined) keeps it in memory. */
  dataDir?: string | undefined;
  poolSize?: number;
}

// pg hands back dates as 'YYYY-MM-DD' strings (a birthdate has no time zone) and int8
// as a number (our sequences stay far below 2^53), as PGlite does on its own.
const OID_INT8 = 20;
const OID_DATE = 1082;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // A database that is down or unreachable answers 503 quickly rather than hanging.
      connectionTimeoutMillis: 1_500,
      // No statement may hold a connection (and its locks) for long.
      statement_timeout: 10_000,
      idle_in_transaction_session_timeout: 30_000,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
          if (oid === OID_INT8) return (v: string) => Number(v);
          if (oid === OID_DATE) return (v: string) => v;
          return pg.types.getTypeParser(oid, format);
        }) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client losing its connection must not crash the process; the pool
    // replaces it on next use.
    pool.on('error', () => {});
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }

  const dir = options.dataDir && options.dataDir !== 'memory://' ? options.dataDir : undefined;
  if (dir) initializePgliteDirectory(dir);
  const pglite = new PGlite(dir);
  await pglite.waitReady;
  const db = new Kysely<Tables>({ dialect: new PGliteDialect(pglite) });
  return { db, kind: 'pglite', close: () => db.destroy() };
}

/** Runs fn in a transaction: the caller's, when it is already in one, or a new one. */
export function inTransaction<T>(db: DB, fn: (trx: DB) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/**
 * Creates a new PGlite data directory in a short-lived child process. Creating one
 * (initdb) grows PGlite's WebAssembly memory to about 800 MB, which a process never gives
 * back; opening an existing directory needs about 300 MB. So the server only ever opens.
 */
function initializePgliteDirectory(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) return;
  mkdirSync(dir, { recursive: true });
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const script = `const { PGlite } = await import(${JSON.stringify(pglite)});
    const db = new PGlite(process.argv[1]); await db.waitReady; await db.close();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: 'inherit' });
}

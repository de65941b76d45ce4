import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, type LogEvent, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { SetupError } from '../errors.js';
import { connectionFailure } from './availability.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Tables } from './schema.js';
import { statementName } from './statements.js';

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
  /**
   * Reach PostgreSQL at once and fail in one line (SetupError) when it cannot be: what a
   * starting process wants (serve and every command). Without it, a database that is
   * away is met by the first query, which then answers 503 as any outage.
   */
  verifyConnection?: boolean;
  /** Hears every statement sent through the handle, with its parameters (tests of what the code sends). */
  onQuery?: (sql: string, parameters: readonly unknown[]) => void;
}

// pg hands back dates as 'YYYY-MM-DD' strings (a birthdate has no time zone) and int8
// as a number (our sequences stay far below 2^53), as PGlite does on its own.
const OID_INT8 = 20;
const OID_DATE = 1082;

/** A node-postgres client that sends the named statements (db/statements.ts) by name. */
class Client extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // A connection lost while the client is checked out with no statement running (a
    // transaction's, between two statements) is an 'error' event the pool does not hear
    // (it listens only while the client is idle in it), and unheard, node ends the
    // process. Heard here, it is told by the statement that follows, which fails (as an
    // outage: availability.ts), and the pool drops the client when it is released.
    this.on('error', () => {});
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has a dozen overloads; this passes each through.
  override query(config: any, values?: any, callback?: any): any {
    const name = typeof config === 'string' ? statementName(config) : undefined;
    if (name === undefined) return super.query(config, values, callback);
    return super.query({ name, text: config, values }, callback);
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      Client,
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
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }), log: logOf(options) });
    // Reached at once, so that a database that is away or missing is told in one line
    // by whoever opens it (serve, or any other command) rather than by its first query.
    if (options.verifyConnection) {
      try {
        await sql`SELECT 1`.execute(db);
      } catch (error) {
        await db.destroy();
        const failure = connectionFailure(error, options.databaseUrl);
        throw failure ? new SetupError(failure) : error;
      }
    }
    return { db, kind: 'postgres', close: () => db.destroy() };
  }

  const dir = options.dataDir && options.dataDir !== 'memory://' ? options.dataDir : undefined;
  const unlock = dir ? lockDataDirectory(dir) : () => {};
  try {
    if (dir) {
      checkDataDirectoryVersion(dir);
      initializePgliteDirectory(dir);
    }
    return await openPglite(dir, unlock, options);
  } catch (error) {
    unlock();
    throw error;
  }
}

/** Kysely's log, when something listens to the statements sent. */
function logOf(options: DatabaseOptions) {
  const { onQuery } = options;
  if (!onQuery) return undefined;
  return (event: LogEvent) => onQuery(event.query.sql, event.query.parameters);
}

async function openPglite(
  dir: string | undefined,
  unlock: () => void,
  options: DatabaseOptions,
): Promise<Database> {
  // PostgreSQL's 128 MB of shared buffers would all live in PGlite's WebAssembly memory,
  // which never shrinks; 16 MB keeps a laptop server near 300 MB, and the operating
  // system's cache holds the rest of the data files.
  const pglite = new PGlite(dir, {
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
  });
  await pglite.waitReady;
  const db = new Kysely<Tables>({ dialect: new PGliteDialect(pglite), log: logOf(options) });
  return {
    db,
    kind: 'pglite',
    close: async () => {
      await db.destroy();
      unlock();
    },
  };
}

/** Whether the database answers at all. */
export async function isReachable(db: DB): Promise<boolean> {
  await sql`SELECT 1`.execute(db);
  return true;
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
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  mkdirSync(dir, { recursive: true });
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const script = `const { PGlite } = await import(${JSON.stringify(pglite)});
    const db = new PGlite(process.argv[1]); await db.waitReady; await db.close();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: 'inherit' });
}

/**
 * The major version of the PostgreSQL that the PGlite we depend on embeds (0.5: 18).
 * PostgreSQL opens no data directory of another major version; test/db/pglite-dialect
 * checks this against PGlite itself.
 */
export const PGLITE_POSTGRES_MAJOR = '18';

/** The PGlite directory was written by another major version of PostgreSQL. */
export class DataDirectoryVersionMismatch extends SetupError {}

/**
 * Refuses, naming both versions, a directory that PGlite would only fail to start on
 * ("PGlite failed to initialize properly"): one written by an earlier Clientele, whose
 * PGlite embedded another PostgreSQL (0.4: 17).
 */
function checkDataDirectoryVersion(dir: string): void {
  const file = join(dir, 'PG_VERSION');
  if (!existsSync(file)) return;
  const major = readFileSync(file, 'utf8').trim();
  if (major === PGLITE_POSTGRES_MAJOR) return;
  throw new DataDirectoryVersionMismatch(
    `The data directory ${dir} holds a PostgreSQL ${major} database; this Clientele's ` +
      `PGlite is PostgreSQL ${PGLITE_POSTGRES_MAJOR} and cannot open it. Keep the release ` +
      'that wrote it until its data is moved (docs/operations.md).',
  );
}

/** Another live process holds the PGlite directory: an operator's mistake, not a bug. */
export class DataDirectoryInUse extends SetupError {}

/**
 * PGlite is a database inside one process: a second process opening the same directory
 * would write past the first and corrupt it. A pid file refuses that, naming the holder;
 * the file of a process that died is taken over.
 */
function lockDataDirectory(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'clientele.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      // A process that exits without closing the database (its grace period over, say)
      // frees the directory too; its pid could otherwise be another process's one day.
      const unlock = () => {
        process.off('exit', unlock);
        rmSync(file, { force: true });
      };
      process.on('exit', unlock);
      return unlock;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirectoryInUse(
          `The data directory ${dir} is in use by process ${holder} (a running clientele?). ` +
            'Stop it first, or use DATABASE_URL=postgres://… to share one database between processes.',
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock the data directory ${dir}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

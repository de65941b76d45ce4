import { type PGlite, protocol } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import pgUtils from 'pg/lib/utils.js';
import { statementName } from './statements.js';

/**
 * Kysely over PGlite, one trip into PGlite per statement.
 *
 * PGlite's own `query()` makes six (parse, describe the statement to learn the types of
 * its parameters, bind, describe, execute, sync), and then copies its whole table of
 * type parsers for every result: about 270 µs for `SELECT 1` here, against about 90 µs
 * for the same messages sent as one. Parameters are turned into text as node-postgres
 * turns them (its own `prepareValue`), so a statement's parameters mean the same on
 * PGlite and on PostgreSQL; results are decoded by PGlite's own parsers, as before.
 *
 * PGlite is one connection: a statement or a transaction holds it until it is done, and
 * the others wait their turn. The named statements (db/statements.ts) are parsed once
 * for it and then only bound and run.
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly pglite: PGlite) {}

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.pglite);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own signature.
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

class PGliteDriver implements Driver {
  private readonly connection: PGliteConnection;
  private held = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly pglite: PGlite) {
    this.connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {
    // Its own query() waits for PGlite to start; the protocol calls used here do not.
    await this.pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // Held: wait to be handed it. It passes straight from one holder to the next, never
    // free in between, so no caller can slip in before the one woken up.
    if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held = true;
    return this.connection;
  }

  async releaseConnection(): Promise<void> {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const level = settings.isolationLevel ? ` ISOLATION LEVEL ${settings.isolationLevel}` : '';
    await connection.executeQuery(CompiledQuery.raw(`BEGIN${level}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async destroy(): Promise<void> {
    await this.pglite.close();
  }
}

const { serialize } = protocol;
const { prepareValue } = pgUtils;
type DataRow = InstanceType<typeof protocol.messages.DataRowMessage>;
type RowDescription = InstanceType<typeof protocol.messages.RowDescriptionMessage>;
type CommandComplete = InstanceType<typeof protocol.messages.CommandCompleteMessage>;

class PGliteConnection implements DatabaseConnection {
  /** The named statements (db/statements.ts) this session has parsed. */
  private readonly prepared = new Set<string>();

  constructor(private readonly pglite: PGlite) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const name = statementName(query.sql);
    // Not known to be parsed: parse it, closing first whatever a failed call may have left
    // under that name (closing a statement that does not exist is no error).
    const parse =
      name === undefined
        ? [serialize.parse({ text: query.sql })]
        : this.prepared.has(name)
          ? []
          : [serialize.close({ type: 'S', name }), serialize.parse({ name, text: query.sql })];
    const message = concat([
      ...parse,
      serialize.bind({ statement: name, values: query.parameters.map((p) => prepareValue(p)) }),
      serialize.describe({ type: 'P' }),
      serialize.execute(),
      serialize.sync(),
    ]);
    const { messages } = await this.pglite.runExclusive(() => this.pglite.execProtocol(message));
    // Run without an error (execProtocol throws on one): the session keeps it parsed.
    if (name !== undefined) this.prepared.add(name);
    const rows: R[] = [];
    let names: string[] = [];
    let parsers: ((text: string) => unknown)[] = [];
    let affected: bigint | undefined;
    for (const m of messages) {
      if (m.name === 'rowDescription') {
        const { fields } = m as RowDescription;
        names = fields.map((f) => f.name);
        parsers = fields.map((f) => {
          const parse = this.pglite.parsers[f.dataTypeID];
          return parse ? (text: string) => parse(text, f.dataTypeID) : (text: string) => text;
        });
      } else if (m.name === 'dataRow') {
        const { fields } = m as DataRow;
        const row: Record<string, unknown> = {};
        for (let i = 0; i < fields.length; i++) {
          const text = fields[i];
          row[names[i] as string] =
            text === null || text === undefined
              ? null
              : (parsers[i] as (v: string) => unknown)(text);
        }
        rows.push(row as R);
      } else if (m.name === 'commandComplete') {
        const count = rowCount((m as CommandComplete).text);
        if (count !== undefined) affected = (affected ?? 0n) + count;
      }
    }
    return affected === undefined ? { rows } : { rows, numAffectedRows: affected };
  }

  async *streamQuery<R>(
    query: CompiledQuery,
    chunkSize = 100,
  ): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(query);
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) };
  }
}

/** The rows a command touched, from its tag (`INSERT 0 3`, `UPDATE 2`…); none for a read. */
function rowCount(tag: string): bigint | undefined {
  const [command, ...rest] = tag.split(' ');
  if (command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE')
    return BigInt(rest[rest.length - 1] ?? 0);
  return undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

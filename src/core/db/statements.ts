/**
 * Statements the hot path sends again and again, sent by name: each connection parses
 * and analyzes them once (a prepared statement), not on every call. Parsing, analyzing
 * and planning the batch's write-and-look-up statement cost PostgreSQL ~0.2-0.3 ms a
 * batch, and PGlite several times that.
 *
 * Only statements whose plan cannot depend on their parameters belong here, such as
 * calls of functions that plan their own queries: after five runs a prepared statement
 * may keep one generic plan for all parameters. Both database drivers (db/database.ts,
 * db/pglite-dialect.ts) look a statement's text up here.
 */
const names = new Map<string, string>();

/** `sql`, registered to be sent as the prepared statement `name`. */
export function named(name: string, sql: string): string {
  const known = names.get(sql);
  if (known !== undefined && known !== name) throw new Error(`${name}: already named ${known}`);
  names.set(sql, name);
  return sql;
}

/** The name `sql` is sent under, if it is one of the named statements. */
export function statementName(sql: string): string | undefined {
  return names.get(sql);
}

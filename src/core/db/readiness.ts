import { sql } from 'kysely';
import type { DB } from './database.js';
import { functions, type Placement, tables } from './distribution.js';

/**
 * Every rule of Citus's that the schema must keep to be distributed as `distribution.ts`
 * says, checked in the catalog of a migrated database (any PostgreSQL, PGlite included):
 * what breaks one, by name. `clientele distribute` refuses while there is any, and
 * `test/db/citus-readiness.test.ts` fails on it.
 *
 * - every table has a placement, and every placement a table;
 * - a distributed table's distribution column is NOT NULL, and every primary key and
 *   unique index includes it (Citus checks uniqueness only within a shard);
 * - a foreign key of a distributed table references a reference table, or a distributed
 *   one (all are co-located) with the two distribution columns paired; a reference
 *   table's, only a reference table; a local table's, no distributed one;
 * - a column numbered by a sequence (a default of nextval, an identity) in a distributed
 *   table is bigint (Citus gives each node its own range only of a bigint sequence);
 * - every `clientele_` function has a placement, and a distributed one has the argument
 *   it is distributed by.
 */
export async function citusViolations(db: DB): Promise<string[]> {
  const found: string[] = [];
  const placement = (table: string): Placement | undefined => tables[table];
  const distributedBy = (table: string) => {
    const p = placement(table);
    return p?.kind === 'distributed' ? p.column : undefined;
  };

  const { rows: present } = await sql<{ table: string }>`
    SELECT relname AS table FROM pg_class
    WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')`.execute(db);
  const names = new Set(present.map((r) => r.table));
  for (const table of names) {
    if (!placement(table)) found.push(`${table}: no placement in db/distribution.ts`);
  }
  for (const table of Object.keys(tables)) {
    if (!names.has(table))
      found.push(`${table}: placed in db/distribution.ts but not in the database`);
  }

  const { rows: columns } = await sql<{ table: string; column: string; notnull: boolean }>`
    SELECT c.relname AS table, a.attname AS column, a.attnotnull AS notnull
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
      AND a.attnum > 0 AND NOT a.attisdropped`.execute(db);
  for (const table of names) {
    const column = distributedBy(table);
    if (column === undefined) continue;
    const col = columns.find((c) => c.table === table && c.column === column);
    if (!col) found.push(`${table}: has no column ${column} to be distributed by`);
    else if (!col.notnull) found.push(`${table}.${column}: the distribution column may be null`);
  }

  const { rows: uniques } = await sql<{ table: string; index: string; columns: string[] }>`
    SELECT t.relname AS table, c.relname AS index,
      array(SELECT a.attname::text FROM unnest(i.indkey) AS k(n)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n) AS columns
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
    WHERE i.indisunique AND t.relnamespace = 'public'::regnamespace`.execute(db);
  for (const u of uniques) {
    const column = distributedBy(u.table);
    if (column !== undefined && !u.columns.includes(column)) {
      found.push(
        `${u.table}: unique index ${u.index} (${u.columns.join(', ')}) leaves out ${column}`,
      );
    }
  }

  const { rows: keys } = await sql<{
    name: string;
    table: string;
    references: string;
    columns: string[];
    referenced: string[];
  }>`
    SELECT con.conname AS name, t.relname AS table, r.relname AS references,
      array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(n, o)
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
      array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(n, o)
            JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o) AS referenced
    FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
    WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace`.execute(db);
  for (const fk of keys) {
    const from = placement(fk.table)?.kind;
    const to = placement(fk.references)?.kind;
    const what = `${fk.table}: foreign key ${fk.name} to ${fk.references}`;
    if (to === 'reference' || from === undefined || to === undefined) continue;
    if (from === 'reference')
      found.push(`${what}: a reference table may reference only reference tables`);
    else if (from === 'local' && to === 'distributed') {
      found.push(`${what}: a local table may not reference a distributed one`);
    } else if (from === 'distributed' && to !== 'distributed') {
      found.push(`${what}: a distributed table may reference only co-located or reference tables`);
    } else if (from === 'distributed') {
      const at = fk.columns.indexOf(distributedBy(fk.table) ?? '');
      if (at < 0 || fk.referenced[at] !== distributedBy(fk.references)) {
        found.push(`${what}: does not pair the distribution columns (${fk.columns.join(', ')})`);
      }
    }
  }

  const { rows: numbered } = await sql<{ table: string; column: string; type: string }>`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
      AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%')`.execute(db);
  for (const n of numbered) {
    if (distributedBy(n.table) !== undefined && n.type !== 'bigint') {
      found.push(`${n.table}.${n.column}: numbered by a sequence as ${n.type}, not bigint`);
    }
  }

  const { rows: procs } = await sql<{ name: string; args: string[] | null }>`
    SELECT proname AS name, proargnames::text[] AS args FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'clientele\\_%'`.execute(db);
  for (const p of procs) {
    const wanted = functions[p.name];
    if (!wanted) found.push(`${p.name}(): no placement in db/distribution.ts`);
    else if ('storeArgument' in wanted && !(p.args ?? []).includes(wanted.storeArgument)) {
      found.push(`${p.name}(): has no argument ${wanted.storeArgument} to be distributed by`);
    }
  }
  for (const name of Object.keys(functions)) {
    if (!procs.some((p) => p.name === name)) {
      found.push(`${name}(): placed in db/distribution.ts but not in the database`);
    }
  }
  return found;
}

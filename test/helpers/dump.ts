import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { Clientele } from '../../src/core/clientele.js';
import type { TestDatabase } from './database.js';

/**
 * Everything the database holds, as text: on PostgreSQL `pg_dump` of the test's
 * database (schema and every row); on PGlite, which has no pg_dump, every row of every
 * table of the schema, each as its JSON text (what a dump's data is).
 */
export async function dumpDatabase(database: TestDatabase, clientele: Clientele): Promise<string> {
  if (database.url) {
    const { stdout } = await promisify(execFile)('pg_dump', ['--no-owner', database.url], {
      maxBuffer: 512 * 1024 * 1024,
    });
    return stdout;
  }
  const { rows: tables } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(
    clientele.db,
  );
  const parts: string[] = [];
  for (const { name } of tables) {
    const { rows } = await sql<{ row: string }>`
      SELECT row_to_json(t)::text AS row FROM ${sql.table(name)} t`.execute(clientele.db);
    parts.push(`-- ${name}`, ...rows.map((r) => r.row));
  }
  return parts.join('\n');
}

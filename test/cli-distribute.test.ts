import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tables } from '../src/core/db/distribution.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { runCli } from './helpers/server-process.js';

/**
 * `clientele distribute` as an operator runs it, on a database without Citus (a PGlite
 * directory, or PostgreSQL when TEST_DATABASE_URL is set): it refuses and changes
 * nothing; `--dry-run` prints what a Citus coordinator would run.
 */
let database: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'clientele-distribute-'));
});
afterAll(async () => {
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const run = (args: string[]) =>
  runCli(args, { CLIENTELE_DATA_DIR: dataDir, DATABASE_URL: database.url ?? '' });

/** The constraints and functions of a PostgreSQL database: what distributing would change. */
async function catalog(): Promise<string> {
  if (!database.url) return '';
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query(`
      SELECT conrelid::regclass::text || ' ' || conname AS item FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace
      UNION ALL SELECT 'extension ' || extname FROM pg_extension
      ORDER BY 1`);
    return rows.map((r) => r.item).join('\n');
  } finally {
    await client.end();
  }
}

it('refuses before the migrations have run', async () => {
  const refused = await run(['distribute']);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(
    /not migrated: run `clientele migrate` first\. Nothing was changed/,
  );
  expect(refused.stdout).toBe('');
});

it('refuses without the citus extension, changing nothing, and says what would run', async () => {
  expect((await run(['migrate'])).code).toBe(0);
  const before = await catalog();

  const refused = await run(['distribute']);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/no citus extension .*Nothing was changed/);
  expect(refused.stdout).toBe('');
  expect(await catalog()).toBe(before);

  const dry = await run(['distribute', '--dry-run']);
  expect(dry.code, dry.stderr).toBe(0);
  expect(await catalog()).toBe(before);
  const lines = dry.stdout.trim().split('\n');
  expect(lines[0]).toBe('-- No citus extension here: what a Citus coordinator would run.');
  expect(lines[1]).toBe("SELECT create_distributed_table('stores', 'id', shard_count => 128);");
  const statements = lines.filter((l) => l.startsWith('SELECT'));
  for (const [table, placement] of Object.entries(tables)) {
    const expected =
      placement.kind === 'reference'
        ? `SELECT create_reference_table('${table}');`
        : placement.kind === 'distributed' && table !== 'stores'
          ? `SELECT create_distributed_table('${table}', '${placement.column}', colocate_with => 'stores');`
          : undefined;
    if (expected) expect(statements, table).toContain(expected);
    if (placement.kind === 'local') expect(dry.stdout).not.toContain(`'${table}'`);
  }
  expect(statements).toContain(
    "SELECT create_distributed_function('clientele_find_owners(text,text[],text[])', distribution_arg_name => 'p_store', colocate_with => 'stores');",
  );
  expect(dry.stdout).toMatch(/clientele_lease_store_deliveries\(text,integer,integer\)/);
  expect(dry.stdout).not.toMatch(/'clientele_write_derived|'clientele_lease_deliveries/);
  // Every table before the functions; each function once.
  const firstFunction = statements.findIndex((l) => l.includes('create_distributed_function'));
  expect(statements.slice(firstFunction).every((l) => l.includes('function'))).toBe(true);
  expect(lines.at(-1)).toBe(`-- ${statements.length} statements to run (dry run: none was).`);
});

it('takes a shard count, and refuses one that is not a count', async () => {
  const dry = await run(['distribute', '--dry-run', '--shards', '64']);
  expect(dry.code, dry.stderr).toBe(0);
  expect(dry.stdout).toContain(
    "SELECT create_distributed_table('stores', 'id', shard_count => 64);",
  );
  for (const bad of ['0', 'many', '1.5', '-3']) {
    const refused = await run(['distribute', '--dry-run', `--shards=${bad}`]);
    expect(refused.code, bad).toBe(1);
    expect(refused.stderr).toMatch(/--shards takes a whole number from 1 to 10000/);
  }
});

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataDirectoryVersionMismatch,
  openDatabase,
  PGLITE_POSTGRES_MAJOR,
} from '../../src/core/db/database.js';
import { PGliteDialect } from '../../src/core/db/pglite-dialect.js';

/**
 * Kysely over PGlite, one trip per statement (src/core/db/pglite-dialect.ts). What the
 * rest of the code relies on: parameters mean what they mean to node-postgres, results
 * come decoded, errors carry their SQLSTATE and leave PGlite usable, and a transaction
 * keeps every other statement out until it ends.
 */
// biome-ignore lint/suspicious/noExplicitAny: a scratch table, no schema type.
let db: Kysely<any>;

beforeAll(async () => {
  db = new Kysely({ dialect: new PGliteDialect(new PGlite()) });
  await sql`CREATE TABLE t (id int PRIMARY KEY, name text)`.execute(db);
});
afterAll(() => db.destroy());

describe('the PGlite dialect', () => {
  it('sends parameters as node-postgres does and decodes the results', async () => {
    const at = new Date('2026-11-22T10:20:30.456Z');
    const { rows } = await sql<Record<string, unknown>>`
      SELECT ${['a', 'b"c', null, 'd,e']}::text[] AS list, ${at}::timestamptz AS at,
        ${{ plan: 'pro', n: [1, 2] }}::jsonb AS doc, ${true}::boolean AS yes,
        ${null}::text AS nothing, ${42}::int AS n, 9007199254740991::int8 AS big,
        '2000-02-29'::date AS day`.execute(db);
    expect(rows).toEqual([
      {
        list: ['a', 'b"c', null, 'd,e'],
        at,
        doc: { plan: 'pro', n: [1, 2] },
        yes: true,
        nothing: null,
        n: 42,
        big: 9007199254740991,
        day: expect.anything(),
      },
    ]);
  });

  it('counts the rows a write touched', async () => {
    const inserted = await db
      .insertInto('t')
      .values([
        { id: 1, name: 'one' },
        { id: 2, name: 'two' },
      ])
      .executeTakeFirstOrThrow();
    expect(inserted.numInsertedOrUpdatedRows).toBe(2n);
    const updated = await db
      .updateTable('t')
      .set({ name: 'x' })
      .where('id', '=', 1)
      .executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(1n);
    const deleted = await db.deleteFrom('t').where('id', '>', 100).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(0n);
  });

  it('throws an error with its SQLSTATE and stays usable', async () => {
    await expect(
      db.insertInto('t').values({ id: 1, name: 'again' }).execute(),
    ).rejects.toMatchObject({
      code: '23505',
    });
    const rows = await db.selectFrom('t').select('name').where('id', '=', 1).execute();
    expect(rows).toEqual([{ name: 'x' }]);
  });

  it('hands PGlite to one caller at a time, in turn, however many ask at once', async () => {
    // Each transaction reads a counter and writes it back one higher, a turn of the event
    // loop later: two holding PGlite at once would both read the same value.
    await sql`CREATE TABLE counter (n int)`.execute(db);
    await sql`INSERT INTO counter VALUES (0)`.execute(db);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction().execute(async (trx) => {
          const [{ n }] = (await sql<{ n: number }>`SELECT n FROM counter`.execute(trx)).rows as [
            { n: number },
          ];
          await new Promise((resolve) => setImmediate(resolve));
          await sql`UPDATE counter SET n = ${n + 1}`.execute(trx);
        }),
      ),
    );
    const { rows } = await sql<{ n: number }>`SELECT n FROM counter`.execute(db);
    expect(rows).toEqual([{ n: 20 }]);
  });

  it('keeps other statements out of an open transaction until it ends', async () => {
    let outside: Promise<unknown[]> | undefined;
    await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('t').values({ id: 3, name: 'uncommitted' }).execute();
        // Sent while the transaction holds PGlite: it must wait, not run inside it.
        outside = db.selectFrom('t').select('id').where('id', '=', 3).execute();
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('roll back');
      })
      .catch(() => {});
    expect(await outside).toEqual([]);
  });
});

describe('a PGlite data directory', () => {
  it('is of the PostgreSQL major version PGlite embeds, as the code believes', async () => {
    const { rows } = await sql<{ v: string }>`
      SELECT current_setting('server_version_num') AS v`.execute(db);
    expect(String(Math.floor(Number(rows[0]!.v) / 10_000))).toBe(PGLITE_POSTGRES_MAJOR);
  });

  it('of another major version is refused, naming both, and left unlocked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clientele-pg17-'));
    try {
      writeFileSync(join(dir, 'PG_VERSION'), '17\n');
      const opening = openDatabase({ dataDir: dir });
      await expect(opening).rejects.toBeInstanceOf(DataDirectoryVersionMismatch);
      await expect(opening).rejects.toThrow(
        new RegExp(`PostgreSQL 17 database.*PostgreSQL ${PGLITE_POSTGRES_MAJOR}`),
      );
      expect(existsSync(join(dir, 'clientele.pid'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The customers of `npm run bench:segments` (bench/segments.ts), put straight into the tables. */
import { sql } from 'kysely';
import type { DB } from '../src/core/db/database.js';

/**
 * n customers of the store in the real tables, and the same rows in `plain`: tier
 * (STRING), points (NUMBER), vip (BOOLEAN), signup (DATE), visits (NUMBER).
 */
export async function fill(outer: DB, storeId: string, n: number): Promise<void> {
  // Filling takes longer than the server's statement timeout allows: lifted for it alone.
  await outer.transaction().execute(async (db) => {
    await sql`SET LOCAL statement_timeout = 0`.execute(db);
    await fillIn(db, storeId, n);
  });
  // As autovacuum leaves tables that have settled: statistics, and the visibility map
  // that lets a count read an index alone (the plain table's bitmap scan needs neither).
  await outer.connection().execute(async (conn) => {
    await sql`SET statement_timeout = 0`.execute(conn);
    await sql`VACUUM ANALYZE`.execute(conn);
    await sql`RESET statement_timeout`.execute(conn);
  });
}

async function fillIn(db: DB, storeId: string, n: number): Promise<void> {
  const values = sql`
    SELECT g,
      'cust_' || lpad(upper(to_hex(g)), 26, '0') AS id,
      (ARRAY['bronze','silver','gold','platinum','none'])[(1 + (g * 7919) % 5)::int] AS tier,
      ((g * 104729) % 10000)::float8 AS points,
      (g % 10 = 0) AS vip,
      (timestamptz '2020-01-01T00:00:00Z' + ((g * 31) % 2000)::int * interval '1 day') AS signup,
      ((g * 13) % 500)::float8 AS visits
    FROM generate_series(1, ${n}::bigint) AS g`;
  await sql`
    INSERT INTO customers (store_id, id, seq, email, custom_fields, created_at, updated_at)
    SELECT ${storeId}, v.id, 1 + v.g, 'c' || v.g || '@bench.example',
      jsonb_build_object('tier', v.tier, 'points', v.points, 'vip', v.vip,
        'signup', to_char(v.signup AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'visits', v.visits),
      now(), now()
    FROM (${values}) AS v`.execute(db);
  // The store's numbers go on after those given here (the seed customer has 1).
  await sql`
    INSERT INTO customer_numbers AS c (store_id, last_seq) VALUES (${storeId}, ${n + 1})
    ON CONFLICT (store_id) DO UPDATE SET last_seq = ${n + 1}`.execute(db);
  await sql`
    INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
    SELECT ${storeId}, 'email', 'c' || v.g || '@bench.example', v.id FROM (${values}) AS v`.execute(
    db,
  );
  await sql`
    INSERT INTO customer_values (store_id, customer_id, field, num, txt, bool, ts)
    SELECT ${storeId}, v.id, f.field, f.num, f.txt, f.bool, f.ts FROM (${values}) AS v
    CROSS JOIN LATERAL (VALUES
      ('tier', NULL::float8, v.tier, NULL::boolean, NULL::timestamptz),
      ('points', v.points, NULL, NULL, NULL),
      ('vip', NULL, NULL, v.vip, NULL),
      ('signup', NULL, to_char(v.signup AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), NULL, v.signup),
      ('visits', v.visits, NULL, NULL, NULL)
    ) AS f(field, num, txt, bool, ts)`.execute(db);
  // A store that keeps its typed values already (migration 0030: from its first segment
  // or preview on), as these rows say it does: its first segment builds at once, with no
  // fill of them first.
  await sql`UPDATE stores SET values_status = 'kept' WHERE id = ${storeId}`.execute(db);
  await sql`
    CREATE TABLE plain (id text PRIMARY KEY, tier text, points float8, vip boolean,
      signup timestamptz, visits float8)`.execute(db);
  await sql`
    INSERT INTO plain SELECT v.id, v.tier, v.points, v.vip, v.signup, v.visits
    FROM (${values}) AS v`.execute(db);
  for (const column of ['tier', 'points', 'vip', 'signup', 'visits']) {
    await sql`CREATE INDEX ${sql.id(`plain_${column}`)} ON plain (${sql.id(column)})`.execute(db);
  }
  await sql`CREATE TABLE plain_members (id text)`.execute(db);
}

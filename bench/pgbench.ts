import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * PostgreSQL's own ceiling for this work: pgbench running the single-statement
 * equivalent of an upsert (insert or update by store and email, merging custom fields
 * as JSONB and appending a phone number when new), with the same number of clients.
 */
const script = `
\\set n random(1, 200000)
\\set p random(0, 9999)
INSERT INTO bench_customers AS c (store_id, email, phone_numbers, custom_fields, version, updated_at)
VALUES ('sto_bench', 'c' || :n || '@bench.example', ARRAY['+1202555' || lpad(:p::text, 4, '0')],
        jsonb_build_object('plan', 'pro', 'visits', :p % 100, 'vip', false), 1, now())
ON CONFLICT (store_id, email) DO UPDATE SET
  custom_fields = c.custom_fields || EXCLUDED.custom_fields,
  phone_numbers = CASE WHEN EXCLUDED.phone_numbers[1] = ANY (c.phone_numbers) THEN c.phone_numbers
                       ELSE c.phone_numbers || EXCLUDED.phone_numbers END,
  version = c.version + 1,
  updated_at = now();
`;

export function pgbenchCeiling(databaseUrl: string, clients: number, seconds: number): number {
  execFileSync('psql', [
    databaseUrl,
    '-qc',
    `DROP TABLE IF EXISTS bench_customers;
     CREATE TABLE bench_customers (store_id text, email text, phone_numbers text[] NOT NULL,
       custom_fields jsonb NOT NULL, version int NOT NULL, updated_at timestamptz NOT NULL,
       PRIMARY KEY (store_id, email));`,
  ]);
  const file = join(mkdtempSync(join(tmpdir(), 'pgbench-')), 'upsert.sql');
  writeFileSync(file, script);
  const out = execFileSync(
    'pgbench',
    [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      file,
      databaseUrl,
    ],
    { encoding: 'utf8' },
  );
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1];
  if (!tps) throw new Error(`no tps in pgbench output:\n${out}`);
  return Number(tps);
}

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * PostgreSQL's own ceiling for this work: pgbench running the single-statement
 * equivalent of an upsert (insert or update by store and email, merging custom fields
 * as JSONB and appending a phone number when new), with the same number of clients.
 */
const upsertSetup = `DROP TABLE IF EXISTS bench_customers;
  CREATE TABLE bench_customers (store_id text, email text, phone_numbers text[] NOT NULL,
    custom_fields jsonb NOT NULL, version int NOT NULL, updated_at timestamptz NOT NULL,
    PRIMARY KEY (store_id, email));`;
const upsertScript = `
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
  return pgbench(databaseUrl, upsertSetup, upsertScript, clients, seconds);
}

/**
 * For comparison, not the ceiling: the rows an upsert of Clientele's writes, in
 * tables keyed as its own are (a customer with its sequence number, its email as an
 * identifier row unique in the store, a history event, the foreign keys), one
 * transaction per upsert. No look-up, no answer: what PostgreSQL alone takes to store
 * what an upsert stores.
 */
const sameRowsSetup = `DROP TABLE IF EXISTS bench_events, bench_identifiers, bench_profiles;
  CREATE TABLE bench_profiles (store_id text, id text, email text, phone_numbers text[] NOT NULL,
    custom_fields jsonb NOT NULL, version int NOT NULL, updated_at timestamptz NOT NULL,
    seq bigserial, PRIMARY KEY (store_id, id));
  CREATE UNIQUE INDEX ON bench_profiles (seq, store_id);
  CREATE TABLE bench_identifiers (store_id text, kind text, value text, customer_id text NOT NULL,
    PRIMARY KEY (store_id, kind, value),
    FOREIGN KEY (store_id, customer_id) REFERENCES bench_profiles (store_id, id));
  CREATE INDEX ON bench_identifiers (store_id, customer_id);
  CREATE TABLE bench_events (store_id text, customer_id text, id text, type text, changes jsonb,
    created_at timestamptz, PRIMARY KEY (store_id, customer_id, id),
    FOREIGN KEY (store_id, customer_id) REFERENCES bench_profiles (store_id, id));`;
const sameRowsScript = `
\\set n random(1, 200000)
\\set p random(0, 9999)
\\set e random(1, 1000000000)
BEGIN;
INSERT INTO bench_profiles AS c (store_id, id, email, phone_numbers, custom_fields, version, updated_at)
VALUES ('sto_bench', 'cust_' || :n, 'c' || :n || '@bench.example', ARRAY['+1202555' || lpad(:p::text, 4, '0')],
        jsonb_build_object('plan', 'pro', 'visits', :p % 100, 'vip', false), 1, now())
ON CONFLICT (store_id, id) DO UPDATE SET
  custom_fields = c.custom_fields || EXCLUDED.custom_fields, version = c.version + 1, updated_at = now();
INSERT INTO bench_identifiers (store_id, kind, value, customer_id)
VALUES ('sto_bench', 'email', 'c' || :n || '@bench.example', 'cust_' || :n) ON CONFLICT DO NOTHING;
INSERT INTO bench_events (store_id, customer_id, id, type, changes, created_at)
VALUES ('sto_bench', 'cust_' || :n, 'evt_' || :e || '_' || :client_id, 'customer.updated',
        '{"customFields": {"visits": 1}}', now());
COMMIT;
`;

export function pgbenchSameRows(databaseUrl: string, clients: number, seconds: number): number {
  return pgbench(databaseUrl, sameRowsSetup, sameRowsScript, clients, seconds);
}

function pgbench(
  databaseUrl: string,
  setup: string,
  script: string,
  clients: number,
  seconds: number,
): number {
  execFileSync('psql', [databaseUrl, '-qc', `SET client_min_messages = warning; ${setup}`]);
  const file = join(mkdtempSync(join(tmpdir(), 'pgbench-')), 'script.sql');
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

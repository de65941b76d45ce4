/**
 * `npm run bench:search`: the console's search box (GET …/customers?q=) at 1,000,000
 * customers on PostgreSQL (BENCH_DATABASE_URL, a scratch database made and dropped). The
 * customers are written straight into the real tables (INSERT … SELECT generate_series,
 * with the identifiers the write path would have written), then searched over HTTP on
 * 127.0.0.1, one request at a time, by prefixes people type: part of an email, a phone
 * number's first digits, a first name, "first last", a last name, an external id.
 * Prints the fill time and p50/p95/p99 beside the 100 ms ceiling; asserts nothing.
 */
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { Clientele } from '../src/core/clientele.js';
import { buildApp } from '../src/http/app.js';
import { withDatabase } from './server.js';

const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const customers = Number(process.env.BENCH_CUSTOMERS ?? 1_000_000);
const queries = Number(process.env.BENCH_QUERIES ?? 2_000);
const maxSeconds = Number(process.env.BENCH_SECONDS ?? 120);
const CEILING_MS = 100;

const FIRST = [
  'James',
  'Mary',
  'John',
  'Patricia',
  'Robert',
  'Jennifer',
  'Michael',
  'Linda',
  'William',
  'Elizabeth',
  'David',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Charles',
  'Karen',
  'Daniel',
  'Nancy',
  'Matthew',
  'Lisa',
  'Anthony',
  'Betty',
  'Mark',
  'Sandra',
  'Jane',
  'Ashley',
  'Paul',
  'Emily',
  'Andrew',
  'Donna',
  'Joshua',
  'Michelle',
  'Kevin',
  'Carol',
  'Brian',
  'Amanda',
  'George',
  'Melissa',
  'Timothy',
  'Deborah',
  'Ronald',
  'Zoë',
  'José',
  'Chloé',
  'Søren',
  'Aiko',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
];
const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'example.com', 'icloud.com', 'proton.me'];

// Customer g (1…n), as the fill writes it and the queries look for it.
const first = (g: number) => FIRST[g % FIRST.length] as string;
const last = (g: number) => LAST[Math.floor(g / FIRST.length) % LAST.length] as string;
const email = (g: number) =>
  `${first(g)}.${last(g)}${g}@${DOMAINS[g % DOMAINS.length]}`.normalize('NFKC').toLowerCase();
const phone = (g: number) => `+1202${String(g).padStart(7, '0')}`;

async function fill(clientele: Clientele, storeId: string): Promise<void> {
  // One connection, without the pool's statement timeout: the fill is one long statement.
  await clientele.db.connection().execute(async (db) => {
    await sql`SET statement_timeout = 0`.execute(db);
    await fillWith(db, storeId);
  });
}

async function fillWith(db: Clientele['db'], storeId: string) {
  const arr = (xs: string[]) => sql`ARRAY[${sql.join(xs)}]::text[]`;
  await sql`
    INSERT INTO customers (store_id, id, seq, external_id, email, phone_numbers, first_name,
      last_name, version, created_at, updated_at)
    SELECT ${storeId}, 'cust_0B' || lpad(g::text, 24, '0'), g, 'ext-' || g,
      lower(normalize(f || '.' || l || g || '@' || d, NFKC)), ARRAY['+1202' || lpad(g::text, 7, '0')],
      f, l, 1, now(), now()
    FROM generate_series(1, ${customers}) AS g,
      LATERAL (SELECT (${arr(FIRST)})[1 + g % ${FIRST.length}] AS f,
        (${arr(LAST)})[1 + (g / ${FIRST.length}) % ${LAST.length}] AS l,
        (${arr(DOMAINS)})[1 + g % ${DOMAINS.length}] AS d) AS names`.execute(db);
  await sql`
    INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
    SELECT store_id, 'email', email, id FROM customers WHERE store_id = ${storeId}
    UNION ALL SELECT store_id, 'phone', phone_numbers[1], id FROM customers WHERE store_id = ${storeId}
    UNION ALL SELECT store_id, 'externalId', external_id, id FROM customers WHERE store_id = ${storeId}`.execute(
    db,
  );
  await sql`
    INSERT INTO customer_numbers (store_id, last_seq) VALUES (${storeId}, ${customers})
    ON CONFLICT (store_id) DO UPDATE SET last_seq = excluded.last_seq`.execute(db);
  await sql`ANALYZE customers`.execute(db);
  await sql`ANALYZE customer_identifiers`.execute(db);
}

/** A prefix someone would type, of a random customer's email, phone, name or external id. */
function randomQuery(): { kind: string; q: string } {
  const g = 1 + Math.floor(Math.random() * customers);
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)] as T;
  const cut = (s: string, n: number) => s.slice(0, n);
  switch (pick(['email', 'phone', 'first', 'full', 'last', 'external'])) {
    case 'email':
      return { kind: 'email', q: cut(email(g), pick([2, 4, 8, 14, 20])) };
    case 'phone':
      return { kind: 'phone', q: cut(phone(g).slice(1), pick([4, 6, 9, 11])) };
    case 'first':
      return { kind: 'first name', q: cut(first(g), pick([2, 3, 5])) };
    case 'full':
      return { kind: 'first last', q: `${first(g)} ${cut(last(g), pick([1, 3]))}` };
    case 'last':
      return { kind: 'last name', q: cut(last(g), pick([2, 4, 6])) };
    default:
      return { kind: 'external id', q: cut(`ext-${g}`, pick([5, 7, 9])) };
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

await withDatabase(serverUrl, 'clientele_bench_search', async (databaseUrl) => {
  const clientele = await Clientele.open({ databaseUrl, migrate: true });
  const app = await buildApp({ clientele });
  try {
    const store = await clientele.stores.create('bench');
    const started = performance.now();
    await fill(clientele, store.id);
    console.log(
      `filled ${customers.toLocaleString()} customers (${(customers * 3).toLocaleString()} identifiers) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/stores/${store.id}/customers`;
    const headers = { authorization: `Bearer ${store.apiKey}` };
    const ask = async (q: string) => {
      const response = await fetch(`${base}?limit=50&q=${encodeURIComponent(q)}`, { headers });
      if (response.status !== 200)
        throw new Error(`${q}: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { data: unknown[] }).data.length;
    };
    for (let i = 0; i < 50; i++) await ask(randomQuery().q); // warm-up
    const times: number[] = [];
    const byKind = new Map<string, number[]>();
    let empty = 0;
    const until = performance.now() + maxSeconds * 1000;
    while (times.length < queries && performance.now() < until) {
      const { kind, q } = randomQuery();
      const t0 = performance.now();
      if ((await ask(q)) === 0) empty++;
      const ms = performance.now() - t0;
      times.push(ms);
      byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
    }
    times.sort((a, b) => a - b);
    console.log(
      `search, ${times.length} queries one at a time, limit 50 (${empty} found nothing): p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms (ceiling ${CEILING_MS} ms), p99 ${percentile(times, 99).toFixed(1)} ms`,
    );
    for (const [kind, ms] of byKind) {
      ms.sort((a, b) => a - b);
      console.log(
        `  ${kind.padEnd(12)} p95 ${percentile(ms, 95).toFixed(1)} ms (${ms.length} queries)`,
      );
    }
  } finally {
    await app.close();
    await clientele.close();
  }
});

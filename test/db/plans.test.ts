import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { PROBES_ONLY } from '../../src/core/db/migrations/0019_write_plans.js';
import { engineForFile } from '../helpers/database.js';

/**
 * The look-up's plan is made once per connection and kept (migration 0006), possibly
 * while the tables are still empty. Whatever it was planned on, it must probe each
 * identifier value and each customer by the whole primary key: a plan that reads a
 * store would be kept too, and cost more with every customer added.
 */
const engine = engineForFile();

/** A function's source and settings, as the migrations left them. */
async function functionNamed(name: string) {
  const { rows } = await sql<{ prosrc: string; proconfig: string[] | null }>`
    SELECT prosrc, proconfig FROM pg_proc WHERE proname = ${name}`.execute(engine.clientele.db);
  return rows[0];
}

it('plans the identifier look-up as one probe per key, even on empty tables', async () => {
  const fn = await functionNamed('clientele_find_owners');
  expect(fn?.proconfig).toContain('plan_cache_mode=force_generic_plan');
  // The function's own query, its arguments turned into parameters, planned generic.
  const query = /RETURN QUERY([\s\S]*?);\s*END/
    .exec(fn!.prosrc)![1]!
    .replaceAll('p_store', '$1')
    .replaceAll('p_kinds', '$2')
    .replaceAll('p_values', '$3');
  const plan = await engine.clientele.db.connection().execute(async (conn) => {
    await sql`SET plan_cache_mode = force_generic_plan`.execute(conn);
    await sql.raw(`PREPARE look (text, text[], text[]) AS ${query}`).execute(conn);
    try {
      const explained = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN (COSTS OFF) EXECUTE look('sto_x', '{email}', '{a@example.com}')`.execute(conn);
      return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await sql`DEALLOCATE look`.execute(conn);
      await sql`RESET plan_cache_mode`.execute(conn);
    }
  });
  expect(plan).not.toMatch(/Seq Scan|Bitmap/);
  expect(plan).toMatch(
    /customer_identifiers_pkey[^\n]*\n\s*Index Cond: \(\(store_id = \$1\) AND \(kind = k\.kind\) AND \(value = k\.value\)\)/,
  );
  expect(plan).toMatch(
    /customers_pkey[^\n]*\n\s*Index Cond: \(\(store_id = \$1\) AND \(id = i\.customer_id\)\)/,
  );
});

it("reads a customer's history newest first through the events' primary key", async () => {
  const { rows: indexes } = await sql<{ indexdef: string }>`
    SELECT indexdef FROM pg_indexes WHERE tablename = 'customer_events'`.execute(
    engine.clientele.db,
  );
  // The key, an event by its id (migration 0015), and the feed's order within a store
  // (migration 0011).
  expect(indexes.map((i) => i.indexdef).sort()).toEqual([
    expect.stringMatching(/customer_events_by_id .*\(id, store_id\)$/),
    expect.stringMatching(/customer_events_in_order .*\(store_id, tx, "?position"?\)$/),
    expect.stringMatching(/customer_events_pkey .*\(store_id, customer_id, id\)$/),
  ]);
  const plan = await engine.clientele.db.connection().execute(async (conn) => {
    // An empty table is cheapest to read whole; the question is whether the key serves the order.
    await sql`SET enable_seqscan = off`.execute(conn);
    try {
      const explained = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN (COSTS OFF) SELECT * FROM customer_events
        WHERE store_id = 'sto_x' AND customer_id = 'cust_x' AND id < 'evt_y'
        ORDER BY id DESC LIMIT 20`.execute(conn);
      return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await sql`RESET enable_seqscan`.execute(conn);
    }
  });
  expect(plan).toMatch(/Index Scan Backward using customer_events_pkey/);
  expect(plan).not.toMatch(/Sort/);
});

it("reads a store's event feed in order through its index, with no sort", async () => {
  const plan = await engine.clientele.db.connection().execute(async (conn) => {
    await sql`SET enable_seqscan = off`.execute(conn);
    try {
      const explained = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN (COSTS OFF) SELECT * FROM customer_events
        WHERE store_id = 'sto_x' AND tx < pg_snapshot_xmin(pg_current_snapshot())
          AND created_at >= now() - interval '30 days'
          AND (tx, position) > ('5'::xid8, 10::bigint)
        ORDER BY tx, position LIMIT 101`.execute(conn);
      return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await sql`RESET enable_seqscan`.execute(conn);
    }
  });
  expect(plan).toMatch(/Index Scan using customer_events_in_order/);
  expect(plan).toMatch(/ROW\(tx, "?position"?\) > ROW\(/);
  expect(plan).not.toMatch(/Sort/);
});

it('searches by reading each index range in order up to its limit, and each customer by its key', async () => {
  const { pinPlan, searchQuery } = await import('../../src/core/customers/search.repository.js');
  const { searchTerms } = await import('../../src/core/customers/search.js');
  const plan = await engine.clientele.db.transaction().execute(async (trx) => {
    await pinPlan(trx);
    const compiled = searchQuery('sto_x', searchTerms('+1202'), 21, {
      key: '+12025',
      id: 'cust_x',
    }).compile(trx);
    const explained = await trx.executeQuery<{ 'QUERY PLAN': string }>({
      ...compiled,
      sql: `EXPLAIN (COSTS OFF) ${compiled.sql}`,
    });
    return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
  });
  // However few rows the statistics promise, never a whole range gathered and sorted,
  // nor a store read to hash it.
  expect(plan).not.toMatch(/Seq Scan|Bitmap|Hash Join|Merge Join/);
  expect(plan).toMatch(/Index Only Scan using customer_identifiers_by_prefix/);
  expect(plan).toMatch(/Index Scan using customers_by_name_prefix/);
  expect(plan).toMatch(/Index Scan using customers_by_last_name_prefix/);
  expect(plan).toMatch(
    /customers_pkey on customers[^\n]*\n\s*Index Cond: \(\(store_id = 'sto_x'::text\) AND \(id = /,
  );
});

/**
 * A statement's plan under a function's own settings (`proconfig`), on these tables;
 * `prepare` first, if given, on the same connection (deallocated after).
 */
function explainUnder(settings: string[], query: string, prepare?: string): Promise<string> {
  return engine.clientele.db.connection().execute(async (conn) => {
    for (const c of settings) await sql.raw(`SET ${c.replace('=', ' = ')}`).execute(conn);
    if (prepare) await sql.raw(prepare).execute(conn);
    try {
      const explained = await sql<{ 'QUERY PLAN': string }>`
        ${sql.raw(`EXPLAIN (COSTS OFF) ${query}`)}`.execute(conn);
      return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      if (prepare) await sql.raw(`DEALLOCATE ${/^PREPARE (\w+)/.exec(prepare)?.[1]}`).execute(conn);
      await sql`RESET ALL`.execute(conn);
    }
  });
}

it("reads a batch's suppressed values by probes of the suppressions' key, planned once whatever the table held", async () => {
  const fn = await functionNamed('clientele_suppressed');
  expect(fn?.proconfig).toContain('plan_cache_mode=force_generic_plan');
  for (const setting of ['enable_seqscan', 'enable_bitmapscan']) {
    expect(fn?.proconfig).toContain(`${setting}=off`);
  }
  // The function's own query, its arguments turned into parameters, planned generic
  // under its settings, as a connection keeps it; on the empty table a test starts with,
  // where reading it whole would be cheapest.
  const query = /RETURN QUERY([\s\S]*?);\s*END/
    .exec(fn!.prosrc)![1]!
    .replaceAll('p_store', '$1')
    .replaceAll('p_hashes', '$2');
  const plan = await explainUnder(
    fn!.proconfig!,
    `EXECUTE suppressed('sto_x', '{a,b,c}')`,
    `PREPARE suppressed (text, text[]) AS ${query}`,
  );
  expect(plan).not.toMatch(/Seq Scan|Bitmap/);
  expect(plan).toMatch(
    /suppressions_pkey on suppressions s\n\s*Index Cond: \(\(store_id = \$1\) AND \(hash = ANY \(\$2\)\)\)/,
  );
});

// Across every store (one PostgreSQL), and in one store (on Citus: migration 0020).
for (const name of ['clientele_lease_deliveries', 'clientele_lease_store_deliveries']) {
  it(`${name}: leases webhook deliveries by index probes alone, whatever the statistics say`, async () => {
    const fn = await functionNamed(name);
    for (const setting of ['enable_seqscan', 'enable_bitmapscan', 'enable_hashjoin']) {
      expect(fn?.proconfig).toContain(`${setting}=off`);
    }
    // The function's statement, planned under its settings on these (empty) tables.
    const query = fn!.prosrc
      .replaceAll('p_store', "'sto_x'")
      .replaceAll('p_limit', '256')
      .replaceAll('p_lease_ms', '30000');
    const plan = await explainUnder(fn!.proconfig!, query);
    expect(plan).not.toMatch(/Seq Scan|Bitmap|Hash/);
    // Updated by ctid; in one store (on Citus, a router statement) by primary key.
    expect(plan).toMatch(
      name === 'clientele_lease_deliveries'
        ? /Tid Scan on webhook_deliveries/
        : /webhook_deliveries_pkey on webhook_deliveries d\n\s*Index Cond: \(\(store_id = 'sto_x'::text\) AND \(id = ANY /,
    );
    // The check that no older delivery of the customer is pending: one probe of its key.
    expect(plan).toMatch(
      /webhook_deliveries_by_customer on webhook_deliveries p\n\s*Index Cond: \(\(store_id = c\.store_id\) AND \(endpoint_id = c\.endpoint_id\) AND \(customer_id = c\.customer_id\) AND \(seq < c\.seq\)\)/,
    );
  });
}

it('reads a webhook round’s events, their customers and the changes since by one probe each, on statistics gone stale', async () => {
  const { customersByIdQuery } = await import('../../src/core/customers/customers.repository.js');
  const { changesSinceQuery, readByIdQuery } = await import(
    '../../src/core/events/feed.repository.js'
  );
  const ids = Array.from({ length: 256 }, (_, i) => i + 1);
  const plans = await engine.clientele.db.transaction().execute(async (trx) => {
    // A store analyzed while it had 10 customers and their events, that has grown to
    // 5,000 customers and 20,000 events since (what a new store does in its first
    // minutes, before autovacuum analyzes it again): rolled back after.
    await sql`INSERT INTO stores (id, name) VALUES ('sto_x', 'x')`.execute(trx);
    const grow = async (from: number, to: number) => {
      await sql`
        INSERT INTO customers (store_id, id, seq, created_at, updated_at)
        SELECT 'sto_x', 'cust_' || g, g, now(), now() FROM generate_series(${from}::int, ${to / 4}::int) AS g
        ON CONFLICT DO NOTHING`.execute(trx);
      await sql`
        INSERT INTO customer_events (store_id, id, customer_id, type, api, changes, created_at,
          version, position, tx)
        SELECT 'sto_x', 'evt_' || g, 'cust_' || (g % ${to / 4}::int + 1), 'updated', 'native', '{}',
          now(), 1, g, pg_current_xact_id()
        FROM generate_series(${from}::int, ${to}::int) AS g`.execute(trx);
    };
    await grow(1, 40);
    await sql`ANALYZE customers, customer_events`.execute(trx);
    await grow(41, 20_000);
    const explain = async (query: { compile(db: typeof trx): { sql: string } }) => {
      const compiled = query.compile(trx);
      const explained = await trx.executeQuery<{ 'QUERY PLAN': string }>({
        ...compiled,
        sql: `EXPLAIN (COSTS OFF) ${compiled.sql}`,
      } as typeof compiled & { query: never; queryId: never; parameters: unknown[] });
      return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    return {
      events: await explain(
        readByIdQuery(
          'sto_x',
          ids.map((i) => `evt_${i * 70}`),
        ),
      ),
      customers: await explain(
        customersByIdQuery(
          'sto_x',
          ids.map((i) => `cust_${i * 19}`),
        ),
      ),
      changes: await explain(
        changesSinceQuery(
          'sto_x',
          ids.map((i) => ({ customerId: `cust_${i * 19}`, position: String(i) })),
        ),
      ),
    };
  });
  for (const plan of Object.values(plans)) expect(plan).not.toMatch(/Seq Scan|Bitmap|Hash/);
  expect(plans.events).toMatch(
    /customer_events_by_id on customer_events e\n\s*Index Cond: \(\(id = k\.id\) AND \(store_id = /,
  );
  expect(plans.customers).toMatch(
    /customers_pkey on customers c\n\s*Index Cond: \(\(store_id = [^)]*\) AND \(id = k\.id\)\)/,
  );
  expect(plans.changes).toMatch(
    /customer_events_pkey on customer_events e\n\s*Index Cond: \(\(store_id = [^)]*\) AND \(customer_id = t\.customer_id\)\)/,
  );
});

it('finds an event by its id through its own index, not through the store’s history', async () => {
  // A store of 20,000 events (the planner knows no store's size: migration 0004), in a
  // transaction rolled back after.
  const plan = await engine.clientele.db.connection().execute(async (conn) => {
    await sql`BEGIN`.execute(conn);
    try {
      await sql`
        INSERT INTO customer_events (store_id, id, customer_id, type, api, changes, created_at,
          version, position, tx)
        SELECT 'sto_x', 'evt_' || g, 'cust_' || (g % 5000), 'updated', 'native', '{}', now(), 1, g,
          pg_current_xact_id()
        FROM generate_series(1, 20000) AS g`.execute(conn);
      await sql`ANALYZE customer_events`.execute(conn);
      const explained = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN (COSTS OFF) SELECT tx, position FROM customer_events
        WHERE store_id = 'sto_x' AND id IN ('evt_1', 'evt_2')`.execute(conn);
      return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await sql`ROLLBACK`.execute(conn);
    }
  });
  expect(plan).toMatch(
    /Index Scan using customer_events_by_id[^\n]*\n\s*Index Cond: \(\(id = ANY \([^)]*\)\) AND \(store_id = /,
  );
});

for (const name of ['clientele_fan_out', 'clientele_fan_out_store']) {
  it(`${name}: fans out from each endpoint’s place through the feed’s index, in order, with no sort`, async () => {
    const fn = await functionNamed(name);
    expect(fn?.proconfig).toEqual(
      expect.arrayContaining(['enable_seqscan=off', 'enable_bitmapscan=off']),
    );
    // The statement the PL/pgSQL function returns (migration 0027).
    const statement = /RETURN QUERY([\s\S]*);\s*END\s*$/.exec(fn!.prosrc)?.[1];
    expect(statement).toBeDefined();
    const query = statement!
      .replaceAll('p_store', "'sto_x'")
      .replaceAll('p_after_store', "'sto_a'")
      .replaceAll('p_after_id', "'whe_a'")
      .replaceAll('p_after', "'whe_a'")
      .replaceAll('p_endpoints', '50')
      .replaceAll('p_lease_ms', '30000')
      .replaceAll('p_lease', '256')
      .replaceAll('p_per_endpoint', '1000')
      .replaceAll('p_events', "'{customer.created}'::text[]")
      .replaceAll('p_records', "'{created}'::text[]");
    const plan = await explainUnder(fn!.proconfig!, query);
    expect(plan).not.toMatch(/Seq Scan|Bitmap/);
    // The endpoints after the round's place, in key order: across stores, then from the
    // first up to it (rounds rotate); in one store, its endpoints after it, by key.
    expect(plan).toMatch(
      name === 'clientele_fan_out'
        ? /Index Scan using webhook_endpoints_pkey on webhook_endpoints\n\s*Index Cond: \(ROW\(store_id, id\) > ROW\('sto_a'::text, 'whe_a'::text\)\)[\s\S]*Index Scan using webhook_endpoints_pkey on webhook_endpoints webhook_endpoints_1\n\s*Index Cond: \(ROW\(store_id, id\) <= ROW\('sto_a'::text, 'whe_a'::text\)\)/
        : /webhook_endpoints_pkey on webhook_endpoints\n\s*Index Cond: \(\(store_id = 'sto_x'::text\) AND \(id > 'whe_a'::text\)\)/,
    );
    expect(plan.slice(0, plan.indexOf('CTE taken'))).not.toMatch(/Sort/);
    // Each endpoint's next events: read in the index's order from its place, no more and
    // no sort (the sorts after are of the deliveries made: each customer's first, and their
    // order of insertion).
    const taken = plan.slice(plan.indexOf('CTE taken'), plan.indexOf('CTE chosen'));
    expect(taken).toMatch(
      /Index Scan using customer_events_in_order on customer_events e\n\s*Index Cond: \(\(store_id = ep\.store_id\) AND \(tx < /,
    );
    expect(taken).not.toMatch(/Sort/);
    // Whether a delivery made may be leased at once: a probe of its customer's pending ones.
    expect(plan.slice(plan.indexOf('CTE chosen'), plan.indexOf('CTE made'))).toMatch(
      /Index Only Scan using webhook_deliveries_by_customer on webhook_deliveries p\n/,
    );
  });
}

/** A statement's generic plan (as PL/pgSQL keeps it) under a function's own settings. */
async function planUnder(fn: string, statement: string, types: string, args: string) {
  const { rows } = await sql<{ proconfig: string[] | null }>`
    SELECT proconfig FROM pg_proc WHERE proname = ${fn}`.execute(engine.clientele.db);
  const settings = rows[0]?.proconfig ?? [];
  return engine.clientele.db.connection().execute(async (conn) => {
    for (const c of settings) await sql.raw(`SET ${c.replace('=', ' = ')}`).execute(conn);
    await sql`SET plan_cache_mode = force_generic_plan`.execute(conn);
    await sql.raw(`PREPARE probe (${types}) AS ${statement}`).execute(conn);
    try {
      const explained = await sql<{ 'QUERY PLAN': string }>`
        ${sql.raw(`EXPLAIN (COSTS OFF) EXECUTE probe(${args})`)}`.execute(conn);
      return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await sql`DEALLOCATE probe`.execute(conn);
      await sql`RESET ALL`.execute(conn);
    }
  });
}

it('writes each customer, and what segments derive from it, by whole keys, whatever the statistics say', async () => {
  // Both functions keep migration 0019's settings through every migration replacing them.
  const { rows: settings } = await sql<{ proname: string; proconfig: string[] | null }>`
    SELECT proname, proconfig FROM pg_proc
    WHERE proname IN ('clientele_write_customers', 'clientele_write_derived')
    ORDER BY proname`.execute(engine.clientele.db);
  expect(settings.map((f) => [f.proname, f.proconfig])).toEqual(
    ['clientele_write_customers', 'clientele_write_derived'].map((name) => [
      name,
      PROBES_ONLY.map((setting) => `${setting}=off`),
    ]),
  );

  // Statistics gathered while the store had a few customers without names, as in the first
  // minute of a store: the planner then believes the store is a handful of rows.
  await sql`
    INSERT INTO stores (id, name, created_at, updated_at) VALUES ('sto_plan', 'plan', now(), now())
    ON CONFLICT DO NOTHING`.execute(engine.clientele.db);
  await sql`
    INSERT INTO customers (store_id, id, seq, email, created_at, updated_at, version)
    SELECT 'sto_plan', 'cust_' || g, g, g || '@example.com', now(), now(), 1
    FROM generate_series(1, 5) AS g`.execute(engine.clientele.db);
  await sql`ANALYZE customers`.execute(engine.clientele.db);

  const update = await planUnder(
    'clientele_write_customers',
    `UPDATE customers AS c SET version = c.version + 1
     WHERE c.store_id = $1 AND c.id = $2 AND c.version = $3 AND c.merged_into IS NULL`,
    'text, text, integer',
    `'sto_plan', 'cust_1', 1`,
  );
  expect(update).toMatch(
    /Index Scan using customers_pkey[^\n]*\n\s*Index Cond: \(\(store_id = \$1\) AND \(id = \$2\)\)/,
  );

  // The write's removal of identifier rows, as the function has it.
  const { rows: written } = await sql<{ prosrc: string }>`
    SELECT prosrc FROM pg_proc WHERE proname = 'clientele_write_customers'`.execute(
    engine.clientele.db,
  );
  const removal = /DELETE FROM customer_identifiers\s+WHERE[^;]*/.exec(written[0]!.prosrc);
  expect(removal).not.toBeNull();
  const identifiers = await planUnder(
    'clientele_write_customers',
    removal![0]
      .replaceAll('p_store', '$1')
      .replace('p_removed_kind[i]', '$2')
      .replace('p_removed_value[i]', '$3')
      .replace('p_removed_customer[i]', '$4'),
    'text, text, text, text',
    `'sto_plan', 'email', '1@example.com', 'cust_1'`,
  );
  // By the identifier's key, or among the customer's own identifiers: a few rows either way.
  expect(identifiers).not.toMatch(/Seq Scan|Bitmap|Hash|Materialize/);
  expect(identifiers).toMatch(
    /Index Cond: \(\(store_id = \$1\) AND (\(kind = \$2\) AND \(value = \$3\)|\(customer_id = \$4\))\)/,
  );

  // Each statement of the derived write that finds rows to change, as the function has it,
  // its variables turned into parameters.
  const { rows } = await sql<{ prosrc: string }>`
    SELECT prosrc FROM pg_proc WHERE proname = 'clientele_write_derived'`.execute(
    engine.clientele.db,
  );
  const deletes = [
    ...rows[0]!.prosrc.matchAll(
      /DELETE FROM (customer_values|segment_members)\s+WHERE[^;]*?(?=;|\s+RETURNING)/g,
    ),
  ];
  expect(deletes.map((d) => d[1])).toEqual([
    'customer_values',
    'customer_values',
    'segment_members',
  ]);
  for (const [statement, table] of deletes) {
    const plan = await planUnder(
      'clientele_write_derived',
      statement!
        .replaceAll('p_store', '$1')
        .replace(/\b[vw]\.c\b/, '$2')
        .replace('v.f', '$3')
        .replace('w.s', '$3'),
      table === 'customer_values' ? 'text, text, text' : 'text, text, text[]',
      table === 'customer_values'
        ? `'sto_plan', 'cust_1', 'tier'`
        : `'sto_plan', 'cust_1', '{seg_1}'`,
    );
    const key =
      table === 'customer_values' ? 'customer_values_pkey' : 'segment_members_by_customer';
    expect(plan).not.toMatch(/Seq Scan|Bitmap|Hash|Materialize/);
    expect(plan).toMatch(
      new RegExp(
        `Index Scan using ${key}[^\\n]*\\n\\s*Index Cond: \\(\\(store_id = \\$1\\) AND \\(customer_id = \\$2\\)`,
      ),
    );
  }
});

it("counts a filter of custom fields from their indexes alone: each range's ids, intersected", async () => {
  const { matchingSql } = await import('../../src/core/segments/compile.js');
  const { validateFilter } = await import('../../src/core/segments/filter.js');
  const condition = validateFilter(
    {
      and: [
        { field: 'customFields.tier', op: 'eq', value: 'gold' },
        { field: 'customFields.points', op: 'between', value: [1000, 2999] },
      ],
    },
    new Map([
      ['tier', 'STRING'],
      ['points', 'NUMBER'],
    ] as const),
    { leaves: 50, depth: 4 },
  );
  // A store of 4,000 customers with both fields, its statistics gathered.
  await sql`
    INSERT INTO customer_values (store_id, customer_id, field, num, txt)
    SELECT 'sto_values', 'cust_' || g, f.field, f.num, f.txt
    FROM generate_series(1, 4000) AS g
    CROSS JOIN LATERAL (VALUES
      ('tier', NULL::float8, (ARRAY['gold', 'silver', 'bronze', 'none'])[1 + g % 4]),
      ('points', ((g * 7919) % 10000)::float8, NULL)) AS f(field, num, txt)`.execute(
    engine.clientele.db,
  );
  await sql`VACUUM ANALYZE customer_values`.execute(engine.clientele.db);
  const { rows } = await sql<{ 'QUERY PLAN': string }>`
    EXPLAIN (COSTS OFF)
    SELECT count(*) FROM (${matchingSql('sto_values', condition, Date.now())}) AS t`.execute(
    engine.clientele.db,
  );
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  expect(plan).toMatch(
    /Index Only Scan using customer_values_by_txt_key[^\n]*\n\s*Index Cond: \(\(store_id = 'sto_values'::text\) AND \(field = 'tier'::text\) AND \(txt_key = 'gold'::text\)\)/,
  );
  expect(plan).toMatch(/Index Only Scan using customer_values_by_num/);
  expect(plan).toMatch(/SetOp Intersect/);
  // No probe per customer: a customer merged away or erased has no typed values.
  expect(plan).not.toMatch(/customers/);
});

it("builds a chunk of a segment from the customers' key range, never the whole store", async () => {
  const { chunkEnd, chunkMatchingSql, pinChunkPlan } = await import(
    '../../src/core/segments/build.repository.js'
  );
  const { validateFilter } = await import('../../src/core/segments/filter.js');
  const condition = validateFilter(
    {
      and: [
        { field: 'customFields.tier', op: 'eq', value: 'gold' },
        { field: 'customFields.points', op: 'gte', value: 1000 },
      ],
    },
    new Map([
      ['tier', 'STRING'],
      ['points', 'NUMBER'],
    ] as const),
    { leaves: 50, depth: 4 },
  );
  // A store of 4,000 customers with both fields, its statistics gathered.
  const { id } = await engine.clientele.stores.create('chunks');
  await sql`
    INSERT INTO customers (store_id, id, seq, created_at, updated_at)
    SELECT ${id}, 'cust_' || g, g, now(), now() FROM generate_series(1, 4000) AS g`.execute(
    engine.clientele.db,
  );
  await sql`
    INSERT INTO customer_values (store_id, customer_id, field, num, txt)
    SELECT ${id}, 'cust_' || g, f.field, f.num, f.txt
    FROM generate_series(1, 4000) AS g
    CROSS JOIN LATERAL (VALUES
      ('tier', NULL::float8, (ARRAY['gold', 'silver', 'bronze', 'none'])[1 + g % 4]),
      ('points', ((g * 7919) % 10000)::float8, NULL)) AS f(field, num, txt)`.execute(
    engine.clientele.db,
  );
  await sql`VACUUM ANALYZE customers`.execute(engine.clientele.db);
  await sql`VACUUM ANALYZE customer_values`.execute(engine.clientele.db);
  // Under the chunk's settings, as buildRange runs it.
  const rows = await engine.clientele.db.transaction().execute(async (trx) => {
    await pinChunkPlan(trx);
    return (
      await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN (COSTS OFF)
        ${chunkMatchingSql(id, condition, Date.now(), 'cust_1000', 'cust_1049')}`.execute(trx)
    ).rows;
  });
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  // Two ranges of primary keys, both bounded by the chunk: the customers', and their
  // values' (grouped a customer at a time), never a range of the field's values nor a
  // probe per customer.
  expect(plan).toMatch(
    /customers_pkey on customers c[^\n]*\n\s*Index Cond: \(\(store_id = '[^']+'::text\) AND \(id > 'cust_1000'::text\) AND \(id <= 'cust_1049'::text\)\)/,
  );
  expect(plan).toMatch(
    /customer_values_pkey on customer_values v[^\n]*\n\s*Index Cond: \(\(store_id = '[^']+'::text\) AND \(customer_id > 'cust_1000'::text\) AND \(customer_id <= 'cust_1049'::text\)\)/,
  );
  // Read once each: no nested loop that would group the values again per customer.
  expect(plan).not.toMatch(/Seq Scan|customer_values_by_|SubPlan|Nested Loop/);
  // The chunk's end: the 50th id after the cursor, from the key's range.
  const { rows: ends } = await sql<{ 'QUERY PLAN': string }>`
    EXPLAIN (COSTS OFF) SELECT id FROM customers WHERE store_id = ${id} AND id > 'cust_1000'
    ORDER BY id OFFSET 49 LIMIT 1`.execute(engine.clientele.db);
  expect(ends.map((r) => r['QUERY PLAN']).join('\n')).toMatch(
    /Index Only Scan using customers_pkey on customers\n\s*Index Cond: \(\(store_id = '[^']+'::text\) AND \(id > 'cust_1000'::text\)\)/,
  );
  expect(await chunkEnd(engine.clientele.db, id, 'cust_1000', 50)).toMatch(/^cust_1/);
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clientele } from '../../src/core/clientele.js';
import { planDistribution, readCitusState, readSchema } from '../../src/core/db/distribution.js';
import { citusViolations } from '../../src/core/db/readiness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The schema keeps Citus's rules (db/readiness.ts): checked in the catalog of a database
 * migrated to the latest, and shown to fail on tables that break them.
 */
let database: TestDatabase;
let clientele: Clientele;

beforeAll(async () => {
  database = await createTestDatabase();
  clientele = await database.open();
});
afterAll(async () => {
  await clientele.close();
  await database.drop();
});

describe('the migrated schema', () => {
  it('breaks no rule of a schema distributed by store', async () => {
    expect(await citusViolations(clientele.db)).toEqual([]);
  });

  it('can be planned: stores first, each table after what it references, functions last', async () => {
    const steps = planDistribution(
      await readSchema(clientele.db),
      await readCitusState(clientele.db),
      128,
    );
    const order = steps.map((s) => /'([a-z_]+)/.exec(s.sql)?.[1]);
    expect(order[0]).toBe('stores');
    for (const { table, references } of (await readSchema(clientele.db)).foreignKeys) {
      if (table === references) continue;
      expect(order.indexOf(references), `${references} before ${table}`).toBeLessThan(
        order.indexOf(table),
      );
    }
    expect(steps.every((s) => !s.done)).toBe(true);
  });
});

describe('a migration that breaks a rule', () => {
  // Each case adds what a careless migration would, and is undone after.
  const cases: [string, string, RegExp][] = [
    [
      'a table with no placement',
      'CREATE TABLE loyalty_tiers (store_id text NOT NULL, name text, PRIMARY KEY (store_id, name))',
      /^loyalty_tiers: no placement/,
    ],
    [
      'a unique index without store_id',
      'CREATE UNIQUE INDEX customers_by_email_anywhere ON customers (email)',
      /^customers: unique index customers_by_email_anywhere \(email\) leaves out store_id/,
    ],
    [
      'a distributed table referencing a local one',
      'ALTER TABLE imports ADD CONSTRAINT imports_migration FOREIGN KEY (key_id) REFERENCES kysely_migration (name)',
      /^imports: foreign key imports_migration to kysely_migration: a distributed table may reference only co-located or reference tables/,
    ],
    [
      'a reference table referencing a distributed one',
      'ALTER TABLE store_names ADD CONSTRAINT store_names_store FOREIGN KEY (store_id) REFERENCES stores (id)',
      /^store_names: foreign key store_names_store to stores: a reference table may reference only reference tables/,
    ],
    [
      'a foreign key that pairs the wrong columns',
      'ALTER TABLE customer_identifiers ADD CONSTRAINT identifiers_crossed FOREIGN KEY (customer_id, store_id) REFERENCES customers (store_id, id)',
      /^customer_identifiers: foreign key identifiers_crossed to customers: does not pair the distribution columns/,
    ],
    [
      'an int sequence in a distributed table',
      'ALTER TABLE imports ADD COLUMN n serial',
      /^imports\.n: numbered by a sequence as integer, not bigint/,
    ],
    [
      'a function with no placement',
      "CREATE FUNCTION clientele_count_everything() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM customers'",
      /^clientele_count_everything\(\): no placement/,
    ],
  ];
  for (const [name, statement, expected] of cases) {
    it(`finds ${name}`, async () => {
      await clientele.db.connection().execute(async (conn) => {
        await sql`BEGIN`.execute(conn);
        try {
          await sql.raw(statement).execute(conn);
          const found = await citusViolations(conn);
          expect(found.length, found.join('\n')).toBeGreaterThan(0);
          expect(
            found.some((v) => expected.test(v)),
            found.join('\n'),
          ).toBe(true);
        } finally {
          await sql`ROLLBACK`.execute(conn);
        }
      });
      expect(await citusViolations(clientele.db)).toEqual([]);
    });
  }
});

describe('the plan on a Citus coordinator that ran part of it', () => {
  it('marks done what Citus holds already, so a second run changes nothing', async () => {
    const schema = await readSchema(clientele.db);
    const first = planDistribution(schema, { tables: {}, functions: [] }, 128);
    const state = {
      tables: {
        stores: { type: 'distributed', column: 'id' },
        customers: { type: 'distributed', column: 'store_id' },
        store_names: { type: 'reference', column: null },
      },
      functions: [schema.signatures.clientele_find_owners!],
    };
    const again = planDistribution(schema, state, 128);
    expect(again.map((s) => s.sql)).toEqual(first.map((s) => s.sql));
    expect(again.filter((s) => s.done).map((s) => s.sql)).toEqual([
      "SELECT create_distributed_table('stores', 'id', shard_count => 128)",
      "SELECT create_distributed_table('customers', 'store_id', colocate_with => 'stores')",
      "SELECT create_reference_table('store_names')",
      `SELECT create_distributed_function('${schema.signatures.clientele_find_owners}', distribution_arg_name => 'p_store', colocate_with => 'stores')`,
    ]);
    // A table that became a Citus local table (a foreign key to a reference table) is
    // distributed still.
    const local = planDistribution(
      schema,
      { tables: { api_keys: { type: 'local', column: null } }, functions: [] },
      128,
    );
    expect(local.find((s) => s.sql.includes("'api_keys'"))?.done).toBe(false);
  });

  it('refuses a table Citus holds otherwise than Clientele places it', async () => {
    const schema = await readSchema(clientele.db);
    expect(() =>
      planDistribution(
        schema,
        { tables: { customers: { type: 'distributed', column: 'id' } }, functions: [] },
        128,
      ),
    ).toThrow(
      'customers is a distributed table by id where Clientele expects distributed by store_id',
    );
    expect(() =>
      planDistribution(
        schema,
        { tables: { secret_routes: { type: 'distributed', column: 'store_id' } }, functions: [] },
        128,
      ),
    ).toThrow('secret_routes is a distributed table by store_id where Clientele expects reference');
  });
});

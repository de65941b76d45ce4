import { sql } from 'kysely';
import type { DB } from './database.js';

/**
 * Where each table and function goes on Citus (docs/scaling.md): every table of a store
 * distributed by `store_id` and co-located with `stores` (distributed by `id`), so that a
 * store's rows of every table sit on one node and a statement naming one store runs
 * there whole; small global tables that a request reads before it knows its store are
 * reference tables, copied to every node. `test/db/citus-readiness.test.ts` fails when a
 * table or function of the schema is missing here, or breaks a rule of its placement.
 */
export type Placement =
  | { kind: 'distributed'; column: string }
  | { kind: 'reference' }
  /** Stays on the coordinator alone (the migrator's own tables). */
  | { kind: 'local' };

const byStore: Placement = { kind: 'distributed', column: 'store_id' };
const reference: Placement = { kind: 'reference' };

/** The table every distributed table is co-located with. */
export const ANCHOR = 'stores';

export const tables: Record<string, Placement> = {
  stores: { kind: 'distributed', column: 'id' },
  api_keys: byStore,
  access_tokens: byStore,
  customers: byStore,
  customer_identifiers: byStore,
  customer_numbers: byStore,
  customer_events: byStore,
  customer_values: byStore,
  custom_fields: byStore,
  custom_field_options: byStore,
  identity_collisions: byStore,
  // A store's id, or `admin` for the admin API: the admin's keys sit in one shard.
  idempotency_keys: byStore,
  event_streams: byStore,
  webhook_endpoints: byStore,
  webhook_deliveries: byStore,
  webhook_attempts: byStore,
  imports: byStore,
  import_chunks: byStore,
  import_errors: byStore,
  segments: byStore,
  segment_members: byStore,
  segment_schedule: byStore,
  suppressions: byStore,
  merges: byStore,
  // Found by a platform's name for the store, before the store is known.
  store_names: reference,
  // Found by a secret issued before secrets named their store (migration 0020).
  secret_routes: reference,
  kysely_migration: { kind: 'local' },
  kysely_migration_lock: { kind: 'local' },
};

/**
 * The functions, each distributed by its store argument (a call at the top level of a
 * statement, outside a transaction, then runs whole on the store's node) or left on the
 * coordinator (`null`), with why.
 */
export const functions: Record<string, { storeArgument: string } | { coordinator: string }> = {
  clientele_find_owners: { storeArgument: 'p_store' },
  clientele_write_customers: { storeArgument: 'p_store' },
  clientele_suppressed: { storeArgument: 'p_store' },
  clientele_lease_store_deliveries: { storeArgument: 'p_store' },
  // Its rotating place (migration 0023) is within its store: the store stays the argument.
  clientele_fan_out_store: { storeArgument: 'p_store' },
  // Its shared advisory lock must be taken where a segment change takes it alone
  // (segments.repository.ts): on the coordinator, where every process connects.
  clientele_write_derived: { coordinator: 'its advisory lock is the coordinator’s' },
  clientele_new_event_id: { coordinator: 'no store argument; called inside other statements' },
  // Across every store: one PostgreSQL's sender; on Citus it works per store.
  clientele_lease_deliveries: { coordinator: 'reads every store; unused on Citus' },
  clientele_fan_out: { coordinator: 'reads every store; unused on Citus' },
};

/** Whether the database is a Citus coordinator (or node): it has the citus extension. */
export async function hasCitus(db: DB): Promise<boolean> {
  const { rows } = await sql<{ citus: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`.execute(db);
  return rows[0]?.citus === true;
}

/** What a database holds that distributing depends on. */
export interface Schema {
  /** Each foreign key as (table, referenced table), to order the tables. */
  foreignKeys: { table: string; references: string }[];
  /** Each function's signature (`name(text, …)`) by its name. */
  signatures: Record<string, string>;
}

/** What Citus already holds (its `citus_tables` view and `pg_dist_object`). */
export interface CitusState {
  tables: Record<string, { type: string; column: string | null }>;
  /** Signatures of the functions already distributed with an argument. */
  functions: string[];
}

export interface Step {
  sql: string;
  /** Already so: the step is printed, not run. */
  done: boolean;
}

/**
 * The statements that distribute the schema, in an order Citus takes: `stores` first, each
 * table after the tables it references, the functions last. A step already true of the
 * database is marked done (so running it twice changes nothing). A table Citus holds
 * otherwise than `tables` says is an error: moving it is an operator's decision.
 */
export function planDistribution(schema: Schema, citus: CitusState, shardCount: number): Step[] {
  const steps: Step[] = [];
  const placed = new Set<string>();
  const place = (table: string, trail: string[] = []): void => {
    if (placed.has(table)) return;
    if (trail.includes(table)) throw new Error(`foreign keys form a cycle: ${trail.join(' → ')}`);
    const placement = tables[table];
    if (placement === undefined) throw new Error(`table ${table} has no placement`);
    for (const fk of schema.foreignKeys) {
      if (fk.table === table && fk.references !== table) place(fk.references, [...trail, table]);
    }
    placed.add(table);
    if (placement.kind === 'local') return;
    const now = citus.tables[table];
    const want = placement.kind === 'reference' ? 'reference' : 'distributed';
    if (
      now &&
      now.type === want &&
      (placement.kind === 'reference' || now.column === placement.column)
    ) {
      steps.push({ sql: statementFor(table, placement, shardCount), done: true });
      return;
    }
    if (now && now.type !== 'local') {
      throw new Error(
        `${table} is a ${now.type} table${now.column ? ` by ${now.column}` : ''} where Clientele expects ${want}${placement.kind === 'distributed' ? ` by ${placement.column}` : ''}`,
      );
    }
    steps.push({ sql: statementFor(table, placement, shardCount), done: false });
  };
  place(ANCHOR);
  for (const table of Object.keys(tables)) place(table);
  for (const [name, placement] of Object.entries(functions)) {
    if (!('storeArgument' in placement)) continue;
    const signature = schema.signatures[name];
    if (signature === undefined) throw new Error(`function ${name} is not in the database`);
    steps.push({
      sql: `SELECT create_distributed_function('${signature}', distribution_arg_name => '${placement.storeArgument}', colocate_with => '${ANCHOR}')`,
      done: citus.functions.includes(signature),
    });
  }
  return steps;
}

function statementFor(table: string, placement: Placement, shardCount: number): string {
  if (placement.kind === 'reference') return `SELECT create_reference_table('${table}')`;
  if (placement.kind !== 'distributed') return '';
  return table === ANCHOR
    ? `SELECT create_distributed_table('${table}', '${placement.column}', shard_count => ${shardCount})`
    : `SELECT create_distributed_table('${table}', '${placement.column}', colocate_with => '${ANCHOR}')`;
}

/** The database's foreign keys and the signatures of its functions. */
export async function readSchema(db: DB): Promise<Schema> {
  const { rows: foreignKeys } = await sql<{ table: string; references: string }>`
    SELECT conrelid::regclass::text AS table, confrelid::regclass::text AS references
    FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`.execute(db);
  const { rows: procs } = await sql<{ name: string; signature: string }>`
    SELECT proname AS name, oid::regprocedure::text AS signature FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'clientele\\_%'`.execute(db);
  return {
    foreignKeys,
    signatures: Object.fromEntries(procs.map((p) => [p.name, p.signature])),
  };
}

/** What Citus holds already; on a database without it, nothing. */
export async function readCitusState(db: DB): Promise<CitusState> {
  if (!(await hasCitus(db))) return { tables: {}, functions: [] };
  const { rows } = await sql<{ table: string; type: string; column: string | null }>`
    SELECT table_name::text AS table, citus_table_type AS type,
      nullif(distribution_column, '<none>') AS column
    FROM citus_tables`.execute(db);
  const { rows: fns } = await sql<{ signature: string }>`
    SELECT objid::regprocedure::text AS signature FROM pg_catalog.pg_dist_object
    WHERE classid = 'pg_proc'::regclass AND distribution_argument_index IS NOT NULL`.execute(db);
  return {
    tables: Object.fromEntries(rows.map((r) => [r.table, { type: r.type, column: r.column }])),
    functions: fns.map((f) => f.signature),
  };
}

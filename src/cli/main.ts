import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { Clientele, collisionsNotice } from '../core/clientele.js';
import { loadConfig } from '../core/config.js';
import { hasCitus, planDistribution, readCitusState, readSchema } from '../core/db/distribution.js';
import { isMigrated } from '../core/db/migrate.js';
import { citusViolations } from '../core/db/readiness.js';
import { ClienteleError, SetupError } from '../core/errors.js';
import { secretKeyOf, startServer, stopOnSignals, tuneV8 } from '../server.js';
import { runExport, runImport } from './transfer.js';

const usage = `Usage: clientele <command>

Commands:
  serve                          serve the API (migrations are applied first)
  migrate                        apply pending database migrations
  stores create <name>           create a store and its first API key
  stores list                    list the stores, newest first
  keys create <storeId> [name]   create an API key for a store, optionally named
  keys list <storeId>            list a store's API keys (never their secrets)
  keys revoke <storeId> <keyId>  revoke an API key at once
  distribute [--dry-run] [--shards <n>]
                                 on a Citus coordinator, distribute every table by store
                                 (reference tables where small and global) and the
                                 functions, printing each statement; what is done already
                                 is skipped. --dry-run prints them, runs none. Refused,
                                 changing nothing, without the citus extension
  customers export <storeId> <customerId|email>
                                 everything held about one customer, as one JSON
                                 document on standard output (docs/api.md)
  customers erase <storeId> <customerId|email>
                                 erase a customer, and suppress its identifiers when
                                 the store's suppression is on
  import <file> --store <id>     import customers from a .csv or .ndjson file, showing
                                 progress; refused rows go to --errors (<file>.errors.ndjson);
                                 exits 1 when any row was refused
      [--url <server> --key <apiKey>] [--format csv|ndjson] [--mode upsert|create_only|update_only]
      [--dry-run] [--errors <file>]
  export --store <id> [--format ndjson|csv] [--url <server> --key <apiKey>]
                                 every customer of the store, on standard output

Without --url, import and export work on the database directly (CLIENTELE_API_KEY may
stand in for --key).

The database is DATABASE_URL (PostgreSQL) or, without it, PGlite in CLIENTELE_DATA_DIR (./data).`;

/** The configuration, with V8 set for its database first (server.ts, tuneV8). */
function configure() {
  const config = loadConfig();
  tuneV8(config.databaseUrl ? 'postgres' : 'pglite');
  return config;
}

async function withClientele<T>(run: (clientele: Clientele) => Promise<T>): Promise<T> {
  const config = configure();
  const clientele = await Clientele.open({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
    migrate: true,
    secretKey: secretKeyOf(config),
    verifyConnection: true,
  });
  try {
    return await run(clientele);
  } finally {
    await clientele.close();
  }
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

/** Every item of a paged list, page after page. */
async function everyPage<T>(
  list: (page: {
    limit: number;
    cursor?: string;
  }) => Promise<{ data: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    items.push(...page.data);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseOptions(argv);
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? 0 : 1;
  }

  if (command === 'import' || command === 'export') return transfer(command, positionals, values);

  switch (`${command} ${sub ?? ''}`.trim()) {
    case 'serve': {
      const server = await startServer(configure());
      stopOnSignals(server);
      return -1; // keep running
    }
    case 'migrate': {
      const config = configure();
      const clientele = await Clientele.open({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        verifyConnection: true,
      });
      try {
        const applied = await clientele.migrate();
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date.');
        const collisions = await clientele.identityCollisions();
        if (collisions > 0) console.log(collisionsNotice(collisions));
      } finally {
        await clientele.close();
      }
      return 0;
    }
    case 'stores create': {
      const name = rest.join(' ') || requireArg('name');
      print(await withClientele((c) => c.stores.create(name)));
      return 0;
    }
    case 'stores list': {
      print(await withClientele((c) => everyPage((page) => c.stores.list(page))));
      return 0;
    }
    case 'keys create': {
      const storeId = rest[0] ?? requireArg('storeId');
      const name = rest.slice(1).join(' ') || undefined;
      print(await withClientele((c) => c.keys.create(storeId, name)));
      return 0;
    }
    case 'keys list': {
      const storeId = rest[0] ?? requireArg('storeId');
      print(await withClientele((c) => everyPage((page) => c.keys.list(storeId, page))));
      return 0;
    }
    case 'keys revoke': {
      const storeId = rest[0] ?? requireArg('storeId');
      const keyId = rest[1] ?? requireArg('keyId');
      await withClientele((c) => c.keys.revoke(storeId, keyId));
      console.log(`Revoked ${keyId}.`);
      return 0;
    }
    case 'distribute':
      return distribute(values['dry-run'] === true, shardsOf(values.shards));
    case 'customers export': {
      const storeId = rest[0] ?? requireArg('storeId');
      const ref = rest[1] ?? requireArg('customerId');
      print(
        await withClientele(async (c) =>
          c.customers.export(storeId, await customerIdOf(c, storeId, ref)),
        ),
      );
      return 0;
    }
    case 'customers erase': {
      const storeId = rest[0] ?? requireArg('storeId');
      const ref = rest[1] ?? requireArg('customerId');
      const erased = await withClientele(async (c) => {
        await c.stores.get(storeId);
        const id = await customerIdOf(c, storeId, ref);
        await c.customers.erase({ storeId, api: 'cli', keyId: null }, id);
        return id;
      });
      console.log(`Erased ${erased}.`);
      return 0;
    }
    default:
      console.error(`Unknown command: ${positionals.join(' ')}\n\n${usage}`);
      return 1;
  }
}

/** `import` and `export`, against a server (--url) or the configured database. */
async function transfer(
  command: 'import' | 'export',
  positionals: string[],
  values: ReturnType<typeof parseOptions>['values'],
): Promise<number> {
  if (!values.store) throw new UsageError(`Missing --store <storeId>.\n\n${usage}`);
  const storeId = values.store;
  const key = values.key ?? process.env.CLIENTELE_API_KEY;
  if (values.url && !key) throw new UsageError(`--url needs --key.\n\n${usage}`);
  const remote = values.url && key ? { url: values.url, key } : undefined;
  const run = (clientele?: Clientele) =>
    command === 'import'
      ? runImport(positionals[1] ?? requireArg('file'), {
          storeId,
          remote,
          clientele,
          format: values.format,
          mode: values.mode,
          dryRun: values['dry-run'],
          errorsFile: values.errors,
        })
      : runExport({
          storeId,
          remote,
          clientele,
          format: values.format === 'csv' ? 'csv' : 'ndjson',
        });
  return remote ? run() : withClientele(run);
}

/**
 * `clientele distribute` (docs/scaling.md): the plan of db/distribution.ts, printed, and
 * run on a Citus coordinator. Without the citus extension (plain PostgreSQL, PGlite) it
 * says so and changes nothing; the migrations must have run, and the schema must keep
 * every rule of db/readiness.ts.
 */
async function distribute(dryRun: boolean, shards: number): Promise<number> {
  const config = configure();
  const clientele = await Clientele.open({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 1,
    verifyConnection: true,
  });
  try {
    const db = clientele.db;
    if (!(await isMigrated(db))) {
      console.error(
        'The database is not migrated: run `clientele migrate` first. Nothing was changed.',
      );
      return 2;
    }
    const citus = await hasCitus(db);
    if (!citus && !dryRun) {
      console.error(
        'This database has no citus extension (a Citus coordinator has it: CREATE EXTENSION citus). Nothing was changed. `clientele distribute --dry-run` prints what would run.',
      );
      return 2;
    }
    const violations = await citusViolations(db);
    if (violations.length > 0) {
      console.error(
        `The schema breaks rules of Citus; nothing was changed:\n${violations.join('\n')}`,
      );
      return 2;
    }
    const steps = planDistribution(await readSchema(db), await readCitusState(db), shards);
    if (!citus) console.log('-- No citus extension here: what a Citus coordinator would run.');
    for (const step of steps) {
      if (step.done) {
        console.log(`-- done already: ${step.sql};`);
        continue;
      }
      console.log(`${step.sql};`);
      if (!dryRun) await sql.raw(step.sql).execute(db);
    }
    const left = steps.filter((s) => !s.done).length;
    console.log(
      dryRun
        ? `-- ${left} statement${left === 1 ? '' : 's'} to run (dry run: none was).`
        : `-- ${left} statement${left === 1 ? '' : 's'} run; ${steps.length - left} done already.`,
    );
    return 0;
  } finally {
    await clientele.close();
  }
}

function shardsOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SHARDS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    throw new UsageError(
      `--shards takes a whole number from 1 to 10000, not ${value}.\n\n${usage}`,
    );
  }
  return n;
}

/** Shards per table (docs/scaling.md: 128 for 100,000 stores on up to 16 workers). */
const DEFAULT_SHARDS = 128;

/** The command line, or a usage error naming what it does not take (`--name` for a positional, say). */
function parseOptions(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        store: { type: 'string' },
        url: { type: 'string' },
        key: { type: 'string' },
        format: { type: 'string' },
        mode: { type: 'string' },
        'dry-run': { type: 'boolean' },
        errors: { type: 'string' },
        shards: { type: 'string' },
      },
    });
  } catch (error) {
    // node:util's own wording, without its advice on positionals that start with '-'.
    const message = error instanceof Error ? error.message.split('. ')[0] : String(error);
    throw new UsageError(`${message}.\n\n${usage}`);
  }
}

/** A customer named by its id, or by its email (what a person's request usually gives). */
async function customerIdOf(c: Clientele, storeId: string, ref: string): Promise<string> {
  return ref.includes('@') ? (await c.customers.find(storeId, { email: ref })).id : ref;
}

function requireArg(name: string): never {
  throw new UsageError(`Missing <${name}>.\n\n${usage}`);
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof SetupError || error instanceof UsageError) console.error(error.message);
    else if (error instanceof ClienteleError) console.error(`${error.code}: ${error.message}`);
    else console.error(error);
    process.exitCode = error instanceof UsageError ? 1 : 2;
  },
);

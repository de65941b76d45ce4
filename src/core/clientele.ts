import { countIdentityCollisions } from './customers/collisions.repository.js';
import { Customers } from './customers/customers.js';
import { SuppressionKeys } from './customers/suppression.js';
import { type Database, type DatabaseOptions, isReachable, openDatabase } from './db/database.js';
import { hasCitus } from './db/distribution.js';
import { isMigrated, migrateToLatest } from './db/migrate.js';
import { Events } from './events/events.js';
import { EventStream } from './events/stream.js';
import { Fields } from './fields/fields.js';
import { Idempotency } from './idempotency.js';
import { purgeExpired } from './idempotency.repository.js';
import { type ImportOptions, Imports } from './imports/imports.js';
import type { SegmentBuildOptions } from './segments/builder.js';
import { SegmentClock, type SegmentClockOptions } from './segments/clock.js';
import { Segments } from './segments/segments.js';
import { Keys } from './stores/keys.js';
import { Stores } from './stores/stores.js';
import { type WebhookOptions, Webhooks } from './webhooks/webhooks.js';

/** The line the CLI prints and the server logs while collisions are left to settle. */
export function collisionsNotice(count: number): string {
  return `${count} identity collision${count === 1 ? '' : 's'} left as found by migration 0009 (two customers holding one email or phone number once normalised, or an alias naming another store): see the table identity_collisions, docs/operations.md.`;
}

export interface ClienteleOptions extends DatabaseOptions {
  /** Apply pending migrations on open (the server does; tests and the CLI may too). */
  migrate?: boolean;
  /** Where the engine reports what no caller sees (a batch whose write failed). */
  log?: { warn(details: object, message: string): void };
  /** The server's secret key (CLIENTELE_SECRET_KEY): seals webhook signing secrets. */
  secretKey?: WebhookOptions['secretKey'];
  /** NATS with JetStream to publish every event to (CLIENTELE_NATS_URL). */
  natsUrl?: string | undefined;
  /** Imports: the largest file, the worker's lease and batch (defaults: config.ts). */
  imports?: Partial<ImportOptions>;
  /** Where webhooks may go beyond public https, and the delivery worker's timings. */
  webhooks?: Partial<Omit<WebhookOptions, 'secretKey' | 'log'>>;
  /** How often relative-date segments are re-evaluated (defaults: clock.ts). */
  segmentClock?: Omit<SegmentClockOptions, 'log'>;
  /** How segments are built: chunk, time within the request, lease (defaults: builder.ts). */
  segmentBuilds?: Omit<SegmentBuildOptions, 'log'>;
}

/**
 * The engine: everything Clientele does, with no HTTP in sight, one namespace per
 * feature (`clientele.customers.upsert`, `clientele.stores.create`, …). The server, the
 * CLI, the dialects and the tests all call this; each namespace owns its caches.
 */
export class Clientele {
  readonly fields: Fields;
  readonly stores: Stores;
  readonly keys: Keys;
  readonly customers: Customers;
  readonly idempotency: Idempotency;
  readonly events: Events;
  readonly webhooks: Webhooks;
  readonly imports: Imports;
  readonly segments: Segments;
  /** Moves relative-date segments with the clock; the server starts it. */
  readonly segmentClock: SegmentClock;
  /** The publisher of events to NATS, when one is configured; the server starts it. */
  readonly stream: EventStream | undefined;

  private constructor(
    private readonly database: Database,
    options: ClienteleOptions,
  ) {
    const { db } = database;
    this.fields = new Fields(db);
    this.stores = new Stores(db);
    this.keys = new Keys(db, options.databaseUrl, (error) =>
      options.log?.warn({ err: error }, 'could not record when API keys were last used'),
    );
    this.idempotency = new Idempotency(db);
    this.events = new Events(
      db,
      async (id) => (await this.stores.settingsOf(id)).eventRetentionDays,
    );
    this.webhooks = new Webhooks(db, this.events, {
      allowPrivate: false,
      allowHttp: false,
      ...options.webhooks,
      secretKey: options.secretKey,
      ...(options.log ? { log: options.log } : {}),
    });
    this.stream = options.natsUrl
      ? new EventStream(db, this.events, { url: options.natsUrl, log: options.log })
      : undefined;
    this.segments = new Segments(db, (id) => this.stores.settingsOf(id), {
      ...options.segmentBuilds,
      ...(options.log ? { log: options.log } : {}),
    });
    this.segmentClock = new SegmentClock(db, this.segments, {
      ...options.segmentClock,
      ...(options.log ? { log: options.log } : {}),
    });
    const services = {
      segments: this.segments,
      suppression: new SuppressionKeys(options.secretKey),
    };
    this.customers = new Customers({
      db,
      services,
      fieldCache: this.fields.cache,
      settingsOf: (id) => this.stores.settingsOf(id),
      onWritten: (waiting) => this.webhooks.sender.poke(waiting),
      onBatchFailure: (error, size) =>
        options.log?.warn(
          { err: error, upserts: size },
          'a batch of upserts failed to write; each runs alone',
        ),
    });
    this.imports = new Imports(
      db,
      this.fields.cache,
      services,
      (id) => this.stores.settingsOf(id),
      {
        maxBytes: 1024 ** 3,
        leaseMs: 30_000,
        batchRows: 500,
        // PGlite has one connection for every request: an import's batch keeps it briefly,
        // and lets requests have it between batches (its database runs in this thread, so
        // reading the next batch while one is written would only keep it from them). Its
        // statements also hold this thread while they run: at 50 ms a batch, upserts at a
        // steady 50/s waited p99 280-330 ms during an import (6-19x their p99 without);
        // at 15 ms, 83-100 ms (2.1-2.2x), for an import that ran at 2,200-2,700 rows/s
        // against 3,800-4,500 (bench:import).
        batchMs: database.kind === 'pglite' ? 15 : 0,
        overlap: database.kind !== 'pglite',
        ...options.imports,
        ...(options.log ? { log: options.log } : {}),
      },
    );
  }

  static async open(options: ClienteleOptions): Promise<Clientele> {
    const database = await openDatabase(options);
    try {
      if (options.migrate) await migrateToLatest(database.db);
    } catch (error) {
      await database.close();
      throw error;
    }
    // On Citus the webhook sender works store by store (docs/scaling.md); asked when it
    // first needs to know, so that opening needs no database.
    const perStore = () => database.kind === 'postgres' && hasCitus(database.db);
    return new Clientele(database, { ...options, webhooks: { perStore, ...options.webhooks } });
  }

  /** The database handle itself: for tests and tools, never for the HTTP layer. */
  get db() {
    return this.database.db;
  }

  /** `postgres` or `pglite`. */
  get databaseKind() {
    return this.database.kind;
  }

  async close(): Promise<void> {
    await this.imports.stopWorking();
    await this.webhooks.stopSending();
    await this.segmentClock.stop();
    await this.segments.stopBuilding();
    await this.stream?.stop();
    await this.keys.close();
    await this.database.close();
  }

  migrate(): Promise<string[]> {
    return migrateToLatest(this.db);
  }

  /** How many identity collisions migration 0009 left for the operator to settle. */
  identityCollisions(): Promise<number> {
    return countIdentityCollisions(this.db);
  }

  /** Database reachable and every migration applied. */
  async ready(): Promise<boolean> {
    try {
      return (await isReachable(this.db)) && (await isMigrated(this.db));
    } catch {
      return false;
    }
  }

  /** Deletes what has expired: idempotency keys past 24 hours, access tokens past their time. */
  purgeExpired() {
    return purgeExpired(this.db);
  }
}

import { sql } from 'kysely';
import { type BatchStats, UpsertBatcher } from './customers/batch.js';
import type { CustomerInput } from './customers/input.js';
import {
  findCustomer,
  getCustomer,
  type Lookup,
  listCustomerEvents,
  listCustomers,
  listCustomersByOffset,
  type PageQuery,
} from './customers/read.js';
import {
  deleteCustomer,
  findCustomerById,
  findCustomerBySeq,
  storedToCustomer,
} from './customers/repository.js';
import {
  type UpsertDeps,
  type UpsertOptions,
  upsertAlone,
  upsertCustomer,
  type WriteContext,
} from './customers/upsert.js';
import { type Database, type DatabaseOptions, openDatabase } from './db/database.js';
import { isMigrated, migrateToLatest } from './db/migrate.js';
import { fail } from './errors.js';
import { FieldCache, listDeclarations, listOptions } from './fields/fields.js';
import { purgeExpired } from './idempotency.js';
import { hashApiKey } from './stores/api-keys.js';
import { KeyCache, listenForRevocations } from './stores/key-cache.js';
import type { Platform, StoreSettings } from './stores/settings.js';
import * as stores from './stores/stores.js';

export interface ClienteleOptions extends DatabaseOptions {
  /** Apply pending migrations on open (the server does; tests and the CLI may too). */
  migrate?: boolean;
}

/** How long a key is remembered at most (revocations evict it sooner). */
const KEY_CACHE_TTL_MS = 60_000;

/** Store settings are read on every write; a few seconds of memory spares a query each time. */
const SETTINGS_TTL_MS = 5_000;

/**
 * The engine: everything Clientele does, with no HTTP in sight. The server, the CLI,
 * the dialects and the tests all call this.
 */
export class Clientele {
  private readonly fieldCache = new FieldCache();
  private readonly settingsCache = new Map<string, { settings: StoreSettings; at: number }>();

  private readonly keyCache: KeyCache;
  private readonly batcher: UpsertBatcher;
  private readonly upsertDeps: UpsertDeps;
  private readonly revocations: { close(): Promise<void> } | undefined;

  private constructor(
    readonly database: Database,
    databaseUrl: string | undefined,
  ) {
    // On PostgreSQL other processes revoke keys too: remember keys only while their
    // revocations can be heard. PGlite has one process, which evicts for itself.
    this.keyCache = new KeyCache(KEY_CACHE_TTL_MS, !databaseUrl);
    this.batcher = new UpsertBatcher(
      database.db,
      this.fieldCache,
      (item) => upsertAlone(this.upsertDeps, item.ctx, item.input, {}, item.settings),
      // One batch at a time, on both databases. PGlite runs one statement at a time; on
      // PostgreSQL, one batch in flight chains nearly every batch (one round trip each,
      // the next batch's look-up riding on this one's write) where two chained half of
      // them: at 64 clients on 2 cores, ~5,000-5,260 upserts/s against ~4,900-4,960, with
      // 13 % less server and PostgreSQL CPU per upsert (docs/benchmarks.md).
      { inFlight: 1, maxSize: 256 },
    );
    this.upsertDeps = {
      db: database.db,
      fieldCache: this.fieldCache,
      settingsOf: (id) => this.settingsOf(id),
      batcher: this.batcher,
    };
    this.revocations = databaseUrl ? listenForRevocations(databaseUrl, this.keyCache) : undefined;
  }

  static async open(options: ClienteleOptions): Promise<Clientele> {
    const database = await openDatabase(options);
    try {
      if (options.migrate) await migrateToLatest(database.db);
    } catch (error) {
      await database.close();
      throw error;
    }
    return new Clientele(database, options.databaseUrl);
  }

  get db() {
    return this.database.db;
  }

  async close(): Promise<void> {
    await this.revocations?.close();
    await this.database.close();
  }

  migrate(): Promise<string[]> {
    return migrateToLatest(this.db);
  }

  /** Database reachable and every migration applied. */
  async ready(): Promise<boolean> {
    try {
      await sql`SELECT 1`.execute(this.db);
      return await isMigrated(this.db);
    } catch {
      return false;
    }
  }

  /**
   * On an empty database, creates the store `default` with one key; otherwise nothing.
   * Several processes starting at once create it once.
   */
  async bootstrapDefaultStore(): Promise<(stores.Store & { apiKey: string }) | undefined> {
    return this.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended('clientele:bootstrap', 0))`.execute(
        trx,
      );
      if ((await stores.countStores(trx)) > 0) return undefined;
      return stores.createStore(trx, 'default');
    });
  }

  // Stores and keys
  createStore(name: string) {
    return stores.createStore(this.db, name);
  }
  getStore(storeId: string) {
    return stores.getStore(this.db, storeId);
  }
  async updateStore(
    storeId: string,
    change: { name?: string; settings?: Record<string, unknown> },
  ) {
    const store = await stores.updateStore(this.db, storeId, change);
    this.settingsCache.delete(storeId);
    return store;
  }
  createKey(storeId: string) {
    return stores.createKey(this.db, storeId);
  }
  async revokeKey(storeId: string, keyId: string) {
    await stores.revokeKey(this.db, storeId, keyId);
    this.keyCache.evictKey(keyId);
  }
  /** The caller a store key stands for, from memory when this process has seen it lately. */
  async authenticate(apiKey: string): Promise<stores.Caller | undefined> {
    const hash = hashApiKey(apiKey);
    const known = this.keyCache.get(hash);
    if (known) return known;
    const caller = await stores.authenticateKey(this.db, hash);
    if (caller) this.keyCache.set(hash, caller);
    return caller;
  }
  createAccessToken(caller: stores.Caller) {
    return stores.createAccessToken(this.db, caller);
  }
  authenticateAccessToken(token: string) {
    return stores.authenticateAccessToken(this.db, token);
  }
  findStoreByIdOrAlias(idOrAlias: string, platform: Platform) {
    return stores.findStoreByIdOrAlias(this.db, idOrAlias, platform);
  }

  async settingsOf(storeId: string): Promise<StoreSettings> {
    const hit = this.settingsCache.get(storeId);
    if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.settings;
    const { settings } = await stores.getStore(this.db, storeId);
    this.settingsCache.set(storeId, { settings, at: Date.now() });
    return settings;
  }

  /** Deletes what has expired: idempotency keys past 24 hours, access tokens past their time. */
  purgeExpired() {
    return purgeExpired(this.db);
  }

  // Customers
  upsertCustomer(ctx: WriteContext, input: CustomerInput, options?: UpsertOptions) {
    return upsertCustomer(this.upsertDeps, ctx, input, options);
  }
  /** How upserts were written so far: in batches, or alone. */
  upsertBatchStats(): BatchStats {
    return { ...this.batcher.stats };
  }
  getCustomer(storeId: string, customerId: string) {
    return getCustomer(this.db, storeId, customerId);
  }
  /** A customer by its stable integer id within the store. */
  async getCustomerBySeq(storeId: string, seq: number) {
    const stored = await findCustomerBySeq(this.db, storeId, seq);
    if (!stored) throw fail.customerNotFound(String(seq));
    return { customer: storedToCustomer(storeId, stored), seq: stored.seq };
  }
  findCustomer(storeId: string, lookup: Lookup) {
    return findCustomer(this.db, storeId, lookup);
  }
  listCustomers(storeId: string, page: PageQuery) {
    return listCustomers(this.db, storeId, page);
  }
  listCustomersByOffset(
    storeId: string,
    query: { limit: number; page: number; email?: string | undefined },
  ) {
    return listCustomersByOffset(this.db, storeId, query);
  }
  /** The customer's stable integer id within its store. */
  async seqOf(storeId: string, customerId: string): Promise<number> {
    const stored = await findCustomerById(this.db, storeId, customerId);
    if (!stored) throw fail.customerNotFound(customerId);
    return stored.seq;
  }
  /** Erases a customer: its data, identifiers and history. */
  async deleteCustomer(storeId: string, customerId: string): Promise<void> {
    const deleted = await this.db
      .transaction()
      .execute((trx) => deleteCustomer(trx, storeId, customerId));
    if (!deleted) throw fail.customerNotFound(customerId);
  }
  listCustomerEvents(storeId: string, customerId: string, page: PageQuery) {
    return listCustomerEvents(this.db, storeId, customerId, page);
  }

  // Custom fields
  listCustomFields(storeId: string) {
    return listDeclarations(this.db, storeId);
  }
  listCustomFieldOptions(storeId: string, name: string, query: { prefix?: string; limit: number }) {
    return listOptions(this.db, storeId, name, query);
  }
}

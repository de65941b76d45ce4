import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import type { FieldCache } from '../fields/field-cache.js';
import { hasPrefix } from '../ids.js';
import { decodeCursor, type Page, pageOf } from '../paging.js';
import type { StoreSettings } from '../stores/settings.js';
import { type BatchStats, UpsertBatcher } from './batch.js';
import type { WriteContext } from './changes.js';
import type { Customer } from './customer.js';
import { findCustomerById } from './customers.repository.js';
import { eraseCustomer } from './erase.js';
import { type CustomerExport, exportCustomer } from './export.js';
import type { IdentityKey } from './identity.js';
import type { CustomerInput } from './input.js';
import { type CustomerList, type CustomerListQuery, listCustomerPage } from './list.js';
import type { MergeRecord } from './merge.js';
import { mergeInto, undoMerge } from './merges.js';
import { findMerge, listMerges, mergeOf } from './merges.repository.js';
import * as read from './read.js';
import { removeIdentifier } from './remove.js';
import { type SearchQuery, searchCustomers } from './search.js';
import { liftSuppression, listSuppressions, type Suppression } from './suppressions.repository.js';
import { type UpsertDeps, type UpsertOptions, upsertAlone, upsertCustomer } from './upsert.js';
import type { WriteServices } from './write.repository.js';

export interface CustomersOptions {
  db: DB;
  fieldCache: FieldCache;
  settingsOf: (storeId: string) => Promise<StoreSettings>;
  /** Told once per batch whose read or write failed (its upserts then ran alone). */
  onBatchFailure?: (error: unknown, size: number) => void;
  /**
   * Told after a write that changed a customer has committed (the webhook sender wakes),
   * with how many other upserts of this process are still waiting or being written.
   */
  onWritten?: (waiting: number) => void;
  /** The store's segments (whose memberships every write keeps) and suppression's hashes. */
  services: WriteServices;
}

/** `clientele.customers`: the upsert, reads, history and erasure. */
export class Customers {
  private readonly db: DB;
  private readonly batcher: UpsertBatcher;
  private readonly deps: UpsertDeps;
  private readonly onWritten: ((waiting: number) => void) | undefined;
  /** Upserts begun and not yet answered. */
  private writing = 0;

  constructor(options: CustomersOptions) {
    this.db = options.db;
    this.onWritten = options.onWritten;
    this.batcher = new UpsertBatcher(
      options.db,
      options.fieldCache,
      (item) => upsertAlone(this.deps, item),
      {
        // One batch at a time, on both databases. PGlite runs one statement at a time; on
        // PostgreSQL, one batch in flight chains nearly every batch (one round trip each,
        // the next batch's look-up riding on this one's write) where two chained half of
        // them: at 64 clients on 2 cores, ~5,000-5,260 upserts/s against ~4,900-4,960, with
        // 13 % less server and PostgreSQL CPU per upsert (docs/benchmarks.md).
        inFlight: 1,
        maxSize: 256,
        ...(options.onBatchFailure ? { onFailure: options.onBatchFailure } : {}),
      },
      options.services,
    );
    this.deps = {
      db: options.db,
      fieldCache: options.fieldCache,
      settingsOf: options.settingsOf,
      batcher: this.batcher,
      services: options.services,
    };
  }

  /** Create or update a customer (every API's write comes here). */
  async upsert(ctx: WriteContext, input: CustomerInput, options?: UpsertOptions) {
    this.writing++;
    try {
      const outcome = await upsertCustomer(this.deps, ctx, input, options);
      if (outcome.result !== 'unchanged') this.onWritten?.(this.writing - 1);
      return outcome;
    } finally {
      this.writing--;
    }
  }

  /** How upserts were written so far: in batches, or alone. */
  batchStats(): BatchStats {
    return { ...this.batcher.stats };
  }

  /** A customer by id; an id merged into another customer reads as that customer. */
  get(storeId: string, customerId: string) {
    return read.getCustomer(this.db, storeId, customerId);
  }

  /**
   * A customer by a reference that is either its Clientele id or its external id (the
   * platforms whose paths take either).
   */
  resolve(storeId: string, ref: string): Promise<Customer> {
    return hasPrefix(ref, 'cust')
      ? read.getCustomer(this.db, storeId, ref)
      : read.findCustomer(this.db, storeId, { externalId: ref });
  }

  /** A customer by one identifier (404 when nobody holds it). */
  find(storeId: string, lookup: read.Lookup) {
    return read.findCustomer(this.db, storeId, lookup);
  }

  /** The customers any of these identifiers find, each once; those nobody holds are skipped. */
  async findMany(storeId: string, lookups: read.Lookup[]): Promise<Customer[]> {
    const found = new Map<string, Customer>();
    for (const lookup of lookups) {
      try {
        const customer = await read.findCustomer(this.db, storeId, lookup);
        found.set(customer.id, customer);
      } catch (error) {
        if (!(error instanceof ClienteleError && error.code === 'customer_not_found')) throw error;
      }
    }
    return [...found.values()];
  }

  list(storeId: string, page: read.PageQuery) {
    return read.listCustomers(this.db, storeId, page);
  }

  /** Customers whose email, phone, external id, identifier or name starts with `q`. */
  search(storeId: string, query: SearchQuery) {
    return searchCustomers(this.db, storeId, query);
  }

  /**
   * A filtered, ordered page, by number or past a time (for platforms that page so), with
   * the total the filters leave.
   */
  listPage(storeId: string, query: CustomerListQuery): Promise<CustomerList> {
    return listCustomerPage(this.db, storeId, query);
  }

  /** The customer's change records, newest first; with `merged`, its merged customers' too. */
  events(storeId: string, customerId: string, page: read.PageQuery, options = { merged: false }) {
    return read.listCustomerEvents(this.db, storeId, customerId, page, options);
  }

  /** The customer's stable integer id within its store. */
  async seqOf(storeId: string, customerId: string): Promise<number> {
    const stored = await findCustomerById(this.db, storeId, customerId);
    if (!stored) throw fail.customerNotFound(customerId);
    return stored.seq;
  }

  /**
   * Erases a customer: everything Clientele holds of the person, leaving one change record
   * that says so (`customer.erased`: the id alone) and, with the store's suppression on,
   * the keyed hashes of its identifiers (erase.ts).
   */
  async erase(ctx: WriteContext, customerId: string): Promise<void> {
    await eraseCustomer(this.deps, ctx, customerId);
    this.onWritten?.(0);
  }

  /**
   * A customer by id as the native API reads it: the customer, or, for an id merged
   * away, whom it went into and by which merge.
   */
  async read(
    storeId: string,
    customerId: string,
  ): Promise<{ customer: Customer } | { mergedInto: string; mergeId: string | null }> {
    const stored = await findCustomerById(this.db, storeId, customerId);
    if (stored?.mergedInto) {
      return {
        mergedInto: stored.mergedInto,
        mergeId: (await mergeOf(this.db, storeId, customerId)) ?? null,
      };
    }
    return { customer: await read.getCustomer(this.db, storeId, customerId) };
  }

  /** Merges the sources into the target (merges.ts); the merge and the customer it left. */
  async merge(ctx: WriteContext, targetId: string, sourceIds: string[]) {
    const outcome = await mergeInto(this.deps, ctx, targetId, sourceIds);
    this.onWritten?.(0);
    return outcome;
  }

  /** Undoes a merge: the sources back, the target without what came from them. */
  async undoMerge(ctx: WriteContext, mergeId: string) {
    const outcome = await undoMerge(this.deps, ctx, mergeId);
    this.onWritten?.(0);
    return outcome;
  }

  /** The store's merges newest first, or those of one customer (as target or source). */
  async merges(
    storeId: string,
    customerId: string | undefined,
    page: read.PageQuery,
  ): Promise<Page<MergeRecord>> {
    const before = decodeCursor(page.cursor, 'mrg');
    return pageOf(
      await listMerges(this.db, storeId, customerId, page.limit + 1, before),
      page.limit,
    );
  }

  async mergeById(storeId: string, mergeId: string): Promise<MergeRecord> {
    const merge = hasPrefix(mergeId, 'mrg')
      ? await findMerge(this.db, storeId, mergeId)
      : undefined;
    if (!merge) throw new ClienteleError('not_found', `No merge ${mergeId}.`);
    return merge;
  }

  /** Removes one phone number or typed identifier from a customer (404 if it has none). */
  async removeIdentifier(ctx: WriteContext, customerId: string, key: IdentityKey) {
    const customer = await removeIdentifier(this.deps, ctx, customerId, key);
    this.onWritten?.(0);
    return customer;
  }

  /** Everything held about one person, as one document (a data-access request). */
  export(storeId: string, customerId: string): Promise<CustomerExport> {
    return exportCustomer(this.db, this.deps.services.suppression, storeId, customerId);
  }

  /** The store's suppressions, newest first: each identifier's kind and keyed hash, no value. */
  async suppressions(storeId: string, page: read.PageQuery): Promise<Page<Suppression>> {
    const before = decodeCursor(page.cursor, 'sup');
    return pageOf(await listSuppressions(this.db, storeId, page.limit + 1, before), page.limit);
  }

  /**
   * Lifts the suppression of one identifier (normalised as a look-up is), so that writes
   * naming it are accepted again; 404 when it is not suppressed.
   */
  async liftSuppression(storeId: string, lookup: read.Lookup): Promise<void> {
    const problem = read.lookupProblem(lookup);
    if (problem) throw fail.field(`/query/${'email' in lookup ? 'email' : 'phone'}`, problem);
    const key = read.lookupKey(lookup);
    if (!(await liftSuppression(this.db, this.deps.services.suppression, storeId, key))) {
      throw new ClienteleError('not_found', 'This identifier is not suppressed.');
    }
  }
}

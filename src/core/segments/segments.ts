import type { Customer } from '../customers/customer.js';
import type { Segmenting } from '../customers/write.repository.js';
import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import { listDeclarations } from '../fields/fields.repository.js';
import type { FieldType } from '../fields/types.js';
import { newId } from '../ids.js';
import { decodeCursor, type Page, type PageQuery, pageOf } from '../paging.js';
import type { StoreSettings } from '../stores/settings.js';
import * as build from './build.repository.js';
import { SegmentBuilder, type SegmentBuildOptions } from './builder.js';
import type { SegmentView } from './derive.js';
import { type Condition, validateFilter } from './filter.js';
import { previewCondition } from './matching.repository.js';
import { scheduleSegment } from './schedule.repository.js';
import * as repo from './segments.repository.js';
import * as values from './values.repository.js';

/** A segment as the API shows it (schema.ts declares it). */
export interface Segment {
  id: string;
  name: string;
  filter: unknown;
  count: number;
  status: 'building' | 'ready';
  createdAt: string;
  updatedAt: string;
}

const toSegment = (s: repo.StoredSegment): Segment => ({
  id: s.id,
  name: s.name,
  filter: s.filter,
  count: s.count,
  status: s.status,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

/** A 404 naming where the id came from: the path, or `/query/segment` of the customers list. */
const notFound = (id: string, path = '/path/segmentId') =>
  new ClienteleError('segment_not_found', `No segment ${id}.`, [
    { path, message: 'no segment with this id in this store' },
  ]);

/** No limit: a filter saved under the store's limits then stays valid if they are lowered. */
const unlimited = { leaves: Number.POSITIVE_INFINITY, depth: Number.POSITIVE_INFINITY };

/**
 * `clientele.segments`: saved filters whose members every write keeps current. It is
 * also what each write asks for the store's segments (`viewOf`): a view is kept per
 * process until a write finds the store's segments version moved on (`stale`), so a
 * segment made by another process reaches this one at its first write after.
 */
export class Segments implements Segmenting {
  private readonly views = new Map<string, SegmentView>();
  /** Builds segments in the background (`startBuilding`) and within their requests. */
  readonly builder: SegmentBuilder;

  constructor(
    private readonly db: DB,
    private readonly settingsOf: (storeId: string) => Promise<StoreSettings>,
    private readonly buildOptions: SegmentBuildOptions = {},
  ) {
    this.builder = new SegmentBuilder(db, buildOptions);
  }

  /** Builds the store's `building` segments in the background until `stopBuilding`. */
  startBuilding(): void {
    this.builder.start();
  }

  stopBuilding(): Promise<void> {
    return this.builder.stop();
  }

  /**
   * The build a create or a new filter committed, run here for up to `inRequestMs`; what
   * is left goes to the background builders (of any process). A failure leaves the
   * segment building: its lease lapses and a builder takes it up.
   */
  private async buildInRequest(storeId: string, id: string): Promise<void> {
    const { builder } = this;
    if (builder.inRequestMs <= 0) return builder.poke();
    try {
      await builder.run(storeId, id, builder.inRequestMs);
    } catch (error) {
      this.buildOptions.log?.warn({ err: error }, 'segment build failed; the builders resume it');
    }
  }

  /** Who builds a build just committed: this request's builder, or any (inRequestMs 0). */
  private get requestOwner(): string | null {
    return this.builder.inRequestMs > 0 ? this.builder.owner : null;
  }

  /**
   * Each caller loads a missing view through its own handle (a load is never shared:
   * one made in a transaction that fails must not fail another's write). A view kept
   * after a change it missed is harmless: it carries the version it was read at, which
   * the write states.
   */
  async viewOf(storeId: string, db: DB = this.db): Promise<SegmentView> {
    const known = this.views.get(storeId);
    if (known) return known;
    const view = await this.loadView(storeId, db);
    this.views.set(storeId, view);
    return view;
  }

  stale(storeId: string): void {
    this.views.delete(storeId);
  }

  private async loadView(storeId: string, db: DB): Promise<SegmentView> {
    const read = await repo.readView(db, storeId);
    const declared = await this.declaredTypes(storeId, db);
    return {
      storeId,
      version: read?.version ?? '0',
      keepsValues: read?.keepsValues ?? true,
      segments: (read?.segments ?? []).map((s) => ({
        id: s.id,
        condition: validateFilter(s.filter, declared, unlimited),
      })),
    };
  }

  private async declaredTypes(storeId: string, db = this.db): Promise<Map<string, FieldType>> {
    const fields = await listDeclarations(db, storeId);
    return new Map(fields.map((f) => [f.name, f.type]));
  }

  /** The filter as a condition, judged against the store's fields and limits (422). */
  async condition(storeId: string, filter: unknown): Promise<Condition> {
    const settings = await this.settingsOf(storeId);
    return validateFilter(filter, await this.declaredTypes(storeId), {
      leaves: settings.segmentFilterLeaves,
      depth: settings.segmentFilterDepth,
    });
  }

  async create(storeId: string, input: { name: string; filter: unknown }): Promise<Segment> {
    // Judged now (a 422 here); the builder reads the saved filter again.
    await this.condition(storeId, input.filter);
    const { segmentsLimit } = await this.settingsOf(storeId);
    const id = newId('seg');
    const now = new Date();
    await this.db.transaction().execute(async (trx) => {
      // The version first: it holds the store's segments still while this one is built.
      await repo.bumpVersion(trx, storeId);
      // Its build reads the store's typed values: kept from now, filled first (builder.ts).
      await values.startKeeping(trx, storeId);
      const count = await repo.countSegments(trx, storeId);
      if (count >= segmentsLimit) {
        throw fail.limit(
          '/name',
          `the store has ${count} segments; it may have ${segmentsLimit} (store setting segmentsLimit)`,
        );
      }
      // Building, and in the store's view from this commit: every write keeps its members
      // for the customers it writes; the builder makes the others' (builder.ts).
      await repo.insertSegment(trx, storeId, { id, name: input.name, filter: input.filter, now });
      await build.takeLease(trx, storeId, id, this.requestOwner, this.builder.leaseMs);
    });
    this.stale(storeId);
    await this.buildInRequest(storeId, id);
    return this.get(storeId, id);
  }

  async list(storeId: string): Promise<Segment[]> {
    return (await repo.listSegments(this.db, storeId)).map(toSegment);
  }

  async get(storeId: string, id: string, path?: string): Promise<Segment> {
    const found = await repo.findSegment(this.db, storeId, id);
    if (!found) throw notFound(id, path);
    return toSegment(found);
  }

  /** A new name, or a new filter (its members are made again: building, then ready). */
  async update(
    storeId: string,
    id: string,
    change: { name?: string | undefined; filter?: unknown },
  ): Promise<Segment> {
    const condition =
      change.filter === undefined ? undefined : await this.condition(storeId, change.filter);
    const now = new Date();
    await this.db.transaction().execute(async (trx) => {
      if (condition) {
        await repo.bumpVersion(trx, storeId);
        await values.startKeeping(trx, storeId);
      }
      const found = await repo.findSegment(trx, storeId, id, true);
      if (!found) throw notFound(id);
      await repo.updateSegment(trx, storeId, id, {
        ...(change.name === undefined ? {} : { name: change.name }),
        ...(change.filter === undefined ? {} : { filter: change.filter }),
        now,
      });
      if (condition) {
        // Built again from its first customer; the clock takes it up once ready.
        await build.restartBuild(trx, storeId, id, this.requestOwner, this.builder.leaseMs);
        await scheduleSegment(trx, storeId, id, null);
      }
    });
    if (condition) {
      this.stale(storeId);
      await this.buildInRequest(storeId, id);
    }
    return this.get(storeId, id);
  }

  async remove(storeId: string, id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await repo.bumpVersion(trx, storeId);
      const found = await repo.findSegment(trx, storeId, id, true);
      if (!found) throw notFound(id);
      await repo.deleteSegment(trx, storeId, id);
    });
    this.stale(storeId);
  }

  /**
   * A page of the segment's members, newest customer first, with when each joined: a
   * keyset over `segment_members`' primary key within one store and segment. `path` is
   * where a 404 says the unknown id came from.
   */
  async members(
    storeId: string,
    id: string,
    page: PageQuery,
    path?: string,
  ): Promise<Page<{ id: string; joinedAt: string; customer: Customer }>> {
    await this.get(storeId, id, path);
    const before = decodeCursor(page.cursor, 'cust');
    const rows = await repo.listMembers(this.db, storeId, id, page.limit + 1, before);
    return pageOf(
      rows.map((r) => ({
        id: r.customer.id,
        joinedAt: r.joinedAt.toISOString(),
        customer: r.customer,
      })),
      page.limit,
    );
  }

  /** The segments a customer is in (none for an id the store does not have). */
  async ofCustomer(storeId: string, customerId: string) {
    const rows = await repo.segmentsOfCustomer(this.db, storeId, customerId);
    return rows.map((r) => ({ id: r.id, name: r.name, joinedAt: r.joinedAt.toISOString() }));
  }

  /**
   * What a filter not saved yet holds now: how many customers, and the newest few. It
   * reads the store's typed values: a store that keeps none yet (no segment, no preview
   * before) starts keeping them, and its customers' are filled within the request for up
   * to `inRequestMs`; past that, 503 `values_preparing` while the builders go on.
   */
  async preview(storeId: string, filter: unknown, sample = 10) {
    const condition = await this.condition(storeId, filter);
    await this.valuesKept(storeId);
    return previewCondition(this.db, storeId, condition, Date.now(), sample);
  }

  private async valuesKept(storeId: string): Promise<void> {
    const state = await values.valuesState(this.db, storeId);
    if (state === undefined || state.status === 'kept') return;
    if (state.status === 'off') {
      await this.db.transaction().execute(async (trx) => {
        await repo.bumpVersion(trx, storeId);
        await values.startKeeping(trx, storeId);
      });
      this.stale(storeId);
    }
    if (await this.builder.fill(storeId, this.builder.inRequestMs)) return;
    this.builder.poke();
    throw new ClienteleError(
      'values_preparing',
      "The store's custom-field values are being indexed for segments, once, from its first segment or preview; retry after Retry-After.",
    );
  }
}

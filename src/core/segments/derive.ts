import { type ChangeRecord, fieldChanges } from '../customers/changes.js';
import type { CustomerState } from '../customers/customer.js';
import { ownValue } from '../records.js';
import type { Condition } from './filter.js';
import { matches } from './predicate.js';

/**
 * What a store's segments are at one version, as every write of that store evaluates
 * them. A write states the version (`clientele_write_derived` refuses another one), so
 * a view that has gone stale is noticed, dropped and loaded again.
 */
export interface SegmentView {
  storeId: string;
  version: string;
  /**
   * Whether the store keeps its customers' typed values (migration 0030): not until its
   * first segment or preview, so a store that never segments writes none.
   */
  keepsValues: boolean;
  segments: readonly { id: string; condition: Condition }[];
}

/** One customer as a write leaves it (write.repository.ts's CustomerWrite, in part). */
export interface WrittenCustomer {
  id: string;
  version: number;
  state: CustomerState;
  createdAt: Date;
  now: Date;
  events: ChangeRecord[];
  /** A customer back from a merge (an undo): its values had gone, so all are written. */
  revived?: boolean;
}

/** A customer whose segments all end: merged into another, or erased. */
export interface GoneCustomer {
  id: string;
  api: string;
  keyId: string | null;
  /** Its last version. */
  version: number;
  now: Date;
}

export interface ValueRow {
  c: string;
  f: string;
  n: number | null;
  t: string | null;
  b: boolean | null;
  d: string | null;
}

export interface MemberRow {
  c: string;
  s: string[];
  clear: boolean;
  api: string;
  k: string | null;
  pv: number | null;
  v: number | null;
  at: string;
}

/** The typed values a write changes: those of the fields its change records name. */
function changedValues(w: WrittenCustomer): ValueRow[] {
  const fields = new Set<string>(w.revived ? Object.keys(w.state.customFields) : []);
  for (const e of w.events) {
    for (const path of Object.keys(fieldChanges(e.changes))) {
      if (path.startsWith('customFields.')) fields.add(path.slice('customFields.'.length));
    }
  }
  return [...fields].map((f) => valueRow(w.id, f, ownValue(w.state.customFields, f)));
}

/** A DATE value as the write stores it (UTC, ms): it also fills the `ts` column. */
const STORED_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function valueRow(c: string, f: string, value: unknown): ValueRow {
  const row: ValueRow = { c, f, n: null, t: null, b: null, d: null };
  if (typeof value === 'number') row.n = value;
  else if (typeof value === 'boolean') row.b = value;
  else if (typeof value === 'string') {
    row.t = value;
    if (STORED_DATE.test(value)) {
      const ms = Date.parse(value);
      if (!Number.isNaN(ms) && new Date(ms).toISOString() === value) row.d = value;
    }
  }
  return row;
}

/** Every custom field's typed value of one customer: what a fill writes (builder.ts). */
export function valueRowsOf(c: string, customFields: Record<string, unknown>): ValueRow[] {
  return Object.keys(customFields).map((f) => valueRow(c, f, ownValue(customFields, f)));
}

/**
 * The one place that derives, from a write, the rows segments keep beside the
 * customer: the typed value of each custom field its change records name, and the
 * segments of the store each written customer is now in (the in-memory predicate over
 * its new state at the write's time). Every write path (the batch, the path alone,
 * erasure, re-evaluation, an import on the batch path) goes through here, by way of
 * write.repository.ts.
 */
export function deriveRows(
  view: SegmentView,
  written: readonly WrittenCustomer[],
  gone: readonly GoneCustomer[] = [],
): { values: ValueRow[]; members: MemberRow[] } {
  const values: ValueRow[] = [];
  const members: MemberRow[] = [];
  for (const w of written) {
    if (view.keepsValues) values.push(...changedValues(w));
    // No segment, no membership to keep (the write's function skips them too; a segment
    // made since moved the version the write states).
    if (view.segments.length === 0) continue;
    const subject = { state: w.state, createdAt: w.createdAt, updatedAt: w.now };
    const now = w.now.getTime();
    const last = w.events.at(-1);
    members.push({
      c: w.id,
      s: view.segments.filter((s) => matches(s.condition, subject, now)).map((s) => s.id),
      clear: false,
      // No change record: the clock moved it (clock.ts).
      api: last?.api ?? 'clock',
      k: last?.keyId ?? null,
      pv: w.version,
      v: w.version,
      at: w.now.toISOString(),
    });
  }
  for (const g of gone) {
    members.push({
      c: g.id,
      s: [],
      clear: true,
      api: g.api,
      k: g.keyId,
      pv: g.version,
      v: null,
      at: g.now.toISOString(),
    });
  }
  return { values, members };
}

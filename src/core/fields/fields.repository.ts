import { sql } from 'kysely';
import { limits } from '../customers/limits.js';
import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import { ownValue } from '../records.js';
import type { FieldCache } from './field-cache.js';
import { detectFieldType, type FieldType, type FieldValue } from './types.js';

/**
 * Custom fields' SQL: declarations (a field's type, from its first value) and the STRING
 * options tracked for segment filters. Callers remember what a transaction declared or
 * tracked in the FieldCache only once it commits.
 */

export interface FieldDeclaration {
  name: string;
  type: FieldType;
  createdAt: string;
  optionCount: number;
  optionsTruncated: boolean;
}

/**
 * The declared type of every custom field a write names, declaring those seen for the
 * first time. Returns the types and the declarations this call made (to be cached once
 * the transaction commits).
 */
export async function resolveFieldTypes(
  trx: DB,
  cache: FieldCache,
  storeId: string,
  values: Record<string, FieldValue | null>,
  fixedTypes: Record<string, FieldType> = {},
): Promise<{ types: Map<string, FieldType>; declared: Map<string, FieldType> }> {
  const known = cache.typesOf(storeId);
  const types = new Map<string, FieldType>();
  const unknown: string[] = [];
  for (const name of Object.keys(values)) {
    const type = known.get(name);
    if (type) types.set(name, type);
    else unknown.push(name);
  }
  const declared = new Map<string, FieldType>();
  if (unknown.length === 0) return { types, declared };

  await readDeclarations(trx, storeId, unknown, [types, declared]);

  const toDeclare = unknown.filter((n) => !types.has(n) && values[n] !== null);
  if (toDeclare.length > 0) {
    // Serialise declarations within a store so the per-store cap holds exactly.
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`fields:${storeId}`}, 0))`.execute(
      trx,
    );
    const { n } = await trx
      .selectFrom('custom_fields')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('store_id', '=', storeId)
      .executeTakeFirstOrThrow();
    if (Number(n) + toDeclare.length > limits.declarationsPerStore) {
      throw fail.limit(
        '/customFields',
        `a store has at most ${limits.declarationsPerStore} custom fields`,
      );
    }
    await trx
      .insertInto('custom_fields')
      .values(
        toDeclare.map((name) => ({
          store_id: storeId,
          name,
          type: ownValue(fixedTypes, name) ?? detectFieldType(values[name] as FieldValue),
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
    // Another request may have declared the same name first; its type is the type.
    await readDeclarations(trx, storeId, toDeclare, [types, declared]);
  }
  return { types, declared };
}

/** Reads the declared types of these fields into each of the maps. */
async function readDeclarations(
  trx: DB,
  storeId: string,
  names: string[],
  into: Map<string, FieldType>[],
): Promise<void> {
  const rows = await trx
    .selectFrom('custom_fields')
    .select(['name', 'type'])
    .where('store_id', '=', storeId)
    .where('name', 'in', names)
    .execute();
  for (const row of rows) for (const map of into) map.set(row.name, row.type as FieldType);
}

/**
 * Records new values of STRING fields as options, up to the store's per-field cap;
 * past it the field is marked truncated. Returns the options now known to exist, and
 * the fields found full (for the cache, once the transaction commits).
 */
export async function trackOptions(
  trx: DB,
  cache: FieldCache,
  storeId: string,
  candidates: { field: string; value: string }[],
  cap: number,
): Promise<{ options: { field: string; value: string }[]; full: string[] }> {
  const full: string[] = [];
  const fresh = candidates.filter((c) => cache.mayTrack(storeId, c.field, c.value, cap));
  if (fresh.length === 0) return { options: [], full };

  const existing = await trx
    .selectFrom('custom_field_options')
    .select(['field_name', 'value'])
    .where('store_id', '=', storeId)
    .where((eb) =>
      eb.or(fresh.map((c) => eb.and([eb('field_name', '=', c.field), eb('value', '=', c.value)]))),
    )
    .execute();
  const isKnown = (c: { field: string; value: string }) =>
    existing.some((e) => e.field_name === c.field && e.value === c.value);
  const missing = fresh.filter((c) => !isKnown(c));
  const known = fresh.filter(isKnown);
  if (missing.length === 0) return { options: known, full };

  // Lock the fields' rows (in name order, so two writers cannot deadlock) to count exactly.
  const fieldNames = [...new Set(missing.map((c) => c.field))].sort();
  const fields = await trx
    .selectFrom('custom_fields')
    .select(['name', 'option_count', 'options_truncated'])
    .where('store_id', '=', storeId)
    .where('name', 'in', fieldNames)
    .orderBy('name')
    .forUpdate()
    .execute();

  for (const field of fields) {
    const values = missing.filter((c) => c.field === field.name).map((c) => c.value);
    const room = Math.max(0, cap - field.option_count);
    const accepted = values.slice(0, room);
    let inserted = 0;
    if (accepted.length > 0) {
      const rows = await trx
        .insertInto('custom_field_options')
        .values(accepted.map((value) => ({ store_id: storeId, field_name: field.name, value })))
        .onConflict((oc) => oc.doNothing())
        .returning('value')
        .execute();
      inserted = rows.length;
      known.push(...accepted.map((value) => ({ field: field.name, value })));
    }
    const truncated = field.options_truncated || accepted.length < values.length;
    // Remembered once the transaction commits (by the caller), like the options.
    if (accepted.length < values.length) full.push(field.name);
    if (inserted > 0 || truncated !== field.options_truncated) {
      await trx
        .updateTable('custom_fields')
        .set({ option_count: field.option_count + inserted, options_truncated: truncated })
        .where('store_id', '=', storeId)
        .where('name', '=', field.name)
        .execute();
    }
  }
  return { options: known, full };
}

export async function listDeclarations(db: DB, storeId: string): Promise<FieldDeclaration[]> {
  const rows = await db
    .selectFrom('custom_fields')
    .selectAll()
    .where('store_id', '=', storeId)
    .orderBy('name')
    .execute();
  return rows.map((r) => ({
    name: r.name,
    type: r.type as FieldType,
    createdAt: r.created_at.toISOString(),
    optionCount: r.option_count,
    optionsTruncated: r.options_truncated,
  }));
}

export async function listOptions(
  db: DB,
  storeId: string,
  name: string,
  query: { prefix?: string | undefined; limit: number },
): Promise<{ field: string; type: FieldType; options: string[]; optionsTruncated: boolean }> {
  const field = await db
    .selectFrom('custom_fields')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!field) {
    throw new ClienteleError('custom_field_not_found', `No custom field ${name}.`);
  }
  let q = db
    .selectFrom('custom_field_options')
    .select('value')
    .where('store_id', '=', storeId)
    .where('field_name', '=', name);
  if (query.prefix) q = q.where(sql<boolean>`starts_with(value, ${query.prefix})`);
  const rows = await q.orderBy('value').limit(query.limit).execute();
  return {
    field: name,
    type: field.type as FieldType,
    options: rows.map((r) => r.value),
    optionsTruncated: field.options_truncated,
  };
}

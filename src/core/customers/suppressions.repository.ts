import { CompiledQuery } from 'kysely';
import type { DB } from '../db/database.js';
import { named } from '../db/statements.js';
import { newId } from '../ids.js';
import type { IdentityKey } from './identity.js';
import type { SuppressionKeys } from './suppression.js';

/** The SQL of suppressions (migration 0021). Row types stay here. */

export interface Suppression {
  id: string;
  /** The identifier's kind: email, phone, externalId, or a typed identifier's type. */
  kind: string;
  hash: string;
  createdAt: string;
}

// Every write reads it (once a batch): a function (migration 0031) sent as a prepared
// statement (db/statements.ts), planned once per connection.
const SUPPRESSED = named(
  'clientele_suppressed',
  'SELECT hash FROM clientele_suppressed($1, $2::text[])',
);

/**
 * Which of these identifiers are suppressed: one index probe per value. Read after the
 * write's owners (never before): an erasure that committed before that read had already
 * written its suppressions, so this later read sees them.
 */
export async function suppressedKeys(
  db: DB,
  hashing: SuppressionKeys,
  storeId: string,
  keys: IdentityKey[],
): Promise<IdentityKey[]> {
  const hashes = hashing.hashesOf(storeId, keys);
  if (hashes.length === 0) return [];
  const { rows } = await db.executeQuery<{ hash: string }>(
    CompiledQuery.raw(SUPPRESSED, [storeId, [...new Set(hashes)]]),
  );
  if (rows.length === 0) return [];
  const found = new Set(rows.map((r) => r.hash));
  return keys.filter((_, i) => found.has(hashes[i] as string));
}

/** Suppresses these identifiers (those suppressed already stay as they were). */
export async function suppress(
  trx: DB,
  hashing: SuppressionKeys,
  storeId: string,
  keys: IdentityKey[],
): Promise<void> {
  const hashes = hashing.hashesOf(storeId, keys);
  if (hashes.length === 0) return;
  const seen = new Set<string>();
  const rows = keys.flatMap((k, i) => {
    const hash = hashes[i] as string;
    if (seen.has(hash)) return [];
    seen.add(hash);
    return [{ store_id: storeId, hash, id: newId('sup'), kind: k.kind }];
  });
  await trx
    .insertInto('suppressions')
    .values(rows)
    .onConflict((oc) => oc.columns(['store_id', 'hash']).doNothing())
    .execute();
}

/** Newest first, past the cursor id. */
export async function listSuppressions(
  db: DB,
  storeId: string,
  limit: number,
  before: string | undefined,
): Promise<Suppression[]> {
  let q = db.selectFrom('suppressions').selectAll().where('store_id', '=', storeId);
  if (before) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    hash: r.hash,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

/** Lifts the suppression of one identifier; whether there was one. */
export async function liftSuppression(
  db: DB,
  hashing: SuppressionKeys,
  storeId: string,
  key: IdentityKey,
): Promise<boolean> {
  const [hash] = hashing.hashesOf(storeId, [key]);
  if (!hash) return false;
  const deleted = await db
    .deleteFrom('suppressions')
    .where('store_id', '=', storeId)
    .where('hash', '=', hash)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows) > 0;
}

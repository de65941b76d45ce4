import { sql } from 'kysely';
import type { DB } from '../db/database.js';
import { ClienteleError } from '../errors.js';
import type { FieldCache } from '../fields/field-cache.js';
import type { FieldType } from '../fields/types.js';
import { batchable } from './batch.js';
import { planBatch } from './batch-plan.js';
import { findCustomersById } from './customers.repository.js';
import { keyOf, keysOfInput } from './identity.js';
import { findsById } from './plan.js';
import type { UpsertRequest, UpsertResult } from './result.js';
import { suppressedKeys } from './suppressions.repository.js';
import { rememberWritten, upsertInTransaction } from './upsert.js';
import { findOwners, type WriteServices, writeCustomers } from './write.repository.js';

export interface WrittenUpserts {
  /** Each request's answer, or the error that refused it, in the requests' order. */
  outcomes: (UpsertResult | ClienteleError)[];
  /** Remembers what the writes declared and tracked: call it once the transaction commits. */
  remember(): void;
}

/**
 * Upserts of one store written in the caller's transaction, so that the caller can
 * commit something of its own with them (an import's checkpoint) or roll them back (a
 * dry run). The same planner as every write decides each (`planBatch` over one locked
 * read, then one write for the lot); those the batch leaves (a merge, a refusal, a first
 * declaration, a STRING value to track) run alone after it, each in a savepoint, exactly
 * as the live batcher hands them back. A refusal is the row's answer; any other failure
 * (a value claimed meanwhile, a deadlock) fails the call, and the caller's transaction
 * with it, to be run again whole.
 */
export async function upsertAllInTransaction(
  trx: DB,
  fieldCache: FieldCache,
  services: WriteServices,
  requests: UpsertRequest[],
  options: { dryRun?: boolean } = {},
): Promise<WrittenUpserts> {
  const [first] = requests;
  if (!first) return { outcomes: [], remember: () => {} };
  const storeId = first.ctx.storeId;
  if (options.dryRun) await sql`SAVEPOINT clientele_dry_run`.execute(trx);

  const known = fieldCache.typesOf(storeId);
  const items = requests.map((r) => ({ ...r, keys: keysOfInput(r.input) }));
  const batch = items.filter((item) => batchable(item.input, known));
  const keys = new Map(batch.flatMap((item) => item.keys.map((k) => [keyOf(k), k] as const)));
  const owners = await findOwners(trx, storeId, [...keys.values()], true);
  const ids = batch.flatMap((b) => (findsById(b.input, b.options) ? [b.input.id] : []));
  const byId = ids.length > 0 ? await findCustomersById(trx, storeId, ids) : new Map();
  const suppressed = await suppressedKeys(trx, services.suppression, storeId, [...keys.values()]);
  const plan = planBatch(fieldCache, batch, { ...owners, byId, suppressed });
  const seqs = await writeCustomers(trx, storeId, plan.writes, services.segments);

  const outcomes: (UpsertResult | ClienteleError | undefined)[] = items.map((item) =>
    plan.answers.get(item)?.(seqs),
  );
  const written: [UpsertRequest, Map<string, FieldType>, Parameters<typeof rememberWritten>[3]][] =
    [];
  for (const [i, item] of items.entries()) {
    if (outcomes[i] !== undefined) continue;
    await sql`SAVEPOINT clientele_upsert`.execute(trx);
    try {
      const done = await upsertInTransaction(trx, fieldCache, services, item);
      await sql`RELEASE SAVEPOINT clientele_upsert`.execute(trx);
      outcomes[i] = done.result;
      written.push([item, done.declared, done.tracked]);
    } catch (error) {
      await sql`ROLLBACK TO SAVEPOINT clientele_upsert`.execute(trx);
      if (!(error instanceof ClienteleError)) throw error;
      outcomes[i] = error;
    }
  }
  if (options.dryRun) await sql`ROLLBACK TO SAVEPOINT clientele_dry_run`.execute(trx);
  return {
    outcomes: outcomes as (UpsertResult | ClienteleError)[],
    remember: () => {
      if (options.dryRun) return;
      for (const [request, declared, tracked] of written) {
        rememberWritten(fieldCache, request, declared, tracked);
      }
    },
  };
}

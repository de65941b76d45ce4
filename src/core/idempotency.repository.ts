import { sql } from 'kysely';
import type { DB } from './db/database.js';
import { ClienteleError } from './errors.js';

/**
 * Idempotency keys, as Stripe has them: a retry with the same key and request within
 * 24 hours gets the first response again and writes nothing; the same key with another
 * request is refused; a retry while the first is running is told to wait.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** A request still 'running' after this long died with its process; a retry may take over. */
const ABANDONED_MS = 60 * 1000;

export interface StoredResponse {
  status: number;
  contentType: string | null;
  body: string;
}

export type Claim = { kind: 'new' } | { kind: 'replay'; response: StoredResponse };

export async function claimIdempotencyKey(
  db: DB,
  scope: string,
  key: string,
  requestHash: string,
): Promise<Claim> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({ store_id: scope, idem_key: key, request_hash: requestHash, status: 'running' })
      .onConflict((oc) => oc.doNothing())
      .returning('idem_key')
      .executeTakeFirst();
    if (inserted) return { kind: 'new' };

    const row = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('store_id', '=', scope)
      .where('idem_key', '=', key)
      .executeTakeFirst();
    if (!row) continue; // released a moment ago: claim again
    if (Date.now() - row.created_at.getTime() > IDEMPOTENCY_TTL_MS) {
      await db
        .deleteFrom('idempotency_keys')
        .where('store_id', '=', scope)
        .where('idem_key', '=', key)
        .execute();
      continue;
    }
    if (row.request_hash !== requestHash) {
      throw new ClienteleError(
        'idempotency_key_reused',
        'This Idempotency-Key was used with another request; use a new key for a new request.',
        [{ path: '/header/idempotency-key', message: 'already used with a different request' }],
      );
    }
    if (row.status === 'done') {
      return {
        kind: 'replay',
        response: {
          status: row.response_status as number,
          contentType: row.response_type,
          body: row.response_body ?? '',
        },
      };
    }
    if (Date.now() - row.locked_at.getTime() > ABANDONED_MS) {
      const taken = await db
        .updateTable('idempotency_keys')
        .set({ locked_at: sql`now()` })
        .where('store_id', '=', scope)
        .where('idem_key', '=', key)
        .where('locked_at', '=', row.locked_at)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) return { kind: 'new' };
    }
    throw new ClienteleError(
      'idempotency_in_progress',
      'A request with this Idempotency-Key is still being processed; retry shortly.',
      [{ path: '/header/idempotency-key', message: 'a request with this key is in progress' }],
    );
  }
  throw new ClienteleError(
    'idempotency_in_progress',
    'Idempotency-Key is contended; retry shortly.',
  );
}

export async function completeIdempotencyKey(
  db: DB,
  scope: string,
  key: string,
  response: StoredResponse,
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({
      status: 'done',
      response_status: response.status,
      response_type: response.contentType,
      response_body: response.body,
    })
    .where('store_id', '=', scope)
    .where('idem_key', '=', key)
    .execute();
}

/** Forgets a key whose request failed on our side, so that a retry runs again. */
export async function releaseIdempotencyKey(db: DB, scope: string, key: string): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('store_id', '=', scope)
    .where('idem_key', '=', key)
    .execute();
}

/** Removes idempotency keys past their 24 hours, and access tokens past their expiry. */
export async function purgeExpired(db: DB): Promise<number> {
  const keys = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', new Date(Date.now() - IDEMPOTENCY_TTL_MS))
    .executeTakeFirst();
  const tokens = await db
    .deleteFrom('access_tokens')
    .where('expires_at', '<', new Date())
    .executeTakeFirst();
  return Number(keys.numDeletedRows) + Number(tokens.numDeletedRows);
}

import type { DB } from './db/database.js';
import * as repo from './idempotency.repository.js';

export type { Claim, StoredResponse } from './idempotency.repository.js';

/**
 * `clientele.idempotency`: Idempotency-Key records, as Stripe has them. A scope names
 * whose keys they are (a store's id, or `admin`).
 */
export class Idempotency {
  constructor(private readonly db: DB) {}

  /** A new key is held for this request; a finished one gives its response back. */
  claim(scope: string, key: string, requestHash: string) {
    return repo.claimIdempotencyKey(this.db, scope, key, requestHash);
  }

  complete(scope: string, key: string, response: repo.StoredResponse) {
    return repo.completeIdempotencyKey(this.db, scope, key, response);
  }

  /** Lets a retry run the request again (its first attempt failed on our side). */
  release(scope: string, key: string) {
    return repo.releaseIdempotencyKey(this.db, scope, key);
  }
}

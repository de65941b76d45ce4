import pg from 'pg';
import type { Caller } from './stores.js';

/** The channel on which a revoked key's id is announced to every process. */
export const REVOCATION_CHANNEL = 'clientele_key_revoked';

/**
 * Which caller a key hash stands for, remembered so that a request needs no query to
 * authenticate. A revocation evicts the key at once in this process and, through
 * PostgreSQL's NOTIFY, in every other; while that announcement cannot be heard the
 * cache is off. Entries also expire, as a last bound on staleness.
 */
export class KeyCache {
  private readonly entries = new Map<string, { caller: Caller; at: number }>();
  private enabled: boolean;
  private static readonly maxEntries = 100_000;

  constructor(
    private readonly ttlMs: number,
    enabled = true,
  ) {
    this.enabled = enabled;
  }

  get(hash: string): Caller | undefined {
    if (!this.enabled) return undefined;
    const hit = this.entries.get(hash);
    if (!hit) return undefined;
    if (Date.now() - hit.at > this.ttlMs) {
      this.entries.delete(hash);
      return undefined;
    }
    return hit.caller;
  }

  set(hash: string, caller: Caller): void {
    if (!this.enabled) return;
    if (this.entries.size >= KeyCache.maxEntries) this.entries.clear();
    this.entries.set(hash, { caller, at: Date.now() });
  }

  evictKey(keyId: string): void {
    for (const [hash, { caller }] of this.entries)
      if (caller.keyId === keyId) this.entries.delete(hash);
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    if (!enabled) this.entries.clear();
  }
}

/**
 * Listens for revocations on a connection of its own, reconnecting when it drops; the
 * cache is off from the moment the connection is lost until it listens again.
 */
export function listenForRevocations(
  databaseUrl: string,
  cache: KeyCache,
): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    cache.setEnabled(false);
    const next = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 1_500 });
    next.on('notification', (message) => {
      if (message.channel === REVOCATION_CHANNEL && message.payload)
        cache.evictKey(message.payload);
    });
    next.on('error', () => reconnect());
    next.on('end', () => reconnect());
    try {
      await next.connect();
      await next.query(`LISTEN ${REVOCATION_CHANNEL}`);
      if (closed) {
        await next.end();
        return;
      }
      client = next;
      cache.setEnabled(true);
    } catch {
      next.removeAllListeners('end');
      await next.end().catch(() => {});
      reconnect();
    }
  };
  const reconnect = () => {
    cache.setEnabled(false);
    client = undefined;
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1_000);
    retry.unref();
  };

  void connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => {});
      }
    },
  };
}

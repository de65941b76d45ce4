import pg from 'pg';
import type { KeyCache } from './key-cache.js';

/** The channel on which a revoked key's id is announced to every process. */
export const REVOCATION_CHANNEL = 'clientele_key_revoked';

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

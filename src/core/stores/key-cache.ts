import type { Caller } from './caller.js';

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

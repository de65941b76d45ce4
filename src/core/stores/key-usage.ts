import type { DB } from '../db/database.js';
import type { Caller } from './caller.js';
import { recordKeysUsed } from './keys.repository.js';

/** How often a key's last use is written at most, per process. */
const RECORD_EVERY_MS = 60_000;
/** How long uses wait to be written together, off the requests that made them. */
const FLUSH_AFTER_MS = 1_000;

/**
 * When each key was last used, written at most once a minute per key and never on a
 * request's path: a use is noted in memory (a map look-up on each request), and the
 * noted uses are written a second later, one statement per store.
 */
export class KeyUsage {
  /** When this process last noted each key's use. */
  private readonly noted = new Map<string, number>();
  private pending = new Map<string, { caller: Caller; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DB,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  used(caller: Caller): void {
    const now = Date.now();
    const last = this.noted.get(caller.keyId);
    if (last !== undefined && now - last < RECORD_EVERY_MS) return;
    if (this.noted.size >= 100_000) this.noted.clear();
    this.noted.set(caller.keyId, now);
    this.pending.set(caller.keyId, { caller, at: now });
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_AFTER_MS);
      this.timer.unref();
    }
  }

  /** Writes the uses noted so far (close() calls it, so a stopping process loses none). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const uses = this.pending;
    this.pending = new Map();
    const byStore = new Map<string, { keyIds: string[]; at: number }>();
    for (const { caller, at } of uses.values()) {
      const group = byStore.get(caller.storeId) ?? { keyIds: [], at };
      group.keyIds.push(caller.keyId);
      group.at = Math.max(group.at, at);
      byStore.set(caller.storeId, group);
    }
    this.writing = this.writing.then(async () => {
      for (const [storeId, { keyIds, at }] of byStore) {
        try {
          await recordKeysUsed(this.db, storeId, keyIds, new Date(at));
        } catch (error) {
          // Not written: the next use of these keys notes them again.
          for (const keyId of keyIds) this.noted.delete(keyId);
          this.onError(error);
        }
      }
    });
    return this.writing;
  }
}

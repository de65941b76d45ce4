import type { FieldType } from './types.js';

/**
 * Per-process memory of what the database already holds about custom fields. A
 * declaration's type never changes, and an option once tracked stays, so neither can
 * go stale (but for an option an erasure drops: this process forgets it, another may
 * still think it recorded); entries are added only after the transaction that wrote them commits.
 */
export class FieldCache {
  private readonly types = new Map<string, Map<string, FieldType>>();
  private readonly options = new Set<string>();
  private static readonly maxOptions = 200_000;

  typesOf(storeId: string): Map<string, FieldType> {
    let map = this.types.get(storeId);
    if (!map) {
      map = new Map();
      this.types.set(storeId, map);
    }
    return map;
  }

  hasOption(storeId: string, field: string, value: string): boolean {
    return this.options.has(`${storeId}\u0000${field}\u0000${value}`);
  }

  rememberOption(storeId: string, field: string, value: string): void {
    // A bounded memory: when full, start over rather than grow without end.
    if (this.options.size >= FieldCache.maxOptions) this.options.clear();
    this.options.add(`${storeId}\u0000${field}\u0000${value}`);
  }

  /** An option dropped (its only customer erased): a write of it records it again. */
  forgetOption(storeId: string, field: string, value: string): void {
    this.options.delete(`${storeId}\u0000${field}\u0000${value}`);
  }

  /** Whether a value may still need recording as an option: not seen yet, and room for it. */
  mayTrack(storeId: string, field: string, value: string, cap: number): boolean {
    return !this.hasOption(storeId, field, value) && !this.isFull(storeId, field, cap);
  }

  /**
   * Whether a field is known to hold as many options as this cap allows, so that a new
   * value would not be recorded. Only a larger cap makes room again (options are never
   * removed), and the cap is part of the question.
   */
  isFull(storeId: string, field: string, cap: number): boolean {
    const at = this.full.get(`${storeId}\u0000${field}`);
    return at !== undefined && at >= cap;
  }

  rememberFull(storeId: string, field: string, cap: number): void {
    if (this.full.size >= FieldCache.maxOptions) this.full.clear();
    this.full.set(`${storeId}\u0000${field}`, cap);
  }

  /** Fields found full, and the cap they were full at. */
  private readonly full = new Map<string, number>();
}

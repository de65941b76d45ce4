/**
 * Records keyed by names a client chose (custom fields, metadata keys, extended fields):
 * any name is an ordinary name, `constructor`, `toString` and `__proto__` included. A
 * plain `record[name]` reads what Object.prototype has under that name (a function) when
 * the record lacks it, and `record.__proto__ = v` sets the prototype instead of a key.
 * Plain objects are kept rather than null-prototype ones, which V8 stores as slow
 * dictionaries; only these two accesses need care.
 */

/** The record's own value for this name, or undefined. */
export function ownValue<T>(record: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** Sets the record's own value for this name (an own `__proto__` key included). */
export function setOwnValue<T>(record: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') {
    Object.defineProperty(record, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else record[name] = value;
}

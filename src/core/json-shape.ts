import { fail } from './errors.js';

/** How deep a JSON body may nest: the customer object needs 4 levels, metadata a few more. */
export const MAX_JSON_DEPTH = 32;

/**
 * An object or array met on the way; it knows its parent and key, so the JSON Pointer of
 * a problem is written only when there is one.
 */
interface Visit {
  node: object;
  parent: Visit | undefined;
  key: string;
  depth: number;
}

/**
 * Finds what a parsed body must not hold: nesting past the cap, keys that could reach an
 * object's prototype (`__proto__`, or a `constructor` carrying `prototype`), or numbers
 * past a double's range (`1e309` parses as Infinity, which would be stored as null).
 * Iterative, so a hostile body cannot exhaust the stack.
 */
export function checkJsonShape(value: unknown): void {
  if (typeof value === 'number' && !Number.isFinite(value)) throw fail.field('', tooLarge);
  if (typeof value !== 'object' || value === null) return;
  const stack: Visit[] = [{ node: value, parent: undefined, key: '', depth: 0 }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    if (visit.depth >= MAX_JSON_DEPTH)
      throw fail.field(pointerOf(visit), `nests deeper than ${MAX_JSON_DEPTH} levels`);
    for (const key of Object.keys(visit.node)) {
      const child = (visit.node as Record<string, unknown>)[key];
      const nested = typeof child === 'object' && child !== null;
      if (key === '__proto__' || (key === 'constructor' && nested && 'prototype' in child)) {
        throw fail.field(pointerOf(visit, key), 'is not an allowed key');
      }
      if (typeof child === 'number' && !Number.isFinite(child))
        throw fail.field(pointerOf(visit, key), tooLarge);
      if (!nested) continue;
      stack.push({ node: child, parent: visit, key, depth: visit.depth + 1 });
    }
  }
}

const tooLarge = 'is a number too large for a double (at most about 1.8e308)';

/** The JSON Pointer (RFC 6901) of a visited node, or of its member `key`. */
function pointerOf(visit: Visit, key?: string): string {
  const keys: string[] = key === undefined ? [] : [key];
  for (let v: Visit | undefined = visit; v?.parent; v = v.parent) keys.unshift(v.key);
  return keys.map((k) => `/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

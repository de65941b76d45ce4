import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ClienteleError, fail } from '../../core/errors.js';

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
 * Finds what a parsed body must not hold: nesting past the cap, or keys that could reach
 * an object's prototype (`__proto__`, or a `constructor` carrying `prototype`). Iterative,
 * so a hostile body cannot exhaust the stack.
 */
export function checkJsonShape(value: unknown): void {
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
      if (!nested) continue;
      stack.push({ node: child, parent: visit, key, depth: visit.depth + 1 });
    }
  }
}

/** The JSON Pointer (RFC 6901) of a visited node, or of its member `key`. */
function pointerOf(visit: Visit, key?: string): string {
  const keys: string[] = key === undefined ? [] : [key];
  for (let v: Visit | undefined = visit; v?.parent; v = v.parent) keys.unshift(v.key);
  return keys.map((k) => `/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** JSON bodies, parsed with the checks above; anything unparsable is 400 malformed_json. */
export const jsonPlugin = fp(async (app: FastifyInstance) => {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    let value: unknown;
    try {
      value = JSON.parse(body as string);
    } catch {
      return done(new ClienteleError('malformed_json', 'The body is not valid JSON.'), undefined);
    }
    try {
      checkJsonShape(value);
    } catch (error) {
      return done(error as Error, undefined);
    }
    done(null, value);
  });
});

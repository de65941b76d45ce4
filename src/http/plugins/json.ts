import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ClienteleError, fail } from '../../core/errors.js';

/** How deep a JSON body may nest: the customer object needs 4 levels, metadata a few more. */
export const MAX_JSON_DEPTH = 32;

/**
 * Finds what a parsed body must not hold: nesting past the cap, or keys that could reach
 * an object's prototype (`__proto__`, or a `constructor` carrying `prototype`). Iterative,
 * so a hostile body cannot exhaust the stack.
 */
export function checkJsonShape(value: unknown): void {
  const stack: { node: unknown; path: string; depth: number }[] = [
    { node: value, path: '', depth: 0 },
  ];
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= MAX_JSON_DEPTH)
      throw fail.field(path, `nests deeper than ${MAX_JSON_DEPTH} levels`);
    for (const key of Object.keys(node)) {
      const child = (node as Record<string, unknown>)[key];
      const childPath = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (
        key === '__proto__' ||
        (key === 'constructor' &&
          typeof child === 'object' &&
          child !== null &&
          'prototype' in child)
      ) {
        throw fail.field(childPath, 'is not an allowed key');
      }
      stack.push({ node: child, path: childPath, depth: depth + 1 });
    }
  }
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

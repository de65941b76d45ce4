import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { ClienteleError } from '../../core/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The methods some route answers on this path (none: no route has the path). */
    allowedMethods(path: string): string[];
  }
}

/**
 * The longest path parameter a route takes. Node refuses a request line past 16 KiB, so
 * no id that arrives is cut off by the router (Fastify's default, 100, answered a longer
 * id with a 414 of its own shape): an id too long to exist is looked up, and not found,
 * like any other (404 in each API's own shape).
 */
export const MAX_PARAM_LENGTH = 16 * 1024;

/**
 * Knows every route's path and methods, as the app registers them, so that a request for
 * a path that exists with a method it does not take is told 405 and the methods it
 * could use, rather than 404. A router of its own (the one Fastify uses), since
 * Fastify's tells only whether a method and path match.
 */
export const methodsPlugin = fp(async (app: FastifyInstance) => {
  const routes = FindMyWay({ maxParamLength: MAX_PARAM_LENGTH });
  const methods = new Set<HTTPMethod>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat() as HTTPMethod[]) {
      methods.add(method);
      if (!routes.hasRoute(method, route.url)) routes.on(method, route.url, () => {});
    }
  });
  app.decorate('allowedMethods', (path: string) =>
    [...methods].filter((method) => routes.find(method, path) !== null).sort(),
  );
});

/**
 * The answer to a request no route takes: 405 with `Allow` when its path exists for
 * other methods, else 404. The native API and every dialect render it in their shape.
 */
export function unrouted(request: FastifyRequest, reply: FastifyReply): ClienteleError {
  const path = request.url.split('?')[0] ?? '/';
  const allowed = request.server.allowedMethods(path);
  if (allowed.length > 0) {
    reply.header('Allow', allowed.join(', '));
    return new ClienteleError(
      'method_not_allowed',
      `${path} does not take ${request.method}; it takes ${allowed.join(', ')}.`,
      [{ path: '/method', message: `must be one of ${allowed.join(', ')}` }],
    );
  }
  return new ClienteleError('not_found', `No route ${request.method} ${path}.`);
}

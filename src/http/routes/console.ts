import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ClienteleError } from '../../core/errors.js';

/**
 * The console: the bundle `npm run build` leaves in dist/console (this file sits two
 * folders below the root both as src/http/routes and as dist/http/routes), served at
 * /console, with `/` sending people there. Paths the bundle has no file for are the app's
 * own routes (/console/customers/…): they get its index.html.
 */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const hide = (operationId: string) => ({ schema: { hide: true, operationId } });
  app.get('/', hide('consoleFromRoot'), (_request, reply) => reply.redirect('/console/'));
  app.get('/console', hide('consoleFromBare'), (_request, reply) => reply.redirect('/console/'));
  if (!existsSync(`${CONSOLE_ROOT}index.html`)) {
    app.get('/console/*', hide('consoleNotBuilt'), () => {
      throw new ClienteleError(
        'service_unavailable',
        'The console was not built: run `npm run build` (npm install does it).',
      );
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: CONSOLE_ROOT,
    prefix: '/console/',
    // One route per file found at start, so that every other path reaches the app below.
    wildcard: false,
    index: false,
    setHeaders(res, path) {
      // Bundle file names carry their content's hash; index.html names the current ones.
      res.header(
        'Cache-Control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.get('/console/assets/*', hide('consoleNoSuchFile'), () => {
    throw new ClienteleError('not_found', 'The console has no such file.');
  });
  app.get('/console/*', hide('consolePage'), (_request, reply) => reply.sendFile('index.html'));
  app.get('/console/', hide('consoleHome'), (_request, reply) => reply.sendFile('index.html'));
}

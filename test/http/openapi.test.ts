import { existsSync, readFileSync } from 'node:fs';
import type { RouteOptions } from 'fastify';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { OPENAPI_PATH, openApiDocument } from '../../scripts/openapi.js';

/**
 * docs/openapi.json is generated (`npm run openapi`) and committed; CI runs this file, so
 * a route whose schema changed without the document being regenerated fails here.
 */

// Every route the app registers, hidden ones too (@fastify/swagger leaves those out of
// the document): an onRoute hook on each Fastify instance, added as it is created.
const routes = vi.hoisted(() => [] as RouteOptions[]);
vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fastify')>();
  const fastify = ((options?: Parameters<typeof actual.default>[0]) => {
    const app = actual.default(options);
    app.addHook('onRoute', (route) => {
      routes.push(route);
    });
    return app;
  }) as typeof actual.default;
  return { ...actual, default: fastify };
});

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let generated: string;
beforeAll(async () => {
  generated = await openApiDocument();
});

describe('docs/openapi.json', () => {
  it('is the document the routes make', () => {
    const committed = existsSync(OPENAPI_PATH) ? readFileSync(OPENAPI_PATH, 'utf8') : '';
    expect(committed, 'docs/openapi.json is stale: run npm run openapi and commit the result').toBe(
      generated,
    );
  });

  it('gives every operation an operationId of its own', () => {
    const document = JSON.parse(generated) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ids: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!methods.includes(method)) continue;
        expect(operation.operationId, `${method.toUpperCase()} ${path}`).toMatch(
          /^[a-z][A-Za-z0-9]*$/,
        );
        ids.push(operation.operationId!);
      }
    }
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});

describe('every route, hidden ones too', () => {
  it('has an operationId of its own', () => {
    // HEAD routes are the ones Fastify adds beside each GET, with the GET's schema; the
    // /docs routes are @fastify/swagger-ui's own.
    const ours = routes.filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'));
    expect(ours.length).toBeGreaterThan(20);
    const ids: string[] = [];
    for (const route of ours) {
      const id = (route.schema as { operationId?: string } | undefined)?.operationId;
      expect(id, `${String(route.method)} ${route.url}`).toMatch(/^[a-z][A-Za-z0-9]*$/);
      ids.push(id!);
    }
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});

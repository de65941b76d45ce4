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
    // /docs routes are @fastify/swagger-ui's own, the console's files (/console/x.js)
    // @fastify/static's.
    const ours = routes.filter(
      (r) =>
        r.method !== 'HEAD' &&
        !r.url.startsWith('/docs') &&
        !(r.url.startsWith('/console/') && r.url.includes('.')),
    );
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

type Operation = {
  operationId: string;
  summary?: string;
  tags?: string[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { headers?: Record<string, unknown> }>;
};

function operations(): { method: string; path: string; operation: Operation }[] {
  const document = JSON.parse(generated) as { paths: Record<string, Record<string, Operation>> };
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => methods.includes(method))
      .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
}

/** A route's path as the document writes it: `{param}` for `:param`. */
const documentPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

describe('what the document says of every route', () => {
  it('is titled and described as the product', () => {
    const { info } = JSON.parse(generated) as { info: { title: string; description: string } };
    expect(info.title).toBe('Clientele');
    expect(info.description).toContain('customer profile service');
    for (const platform of ['Redo', 'Yotpo', 'Capillary', 'Cheqpay', 'Voucherify']) {
      expect(info.description).toContain(platform);
    }
  });

  it('gives every operation its 429 and 503 answers, with Retry-After', () => {
    for (const { method, path, operation } of operations()) {
      for (const status of ['429', '503']) {
        expect(operation.responses[status], `${method} ${path} ${status}`).toBeDefined();
        expect(operation.responses[status]?.headers, `${method} ${path} ${status}`).toHaveProperty(
          'Retry-After',
        );
      }
      expect(operation.responses['429']?.headers).toHaveProperty('RateLimit-Remaining');
    }
  });

  it("shows every dialect route, tagged with its platform's name", () => {
    const tags: Record<string, string> = {
      redo: 'Redo',
      yotpo: 'Yotpo',
      capillary: 'Capillary',
      cheqpay: 'Cheqpay',
      voucherify: 'Voucherify',
    };
    const dialect = routes.filter((r) => r.method !== 'HEAD' && r.url.startsWith('/compat/'));
    expect(dialect.length).toBeGreaterThan(10);
    const documented = operations();
    for (const route of dialect) {
      const platform = /^\/compat\/(\w+)\//.exec(route.url)?.[1] ?? '';
      const entry = documented.find(
        (o) => o.path === documentPath(route.url) && o.method === route.method,
      );
      expect(entry, `${String(route.method)} ${route.url}`).toBeDefined();
      expect(entry?.operation.tags).toEqual([tags[platform]]);
    }
  });

  it('documents Idempotency-Key on every write that takes it, and on no other', () => {
    const writes = routes.filter((r) =>
      ['POST', 'PUT', 'PATCH', 'DELETE'].includes(String(r.method)),
    );
    expect(writes.length).toBeGreaterThan(10);
    const documented = operations();
    for (const route of writes) {
      if (route.url === '/openapi.json' || route.url.startsWith('/docs')) continue;
      const entry = documented.find(
        (o) => o.path === documentPath(route.url) && o.method === route.method,
      );
      const names = (entry?.operation.parameters ?? [])
        .filter((p) => p.in === 'header')
        .map((p) => p.name);
      const takesIt = route.config?.idempotencyKey !== false;
      expect(names.includes('Idempotency-Key'), `${String(route.method)} ${route.url}`).toBe(
        takesIt,
      );
    }
    for (const { method, path, operation } of documented) {
      if (method !== 'GET') continue;
      expect(
        (operation.parameters ?? []).some((p) => p.name === 'Idempotency-Key'),
        `${method} ${path}`,
      ).toBe(false);
    }
  });

  it('says what every operation does', () => {
    for (const { method, path, operation } of operations()) {
      expect(operation.summary, `${method} ${path}`).toMatch(/\w{3}/);
    }
  });

  it('shows an example body for every operation that takes a body', () => {
    for (const { method, path, operation } of operations()) {
      if (!operation.requestBody) continue;
      const { content } = operation.requestBody;
      // JSON, or a file's first media type (an import's NDJSON).
      const media = content['application/json'] ?? Object.values(content)[0];
      expect(media?.example, `${method} ${path}`).toBeDefined();
    }
  });
});

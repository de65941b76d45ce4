import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Clientele } from '../../core/clientele.js';
import type { BatchStats } from '../../core/customers/batch.js';

export interface Metrics {
  registry: Registry;
  upserts: Counter<'api' | 'result'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** A registry per app (not prom-client's global one), so several apps can share a process. */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { clientele }: { clientele: Clientele }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // Upserts that arrive together are written in one batch; these tell how well that works.
    const batchCounters: [string, string, keyof BatchStats][] = [
      ['clientele_upsert_batches_total', 'Batches of upserts written together', 'batches'],
      [
        'clientele_upsert_chained_batches_total',
        'Batches whose look-up rode on the write of the batch before them (one round trip, not two)',
        'chained',
      ],
      ['clientele_upsert_batched_total', 'Upserts answered by a batch', 'batched'],
      [
        'clientele_upsert_alone_total',
        'Upserts a batch handed back to run alone (a merge, a conflict, a refusal, a first declaration, a lost race)',
        'alone',
      ],
    ];
    for (const [name, help, field] of batchCounters) {
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(clientele.customers.batchStats()[field]);
        },
      });
    }
    const duration = new Histogram({
      name: 'clientele_http_request_duration_seconds',
      help: 'HTTP request durations by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    const upserts = new Counter({
      name: 'clientele_customer_upserts_total',
      help: 'Customer upserts by API (native or dialect) and result (created, updated, unchanged)',
      labelNames: ['api', 'result'] as const,
      registers: [registry],
    });
    app.decorate('metrics', { registry, upserts });

    // Each label set's series, found once: observing through labels hashes them every time.
    const series = new Map<string, ReturnType<typeof duration.labels>>();
    app.addHook('onResponse', (request, reply, done) => {
      // The route pattern, never the raw URL: ids in paths would explode the label set.
      const route = request.routeOptions.url ?? 'unmatched';
      const key = `${request.method} ${reply.statusCode} ${route}`;
      let observed = series.get(key);
      if (observed === undefined) {
        observed = duration.labels(request.method, route, String(reply.statusCode));
        series.set(key, observed);
      }
      observed.observe(reply.elapsedTime / 1000);
      done();
    });

    const metricsSchema = { hide: true, operationId: 'getMetrics' };
    app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
);

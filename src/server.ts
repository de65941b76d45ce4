import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { Clientele, collisionsNotice } from './core/clientele.js';
import type { Config } from './core/config.js';
import { SetupError } from './core/errors.js';
import { buildApp } from './http/app.js';

/** How long a stopping process gives in-flight requests before it exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * V8's settings for a server process, set by the clientele command before the database
 * opens (the first must come before PGlite's WebAssembly is compiled).
 */
export function tuneV8(database: 'pglite' | 'postgres'): void {
  if (database === 'pglite') {
    // V8 first compiles PGlite's WebAssembly with its baseline compiler, then recompiles
    // the hot parts with its optimizing one on background threads: on a 2-core machine
    // that recompilation competed with the requests for the first minute of a server's
    // life, and its code stayed in memory beside the baseline code. Measured here, the
    // baseline code alone serves as fast (16 clients: ~1,750 upserts/s against ~1,370 in
    // the first minute), with ~20 MB less memory. It must be set before PGlite compiles.
    v8.setFlagsFromString('--no-wasm-tier-up');
  }
  // After each full collection V8 lets its heap grow by a factor it picks from how fast
  // that collection ran, up to four times what survived: how much garbage it keeps before
  // it collects again. On PGlite, under load, it now and then picked over three (~40 MB
  // live, no full collection for 15 s while the heap reached 120 MB) and with PGlite's
  // WebAssembly memory beside it the server's RSS went to 330-380 MB (~250 MB in the other
  // runs); fixed at 1.25, peaks stayed at 224-257 MB at the same rate. On PostgreSQL an
  // import promotes each batch's rows, plans and statements to the old generation (a
  // batch outlives several young collections), and the heap reached 230 MB with ~50 MB
  // live: RSS 305-329 MB. Fixed at 2 there, its peak was 223-245 MB; 1.25 cost ~10 % more
  // server CPU an upsert there (more full collections), 2 costs about nothing measurable.
  v8.setFlagsFromString(`--heap-growing-percent=${database === 'pglite' ? 25 : 100}`);
}

/**
 * A PGlite server's own secret key when none is configured: made once, kept beside its
 * data (readable by its owner only). A fleet on PostgreSQL must configure one.
 */
function localSecretKey(dataDir: string): string | undefined {
  if (dataDir.startsWith('memory://')) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'clientele-secret-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** The server's secret key: configured, or on PGlite its own, read when first needed. */
export function secretKeyOf(
  config: Pick<Config, 'secretKey' | 'databaseUrl' | 'dataDir'>,
): string | (() => string | undefined) | undefined {
  return (
    config.secretKey ?? (config.databaseUrl ? undefined : () => localSecretKey(config.dataDir))
  );
}

export interface RunningServer {
  app: FastifyInstance;
  clientele: Clientele;
  url: string;
  stop(): Promise<void>;
}

/**
 * The process around the app: opens the database (applying migrations), creates the
 * `default` store on an empty database, listens, and stops cleanly on SIGTERM/SIGINT.
 */
export async function startServer(
  config: Config,
  print: (line: string) => void = console.log,
): Promise<RunningServer> {
  let app: FastifyInstance | undefined;
  const clientele = await Clientele.open({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    migrate: true,
    verifyConnection: true,
    log: { warn: (details, message) => app?.log.warn(details, message) },
    natsUrl: config.natsUrl,
    secretKey: secretKeyOf(config),
    imports: {
      maxBytes: config.importMaxBytes,
      leaseMs: config.importLeaseMs,
      batchRows: config.importBatchRows,
    },
    segmentBuilds: {
      chunkCustomers: config.segmentBuildChunk,
      inRequestMs: config.segmentBuildRequestMs,
      leaseMs: config.segmentBuildLeaseMs,
    },
    webhooks: {
      allowPrivate: config.webhookAllowPrivate,
      allowHttp: config.webhookAllowHttp,
      leaseMs: config.webhookLeaseMs,
    },
  });

  try {
    const created = await clientele.stores.createFirst('default');
    if (created) {
      print(
        `Created the store "default" (${created.id}). Its API key (${created.apiKeyId}), shown this once:`,
      );
      print(`  ${created.apiKey}`);
    }
    app = await buildApp({
      clientele,
      adminToken: config.adminToken,
      rateLimit: config.rateLimit,
      // How requests and errors are logged, with no secret or customer data, is the app's
      // (http/logging.ts): query values, Yotpo's ?access_token= among them, are never logged.
      logger: {
        level: config.logLevel,
        redact: [
          'req.headers.authorization',
          'req.headers["x-api-key"]',
          'req.headers["x-app-token"]',
          'req.headers["x-yotpo-token"]',
        ],
      },
    });
  } catch (error) {
    await clientele.close();
    throw error;
  }
  const url = await listen(app, config).catch(async (error: unknown) => {
    await app?.close();
    await clientele.close();
    throw error;
  });
  print(
    `Clientele is serving on ${url} (${clientele.databaseKind === 'pglite' ? `PGlite in ${config.dataDir}` : 'PostgreSQL'})`,
  );
  print(`API reference: ${url}/docs`);
  const collisions = await clientele.identityCollisions();
  if (collisions > 0) app.log.warn({ collisions }, collisionsNotice(collisions));

  // Housekeeping: expired idempotency keys and access tokens go once an hour (each
  // process does it; the deletes are idempotent and cheap).
  const purge = setInterval(() => {
    clientele.purgeExpired().catch((error) => app.log.warn({ err: error }, 'purge failed'));
  }, PURGE_INTERVAL_MS);
  purge.unref();
  // Every process delivers webhooks (each delivery is leased by one process).
  clientele.webhooks.startSending();
  // Every process runs imports (each job is leased by one process at a time).
  clientele.imports.startWorking();
  // Every process moves relative-date segments with the clock (each segment is leased).
  clientele.segmentClock.start();
  // Every process builds segments in the background (each build is leased).
  clientele.segments.startBuilding();
  if (clientele.stream) {
    await clientele.stream.start();
    print(`Publishing events to NATS JetStream at ${config.natsUrl}`);
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(purge);
      // Fastify answers 503 to new requests while it waits for those in flight.
      await app.close();
      await clientele.close();
    })();
    return stopping;
  };
  return { app, clientele, url, stop };
}

/** Listens on the configured port, or fails in one line that names it and what to do. */
async function listen(app: FastifyInstance, config: Config): Promise<string> {
  try {
    return await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const where = `Port ${config.port} on ${config.host}`;
    switch ((error as NodeJS.ErrnoException).code) {
      case 'EADDRINUSE':
        throw new SetupError(
          `${where} is already in use (another clientele?): stop what holds it, or set PORT to another port.`,
        );
      case 'EACCES':
        throw new SetupError(
          `${where} may not be listened on by this user: set PORT to a port above 1023.`,
        );
      case 'EADDRNOTAVAIL':
        throw new SetupError(
          `${where}: this machine has no address ${config.host}. Set HOST to one of its addresses (127.0.0.1, 0.0.0.0).`,
        );
    }
    throw error;
  }
}

/** Wires SIGTERM and SIGINT to a graceful stop that cannot outlast the grace period. */
export function stopOnSignals(server: RunningServer): void {
  const onSignal = (signal: NodeJS.Signals) => {
    server.app.log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      server.app.log.error('shutdown grace period over; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    server.stop().then(
      () => process.exit(0),
      (error) => {
        server.app.log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

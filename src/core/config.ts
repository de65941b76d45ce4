import { SetupError } from './errors.js';

/**
 * Every environment variable Clientele reads is read here, once, and validated: a bad
 * value stops the process with a message that names it.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** PostgreSQL connection string; when absent the embedded PGlite in dataDir is used. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Enables the admin API when set. */
  adminToken: string | undefined;
  logLevel: LogLevel;
  /** Connections per process to PostgreSQL. */
  databasePoolSize: number;
  /** Requests per second per API key (per process); 0 turns rate limiting off. */
  rateLimit: number;
  /** Seals webhook signing secrets; the same on every process (none: a PGlite server keeps one in dataDir). */
  secretKey: string | undefined;
  /** Webhooks may go to loopback, private and link-local addresses. */
  webhookAllowPrivate: boolean;
  /** Webhooks may go over plain http. */
  webhookAllowHttp: boolean;
  /** How long a process holds a delivery it is sending before another may take it over. */
  webhookLeaseMs: number;
  /** NATS (with JetStream) to publish every event to as well; none: no stream. */
  natsUrl: string | undefined;
  /** The largest file an import takes, in bytes. */
  importMaxBytes: number;
  /** How long a process holds an import it runs before another may take it over. */
  importLeaseMs: number;
  /** Rows an import applies per transaction (and per checkpoint). */
  importBatchRows: number;
  /** Customers a segment build reads per transaction (a chunk). */
  segmentBuildChunk: number;
  /** How long a create or a new filter builds its segment within the request, ms. */
  segmentBuildRequestMs: number;
  /** How long a process holds a segment it builds before another may take it over. */
  segmentBuildLeaseMs: number;
}

export class ConfigError extends SetupError {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const logLevels: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  }

  const adminToken = env.CLIENTELE_ADMIN_TOKEN || undefined;
  // A short admin token is guessable; refuse it rather than run an open admin API.
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push('CLIENTELE_ADMIN_TOKEN: must be at least 16 characters');
  }

  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!logLevels.includes(logLevel)) {
    problems.push(
      `LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)}: must be one of ${logLevels.join(', ')}`,
    );
  }

  const secretKey = env.CLIENTELE_SECRET_KEY || undefined;
  if (secretKey !== undefined && secretKey.length < 32) {
    problems.push('CLIENTELE_SECRET_KEY: must be at least 32 characters');
  }
  const flag = (name: string): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '' || raw === 'false') return false;
    if (raw === 'true') return true;
    problems.push(`${name}=${JSON.stringify(raw)}: must be true or false`);
    return false;
  };

  const natsUrl = env.CLIENTELE_NATS_URL || undefined;
  if (natsUrl !== undefined && !/^(nats|tls):\/\/./.test(natsUrl)) {
    problems.push('CLIENTELE_NATS_URL: must start with nats:// or tls://');
  }

  const host = env.HOST || '127.0.0.1';
  const config: Config = {
    port: integer('PORT', 3156, 0, 65535),
    host,
    databaseUrl,
    dataDir: env.CLIENTELE_DATA_DIR || './data',
    adminToken,
    logLevel,
    // Ten connections keep a 2-core PostgreSQL busy without queueing in the server.
    databasePoolSize: integer('CLIENTELE_DB_POOL_SIZE', 10, 1, 1000),
    rateLimit: integer('CLIENTELE_RATE_LIMIT', 1000, 0, 1_000_000),
    secretKey,
    webhookAllowPrivate: flag('CLIENTELE_WEBHOOK_ALLOW_PRIVATE'),
    webhookAllowHttp: flag('CLIENTELE_WEBHOOK_ALLOW_HTTP'),
    // Longer than a send can take (10 s) with room to record it.
    webhookLeaseMs: integer('CLIENTELE_WEBHOOK_LEASE_MS', 30_000, 1000, 600_000),
    natsUrl,
    // 1 GiB: a million customers of NDJSON is about 250 MB.
    importMaxBytes: integer('CLIENTELE_IMPORT_MAX_BYTES', 1024 ** 3, 1, 2 ** 40),
    importLeaseMs: integer('CLIENTELE_IMPORT_LEASE_MS', 30_000, 1000, 600_000),
    // 500 rows: one statement's worth of the batched write, well under a second a batch.
    importBatchRows: integer('CLIENTELE_IMPORT_BATCH_ROWS', 500, 1, 10_000),
    // 10,000 customers: a chunk of a short transaction while the store's writes wait.
    segmentBuildChunk: integer('CLIENTELE_SEGMENT_BUILD_CHUNK', 10_000, 1, 100_000),
    segmentBuildRequestMs: integer('CLIENTELE_SEGMENT_BUILD_REQUEST_MS', 2000, 0, 8000),
    segmentBuildLeaseMs: integer('CLIENTELE_SEGMENT_BUILD_LEASE_MS', 30_000, 1000, 600_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

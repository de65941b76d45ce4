import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { ClienteleError } from '../errors.js';
import { type OutboundPolicy, resolvePublic } from './address.js';

/** What a receiver answered: its status (null when none came), the first KiB, the time. */
export interface PostOutcome {
  status: number | null;
  response: string | null;
  error: string | null;
  latencyMs: number;
}

const TIMEOUT_MS = 10_000;
// Connections are kept open between deliveries to the same receiver (a new connection,
// let alone a TLS handshake, per delivery cost more than the delivery). The address of
// each new connection is checked by the lookup below, as every request's is.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};
const READ_AT_MOST = 64 * 1024;
const KEEP = 1024;

/**
 * POSTs a body to a webhook URL: connecting only to an address checked against the
 * policy at this moment (so DNS cannot be turned against it), following no redirect,
 * giving up after 10 s, reading at most 64 KiB of the answer and keeping the first KiB.
 */
export async function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  policy: OutboundPolicy,
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  // An address written as such is never looked up: check it here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    try {
      await resolvePublic(host, policy);
    } catch (error) {
      const message =
        error instanceof ClienteleError
          ? (error.errors[0]?.message ?? error.message)
          : String(error);
      return { status: null, response: null, error: message, latencyMs: elapsed() };
    }
  }
  const lookup: LookupFunction = (host, options, callback) => {
    resolvePublic(host, policy).then(
      (addresses) => {
        const family = (options as { family?: number }).family;
        const usable = addresses.filter((a) => !family || a.family === family);
        const first = usable[0] ?? addresses[0];
        if (!first) return callback(new Error('no address'), '', 4);
        if ((options as { all?: boolean }).all) return callback(null, usable as never);
        callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, '', 4),
    );
  };
  return new Promise((resolve) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
        lookup,
        timeout: TIMEOUT_MS,
        agent: url.protocol === 'https:' ? agents['https:'] : agents['http:'],
      },
      (response) => {
        const chunks: Buffer[] = [];
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read <= READ_AT_MOST) chunks.push(chunk);
          else response.destroy();
        });
        const done = () =>
          resolve({
            status: response.statusCode ?? null,
            response: Buffer.concat(chunks).subarray(0, KEEP).toString('utf8'),
            error: null,
            latencyMs: elapsed(),
          });
        response.on('end', done);
        response.on('close', done);
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', (error) =>
      resolve({ status: null, response: null, error: error.message, latencyMs: elapsed() }),
    );
    request.end(body);
  });
}

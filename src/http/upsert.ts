import type { FastifyRequest } from 'fastify';
import type { Clientele } from '../core/clientele.js';
import type { WriteContext } from '../core/customers/changes.js';
import type { CustomerInput } from '../core/customers/input.js';
import type { UpsertOptions, UpsertResult } from '../core/customers/upsert.js';

/** Who writes: the authenticated caller's store and key, through `api`. */
export function writeContextOf(request: FastifyRequest, api: string): WriteContext {
  const { caller } = request;
  return { storeId: caller.storeId, api, keyId: caller.keyId };
}

/**
 * Every API's upsert, native or dialect: the write context from the authenticated
 * caller and the API's name, the core's one upsert, and the upserts metric counted once.
 */
export async function upsertFor(
  clientele: Clientele,
  request: FastifyRequest,
  api: string,
  input: CustomerInput,
  options?: UpsertOptions,
): Promise<UpsertResult> {
  const outcome = await clientele.customers.upsert(writeContextOf(request, api), input, options);
  request.server.metrics.upserts.inc({ api, result: outcome.result });
  return outcome;
}

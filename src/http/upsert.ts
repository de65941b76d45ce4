import type { FastifyRequest } from 'fastify';
import type { Clientele } from '../core/clientele.js';
import type { CustomerInput } from '../core/customers/input.js';
import type { UpsertOptions, UpsertResult } from '../core/customers/upsert.js';

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
  const { caller } = request;
  const outcome = await clientele.customers.upsert(
    { storeId: caller.storeId, api, keyId: caller.keyId },
    input,
    options,
  );
  request.server.metrics.upserts.inc({ api, result: outcome.result });
  return outcome;
}

import autocannon from 'autocannon';

/**
 * Realistic upsert bodies: half new customers, half existing ones; a phone number that
 * is sometimes new; three custom fields, one of them a STRING with a handful of values.
 */
let phones = 0;
/** Valid, distinct US numbers: +1 202 then an exchange from 200 and four digits. */
function nextPhone(): string {
  const n = phones++;
  return `+1202${200 + (Math.floor(n / 10_000) % 800)}${String(n % 10_000).padStart(4, '0')}`;
}

export function bodyFactory(seed: string, existing: string[]) {
  let n = 0;
  const plans = ['free', 'pro', 'team', 'enterprise', 'trial'];
  return () => {
    n++;
    const known = existing.length > 0 && Math.random() < 0.5;
    const email = known
      ? existing[Math.floor(Math.random() * existing.length)]!
      : `${seed}-${n}-${Math.random().toString(36).slice(2, 8)}@bench.example`;
    if (!known && existing.length < 50_000) existing.push(email);
    const body: Record<string, unknown> = {
      email,
      customFields: {
        plan: plans[n % plans.length],
        visits: Math.floor(Math.random() * 100),
        vip: Math.random() < 0.1,
      },
    };
    // A number no other customer has (a shared one would be an identity conflict, a 409).
    if (Math.random() < 0.2) body.phoneNumber = nextPhone();
    return JSON.stringify(body);
  };
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

/** Drives `connections` clients at the upsert for `seconds`, each sending the next body. */
export async function drive(options: {
  url: string;
  storeId: string;
  apiKey: string;
  connections: number;
  seconds: number;
  body: () => string;
}): Promise<LoadResult> {
  const result = await autocannon({
    url: `${options.url}/v1/stores/${options.storeId}/customers`,
    connections: options.connections,
    duration: options.seconds,
    method: 'POST',
    headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: options.body() }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';

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

/** Half the time one of the customers made so far, else a new one (remembered, up to 50,000). */
function pick(existing: string[], fresh: () => string): string {
  if (existing.length > 0 && Math.random() < 0.5) {
    return existing[Math.floor(Math.random() * existing.length)]!;
  }
  const value = fresh();
  if (existing.length < 50_000) existing.push(value);
  return value;
}

const random = () => Math.random().toString(36).slice(2, 8);

export function bodyFactory(seed: string, existing: string[]) {
  let n = 0;
  const plans = ['free', 'pro', 'team', 'enterprise', 'trial'];
  return () => {
    n++;
    const email = pick(existing, () => `${seed}-${n}-${random()}@bench.example`);
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

const places = [
  { city: 'Boston', state: 'Massachusetts', stateCode: 'MA', postalCode: '02110' },
  { city: 'New York', state: 'New York', stateCode: 'NY', postalCode: '10001' },
  { city: 'Austin', state: 'Texas', stateCode: 'TX', postalCode: '73301' },
];

/**
 * Redo's seed body (../shared/seeds/redo-create-or-update-customer.txt), varied as
 * bodyFactory varies the native one; the email is Redo's key, so `existing` (emails) may
 * be the native scenario's customers.
 */
export function redoBodyFactory(seed: string, existing: string[]) {
  let n = 0;
  const sources = ['web', 'pos', 'app', 'import', 'referral'];
  return () => {
    n++;
    const place = places[n % places.length]!;
    const body: Record<string, unknown> = {
      email: pick(existing, () => `${seed}-${n}-${random()}@bench.example`),
      firstName: 'Jane',
      lastName: 'Doe',
      location: { ...place, countryCode: 'US', ianaTimeZoneName: 'America/New_York' },
      customFields: {
        subscription_source: sources[n % sources.length],
        status: 'Active',
        loyalty_points: Math.floor(Math.random() * 5000),
        vip_member: Math.random() < 0.1,
        signup_date: '2026-02-24T12:15:00.000Z',
      },
    };
    if (Math.random() < 0.2) body.phoneNumber = nextPhone();
    return JSON.stringify(body);
  };
}

/**
 * Voucherify's seed body (../shared/seeds/voucherify-create-customer.txt), varied the
 * same way; `source_id` is its key, so `existing` holds source ids. Each customer keeps
 * one email (made from its source id); a new phone is written freely, as the seed does.
 */
export function voucherifyBodyFactory(seed: string, existing: string[]) {
  let n = 0;
  const names = ['Bob Smith', 'Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra'];
  return () => {
    n++;
    const place = places[n % places.length]!;
    const sourceId = pick(existing, () => `${seed}-${n}-${random()}`);
    const body: Record<string, unknown> = {
      source_id: sourceId,
      name: names[n % names.length],
      description: 'A frequent customer',
      email: `${sourceId}@vf.bench.example`,
      address: {
        city: place.city,
        country: 'United States',
        line_1: '123 Main St.',
        line_2: 'APT 3 BLG 4',
        postal_code: place.postalCode,
        state: place.stateCode,
      },
      metadata: { lang: 'en', visits: Math.floor(Math.random() * 100) },
      birthdate: '2022-01-01',
    };
    if (Math.random() < 0.2) {
      const p = nextPhone();
      body.phone = `${p.slice(0, 2)} ${p.slice(2, 5)} ${p.slice(5, 8)} ${p.slice(8)}`;
    }
    return JSON.stringify(body);
  };
}

/** The API an upsert goes through: the native one, or a platform's dialect. */
export type Api = 'native' | 'redo' | 'voucherify';

/** Each API's upsert: its method, its path and its credentials. */
const endpoints: Record<
  Api,
  {
    method: 'POST' | 'PUT';
    path: (storeId: string) => string;
    headers: (storeId: string, apiKey: string) => Record<string, string>;
  }
> = {
  native: {
    method: 'POST',
    path: (storeId) => `/v1/stores/${storeId}/customers`,
    headers: (_, apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  },
  redo: {
    method: 'PUT',
    path: (storeId) => `/compat/redo/v2.2/stores/${storeId}/customers`,
    headers: (_, apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  },
  voucherify: {
    method: 'POST',
    path: () => '/compat/voucherify/v1/customers',
    headers: (storeId, apiKey) => ({ 'x-app-id': storeId, 'x-app-token': apiKey }),
  },
};

/** What every request to `api`'s upsert carries: its method, path and headers. */
function requestOf(api: Api | undefined, storeId: string, apiKey: string) {
  const endpoint = endpoints[api ?? 'native'];
  return {
    method: endpoint.method,
    path: endpoint.path(storeId),
    headers: { ...endpoint.headers(storeId, apiKey), 'content-type': 'application/json' },
  };
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

/**
 * Drives `connections` clients at an upsert (the native one by default) for `seconds`, each
 * sending the next body as soon as its last answer is read: a closed loop, for throughput.
 * (autocannon's own `overallRate` is not a steady pace: each connection sends its share
 * of a second as fast as it can when the second begins and then waits, so the server
 * sees bursts at full speed and idle gaps. `pace` sends at a steady rate.)
 */
export async function drive(options: {
  url: string;
  storeId: string;
  apiKey: string;
  connections: number;
  seconds: number;
  body: () => string;
  api?: Api;
}): Promise<LoadResult> {
  const { method, path, headers } = requestOf(options.api, options.storeId, options.apiKey);
  const result = await autocannon({
    url: `${options.url}${path}`,
    connections: options.connections,
    duration: options.seconds,
    method,
    headers,
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: options.body() }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

/**
 * Sends upserts at a steady `rate` a second for `seconds`, the n-th at n/rate s after the
 * start, whatever the answers (an open loop, as a store's traffic arrives), over at most
 * `connections` connections kept alive; a request waits for a free connection in the
 * client, up to `connections` × 4 at once, past which a due request is counted as not sent
 * (the server is slower than the rate). Each answer is told to `onResponse` as it is read.
 */
export async function pace(options: {
  url: string;
  storeId: string;
  apiKey: string;
  connections: number;
  seconds: number;
  rate: number;
  body: () => string;
  api?: Api;
  onResponse?: (status: number, body: string) => void;
}): Promise<LoadResult & { notSent: number }> {
  const { method, path, headers } = requestOf(options.api, options.storeId, options.apiKey);
  const pool = new Pool(new URL(options.url).origin, {
    connections: options.connections,
    pipelining: 1,
  });
  const latencies: number[] = [];
  const most = options.connections * 4;
  const total = Math.round(options.rate * options.seconds);
  let sent = 0;
  let notSent = 0;
  let errors = 0;
  let open = 0;
  const inFlight = new Set<Promise<void>>();
  const send = async () => {
    const started = performance.now();
    try {
      const answer = await pool.request({
        path,
        method,
        headers,
        body: options.body(),
      });
      const text = await answer.body.text();
      latencies.push(performance.now() - started);
      if (answer.statusCode >= 300) errors++;
      options.onResponse?.(answer.statusCode, text);
    } catch {
      errors++;
    }
  };
  const start = performance.now();
  while (sent + notSent < total) {
    const due = Math.min(
      total,
      Math.floor(((performance.now() - start) * options.rate) / 1000) + 1,
    );
    while (sent + notSent < due) {
      if (open >= most) {
        notSent++;
        continue;
      }
      sent++;
      open++;
      const request: Promise<void> = send().finally(() => {
        open--;
        inFlight.delete(request);
      });
      inFlight.add(request);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return {
    rps: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    errors,
    requests: sent,
    notSent,
  };
}

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

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

/**
 * Drives `connections` clients at an upsert (the native one by default) for `seconds`, each
 * sending the next body; with `rate`, no more than that many requests a second in all (a
 * paced load, for latency rather than throughput: a connection waits for its answer before
 * it sends again, so a server slower than `rate` is sent less).
 */
export async function drive(options: {
  url: string;
  storeId: string;
  apiKey: string;
  connections: number;
  seconds: number;
  body: () => string;
  api?: Api;
  rate?: number;
  /** Told of each answer as it is read (its status and body). */
  onResponse?: (status: number, body: string) => void;
}): Promise<LoadResult> {
  const endpoint = endpoints[options.api ?? 'native'];
  const result = await autocannon({
    url: `${options.url}${endpoint.path(options.storeId)}`,
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    method: endpoint.method,
    headers: {
      ...endpoint.headers(options.storeId, options.apiKey),
      'content-type': 'application/json',
    },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: options.body() }),
        ...(options.onResponse ? { onResponse: options.onResponse } : {}),
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

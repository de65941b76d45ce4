import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';

/**
 * Erasing a customer while its upserts run: every request gets a clean answer, and the
 * database ends consistent, with the customer erased (nothing of it left) and every
 * upsert after the erasure refused as suppressed, never a customer half erased or
 * brought back. On PostgreSQL through two app instances, as two processes; on PGlite
 * through one, where nothing runs at once but the answers must hold all the same.
 */
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());

function voucherify(i: number, method: string, url: string, body?: object) {
  const instance = fleet.instances[i % fleet.instances.length];
  if (!instance) throw new Error('no instance');
  return instance.app.inject({
    method: method as 'POST',
    url: `/compat/voucherify/v1${url}`,
    headers: { 'x-app-id': fleet.store.id, 'x-app-token': fleet.store.apiKey },
    ...(body ? { payload: body } : {}),
  });
}

/** What of a customer's data is left anywhere that its row does not account for. */
async function leftovers() {
  const db = fleet.instances[0]?.clientele.db;
  if (!db) throw new Error('no database');
  const { rows } = await sql<{ what: string; n: number }>`
    SELECT 'identifier without customer' AS what, count(*)::int AS n
      FROM customer_identifiers i
      WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.store_id = i.store_id AND c.id = i.customer_id)
    UNION ALL
    SELECT 'event with data but no customer', count(*)::int FROM customer_events e
      -- An erasure leaves its own record (the id alone) and the others emptied.
      WHERE e.changes <> '{}'::jsonb AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.store_id = e.store_id AND c.id = e.customer_id)
    UNION ALL
    SELECT 'external id without identifier', count(*)::int FROM customers c
      WHERE c.external_id IS NOT NULL AND c.merged_into IS NULL AND NOT EXISTS (
        SELECT 1 FROM customer_identifiers i WHERE i.store_id = c.store_id
          AND i.kind = 'externalId' AND i.value = c.external_id AND i.customer_id = c.id)
    UNION ALL
    SELECT 'customer without history', count(*)::int FROM customers c
      WHERE NOT EXISTS (SELECT 1 FROM customer_events e WHERE e.store_id = c.store_id AND e.customer_id = c.id)
  `.execute(db);
  return Object.fromEntries(rows.map((r) => [r.what, r.n]));
}

describe(`erasing a customer while it is upserted (${onPostgres ? 'two instances on PostgreSQL' : 'PGlite'})`, () => {
  it('answers every request cleanly and leaves the customer erased or whole', async () => {
    const statuses = new Map<string, number[]>();
    const note = (kind: string, res: LightMyRequestResponse) => {
      statuses.set(kind, [...(statuses.get(kind) ?? []), res.statusCode]);
      return res;
    };
    for (let round = 0; round < 8; round++) {
      const sourceId = `erase-race-${round}`;
      const first = await voucherify(0, 'POST', '/customers', {
        source_id: sourceId,
        email: `${sourceId}@example.com`,
      });
      expect(first.statusCode).toBe(200);
      const id = first.json().id as string;

      const requests: Promise<LightMyRequestResponse>[] = [];
      for (let i = 0; i < 24; i++) {
        const body = {
          source_id: sourceId,
          metadata: { i },
          phone: `+1${202 + round}555${1000 + i}`,
        };
        requests.push(voucherify(i, 'POST', '/customers', body).then((r) => note('upsert', r)));
        if (i % 4 === 0) {
          const update = { name: `Name ${i}`, metadata: { put: i } };
          requests.push(
            voucherify(i + 1, 'PUT', `/customers/${id}`, update).then((r) => note('update', r)),
          );
        }
        if (i % 8 === 3) {
          requests.push(voucherify(i, 'DELETE', `/customers/${id}`).then((r) => note('erase', r)));
          requests.push(
            voucherify(i + 1, 'DELETE', `/customers/${sourceId}`).then((r) => note('erase', r)),
          );
        }
      }
      const answers = await Promise.all(requests);
      for (const res of answers) expect(res.statusCode, res.body).toBeLessThan(500);

      // Erased, and kept so: every upsert after the erasure was refused as suppressed.
      const read = await voucherify(0, 'GET', `/customers/${sourceId}`);
      expect(read.statusCode, read.body).toBe(404);
      for (const res of answers) {
        if (res.statusCode === 400) expect(res.json().details).toContain('is suppressed');
      }
      expect(await leftovers()).toEqual({
        'identifier without customer': 0,
        'event with data but no customer': 0,
        'external id without identifier': 0,
        'customer without history': 0,
      });
    }
    for (const s of statuses.get('upsert') ?? []) expect([200, 400]).toContain(s);
    expect(statuses.get('upsert')).toContain(400);
    for (const s of statuses.get('update') ?? []) expect([200, 400, 404]).toContain(s);
    for (const s of statuses.get('erase') ?? []) expect([204, 404]).toContain(s);
    expect(statuses.get('erase')).toContain(204);
  }, 120_000);
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { countsOf } from '../../src/core/segments/segments.repository.js';
import { type Fleet, startFleet } from '../helpers/app.js';

/**
 * Relative-date segments move with the clock: the re-evaluation round (which every
 * server process runs, clock.ts) moves customers whose date crossed a bound, and
 * processes sharing one database share the segments without doing one twice. (On
 * PGlite the fleet is one instance.)
 */
let fleet: Fleet;
const HOUR = 3_600_000;

beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(async () => {
  await fleet.close();
});

it('a member whose date has passed the bound leaves at the next round, with an event', async () => {
  const api = fleet.clients[0]!;
  const { store } = fleet;
  const soon = new Date(Date.now() + 12 * HOUR).toISOString();
  await api.upsert({ email: 'clock@example.com', customFields: { renews: soon } });
  const res = await api.request('POST', `/v1/stores/${store.id}/segments`, {
    name: 'renewing tomorrow',
    filter: { field: 'customFields.renews', op: 'in_the_next', value: { amount: 1, unit: 'day' } },
  });
  expect(res.statusCode, res.body).toBe(201);
  const segment = res.json();
  expect(segment.count).toBe(1);

  // Two days on: the date is behind us.
  const later = new Date(Date.now() + 48 * HOUR);
  const done = await Promise.all(
    fleet.instances.map((i) => i.clientele.segmentClock.runRound(later)),
  );
  expect(done.reduce((a, b) => a + b, 0)).toBe(1);
  const after = (await api.request('GET', `/v1/stores/${store.id}/segments/${segment.id}`)).json();
  expect(after.count).toBe(0);
  // The feed serves transactions older than the oldest one running (on a shared
  // PostgreSQL, another test's): wait for it to pass ours.
  let feed = { data: [] as { data: { api: string; segment: { id: string } } }[] };
  for (let i = 0; i < 200 && feed.data.length < 1; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    feed = (await api.get('/events?types=segment.exited')).json();
  }
  expect(feed.data).toHaveLength(1);
  expect(feed.data[0]!.data.api).toBe('clock');
  expect(feed.data[0]!.data.segment.id).toBe(segment.id);
});

it('several processes share the rounds: each due segment is evaluated once, counts exact', async () => {
  const api = fleet.clients[0]!;
  const { store } = fleet;
  const base = Date.now();
  for (let i = 0; i < 30; i++) {
    await api.upsert({
      email: `r${i}@example.com`,
      customFields: { due: new Date(base + (i + 1) * HOUR).toISOString() },
    });
  }
  const ids: string[] = [];
  for (let h = 1; h <= 12; h++) {
    const res = await api.request('POST', `/v1/stores/${store.id}/segments`, {
      name: `due within ${h * 2} h`,
      filter: {
        field: 'customFields.due',
        op: 'in_the_next',
        value: { amount: h * 2, unit: 'hour' },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    ids.push(res.json().id);
  }
  const later = new Date(base + 10 * HOUR + 60_000);
  const rounds = await Promise.all(
    fleet.instances.flatMap((i) => [
      i.clientele.segmentClock.runRound(later),
      i.clientele.segmentClock.runRound(later),
    ]),
  );
  expect(rounds.reduce((a, b) => a + b, 0)).toBe(ids.length);
  for (const [h, id] of ids.entries()) {
    const counts = await countsOf(fleet.instances[0]!.clientele.db, store.id, id);
    expect(counts.counter).toBe(counts.members);
    // Due in (10 h, 10 h + 2(h+1) h]: customers 11 … 10 + 2(h+1), at most 30.
    expect(counts.members).toBe(Math.max(0, Math.min(30, 10 + 2 * (h + 1)) - 10));
  }
});

it('a segment built while writes race it on two processes holds exactly its members', async () => {
  const { store } = fleet;
  const [a, b] = [fleet.clients[0]!, fleet.clients.at(-1)!];
  for (let i = 0; i < 20; i++) {
    await a.upsert({ email: `race${i}@example.com`, customFields: { score: i } });
  }
  const writes = Array.from({ length: 80 }, (_, k) =>
    (k % 2 ? a : b).upsert({
      email: `race${k % 20}@example.com`,
      customFields: { score: (k * 13) % 40 },
    }),
  );
  const created = a.request('POST', `/v1/stores/${store.id}/segments`, {
    name: 'high scores',
    filter: { field: 'customFields.score', op: 'gte', value: 20 },
  });
  const [segment, ...answers] = await Promise.all([created, ...writes]);
  for (const w of answers) expect(w.statusCode, w.body).toBeLessThan(300);
  expect(segment.statusCode, segment.body).toBe(201);
  const id = segment.json().id;
  const db = fleet.instances[0]!.clientele.db;
  const counts = await countsOf(db, store.id, id);
  expect(counts.counter).toBe(counts.members);
  const preview = await a.request('POST', `/v1/stores/${store.id}/segments/preview`, {
    filter: { field: 'customFields.score', op: 'gte', value: 20 },
  });
  expect(preview.json().count).toBe(counts.members);
});

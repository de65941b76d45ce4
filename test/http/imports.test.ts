import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { feedCaughtUp } from '../helpers/database.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp(undefined, { imports: { idleMs: 20, batchRows: 7 } });
  t.clientele.imports.startWorking();
});
afterAll(async () => {
  await t.close();
});

const ndjson = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

async function post(store: TestStore, body: string, type = 'application/x-ndjson', query = '') {
  return t.app.inject({
    method: 'POST',
    url: `/v1/stores/${store.id}/imports${query}`,
    headers: { authorization: `Bearer ${store.apiKey}`, 'content-type': type },
    payload: body,
  });
}

/** Posts a file and waits for its job to end; the job as it ended. */
async function importFile(store: TestStore, body: string, type?: string, query?: string) {
  const res = await post(store, body, type, query);
  expect(res.statusCode, res.body).toBe(202);
  return waitFor(store, res.json().id);
}

async function waitFor(store: TestStore, id: string) {
  const deadline = Date.now() + 100_000;
  for (;;) {
    const job = (await t.as(store).get(`/imports/${id}`)).json();
    if (['completed', 'failed', 'cancelled'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`import still ${job.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function errorsOf(store: TestStore, id: string) {
  return (await t.as(store).get(`/imports/${id}/errors?limit=1000`)).json().data;
}

async function customer(store: TestStore, email: string) {
  const res = await t.as(store).get(`/customers?email=${encodeURIComponent(email)}`);
  return res.statusCode === 200 ? res.json() : undefined;
}

describe('imports: NDJSON', () => {
  it('keeps a saved segment current: the imported rows it matches are its members at once', async () => {
    const store = await t.createStore();
    const api = t.as(store);
    await api.upsert({ email: 'seed@example.com', customFields: { tier: 'silver' } });
    const made = await api.request('POST', `/v1/stores/${store.id}/segments`, {
      name: 'gold',
      filter: { field: 'customFields.tier', op: 'eq', value: 'gold' },
    });
    expect(made.statusCode, made.body).toBe(201);
    const rows = Array.from({ length: 12 }, (_, i) => ({
      email: `tier${i}@example.com`,
      customFields: { tier: i % 3 === 0 ? 'gold' : 'silver' },
    }));
    const job = await importFile(store, ndjson(rows));
    expect(job.status).toBe('completed');
    const segment = (await api.get(`/segments/${made.json().id}`)).json();
    expect(segment.count).toBe(4);
    const members = (await api.get(`/segments/${made.json().id}/customers?limit=100`)).json();
    expect(
      members.data.map((m: { customer: { email: string } }) => m.customer.email).sort(),
    ).toEqual(['tier0', 'tier3', 'tier6', 'tier9'].map((e) => `${e}@example.com`));
  });
  it('creates and updates customers, counts each, and writes history as api "import"', async () => {
    const store = await t.createStore();
    await t.as(store).upsert({ email: 'old@example.com', firstName: 'Old' });
    const rows = [
      { email: 'old@example.com', lastName: 'Timer' },
      { email: 'old@example.com', lastName: 'Timer' },
      ...Array.from({ length: 20 }, (_, i) => ({
        email: `new${i}@example.com`,
        phoneNumber: `+1202555${String(1000 + i)}`,
        customFields: { points: i, tier: i % 2 ? 'gold' : 'silver' },
      })),
    ];
    const res = await post(store, ndjson(rows));
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ status: 'queued', total: 22, format: 'ndjson' });
    expect(res.json().id).toMatch(/^imp_/);
    const job = await waitFor(store, res.json().id);
    expect(job).toMatchObject({
      status: 'completed',
      total: 22,
      processed: 22,
      created: 20,
      updated: 1,
      unchanged: 1,
      failed: 0,
    });
    expect(job.finishedAt).toEqual(expect.any(String));
    const old = await customer(store, 'old@example.com');
    expect(old).toMatchObject({ firstName: 'Old', lastName: 'Timer' });
    const jane = await customer(store, 'new3@example.com');
    expect(jane).toMatchObject({
      phoneNumbers: ['+12025551003'],
      customFields: { points: 3, tier: 'gold' },
    });
    const history = (await t.as(store).get(`/customers/${jane.id}/events`)).json().data;
    expect(history.map((e: { api: string }) => e.api)).toEqual(['import']);
    expect(history[0].importId).toBe(job.id);
    // A write that is not the import's names no import.
    const later = await t.as(store).upsert({ email: 'new3@example.com', firstName: 'Jane' });
    expect(later.statusCode).toBe(200);
    const since = (await t.as(store).get(`/customers/${jane.id}/events`)).json().data;
    expect(since[0]).toMatchObject({ api: 'native' });
    expect(since[0].importId).toBeUndefined();
    const list = (await t.as(store).get('/imports')).json();
    expect(list.data.map((j: { id: string }) => j.id)).toEqual([job.id]);
  });

  it("tells the feed: its rows' events name the import, then one import.completed carries the job", async () => {
    const store = await t.createStore();
    const job = await importFile(
      store,
      ndjson([{ email: 'fed1@example.com' }, { email: 'fed2@example.com' }, { email: 'bad' }]),
    );
    expect(job).toMatchObject({ status: 'completed', created: 2, failed: 1 });
    // The feed shows a transaction's records once every earlier one has ended.
    await feedCaughtUp(t.clientele.db);
    const got = await t.as(store).get('/events?limit=100');
    expect(got.statusCode, got.body).toBe(200);
    const events: { type: string; data: Record<string, unknown> }[] = got.json().data;
    expect(events.map((e) => e.type)).toEqual([
      'customer.created',
      'customer.created',
      'import.completed',
    ]);
    for (const e of events.slice(0, 2)) expect(e.data.importId).toBe(job.id);
    const done = events[2] as { data: Record<string, unknown> };
    expect(done.data.customer).toBeUndefined();
    expect(done.data.import).toMatchObject({
      id: job.id,
      status: 'completed',
      created: 2,
      failed: 1,
      processed: 3,
    });
    expect(done.data).toMatchObject({ api: 'import', changes: [], version: null });
    const onlyRes = await t.as(store).get('/events?types=import.completed');
    expect(onlyRes.statusCode, onlyRes.body).toBe(200);
    const only = onlyRes.json().data;
    expect(only.map((e: { type: string }) => e.type)).toEqual(['import.completed']);
  });

  it('names each refused row with its line, code and path, and applies the rest', async () => {
    const store = await t.createStore();
    await t.as(store).upsert({ email: 'typed@example.com', customFields: { points: 5 } });
    await t.as(store).upsert({ email: 'a@example.com' });
    await t.as(store).upsert({ phoneNumber: '+12025550100' });
    const lines = [
      JSON.stringify({ email: 'fine@example.com' }),
      '{"email": "broken@example.com"',
      JSON.stringify({ email: 'not-an-email' }),
      JSON.stringify({ firstName: 'Nobody' }),
      JSON.stringify({ email: 'typed@example.com', customFields: { points: 'many' } }),
      JSON.stringify({ email: 'x@example.com', unknownField: 1 }),
      '',
      JSON.stringify({ email: 'a@example.com', phoneNumber: '+12025550100' }),
      JSON.stringify({ email: 'y@example.com', phoneNumber: '+1555' }),
      JSON.stringify({ email: 'z@example.com', customFields: { n: 'bad\u0000' } }),
      JSON.stringify({ email: 'last@example.com' }),
    ];
    const job = await importFile(store, `${lines.join('\n')}\n`);
    expect(job).toMatchObject({ status: 'completed', total: 10, created: 2, failed: 8 });
    const errors = await errorsOf(store, job.id);
    expect(
      errors.map((e: { line: number; code: string; path: string }) => [e.line, e.code, e.path]),
    ).toEqual([
      [2, 'malformed_json', ''],
      [3, 'validation_failed', '/email'],
      [4, 'identifier_required', ''],
      [5, 'custom_field_type_mismatch', '/customFields/points'],
      [6, 'validation_failed', '/unknownField'],
      [8, 'identity_conflict', expect.any(String)],
      [9, 'validation_failed', '/phoneNumber'],
      [10, 'validation_failed', '/customFields/n'],
    ]);
    expect(errors[0]).toMatchObject({ row: 2, rowText: '{"email": "broken@example.com"' });
    expect(await customer(store, 'last@example.com')).toBeDefined();
    expect(await customer(store, 'x@example.com')).toBeUndefined();
  });

  it('cuts a refused row at 1,000 characters and pages the errors', async () => {
    const store = await t.createStore();
    const long = JSON.stringify({ email: 'bad', description: 'x'.repeat(5000) });
    const job = await importFile(store, `${long}\n${long}\n${long}\n`);
    expect(job.failed).toBe(3);
    const first = (await t.as(store).get(`/imports/${job.id}/errors?limit=2`)).json();
    expect(first.data).toHaveLength(2);
    expect(first.data[0].rowText).toHaveLength(1000);
    const next = (
      await t.as(store).get(`/imports/${job.id}/errors?limit=2&cursor=${first.nextCursor}`)
    ).json();
    expect(next.data.map((e: { row: number }) => e.row)).toEqual([3]);
    expect(next.nextCursor).toBeNull();
  });

  it('a dry run checks every row and writes nothing', async () => {
    const store = await t.createStore();
    await t.as(store).upsert({ email: 'there@example.com', firstName: 'There' });
    const rows = [
      { email: 'there@example.com', firstName: 'Changed' },
      { email: 'new@example.com', customFields: { fresh: 1 } },
      { email: 'bad' },
    ];
    const job = await importFile(store, ndjson(rows), undefined, '?dryRun=true');
    expect(job).toMatchObject({
      status: 'completed',
      dryRun: true,
      created: 1,
      updated: 1,
      failed: 1,
    });
    expect(await customer(store, 'new@example.com')).toBeUndefined();
    expect((await customer(store, 'there@example.com')).firstName).toBe('There');
    expect((await t.as(store).get('/custom-fields')).json().data).toEqual([]);
  });

  it('create_only refuses rows that find a customer; update_only rows that find none', async () => {
    const store = await t.createStore();
    await t.as(store).upsert({ email: 'known@example.com', firstName: 'Known' });
    const rows = [
      { email: 'known@example.com', firstName: 'Again' },
      { email: 'unknown@example.com', firstName: 'New' },
    ];
    const createOnly = await importFile(store, ndjson(rows), undefined, '?mode=create_only');
    expect(createOnly).toMatchObject({ created: 1, failed: 1 });
    expect((await errorsOf(store, createOnly.id))[0]).toMatchObject({ line: 1 });
    expect((await customer(store, 'known@example.com')).firstName).toBe('Known');

    const rows2 = [
      { email: 'known@example.com', firstName: 'Updated' },
      { email: 'nobody@example.com', firstName: 'None' },
    ];
    const updateOnly = await importFile(store, ndjson(rows2), undefined, '?mode=update_only');
    expect(updateOnly).toMatchObject({ updated: 1, failed: 1 });
    expect((await errorsOf(store, updateOnly.id))[0]).toMatchObject({
      line: 2,
      code: 'customer_not_found',
    });
    expect((await customer(store, 'known@example.com')).firstName).toBe('Updated');
    expect(await customer(store, 'nobody@example.com')).toBeUndefined();
  });

  it('a cancelled job that has not started never runs', async () => {
    const store = await t.createStore();
    await t.clientele.imports.stopWorking();
    try {
      const res = await post(store, ndjson([{ email: 'never@example.com' }]));
      const id = res.json().id;
      const cancelled = await t
        .as(store)
        .request('POST', `/v1/stores/${store.id}/imports/${id}/cancel`);
      expect(cancelled.statusCode).toBe(200);
      expect(cancelled.json()).toMatchObject({ status: 'cancelled', processed: 0 });
    } finally {
      t.clientele.imports.startWorking();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await customer(store, 'never@example.com')).toBeUndefined();
  });

  it('cancels a running job before its next batch', async () => {
    const store = await t.createStore();
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ externalId: `c${i}` }));
    const res = await post(store, ndjson(rows));
    const id = res.json().id;
    for (let i = 0; i < 2000; i++) {
      const job = (await t.as(store).get(`/imports/${id}`)).json();
      if (job.processed > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const cancelled = await t
      .as(store)
      .request('POST', `/v1/stores/${store.id}/imports/${id}/cancel`);
    expect(cancelled.json().status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 300));
    const job = (await t.as(store).get(`/imports/${id}`)).json();
    expect(job.status).toBe('cancelled');
    expect(job.processed).toBeGreaterThan(0);
    expect(job.processed).toBeLessThan(20_000);
    // What was applied stays, and nothing after the cancel.
    const exported = (await t.as(store).get('/customers/export')).body.trim().split('\n');
    expect(exported).toHaveLength(job.processed);
  });

  it('answers 413 to a file over the limit, storing nothing', async () => {
    const small = await startTestApp(undefined, { imports: { maxBytes: 100 } });
    try {
      const store = await small.createStore();
      const res = await small.app.inject({
        method: 'POST',
        url: `/v1/stores/${store.id}/imports`,
        headers: {
          authorization: `Bearer ${store.apiKey}`,
          'content-type': 'application/x-ndjson',
        },
        payload: ndjson(Array.from({ length: 10 }, (_, i) => ({ email: `big${i}@example.com` }))),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json().code).toBe('payload_too_large');
      expect((await small.as(store).get('/imports')).json().data).toEqual([]);
      const { rows } = await sql`SELECT count(*)::int AS n FROM import_chunks`.execute(
        small.clientele.db,
      );
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await small.close();
    }
  }, 120_000);

  it('refuses another media type, an empty file and a bad option', async () => {
    const store = await t.createStore();
    const json = await post(store, '{"email":"a@example.com"}', 'application/json');
    expect(json.statusCode).toBe(415);
    expect((await post(store, '')).statusCode).toBe(400);
    const mode = await post(store, ndjson([{ email: 'a@example.com' }]), undefined, '?mode=merge');
    expect(mode.statusCode).toBe(400);
    expect(mode.json().errors[0].path).toBe('/query/mode');
    const mapping = await post(store, 'a\n1\n', 'text/csv', '?mapping=nope');
    expect(mapping.json().errors[0].path).toBe('/query/mapping');
  });

  it("refuses another store's imports, and its key on this store's", async () => {
    const store = await t.createStore();
    const other = await t.createStore();
    const job = await importFile(store, ndjson([{ email: 'mine@example.com' }]));
    for (const path of [`/imports/${job.id}`, `/imports/${job.id}/errors`]) {
      const res = await t.as(other).request('GET', `/v1/stores/${other.id}${path}`);
      expect(res.statusCode).toBe(404);
      const cross = await t.as(other).request('GET', `/v1/stores/${store.id}${path}`);
      expect(cross.statusCode).toBe(404);
    }
    const cancel = await t
      .as(other)
      .request('POST', `/v1/stores/${other.id}/imports/${job.id}/cancel`);
    expect(cancel.statusCode).toBe(404);
    const upload = await t.app.inject({
      method: 'POST',
      url: `/v1/stores/${store.id}/imports`,
      headers: { authorization: `Bearer ${other.apiKey}`, 'content-type': 'application/x-ndjson' },
      payload: ndjson([{ email: 'intruder@example.com' }]),
    });
    expect(upload.statusCode).toBe(404);
    const exported = await t.as(other).request('GET', `/v1/stores/${store.id}/customers/export`);
    expect(exported.statusCode).toBe(404);
    expect((await t.as(other).get('/imports')).json().data).toEqual([]);
  });
});

describe('imports: CSV', () => {
  it('reads a BOM, ; delimiters, quoted line breaks, CRLF, and phones as people write them', async () => {
    const store = await t.createStore();
    const csv =
      '\ufeffemail;firstName;phoneNumber;location.city;description\r\n' +
      'ann@example.com;Ann;+1 202 555 0143;Boston;"two\r\nlines; and a ""quote"""\r\n' +
      'bob@example.com;Bob;0044 7911 123456;;\r\n' +
      '\r\n' +
      'cy@example.com;Cy;(202) 555-0199;;\r\n';
    const job = await importFile(store, csv, 'text/csv');
    expect(job).toMatchObject({ status: 'completed', total: 3, created: 2, failed: 1 });
    expect(await customer(store, 'ann@example.com')).toMatchObject({
      firstName: 'Ann',
      phoneNumbers: ['+12025550143'],
      location: { city: 'Boston' },
      description: 'two\r\nlines; and a "quote"',
    });
    expect((await customer(store, 'bob@example.com')).phoneNumbers).toEqual(['+447911123456']);
    const [refused] = await errorsOf(store, job.id);
    expect(refused).toMatchObject({ row: 3, code: 'validation_failed', path: 'phoneNumber' });
  });

  it('an empty cell leaves the field as it is', async () => {
    const store = await t.createStore();
    await t.as(store).upsert({ email: 'kept@example.com', firstName: 'Kept', lastName: 'Name' });
    const job = await importFile(
      store,
      'email,firstName,lastName\nkept@example.com,,New\n',
      'text/csv',
    );
    expect(job.updated).toBe(1);
    expect(await customer(store, 'kept@example.com')).toMatchObject({
      firstName: 'Kept',
      lastName: 'New',
    });
  });

  it('types a cell through its declared field, and an undeclared one as docs/api.md says', async () => {
    const store = await t.createStore();
    await t.as(store).upsert({
      email: 'seed@example.com',
      customFields: { points: 1, code: 'a', vip: false },
    });
    const csv =
      'email,customFields.points,customFields.code,customFields.vip,customFields.fresh,customFields.zip\n' +
      'one@example.com,1250,1250,TRUE,42,02134\n' +
      'two@example.com,"1,250",x,maybe,,\n';
    const job = await importFile(store, csv, 'text/csv');
    expect(job).toMatchObject({ created: 1, failed: 1 });
    expect((await customer(store, 'one@example.com')).customFields).toEqual({
      points: 1250,
      code: '1250',
      vip: true,
      fresh: 42,
      zip: '02134',
    });
    const [refused] = await errorsOf(store, job.id);
    expect(refused).toMatchObject({
      line: 3,
      code: 'custom_field_type_mismatch',
      path: 'customFields.points',
    });
    const fields = (await t.as(store).get('/custom-fields')).json().data;
    expect(fields.find((f: { name: string }) => f.name === 'fresh').type).toBe('NUMBER');
    expect(fields.find((f: { name: string }) => f.name === 'zip').type).toBe('STRING');
  });

  it('types the rows after a cell that declares a field through that declaration', async () => {
    const store = await t.createStore();
    // `zip` is declared STRING by its first cell (02134 is not a JSON number); the cells
    // after it go through that STRING field, so 1250 stays text there.
    const csv =
      'email,customFields.zip\n' +
      'one@example.com,02134\n' +
      'two@example.com,1250\n' +
      'three@example.com,7\n';
    const job = await importFile(store, csv, 'text/csv');
    expect(job).toMatchObject({ created: 3, failed: 0 });
    expect((await customer(store, 'two@example.com')).customFields).toEqual({ zip: '1250' });
    expect((await customer(store, 'three@example.com')).customFields).toEqual({ zip: '7' });
  });

  it('maps the file’s own headers, and refuses a header it cannot read before storing anything', async () => {
    const store = await t.createStore();
    const mapping = encodeURIComponent(
      JSON.stringify({ 'E-mail Address': 'email', Points: 'customFields.points' }),
    );
    const job = await importFile(
      store,
      'E-mail Address,Points,Ignored\nmapped@example.com,7,whatever\n',
      'text/csv',
      `?mapping=${mapping}`,
    );
    expect(job.created).toBe(1);
    expect((await customer(store, 'mapped@example.com')).customFields).toEqual({ points: 7 });

    const bad = await post(store, 'email,shoeSize\na@example.com,9\n', 'text/csv');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/csv/header/shoeSize');
    expect((await t.as(store).get('/imports')).json().data).toHaveLength(1);
  });
});

describe('export', () => {
  it('streams every customer as NDJSON and CSV, which import back to the same customers', async () => {
    const store = await t.createStore();
    const people = Array.from({ length: 30 }, (_, i) => ({
      email: `p${i}@example.com`,
      firstName: `P${i}`,
      phoneNumbers: [`+1202555${String(2000 + i)}`, `+1202555${String(3000 + i)}`],
      location: { city: i % 2 ? 'Boston' : 'Paris', countryCode: 'US' },
      identifiers: [{ type: 'loyaltyCard', value: `LC${i}` }],
      customFields: { points: i * 10, tier: i % 3 ? 'gold' : 'silver', vip: i % 2 === 0 },
      metadata: { source: 'test', n: i, nested: { empty: null, list: [1, 'two'] } },
      description: i === 0 ? 'with, comma; and "quotes"\nand a line' : undefined,
      // The other fields the export writes, on some rows and not others (not loyalty: a
      // second import of an enrollment is refused, "Already enrolled").
      ...(i % 4 === 1
        ? {
            externalId: `ext;${i}`,
            lastName: 'Ölçü "Doe"',
            birthdate: `1990-02-0${1 + (i % 9)}`,
            active: false,
            location: { city: 'Boston', latitude: 42.3601, longitude: -71.0589 },
            channels: [{ type: 'sms', value: `+1202555${String(2000 + i)}`, subscribed: true }],
          }
        : {}),
    }));
    for (const p of people) expect((await t.as(store).upsert(p)).statusCode).toBe(201);

    for (const format of ['ndjson', 'csv'] as const) {
      const res = await t.as(store).get(`/customers/export?format=${format}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain(format === 'csv' ? 'text/csv' : 'ndjson');
      const target = await t.createStore();
      const job = await importFile(
        target,
        res.body,
        format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      );
      expect(job, JSON.stringify(await errorsOf(target, job.id))).toMatchObject({
        status: 'completed',
        created: 30,
        failed: 0,
      });
      for (const p of people) {
        const a = await customer(store, p.email);
        const b = await customer(target, p.email);
        const strip = ({ id, storeId, createdAt, updatedAt, ...rest }: Record<string, unknown>) =>
          rest;
        expect(strip(b)).toEqual(strip(a));
      }
      // And back again into the first store: every row finds its customer, unchanged.
      const again = await importFile(
        store,
        res.body,
        format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      );
      expect(again, JSON.stringify(await errorsOf(store, again.id))).toMatchObject({
        unchanged: 30,
        failed: 0,
      });
    }
  });

  it('streams a store larger than one page (5,000 customers)', async () => {
    const store = await t.createStore();
    const rows = Array.from({ length: 5050 }, (_, i) => ({ externalId: `x${i}` }));
    const job = await importFile(store, ndjson(rows));
    expect(job.created).toBe(5050);
    for (const format of ['ndjson', 'csv']) {
      const res = await t.as(store).get(`/customers/export?format=${format}`);
      const lines = res.body.trim().split(/\r?\n/);
      expect(lines).toHaveLength(format === 'csv' ? 5051 : 5050);
      expect(new Set(lines).size).toBe(lines.length);
    }
  }, 180_000);
});

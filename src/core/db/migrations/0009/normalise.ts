import { sql } from 'kysely';
import { normalizePhone, storedEmailForm } from '../../../customers/contact.js';
import { newId } from '../../../ids.js';
import type { DB } from '../../database.js';

/**
 * Emails and phone numbers written before the rules of docs/api.md ("Equal values are
 * equal") take the form those rules give them: the customer's column and its identifier
 * row both, with a change record (api `migration`) and a new version, so that a write
 * computed from the old version (a process of the previous release, mid-deploy) fails
 * its version check and is planned again.
 *
 * Nothing is merged: where two customers of one store would hold one value, all of them
 * keep what they hold, and the value is listed in `identity_collisions` for the
 * operator to settle (docs/operations.md).
 */
export async function normaliseIdentifiers(db: DB): Promise<void> {
  for (const kind of ['email', 'phone'] as const) {
    const form =
      kind === 'email' ? storedEmailForm : (value: string) => normalizePhone(value, 'e164');
    const changed = await changedRows(db, kind, form);
    const groups = await groupsByForm(db, kind, changed);
    const edits = new Map<string, CustomerEdit>();
    for (const group of groups.values()) {
      const holders = [...new Set(group.holders.map((h) => h.customerId))].sort();
      if (holders.length > 1) {
        await sql`
          INSERT INTO identity_collisions (store_id, kind, value, holders, stored_values)
          VALUES (${group.storeId}, ${kind}, ${group.form}, ${holders},
            ${group.holders.map((h) => h.value)})
          ON CONFLICT (store_id, kind, value) DO NOTHING`.execute(db);
        continue;
      }
      for (const row of group.holders) {
        if (row.value === group.form) continue;
        const key = `${group.storeId}\u0000${row.customerId}`;
        const edit = edits.get(key) ?? { storeId: group.storeId, id: row.customerId, forms: {} };
        edit.forms[row.value] = group.form;
        edits.set(key, edit);
        await sql`
          DELETE FROM customer_identifiers
          WHERE store_id = ${group.storeId} AND kind = ${kind} AND value = ${row.value}`.execute(
          db,
        );
        await sql`
          INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
          VALUES (${group.storeId}, ${kind}, ${group.form}, ${row.customerId})
          ON CONFLICT DO NOTHING`.execute(db);
      }
    }
    for (const edit of edits.values()) await rewriteCustomer(db, kind, edit);
  }
}

interface Held {
  storeId: string;
  value: string;
  customerId: string;
}

interface CustomerEdit {
  storeId: string;
  id: string;
  /** Each stored value of the customer that changes, and its new form. */
  forms: Record<string, string>;
}

/** Every identifier row of the kind whose value the rules now write otherwise, with that form. */
async function changedRows(
  db: DB,
  kind: string,
  form: (value: string) => string | undefined,
): Promise<(Held & { form: string })[]> {
  const changed: (Held & { form: string })[] = [];
  let after = { storeId: '', value: '' };
  for (;;) {
    // Keyset pages along the primary key: the whole index once, a page in memory at a time.
    const { rows } = await sql<{ store_id: string; value: string; customer_id: string }>`
      SELECT store_id, value, customer_id FROM customer_identifiers
      WHERE (store_id, kind, value) > (${after.storeId}, ${kind}, ${after.value}) AND kind = ${kind}
      ORDER BY store_id, kind, value
      LIMIT 5000`.execute(db);
    for (const row of rows) {
      const canonical = form(row.value);
      if (canonical !== undefined && canonical !== row.value) {
        changed.push({
          storeId: row.store_id,
          value: row.value,
          customerId: row.customer_id,
          form: canonical,
        });
      }
    }
    const last = rows.at(-1);
    if (!last) return changed;
    after = { storeId: last.store_id, value: last.value };
  }
}

/** The rows that will share each new form: those changing to it, and one holding it already. */
async function groupsByForm(db: DB, kind: string, changed: (Held & { form: string })[]) {
  const groups = new Map<string, { storeId: string; form: string; holders: Held[] }>();
  for (const row of changed) {
    const key = `${row.storeId}\u0000${row.form}`;
    const group = groups.get(key) ?? { storeId: row.storeId, form: row.form, holders: [] };
    group.holders.push(row);
    groups.set(key, group);
  }
  const list = [...groups.values()];
  for (let i = 0; i < list.length; i += 1000) {
    const page = list.slice(i, i + 1000);
    const { rows } = await sql<{ store_id: string; value: string; customer_id: string }>`
      SELECT i.store_id, i.value, i.customer_id
      FROM unnest(${page.map((g) => g.storeId)}::text[], ${page.map((g) => g.form)}::text[])
        AS t(store_id, value)
      JOIN customer_identifiers AS i
        ON i.store_id = t.store_id AND i.kind = ${kind} AND i.value = t.value`.execute(db);
    for (const row of rows) {
      groups.get(`${row.store_id}\u0000${row.value}`)?.holders.push({
        storeId: row.store_id,
        value: row.value,
        customerId: row.customer_id,
      });
    }
  }
  return groups;
}

/** The customer's own column takes the new forms, at a new version, with its change record. */
async function rewriteCustomer(db: DB, kind: 'email' | 'phone', edit: CustomerEdit) {
  const { rows } = await sql<{ email: string | null; phone_numbers: string[]; version: number }>`
    SELECT email, phone_numbers, version FROM customers
    WHERE store_id = ${edit.storeId} AND id = ${edit.id} FOR UPDATE`.execute(db);
  const row = rows[0];
  if (!row) return;
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  let email = row.email;
  let phones = row.phone_numbers;
  if (kind === 'email') {
    email = (row.email !== null && edit.forms[row.email]) || row.email;
    if (email !== row.email) changes.email = { before: row.email, after: email };
  } else {
    phones = [...new Set(row.phone_numbers.map((p) => edit.forms[p] ?? p))];
    if (phones.join() !== row.phone_numbers.join()) {
      changes.phoneNumbers = { before: row.phone_numbers, after: phones };
    }
  }
  if (Object.keys(changes).length === 0) return;
  const version = row.version + 1;
  await sql`
    UPDATE customers SET email = ${email}, phone_numbers = ${phones}::text[],
      version = ${version}, updated_at = now()
    WHERE store_id = ${edit.storeId} AND id = ${edit.id}`.execute(db);
  await sql`
    INSERT INTO customer_events (store_id, id, customer_id, type, api, key_id, changes,
      created_at, previous_version, version)
    VALUES (${edit.storeId}, ${newId('evt')}, ${edit.id}, 'updated', 'migration', NULL,
      ${JSON.stringify(changes)}::jsonb, now(), ${row.version}, ${version})`.execute(db);
}

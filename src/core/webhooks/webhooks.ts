import type { DB } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import { type Events, type EventType, eventTypes, subjectOf } from '../events/events.js';
import { newId } from '../ids.js';
import { checkUrl, type OutboundPolicy, resolvePublic } from './address.js';
import * as deliveries from './deliveries.repository.js';
import * as repo from './endpoints.repository.js';
import { newSigningSecret, SecretBox } from './secrets.js';
import { type SenderOptions, WebhookSender } from './sender.js';

export interface WebhookOptions extends OutboundPolicy, Omit<SenderOptions, 'policy'> {
  /**
   * The server's secret key, which seals signing secrets (CLIENTELE_SECRET_KEY), or where
   * to get it when first needed.
   */
  secretKey: string | undefined | (() => string | undefined);
}

/** A webhook endpoint as the API shows it (never its secret, but once). */
export interface Endpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  /** Why the server disabled it (a 410 Gone, days of failing), when it did. */
  disabledReason: string | null;
  /** Since when every attempt has failed, while that lasts. */
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EndpointInput {
  url?: unknown;
  events?: unknown;
  description?: unknown;
  enabled?: unknown;
}

const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
export const subscribable = ['*', ...Object.keys(eventTypes)];

function endpointOf(row: repo.EndpointRow): Endpoint {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** `clientele.webhooks`: endpoints, their secrets, redelivery and replay, the log. */
export class Webhooks {
  private box: SecretBox | undefined;
  /** The delivery worker; the server starts it (`startSending`). */
  readonly sender: WebhookSender;

  constructor(
    private readonly db: DB,
    private readonly events: Events,
    readonly options: WebhookOptions,
  ) {
    this.sender = new WebhookSender(db, events, () => this.sealer(), {
      ...options,
      policy: { allowPrivate: options.allowPrivate, allowHttp: options.allowHttp },
    });
  }

  /** Delivers in the background until `stopSending`. */
  startSending(): void {
    this.sender.start();
  }

  stopSending(): Promise<void> {
    return this.sender.stop();
  }

  /** Sends a `webhook.ping` now, signed, and answers what the receiver said (logged too). */
  async ping(storeId: string, id: string) {
    const row = await this.row(storeId, id);
    const ping = {
      id: newId('evt'),
      type: 'webhook.ping' as const,
      createdAt: new Date().toISOString(),
      storeId,
      data: { endpointId: id },
    };
    const outcome = await this.sender.send(row, ping);
    await deliveries.logAttempt(this.db, storeId, id, {
      id: newId('wha'),
      delivery_id: null,
      event_id: ping.id,
      event_type: ping.type,
      attempt: 1,
      status_code: outcome.status,
      latency_ms: outcome.latencyMs,
      response: outcome.response,
      error: outcome.error,
    });
    return {
      eventId: ping.id,
      status: outcome.status,
      latencyMs: outcome.latencyMs,
      response: outcome.response,
      error: outcome.error,
    };
  }

  /** The sealer, or a 503 saying what the operator must set. */
  sealer(): SecretBox {
    if (!this.box) {
      const key =
        typeof this.options.secretKey === 'function'
          ? this.options.secretKey()
          : this.options.secretKey;
      if (key) this.box = new SecretBox(key);
    }
    if (!this.box) {
      throw new ClienteleError(
        'service_unavailable',
        'Webhooks need the server secret key: set CLIENTELE_SECRET_KEY on every process.',
      );
    }
    return this.box;
  }

  async create(storeId: string, input: EndpointInput): Promise<Endpoint & { secret: string }> {
    const fields = await this.check(input, true);
    const secret = newSigningSecret();
    const row = await repo.insertEndpoint(this.db, {
      store_id: storeId,
      id: newId('whe'),
      url: fields.url as string,
      events: fields.events as string[],
      description: fields.description ?? null,
      enabled: fields.enabled ?? true,
      secret: this.sealer().seal(secret),
    });
    return { ...endpointOf(row), secret };
  }

  async list(storeId: string): Promise<Endpoint[]> {
    return (await repo.listEndpoints(this.db, storeId)).map(endpointOf);
  }

  async get(storeId: string, id: string): Promise<Endpoint> {
    return endpointOf(await this.row(storeId, id));
  }

  async update(storeId: string, id: string, input: EndpointInput): Promise<Endpoint> {
    await this.row(storeId, id);
    const change = await this.check(input, false);
    const row = await repo.updateEndpoint(this.db, storeId, id, change);
    if (!row) throw endpointNotFound(id);
    return endpointOf(row);
  }

  async remove(storeId: string, id: string): Promise<void> {
    if (!(await repo.deleteEndpoint(this.db, storeId, id))) throw endpointNotFound(id);
  }

  /** A new signing secret; the one before keeps signing beside it for 24 hours. */
  async rotateSecret(
    storeId: string,
    id: string,
  ): Promise<{ secret: string; previousSecretUntil: string }> {
    const current = await this.row(storeId, id);
    const secret = newSigningSecret();
    const until = new Date(Date.now() + ROTATION_OVERLAP_MS);
    await repo.updateEndpoint(this.db, storeId, id, {
      secret: this.sealer().seal(secret),
      previous_secret: current.secret,
      previous_secret_until: until,
    });
    return { secret, previousSecretUntil: until.toISOString() };
  }

  /** The endpoint's attempts, newest first. */
  async attempts(
    storeId: string,
    id: string,
    page: { limit: number; before?: string | undefined },
  ) {
    await this.row(storeId, id);
    const rows = await deliveries.listAttempts(this.db, storeId, id, page.limit + 1, page.before);
    const data = rows.slice(0, page.limit).map((r) => ({
      id: r.id,
      deliveryId: r.delivery_id,
      eventId: r.event_id,
      eventType: r.event_type,
      attempt: r.attempt,
      at: r.at.toISOString(),
      status: r.status_code,
      latencyMs: r.latency_ms,
      response: r.response,
      error: r.error,
    }));
    const pending = await deliveries.countPending(this.db, storeId, id);
    return { data, hasMore: rows.length > page.limit, pending };
  }

  /** Delivers one event again (its `webhook-id` stays the event's id). */
  async redeliver(storeId: string, id: string, eventId: unknown): Promise<{ queued: number }> {
    await this.row(storeId, id);
    if (typeof eventId !== 'string') throw fail.field('/eventId', 'must be an event id (evt_…)');
    const [event] = await this.events.byIds(storeId, [eventId]);
    if (!event) {
      throw new ClienteleError('not_found', `No event ${eventId} in this store's feed.`, [
        { path: '/eventId', message: 'is not an event of this store' },
      ]);
    }
    const queued = await deliveries.insertDeliveries(this.db, storeId, id, [
      { id: event.id, customerId: subjectOf(event) },
    ]);
    return { queued };
  }

  /** Delivers again every event since a time that the endpoint subscribes to. */
  async replay(storeId: string, id: string, since: unknown): Promise<{ queued: number }> {
    const endpoint = await this.row(storeId, id);
    const at = typeof since === 'string' ? new Date(since) : new Date(Number.NaN);
    if (typeof since !== 'string' || Number.isNaN(at.getTime())) {
      throw fail.field('/since', 'must be a date-time, such as 2026-12-01T00:00:00Z');
    }
    const days = await this.events.retentionDays(storeId);
    if (at.getTime() < Date.now() - days * 86_400_000) {
      throw fail.field('/since', `is older than the ${days} days this store keeps events`);
    }
    if (at.getTime() > Date.now()) throw fail.field('/since', 'is in the future');
    const types = endpoint.events.includes('*') ? undefined : (endpoint.events as EventType[]);
    const events = await this.events.idsSince(storeId, at, types);
    return { queued: await deliveries.insertDeliveries(this.db, storeId, id, events) };
  }

  private async row(storeId: string, id: string): Promise<repo.EndpointRow> {
    const row = await repo.findEndpoint(this.db, storeId, id);
    if (!row) throw endpointNotFound(id);
    return row;
  }

  /** The input's fields, each checked (all of them when creating); 400 naming each bad one. */
  private async check(input: EndpointInput, creating: boolean) {
    const change: {
      url?: string;
      events?: string[];
      description?: string | null;
      enabled?: boolean;
    } = {};
    const problems: { path: string; message: string }[] = [];
    // Each check's refusals are collected (they name their own paths), so one answer
    // lists every problem of the input.
    const attempt = async (f: () => unknown | Promise<unknown>) => {
      try {
        await f();
      } catch (error) {
        if (error instanceof ClienteleError) problems.push(...error.errors);
        else throw error;
      }
    };
    if (input.url !== undefined || creating) {
      await attempt(async () => {
        const url = checkUrl(input.url, this.options);
        await resolvePublic(url.hostname, this.options);
        change.url = url.toString();
      });
    }
    if (input.events !== undefined || creating) {
      const events = input.events;
      if (!Array.isArray(events) || events.length === 0 || events.length > 50) {
        problems.push({
          path: '/events',
          message: 'must be a list of 1 to 50 event types, or ["*"]',
        });
      } else {
        events.forEach((e, i) => {
          if (typeof e !== 'string' || !subscribable.includes(e)) {
            problems.push({
              path: `/events/${i}`,
              message: `unknown event type; one of ${subscribable.join(', ')}`,
            });
          }
        });
        change.events = [...new Set(events as string[])];
      }
    }
    if (input.description !== undefined) {
      const d = input.description;
      if (d !== null && (typeof d !== 'string' || d.length > 500)) {
        problems.push({
          path: '/description',
          message: 'must be a string of at most 500 characters, or null',
        });
      } else change.description = d;
    }
    if (input.enabled !== undefined) {
      if (typeof input.enabled !== 'boolean')
        problems.push({ path: '/enabled', message: 'must be true or false' });
      else change.enabled = input.enabled;
    }
    if (problems.length > 0) throw fail.validation(problems);
    return change;
  }
}

export function endpointNotFound(id: string): ClienteleError {
  return new ClienteleError('not_found', `No webhook endpoint ${id}.`);
}

import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { DB } from '../db/database.js';
import type { Events } from './events.js';
import { ensurePlaces, movePlace, takePlaces } from './stream.repository.js';

/** The JetStream stream events go to, and what it holds. */
export const STREAM = 'CLIENTELE';
const SUBJECTS = 'clientele.>';
const STORES_AT_ONCE = 20;
const EVENTS_AT_ONCE = 500;

/**
 * Publishes every event to NATS JetStream (CLIENTELE_NATS_URL), at least once: subject
 * `clientele.<storeId>.<type>`, `Nats-Msg-Id` the event id (JetStream drops a
 * duplicate within its window). Every process runs one; a store's events are published
 * by one process at a time (its place locked), from the same feed webhooks read, and
 * its place moves only after JetStream has acknowledged them.
 */
export class EventStream {
  private running = false;
  private loop: Promise<void> | undefined;
  private nc: NatsConnection | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: DB,
    private readonly events: Events,
    private readonly options: {
      url: string;
      idleMs?: number;
      log?: { warn(details: object, message: string): void } | undefined;
    },
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.nc = await connect({ servers: this.options.url, name: 'clientele' });
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.streams.info(STREAM);
    } catch {
      // Kept as long as the feed keeps events by default; an operator may change it.
      await jsm.streams.add({ name: STREAM, subjects: [SUBJECTS], max_age: 30 * 86_400 * 1e9 });
    }
    const js = jetstream(this.nc);
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let busy = false;
        try {
          busy = (await this.publishRound(js)) > 0;
        } catch (error) {
          this.options.log?.warn({ err: error }, 'publishing events to NATS failed; retrying');
        }
        if (!busy && this.running) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.options.idleMs ?? 100);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.nc?.drain();
  }

  /** One round over the stores no other process holds. How many events it published. */
  private async publishRound(js: JetStreamClient): Promise<number> {
    await ensurePlaces(this.db, 'nats');
    return this.db.transaction().execute(async (trx) => {
      let published = 0;
      for (const { storeId, place } of await takePlaces(trx, 'nats', STORES_AT_ONCE)) {
        const { events, last } = await this.events.next(trx, storeId, place, EVENTS_AT_ONCE);
        await Promise.all(
          events.map((event) => {
            const h = headers();
            h.set('Nats-Msg-Id', event.id);
            return js.publish(`clientele.${storeId}.${event.type}`, JSON.stringify(event), {
              msgID: event.id,
              headers: h,
            });
          }),
        );
        await movePlace(trx, 'nats', storeId, last);
        published += events.length;
      }
      return published;
    });
  }
}

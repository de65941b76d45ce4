import type { Event } from '../events/events.js';
import type { OutboundPolicy } from './address.js';
import type { EndpointRow } from './endpoints.repository.js';
import { type PostOutcome, post } from './post.js';
import { type SecretBox, signatureOf } from './secrets.js';

/** What a test ping sends. */
export interface PingEvent {
  id: string;
  type: 'webhook.ping';
  createdAt: string;
  storeId: string;
  data: { endpointId: string };
}

/** Posts events to endpoints, signed as Standard Webhooks sign (docs/webhooks.md). */
export class SignedPost {
  /** Opened signing secrets, by their sealed form (opening one costs more than a send's HMAC). */
  private readonly opened = new Map<string, string>();

  constructor(
    private readonly box: () => SecretBox,
    private readonly policy: OutboundPolicy,
  ) {}

  private open(sealed: string): string {
    let secret = this.opened.get(sealed);
    if (secret === undefined) {
      if (this.opened.size >= 10_000) this.opened.clear();
      secret = this.box().open(sealed);
      this.opened.set(sealed, secret);
    }
    return secret;
  }

  /** Sends one event to an endpoint, signed with its secrets (both, during a rotation). */
  async send(endpoint: EndpointRow, event: Event | PingEvent): Promise<PostOutcome> {
    const secrets = [this.open(endpoint.secret)];
    if (
      endpoint.previous_secret &&
      endpoint.previous_secret_until &&
      endpoint.previous_secret_until.getTime() > Date.now()
    ) {
      secrets.push(this.open(endpoint.previous_secret));
    }
    const body = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000);
    return post(
      new URL(endpoint.url),
      {
        'content-type': 'application/json',
        'user-agent': 'Clientele-Webhooks/1',
        'webhook-id': event.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureOf(secrets, event.id, timestamp, body),
      },
      body,
      this.policy,
    );
  }
}

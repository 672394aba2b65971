import { createHmac, randomBytes } from 'node:crypto';
import type { Json } from './stripe-objects.ts';

/** Where the stand-in delivers its events, and the secret the receiver checks them with. */
export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

/** Stripe tries a failed delivery again for days; locally a few tries within seconds show the same. */
const deliveryDelaysMs = [0, 500, 2_000, 5_000];

/** The `Stripe-Signature` header for a body: `t=<seconds>,v1=<HMAC-SHA256 of "<t>.<body>">`, Stripe's scheme. */
export function stripeSignature(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

let eventSequence = 0;

/**
 * An event as Stripe sends it, for an object that changed. Its id sorts by time and then by
 * order, so events of the same second are applied in the order they happened
 * (the event store orders by `created`, then id); the random tail keeps ids unique across restarts.
 */
export function stripeEvent(type: string, object: Json, request: { id: string; idempotencyKey: string | undefined }): Json {
  return {
    id: `evt_local${Date.now().toString(36).padStart(9, '0')}${String(++eventSequence % 1e6).padStart(6, '0')}${randomBytes(4).toString('hex')}`,
    object: 'event',
    api_version: '2025-08-27.basil',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    type,
    data: { object },
    request: { id: request.id, idempotency_key: request.idempotencyKey ?? null },
  };
}

/**
 * POSTs each event, signed, to the target, one at a time and in order, as Stripe delivers
 * to one endpoint; a refused delivery is tried again a few times, then reported.
 */
export function webhookDeliveries(onError: (error: unknown) => void) {
  let target: WebhookTarget | undefined;
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  const delivered: Json[] = [];

  const deliver = async (event: Json, to: WebhookTarget) => {
    const body = JSON.stringify(event);
    let last = '';
    for (const delay of deliveryDelaysMs) {
      // unref: a delivery waiting to be tried again never holds the process open.
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
      if (closed) return;
      try {
        const response = await fetch(to.url, { method: 'POST', body, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': stripeSignature(body, to.secret), 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' } });
        await response.arrayBuffer();
        if (response.ok) {
          delivered.push(event);
          return;
        }
        last = `${response.status}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
    }
    onError(new Error(`Stripe stand-in: ${String(event.type)} ${String(event.id)} not delivered to ${to.url} (${last})`));
  };

  return {
    /** Events from now on go to this receiver; none are kept for a receiver not yet set. */
    deliverTo(next: WebhookTarget) {
      target = next;
    },
    send(events: readonly Json[]) {
      const to = target;
      if (!to) return;
      for (const event of events) queue = queue.then(() => deliver(event, to));
    },
    /** Drops the deliveries not yet made: the receiver is going away too. */
    close() {
      closed = true;
    },
    /** Every event the receiver accepted, in order. */
    delivered,
    /** Resolves once every delivery under way has ended. */
    settled: () => queue,
  };
}

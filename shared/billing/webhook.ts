import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { newEnvelope, type Envelope } from '../envelope/envelope.ts';
import type { Database } from '../results/database.ts';

export interface WebhookRequest {
  readonly method: string;
  /** The body exactly as received: the signature covers its bytes. */
  readonly body: string;
  readonly signature: string | undefined;
}

export interface WebhookResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface WebhookDependencies {
  readonly database: Database;
  readonly signingSecret: () => Promise<string>;
  /** Sends `billing.process_pending_webhooks` so a new event is applied without waiting for the schedule. */
  readonly enqueue: (envelope: Envelope) => Promise<void>;
  readonly onEnqueueError?: (error: unknown) => void;
}

/** Stripe's default: a signature older than five minutes is a replay. */
const toleranceSeconds = 300;
/** Stripe events are a few KB; anything near SQS's limit is not one. */
const maxBodyBytes = 512 * 1024;

/**
 * Stripe's webhook endpoint: verify the signature with the official SDK, store the
 * event once by its id as pending, and answer at once. A forged, stale or malformed
 * request gets 400 and stores nothing; a redelivered event is acknowledged again.
 */
export async function receiveStripeWebhook(request: WebhookRequest, deps: WebhookDependencies): Promise<WebhookResponse> {
  if (request.method !== 'POST') return { status: 405, body: { error: 'only POST is accepted' } };
  if (!request.signature) return { status: 400, body: { error: 'missing Stripe-Signature header' } };
  if (Buffer.byteLength(request.body) > maxBodyBytes) return { status: 413, body: { error: 'body too large for a Stripe event' } };

  let event: Stripe.Event;
  try {
    event = Stripe.webhooks.constructEvent(request.body, request.signature, await deps.signingSecret(), toleranceSeconds);
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError || error instanceof SyntaxError) {
      return { status: 400, body: { error: `signature verification failed: ${error.message}` } };
    }
    throw error;
  }

  const inserted = await deps.database.rows<{ id: string }>(sql`
    insert into stripe_events (id, type, livemode, payload, stripe_created_at)
    values (${event.id}, ${event.type}, ${event.livemode}, ${JSON.stringify(event)}::jsonb, to_timestamp(${event.created}::bigint))
    on conflict (id) do nothing
    returning id`);
  const duplicate = inserted.length === 0;
  if (!duplicate) {
    // The 5-minute schedule applies the event anyway; the message only makes it sooner.
    await deps.enqueue(newEnvelope('billing.process_pending_webhooks', {}, { id: `stripe-event:${event.id}` })).catch((error: unknown) => deps.onEnqueueError?.(error));
  }
  return { status: 200, body: { received: true, id: event.id, duplicate } };
}

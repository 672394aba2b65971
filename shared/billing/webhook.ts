import Stripe from 'stripe';
import * as z from 'zod';
import { tasks } from '../catalogue/index.ts';
import { ConfigError } from '../config.ts';
import { newEnvelope, type Envelope } from '../envelope/envelope.ts';

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
  readonly signingSecret: () => Promise<string>;
  /** Sends `billing.process_pending_webhooks` carrying the event: the billing queue is where it is kept. */
  readonly enqueue: (envelope: Envelope) => Promise<void>;
  readonly onEnqueueError?: (error: unknown) => void;
}

/** Stripe's default: a signature older than five minutes is a replay. */
const toleranceSeconds = 300;
/** Stripe events are a few KB; anything near SQS's limit is not one. */
const maxBodyBytes = 512 * 1024;

/**
 * Stripe's webhook endpoint: verify the signature with the official SDK and hand the
 * event to the billing queue, which stores it once and applies it. Nothing here waits on
 * the database, so a paused Aurora cluster never makes Stripe's delivery time out. A
 * forged, stale or malformed request gets 400 and is not queued; when the queue cannot
 * take the event the answer is 503, and Stripe delivers it again later. A redelivered
 * event is queued again under the same task id, and the consumer acknowledges it
 * without running it twice.
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
    // No signing secret yet: nothing can be verified, and Stripe delivers again once one is put in.
    if (error instanceof ConfigError) return { status: 503, body: { error: error.message } };
    throw error;
  }

  // The consumer checks the payload again; refusing here keeps a malformed event out of the queue and its DLQ.
  const payload = tasks['billing.process_pending_webhooks'].payload.safeParse({ event });
  if (!payload.success) return { status: 400, body: { error: `not a Stripe event: ${z.prettifyError(payload.error).replaceAll('\n', ' ')}` } };
  const envelope = newEnvelope('billing.process_pending_webhooks', payload.data, { id: `stripe-event:${event.id}` });
  try {
    await deps.enqueue(envelope);
  } catch (error) {
    deps.onEnqueueError?.(error);
    return { status: 503, body: { error: 'the event could not be queued; Stripe will deliver it again' } };
  }
  return { status: 200, body: { received: true, id: event.id } };
}

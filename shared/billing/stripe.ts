import Stripe from 'stripe';
import type { Environment } from '../config.ts';
import { PermanentError, RetryLaterError } from '../errors.ts';
import { readSecret } from '../secrets.ts';

/**
 * The official Stripe client, built once per process. `STRIPE_API_BASE` points it at
 * another server speaking Stripe's API (stripe-mock, a stand-in), as `OPENAI_BASE_URL`
 * does the OpenAI SDK and `AWS_ENDPOINT_URL_*` the AWS SDKs: the stack never sets it, so a
 * deployed function calls api.stripe.com, and only a rehearsal or a local cloud sets it.
 */
export async function createStripe(env: Environment): Promise<Stripe> {
  const key = await readSecret('stripe-api-key', env);
  const base = env.STRIPE_API_BASE ? new URL(env.STRIPE_API_BASE) : undefined;
  return new Stripe(key, {
    maxNetworkRetries: 1,
    timeout: 20_000,
    ...(base ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'https:' ? 'https' : 'http' } : {}),
  });
}

/**
 * Steers a Stripe failure: rate limits, Stripe's own errors and network trouble are
 * retried (with Retry-After when Stripe sends one); a declined card, an invalid request,
 * a permission or idempotency conflict will fail again, so they are permanent.
 */
export function classifyStripeError(error: unknown): Error {
  if (!(error instanceof Stripe.errors.StripeError)) return error instanceof Error ? error : new Error(String(error));
  const message = `Stripe ${error.rawType ?? error.type}${error.code ? ` (${error.code})` : ''}: ${error.message}`;
  if (error instanceof Stripe.errors.StripeRateLimitError) {
    const retryAfter = Number(error.headers?.['retry-after']);
    return Number.isFinite(retryAfter) && retryAfter > 0 ? new RetryLaterError(message, { countdownSeconds: retryAfter, cause: error }) : new Error(message, { cause: error });
  }
  if (error instanceof Stripe.errors.StripeAPIError || error instanceof Stripe.errors.StripeConnectionError || (error.statusCode ?? 0) >= 500) {
    return new Error(message, { cause: error });
  }
  return new PermanentError(message, { cause: error });
}

import { startStripeStandIn } from '../../shared/local/stand-ins/stripe.ts';

/**
 * The local cloud's Stripe stand-in as the tests use it: every request kept, and any
 * well-formed id (`in_42`, `pi_123`) taken as an object that exists, so a test names the
 * ids it needs without creating them; the official SDK runs unchanged against it.
 */
export async function startStripeFixture() {
  return startStripeStandIn({ impliedObjects: true, recordRequests: true });
}

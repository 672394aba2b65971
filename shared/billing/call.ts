import { classifiedCall } from '../services.ts';

/** Runs a Stripe call, its failure classified by shared/billing/stripe.ts (loaded only then). */
export function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  return classifiedCall(call, async () => (await import('./stripe.ts')).classifyStripeError);
}

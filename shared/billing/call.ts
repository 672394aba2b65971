/**
 * Runs a Stripe call and rethrows its failure classified (shared/billing/stripe.ts). The
 * classifier comes with the SDK, which the client has loaded by the time a call fails, so
 * the tasks reach the SDK only through a dynamic import and it stays out of the cold start.
 */
export async function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw (await import('./stripe.ts')).classifyStripeError(error);
  }
}

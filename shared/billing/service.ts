import type Stripe from 'stripe';
import * as z from 'zod';
import { once, readSettings } from '../services.ts';

/** What the `billing` queue's tasks use: the Stripe client. */
export interface BillingServices {
  stripe(): Promise<Stripe>;
}

const settings = z.object({ STRIPE_API_BASE: z.url().optional() });

export function billingServices(env: NodeJS.ProcessEnv): BillingServices {
  readSettings('billing', settings, env);
  // The client waits for its first task: the key is a secret, read when it is needed.
  return { stripe: once(async () => (await import('./stripe.ts')).createStripe(env)) };
}

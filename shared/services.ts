import type Stripe from 'stripe';
import { createStripe } from './billing/stripe.ts';

/** The SaaS clients tasks use, each built on first use and kept for the process. */
export interface TaskServices {
  stripe(): Promise<Stripe>;
}

export function createServices(env: NodeJS.ProcessEnv = process.env): TaskServices {
  let stripe: Promise<Stripe> | undefined;
  return {
    stripe() {
      stripe ??= createStripe(env).catch((error: unknown) => {
        stripe = undefined;
        throw error;
      });
      return stripe;
    },
  };
}

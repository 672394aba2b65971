import { billingConsumer } from '../shared/consumers/billing.ts';

/** Consumer of the `billing` queue, configured from the process environment at cold start. */
export const handler = billingConsumer(process.env);

import { billingServices } from '../billing/service.ts';
import type { Environment } from '../config.ts';
import { createQueueConsumer, type QueueConsumerOverrides } from '../runtime/queue-consumer.ts';
import { billingTasks } from '../tasks/billing.ts';

/** The `billing` queue's consumer, configured from `env`: Stripe's key is read when a task first needs it. */
export function billingConsumer(env: Environment, overrides?: QueueConsumerOverrides) {
  return createQueueConsumer('billing', billingTasks, billingServices, env, overrides);
}

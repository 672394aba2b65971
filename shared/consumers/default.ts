import type { Environment } from '../config.ts';
import { createQueueConsumer, type QueueConsumerOverrides } from '../runtime/queue-consumer.ts';
import { defaultTasks } from '../tasks/default.ts';

/** The `default` queue's consumer, configured from `env`. */
export function defaultConsumer(env: Environment, overrides?: QueueConsumerOverrides) {
  return createQueueConsumer('default', defaultTasks, () => ({}), env, overrides);
}

import type { Environment } from '../config.ts';
import { dataServices } from '../data/service.ts';
import { createQueueConsumer, type QueueConsumerOverrides } from '../runtime/queue-consumer.ts';
import { dataTasks } from '../tasks/data.ts';

/** The `data` queue's consumer, configured from `env`. */
export function dataConsumer(env: Environment, overrides?: QueueConsumerOverrides) {
  return createQueueConsumer('data', dataTasks, dataServices, env, overrides);
}

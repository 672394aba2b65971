import { aiServices } from '../ai/service.ts';
import type { Environment } from '../config.ts';
import { createQueueConsumer, type QueueConsumerOverrides } from '../runtime/queue-consumer.ts';
import { aiTasks } from '../tasks/ai.ts';

/** The `ai` queue's consumer, configured from `env`: OpenAI's key is read when a task first needs it. */
export function aiConsumer(env: Environment, overrides?: QueueConsumerOverrides) {
  return createQueueConsumer('ai', aiTasks, aiServices, env, overrides);
}

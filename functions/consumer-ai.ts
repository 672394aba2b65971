import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';
import { aiServices } from '../shared/ai/service.ts';
import { aiTasks } from '../shared/tasks/ai.ts';

/** Consumer of the `ai` queue. */
export const handler = createQueueConsumer('ai', aiTasks, aiServices);

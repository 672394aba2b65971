import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';

/** Consumer of the `ai` queue. */
export const handler = createQueueConsumer('ai');

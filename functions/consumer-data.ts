import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';

/** Consumer of the `data` queue. */
export const handler = createQueueConsumer('data');

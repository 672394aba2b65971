import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';

/** Consumer of the `default` queue. */
export const handler = createQueueConsumer('default');

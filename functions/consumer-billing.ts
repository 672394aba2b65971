import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';

/** Consumer of the `billing` queue. */
export const handler = createQueueConsumer('billing');

import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';
import { dataTasks } from '../shared/tasks/data.ts';

/** Consumer of the `data` queue. */
export const handler = createQueueConsumer('data', dataTasks);

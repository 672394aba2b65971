import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';
import { defaultTasks } from '../shared/tasks/default.ts';

/** Consumer of the `default` queue. */
export const handler = createQueueConsumer('default', defaultTasks, () => ({}));

import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';
import { dataServices } from '../shared/data/service.ts';
import { dataTasks } from '../shared/tasks/data.ts';

/** Consumer of the `data` queue. */
export const handler = createQueueConsumer('data', dataTasks, dataServices);

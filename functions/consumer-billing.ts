import { createQueueConsumer } from '../shared/runtime/queue-consumer.ts';
import { billingServices } from '../shared/billing/service.ts';
import { billingTasks } from '../shared/tasks/billing.ts';

/** Consumer of the `billing` queue. */
export const handler = createQueueConsumer('billing', billingTasks, billingServices);

import type { TaskImplementation } from '../runtime/task.ts';
import { aiTasks } from './ai.ts';
import { billingTasks } from './billing.ts';
import { dataTasks } from './data.ts';
import { defaultTasks } from './default.ts';

/**
 * Every task's code. Each consumer imports only its own queue's module, so a Lambda
 * bundle carries only the SDKs its tasks use.
 */
export const implementations: readonly TaskImplementation[] = [...defaultTasks, ...aiTasks, ...dataTasks, ...billingTasks];

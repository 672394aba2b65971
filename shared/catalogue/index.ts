import { parseRateLimit, type QueueDefinition, type ScheduleDefinition, type TaskDefinition } from './define.ts';
import { parseDuration } from './policy.ts';
import { deriveQueueSettings, type QueueSettings } from './derive.ts';
import { queues, queueNames, type QueueName } from './queues.ts';
import { schedules } from './schedules.ts';
import { tasks, type TaskName, type TaskPayload } from './tasks.ts';

export type { QueueDefinition, RateLimit, RetryPolicy, ScheduleDefinition, TaskDefinition } from './define.ts';
export { defineQueue, defineTask, parseRateLimit, type ConcurrencyLimit } from './define.ts';
export { effectivePolicy, parseDuration, parseRate, policyChangeErrors, policyRefreshMs, type EffectivePolicy, type PolicyChange, type PolicyOverride } from './policy.ts';
export {
  deadLetterQueueAttributes,
  deriveQueueSettings,
  sourceQueueAttributes,
  sqsLimits,
  type QueueSettings,
} from './derive.ts';
export { queues, queueNames, schedules, tasks, type QueueName, type TaskName, type TaskPayload };
export { laneBatchingWindow, laneConcurrency, laneName, laneNames, laneOf, laneVariable, priorities, type LaneName, type Priority } from './lanes.ts';

const allTasks: readonly TaskDefinition[] = Object.values(tasks);

/** The tasks routed to one queue. */
export function tasksOfQueue(queue: string, from: readonly TaskDefinition[] = allTasks): TaskDefinition[] {
  return from.filter((task) => task.queue === queue);
}

/** A queue's SQS attributes, derived from the catalogue. */
export function settingsOfQueue(queue: QueueName): QueueSettings {
  return deriveQueueSettings(queues[queue], tasksOfQueue(queue));
}

/**
 * Every inconsistency in a catalogue, all at once (empty when it is sound).
 * Checked by the tests and at synth, so a bad entry never reaches a queue.
 */
export function catalogueErrors(
  catalogue: {
    queues: Readonly<Record<string, QueueDefinition>>;
    tasks: Readonly<Record<string, TaskDefinition>>;
    schedules: Readonly<Record<string, ScheduleDefinition>>;
  } = { queues, tasks, schedules },
): string[] {
  const errors: string[] = [];
  const names = new Map<string, string>();
  for (const [key, queue] of Object.entries(catalogue.queues)) {
    if (key !== queue.name) errors.push(`queue ${key}: key and name differ (${queue.name})`);
    for (const field of ['maxConcurrency', 'highPriorityConcurrency'] as const) {
      const value = queue[field];
      if (value !== undefined && !(Number.isInteger(value) && value >= 2 && value <= 1000)) errors.push(`queue ${key}: ${field} must be 2–1000 (event source mapping limits)`);
    }
    if (queue.batchSize < 1 || (queue.batchingWindowSeconds === 0 && queue.batchSize > 10)) {
      errors.push(`queue ${key}: batchSize must be 1–10 without a batching window`);
    }
    if (queue.timeoutSeconds < 1 || queue.timeoutSeconds > 900) {
      errors.push(`queue ${key}: timeoutSeconds must be 1–900 (Lambda's limit)`);
    }
  }
  for (const [key, task] of Object.entries(catalogue.tasks)) {
    if (key !== task.name) errors.push(`task ${key}: key and name differ (${task.name})`);
    const queue = catalogue.queues[task.queue];
    if (!queue) errors.push(`task ${key}: unknown queue ${task.queue}`);
    if (!task.name.startsWith(`${task.queue}.`)) errors.push(`task ${key}: name must start with its queue`);
    for (const name of [task.name, task.alias].filter((n) => n !== undefined)) {
      const owner = names.get(name);
      if (owner) errors.push(`task ${key}: name ${name} already used by ${owner}`);
      names.set(name, key);
    }
    if (task.softTimeLimitSeconds >= task.timeLimitSeconds) {
      errors.push(`task ${key}: soft time limit must be below the hard limit`);
    }
    if (queue && task.timeLimitSeconds > queue.timeoutSeconds) {
      errors.push(`task ${key}: time limit exceeds queue ${queue.name}'s timeout`);
    }
    const { maxRetries, backoffBaseSeconds, backoffMaxSeconds } = task.retry;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) errors.push(`task ${key}: maxRetries must be a whole number ≥ 0`);
    if (backoffBaseSeconds <= 0 || backoffMaxSeconds < backoffBaseSeconds) {
      errors.push(`task ${key}: back-off needs 0 < base ≤ max`);
    }
    if (backoffMaxSeconds > 43_200) errors.push(`task ${key}: backoffMaxSeconds exceeds SQS's 12 h visibility limit`);
    if (task.rateLimit !== undefined && !parseRateLimit(task.rateLimit)) {
      errors.push(`task ${key}: rateLimit must look like "10/s", "60/m" or "100/h"`);
    }
    for (const field of ['unique', 'debounce'] as const) {
      const window = task[field];
      if (window !== undefined && !(parseDuration(window) !== undefined && parseDuration(window)! >= 1 && parseDuration(window)! <= 43_200)) {
        errors.push(`task ${key}: ${field} must be a duration from 1s to 12h, e.g. "30s" or "10m"`);
      }
    }
    if (task.priority !== undefined && task.priority !== 'normal' && task.priority !== 'high') errors.push(`task ${key}: priority must be normal or high`);
    if (task.unique !== undefined && task.debounce !== undefined) errors.push(`task ${key}: unique and debounce cannot both apply`);
    if (task.concurrency && !(Number.isInteger(task.concurrency.limit) && task.concurrency.limit >= 1 && task.concurrency.limit <= 1000)) {
      errors.push(`task ${key}: concurrency.limit must be a whole number from 1 to 1000`);
    }
  }
  for (const [key, schedule] of Object.entries(catalogue.schedules)) {
    const task = catalogue.tasks[schedule.task];
    if (!task) {
      errors.push(`schedule ${key}: unknown task ${schedule.task}`);
      continue;
    }
    const parsed = task.payload.safeParse(schedule.payload);
    if (!parsed.success) errors.push(`schedule ${key}: payload invalid for ${schedule.task}: ${parsed.error.message}`);
    if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)|at\(.+\))$/.test(schedule.expression)) {
      errors.push(`schedule ${key}: expression must be rate(), cron() or at()`);
    }
  }
  return errors;
}

import type { QueueDefinition } from './define.ts';
import { queueNames, type QueueName } from './queues.ts';

/**
 * A category's two lanes: its queue, and a high-priority queue beside it with its own
 * dead-letter queue and event source. Celery on Redis emulates priorities the same way,
 * with a list per priority step that its workers read first.
 */
export type Priority = 'normal' | 'high';
export const priorities: readonly Priority[] = ['normal', 'high'];

/** The queue of one lane: `default` for the normal lane, `default-high` for the high one. */
export type LaneName = QueueName | `${QueueName}-high`;

export function laneName<Queue extends string>(queue: Queue, priority: Priority = 'normal'): Queue | `${Queue}-high` {
  return priority === 'high' ? `${queue}-high` : queue;
}

/** Every lane of every category, each category's normal lane first. */
export const laneNames: readonly LaneName[] = queueNames.flatMap((queue) => priorities.map((priority) => laneName(queue, priority)));

/** The category and priority of a lane's name; undefined for a name that is no lane. */
export function laneOf(name: string): { readonly queue: QueueName; readonly priority: Priority } | undefined {
  const queue = name.endsWith('-high') ? name.slice(0, -'-high'.length) : name;
  if (!(queueNames as readonly string[]).includes(queue)) return undefined;
  return { queue: queue as QueueName, priority: name === queue ? 'normal' : 'high' };
}

/** `QUEUE_URL_DEFAULT`, `DLQ_URL_DEFAULT_HIGH`: the variable that names a lane's URL. */
export function laneVariable(prefix: 'QUEUE_URL' | 'DLQ_URL', lane: string): string {
  return `${prefix}_${lane.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * How long a lane's event source gathers records before invoking: the queue's window for
 * the normal lane, none for the high lane, whose few tasks would otherwise wait it out alone.
 */
export function laneBatchingWindow(queue: QueueDefinition, priority: Priority): number {
  return priority === 'high' ? 0 : queue.batchingWindowSeconds;
}

/**
 * How many invocations a lane's event source may run at once. The high lane gets twice the
 * normal lane's (unless its queue says otherwise), so when both are busy two thirds of the
 * category's consumers work on high-priority tasks, and a high-priority task never waits
 * for the normal backlog's consumers to free up.
 */
export function laneConcurrency(queue: QueueDefinition, priority: Priority): number {
  return priority === 'high' ? (queue.highPriorityConcurrency ?? Math.min(1000, 2 * queue.maxConcurrency)) : queue.maxConcurrency;
}

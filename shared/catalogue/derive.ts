import type { QueueDefinition, TaskDefinition } from './define.ts';

/** SQS limits that shape every queue. */
export const sqsLimits = {
  maxMessageBytes: 1_048_576,
  maxDelaySeconds: 900,
  maxVisibilityTimeoutSeconds: 43_200,
  maxReceiveBatch: 10,
} as const;

/** Lambda's guidance: a visibility timeout of at least six times the function timeout. */
const visibilityPerTimeout = 6;
/** Receives beyond the largest retry budget before SQS itself dead-letters a message. */
const receiveCountMargin = 5;
/**
 * The margin of a queue with a concurrency-limited task: every look at a task waiting for a
 * slot is a receive, at most a minute apart, so it may wait about this many minutes.
 */
export const concurrencyReceiveMargin = 100;

export interface QueueSettings {
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly retentionSeconds: number;
  readonly deadLetterRetentionSeconds: number;
  readonly maximumMessageBytes: number;
}

/**
 * The SQS attributes of a queue, derived from its definition and the tasks it carries.
 * The CDK stack and the local cloud both create queues from this.
 */
export function deriveQueueSettings(
  queue: QueueDefinition,
  queueTasks: readonly TaskDefinition[],
): QueueSettings {
  const largestBudget = Math.max(0, ...queueTasks.map((t) => t.retry.maxRetries + 1));
  return {
    visibilityTimeoutSeconds: Math.min(
      sqsLimits.maxVisibilityTimeoutSeconds,
      queue.timeoutSeconds * visibilityPerTimeout,
    ),
    maxReceiveCount: Math.max(5, largestBudget + (queueTasks.some((t) => t.concurrency) ? concurrencyReceiveMargin : receiveCountMargin)),
    retentionSeconds: 4 * 24 * 3600,
    deadLetterRetentionSeconds: 14 * 24 * 3600,
    maximumMessageBytes: sqsLimits.maxMessageBytes,
  };
}

/** The SQS attribute map `CreateQueue` takes for a source queue. */
export function sourceQueueAttributes(
  settings: QueueSettings,
  deadLetterArn: string,
): Record<string, string> {
  return {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(settings.retentionSeconds),
    MaximumMessageSize: String(settings.maximumMessageBytes),
    SqsManagedSseEnabled: 'true',
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterArn,
      maxReceiveCount: settings.maxReceiveCount,
    }),
  };
}

/** The SQS attribute map `CreateQueue` takes for a dead-letter queue. */
export function deadLetterQueueAttributes(settings: QueueSettings): Record<string, string> {
  return {
    MessageRetentionPeriod: String(settings.deadLetterRetentionSeconds),
    MaximumMessageSize: String(settings.maximumMessageBytes),
    SqsManagedSseEnabled: 'true',
  };
}

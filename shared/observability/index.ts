import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const serviceName = 'datacleanup-tasks';
/** CloudWatch namespace of the task metrics; the dashboard reads the same constant. */
export const metricsNamespace = 'DataCleanupTasks';

/** Names of the EMF metrics every consumer emits, with `task` and `queue` dimensions. */
export const taskMetrics = {
  succeeded: 'TaskSucceeded',
  failed: 'TaskFailed',
  retried: 'TaskRetried',
  rejected: 'TaskRejected',
  duplicate: 'TaskDuplicate',
  /** Revoked before or while running, or expired at pick-up (the seed's `task_revoked` handler). */
  revoked: 'TaskRevoked',
  /** Held back by the task's rate limit, without spending an attempt. */
  throttled: 'TaskThrottled',
  duration: 'TaskDuration',
  attempts: 'TaskAttempts',
} as const;

export { MetricUnit };

export function createLogger(queue: string): Logger {
  return new Logger({ serviceName, persistentKeys: { queue } });
}

export function createMetrics(queue: string): Metrics {
  return new Metrics({ namespace: metricsNamespace, serviceName, defaultDimensions: { queue } });
}

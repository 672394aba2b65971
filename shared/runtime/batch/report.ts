import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit, taskMetrics } from '../../observability/index.ts';
import { redactSecrets } from '../../secrets.ts';
import type { Report } from './outcome.ts';

/**
 * Logs the batch's outcomes and publishes its metrics. Successes share one line per task
 * name (the Lambda context and the name once, then each task's id and run time, and its attempt after the first),
 * so a task that simply works costs tens of bytes of logs instead of a line; retries,
 * failures and the rest keep a line each. One EMF document per task name: counts as sums,
 * durations and attempts as value arrays, so CloudWatch keeps every percentile.
 */
export function report(reports: readonly Report[], logger: Logger, metrics: Metrics): void {
  const succeeded = Map.groupBy(reports.filter(sharesSuccessLine), (r) => r.task);
  for (const [task, successes] of succeeded) {
    logger.info('tasks succeeded', {
      task,
      state: 'SUCCESS',
      // The first attempt goes without saying: only a task that needed more carries its attempt (and, after a redrive, its attempts in all).
      tasks: successes.map(({ fields }) => ({
        taskId: fields.taskId,
        runtimeMs: fields.runtimeMs,
        ...(fields.attempt !== 1 ? { attempt: fields.attempt } : {}),
        ...(fields.attempts !== fields.attempt ? { attempts: fields.attempts } : {}),
      })),
    });
  }
  for (const r of reports) {
    if (sharesSuccessLine(r)) continue;
    // A success quotes no error: only warnings and errors can carry a secret an upstream echoed.
    logger[r.level](r.message, r.level === 'info' ? r.fields : redactedFields(r.fields));
  }
  publishMetrics(reports, metrics);
}

const sharesSuccessLine = (r: Report) => r.metric === taskMetrics.succeeded && r.level === 'info';

function publishMetrics(reports: readonly Report[], metrics: Metrics): void {
  const byTask = Map.groupBy(reports, (r) => r.task);
  // Synchronous from here to publish: concurrent invocations in one process cannot interleave.
  for (const [task, taskReports] of byTask) {
    if (!taskReports.some((r) => r.metric)) continue;
    metrics.addDimensions({ task });
    const counts = Map.groupBy(taskReports.filter((r) => r.metric), (r) => r.metric!);
    for (const [metric, counted] of counts) metrics.addMetric(metric, MetricUnit.Count, counted.length);
    for (const r of taskReports) {
      if (r.runtimeMs !== undefined) metrics.addMetric(taskMetrics.duration, MetricUnit.Milliseconds, r.runtimeMs);
      if (r.attempts !== undefined) metrics.addMetric(taskMetrics.attempts, MetricUnit.Count, r.attempts);
    }
    metrics.publishStoredMetrics();
  }
}

/** A report's fields as logged: errors and tracebacks without any secret value they quote. */
function redactedFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, typeof value === 'string' ? redactSecrets(value) : value]));
}

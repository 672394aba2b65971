import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, MathExpression, Metric, TextWidget, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { TaskDefinition } from '../../shared/catalogue/index.ts';
import { metricsNamespace, serviceName, taskMetrics } from '../../shared/observability/index.ts';
import type { TaskQueue } from './task-queue.ts';

/** Flower's view in CloudWatch: queues, consumers and every task's own metrics. */
export class TasksDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: { stage: string; queues: readonly TaskQueue[]; tasks: readonly TaskDefinition[] }) {
    super(scope, id);
    const period = Duration.minutes(1);
    const rows: IWidget[][] = [[new TextWidget({ markdown: `# DataCleanup Pro tasks · ${props.stage}`, width: 24, height: 1 })]];
    for (const taskQueue of props.queues) {
      const { consumer } = taskQueue;
      const { name } = taskQueue.definition;
      rows.push([
        new GraphWidget({
          title: `${name}: messages, normal and high lane`,
          width: 6,
          left: taskQueue.lanes.flatMap(({ priority, queue, deadLetterQueue }) => {
            const label = (what: string) => (priority === 'high' ? `high: ${what}` : what);
            return [
              queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: label('waiting') }),
              queue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: 'Maximum', label: label('in flight') }),
              deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: label('dead letters') }),
            ];
          }),
          right: taskQueue.lanes.map(({ priority, queue }) => queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum', label: priority === 'high' ? 'high: oldest (s)' : 'oldest (s)' })),
        }),
        new GraphWidget({
          title: `${name}: consumer`,
          width: 6,
          left: [
            consumer.metricInvocations({ period, label: 'invocations' }),
            consumer.metricErrors({ period, label: 'errors' }),
            consumer.metricThrottles({ period, label: 'throttles' }),
          ],
          right: [consumer.metric('ConcurrentExecutions', { period, statistic: 'Maximum', label: 'concurrency' })],
        }),
        new GraphWidget({
          title: `${name}: duration`,
          width: 6,
          left: ['p50', 'p95', 'p99'].map((statistic) => consumer.metricDuration({ period, statistic, label: statistic })),
        }),
        new GraphWidget({
          title: `${name}: task outcomes`,
          width: 6,
          left: ['succeeded', 'failed', 'retried', 'rejected', 'throttled'].map(
            (outcome) => new MathExpression({
              expression: `SUM(SEARCH('{${metricsNamespace},service,queue,task} MetricName="${taskMetrics[outcome as keyof typeof taskMetrics]}" queue="${name}"', 'Sum', 60))`,
              label: outcome,
              period,
            }),
          ),
        }),
      ]);
    }
    const taskWidgets = props.tasks.map((task) => {
      const metric = (metricName: string, statistic: string, label: string) =>
        new Metric({ namespace: metricsNamespace, metricName, dimensionsMap: { service: serviceName, queue: task.queue, task: task.name }, period, statistic, label });
      return new GraphWidget({
        title: task.name,
        width: 8,
        left: [metric(taskMetrics.succeeded, 'Sum', 'succeeded'), metric(taskMetrics.failed, 'Sum', 'failed'), metric(taskMetrics.retried, 'Sum', 'retried'), metric(taskMetrics.throttled, 'Sum', 'throttled')],
        right: ['p50', 'p95', 'p99'].map((statistic) => metric(taskMetrics.duration, statistic, `${statistic} ms`)),
      });
    });
    for (let start = 0; start < taskWidgets.length; start += 3) rows.push(taskWidgets.slice(start, start + 3));
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${props.stage}-datacleanup-tasks`, widgets: rows });
  }
}

/**
 * Cost per million tasks, from what the throughput run counted and timed: the handler's
 * wall time per invocation (billed as Lambda bills it: rounded up to the millisecond, at
 * the catalogue's memory size), the SQS requests of producer and consumer (the event source
 * mapping's receives and deletes are billed to the account as SQS requests), and one Data
 * API request per SQL statement (the consumer opens no transactions, so there are no
 * Begin/Commit calls), and CloudWatch Logs ingestion of what the consumer wrote to stdout
 * (per-task log lines and EMF metrics) plus Lambda's own START/END/REPORT lines. Aurora Serverless v2 bills ACU-hours for as long as the cluster runs,
 * whatever the task count: that is not a per-task cost and is left out.
 */
import { sum, type Figure } from './figures.ts';
import { prices } from './prices.ts';
import type { ThroughputResult } from './throughput.ts';

export interface CostResult {
  readonly basis: string;
  readonly pricesAsOf: string;
  readonly region: string;
  readonly memoryMb: number;
  readonly perMillionTasks: {
    readonly lambdaRequests: number;
    readonly lambdaDuration: number;
    readonly sqs: number;
    readonly dataApi: number;
    readonly logs: number;
    readonly total: number;
    /** Only for tasks a schedule (or a long ETA) sends. */
    readonly schedulerExtra: number;
  };
  readonly counts: { readonly invocations: number; readonly billedMs: number; readonly sqsRequests: number; readonly statements: number; readonly logBytes: number; readonly tasks: number };
}

/** Lambda's START, END and REPORT lines of one invocation in the text log format, about 260 bytes together. */
const lambdaPlatformLogBytes = 260;

export function costOf(run: ThroughputResult): CostResult {
  const { consumer, tasks, settings } = run;
  const perTask = 1_000_000 / tasks;
  const billedMs = sum(consumer.handlerMs.map((ms) => Math.max(1, Math.ceil(ms))));
  const sqsRequests = consumer.requests.billed + run.send.requests.billed;
  const lambdaRequests = (consumer.handlerMs.length * perTask * prices.lambda.perMillionRequests) / 1_000_000;
  const lambdaDuration = (billedMs / 1000) * (settings.memoryMb / 1024) * prices.lambda.perGbSecond * perTask;
  const sqs = (sqsRequests * perTask * prices.sqs.perMillionRequests) / 1_000_000;
  const dataApi = (consumer.statements * perTask * prices.rdsDataApi.perMillionRequests) / 1_000_000;
  const logBytes = consumer.logBytes + consumer.handlerMs.length * lambdaPlatformLogBytes;
  const logs = (logBytes * perTask * prices.cloudWatchLogs.perGbIngested) / 1024 ** 3;
  return {
    basis: `${run.label} run, ${tasks} tasks, batch ${settings.batchSize}`,
    pricesAsOf: prices.asOf,
    region: prices.region,
    memoryMb: settings.memoryMb,
    perMillionTasks: { lambdaRequests, lambdaDuration, sqs, dataApi, logs, total: lambdaRequests + lambdaDuration + sqs + dataApi + logs, schedulerExtra: prices.scheduler.perMillionInvocations },
    counts: { invocations: consumer.handlerMs.length, billedMs, sqsRequests, statements: consumer.statements, logBytes, tasks },
  };
}

export function costFigures(cost: CostResult): Figure[] {
  const part = 'cost';
  const unit = 'USD per 1M tasks';
  const c = cost.perMillionTasks;
  return [
    { part, name: `Lambda requests (${cost.basis})`, value: c.lambdaRequests, unit, digits: 4 },
    { part, name: `Lambda duration, arm64 ${cost.memoryMb} MB, handler time measured here`, value: c.lambdaDuration, unit, digits: 4 },
    { part, name: 'SQS requests, producer + consumer', value: c.sqs, unit, digits: 4 },
    { part, name: 'RDS Data API, one request per statement', value: c.dataApi, unit, digits: 4 },
    { part, name: `CloudWatch Logs ingestion (${Math.round(cost.counts.logBytes / cost.counts.tasks)} bytes a task: log lines, EMF, START/END/REPORT)`, value: c.logs, unit, digits: 4 },
    { part, name: `total (${cost.region} prices of ${cost.pricesAsOf}; Aurora ACU-hours not per task)`, value: c.total, unit, digits: 4 },
    { part, name: 'EventBridge Scheduler, only for tasks a schedule or long ETA sends', value: c.schedulerExtra, unit: 'USD per 1M such tasks', digits: 2 },
  ];
}

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import type { QueueDefinition } from '../catalogue/index.ts';
import { describeError, PermanentError, RetryLaterError } from '../errors.ts';
import { MetricUnit, taskMetrics } from '../observability/index.ts';
import type { Database } from '../results/database.ts';
import { createServices, type TaskServices } from '../services.ts';
import { claimTasks, finishTasks, type ClaimResult, type TaskOutcomeRow } from '../results/statements.ts';
import { outageDelaySeconds, retryDelaySeconds } from './backoff.ts';
import { executeTask } from './execute.ts';
import { parseMessage, type ParsedMessage, type RejectedMessage, type TaskDirectory } from './parse.ts';
import { delayMessages, sendToDeadLetterQueue, type DeadLetter } from './queue-actions.ts';

export interface ConsumerSettings {
  readonly queue: QueueDefinition;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly directory: TaskDirectory;
  readonly sqs: SQSClient;
  /** Opened on first use and kept for the life of the process. */
  readonly database: () => Promise<Database>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Source of jitter. @default Math.random */
  readonly random?: () => number;
  /** The SaaS clients tasks use. @default built from the environment */
  readonly services?: TaskServices;
}

/** What becomes of a message once its batch is recorded. */
type Step =
  | { readonly kind: 'ack' }
  | { readonly kind: 'delay'; readonly seconds: number }
  | { readonly kind: 'dead-letter'; readonly reason: string; readonly taskId: string; readonly attempts: number }
  /** The attempt lost its lease to another: leave the message to that attempt. */
  | { readonly kind: 'leave' };

interface Outcome {
  readonly step: Step;
  /** The row to write; none when nothing about the task changed. */
  readonly row?: TaskOutcomeRow;
  /** What to log and count once the row is recorded. */
  readonly report?: Report;
}

interface Report {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly task: string;
  readonly metric?: (typeof taskMetrics)[keyof typeof taskMetrics];
  readonly runtimeMs?: number;
  readonly attempts?: number;
  readonly fields: Record<string, unknown>;
}

type Plan =
  | RejectedMessage
  | (ParsedMessage & { readonly duplicateInBatch: boolean });

/** Raised per record so the batch processor reports it in `batchItemFailures`. */
class RecordNotDone extends Error {
  override name = 'RecordNotDone';
}

/**
 * One invocation's batch. Each record runs in parallel under the batch processor, but
 * the result store sees two statements for the whole batch: one claim before the tasks
 * run and one write after the last settles. Records meet at that write and each then
 * reports its own fate, so no record can fail its siblings.
 */
export class BatchRun {
  readonly #settings: ConsumerSettings;
  readonly #random: () => number;
  readonly #services: TaskServices;
  /** When the invocation ends. */
  readonly #end: number;
  /** When the tasks must have settled, leaving time to record them before the invocation ends. */
  readonly #deadline: number;
  readonly #plans = new Map<SQSRecord, Plan>();
  readonly #outcomes = new Map<SQSRecord, Outcome>();
  readonly #finished = Promise.withResolvers<Map<SQSRecord, boolean>>();
  #claims: Promise<Map<string, ClaimResult> | Error> | undefined;
  #pending: number;

  constructor(settings: ConsumerSettings, records: readonly SQSRecord[], context: Pick<Context, 'getRemainingTimeInMillis'>) {
    this.#settings = settings;
    this.#random = settings.random ?? Math.random;
    this.#services = settings.services ?? defaultServices();
    const reserveMs = Math.min(5_000, settings.queue.timeoutSeconds * 100);
    this.#end = Date.now() + context.getRemainingTimeInMillis();
    this.#deadline = this.#end - reserveMs;
    this.#pending = records.length;
    const parsed = records.map((record) => [record, parseMessage(record, settings.directory)] as const);
    // One row per id in each statement: later copies of a task are duplicates, and a
    // rejected message whose id another message of the batch uses is recorded under its SQS id.
    const seen = new Set<string>();
    for (const [record, message] of parsed) {
      if (!message.ok) continue;
      this.#plans.set(record, { ...message, duplicateInBatch: seen.has(message.envelope.id) });
      seen.add(message.envelope.id);
    }
    for (const [record, message] of parsed) {
      if (message.ok) continue;
      this.#plans.set(record, { ...message, id: seen.has(message.id) ? record.messageId : message.id });
      seen.add(message.id);
    }
    this.#finished.promise.catch(() => undefined);
  }

  /** The batch processor's record handler: resolves when the record is done, throws when it is not. */
  async handle(record: SQSRecord): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.#decide(record);
    } catch (error) {
      this.#settings.logger.error('record handling failed; the message will be retried', { messageId: record.messageId, error });
      outcome = { step: { kind: 'delay', seconds: this.#outageDelay(record) } };
    }
    this.#outcomes.set(record, outcome);
    if (--this.#pending === 0) this.#finish().then(this.#finished.resolve, this.#finished.reject);
    const done = (await this.#finished.promise).get(record);
    if (!done) throw new RecordNotDone(`message ${record.messageId} stays on the queue`);
  }

  async #decide(record: SQSRecord): Promise<Outcome> {
    const plan = this.#plans.get(record)!;
    const queue = this.#settings.queue.name;
    if (!plan.ok) {
      return {
        step: { kind: 'dead-letter', reason: plan.reason, taskId: plan.id, attempts: 0 },
        row: { id: plan.id, name: plan.task, queue, status: 'FAILURE', error: plan.reason, payload: plan.payload },
        report: { level: 'error', message: 'message rejected', task: plan.task, metric: taskMetrics.rejected, fields: { taskId: plan.id, messageId: record.messageId, reason: plan.reason } },
      };
    }
    const { envelope, implementation, payload } = plan;
    const task = implementation.definition;
    const fields = { taskId: envelope.id, task: task.name, messageId: record.messageId };
    if (plan.duplicateInBatch) {
      return { step: { kind: 'ack' }, report: { level: 'info', message: 'duplicate delivery in one batch acknowledged', task: task.name, metric: taskMetrics.duplicate, fields } };
    }
    const now = Date.now();
    if (envelope.expires && Date.parse(envelope.expires) <= now) {
      return {
        step: { kind: 'ack' },
        row: { id: envelope.id, name: task.name, queue, status: 'REVOKED', error: 'expired', payload: envelope.payload, createdAt: envelope.createdAt },
        report: { level: 'warn', message: 'task revoked: expired', task: task.name, fields: { ...fields, expires: envelope.expires } },
      };
    }
    if (envelope.eta && Date.parse(envelope.eta) > now) {
      return { step: { kind: 'delay', seconds: Math.ceil((Date.parse(envelope.eta) - now) / 1000) } };
    }

    const claims = await (this.#claims ??= this.#claimAll());
    if (claims instanceof Error) return { step: { kind: 'delay', seconds: this.#outageDelay(record) } };
    const claim = claims.get(envelope.id);
    if (!claim || claim.attempts === null || claim.attemptBase === null) {
      if (claim?.priorStatus === 'SUCCESS') {
        return { step: { kind: 'ack' }, report: { level: 'info', message: 'task already succeeded; duplicate delivery acknowledged', task: task.name, metric: taskMetrics.duplicate, fields } };
      }
      if (claim?.priorStatus === 'REVOKED') {
        return { step: { kind: 'ack' }, report: { level: 'warn', message: 'task revoked', task: task.name, fields } };
      }
      // Another consumer holds it; look again once its attempt must have ended.
      return { step: { kind: 'delay', seconds: Math.min(60, this.#settings.queue.timeoutSeconds) } };
    }

    const attempt = claim.attempts - claim.attemptBase;
    const attemptFields = { ...fields, attempt, attempts: claim.attempts };
    const base = { id: envelope.id, name: task.name, queue, fence: claim.attempts };
    const maxAttempts = task.retry.maxRetries + 1;
    if (attempt > maxAttempts) {
      const reason = `WorkerLostError: ${maxAttempts} attempts ended without an outcome (time-outs or crashes)`;
      return this.#failure(base, attemptFields, task.name, reason, undefined, claim.attempts);
    }

    const logger = this.#settings.logger.createChild({ persistentKeys: attemptFields });
    const remaining = this.#deadline - Date.now();
    const execution = await executeTask(
      implementation,
      payload,
      { id: envelope.id, name: task.name, queue, attempt, maxRetries: task.retry.maxRetries, logger, envelope, database: await this.#settings.database(), services: this.#services },
      {
        softLimitMs: Math.min(task.softTimeLimitSeconds * 1000, remaining),
        hardLimitMs: Math.min(task.timeLimitSeconds * 1000, remaining),
      },
    );

    let error: Error;
    if (execution.ok) {
      const result = jsonResult(execution.value);
      if (result.ok) {
        return {
          step: { kind: 'ack' },
          row: { ...base, status: 'SUCCESS', result: result.value, runtimeMs: execution.runtimeMs },
          report: { level: 'info', message: 'task succeeded', task: task.name, metric: taskMetrics.succeeded, runtimeMs: execution.runtimeMs, attempts: claim.attempts, fields: { ...attemptFields, state: 'SUCCESS', runtimeMs: execution.runtimeMs } },
        };
      }
      error = result.error;
    } else {
      error = execution.error;
    }

    const retryable = !(error instanceof PermanentError) && attempt < maxAttempts;
    if (!retryable) {
      const reason = error instanceof PermanentError ? describeError(error) : `retries exhausted after ${attempt} attempts: ${describeError(error)}`;
      return this.#failure({ ...base, runtimeMs: execution.runtimeMs }, attemptFields, task.name, reason, error.stack, claim.attempts);
    }
    const seconds = error instanceof RetryLaterError ? error.countdownSeconds : retryDelaySeconds(task.retry, attempt, this.#random);
    return {
      step: { kind: 'delay', seconds },
      row: { ...base, status: 'RETRY', error: describeError(error), traceback: error.stack ?? '', runtimeMs: execution.runtimeMs },
      report: { level: 'warn', message: 'task failed; retrying', task: task.name, metric: taskMetrics.retried, runtimeMs: execution.runtimeMs, fields: { ...attemptFields, state: 'RETRY', error: describeError(error), retryInSeconds: seconds } },
    };
  }

  #failure(base: Pick<TaskOutcomeRow, 'id' | 'name' | 'queue' | 'fence' | 'runtimeMs'>, fields: Record<string, unknown>, task: string, reason: string, stack: string | undefined, attempts: number): Outcome {
    return {
      step: { kind: 'dead-letter', reason, taskId: base.id, attempts },
      row: { ...base, status: 'FAILURE', error: reason, traceback: stack ?? '' },
      report: { level: 'error', message: 'task failed', task, metric: taskMetrics.failed, attempts, ...(base.runtimeMs !== undefined ? { runtimeMs: base.runtimeMs } : {}), fields: { ...fields, state: 'FAILURE', error: reason, traceback: stack } },
    };
  }

  async #claimAll(): Promise<Map<string, ClaimResult> | Error> {
    const requests = [...this.#plans.values()].flatMap((plan) =>
      plan.ok && !plan.duplicateInBatch
        ? [{ id: plan.envelope.id, name: plan.implementation.definition.name, queue: this.#settings.queue.name, payload: plan.envelope.payload, createdAt: plan.envelope.createdAt }]
        : [],
    );
    try {
      const database = await this.#settings.database();
      const claims = await claimTasks(database, requests, this.#settings.queue.timeoutSeconds);
      return new Map(claims.map((claim) => [claim.id, claim]));
    } catch (error) {
      this.#settings.logger.warn('result store unavailable; backing off without spending attempts', { error });
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Records every outcome in one statement, then dead-letters and delays; returns each record's fate. */
  async #finish(): Promise<Map<SQSRecord, boolean>> {
    const { logger, sqs } = this.#settings;
    const rows = [...this.#outcomes.values()].flatMap((outcome) => (outcome.row ? [outcome.row] : []));
    let recorded = true;
    let superseded = new Set<string>();
    if (rows.length > 0) {
      try {
        superseded = await this.#withRetries(async () => finishTasks(await this.#settings.database(), rows));
      } catch (error) {
        recorded = false;
        logger.error('could not record outcomes; the batch will be retried', { error });
      }
    }

    const done = new Map<SQSRecord, boolean>();
    const letters: DeadLetter[] = [];
    const delays: { record: SQSRecord; seconds: number }[] = [];
    const reports: Report[] = [];
    for (const [record, outcome] of this.#outcomes) {
      let step = outcome.step;
      if (outcome.row && !recorded) step = { kind: 'delay', seconds: this.#outageDelay(record) };
      else if (outcome.row?.fence !== undefined && superseded.has(outcome.row.id)) step = { kind: 'leave' };
      else if (outcome.report) reports.push(outcome.report);
      done.set(record, step.kind === 'ack' || step.kind === 'dead-letter');
      if (step.kind === 'dead-letter') letters.push({ record, reason: step.reason, taskId: step.taskId, attempts: step.attempts });
      if (step.kind === 'delay') delays.push({ record, seconds: step.seconds });
    }

    if (letters.length > 0) {
      const unsent = await sendToDeadLetterQueue(sqs, this.#settings.deadLetterQueueUrl, letters);
      for (const letter of letters) {
        if (unsent.has(letter.record.messageId)) {
          done.set(letter.record, false);
          logger.error('could not send to the dead-letter queue; the message will be retried', { messageId: letter.record.messageId });
        }
      }
    }
    if (delays.length > 0) {
      const problems = await delayMessages(sqs, this.#settings.queueUrl, delays);
      if (problems.length > 0) logger.warn('could not change message visibility; messages return after the visibility timeout', { problems });
    }
    this.#publish(reports);
    return done;
  }

  /** Logs each outcome and emits one EMF document per task. */
  #publish(reports: readonly Report[]): void {
    const { logger, metrics } = this.#settings;
    const byTask = new Map<string, Report[]>();
    for (const report of reports) {
      logger[report.level](report.message, report.fields);
      byTask.set(report.task, [...(byTask.get(report.task) ?? []), report]);
    }
    // Synchronous from here to publish: concurrent invocations in one process cannot interleave.
    for (const [task, taskReports] of byTask) {
      if (!taskReports.some((r) => r.metric)) continue;
      metrics.addDimensions({ task });
      for (const report of taskReports) {
        if (report.metric) metrics.addMetric(report.metric, MetricUnit.Count, 1);
        if (report.runtimeMs !== undefined) metrics.addMetric(taskMetrics.duration, MetricUnit.Milliseconds, report.runtimeMs);
        if (report.attempts !== undefined) metrics.addMetric(taskMetrics.attempts, MetricUnit.Count, report.attempts);
      }
      metrics.publishStoredMetrics();
    }
  }

  /** Retries a write a few times while the invocation has time: a resuming Aurora cluster answers within seconds. */
  async #withRetries<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        const pause = 250 * 4 ** (attempt - 1);
        if (attempt >= 3 || Date.now() + pause >= this.#end - 1_000) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  #outageDelay(record: SQSRecord): number {
    return outageDelaySeconds(Number(record.attributes.ApproximateReceiveCount) || 1, this.#random);
  }
}

let processServices: TaskServices | undefined;

/** One set of clients per process when the settings bring none. */
function defaultServices(): TaskServices {
  return (processServices ??= createServices());
}

function jsonResult(value: unknown): { ok: true; value: unknown } | { ok: false; error: Error } {
  try {
    const text = JSON.stringify(value);
    return { ok: true, value: text === undefined ? null : JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: new PermanentError('the task returned a value that is not JSON', { cause: error }) };
  }
}

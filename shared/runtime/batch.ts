import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { parseRateLimit, type QueueDefinition, type QueueName, type RateLimit } from '../catalogue/index.ts';
import type { Envelope } from '../envelope/envelope.ts';
import { describeError, isPermanentRefusal, TaskRevokedError } from '../errors.ts';
import { MetricUnit, taskMetrics } from '../observability/index.ts';
import type { Database } from '../results/database.ts';
import { redactSecrets } from '../secrets.ts';
import { finishTasks, type TaskOutcomeRow } from '../results/finish.ts';
import { chordCompleted, claimTasks, groupResults, revokedAmong, takeRateTokens, taskResult, type ClaimResult } from '../results/statements.ts';
import { outageDelaySeconds } from './backoff.ts';
import { classify, lostAttempts } from './batch/classify.ts';
import { executeTask } from './execute.ts';
import { planBatch, throttleWaits, type Plan } from './batch/plan.ts';
import type { TaskDirectory } from './parse.ts';
import { delayMessages, sendMessages, sendToDeadLetterQueue, type DeadLetter } from './queue-actions.ts';
import { abandonedByFailure, chordCallback, hasFollowUps, nextInChain, type FollowUp } from './workflow.ts';

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
  /** The queue's own services (its tasks' context), built once from configuration. */
  readonly services: unknown;
  /** Where a workflow's next steps go, by queue; this consumer's own queue is known anyway. */
  readonly queueUrls?: Partial<Record<QueueName, string>>;
  /** How often running tasks are checked for revocation. @default 5000 */
  readonly revocationCheckMs?: number;
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
  /** Workflow tasks that will never run because this one did not succeed. */
  readonly abandoned?: readonly TaskOutcomeRow[];
  /** Messages to send once the row is recorded: a chain's next step, a chord's callback. */
  readonly followUps?: readonly FollowUp[];
  /** A chord member's envelope: the callback is sent if this write completes the chord. */
  readonly chordMember?: Envelope;
  /** The task's own envelope, so a refusal of its outcome can end the workflow steps after it. */
  readonly envelope?: Envelope;
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
  readonly #services: unknown;
  /** When the invocation ends. */
  readonly #end: number;
  /** When the tasks must have settled, leaving time to record them before the invocation ends. */
  readonly #deadline: number;
  readonly #plans: ReadonlyMap<SQSRecord, Plan>;
  readonly #outcomes = new Map<SQSRecord, Outcome>();
  readonly #finished = Promise.withResolvers<Map<SQSRecord, boolean>>();
  #claims: Promise<Claims | Error> | undefined;
  /** Running tasks by id, for revocation; checked while any runs. */
  readonly #running = new Map<string, AbortController>();
  #revocationWatch: NodeJS.Timeout | undefined;
  #pending: number;

  constructor(settings: ConsumerSettings, records: readonly SQSRecord[], context: Pick<Context, 'getRemainingTimeInMillis'>) {
    this.#settings = settings;
    this.#random = settings.random ?? Math.random;
    this.#services = settings.services;
    const reserveMs = Math.min(5_000, settings.queue.timeoutSeconds * 100);
    this.#end = Date.now() + context.getRemainingTimeInMillis();
    this.#deadline = this.#end - reserveMs;
    this.#pending = records.length;
    this.#plans = planBatch(records, settings.directory);
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
    if (plan.timing === 'expired') {
      return {
        step: { kind: 'ack' },
        row: { id: envelope.id, name: task.name, queue, status: 'REVOKED', error: 'expired', payload: envelope.payload, createdAt: inUtc(envelope.createdAt) },
        report: { level: 'warn', message: 'task revoked: expired', task: task.name, metric: taskMetrics.revoked, fields: { ...fields, expires: envelope.expires } },
        abandoned: abandonedByFailure(this.#lookup, envelope, `revoked: expired at ${envelope.expires}`),
      };
    }
    if (plan.timing === 'early') {
      // Beyond SQS's 15-minute delay the message comes back as often as it must (at most 12 h apart).
      return { step: { kind: 'delay', seconds: Math.ceil((Date.parse(envelope.eta!) - Date.now()) / 1000) } };
    }

    const claims = await (this.#claims ??= this.#claimAll());
    if (claims instanceof Error) return { step: { kind: 'delay', seconds: this.#outageDelay(record) } };
    const throttled = claims.throttled.get(record);
    if (throttled !== undefined) {
      return { step: { kind: 'delay', seconds: throttled }, report: { level: 'info', message: 'rate limit reached; the task waits without spending an attempt', task: task.name, metric: taskMetrics.throttled, fields: { ...fields, rateLimit: task.rateLimit, retryInSeconds: throttled } } };
    }
    const claim = claims.byId.get(envelope.id);
    if (!claim || claim.attempts === null || claim.attemptBase === null) {
      if (claim?.priorStatus === 'SUCCESS') {
        return {
          step: { kind: 'ack' },
          report: { level: 'info', message: 'task already succeeded; duplicate delivery acknowledged', task: task.name, metric: taskMetrics.duplicate, fields },
          // A first delivery may have recorded its success and lost its follow-ups; they are idempotent by id, so send again.
          ...(hasFollowUps(envelope) ? await this.#resentFollowUps(envelope) : {}),
        };
      }
      if (claim?.priorStatus === 'REVOKED') {
        return {
          step: { kind: 'ack' },
          report: { level: 'warn', message: 'task revoked', task: task.name, metric: taskMetrics.revoked, fields },
          abandoned: abandonedByFailure(this.#lookup, envelope, 'revoked'),
        };
      }
      // Another consumer holds it; look again once its attempt must have ended.
      return { step: { kind: 'delay', seconds: Math.min(60, this.#settings.queue.timeoutSeconds) } };
    }

    const attempt = claim.attempts - claim.attemptBase;
    const attemptFields = { ...fields, attempt, attempts: claim.attempts };
    const base = { id: envelope.id, name: task.name, queue, fence: claim.attempts };
    const maxAttempts = task.retry.maxRetries + 1;
    const lost = lostAttempts(attempt, maxAttempts);
    if (lost) return this.#failure(base, attemptFields, envelope, task.name, lost, undefined, claim.attempts);

    const parentLogger = this.#settings.logger;
    let logger: Logger | undefined;
    const remaining = this.#deadline - Date.now();
    const revocation = new AbortController();
    this.#running.set(envelope.id, revocation);
    this.#watchRevocations();
    let execution;
    try {
      execution = await executeTask(
        implementation,
        payload,
        {
          id: envelope.id,
          name: task.name,
          queue,
          attempt,
          maxRetries: task.retry.maxRetries,
          // Built on first use: a child logger costs more than a short task, and most tasks never log.
          get logger() {
            return (logger ??= parentLogger.createChild({ persistentKeys: attemptFields }));
          },
          envelope,
          database: await this.#settings.database(),
          services: this.#services,
        },
        {
          softLimitMs: Math.min(task.softTimeLimitSeconds * 1000, remaining),
          hardLimitMs: Math.min(task.timeLimitSeconds * 1000, remaining),
          revocation: revocation.signal,
        },
      );
    } finally {
      this.#running.delete(envelope.id);
    }

    const verdict = classify(execution, { attempt, maxAttempts, retry: task.retry, random: this.#random });
    if (verdict.kind === 'success') return this.#success(base, attemptFields, envelope, task.name, verdict.result, execution.runtimeMs, claim.attempts);
    if (verdict.kind === 'revoked') {
      return {
        step: { kind: 'ack' },
        report: { level: 'warn', message: 'task revoked while running; it stopped at its next check', task: task.name, metric: taskMetrics.revoked, runtimeMs: execution.runtimeMs, fields: { ...attemptFields, state: 'REVOKED' } },
        abandoned: abandonedByFailure(this.#lookup, envelope, 'revoked'),
      };
    }
    if (verdict.kind === 'failure') {
      return this.#failure({ ...base, runtimeMs: execution.runtimeMs }, attemptFields, envelope, task.name, verdict.reason, verdict.stack, claim.attempts);
    }
    const { seconds, error } = verdict;
    return {
      step: { kind: 'delay', seconds },
      envelope,
      row: { ...base, status: 'RETRY', error: describeError(error), traceback: error.stack ?? '', runtimeMs: execution.runtimeMs },
      report: { level: 'warn', message: 'task failed; retrying', task: task.name, metric: taskMetrics.retried, runtimeMs: execution.runtimeMs, fields: { ...attemptFields, state: 'RETRY', error: describeError(error), retryInSeconds: seconds } },
    };
  }

  #success(base: Pick<TaskOutcomeRow, 'id' | 'name' | 'queue' | 'fence'>, fields: Record<string, unknown>, envelope: Envelope, task: string, result: unknown, runtimeMs: number, attempts: number): Outcome {
    const report: Report = { level: 'info', message: 'task succeeded', task, metric: taskMetrics.succeeded, runtimeMs, attempts, fields: { ...fields, state: 'SUCCESS', runtimeMs } };
    const row: TaskOutcomeRow = { ...base, status: 'SUCCESS', result, runtimeMs, ...(envelope.group?.callback ? { chord: { groupId: envelope.group.id, size: envelope.group.size } } : {}) };
    let next: FollowUp | undefined;
    try {
      next = nextInChain(this.#lookup, envelope, result);
    } catch (error) {
      // The task did its work; the chain cannot go on, and its remaining steps say why.
      const reason = `its result cannot start the next step: ${(error as Error).message}`;
      return { step: { kind: 'ack' }, row, report, abandoned: abandonedByFailure(this.#lookup, { ...envelope, group: undefined }, reason) };
    }
    return { step: { kind: 'ack' }, row, report, envelope, ...(next ? { followUps: [next] } : {}), ...(envelope.group?.callback ? { chordMember: envelope } : {}) };
  }

  #failure(base: Pick<TaskOutcomeRow, 'id' | 'name' | 'queue' | 'fence' | 'runtimeMs'>, fields: Record<string, unknown>, envelope: Envelope, task: string, reason: string, stack: string | undefined, attempts: number): Outcome {
    return {
      step: { kind: 'dead-letter', reason, taskId: base.id, attempts },
      row: { ...base, status: 'FAILURE', error: reason, traceback: stack ?? '' },
      report: { level: 'error', message: 'task failed', task, metric: taskMetrics.failed, attempts, ...(base.runtimeMs !== undefined ? { runtimeMs: base.runtimeMs } : {}), fields: { ...fields, state: 'FAILURE', error: reason, traceback: stack } },
      abandoned: abandonedByFailure(this.#lookup, envelope, reason),
    };
  }

  /** The follow-ups of a task that already succeeded, for a duplicate delivery to send again. */
  async #resentFollowUps(envelope: Envelope): Promise<Pick<Outcome, 'followUps'>> {
    const followUps: FollowUp[] = [];
    try {
      const database = await this.#settings.database();
      const prior = await taskResult(database, envelope.id);
      const next = prior && nextInChain(this.#lookup, envelope, prior.result);
      if (next) followUps.push(next);
      if (envelope.group?.callback) {
        if (await chordCompleted(database, envelope.group.id)) {
          const callback = chordCallback(this.#lookup, envelope, (await groupResults(database, envelope.group.id)).map((member) => member.result));
          if (callback) followUps.push(callback);
        }
      }
    } catch (error) {
      this.#settings.logger.warn('could not rebuild the follow-ups of a finished task', { taskId: envelope.id, error });
    }
    return followUps.length > 0 ? { followUps } : {};
  }

  readonly #lookup = (name: string) => this.#settings.directory.definition(name);

  /**
   * Claims the batch's due tasks in one statement. Tasks with a rate limit first take
   * tokens (one more statement, only when the batch has such tasks); those that get none
   * wait, unclaimed, for about when their turn comes.
   */
  async #claimAll(): Promise<Claims | Error> {
    const due = [...this.#plans.entries()].flatMap(([record, plan]) => (plan.ok && !plan.duplicateInBatch && plan.timing === 'due' ? [{ record, plan }] : []));
    try {
      const database = await this.#settings.database();
      const throttled = new Map<SQSRecord, number>();
      const limited = new Map<string, { limit: RateLimit; records: SQSRecord[] }>();
      for (const { record, plan } of due) {
        const definition = plan.implementation.definition;
        const limit = definition.rateLimit ? parseRateLimit(definition.rateLimit) : undefined;
        if (!limit) continue;
        const entry = limited.get(definition.name) ?? { limit, records: [] };
        entry.records.push(record);
        limited.set(definition.name, entry);
      }
      if (limited.size > 0) {
        const granted = await takeRateTokens(
          database,
          [...limited].map(([task, { limit, records }]) => ({ task, wanted: records.length, perSecond: limit.perSecond, burst: limit.burst })),
        );
        for (const [task, { limit, records }] of limited) {
          const waiting = records.slice(granted.get(task) ?? 0);
          throttleWaits(waiting.length, limit.perSecond, this.#random).forEach((seconds, n) => throttled.set(waiting[n]!, seconds));
        }
      }
      const requests = due
        .filter(({ record }) => !throttled.has(record))
        .map(({ plan }) => ({
          id: plan.envelope.id,
          name: plan.implementation.definition.name,
          queue: this.#settings.queue.name,
          payload: plan.envelope.payload,
          createdAt: inUtc(plan.envelope.createdAt),
          ...(plan.envelope.group ? { groupId: plan.envelope.group.id, groupIndex: plan.envelope.group.index } : {}),
        }));
      const claims = await claimTasks(database, requests, this.#settings.queue.timeoutSeconds);
      return { byId: new Map(claims.map((claim) => [claim.id, claim])), throttled };
    } catch (error) {
      this.#settings.logger.warn('result store unavailable; backing off without spending attempts', { error });
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** While tasks run, looks every few seconds for revocations of them (one statement for all). */
  #watchRevocations(): void {
    if (this.#revocationWatch) return;
    const check = async () => {
      const ids = [...this.#running.keys()];
      if (ids.length === 0) {
        clearInterval(this.#revocationWatch);
        this.#revocationWatch = undefined;
        return;
      }
      try {
        for (const id of await revokedAmong(await this.#settings.database(), ids)) {
          this.#running.get(id)?.abort(new TaskRevokedError(`task ${id} was revoked while running`));
        }
      } catch (error) {
        this.#settings.logger.warn('could not check for revocations', { error });
      }
    };
    this.#revocationWatch = setInterval(() => void check(), this.#settings.revocationCheckMs ?? 5_000);
    this.#revocationWatch.unref();
  }

  /** Records every outcome in one statement, then dead-letters and delays; returns each record's fate. */
  async #finish(): Promise<Map<SQSRecord, boolean>> {
    clearInterval(this.#revocationWatch);
    const { logger, sqs } = this.#settings;
    const rows = uniqueRows([...this.#outcomes.values()].flatMap((outcome) => [...(outcome.row ? [outcome.row] : []), ...(outcome.abandoned ?? [])]));
    let recorded = true;
    let superseded: ReadonlyMap<string, string> = new Map();
    let completedChords: ReadonlySet<string> = new Set();
    let refused: ReadonlyMap<string, string> = new Map();
    if (rows.length > 0) {
      try {
        ({ superseded, completedChords, refused } = await finishTasks(await this.#settings.database(), rows, { retry: (write) => this.#withRetries(write) }));
      } catch (error) {
        recorded = false;
        logger.error('could not record outcomes; the batch will be retried', { error });
      }
    }

    const done = new Map<SQSRecord, boolean>();
    const letters: DeadLetter[] = [];
    const delays: { record: SQSRecord; seconds: number }[] = [];
    const reports: Report[] = [];
    const followUps = new Map<SQSRecord, FollowUp[]>();
    for (const [record, outcome] of this.#outcomes) {
      let step = outcome.step;
      const written = (outcome.row || outcome.abandoned?.length) && recorded;
      const refusal = outcome.row ? refused.get(outcome.row.id) : undefined;
      if ((outcome.row || outcome.abandoned?.length) && !recorded) step = { kind: 'delay', seconds: this.#outageDelay(record) };
      else if (outcome.row && refusal !== undefined) {
        // Recorded as the task's failure: what it returned could not be kept, so it ends here and nothing follows.
        step = { kind: 'dead-letter', reason: refusal, taskId: outcome.row.id, attempts: outcome.row.fence ?? 0 };
        reports.push({ level: 'error', message: 'task outcome refused by the result store; recorded as its failure', task: outcome.row.name, metric: taskMetrics.failed, fields: { taskId: outcome.row.id, messageId: record.messageId, state: 'FAILURE', error: refusal } });
      } else if (outcome.row?.fence !== undefined && superseded.has(outcome.row.id)) {
        // Revoked while it ran: the revocation stands. Otherwise another attempt holds the task.
        step = superseded.get(outcome.row.id) === 'REVOKED' ? { kind: 'ack' } : { kind: 'leave' };
      } else {
        if (outcome.report) reports.push(outcome.report);
        if (outcome.followUps?.length && (written || !outcome.row)) followUps.set(record, [...outcome.followUps]);
      }
      done.set(record, step.kind === 'ack' || step.kind === 'dead-letter');
      if (step.kind === 'dead-letter') letters.push({ record, reason: step.reason, taskId: step.taskId, attempts: step.attempts });
      if (step.kind === 'delay') delays.push({ record, seconds: step.seconds });
    }
    if (refused.size > 0) await this.#abandonAfterRefusals(refused);
    if (completedChords.size > 0) {
      for (const record of await this.#addChordCallbacks(completedChords, followUps)) done.set(record, false);
    }
    if (followUps.size > 0) {
      const unsent = await sendMessages(sqs, this.#queueUrls(), [...followUps].flatMap(([record, messages]) => messages.map((message) => ({ key: record, message }))));
      for (const record of unsent) {
        // The success is recorded; the message comes back as a duplicate, which sends again.
        done.set(record, false);
        logger.error('could not send a workflow follow-up; the message will be redelivered to send it again', { messageId: record.messageId });
      }
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

  /**
   * Records the workflow steps that will never run because an outcome before them was
   * refused for good and became its task's failure: their rows say why, as a failing step's do.
   */
  async #abandonAfterRefusals(refused: ReadonlyMap<string, string>): Promise<void> {
    const rows = [...this.#outcomes.values()].flatMap((outcome) => {
      const reason = outcome.row && refused.get(outcome.row.id);
      return reason && outcome.envelope ? abandonedByFailure(this.#lookup, outcome.envelope, reason) : [];
    });
    if (rows.length === 0) return;
    try {
      await finishTasks(await this.#settings.database(), uniqueRows(rows), { retry: (write) => this.#withRetries(write) });
    } catch (error) {
      this.#settings.logger.error('could not record the workflow steps a refused outcome abandons', { error });
    }
  }

  /**
   * Adds the callbacks of the chords this batch completed, built from their members'
   * results. Returns the members whose callback could not be built: counted but not sent,
   * they are redelivered, find the chord complete and send it then.
   */
  async #addChordCallbacks(groupIds: ReadonlySet<string>, followUps: Map<SQSRecord, FollowUp[]>): Promise<SQSRecord[]> {
    const failed: SQSRecord[] = [];
    for (const groupId of groupIds) {
      const [record, outcome] = [...this.#outcomes].find(([, o]) => o.chordMember?.group?.id === groupId) ?? [];
      if (!record || !outcome?.chordMember) continue;
      try {
        const results = await groupResults(await this.#settings.database(), groupId);
        const callback = chordCallback(this.#lookup, outcome.chordMember, results.map((member) => member.result));
        if (callback) followUps.set(record, [...(followUps.get(record) ?? []), callback]);
      } catch (error) {
        this.#settings.logger.error('could not build a chord callback; the member will be redelivered to try again', { groupId, error });
        failed.push(record);
      }
    }
    return failed;
  }

  #queueUrls(): Partial<Record<string, string>> {
    return { ...this.#settings.queueUrls, [this.#settings.queue.name]: this.#settings.queueUrl };
  }

  /** Logs each outcome and emits one EMF document per task. */
  #publish(reports: readonly Report[]): void {
    const { logger, metrics } = this.#settings;
    const byTask = new Map<string, Report[]>();
    for (const report of reports) {
      // A success quotes no error: only warnings and errors can carry a secret an upstream echoed.
      logger[report.level](report.message, report.level === 'info' ? report.fields : redactedFields(report.fields));
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
        if (attempt >= 3 || isPermanentRefusal(error) || Date.now() + pause >= this.#end - 1_000) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  #outageDelay(record: SQSRecord): number {
    return outageDelaySeconds(Number(record.attributes.ApproximateReceiveCount) || 1, this.#random);
  }
}

interface Claims {
  readonly byId: ReadonlyMap<string, ClaimResult>;
  /** Records held back by a rate limit, with how long each waits. */
  readonly throttled: ReadonlyMap<SQSRecord, number>;
}

/** One row per id: a task's own outcome wins over a row abandoning it on another's behalf. */
function uniqueRows(rows: readonly TaskOutcomeRow[]): TaskOutcomeRow[] {
  const byId = new Map<string, TaskOutcomeRow>();
  for (const row of rows) {
    const kept = byId.get(row.id);
    if (!kept || (kept.fence === undefined && row.fence !== undefined)) byId.set(row.id, row);
  }
  return [...byId.values()];
}

/** A report's fields as logged: errors and tracebacks without any secret value they quote. */
function redactedFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, typeof value === 'string' ? redactSecrets(value) : value]));
}

/** A time as PostgreSQL takes it: ISO 8601 allows offsets up to ±23:59, PostgreSQL only to ±15:59. */
function inUtc(time: string): string {
  return new Date(time).toISOString();
}

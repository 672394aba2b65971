import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { queues as queueDefinitions, schedules, type LaneName, type Priority, type QueueName, type ScheduleDefinition } from '../catalogue/index.ts';
import { messageGroup } from '../envelope/tenant.ts';
import type { LongDelayScheduler } from '../producer/long-delay.ts';
import { TaskProducer } from '../producer/producer.ts';
import { resolveTask, type SendOptions } from '../producer/send.ts';
import { countPerAction } from '../results/bulk.ts';
import type { Database } from '../results/database.ts';
import { clipBytes } from '../results/overflow.ts';
import { findTask, listTasks, taskStats, type HistoryFilter, type TaskDetail, type TaskStats, type TaskSummary } from '../results/queries.ts';
import type { TaskStatus } from '../results/schema.ts';
import { storableText } from '../results/statements.ts';
import { scheduledEnvelope, schedulerTime, scheduleTimes } from '../scheduling.ts';
import type { PolicyChange } from '../catalogue/index.ts';
import { retryMessage, runBulk, type BulkAction, type BulkOptions, type BulkOutcome } from './bulk.ts';
import { changePolicy, purgeQueue, resetPolicy } from './control.ts';
import { listDeadLetters, purgeDeadLetters, redriveDeadLetters, type DeadLetterView, type Progress, type RedriveOutcome } from './dead-letters.ts';
import type { EventSources, EventSourceView } from './event-sources.ts';
import { inspectActive, inspectRegistered, inspectReserved, inspectScheduled, inspectStats, type InspectSources } from './inspect.ts';
import { prometheusText } from './metrics.ts';
import type { QueuePeek } from './peek.ts';
import { lanesOf, laneUrlsOf, queueDepths, type LaneEndpoints, type QueueDepth, type QueueEndpoints } from './queues.ts';

export { BulkFilterError, bulkStatuses } from './bulk.ts';
export { FilterError, filterFields, hasFilter, parseFilter, type FilterField } from './filter.ts';
export type { BulkAction, BulkExample, BulkOptions, BulkOutcome } from './bulk.ts';
export type { DeadLetterView, Progress, RedriveOutcome, Unmoved } from './dead-letters.ts';
export type { EventSources, EventSourceView } from './event-sources.ts';
export type { ActiveTask, QueueStats, RegisteredTask, ReservedView, ScheduledView } from './inspect.ts';
export type { PeekedMessage, QueuePeek } from './peek.ts';
export type { LaneEndpoints, QueueDepth, QueueEndpoints } from './queues.ts';
export { lanesOf, laneUrlsOf } from './queues.ts';
export { PolicyChangeError } from './control.ts';

export interface ScheduleView {
  readonly name: string;
  readonly description: string;
  readonly expression: string;
  readonly task: string;
  readonly nextRuns: readonly string[];
}

const finalStatuses = new Set<TaskStatus>(['SUCCESS', 'FAILURE', 'REVOKED']);

/** A dead letter, with the lane whose dead-letter queue holds it. */
export type LaneDeadLetter = DeadLetterView & { readonly lane: LaneName };

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/**
 * What the CLI and the dashboard do, on SQS and the result store: the local cloud runs
 * it behind its HTTP API, and `taskq --stage` runs it directly against AWS.
 */
export class TaskOperations {
  readonly #sqs: SQSClient;
  readonly #database: Database;
  readonly #queues: Readonly<Partial<Record<QueueName, QueueEndpoints>>>;
  readonly #oldestAge: ((lane: LaneName) => Promise<number | null>) | undefined;
  readonly #scheduleAnchor: Date;
  readonly #clock: () => Date;
  readonly #producer: TaskProducer;
  readonly #inspected: InspectSources;
  readonly #eventSources: EventSources | undefined;
  readonly #queueUrls: Partial<Record<LaneName, string>>;
  #bulkRuns: Promise<unknown> = Promise.resolve();

  constructor(options: {
    sqs: SQSClient;
    database: Database;
    queues: Readonly<Partial<Record<QueueName, QueueEndpoints>>>;
    oldestAge?: (lane: LaneName) => Promise<number | null>;
    /** When rate() schedules started counting. @default now */
    scheduleAnchor?: Date;
    /** The schedules' clock (compressed in tests). @default the real one */
    clock?: () => Date;
    /** One-time schedules for ETAs beyond 15 minutes (`longDelaysFromConfig`), or null: the consumers then re-delay such messages. */
    longDelays: LongDelayScheduler | null;
    /** Each queue's messages one by one, where the endpoint can show them (the local cloud's emulator); AWS cannot. */
    peek?: QueuePeek;
    /** The consumers' triggers, for pause and resume (Lambda's event source mappings, or the local pollers). */
    eventSources?: EventSources;
  }) {
    this.#sqs = options.sqs;
    this.#database = options.database;
    this.#queues = options.queues;
    this.#oldestAge = options.oldestAge;
    this.#scheduleAnchor = options.scheduleAnchor ?? new Date();
    this.#clock = options.clock ?? (() => new Date());
    this.#queueUrls = laneUrlsOf(this.#queues);
    const { longDelays } = options;
    this.#producer = new TaskProducer({ sqs: this.#sqs, queueUrls: this.#queueUrls, database: this.#database, longDelays, ...(this.#database.payloads ? { payloads: this.#database.payloads } : {}) });
    this.#eventSources = options.eventSources;
    this.#inspected = { sqs: this.#sqs, database: this.#database, queues: this.#queues, longDelays, peek: options.peek, eventSources: options.eventSources, oldestAge: options.oldestAge };
  }

  async send(task: string, payload: unknown, options: SendOptions = {}): Promise<{ id: string; queue: QueueName; lane: LaneName; eta: string | null }> {
    const message = await this.#producer.sendMessage(task, payload, options);
    // A unique task's second send in its window is the first task.
    return { id: message.foldedInto ?? message.envelope.id, queue: message.queue, lane: message.lane, eta: message.envelope.eta ?? null };
  }

  result(id: string): Promise<TaskDetail | undefined> {
    return findTask(this.#database, id);
  }

  /** The task once it has finished (SUCCESS, FAILURE or REVOKED), or as it is when `timeoutMs` runs out. */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<TaskDetail | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const task = await this.result(id);
      // A caller that went away (a closed connection) stops the polling with it.
      if ((task && finalStatuses.has(task.status)) || Date.now() >= end || signal?.aborted) return task;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async revoke(id: string, reason = 'revoked'): Promise<{ id: string; status: TaskStatus }> {
    return { id, status: await this.#producer.revoke(id, clipReason(reason)) };
  }

  /** Sends a failed or revoked task again under its id; the result store gives it a fresh retry budget. */
  async retry(id: string): Promise<{ id: string; queue: QueueName }> {
    const task = await this.result(id);
    if (!task) throw new NotFoundError(`no task ${id}`);
    if (task.status !== 'FAILURE') throw new Error(`only a FAILURE can be retried; ${id} is ${task.status}`);
    let message: ReturnType<typeof retryMessage>;
    try {
      message = retryMessage(task);
    } catch (error) {
      throw new Error(`${id}: ${(error as Error).message}`, { cause: error });
    }
    const { queue, priority, envelope, body } = message;
    await this.#sqs.send(new SendMessageCommand({ QueueUrl: this.#lane(queue, priority).url, MessageBody: body, ...messageGroup(envelope) }));
    return { id, queue };
  }

  queues(): Promise<QueueDepth[]> {
    return queueDepths(this.#sqs, this.#queues, this.#oldestAge);
  }

  /** The dead letters of both lanes of a queue, the normal lane's first. */
  async deadLetters(queue: QueueName, limit = 100): Promise<LaneDeadLetter[]> {
    const letters: LaneDeadLetter[] = [];
    for (const { lane, endpoints } of lanesOf(queue, this.#endpoints(queue))) {
      if (letters.length >= limit) break;
      letters.push(...(await listDeadLetters(this.#sqs, endpoints.deadLetterUrl, limit - letters.length)).map((letter) => ({ ...letter, lane })));
    }
    return letters;
  }

  /** Moves dead letters back, each lane's to its own queue, so a high-priority task stays high. */
  async redrive(queue: QueueName, options: { taskIds?: readonly string[]; onProgress?: Progress } = {}): Promise<RedriveOutcome> {
    const outcomes: RedriveOutcome[] = [];
    for (const { endpoints } of lanesOf(queue, this.#endpoints(queue))) {
      const before = outcomes.reduce((moved, outcome) => moved + outcome.moved, 0);
      const onProgress = options.onProgress;
      outcomes.push(await redriveDeadLetters(this.#sqs, {
        deadLetterUrl: endpoints.deadLetterUrl, queueUrl: endpoints.url,
        ...(options.taskIds ? { taskIds: options.taskIds } : {}),
        ...(onProgress ? { onProgress: (done: number, total: number | undefined) => onProgress(before + done, total === undefined ? undefined : before + total) } : {}),
      }));
    }
    return {
      moved: outcomes.reduce((moved, outcome) => moved + outcome.moved, 0),
      method: outcomes.some((outcome) => outcome.method === 'receive-send-delete') ? 'receive-send-delete' : 'message-move-task',
      unmoved: outcomes.flatMap((outcome) => outcome.unmoved),
    };
  }

  async purge(queue: QueueName): Promise<{ purged: number }> {
    let purged = 0;
    for (const { endpoints } of lanesOf(queue, this.#endpoints(queue))) purged += await purgeDeadLetters(this.#sqs, endpoints.deadLetterUrl);
    return { purged };
  }

  history(filter: HistoryFilter = {}): Promise<TaskSummary[]> {
    return listTasks(this.#database, filter);
  }

  /**
   * Retries every FAILURE, revokes every unfinished task, or purges the records of every
   * finished task the filter matches, page by page; `dryRun` counts them first.
   */
  bulk(action: BulkAction, filter: HistoryFilter, options: BulkOptions = {}): Promise<BulkOutcome> {
    const run = () => runBulk({ sqs: this.#sqs, database: this.#database, queueUrls: this.#queueUrls }, action, filter, { ...options, ...(options.reason !== undefined ? { reason: clipReason(options.reason) } : {}) });
    if (options.dryRun) return run();
    // One run at a time: a run whose caller went away finishes the page under way before the
    // next begins, so a run started again at once never sends a page the other has not marked yet.
    const queued = this.#bulkRuns.then(run);
    this.#bulkRuns = queued.catch(() => undefined);
    return queued;
  }

  /** How many tasks each bulk action would take under the filter. */
  bulkCounts(filter: HistoryFilter): Promise<Record<BulkAction, number>> {
    return countPerAction(this.#database, filter);
  }

  stats(minutes = 60): Promise<TaskStats> {
    return taskStats(this.#database, minutes);
  }

  /** Tasks running now, with the invocation holding each and its lease. */
  active(limit = 500) {
    return inspectActive(this.#inspected, limit);
  }

  /** Tasks due later: countdowns, ETAs, one-time schedules, retries waiting out their back-off. */
  scheduled(limit = 500) {
    return inspectScheduled(this.#inspected, limit);
  }

  /** Messages received and not started, per queue. */
  reserved(limit = 500) {
    return inspectReserved(this.#inspected, limit);
  }

  /** The catalogue with each task's policies, run-time changes included. */
  registered() {
    return inspectRegistered(this.#database);
  }

  /** Everything above that a Prometheus server scrapes, in its text format (`/metrics`). */
  metrics(): Promise<string> {
    return prometheusText(this.#inspected);
  }

  /** Per queue: outcomes and latency over `minutes`, concurrency, depths, the consumer's state. */
  queueStats(minutes = 60) {
    return inspectStats(this.#inspected, minutes);
  }

  changePolicy(task: string, change: PolicyChange) {
    return changePolicy(this.#database, task, change);
  }

  resetPolicy(task: string) {
    return resetPolicy(this.#database, task);
  }

  /** Pauses (`enabled` false) or resumes a queue's consumer. */
  async setConsumer(queue: QueueName, enabled: boolean): Promise<EventSourceView> {
    this.#endpoints(queue);
    if (!this.#eventSources) throw new Error('the consumers cannot be paused from here');
    return this.#eventSources.setEnabled(queue, enabled);
  }

  /** Deletes every message of a task queue, both lanes; its dead letters stay (`dlq purge` deletes those). */
  async purgeQueue(queue: QueueName): Promise<{ purged: number }> {
    let purged = 0;
    for (const { endpoints } of lanesOf(queue, this.#endpoints(queue))) purged += (await purgeQueue(this.#sqs, endpoints.url)).purged;
    return { purged };
  }

  schedules(count = 3, now = this.#clock()): ScheduleView[] {
    return Object.values(schedules).map((schedule: ScheduleDefinition) => ({
      name: schedule.name,
      description: schedule.description,
      expression: schedule.expression,
      task: schedule.task,
      nextRuns: scheduleTimes(schedule.expression, this.#scheduleAnchor).next(now, count).map((time) => time.toISOString()),
    }));
  }

  /** Fires a schedule now, as Scheduler would at this minute. */
  async runSchedule(name: string, now = this.#clock()): Promise<{ id: string }> {
    const schedule = Object.hasOwn(schedules, name) ? (schedules as Record<string, ScheduleDefinition>)[name] : undefined;
    if (!schedule) throw new NotFoundError(`no schedule ${name}; the schedules are ${Object.keys(schedules).join(', ')}`);
    const envelope = scheduledEnvelope(schedule, schedulerTime(now));
    const task = resolveTask(schedule.task);
    await this.#sqs.send(new SendMessageCommand({ QueueUrl: this.#lane(task.queue as QueueName, task.priority).url, MessageBody: JSON.stringify(envelope) }));
    return { id: envelope.id };
  }

  #endpoints(queue: QueueName): QueueEndpoints {
    if (!(queue in queueDefinitions)) throw new NotFoundError(`no queue ${queue}; the queues are ${Object.keys(queueDefinitions).join(', ')}`);
    const endpoints = this.#queues[queue];
    if (!endpoints) throw new NotFoundError(`queue ${queue} is not reachable here`);
    return endpoints;
  }

  /** A lane's endpoints; the high lane's where it is reachable, else the queue's own. */
  #lane(queue: QueueName, priority: Priority = 'normal'): LaneEndpoints {
    const endpoints = this.#endpoints(queue);
    if (priority !== 'high') return endpoints;
    if (!endpoints.highPriority) throw new NotFoundError(`the high-priority lane of ${queue} is not reachable here`);
    return endpoints.highPriority;
  }
}


/** A revoke reason as stored: free text from a person or a page, bounded like every error. */
function clipReason(reason: string): string {
  return clipBytes(storableText(reason), 1000);
}

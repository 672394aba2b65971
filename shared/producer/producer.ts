import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { laneVariable, type LaneName, type TaskDefinition, type TaskName, type TaskPayload } from '../catalogue/index.ts';
import { dedupeKeyOf, keyRule } from '../envelope/dedupe-key.ts';
import { isGroupStep, starts, tasksOf, type Flow } from '../envelope/flow.ts';
import { messageGroup } from '../envelope/tenant.ts';
import type { Database } from '../results/database.ts';
import type { PayloadStore } from '../results/payloads.ts';
import { findTask, revokeTask } from '../results/queries.ts';
import { latestDebounced, takeUniqueKey } from '../results/task-keys.ts';

import { chunkBySize } from '../runtime/queue-actions.ts';
import { maxScheduledMessageCharacters, type LongDelayScheduler } from './long-delay.ts';
import { AsyncResult, GroupResult, type ResultSource } from './results.ts';
import { buildTaskMessage, resolveTask, type SendOptions, type TaskMessage } from './send.ts';
import { flowOf, lastTask, type EndOf, type Group, type Workflow } from './workflow.ts';

/** A workflow's handle: its last task's result, or its group's when it ends with one. */
export type WorkflowResult<W extends Workflow> = EndOf<W> extends 'task' ? AsyncResult : EndOf<W> extends 'group' ? GroupResult : AsyncResult | GroupResult;

export interface ProducerSettings {
  readonly sqs: SQSClient;
  /** By lane: `default` and, for sends with `priority: 'high'`, `default-high`. */
  readonly queueUrls: Partial<Record<LaneName, string>>;
  /** The result store, for `AsyncResult.get()`, `status()` and `revoke()`; sending works without it. */
  readonly database?: Database | (() => Promise<Database>);
  /**
   * One-time schedules for ETAs beyond 15 minutes (`longDelaysFromConfig`), or null: then
   * the consumer re-delays such a message until its ETA. Required, so no producer loses its
   * schedules by leaving a setting out.
   */
  readonly longDelays: LongDelayScheduler | null;
  /** Tasks outside the catalogue (tests, plug-ins). */
  readonly extraTasks?: readonly TaskDefinition[];
  /**
   * The files bucket's payload objects (`s3PayloadStore({ bucket })`): a payload over 256 KiB is
   * put there and the message carries its reference. Without it such a payload travels in
   * the message, up to SQS's 1 MiB.
   */
  readonly payloads?: PayloadStore;
}

export interface BatchItem {
  readonly task: string;
  readonly payload: unknown;
  readonly options?: SendOptions;
}

export class SendFailedError extends Error {
  override name = 'SendFailedError';
}

/**
 * The producer SDK: what a service uses to enqueue tasks, type-checked against the
 * catalogue, with Celery's options and canvas. Everything it sends is a plain SQS message
 * in the published envelope, which any other producer may send by hand.
 */
export class TaskProducer {
  readonly #settings: ProducerSettings;
  readonly #extra: ReadonlyMap<string, TaskDefinition>;
  readonly #source: ResultSource;

  constructor(settings: ProducerSettings) {
    this.#settings = settings;
    this.#extra = new Map((settings.extraTasks ?? []).flatMap((task) => [[task.name, task], ...(task.alias ? [[task.alias, task] as const] : [])]));
    this.#source = {
      find: async (id) => findTask(await this.#database(), id),
      revoke: (id, reason) => this.revoke(id, reason),
    };
  }

  /** Sends one task (Celery's `apply_async`); the payload's type is the task's schema. */
  send<Name extends TaskName>(task: Name, payload: TaskPayload<Name>, options: SendOptions = {}): Promise<AsyncResult> {
    return this.sendByName(task, payload, options);
  }

  /** `send` for a task named at run time; the payload is checked against the schema all the same. */
  async sendByName(task: string, payload: unknown, options: SendOptions = {}): Promise<AsyncResult> {
    const message = await this.sendMessage(task, payload, options);
    return this.result(message.foldedInto ?? message.envelope.id);
  }

  /** Sends and returns the message as sent: its queue, envelope and delay. */
  async sendMessage(task: string, payload: unknown, options: SendOptions = {}): Promise<TaskMessage> {
    const [message] = await this.#dispatch([buildTaskMessage(task, payload, options, new Date(), this.#resolve, {}, this.#byReference)]);
    return message!;
  }

  /** Sends many tasks with SendMessageBatch: 10 a call within SQS's size limit, grouped by lane. */
  async sendBatch(items: readonly BatchItem[]): Promise<AsyncResult[]> {
    const now = new Date();
    const messages = await this.#dispatch(items.map((item) => buildTaskMessage(item.task, item.payload, item.options ?? {}, now, this.#resolve, {}, this.#byReference)));
    return messages.map((message) => this.result(message.foldedInto ?? message.envelope.id));
  }

  /**
   * Starts a chain, group or chord, nested as deep as Celery's: every task it starts now is
   * checked and sent, and every later one is resolved now, so an unknown task fails here.
   * The handle is the last task's result, or the group's when the workflow ends with one.
   */
  async apply<W extends Workflow>(workflow: W, options: SendOptions = {}): Promise<WorkflowResult<W>> {
    if (options.linkError) throw new Error('a workflow takes its error callbacks from linkError(workflow, errback), which puts them where Celery would');
    const now = new Date();
    const steps = flowOf(workflow);
    for (const task of tasksOf(steps)) this.#resolve(task.task);
    const messages = starts(steps).map(({ signature, chain, group }) =>
      buildTaskMessage(signature.task, signature.payload, { ...options, id: signature.id }, now, this.#resolve, {
        ...(chain ? { chain: [...chain] } : {}),
        ...(group ? { group } : {}),
        ...(signature.linkError ? { linkError: signature.linkError } : {}),
      }, this.#byReference),
    );
    await this.#dispatch(messages);
    const last = steps.at(-1)!;
    return (isGroupStep(last) ? this.#groupHandle(last.group, last.members) : this.result(last.id)) as WorkflowResult<W>;
  }

  /** A handle on any task by id. */
  result(id: string): AsyncResult {
    return new AsyncResult(id, this.#source);
  }

  /** A handle on a group sent earlier, from its id and member ids. */
  groupResult(group: Group): GroupResult {
    return this.#groupHandle(group.id, group.members);
  }

  #groupHandle(id: string, members: readonly Flow[]): GroupResult {
    return new GroupResult(id, members.map((member) => this.result(lastTask(member)!.id)));
  }

  /**
   * Revokes a task: not yet picked up, it never runs; running, its signal fires at the
   * next check; waiting on a long ETA, its schedule is deleted too.
   */
  async revoke(id: string, reason = 'revoked') {
    await this.#settings.longDelays?.cancel(id);
    return revokeTask(await this.#database(), id, reason);
  }

  /**
   * Sends messages: ETAs past 15 minutes through the scheduler when there is one, the rest in
   * SQS batches. A unique task whose key another send holds is not sent: it comes back
   * folded into that task (with a result store; without one the consumer folds it).
   */
  async #dispatch(built: readonly TaskMessage[]): Promise<TaskMessage[]> {
    const all = await Promise.all(built.map((message) => this.#folded(message)));
    const messages = all.filter((message) => !message.foldedInto);
    // Payloads first: no message is sent whose payload is not in the bucket.
    await Promise.all(messages.flatMap((message) => (message.largePayload ? [this.#settings.payloads!.put(message.largePayload.ref, message.largePayload.text)] : [])));
    const direct: TaskMessage[] = [];
    for (const message of messages) {
      const schedulable = message.waitSeconds > 900 && message.body.length <= maxScheduledMessageCharacters;
      if (schedulable && this.#settings.longDelays) await this.#settings.longDelays.schedule(message);
      else direct.push(message);
    }
    if (direct.length === 1) {
      const [message] = direct as [TaskMessage];
      await this.#settings.sqs.send(new SendMessageCommand({ QueueUrl: this.#queueUrl(message.lane), MessageBody: message.body, DelaySeconds: message.delaySeconds, ...messageGroup(message.envelope) }));
      return all;
    }
    for (const [lane, batch] of Map.groupBy(direct, (message) => message.lane)) {
      const entries = batch.map((message, index) => ({ Id: `m${index}`, MessageBody: message.body, DelaySeconds: message.delaySeconds, ...messageGroup(message.envelope) }));
      for (const chunk of chunkBySize(entries)) {
        const response = await this.#settings.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.#queueUrl(lane), Entries: chunk }));
        if (response.Failed?.length) {
          const failures = response.Failed.map((failure) => `${batch[Number(failure.Id?.slice(1))]?.envelope.id}: ${failure.Code} ${failure.Message ?? ''}`.trim());
          throw new SendFailedError(`${failures.length} of ${chunk.length} messages were not sent: ${failures.join('; ')}`);
        }
      }
    }
    return all;
  }

  /**
   * With a result store, a unique task's message, or the same message folded into the task
   * that holds its key; a debounced task's send recorded as its key's latest, so the
   * earlier sends find, when they arrive, that they were superseded.
   */
  async #folded(message: TaskMessage): Promise<TaskMessage> {
    const definition = this.#resolve(message.envelope.task);
    const rule = keyRule(definition);
    if (!rule || !this.#settings.database) return message;
    const { envelope } = message;
    const payload = envelope.payloadRef ? (JSON.parse(message.largePayload!.text) as Record<string, unknown>) : envelope.payload;
    const key = dedupeKeyOf(definition.name, payload, definition.dedupeKey, envelope.dedupeKey);
    const database = await this.#database();
    if (rule.mode === 'debounce') {
      await latestDebounced(database, key, envelope.id, envelope.createdAt, rule.seconds);
      return message;
    }
    const holder = await takeUniqueKey(database, key, envelope.id, rule.seconds);
    return holder === envelope.id ? message : { ...message, foldedInto: holder };
  }

  #queueUrl(lane: LaneName): string {
    const url = this.#settings.queueUrls[lane];
    if (!url) throw new Error(`no URL known for queue ${lane} (set ${laneVariable('QUEUE_URL', lane)})`);
    return url;
  }

  readonly #resolve = (name: string): TaskDefinition => this.#extra.get(name) ?? resolveTask(name);

  get #byReference(): boolean {
    return this.#settings.payloads !== undefined;
  }

  async #database(): Promise<Database> {
    const { database } = this.#settings;
    if (!database) throw new Error('this producer has no result store: give it `database` to read results or revoke');
    return typeof database === 'function' ? database() : database;
  }
}


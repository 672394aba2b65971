import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskDetail } from '../results/queries.ts';
import type { TaskStatus } from '../results/schema.ts';

/** Where results are read and revocations written: the result store, directly or behind the API. */
export interface ResultSource {
  find(id: string): Promise<TaskDetail | undefined>;
  revoke(id: string, reason: string): Promise<TaskStatus>;
}

/** `get()` on a task that failed or was revoked (Celery re-raises the task's exception). */
export class TaskFailedError extends Error {
  override name = 'TaskFailedError';
  readonly taskId: string;
  readonly status: TaskStatus;

  constructor(task: TaskDetail) {
    super(`task ${task.id} (${task.name || 'unknown'}) ended ${task.status}: ${task.error ?? 'no reason recorded'}`);
    this.taskId = task.id;
    this.status = task.status;
  }
}

/** `get()` ran out of time; the task may still finish (Celery's `TimeoutError`). */
export class ResultTimeoutError extends Error {
  override name = 'ResultTimeoutError';
}

export interface GetOptions {
  /** Milliseconds to wait. @default 30000 */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

const finished = new Set<TaskStatus>(['SUCCESS', 'FAILURE', 'REVOKED']);

/** A handle on a sent task (Celery's `AsyncResult`). */
export class AsyncResult {
  readonly id: string;
  readonly #source: ResultSource;

  constructor(id: string, source: ResultSource) {
    this.id = id;
    this.#source = source;
  }

  /** PENDING until a consumer has seen the task (Celery answers PENDING for unknown ids too). */
  async status(): Promise<TaskStatus> {
    return (await this.#source.find(this.id))?.status ?? 'PENDING';
  }

  /** Everything the result store knows: attempts, timings, error and traceback. */
  info(): Promise<TaskDetail | undefined> {
    return this.#source.find(this.id);
  }

  /** Waits for the result; throws `TaskFailedError` on FAILURE or REVOKED, `ResultTimeoutError` on time-out. */
  async get(options: GetOptions = {}): Promise<unknown> {
    const task = await this.wait(options);
    if (task.status !== 'SUCCESS') throw new TaskFailedError(task);
    return task.result;
  }

  /** Waits until the task has finished, however it ended. */
  async wait(options: GetOptions = {}): Promise<TaskDetail> {
    const end = Date.now() + (options.timeout ?? 30_000);
    // Polls quickly at first, then once a second: most tasks finish in well under one.
    for (let pause = 50; ; pause = Math.min(1_000, pause * 2)) {
      const task = await this.#source.find(this.id);
      if (task && finished.has(task.status)) return task;
      if (Date.now() + pause > end) throw new ResultTimeoutError(`task ${this.id} still ${task?.status ?? 'PENDING'} after ${options.timeout ?? 30_000} ms`);
      await sleep(pause, undefined, options.signal ? { signal: options.signal } : {});
    }
  }

  /** Revokes the task: it never runs if not yet picked up, and a running one is told to stop. */
  revoke(reason = 'revoked'): Promise<TaskStatus> {
    return this.#source.revoke(this.id, reason);
  }
}

/** The members of a group, whose results collect in member order (Celery's `GroupResult`). */
export class GroupResult {
  readonly id: string;
  readonly results: readonly AsyncResult[];

  constructor(id: string, results: readonly AsyncResult[]) {
    this.id = id;
    this.results = results;
  }

  /** Every member's result, in order; throws the first failure met. */
  async get(options: GetOptions = {}): Promise<unknown[]> {
    const end = Date.now() + (options.timeout ?? 30_000);
    const values: unknown[] = [];
    for (const result of this.results) values.push(await result.get({ ...options, timeout: Math.max(0, end - Date.now()) }));
    return values;
  }

  /** How many members have finished, however they ended. */
  async completedCount(): Promise<number> {
    const statuses = await Promise.all(this.results.map((result) => result.status()));
    return statuses.filter((status) => finished.has(status)).length;
  }

  async revoke(reason = 'revoked'): Promise<void> {
    await Promise.all(this.results.map((result) => result.revoke(reason)));
  }
}

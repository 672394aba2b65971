import type { LaneName, PolicyChange, QueueName } from '../catalogue/index.ts';
import type {
  ActiveTask, BulkAction, BulkOptions, BulkOutcome, LaneDeadLetter, EventSourceView, Progress, QueueDepth, QueueStats, RedriveOutcome, RegisteredTask, ReservedView, ScheduledView, ScheduleView, TaskOperations,
} from '../operations/index.ts';
import type { SendOptions } from '../producer/send.ts';
import type { HistoryFilter, TaskDetail, TaskSummary } from '../results/queries.ts';
import type { TaskStatus } from '../results/schema.ts';
import { HttpError } from '../local/http.ts';

/** What the CLI needs: the local cloud's API, or the operations run directly against AWS. */
export interface Backend {
  send(task: string, payload: unknown, options: SendOptions): Promise<{ id: string; queue: QueueName; lane: LaneName; eta: string | null }>;
  result(id: string, waitMs?: number): Promise<TaskDetail | undefined>;
  revoke(id: string, reason: string): Promise<{ id: string; status: TaskStatus }>;
  queues(): Promise<QueueDepth[]>;
  deadLetters(queue: QueueName, limit: number): Promise<LaneDeadLetter[]>;
  redrive(queue: QueueName, options: { taskIds?: readonly string[]; onProgress?: Progress }): Promise<RedriveOutcome>;
  purge(queue: QueueName): Promise<{ purged: number }>;
  history(filter: HistoryFilter): Promise<TaskSummary[]>;
  retry(id: string): Promise<{ id: string; queue: QueueName }>;
  bulk(action: BulkAction, filter: HistoryFilter, options: BulkOptions): Promise<BulkOutcome>;
  schedules(): Promise<ScheduleView[]>;
  runSchedule(name: string): Promise<{ id: string }>;
  active(limit: number): Promise<ActiveTask[]>;
  scheduled(limit: number): Promise<ScheduledView>;
  reserved(limit: number): Promise<ReservedView>;
  registered(): Promise<RegisteredTask[]>;
  queueStats(minutes: number): Promise<QueueStats[]>;
  changePolicy(task: string, change: PolicyChange): Promise<RegisteredTask>;
  resetPolicy(task: string): Promise<RegisteredTask & { reset: boolean }>;
  setConsumer(queue: QueueName, enabled: boolean): Promise<EventSourceView>;
  purgeQueue(queue: QueueName): Promise<{ purged: number }>;
  close(): Promise<void>;
}

/** The endpoint could not be reached: one line for the user, never a stack trace. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/** The local cloud's JSON API on the dashboard's port. */
export class HttpBackend implements Backend {
  readonly #base: string;

  constructor(base: string) {
    this.#base = base.replace(/\/$/, '');
  }

  send(task: string, payload: unknown, options: SendOptions) {
    return this.#call<{ id: string; queue: QueueName; lane: LaneName; eta: string | null }>('POST', '/api/tasks', { task, payload, ...options });
  }

  async result(id: string, waitMs = 0) {
    try {
      return await this.#call<TaskDetail>('GET', `/api/tasks/${encodeURIComponent(id)}${waitMs > 0 ? `?wait=${waitMs}` : ''}`);
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  revoke(id: string, reason: string) {
    return this.#call<{ id: string; status: TaskStatus }>('POST', `/api/tasks/${encodeURIComponent(id)}/revoke`, { reason });
  }

  queues() {
    return this.#call<QueueDepth[]>('GET', '/api/queues');
  }

  deadLetters(queue: QueueName, limit: number) {
    return this.#call<LaneDeadLetter[]>('GET', `/api/dlq/${queue}?limit=${limit}`);
  }

  async redrive(queue: QueueName, options: { taskIds?: readonly string[]; onProgress?: Progress }) {
    const response = await this.#fetch('POST', `/api/dlq/${queue}/redrive`, options.taskIds ? { taskIds: options.taskIds } : {});
    return this.#outcome<RedriveOutcome>(response, 'the redrive', options.onProgress);
  }

  retry(id: string) {
    return this.#call<{ id: string; queue: QueueName }>('POST', `/api/tasks/${encodeURIComponent(id)}/retry`);
  }

  async bulk(action: BulkAction, filter: HistoryFilter, options: BulkOptions) {
    const body = { ...filter, ...(options.dryRun ? { dryRun: true } : {}), ...(options.reason ? { reason: options.reason } : {}) };
    // Going away stops the run on the server after the page under way.
    const response = await this.#fetch('POST', `/api/bulk/${action}`, body, options.signal);
    return this.#outcome<BulkOutcome>(response, `the bulk ${action}`, options.onProgress);
  }

  purge(queue: QueueName) {
    return this.#call<{ purged: number }>('POST', `/api/dlq/${queue}/purge`);
  }

  history(filter: HistoryFilter) {
    const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]));
    return this.#call<TaskSummary[]>('GET', `/api/tasks?${query}`);
  }

  schedules() {
    return this.#call<ScheduleView[]>('GET', '/api/schedules');
  }

  runSchedule(name: string) {
    return this.#call<{ id: string }>('POST', `/api/schedules/${encodeURIComponent(name)}/run`);
  }

  active(limit: number) {
    return this.#call<ActiveTask[]>('GET', `/api/inspect/active?limit=${limit}`);
  }

  scheduled(limit: number) {
    return this.#call<ScheduledView>('GET', `/api/inspect/scheduled?limit=${limit}`);
  }

  reserved(limit: number) {
    return this.#call<ReservedView>('GET', `/api/inspect/reserved?limit=${limit}`);
  }

  registered() {
    return this.#call<RegisteredTask[]>('GET', '/api/inspect/registered');
  }

  queueStats(minutes: number) {
    return this.#call<QueueStats[]>('GET', `/api/inspect/stats?minutes=${minutes}`);
  }

  changePolicy(task: string, change: PolicyChange) {
    const path = `/api/control/tasks/${encodeURIComponent(task)}/${change.kind}`;
    const body = change.kind === 'rate-limit' ? { rate: change.rate } : change.kind === 'concurrency' ? { limit: change.limit } : { soft: change.softSeconds, hard: change.hardSeconds };
    return this.#call<RegisteredTask>('POST', path, body);
  }

  resetPolicy(task: string) {
    return this.#call<RegisteredTask & { reset: boolean }>('POST', `/api/control/tasks/${encodeURIComponent(task)}/reset`);
  }

  setConsumer(queue: QueueName, enabled: boolean) {
    return this.#call<EventSourceView>('POST', `/api/control/queues/${queue}/${enabled ? 'resume' : 'pause'}`);
  }

  purgeQueue(queue: QueueName) {
    return this.#call<{ purged: number }>('POST', `/api/queues/${queue}/purge`);
  }

  async close() {}

  /** A long operation's answer: progress as newline-delimited JSON, a line per step, then the outcome. */
  async #outcome<T extends object>(response: Response, what: string, onProgress?: Progress): Promise<T> {
    let outcome: T | { error: string } | undefined;
    let buffer = '';
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(chunk).toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as { done?: number; total?: number } & typeof outcome;
        buffer = buffer.slice(newline + 1);
        if (line && 'done' in line && typeof line.done === 'number') onProgress?.(line.done, line.total);
        else outcome = line;
      }
    }
    if (!outcome) throw new HttpError(500, `${what} ended without an outcome`);
    if ('error' in outcome) throw new HttpError(500, outcome.error);
    return outcome;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#fetch(method, path, body);
    return (await response.json()) as T;
  }

  async #fetch(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        ...(signal ? { signal } : {}),
        ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const reason = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message;
      throw new UnreachableError(`cannot reach the local cloud at ${this.#base} (${reason}): is \`npm start\` running? Use --url or --stage for another.`);
    }
    if (!response.ok) {
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new HttpError(response.status, message);
    }
    return response;
  }
}

/** An error answer of the API, with its HTTP status. */
export { HttpError as ApiError };

/** The operations themselves, against a deployed stage. */
export function directBackend(operations: TaskOperations, close: () => Promise<void>): Backend {
  return {
    send: (task, payload, options) => operations.send(task, payload, options),
    result: (id, waitMs = 0) => (waitMs > 0 ? operations.wait(id, waitMs) : operations.result(id)),
    revoke: (id, reason) => operations.revoke(id, reason),
    queues: () => operations.queues(),
    deadLetters: (queue, limit) => operations.deadLetters(queue, limit),
    redrive: (queue, options) => operations.redrive(queue, options),
    purge: (queue) => operations.purge(queue),
    history: (filter) => operations.history(filter),
    retry: (id) => operations.retry(id),
    bulk: (action, filter, options) => operations.bulk(action, filter, options),
    schedules: async () => operations.schedules(),
    runSchedule: (name) => operations.runSchedule(name),
    active: (limit) => operations.active(limit),
    scheduled: (limit) => operations.scheduled(limit),
    reserved: (limit) => operations.reserved(limit),
    registered: () => operations.registered(),
    queueStats: (minutes) => operations.queueStats(minutes),
    changePolicy: (task, change) => operations.changePolicy(task, change),
    resetPolicy: (task) => operations.resetPolicy(task),
    setConsumer: (queue, enabled) => operations.setConsumer(queue, enabled),
    purgeQueue: (queue) => operations.purgeQueue(queue),
    close,
  };
}

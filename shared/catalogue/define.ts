import type { z } from 'zod';

/** Retry policy of a task: Celery's `max_retries`, `retry_backoff`, `retry_backoff_max`, `retry_jitter`. */
export interface RetryPolicy {
  /** Retries after the first attempt; the task runs at most `maxRetries + 1` times. */
  readonly maxRetries: number;
  /** Back-off before retry n is `min(backoffMax, backoffBase * 2^(n-1))` seconds. */
  readonly backoffBaseSeconds: number;
  readonly backoffMaxSeconds: number;
  /** Full jitter: the delay is drawn uniformly from `[0, back-off]`. */
  readonly jitter: boolean;
}

/** A task category: one SQS queue, its dead-letter queue and its consumer. */
export interface QueueDefinition {
  readonly name: string;
  readonly description: string;
  /** The consumer's timeout (Celery `time_limit`); the Lambda kills an invocation past it. */
  readonly timeoutSeconds: number;
  /** Records per invocation (1–10 without a batching window). */
  readonly batchSize: number;
  /** How long the event source gathers records before invoking (0 = invoke at once). */
  readonly batchingWindowSeconds: number;
  /** The event source mapping's `MaximumConcurrency` (2–1000): Celery's `--concurrency`. */
  readonly maxConcurrency: number;
  /** The high-priority lane's `MaximumConcurrency` (2–1000). @default twice `maxConcurrency` */
  readonly highPriorityConcurrency?: number;
  /** Memory of the consumer function. */
  readonly memoryMb: number;
  /** Alarm when the oldest waiting message is older than this: the queue is falling behind. */
  readonly oldestMessageAlarmSeconds: number;
}

export interface TaskDefinition<
  Name extends string = string,
  Payload extends z.ZodType = z.ZodType,
> {
  readonly name: Name;
  /** The Celery name producers still send, `app.tasks.<module>.<name>`. */
  readonly alias?: string;
  readonly queue: string;
  readonly description: string;
  readonly payload: Payload;
  readonly retry: RetryPolicy;
  /** Celery `soft_time_limit`: the task's `AbortSignal` fires here. */
  readonly softTimeLimitSeconds: number;
  /** Celery `time_limit`: the runtime stops waiting and records a time-limit failure. */
  readonly timeLimitSeconds: number;
  /**
   * Celery's `rate_limit`, e.g. `"60/m"`: at most this many starts per second, minute or
   * hour across every consumer. An over-limit message waits without spending an attempt.
   */
  readonly rateLimit?: string;
  /**
   * The payload field naming whom the task runs for, e.g. `userId`: sent as the message's
   * `MessageGroupId`, so SQS fair queues keep one tenant's backlog from delaying the others.
   */
  readonly tenant?: string;
  /**
   * At most `limit` of this task run at once across every consumer: per value of the payload
   * field `key` (e.g. `userId`), or for the task as a whole without one. A task over the limit
   * waits unclaimed, spending no attempt. `limit: 1` makes it a singleton per key.
   */
  readonly concurrency?: ConcurrencyLimit;
  /**
   * Deduplication (`'10m'`): a send whose key another send took within the window is folded
   * into that first task; the SDK hands back the first task's id. The key is the payload's
   * `dedupeKey` fields (all of it without them), or what the producer gives.
   */
  readonly unique?: string;
  /**
   * Debounce (`'30s'`): only the last of sends with one key runs, once the window has passed
   * without another; the earlier ones end REVOKED with reason `debounced`.
   */
  readonly debounce?: string;
  /** The payload fields that make the key of `unique` or `debounce`. */
  readonly dedupeKey?: readonly string[];
  /** The lane a send goes to unless it names one: `high` passes the category's normal backlog. @default 'normal' */
  readonly priority?: 'normal' | 'high';
}

export interface ConcurrencyLimit {
  readonly key?: string;
  /** 1–1000. */
  readonly limit: number;
}

export interface RateLimit {
  readonly perSecond: number;
  /** Starts allowed at once after a quiet spell: one second's worth, and at least one. */
  readonly burst: number;
}

const rateUnits = { s: 1, m: 60, h: 3600 } as const;

/** Reads a Celery rate limit (`"10/s"`, `"60/m"`, `"100/h"`); undefined when malformed. */
export function parseRateLimit(text: string): RateLimit | undefined {
  const match = /^(\d+(?:\.\d+)?)\/([smh])$/.exec(text);
  if (!match) return undefined;
  const perSecond = Number(match[1]) / rateUnits[match[2] as keyof typeof rateUnits];
  if (!(perSecond > 0)) return undefined;
  return { perSecond, burst: Math.max(1, Math.floor(perSecond)) };
}

export interface ScheduleDefinition {
  readonly name: string;
  readonly description: string;
  /** EventBridge Scheduler expression: `rate(5 minutes)` or `cron(0 3 * * ? *)`. */
  readonly expression: string;
  readonly task: string;
  readonly payload: Record<string, unknown>;
}

export function defineQueue(queue: QueueDefinition): QueueDefinition {
  return queue;
}

export function defineTask<const Name extends string, Payload extends z.ZodType>(
  task: TaskDefinition<Name, Payload>,
): TaskDefinition<Name, Payload> {
  return task;
}

import type { SQSClient } from '@aws-sdk/client-sqs';
import { effectivePolicy, laneConcurrency, queues as queueDefinitions, tasks, type LaneName, type PolicyOverride, type Priority, type QueueName, type RetryPolicy, type TaskDefinition } from '../catalogue/index.ts';
import type { LongDelayScheduler } from '../producer/long-delay.ts';
import type { Database } from '../results/database.ts';
import { queueThroughput, retryingTasks, startedTasks, type Latency, type StartedRow } from '../results/inspect.ts';
import { readTaskPolicies } from '../results/policies.ts';
import type { EventSources } from './event-sources.ts';
import { taskOfBody, type PeekedMessage, type QueuePeek } from './peek.ts';
import { queueDepths, queueTotals, type QueueEndpoints } from './queues.ts';

/** What `inspect` reads: the result store for claims, SQS for depths, Scheduler for long ETAs, and the emulator's messages where there is one. */
export interface InspectSources {
  readonly sqs: SQSClient;
  readonly database: Database;
  readonly queues: Readonly<Partial<Record<QueueName, QueueEndpoints>>>;
  readonly longDelays: LongDelayScheduler | null;
  readonly peek: QueuePeek | undefined;
  readonly eventSources: EventSources | undefined;
  readonly oldestAge: ((lane: LaneName) => Promise<number | null>) | undefined;
}

/** A task running now (Celery's `inspect active`): who holds it, and until when its claim lasts. */
export interface ActiveTask {
  readonly id: string;
  readonly task: string;
  readonly queue: string;
  readonly startedAt: string;
  readonly attempt: number;
  /** The consumer invocation that claimed it (`<function>:<request id>`). */
  readonly consumer: string | null;
  /** Until then no other consumer may take the task over: the claim's lease, the queue's consumer timeout. */
  readonly leaseExpiresAt: string;
  /** Its invocation ended without an outcome (a crash, a timeout): the next delivery takes it over. */
  readonly leaseExpired: boolean;
  readonly runningMs: number;
}

/** How long a claim from before leases were recorded holds: its consumer's timeout, as the claim statement reckons it. */
const leaseSecondsOf = (queue: string) => (queueDefinitions as Record<string, { timeoutSeconds: number }>)[queue]?.timeoutSeconds ?? 900;

export function activeOf(row: StartedRow): ActiveTask {
  const started = Date.parse(row.startedAt);
  const now = Date.parse(row.now);
  const leaseEnds = row.leaseUntil ? Date.parse(row.leaseUntil) : started + leaseSecondsOf(row.queue) * 1000;
  return {
    id: row.id, task: row.name, queue: row.queue, startedAt: row.startedAt, attempt: row.attempt, consumer: row.worker,
    leaseExpiresAt: new Date(leaseEnds).toISOString(), leaseExpired: leaseEnds <= now, runningMs: Math.max(0, now - started),
  };
}

export async function inspectActive(sources: InspectSources, limit: number): Promise<ActiveTask[]> {
  return (await startedTasks(sources.database, limit)).map(activeOf);
}

/** A task that will run later (Celery's `inspect scheduled`), and what holds it back. */
export interface ScheduledTask {
  /** `countdown`: an SQS delay; `eta`: an ETA the consumer waits out in the queue; `schedule`: a one-time Scheduler schedule; `retry`: a retry's back-off. */
  readonly kind: 'countdown' | 'eta' | 'schedule' | 'retry';
  readonly id: string | null;
  readonly task: string | null;
  readonly queue: string;
  /** When it is due; null where SQS cannot tell (a retry's back-off, against AWS). */
  readonly eta: string | null;
  readonly attempt?: number;
  readonly error?: string | null;
}

export interface ScheduledView {
  readonly tasks: readonly ScheduledTask[];
  /** Each queue's delayed messages as SQS counts them. */
  readonly delayed: readonly { readonly queue: QueueName; readonly messages: number }[];
  /** Whether delayed and waiting messages are listed one by one (the local cloud) or only counted (AWS). */
  readonly listed: boolean;
}

export async function inspectScheduled(sources: InspectSources, limit: number): Promise<ScheduledView> {
  const [pending, retrying, depths] = await Promise.all([sources.longDelays?.pending(limit) ?? [], retryingTasks(sources.database, limit), queueDepths(sources.sqs, sources.queues)]);
  const peeked = peekAll(sources);
  const messageOf = new Map(peeked?.map(({ message, body }) => [body.id, message]));
  const retryIds = new Set(retrying.map((row) => row.id));
  const now = Date.now();
  const entries: ScheduledTask[] = [
    ...pending.map((schedule) => {
      const body = taskOfBody(schedule.input);
      return { kind: 'schedule' as const, id: body.id, task: body.task, queue: queueOfArn(sources.queues, schedule.targetArn), eta: schedule.at ?? body.eta };
    }),
    ...retrying.map((row) => {
      const visibleAt = messageOf.get(row.id)?.visibleAt;
      return { kind: 'retry' as const, id: row.id, task: row.name, queue: row.queue, eta: visibleAt ? new Date(visibleAt).toISOString() : null, attempt: row.attempt, error: row.error };
    }),
    ...(peeked ?? []).flatMap(({ queue, message, body }): ScheduledTask[] => {
      if (body.id && retryIds.has(body.id)) return [];
      const etaMs = body.eta ? Date.parse(body.eta) : NaN;
      if (message.state === 'delayed') {
        const due = Math.max(message.visibleAt ?? 0, Number.isNaN(etaMs) ? 0 : etaMs);
        return [{ kind: 'countdown', id: body.id, task: body.task, queue, eta: new Date(due).toISOString() }];
      }
      return etaMs > now ? [{ kind: 'eta', id: body.id, task: body.task, queue, eta: new Date(etaMs).toISOString() }] : [];
    }),
  ];
  const order = (task: ScheduledTask) => (task.eta ? Date.parse(task.eta) : Infinity);
  return {
    tasks: entries.sort((a, b) => order(a) - order(b)).slice(0, limit),
    delayed: depths.map((depth) => ({ queue: depth.queue, messages: depth.delayed })),
    listed: peeked !== undefined,
  };
}

/** A message a consumer has received and not started (Celery's `inspect reserved`). */
export interface ReservedTask {
  readonly id: string | null;
  readonly task: string | null;
  readonly queue: QueueName;
  readonly messageId: string;
  readonly receiveCount: number;
  /** When it becomes visible again if no consumer settles it first. */
  readonly hiddenUntil: string | null;
}

export interface ReservedView {
  /** Per queue: in flight as SQS counts it, of which running, waiting out a retry, and the rest (received, not started; approximate against AWS). */
  readonly queues: readonly { readonly queue: QueueName; readonly inFlight: number; readonly running: number; readonly retrying: number; readonly reserved: number }[];
  readonly tasks: readonly ReservedTask[];
  readonly listed: boolean;
}

export async function inspectReserved(sources: InspectSources, limit: number): Promise<ReservedView> {
  const [started, retrying, depths] = await Promise.all([startedTasks(sources.database, 1000), retryingTasks(sources.database, 1000), queueDepths(sources.sqs, sources.queues).then(queueTotals)]);
  const running = started.map(activeOf).filter((task) => !task.leaseExpired);
  const busy = new Set([...running.map((task) => task.id), ...retrying.map((row) => row.id)]);
  const peeked = peekAll(sources);
  const now = Date.now();
  const reserved: ReservedTask[] = (peeked ?? [])
    .filter(({ message, body }) => message.state === 'in-flight' && !(body.id && busy.has(body.id)) && !(body.eta && Date.parse(body.eta) > now))
    .map(({ queue, message, body }) => ({ id: body.id, task: body.task, queue, messageId: message.messageId, receiveCount: message.receiveCount, hiddenUntil: message.visibleAt ? new Date(message.visibleAt).toISOString() : null }));
  const count = (rows: readonly { queue: string }[], queue: QueueName) => rows.filter((row) => row.queue === queue).length;
  return {
    queues: depths.map((depth) => {
      const counts = { running: count(running, depth.queue), retrying: count(retrying, depth.queue) };
      const estimate = Math.max(0, depth.inFlight - counts.running - counts.retrying);
      return { queue: depth.queue, inFlight: depth.inFlight, ...counts, reserved: peeked ? count(reserved, depth.queue) : estimate };
    }),
    tasks: reserved.slice(0, limit),
    listed: peeked !== undefined,
  };
}

/** A policy value as the catalogue declares it, as an operator changed it, and as consumers apply it. */
export interface PolicyValue<T> {
  readonly catalogue: T | null;
  readonly override: T | null;
  readonly effective: T | null;
}

/** A catalogue task with its policies (Celery's `inspect registered`, with what `control` changed). */
export interface RegisteredTask {
  readonly name: string;
  readonly alias: string | null;
  readonly queue: string;
  readonly description: string;
  readonly retry: RetryPolicy;
  readonly rateLimit: PolicyValue<string>;
  readonly softTimeLimitSeconds: PolicyValue<number>;
  readonly timeLimitSeconds: PolicyValue<number>;
  /** Tasks at once, per value of `key` (a payload field) or for the task as a whole when `key` is null. */
  readonly concurrency: PolicyValue<number> & { readonly key: string | null };
  /** The payload field naming whom the task runs for (fair queues), or null. */
  readonly tenant: string | null;
  /** The lane its sends go to unless they name one. */
  readonly priority: Priority;
  /** `unique` or `debounce` with its window and key fields (null: the whole payload), or null. */
  readonly dedupe: { readonly mode: 'unique' | 'debounce'; readonly window: string; readonly key: readonly string[] | null } | null;
  /** When an operator last changed its policy; null when it runs as the catalogue says. */
  readonly changedAt: string | null;
}

export function registeredOf(definition: TaskDefinition, override: PolicyOverride | undefined): RegisteredTask {
  const effective = effectivePolicy(definition, override);
  return {
    name: definition.name,
    alias: definition.alias ?? null,
    queue: definition.queue,
    description: definition.description,
    retry: definition.retry,
    rateLimit: { catalogue: definition.rateLimit ?? null, override: override?.rateLimit ?? null, effective: effective.rateLimit ?? null },
    softTimeLimitSeconds: { catalogue: definition.softTimeLimitSeconds, override: override?.softTimeLimitSeconds ?? null, effective: effective.softTimeLimitSeconds },
    timeLimitSeconds: { catalogue: definition.timeLimitSeconds, override: override?.timeLimitSeconds ?? null, effective: effective.timeLimitSeconds },
    concurrency: { key: definition.concurrency?.key ?? null, catalogue: definition.concurrency?.limit ?? null, override: override?.concurrencyLimit ?? null, effective: effective.concurrency?.limit ?? null },
    tenant: definition.tenant ?? null,
    priority: definition.priority ?? 'normal',
    dedupe: definition.unique !== undefined ? { mode: 'unique', window: definition.unique, key: definition.dedupeKey ?? null }
      : definition.debounce !== undefined ? { mode: 'debounce', window: definition.debounce, key: definition.dedupeKey ?? null } : null,
    changedAt: override?.updatedAt ?? null,
  };
}

export async function inspectRegistered(database: Database): Promise<RegisteredTask[]> {
  const overrides = await readTaskPolicies(database);
  return (Object.values(tasks) as TaskDefinition[]).map((definition) => registeredOf(definition, overrides.get(definition.name)));
}

/** One queue's health (Celery's `inspect stats`, per queue rather than per worker). */
export interface QueueStats {
  readonly queue: QueueName;
  /** The window the counts and percentiles cover. */
  readonly minutes: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly retried: number;
  /** Tasks finished per minute over the window. */
  readonly throughputPerMinute: number;
  readonly waitMs: Latency;
  readonly runMs: Latency;
  /** Invocations holding a running task now, against the event source's `MaximumConcurrency`. */
  readonly concurrency: { readonly inUse: number; readonly maximum: number };
  /** The consumer's trigger: `Enabled`, `Disabled` (paused), …; `Unknown` when it cannot be read, with `consumerError`. */
  readonly consumer: string;
  readonly consumerError?: string;
  readonly depth: { readonly waiting: number; readonly inFlight: number; readonly delayed: number; readonly oldestAgeSeconds: number | null };
  readonly deadLetters: number;
}

export async function inspectStats(sources: InspectSources, minutes: number): Promise<QueueStats[]> {
  const triggers = sources.eventSources?.list().then((list) => ({ list }), (error: unknown) => ({ error: (error as Error).message }));
  const [throughput, started, depths, trigger] = await Promise.all([
    queueThroughput(sources.database, minutes), startedTasks(sources.database, 1000), queueDepths(sources.sqs, sources.queues, sources.oldestAge).then(queueTotals), triggers,
  ]);
  const running = started.map(activeOf).filter((task) => !task.leaseExpired);
  return depths.map((depth) => {
    const done = throughput.find((row) => row.queue === depth.queue);
    const source = trigger && 'list' in trigger ? trigger.list.find((view) => view.queue === depth.queue) : undefined;
    const succeeded = done?.succeeded ?? 0;
    const failed = done?.failed ?? 0;
    const none = { p50: null, p95: null, p99: null };
    return {
      queue: depth.queue, minutes, succeeded, failed, retried: done?.retried ?? 0,
      throughputPerMinute: Math.round(((succeeded + failed) / minutes) * 100) / 100,
      waitMs: done?.waitMs ?? none, runMs: done?.runMs ?? none,
      concurrency: {
        inUse: new Set(running.filter((task) => task.queue === depth.queue).map((task) => task.consumer ?? task.id)).size,
        // Both lanes' event sources invoke the one consumer.
        maximum: (source?.maximumConcurrency ?? queueDefinitions[depth.queue].maxConcurrency) + (source?.highPriority?.maximumConcurrency ?? laneConcurrency(queueDefinitions[depth.queue], 'high')),
      },
      consumer: source?.state ?? 'Unknown',
      ...(trigger && 'error' in trigger ? { consumerError: trigger.error } : {}),
      depth: { waiting: depth.visible, inFlight: depth.inFlight, delayed: depth.delayed, oldestAgeSeconds: depth.oldestAgeSeconds },
      deadLetters: depth.deadLetters,
    };
  });
}

/** Every queue's messages with the task each carries, or undefined where they cannot be read (AWS). */
function peekAll(sources: InspectSources): { queue: QueueName; message: PeekedMessage; body: ReturnType<typeof taskOfBody> }[] | undefined {
  if (!sources.peek) return undefined;
  const peek = sources.peek;
  const found = (Object.keys(sources.queues) as QueueName[]).map((queue) => [queue, peek(queue)] as const);
  if (found.some(([, messages]) => messages === undefined)) return undefined;
  return found.flatMap(([queue, messages]) => messages!.map((message) => ({ queue, message, body: taskOfBody(message.body) })));
}

/** The catalogue queue a schedule's target ARN names (`arn:…:sqs:<region>:<account>:<stage>-<queue>`). */
function queueOfArn(queues: InspectSources['queues'], arn: string): string {
  const name = arn.split(':').pop() ?? '';
  const match = (Object.entries(queues) as [QueueName, QueueEndpoints][]).find(([, endpoints]) => endpoints.url.endsWith(`/${name}`));
  return match?.[0] ?? name;
}

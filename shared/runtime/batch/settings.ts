import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDefinition, QueueName } from '../../catalogue/index.ts';
import type { Database } from '../../results/database.ts';
import type { TaskDirectory } from '../parse.ts';
import type { PolicyCache } from './policies.ts';

/** What a queue's consumer is built from: the pipeline's every step reads its part of it. */
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
  /** How often the run-time policy changes (`taskq control`) are read again. @default 5000 */
  readonly policyRefreshMs?: number;
}

/** What one invocation brings to its batch besides the records. */
export interface Invocation {
  readonly remainingMs: number;
  /** Who claims the batch's tasks: `<function>:<request id>`. */
  readonly worker: string;
  /** The consumer's run-time policies, kept across its invocations. */
  readonly policies: PolicyCache;
}

/** One invocation's view of the settings: its clock and its jitter fixed. */
export interface BatchContext {
  readonly settings: ConsumerSettings;
  readonly random: () => number;
  /** When the invocation ends (epoch ms). */
  readonly end: number;
  /** When the tasks must have settled, leaving time to record them before the invocation ends. */
  readonly deadline: number;
  readonly worker: string;
  readonly policies: PolicyCache;
}

export function batchContext(settings: ConsumerSettings, invocation: Invocation, now = Date.now()): BatchContext {
  const { remainingMs, worker, policies } = invocation;
  const reserveMs = Math.min(5_000, settings.queue.timeoutSeconds * 100);
  return { settings, random: settings.random ?? Math.random, end: now + remainingMs, deadline: now + remainingMs - reserveMs, worker, policies };
}

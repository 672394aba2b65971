import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { LaneName, Priority, QueueDefinition } from '../../catalogue/index.ts';
import type { Database } from '../../results/database.ts';
import type { TaskDirectory } from '../parse.ts';
import type { PolicyCache } from './policies.ts';

/** What a queue's consumer is built from: the pipeline's every step reads its part of it. */
export interface ConsumerSettings {
  readonly queue: QueueDefinition;
  /** The normal lane's queue and dead-letter queue. */
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** The high-priority lane's, whose event source invokes the same consumer; without it every record is the normal lane's. */
  readonly highPriority?: LaneUrls;
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
  /** Where a workflow's next steps go, by lane; this consumer's own lanes are known anyway. */
  readonly queueUrls?: Partial<Record<LaneName, string>>;
  /** How often running tasks are checked for revocation. @default 5000 */
  readonly revocationCheckMs?: number;
  /** How often the run-time policy changes (`taskq control`) are read again. @default 5000 */
  readonly policyRefreshMs?: number;
}

export interface LaneUrls {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** The lane a record came from: the high-priority one when its source ARN names that lane's queue. */
export function laneOfRecord(record: Pick<SQSRecord, 'eventSourceARN'>, settings: Pick<ConsumerSettings, 'highPriority'>): Priority {
  const high = settings.highPriority?.queueUrl;
  return high && record.eventSourceARN.split(':').at(-1) === high.split('/').at(-1) ? 'high' : 'normal';
}

/** The queue and dead-letter queue of a record's lane: where its visibility is changed and its dead letter goes. */
export function laneUrls(settings: Pick<ConsumerSettings, 'queueUrl' | 'deadLetterQueueUrl' | 'highPriority'>, priority: Priority): LaneUrls {
  return priority === 'high' && settings.highPriority ? settings.highPriority : settings;
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

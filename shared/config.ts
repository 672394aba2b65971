import * as z from 'zod';
import { PermanentError } from './errors.ts';
import { queueNames, type QueueName } from './catalogue/index.ts';
import type { DatabaseTarget } from './results/database.ts';

const environment = z.object({
  STAGE: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/).default('local'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** LocalStack, the local cloud's emulator or another SQS/S3 endpoint; AWS itself when unset. */
  AWS_ENDPOINT_URL: z.url().optional(),
  /** A PostgreSQL server; without it (and without the Data API) the embedded PGlite. */
  DATABASE_URL: z.string().min(1).optional(),
  /** Where PGlite keeps its files; in memory when unset. */
  PGLITE_DIR: z.string().min(1).optional(),
  /** A schema of its own on PostgreSQL or PGlite, so several local clouds can share one server. */
  DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),
  /** Aurora through the RDS Data API, as the stack configures the Lambdas. */
  DB_CLUSTER_ARN: z.string().startsWith('arn:').optional(),
  DB_SECRET_ARN: z.string().startsWith('arn:').optional(),
  DB_NAME: z.string().min(1).default('tasks'),
  /** The bucket keeping task results, errors and tracebacks too large for a row (under `task-results/`). */
  RESULTS_BUCKET: z.string().min(3).optional(),
  /** Another RDS Data API endpoint (LocalStack's, or a test double); AWS's when unset. */
  AWS_ENDPOINT_URL_RDS_DATA: z.url().optional(),
  /** Another EventBridge Scheduler endpoint; `AWS_ENDPOINT_URL` (the local cloud serves both) when unset. */
  AWS_ENDPOINT_URL_SCHEDULER: z.url().optional(),
  /** The schedule group and role for ETAs beyond 15 minutes; without them the consumer re-delays such messages. */
  TASK_ETA_SCHEDULE_GROUP: z.string().regex(/^[0-9a-zA-Z-_.]{1,64}$/).optional(),
  TASK_ETA_ROLE_ARN: z.string().startsWith('arn:').optional(),
  /** Where Scheduler puts a long-delayed task it could not deliver. */
  TASK_ETA_DLQ_ARN: z.string().startsWith('arn:').optional(),
});

export interface Config {
  readonly stage: string;
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly database: DatabaseTarget;
  /** Queue URLs by queue name, from `QUEUE_URL_<QUEUE>` and `DLQ_URL_<QUEUE>`. */
  readonly queueUrls: Partial<Record<QueueName, string>>;
  readonly deadLetterQueueUrls: Partial<Record<QueueName, string>>;
  /** One-time schedules for long ETAs, when configured. */
  readonly longDelays:
    | { readonly groupName: string; readonly roleArn: string; readonly deadLetterArn: string | undefined; readonly endpoint: string | undefined }
    | undefined;
}

/**
 * A setting or a secret missing or malformed. A task that meets one fails at once, saying
 * what to set: every retry would fail the same way, and a redrive runs it once it is set.
 */
export class ConfigError extends PermanentError {
  override name = 'ConfigError';
}

/** Reads the environment once into a typed configuration; every problem is reported at once. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  if (Boolean(e.DB_CLUSTER_ARN) !== Boolean(e.DB_SECRET_ARN)) {
    throw new ConfigError('invalid environment: DB_CLUSTER_ARN and DB_SECRET_ARN go together');
  }
  if (Boolean(e.TASK_ETA_SCHEDULE_GROUP) !== Boolean(e.TASK_ETA_ROLE_ARN)) {
    throw new ConfigError('invalid environment: TASK_ETA_SCHEDULE_GROUP and TASK_ETA_ROLE_ARN go together');
  }
  const resultsBucket = e.RESULTS_BUCKET ? { resultsBucket: { bucket: e.RESULTS_BUCKET, region: e.AWS_REGION, ...(e.AWS_ENDPOINT_URL ? { endpoint: e.AWS_ENDPOINT_URL } : {}) } } : {};
  const store: DatabaseTarget = e.DB_CLUSTER_ARN && e.DB_SECRET_ARN
    ? {
        kind: 'data-api',
        resourceArn: e.DB_CLUSTER_ARN,
        secretArn: e.DB_SECRET_ARN,
        database: e.DB_NAME,
        region: e.AWS_REGION,
        ...(e.AWS_ENDPOINT_URL_RDS_DATA ? { endpoint: e.AWS_ENDPOINT_URL_RDS_DATA } : {}),
      }
    : e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, ...(e.DB_SCHEMA ? { schema: e.DB_SCHEMA } : {}) }
      : { kind: 'pglite', ...(e.PGLITE_DIR ? { dataDir: e.PGLITE_DIR } : {}), ...(e.DB_SCHEMA ? { schema: e.DB_SCHEMA } : {}) };
  const database: DatabaseTarget = { ...store, ...resultsBucket };
  const urls = (prefix: string) =>
    Object.fromEntries(queueNames.flatMap((q) => {
      const url = env[`${prefix}_${q.toUpperCase()}`];
      return url ? [[q, url]] : [];
    })) as Partial<Record<QueueName, string>>;
  return {
    stage: e.STAGE,
    region: e.AWS_REGION,
    endpoint: e.AWS_ENDPOINT_URL,
    database,
    queueUrls: urls('QUEUE_URL'),
    deadLetterQueueUrls: urls('DLQ_URL'),
    longDelays: e.TASK_ETA_SCHEDULE_GROUP && e.TASK_ETA_ROLE_ARN
      ? { groupName: e.TASK_ETA_SCHEDULE_GROUP, roleArn: e.TASK_ETA_ROLE_ARN, deadLetterArn: e.TASK_ETA_DLQ_ARN, endpoint: e.AWS_ENDPOINT_URL_SCHEDULER ?? e.AWS_ENDPOINT_URL }
      : undefined,
  };
}

/** The physical queue names of a stage: `<stage>-<queue>` and `<stage>-<queue>-dlq`. */
export function physicalQueueName(stage: string, queue: string, deadLetter = false): string {
  return `${stage}-${queue}${deadLetter ? '-dlq' : ''}`;
}

import * as z from 'zod';
import { PermanentError } from './errors.ts';
import { laneNames, laneVariable, type LaneName } from './catalogue/index.ts';
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
  /** `on`: the migration step keeps Celery's celery_taskmeta in step with task_results (docs/celery-results.md). */
  CELERY_RESULTS: z.enum(['on', 'off']).default('off'),
});

/** Queue URLs of every lane, checked as URLs: a typo fails at start, not at the first send. */
const queueUrlVariables = z.object(Object.fromEntries(laneNames.flatMap((lane) => [
  [laneVariable('QUEUE_URL', lane), z.url().optional()],
  [laneVariable('DLQ_URL', lane), z.url().optional()],
])));

/** Settings that only make sense together. */
const pairs = [
  ['DB_CLUSTER_ARN', 'DB_SECRET_ARN'],
  ['TASK_ETA_SCHEDULE_GROUP', 'TASK_ETA_ROLE_ARN'],
] as const;

/** What every part of the system is configured from: the process environment in Lambda and on the command line, a copy of it in the local cloud. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface Config {
  readonly stage: string;
  readonly region: string;
  readonly endpoint: string | undefined;
  /**
   * Whether the environment names credentials of its own (`AWS_ACCESS_KEY_ID` or
   * `AWS_PROFILE`); without them a client pointed at an emulator gets fixed ones.
   */
  readonly ownCredentials: boolean;
  readonly database: DatabaseTarget;
  /** Queue URLs by lane (`default`, `default-high`), from `QUEUE_URL_<LANE>` and `DLQ_URL_<LANE>`. */
  readonly queueUrls: Partial<Record<LaneName, string>>;
  readonly deadLetterQueueUrls: Partial<Record<LaneName, string>>;
  /** EventBridge Scheduler's endpoint: `AWS_ENDPOINT_URL_SCHEDULER`, else `AWS_ENDPOINT_URL`, else AWS's. */
  readonly schedulerEndpoint: string | undefined;
  /** One-time schedules for long ETAs, when configured. */
  readonly longDelays:
    | { readonly groupName: string; readonly roleArn: string; readonly deadLetterArn: string | undefined; readonly endpoint: string | undefined }
    | undefined;
  /** Whether the result store also writes Celery's celery_taskmeta rows (`CELERY_RESULTS=on`), applied by the migration step. @default false */
  readonly celeryResults: boolean;
}

/**
 * A setting or a secret missing or malformed. A task that meets one fails at once, saying
 * what to set: every retry would fail the same way, and a redrive runs it once it is set.
 */
export class ConfigError extends PermanentError {
  override name = 'ConfigError';
  /** Each problem on its own (`VARIABLE: what is wrong`), so several readers' problems can be reported as one. */
  readonly problems: readonly string[];

  constructor(message: string, options: { problems?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.problems = options.problems ?? [message];
  }
}

/** One error naming every problem; `what` is whose settings they are (`the data consumer`). */
export function configError(what: string | undefined, problems: readonly string[]): ConfigError {
  return new ConfigError(`invalid environment${what ? ` for ${what}` : ''}: ${problems.join('; ')}`, { problems });
}

/** A zod failure as problems, one per setting. */
export function issueProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

/** Whether the environment names AWS credentials of its own, so an emulator's client is not handed fixed ones. */
export function hasOwnCredentials(env: Environment): boolean {
  return Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
}

/**
 * Reads the environment once into a typed configuration. Every problem (a malformed
 * value, a setting missing its pair) is named in one `ConfigError`, thrown at start.
 */
export function readConfig(env: Environment): Config {
  const parsed = environment.safeParse(env);
  const urls = queueUrlVariables.safeParse(env);
  const problems = [
    ...(parsed.success ? [] : issueProblems(parsed.error)),
    ...(urls.success ? [] : issueProblems(urls.error)),
    ...pairs.filter(([a, b]) => Boolean(env[a]) !== Boolean(env[b])).map(([a, b]) => `${env[a] ? b : a}: required with ${env[a] ? a : b} (${a} and ${b} go together)`),
  ];
  if (!parsed.success || !urls.success || problems.length > 0) throw configError(undefined, problems);
  const e = parsed.data;
  const ownCredentials = hasOwnCredentials(env);
  const resultsBucket = e.RESULTS_BUCKET
    ? { resultsBucket: { bucket: e.RESULTS_BUCKET, region: e.AWS_REGION, ...(e.AWS_ENDPOINT_URL ? { endpoint: e.AWS_ENDPOINT_URL, ownCredentials } : {}) } }
    : {};
  const store: DatabaseTarget = e.DB_CLUSTER_ARN && e.DB_SECRET_ARN
    ? {
        kind: 'data-api',
        resourceArn: e.DB_CLUSTER_ARN,
        secretArn: e.DB_SECRET_ARN,
        database: e.DB_NAME,
        region: e.AWS_REGION,
        ...(e.AWS_ENDPOINT_URL_RDS_DATA ? { endpoint: e.AWS_ENDPOINT_URL_RDS_DATA, ownCredentials } : {}),
      }
    : e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, ...(e.DB_SCHEMA ? { schema: e.DB_SCHEMA } : {}) }
      : { kind: 'pglite', ...(e.PGLITE_DIR ? { dataDir: e.PGLITE_DIR } : {}), ...(e.DB_SCHEMA ? { schema: e.DB_SCHEMA } : {}) };
  const database: DatabaseTarget = { ...store, ...resultsBucket };
  const queueUrls = (prefix: 'QUEUE_URL' | 'DLQ_URL') =>
    Object.fromEntries(laneNames.flatMap((lane) => {
      const url = urls.data[laneVariable(prefix, lane)];
      return url ? [[lane, url]] : [];
    })) as Partial<Record<LaneName, string>>;
  const schedulerEndpoint = e.AWS_ENDPOINT_URL_SCHEDULER ?? e.AWS_ENDPOINT_URL;
  return {
    stage: e.STAGE,
    region: e.AWS_REGION,
    endpoint: e.AWS_ENDPOINT_URL,
    ownCredentials,
    database,
    queueUrls: queueUrls('QUEUE_URL'),
    deadLetterQueueUrls: queueUrls('DLQ_URL'),
    schedulerEndpoint,
    longDelays: e.TASK_ETA_SCHEDULE_GROUP && e.TASK_ETA_ROLE_ARN
      ? { groupName: e.TASK_ETA_SCHEDULE_GROUP, roleArn: e.TASK_ETA_ROLE_ARN, deadLetterArn: e.TASK_ETA_DLQ_ARN, endpoint: schedulerEndpoint }
      : undefined,
    celeryResults: e.CELERY_RESULTS === 'on',
  };
}

/** The physical queue names of a stage: `<stage>-<lane>` and `<stage>-<lane>-dlq` (`prod-default-high-dlq`). */
export function physicalQueueName(stage: string, queue: string, deadLetter = false): string {
  return `${stage}-${queue}${deadLetter ? '-dlq' : ''}`;
}

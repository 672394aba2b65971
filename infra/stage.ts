import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as z from 'zod';

/** What differs between stages. Unknown stages get production's settings: safe by default. */
export interface StageSettings {
  readonly name: string;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  /** Aurora Serverless v2 capacity (ACUs); 0 lets the cluster pause when idle. */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Idle time before a cluster with minimum capacity 0 pauses. */
  readonly autoPause: Duration;
  readonly backupRetention: Duration;
  /** Where alarms are e-mailed, when set. */
  readonly alarmEmail: string | undefined;
  /** Age after which objects under the temporary prefix expire. */
  readonly temporaryObjectDays: number;
  /**
   * Whether the result store also writes Celery's `celery_taskmeta` rows, so Python services
   * read results with `AsyncResult(id).get()` (docs/celery-results.md). Off unless a stage
   * that is migrating from Celery turns it on with `-c celeryResults=true`. @default false
   */
  readonly celeryResults: boolean;
}

const production: Omit<StageSettings, 'name' | 'alarmEmail' | 'celeryResults'> = {
  // Kept on update and delete, but not when the stack's first create fails: a rollback that kept
  // the fixed-name queues, secrets and log groups would make every later create fail on their names.
  removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  deletionProtection: true,
  // A paused cluster takes ~15 s to resume; production keeps half an ACU warm.
  minCapacity: 0.5,
  maxCapacity: 8,
  autoPause: Duration.hours(1),
  backupRetention: Duration.days(14),
  temporaryObjectDays: 1,
};

const presets: Record<string, Omit<StageSettings, 'name' | 'alarmEmail' | 'celeryResults'>> = {
  dev: {
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    minCapacity: 0,
    maxCapacity: 2,
    autoPause: Duration.minutes(5),
    backupRetention: Duration.days(1),
    temporaryObjectDays: 1,
  },
  prod: production,
};

const context = z.object({
  stage: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, 'lower-case letters, digits and -, up to 20').default('dev'),
  alarmEmail: z.email().optional(),
  minCapacity: z.coerce.number().min(0).max(256).optional(),
  maxCapacity: z.coerce.number().min(1).max(256).optional(),
  // Context given on the command line arrives as a string.
  celeryResults: z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]).default(false),
});

/**
 * Stage settings from CDK context (`-c stage=prod -c alarmEmail=ops@example.com -c celeryResults=true`), every
 * problem reported at once.
 */
export function stageSettings(tryGetContext: (key: string) => unknown): StageSettings {
  const raw = Object.fromEntries(['stage', 'alarmEmail', 'minCapacity', 'maxCapacity', 'celeryResults'].map((key) => [key, tryGetContext(key)]).filter(([, value]) => value !== undefined));
  const parsed = context.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid CDK context: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { stage, alarmEmail, minCapacity, maxCapacity, celeryResults } = parsed.data;
  const preset = presets[stage] ?? production;
  return {
    name: stage,
    ...preset,
    ...(minCapacity !== undefined ? { minCapacity } : {}),
    ...(maxCapacity !== undefined ? { maxCapacity } : {}),
    alarmEmail,
    celeryResults,
  };
}

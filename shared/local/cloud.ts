import { mkdir } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ConflictException, CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqsOn } from './fauxqs-fixes.ts';
import { laneBatchingWindow, laneConcurrency, laneName, laneNames, queueNames, queues, schedules, type Priority, type QueueName } from '../catalogue/index.ts';
import { createSqsClient, localCredentials } from '../aws.ts';
import { physicalQueueName, readConfig, type Config, type Environment } from '../config.ts';
import { consumerFactories } from '../consumers/index.ts';
import { longDelaysFromConfig } from '../producer/long-delay.ts';
import { TaskOperations } from '../operations/index.ts';
import { applyCeleryResults, celeryResultsSettings } from '../results/celery-results.ts';
import { migrateDatabase } from '../results/database.ts';
import { closeSharedDatabases, sharedDatabase } from '../results/shared-database.ts';
import { resolveTask } from '../producer/send.ts';
import { scheduledEnvelope } from '../scheduling.ts';
import { startDashboard } from './dashboard/server.ts';
import { emulatorPeek, pollerEventSources, type LanePollers } from './inspection.ts';
import { pollerFor, type InvocationReport } from './poller.ts';
import { laneEnvironment, provisionQueues, type ProvisionedLane, type ProvisionedQueue } from './queues.ts';
import { LocalScheduler } from './scheduler.ts';
import { SchedulerApi } from './scheduler-api.ts';
import { captureQueues, readSavedScheduler, restoreSnapshot, saveSnapshot } from './snapshot.ts';
import { listenHost } from './guard.ts';
import { startSqsQueryProtocol } from './sqs-query-protocol.ts';
import { startStandIns, type StandInUrls } from './stand-ins/index.ts';
import { startWebhookServer } from './webhook-server.ts';

export interface LocalCloudOptions {
  /**
   * What the cloud is configured from (the process environment, for `npm start`). It is
   * copied, completed with what the cloud provides (endpoint, queue URLs, bucket, PGlite
   * folder, ETA schedules) and handed to every consumer: the caller's object is left as it was.
   */
  readonly env: Environment;
  /** Port of the embedded SQS+S3+Scheduler endpoint, SQS over the JSON and query protocols (0 picks a free one); ignored with `AWS_ENDPOINT_URL`. @default 4566 */
  readonly port?: number;
  /** The dashboard and the CLI's API (Flower's port). @default 5555 */
  readonly dashboardPort?: number;
  /** The Stripe webhook receiver. @default 4242 */
  readonly webhookPort?: number;
  /** PGlite's files and the queue snapshot when no `DATABASE_URL` is set. @default .local */
  readonly dataDir?: string;
  /** Virtual seconds per real second for the schedules, one-time `at()` schedules included. @default 1 */
  readonly timeScale?: number;
  /**
   * Start a local stand-in for OpenAI and one for Stripe (test mode) where the environment
   * sets no key or base URL for it, and point the consumers at them: `npm start` works
   * offline. Tests that bring their own fixtures leave it off. @default false
   */
  readonly standIns?: boolean;
  readonly onInvocation?: (queue: QueueName, report: InvocationReport) => void;
  readonly onError?: (source: string, error: unknown) => void;
}

export interface LocalCloud {
  readonly endpoint: string;
  readonly dashboardUrl: string;
  readonly webhookUrl: string;
  readonly database: string;
  readonly bucket: string;
  readonly queues: Record<QueueName, ProvisionedQueue>;
  readonly restoredMessages: number;
  readonly restoredSchedules: number;
  /** The Scheduler group of ETAs beyond 15 minutes (`TASK_ETA_SCHEDULE_GROUP`), or none when the endpoint has no Scheduler. */
  readonly etaScheduleGroup: string | undefined;
  /** Whether Celery's celery_taskmeta is kept in step with task_results (`CELERY_RESULTS=on`). */
  readonly celeryResults: boolean;
  readonly scheduler: LocalScheduler;
  /** The stand-ins running in place of the real APIs, each by its URL: none when keys or base URLs were given. */
  readonly standIns: StandInUrls;
  stop(): Promise<void>;
}

/** How often the embedded queues are saved while running. */
const snapshotEveryMs = 2_000;

/**
 * The whole system on one machine: the SQS+S3 emulator (or an external endpoint), the
 * result store migrated, the catalogue's queues and bucket created with the stack's
 * attributes, one event-source poller per queue invoking the handler each queue's factory
 * builds, as `functions/consumer-<queue>.ts` does in Lambda, the schedules, the Stripe
 * webhook receiver and the dashboard.
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  // The cloud's own environment: what it was given, then what it provides, as the stack sets a function's.
  const env: Record<string, string | undefined> = { ...options.env };
  // Every problem with what was given is reported now, before anything listens.
  const given = readConfig(env);
  const host = listenHost(env);
  const external = given.endpoint;
  // fauxqs speaks SQS's JSON protocol only: it sits on a free port behind a front that also accepts the query protocol
  // and serves EventBridge Scheduler's API, so one endpoint answers all three as LocalStack's does.
  const emulator = external ? undefined : await startFauxqsOn(host, { port: 0, logger: false });
  const schedulerApi = emulator
    ? new SchedulerApi({ region: given.region, onError: (schedule, error) => options.onError?.(`scheduler ${schedule}`, error) })
    : undefined;
  const front = emulator ? await startSqsQueryProtocol({ port: options.port ?? 4566, host, upstreamPort: emulator.port, otherHandlers: [schedulerApi!] }) : undefined;
  const endpoint = external ?? front!.url;

  const dataDir = resolve(options.dataDir ?? '.local');
  await mkdir(dataDir, { recursive: true });
  if (!env.DATABASE_URL && !env.PGLITE_DIR) env.PGLITE_DIR = join(dataDir, 'pglite');
  env.AWS_ENDPOINT_URL = endpoint;
  const bucket = `${given.stage}-datacleanup-files`;
  env.FILES_BUCKET = bucket;
  // Results too large for a row go under task-results/ in the files bucket, as the stack configures it.
  env.RESULTS_BUCKET ??= bucket;
  const etaScheduleGroup = await longDelaySettings(env, readConfig(env), schedulerApi, options.onError);
  const config: Config = readConfig(env);
  const sqs = createSqsClient(config);
  const database = await sharedDatabase(config.database);
  await migrateDatabase(database);
  const celeryResults = (await applyCeleryResults(database, celeryResultsSettings(config))) === 'on';
  const provisioned = await provisionQueues(sqs, config.stage);

  const s3 = new S3Client({ region: config.region, endpoint, forcePathStyle: true, ...localCredentials(endpoint, config.ownCredentials) });
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
    if (!/BucketAlready(OwnedByYou|Exists)/.test((error as Error).name)) throw error;
  });
  s3.destroy();

  Object.assign(env, laneEnvironment(provisioned));
  // Before the consumers are built: they read OPENAI_BASE_URL, STRIPE_API_BASE and the keys from this env.
  const standIns = options.standIns ? await startStandIns(env, { host, ...(options.onError ? { onError: (error: unknown) => options.onError?.('stand-in', error) } : {}) }) : undefined;

  const snapshotPath = join(dataDir, 'queues.json');
  const physicalNames = laneNames.flatMap((lane) => [physicalQueueName(config.stage, lane), physicalQueueName(config.stage, lane, true)]);
  const urlOf = new Map(Object.values(provisioned).flatMap((q) => [
    [physicalQueueName(config.stage, q.name), q.url], [physicalQueueName(config.stage, q.name, true), q.deadLetterUrl],
    [physicalQueueName(config.stage, laneName(q.name, 'high')), q.highPriority.url], [physicalQueueName(config.stage, laneName(q.name, 'high'), true), q.highPriority.deadLetterUrl],
  ] as const));
  const restoredMessages = emulator ? await restoreSnapshot(sqs, snapshotPath, (name) => urlOf.get(name)) : 0;
  const restoredSchedules = schedulerApi ? schedulerApi.restore(await readSavedScheduler(snapshotPath)) : 0;
  // One save at a time: a tick and the shutdown's final save share the file.
  let saving: Promise<void> = Promise.resolve();
  const snapshot = () => {
    saving = saving.catch(() => undefined).then(async () => {
      if (emulator) await saveSnapshot(snapshotPath, captureQueues(emulator, physicalNames), schedulerApi?.save());
    });
    return saving;
  };
  const snapshots = setInterval(() => snapshot().catch((error: unknown) => options.onError?.('snapshot', error)), snapshotEveryMs);

  // Every lane's poller holds a long poll per invocation slot, and a paused one lets its polls finish while
  // a resume starts new ones: the pollers get a client of their own, with sockets for all of them (the SDK's default is 50).
  const longPolls = queueNames.reduce((sum, name) => sum + laneConcurrency(queues[name], 'normal') + laneConcurrency(queues[name], 'high'), 0);
  const pollerSqs = new SQSClient({ region: config.region, endpoint, ...localCredentials(endpoint, config.ownCredentials), requestHandler: { httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 2 * longPolls + 50 }), httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 2 * longPolls + 50 }) } });
  // One consumer per queue, invoked by two event sources as in the stack: its queue's and its high-priority lane's.
  const lanePollers = await Promise.all(
    queueNames.map(async (name): Promise<LanePollers> => {
      const handler = (await consumerFactories[name]())(env);
      const lane = (priority: Priority, endpoints: ProvisionedLane) => pollerFor(queues[name], {
        sqs: pollerSqs,
        queueUrl: endpoints.url,
        queueArn: endpoints.arn,
        region: config.region,
        functionName: `${config.stage}-consumer-${name}`,
        handler,
        maxConcurrency: laneConcurrency(queues[name], priority),
        batchingWindowSeconds: laneBatchingWindow(queues[name], priority),
        ...(options.onInvocation ? { onInvocation: (report: InvocationReport) => options.onInvocation?.(name, report) } : {}),
        ...(options.onError ? { onError: (error: unknown) => options.onError?.(`poller ${laneName(name, priority)}`, error) } : {}),
      });
      return { normal: lane('normal', provisioned[name]), high: lane('high', provisioned[name].highPriority) };
    }),
  );
  const pollers = lanePollers.flatMap((lanes) => [lanes.normal, lanes.high]);
  for (const poller of pollers) poller.start();
  const pollerOf = Object.fromEntries(queueNames.map((name, n) => [name, lanePollers[n]!])) as Record<QueueName, LanePollers>;

  const scheduler = new LocalScheduler({
    schedules: Object.values(schedules),
    timeScale: options.timeScale ?? 1,
    fire: async (schedule, scheduledTime) => {
      const task = resolveTask(schedule.task);
      const queue = provisioned[task.queue as QueueName];
      await sqs.send(new SendMessageCommand({ QueueUrl: task.priority === 'high' ? queue.highPriority.url : queue.url, MessageBody: JSON.stringify(scheduledEnvelope(schedule, scheduledTime)) }));
    },
    onError: (schedule, error) => options.onError?.(`schedule ${schedule.name}`, error),
  });
  scheduler.start();
  // One-time schedules fire on the same clock, so SCHEDULE_TIME_SCALE brings a long ETA sooner.
  schedulerApi?.start({ sqs, clock: scheduler });

  const operations = new TaskOperations({
    sqs,
    database,
    queues: provisioned,
    // The cloud's configuration as its consumers have it, queue URLs and ETA schedules included.
    longDelays: longDelaysFromConfig(readConfig(env)),
    scheduleAnchor: scheduler.now(),
    clock: () => scheduler.now(),
    eventSources: pollerEventSources(pollerOf),
    ...(emulator ? { peek: emulatorPeek(emulator, (queue) => [physicalQueueName(config.stage, laneName(queue)), physicalQueueName(config.stage, laneName(queue, 'high'))]) } : {}),
    oldestAge: async (lane) => {
      const state = emulator?.inspectQueue(physicalQueueName(config.stage, lane));
      const sent = (state?.messages.ready as { sentTimestamp?: number }[] | undefined)?.map((m) => m.sentTimestamp ?? Date.now());
      return sent && sent.length > 0 ? Math.round((Date.now() - Math.min(...sent)) / 1000) : emulator ? 0 : null;
    },
  });
  const dashboard = await startDashboard(operations, options.dashboardPort ?? 5555, host);
  const webhook = await startWebhookServer({
    port: options.webhookPort ?? 4242,
    host,
    env,
    sqs,
    billingQueueUrl: provisioned.billing.url,
    ...(options.onError ? { onError: (error: unknown) => options.onError?.('webhook', error) } : {}),
  });
  standIns?.connectWebhook(webhook.url);

  return {
    endpoint,
    dashboardUrl: dashboard.url,
    webhookUrl: webhook.url,
    database: config.database.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `PGlite ${config.database.kind === 'pglite' ? (config.database.dataDir ?? 'in memory') : ''}`,
    bucket,
    queues: provisioned,
    restoredMessages,
    restoredSchedules,
    etaScheduleGroup,
    celeryResults,
    scheduler,
    standIns: { ...(standIns?.openai ? { openai: standIns.openai } : {}), ...(standIns?.stripe ? { stripe: standIns.stripe } : {}) },
    async stop() {
      await schedulerApi?.stop();
      scheduler.stop();
      await Promise.all([dashboard.stop(), webhook.stop()]);
      await Promise.all(pollers.map((poller) => poller.stop()));
      await standIns?.stop();
      pollerSqs.destroy();
      clearInterval(snapshots);
      await snapshot();
      sqs.destroy();
      await closeSharedDatabases();
      await front?.stop();
      await emulator?.stop();
    },
  };
}

/**
 * Every producer inside the local cloud (consumers, the operations facade) is configured
 * with `TASK_ETA_SCHEDULE_GROUP` and `TASK_ETA_ROLE_ARN` and sends ETAs beyond 15 minutes
 * as one-time schedules: this sets them in the cloud's environment. Settings given win. The
 * embedded Scheduler gets the group; an external endpoint gets it too, and without a
 * Scheduler there the variables stay unset, so long ETAs wait in the queue as before.
 * Returns the group in use.
 */
async function longDelaySettings(env: Record<string, string | undefined>, config: Config, embedded: SchedulerApi | undefined, onError: LocalCloudOptions['onError']): Promise<string | undefined> {
  if (env.TASK_ETA_SCHEDULE_GROUP || env.TASK_ETA_ROLE_ARN) {
    if (env.TASK_ETA_SCHEDULE_GROUP) embedded?.ensureGroup(env.TASK_ETA_SCHEDULE_GROUP);
    return env.TASK_ETA_SCHEDULE_GROUP;
  }
  const group = `${config.stage}-task-etas`;
  if (embedded) embedded.ensureGroup(group);
  else {
    const endpoint = config.schedulerEndpoint;
    const client = new SchedulerClient({ region: config.region, endpoint, maxAttempts: 1, ...localCredentials(endpoint, config.ownCredentials) });
    try {
      await client.send(new CreateScheduleGroupCommand({ Name: group }));
    } catch (error) {
      if (!(error instanceof ConflictException)) {
        onError?.('scheduler', new Error(`no EventBridge Scheduler at ${endpoint} (${(error instanceof Error ? error.message : String(error)).split('\n')[0]}): ETAs beyond 15 minutes wait in their queue`));
        return undefined;
      }
    } finally {
      client.destroy();
    }
  }
  env.TASK_ETA_SCHEDULE_GROUP = group;
  env.TASK_ETA_ROLE_ARN = `arn:aws:iam::000000000000:role/${config.stage}-task-eta-scheduler`;
  return group;
}
